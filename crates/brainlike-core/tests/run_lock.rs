//! Two writers on one run directory: while one holds it, `train` is refused with the holder's
//! pid and writes nothing (issue: two runs with seeds 1 and 2 on one `--out-dir` once mixed
//! one run's config with the other's weights).

use std::path::PathBuf;
use std::sync::Arc;

use brainlike_core::TrainConfig;
use brainlike_core::data::Cifar100;
use brainlike_core::train::{TrainOptions, load_resources_with, train};

fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("BRAINLIKE_TEST_DATA") {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

#[test]
fn a_second_writer_is_refused_with_the_holders_pid() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let holder = brainlike_run::RunDir::create(&out).unwrap();
    let cfg = TrainConfig::load(
        None,
        &[
            "device=\"flex\"".into(),
            "data.train_limit=64".into(),
            "data.test_limit=50".into(),
            "optim.epochs=1".into(),
            "teacher.ratio=0".into(),
            format!("out_dir={}", toml::Value::String(out.display().to_string())),
        ],
    )
    .unwrap();
    let cifar = Arc::new(Cifar100::load(&data_dir()).expect("CIFAR-100 reads"));
    let res = load_resources_with(&cfg, cifar).unwrap();
    let err = train(&cfg, &res, &TrainOptions::default()).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&std::process::id().to_string()),
        "the message names the holder: {msg}"
    );
    assert!(!out.join("config.toml").exists(), "nothing written");
    drop(holder);
    // Once released, the run goes ahead.
    train(&cfg, &res, &TrainOptions::default()).unwrap();
    assert!(out.join("summary.json").is_file());
}
