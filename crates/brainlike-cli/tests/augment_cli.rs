//! `brainlike augment --preview` and training with the second paper's tricks through the real
//! binary, on real CIFAR-100: the preview PNG has one row per image and a column per version;
//! a mistyped op key is refused naming it; a short run with heavy augmentation, CutMix and
//! FGSM-RS writes its adversarial losses and a robust-accuracy table.

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_brainlike");

fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("BRAINLIKE_TEST_DATA") {
        return PathBuf::from(d);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        root.join("cifar-100-binary.tar.gz").is_file(),
        "CIFAR-100 test data not found at {} (set BRAINLIKE_TEST_DATA)",
        root.display()
    );
    root
}

fn recipe(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../experiments/tricks")
        .join(name)
        .display()
        .to_string()
}

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

#[test]
fn preview_grid_has_a_row_per_image_and_a_column_per_version() {
    let tmp = tempfile::tempdir().unwrap();
    let png = tmp.path().join("p.png");
    let data = data_dir();
    let (ok, log) = run(&[
        "augment",
        "--preview",
        png.to_str().unwrap(),
        "--config",
        &recipe("heavy_aug.toml"),
        "--images",
        "3",
        "--versions",
        "2",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(ok, "{log}");
    assert!(log.contains("shift_scale_rotate"), "{log}");
    let img = image::open(&png).unwrap();
    // Tiles of at least 128 px: 3 columns (source + 2) across, 3 rows down with captions.
    assert!(
        img.width() >= 3 * 128 && img.width() < 4 * 128 + 64,
        "{}",
        img.width()
    );
    assert!(img.height() >= 3 * 128, "{}", img.height());

    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[augment.ops]]\nkind = \"horizontal_flip\"\np = 1.5\n",
    )
    .unwrap();
    let (ok, log) = run(&[
        "augment",
        "--preview",
        png.to_str().unwrap(),
        "--config",
        bad.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(log.contains("augment.ops[0].p"), "{log}");
}

#[test]
fn short_run_with_augmentation_cutmix_and_fgsm_rs() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("tricks.toml");
    let heavy = std::fs::read_to_string(recipe("heavy_aug.toml")).unwrap();
    let text = format!(
        "[data]\ntrain_limit = 128\ntest_limit = 64\n[optim]\nepochs = 2\nbatch_size = 32\n\
         [model]\nhead = \"decoder\"\n[teacher]\nratio = 0.0\n\
         [mix]\nkind = \"cutmix\"\n[adversarial]\nmethod = \"fgsm_rs\"\neps = 0.0156863\n{heavy}"
    );
    std::fs::write(&cfg, text).unwrap();
    let out = tmp.path().join("run");
    let data = data_dir();
    let (ok, log) = run(&[
        "train",
        "--config",
        cfg.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(ok, "{log}");
    let adv = std::fs::read_to_string(out.join("adversarial.csv")).unwrap();
    let rows: Vec<&str> = adv.lines().collect();
    assert_eq!(
        rows[0],
        "epoch,train_loss_adversarial,clean_loss,attack_loss"
    );
    assert_eq!(rows.len(), 3, "{adv}");
    for r in &rows[1..] {
        for v in r.split(',') {
            assert!(v.parse::<f64>().unwrap().is_finite(), "{r}");
        }
    }
    let recorded = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(recorded.contains("[[augment.ops]]") && recorded.contains("fgsm_rs"));

    let (ok, log) = run(&[
        "evaluate",
        "--run",
        out.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--attack",
        "linf:8/255:3",
        "--attack-images",
        "64",
    ]);
    assert!(ok, "{log}");
    let table = std::fs::read_to_string(out.join("robustness.csv")).unwrap();
    let row: Vec<&str> = table.lines().nth(1).unwrap().split(',').collect();
    let (clean, robust): (f64, f64) = (row[7].parse().unwrap(), row[8].parse().unwrap());
    assert!(robust <= clean, "{table}");
    assert_eq!(row[6], "64");
}
