//! End-to-end tests of `brainlike rdm`, `brainlike compare` and `brainlike predict` through
//! the real binary: their output forms (which scripts depend on), agreement with the
//! rsatoolbox / scikit-learn references committed in
//! `crates/brainlike-metrics/tests/golden/npy` (made by `gen_npy.py` there), and the
//! errors for bad input (exit code 2, the file named).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_brainlike");

fn golden(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../brainlike-metrics/tests/golden/npy")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(golden("expected.json")).unwrap()).unwrap()
}

/// (exit code, stdout, stderr)
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_npy(path: &Path, shape: &[u64], data: &[f64]) {
    brainlike_metrics::io::write_npy(path, shape, data).unwrap();
}

fn read_npy(path: &str) -> (Vec<u64>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f64>().unwrap())
}

fn close(x: f64, y: f64, tol: f64) -> bool {
    (x - y).abs() <= tol * (1.0 + y.abs())
}

#[test]
fn rdm_writes_the_reference_square_rdm_for_every_method() {
    let tmp = tempfile::tempdir().unwrap();
    for m in [
        "correlation",
        "cosine",
        "euclidean",
        "sqeuclidean",
        "mean-sqeuclidean",
    ] {
        let out = tmp.path().join(format!("{m}.npy"));
        let out = out.to_str().unwrap();
        let (code, stdout, stderr) =
            run(&["rdm", &golden("features.npy"), "--method", m, "--out", out]);
        assert_eq!(code, 0, "{m}: {stderr}");
        assert!(stdout.contains("12 x 12"), "{stdout}");
        let (shape, ours) = read_npy(out);
        assert_eq!(shape, vec![12, 12]);
        let (_, want) = read_npy(&golden(&format!("rdm_{m}.npy")));
        for (a, b) in ours.iter().zip(&want) {
            assert!(close(*a, *b, 1e-12), "{m}: {a} vs {b}");
        }
    }
}

#[test]
fn compare_prints_the_value_plain_and_as_json() {
    let e = expected();
    let (a, b) = (golden("cmp_a.npy"), golden("cmp_b.npy"));
    for m in [
        "spearman",
        "rho-a",
        "tau-a",
        "kendall",
        "pearson",
        "cosine",
        "corr-cov",
        "cosine-cov",
    ] {
        let want = e["compare_ab"][m].as_f64().unwrap();
        let (code, stdout, stderr) = run(&["compare", &a, &b, "--method", m]);
        assert_eq!(code, 0, "{stderr}");
        let v: f64 = stdout.trim().parse().unwrap();
        assert!(close(v, want, 1e-12), "{m}: {v} vs {want}");
        let (code, stdout, _) = run(&["compare", &a, &b, "--method", m, "--json"]);
        assert_eq!(code, 0);
        let j: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(j["method"], m);
        assert!(close(j["value"].as_f64().unwrap(), want, 1e-12));
    }
}

#[test]
fn compare_bootstrap_prints_value_and_interval() {
    let (a, b) = (golden("cmp_big1.npy"), golden("cmp_big2.npy"));
    let args = [
        "compare",
        &a,
        &b,
        "--method",
        "spearman",
        "--bootstrap",
        "200",
        "--seed",
        "5",
    ];
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stderr}");
    let v: Vec<f64> = stdout
        .split_whitespace()
        .map(|t| t.parse().unwrap())
        .collect();
    assert_eq!(v.len(), 3, "VALUE CI_LOW CI_HIGH: {stdout}");
    assert!(v[1] < v[0] && v[0] < v[2], "{v:?}");
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let (code, stdout, _) = run(&json_args);
    assert_eq!(code, 0);
    let j: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j["bootstrap"], 200);
    assert_eq!(j["seed"], 5);
    assert_eq!(
        j["ci_low"].as_f64().unwrap(),
        v[1],
        "same seed, same interval"
    );
    assert_eq!(j["ci_high"].as_f64().unwrap(), v[2]);
    assert_eq!(j["value"].as_f64().unwrap(), v[0]);
}

