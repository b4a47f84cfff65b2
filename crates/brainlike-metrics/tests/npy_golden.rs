//! Scoring your own features from .npy files against rsatoolbox 0.3.2 and scikit-learn
//! 1.9.1: every RDM method, every comparison (with ties, and on a bootstrap draw with
//! repeated stimuli), PLS predictivity with scikit-learn's KFold and the split-half
//! ceiling. The inputs and reference values are made by `golden/gen_npy.py` and committed
//! under `golden/npy/`; no Python runs here.

use brainlike_metrics::ceiling::{CeilingMode, mean_over_repetitions, split_half_per_neuron};
use brainlike_metrics::io::{
    read_features_npy, read_neural_npy_checked, read_npy_f64, read_rdm_npy, read_splits,
};
use brainlike_metrics::pls::PlsRegression;
use brainlike_metrics::predictivity::{CrossValidation, CvScheme, neural_predictivity};
use brainlike_metrics::rdm::bootstrap::{Weighted, compare_resampled};
use brainlike_metrics::{CompareMethod, RdmMethod, calc_rdm, compare};
use serde_json::Value;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/npy")
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap()).unwrap()
}

fn vecf(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(x: f64, y: f64, tol: f64) -> bool {
    (x - y).abs() <= tol * (1.0 + y.abs())
}

#[test]
fn every_rdm_method_matches_rsatoolbox_and_scipy() {
    for (features, prefix) in [("features.npy", ""), ("features_f32.npy", "f32_")] {
        let x = read_features_npy(dir().join(features)).unwrap();
        assert_eq!(x.dim(), (12, 15), "flattened after the first dimension");
        for m in RdmMethod::ALL {
            let ours = calc_rdm(x.view(), m).unwrap().square();
            let want = read_npy_f64(dir().join(format!("rdm_{prefix}{}.npy", m.name()))).unwrap();
            assert_eq!(ours.shape(), want.shape());
            let err = ours
                .iter()
                .zip(want.iter())
                .fold(0.0f64, |e, (a, b)| e.max((a - b).abs() / (1.0 + b.abs())));
            assert!(err < 1e-12, "{prefix}{}: max rel err {err:.2e}", m.name());
        }
    }
}

#[test]
fn every_comparison_matches_rsatoolbox_with_ties() {
    let e = expected();
    let rdm = |n: &str| read_rdm_npy(dir().join(n)).unwrap();
    let (a, b, c) = (rdm("cmp_a.npy"), rdm("cmp_b.npy"), rdm("cmp_c.npy"));
    let (big1, big2) = (rdm("cmp_big1.npy"), rdm("cmp_big2.npy"));
    for m in CompareMethod::ALL {
        for (x, y, key) in [
            (&a, &b, "compare_ab"),
            (&a, &c, "compare_ac"),
            (&big1, &big2, "compare_big"),
        ] {
            let ours = compare(x, y, m).unwrap();
            let want = e[key][m.name()].as_f64().unwrap();
            assert!(
                close(ours, want, 1e-12),
                "{key} {}: {ours} vs {want}",
                m.name()
            );
        }
    }
}

#[test]
fn bootstrap_draws_match_rsatoolbox_subsample_pattern() {
    let e = expected();
    let rdm = |n: &str| read_rdm_npy(dir().join(n)).unwrap();
    let idx = |k: &str| -> Vec<usize> {
        e[k].as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect()
    };
    for (x, y, ik, key) in [
        (rdm("cmp_a.npy"), rdm("cmp_b.npy"), "boot_idx", "boot_ab"),
        (
            rdm("cmp_big1.npy"),
            rdm("cmp_big2.npy"),
            "boot_big_idx",
            "boot_big",
        ),
    ] {
        let draw = idx(ik);
        for m in CompareMethod::ALL {
            let want = e[key][m.name()].as_f64().unwrap();
            let slow = compare_resampled(&x, &y, &draw, m).unwrap();
            assert!(
                close(slow, want, 1e-12),
                "{key} {}: {slow} vs {want}",
                m.name()
            );
            if let Some(w) = Weighted::new(&x, &y, m) {
                let fast = w.compare(&draw).unwrap();
                assert!(
                    close(fast, want, 1e-12),
                    "{key} {} weighted: {fast} vs {want}",
                    m.name()
                );
            }
        }
    }
}

#[test]
fn pls_predictivity_with_sklearn_kfold_and_split_half_ceiling() {
    let e = &expected()["predict"];
    let x = read_features_npy(dir().join("pls_features.npy")).unwrap();
    let neural = read_neural_npy_checked(dir().join("neural.npy")).unwrap();
    let reps: Vec<usize> = (0..neural.dim().2).collect();
    let y = mean_over_repetitions(neural.view(), &reps);
    let cv = CrossValidation::parse("kfold:5", None).unwrap();
    let folds: Vec<Vec<usize>> = cv.splits(43).unwrap().into_iter().map(|s| s.1).collect();
    let want_folds: Vec<Vec<usize>> = e["folds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| vecf(f).into_iter().map(|v| v as usize).collect())
        .collect();
    assert_eq!(folds, want_folds);
    let k = e["components"].as_u64().unwrap() as usize;
    let pred = neural_predictivity(x.view(), y.view(), &PlsRegression::new(k), &cv).unwrap();
    let mut worst = 0.0f64;
    for (ours, want) in pred
        .per_neuron
        .iter()
        .zip(e["per_neuron_r"].as_array().unwrap())
    {
        for (o, w) in ours.iter().zip(vecf(want)) {
            worst = worst.max((o - w).abs());
        }
    }
    eprintln!("per-neuron r: max abs err {worst:.2e}");
    assert!(worst < 1e-12, "per-neuron r err {worst:.2e}");
    let median_r = e["median_r"].as_f64().unwrap();
    assert!(close(pred.mean, median_r, 1e-12));
    let c = split_half_per_neuron(neural.view()).unwrap();
    for (o, w) in c.iter().zip(vecf(&e["per_neuron_ceiling"])) {
        assert!(close(*o, w, 1e-12), "ceiling {o} vs {w}");
    }
    let sh = CeilingMode::SplitHalf.ceil(&pred.per_neuron, &c);
    assert!(close(sh, e["ceiled"].as_f64().unwrap(), 1e-12));
    let mr = CeilingMode::MedianOfRatios.ceil(&pred.per_neuron, &c);
    assert!(close(mr, e["median_of_ratios"].as_f64().unwrap(), 1e-12));
}

#[test]
fn pls_predictivity_with_a_splits_file() {
    let e = &expected()["predict_splits"];
    let x = read_features_npy(dir().join("pls_features.npy")).unwrap();
    let y = read_neural_npy_checked(dir().join("neural_2d.npy")).unwrap();
    let y = y.index_axis(ndarray::Axis(2), 0).to_owned();
    let test = read_splits(dir().join("splits.txt"), 43).unwrap();
    assert_eq!(test.len(), 2);
    let cv = CrossValidation {
        scheme: CvScheme::Given { test },
        seed: 0,
        stratify: None,
    };
    let pred = neural_predictivity(x.view(), y.view(), &PlsRegression::new(3), &cv).unwrap();
    for (ours, want) in pred
        .per_neuron
        .iter()
        .zip(e["per_neuron_r"].as_array().unwrap())
    {
        for (o, w) in ours.iter().zip(vecf(want)) {
            assert!((o - w).abs() < 1e-12, "{o} vs {w}");
        }
    }
    assert!(close(pred.mean, e["median_r"].as_f64().unwrap(), 1e-12));
}

#[test]
fn readers_reject_bad_input_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, shape: &[u64], data: &[f64]| -> PathBuf {
        let p = tmp.path().join(name);
        brainlike_metrics::io::write_npy(&p, shape, data).unwrap();
        p
    };
    let p = write("flat.npy", &[6], &[1.0; 6]);
    let e = read_features_npy(&p).unwrap_err().to_string();
    assert!(e.contains("flat.npy") && e.contains("2-D"), "{e}");
    let mut d = vec![1.0; 12];
    d[7] = f64::NAN;
    let p = write("nan.npy", &[4, 3], &d);
    let e = read_features_npy(&p).unwrap_err().to_string();
    assert!(
        e.contains("nan.npy") && e.contains("NaN at index [2, 1]"),
        "{e}"
    );
    let p = write("two.npy", &[2, 3], &[1.0; 6]);
    let e = read_features_npy(&p).unwrap_err().to_string();
    assert!(
        e.contains("two.npy") && e.contains("at least 3 stimuli"),
        "{e}"
    );
    let p = write("rect.npy", &[3, 4], &[1.0; 12]);
    let e = read_rdm_npy(&p).unwrap_err().to_string();
    assert!(e.contains("rect.npy") && e.contains("square"), "{e}");
    let p = write("split.txt", &[1], &[0.0]);
    std::fs::write(&p, "0 1\n2 2 3\n").unwrap();
    let e = read_splits(&p, 10).unwrap_err().to_string();
    assert!(e.contains("split.txt") && e.contains("line 2"), "{e}");
}
