//! Brain-Score's own data files through the real binary: `brainlike data brainscore-assembly`
//! and `brainlike score --benchmark FreemanZiemba2013.V1-pls | Rajalingham2018-i2n
//! --assembly FILE.nc --stimulus-set FILE.csv` on the miniature BrainIO-written fixtures of
//! `crates/brainlike-score/tests/fixtures/brainscore` and an untrained CORnet-Z run.

use std::path::{Path, PathBuf};
use std::process::Command;

use brainlike_core::TrainConfig;
use brainlike_core::config::{Head, ModelConfig};
use brainlike_core::models::Network;
use brainlike_core::train::export::save_safetensors;

const BIN: &str = env!("CARGO_BIN_EXE_brainlike");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../brainlike-score/tests/fixtures/brainscore")
        .join(name)
}

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A run directory of an untrained CORnet-Z (decoder head).
fn make_run(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let cfg = TrainConfig {
        device: "flex".into(),
        out_dir: dir.to_path_buf(),
        model: ModelConfig {
            head: Head::Decoder,
            ..ModelConfig::default()
        },
        ..TrainConfig::default()
    };
    let (_, device) = brainlike_core::device::resolve("flex").unwrap();
    let net = Network::new(&cfg.model, cfg.data.input_size, 100, 0, &device);
    save_safetensors(&net, &dir.join("weights.safetensors"), &[]).unwrap();
    std::fs::write(dir.join("config.toml"), cfg.to_toml()).unwrap();
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn data_brainscore_assembly_writes_score_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fz");
    let (ok, log) = run(&[
        "data",
        "brainscore-assembly",
        s(&fixture("assy_movshon_FreemanZiemba2013_public_mini.nc")),
        "--out",
        s(&out),
        "--stimulus-set",
        s(&fixture("image_FreemanZiemba2013_mini.csv")),
        "--region",
        "V1",
        "--time-window",
        "50,200",
        "--strata",
        "texture_type",
    ]);
    assert!(ok, "{log}");
    assert!(
        log.contains("neural.npy (30 stimuli x 3 neurons x 3 repetitions)"),
        "{log}"
    );
    assert!(
        log.contains("`data` over neuroid 5 x time_bin 4 x presentation 90"),
        "{log}"
    );
    let stimuli = std::fs::read_to_string(out.join("stimuli.txt")).unwrap();
    assert_eq!(stimuli.lines().count(), 30);
    assert_eq!(std::fs::read_dir(out.join("images")).unwrap().count(), 30);
    let strata = std::fs::read_to_string(out.join("strata.txt")).unwrap();
    assert_eq!(strata.lines().next(), Some("noise"));

    // A missing region is an error naming the file and the regions there are.
    let (ok, log) = run(&[
        "data",
        "brainscore-assembly",
        s(&fixture("assy_movshon_FreemanZiemba2013_public_mini.nc")),
        "--out",
        s(&tmp.path().join("x")),
        "--region",
        "V4",
    ]);
    assert!(!ok);
    assert!(
        log.contains("FreemanZiemba2013_public_mini.nc") && log.contains("regions: V1, V2"),
        "{log}"
    );
}

#[test]
fn score_runs_brain_score_benchmarks_on_their_files() {
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = tmp.path().join("m");
    make_run(&run_dir);
    let out = tmp.path().join("scores");
    let (ok, log) = run(&[
        "score",
        "--model",
        s(&run_dir),
        "--benchmark",
        "FreemanZiemba2013.V1-pls",
        "--assembly",
        s(&fixture("assy_movshon_FreemanZiemba2013_public_mini.nc")),
        "--stimulus-set",
        s(&fixture("image_FreemanZiemba2013_mini.csv")),
        "--layers",
        "v1,it",
        "--out",
        s(&out),
    ]);
    assert!(ok, "{log}");
    let text = std::fs::read_to_string(out.join("scores.csv")).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 3, "v1, it, committed: {text}");
    for r in &rows {
        assert_eq!(r[0], "FreemanZiemba2013.V1-pls");
        assert!(r[3].parse::<f64>().unwrap().is_finite(), "{r:?}");
        // Repetitions differ by a constant: the split-half ceiling is 1.
        assert!((r[4].parse::<f64>().unwrap() - 1.0).abs() < 1e-9, "{r:?}");
    }
    let kept = out.join("brainscore_inputs/FreemanZiemba2013.V1-pls");
    assert!(kept.join("neural.npy").is_file() && kept.join("strata.txt").is_file());

    let out2 = tmp.path().join("scores2");
    let (ok, log) = run(&[
        "score",
        "--model",
        s(&run_dir),
        "--benchmark",
        "Rajalingham2018-i2n",
        "--assembly",
        s(&fixture("assy_dicarlo_Rajalingham2018_public_mini.nc")),
        "--stimulus-set",
        s(&fixture("image_objectome_mini.csv")),
        "--readout-folds",
        "3",
        "--out",
        s(&out2),
    ]);
    assert!(ok, "{log}");
    let text = std::fs::read_to_string(out2.join("scores.csv")).unwrap();
    let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(
        (row[0], row[2]),
        ("Rajalingham2018-i2n", "penultimate"),
        "{text}"
    );
    assert!(row[3].parse::<f64>().unwrap().is_finite(), "{text}");

    // Without the files: an error saying what to give.
    let (ok, log) = run(&[
        "score",
        "--model",
        s(&run_dir),
        "--benchmark",
        "FreemanZiemba2013.V2-pls",
        "--out",
        s(&tmp.path().join("s3")),
    ]);
    assert!(!ok);
    assert!(
        log.contains("FreemanZiemba2013.V2-pls needs --assembly FILE.nc"),
        "{log}"
    );
}