#[test]
fn predict_matches_sklearn_kfold_with_the_split_half_ceiling() {
    let e = &expected()["predict"];
    let (x, n) = (golden("pls_features.npy"), golden("neural.npy"));
    let base = ["predict", &x, &n, "--components", "3", "--cv", "kfold:5"];
    let mut args = base.to_vec();
    args.push("--json");
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stderr}");
    let j: Value = serde_json::from_str(&stdout).unwrap();
    for key in ["median_r", "median_ceiling", "ceiled"] {
        let (o, w) = (j[key].as_f64().unwrap(), e[key].as_f64().unwrap());
        assert!(close(o, w, 1e-12), "{key}: {o} vs {w}");
    }
    assert_eq!(j["per_neuron_r"].as_array().unwrap().len(), 5);
    assert_eq!(j["per_neuron_r"][0].as_array().unwrap().len(), 6);
    assert_eq!(j["per_neuron_ceiling"].as_array().unwrap().len(), 6);
    assert_eq!(j["formula"], "median_r / median_ceiling");
    assert!(
        j["version"]
            .as_str()
            .unwrap()
            .starts_with("brainlike-predict/")
    );
    // plain form: key value lines
    let (code, stdout, _) = run(&base);
    assert_eq!(code, 0);
    let keys: Vec<&str> = stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(keys, ["median_r", "median_ceiling", "ceiled"]);
    // median of ratios
    args.extend(["--ceiling", "median-of-ratios"]);
    let (code, stdout, _) = run(&args);
    assert_eq!(code, 0);
    let j: Value = serde_json::from_str(&stdout).unwrap();
    let w = e["median_of_ratios"].as_f64().unwrap();
    assert!(close(j["ceiled"].as_f64().unwrap(), w, 1e-12));
}

#[test]
fn predict_with_a_splits_file_and_without_repetitions() {
    let e = &expected()["predict_splits"];
    let (x, n, s) = (
        golden("pls_features.npy"),
        golden("neural_2d.npy"),
        golden("splits.txt"),
    );
    let (code, stdout, stderr) = run(&[
        "predict",
        &x,
        &n,
        "--components",
        "3",
        "--splits",
        &s,
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let j: Value = serde_json::from_str(&stdout).unwrap();
    let w = e["median_r"].as_f64().unwrap();
    assert!(close(j["median_r"].as_f64().unwrap(), w, 1e-12));
    assert!(j["ceiled"].is_null() && j["per_neuron_ceiling"].is_null());
}

#[test]
fn bad_input_is_a_clear_error_with_exit_code_2() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n).to_str().unwrap().to_string();
    let out = p("out.npy");
    // wrong shape: 1-D features, non-square RDM
    write_npy(Path::new(&p("flat.npy")), &[6], &[1.0; 6]);
    let (code, _, err) = run(&["rdm", &p("flat.npy"), "--method", "cosine", "--out", &out]);
    assert_eq!(code, 2);
    assert!(err.contains("flat.npy") && err.contains("2-D"), "{err}");
    write_npy(Path::new(&p("rect.npy")), &[3, 4], &[1.0; 12]);
    let (code, _, err) = run(&[
        "compare",
        &p("rect.npy"),
        &golden("cmp_a.npy"),
        "--method",
        "spearman",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("rect.npy") && err.contains("square"), "{err}");
    // NaN
    let mut d: Vec<f64> = (0..20).map(|i| i as f64).collect();
    d[13] = f64::NAN;
    write_npy(Path::new(&p("nan.npy")), &[4, 5], &d);
    let (code, _, err) = run(&["rdm", &p("nan.npy"), "--method", "euclidean", "--out", &out]);
    assert_eq!(code, 2);
    assert!(err.contains("nan.npy") && err.contains("NaN"), "{err}");
    let (code, _, err) = run(&["predict", &golden("pls_features.npy"), &p("nan.npy")]);
    assert_eq!(code, 2);
    assert!(err.contains("nan.npy") && err.contains("NaN"), "{err}");
    // fewer than 3 stimuli
    write_npy(
        Path::new(&p("two.npy")),
        &[2, 5],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 4.0, 3.0, 2.0, 1.0],
    );
    let (code, _, err) = run(&[
        "rdm",
        &p("two.npy"),
        "--method",
        "correlation",
        "--out",
        &out,
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("two.npy") && err.contains("at least 3 stimuli"),
        "{err}"
    );
    // mismatched stimulus counts
    let (code, _, err) = run(&[
        "compare",
        &golden("cmp_a.npy"),
        &golden("cmp_big1.npy"),
        "--method",
        "pearson",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cmp_a.npy") && err.contains("cmp_big1.npy"),
        "{err}"
    );
    let (code, _, err) = run(&["predict", &golden("features.npy"), &golden("neural.npy")]);
    assert_eq!(code, 2);
    assert!(
        err.contains("features.npy") && err.contains("neural.npy"),
        "{err}"
    );
    // a constant row has no correlation distance
    let mut d: Vec<f64> = (0..20).map(|i| (i * i % 7) as f64).collect();
    d[5..10].fill(3.0);
    write_npy(Path::new(&p("const.npy")), &[4, 5], &d);
    let (code, _, err) = run(&[
        "rdm",
        &p("const.npy"),
        "--method",
        "correlation",
        "--out",
        &out,
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("const.npy") && err.contains("zero variance"),
        "{err}"
    );
}
