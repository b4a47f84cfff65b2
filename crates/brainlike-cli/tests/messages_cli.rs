//! Messages of `report`, `evaluate` and `score` on damaged or mismatched input, and the flags
//! that must be refused up front, through the real binary (no training).

use std::path::Path;
use std::process::Command;

use brainlike_core::TrainConfig;
use brainlike_core::config::{Head, ModelConfig};
use brainlike_core::models::Network;
use brainlike_core::train::export::save_safetensors;

const BIN: &str = env!("CARGO_BIN_EXE_brainlike");
const HEADER: &str = "epoch,train_loss,train_acc,test_loss,test_acc,test_coarse_acc,superclass_error_frac,teacher_loss,lambda,seconds,images_per_sec";

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A finished-looking run of `seed` with two epochs of metrics.
fn fake_run(dir: &Path, seed: u64, metrics: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let cfg = TrainConfig {
        seed,
        out_dir: dir.to_path_buf(),
        ..TrainConfig::default()
    };
    std::fs::write(dir.join("config.toml"), cfg.to_toml()).unwrap();
    std::fs::write(dir.join("metrics.csv"), metrics).unwrap();
    std::fs::write(dir.join("summary.json"), "{}").unwrap();
}

#[test]
fn report_warns_of_damaged_runs_and_repeated_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path();
    let good = format!(
        "{HEADER}\n1,4.0,0.1,4.1,0.1,0.2,0.3,0,0,1,100\n2,3.0,0.2,3.1,0.2,0.3,0.3,0,0,1,100\n"
    );
    fake_run(&sweep.join("runs/a_s0"), 0, &good);
    fake_run(&sweep.join("runs/a_s1"), 1, &good);
    fake_run(&sweep.join("runs/b_s0_again"), 0, &good);
    fake_run(
        &sweep.join("runs/c_s2"),
        2,
        &format!("{HEADER}\n1,4.0,0.1,4.1,oops,0.2,0.3,0,0,1,100\n"),
    );
    let (ok, stdout, stderr) = run(&["report", sweep.to_str().unwrap()]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stderr.contains("warning: run c_s2: invalid"), "{stderr}");
    assert!(stderr.contains("metrics.csv"), "{stderr}");
    assert!(
        stderr
            .contains("warning: run b_s0_again: invalid: same configuration and seed as run a_s0"),
        "{stderr}"
    );
    assert!(stderr.contains("2 of 4 runs not used"), "{stderr}");
    // A folder that is not a sweep is named as such.
    let (ok, _, stderr) = run(&["report", sweep.join("runs").to_str().unwrap()]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("is not a sweep directory (it has no runs/ folder)"),
        "{stderr}"
    );
}

/// An untrained CORnet-Z saved with `head` as a run directory (no summary.json).
fn make_model_run(dir: &Path, weights_head: Head, config_head: Head) {
    std::fs::create_dir_all(dir).unwrap();
    let mut cfg = TrainConfig {
        device: "flex".into(),
        out_dir: dir.to_path_buf(),
        model: ModelConfig {
            head: weights_head,
            ..ModelConfig::default()
        },
        ..TrainConfig::default()
    };
    let (_, device) = brainlike_core::device::resolve("flex").unwrap();
    let net = Network::new(&cfg.model, 32, 100, 0, &device);
    save_safetensors(&net, &dir.join("weights.safetensors"), &[]).unwrap();
    cfg.model.head = config_head;
    std::fs::write(dir.join("config.toml"), cfg.to_toml()).unwrap();
}

#[test]
fn weights_of_another_model_are_summarised() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mixed");
    make_model_run(&dir, Head::Fc4096, Head::Decoder);
    let (ok, _, err) = run(&[
        "score",
        "--model",
        dir.to_str().unwrap(),
        "--out",
        tmp.path().join("s").to_str().unwrap(),
        "--bootstrap",
        "10",
    ]);
    assert!(!ok);
    assert!(err.contains("weights of another model"), "{err}");
    assert!(err.contains("2 of the model's tensors missing"), "{err}");
    assert!(err.contains("6 unexpected tensors"), "{err}");
    assert!(!err.contains("allow_partial"), "{err}");
    assert!(err.lines().count() <= 3, "{err}");
}

#[test]
fn flags_are_checked_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("untrained");
    make_model_run(&dir, Head::Decoder, Head::Decoder);
    let d = dir.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["score", "--model", d, "--size", "0"],
            "--size must be between 1 and",
        ),
        (
            vec!["score", "--model", d, "--threads", "100000"],
            "--threads must be at most",
        ),
        (
            vec!["score", "--model", d, "--chunk", "0"],
            "--chunk must be at least 1",
        ),
        (
            vec!["evaluate", "--run", d, "--threads", "100000"],
            "--threads must be at most",
        ),
    ] {
        let (ok, _, err) = run(&args);
        assert!(!ok, "{args:?}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // An unfinished run is evaluated with a warning; data missing offline says --data-dir.
    let (ok, _, err) = run(&[
        "evaluate",
        "--run",
        d,
        "--data-dir",
        tmp.path().join("no-data").to_str().unwrap(),
    ]);
    assert!(err.contains("is not a finished run"), "{err}");
    // A missing file's OS error is printed once.
    let (ok2, _, err2) = run(&[
        "train",
        "--config",
        tmp.path().join("none.toml").to_str().unwrap(),
    ]);
    assert!(!ok2);
    assert_eq!(err2.matches("os error 2").count(), 1, "{err2}");
    let _ = ok;
}

#[test]
fn offline_missing_data_says_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(&[
        "train",
        "--offline",
        "--data-dir",
        tmp.path().join("typo").to_str().unwrap(),
        "--out-dir",
        tmp.path().join("run").to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(err.contains("point --data-dir"), "{err}");
}
