//! Every experiment file shipped in `experiments/` (and `experiments/*/`) plans: `brainlike
//! sweep FILE --dry-run` checks each run's configuration (base config, overrides, ranges) the
//! way a real sweep does before it starts, so a recipe with a wrong key, a tap the model does
//! not have or a base config the sweep cannot read fails here, not on a cluster.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_brainlike");

fn experiment_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() && p.file_name().is_some_and(|n| n != "rows") {
            experiment_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml")
            && std::fs::read_to_string(&p)
                .unwrap()
                .lines()
                .any(|l| l.starts_with("seeds"))
        {
            out.push(p);
        }
    }
}

#[test]
fn every_shipped_experiment_file_plans_with_valid_run_configs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    experiment_files(&root.join("experiments"), &mut files);
    files.sort();
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("brainscore2022/t1_heavy_fcutmix_fixres_wa.toml")),
        "{files:?}"
    );
    let tmp = tempfile::tempdir().unwrap();
    for (k, f) in files.iter().enumerate() {
        let out = Command::new(BIN)
            .current_dir(&root)
            .arg("sweep")
            .arg(f)
            .arg("--dry-run")
            .arg("--sweep-dir")
            .arg(tmp.path().join(k.to_string()))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && !text.contains("error"),
            "{}: {text}",
            f.display()
        );
        assert!(text.contains("pending"), "{}: {text}", f.display());
    }
}
