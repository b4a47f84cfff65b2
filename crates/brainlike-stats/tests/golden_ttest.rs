//! Golden tests of the t-tests and the power note against scipy
//! (values in tests/golden/ttest.json, produced by tests/golden/ttest.py).

use approx::assert_relative_eq;
use brainlike_stats::ttest::{
    Alternative, TTestOptions, VarianceAssumption, min_detectable_d, noncentral_t_sf, ttest_ind,
};
use serde_json::Value;

fn golden() -> Value {
    let text = include_str!("golden/ttest.json");
    serde_json::from_str(text).expect("golden JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn alternative(s: &str) -> Alternative {
    match s {
        "greater" => Alternative::Greater,
        "less" => Alternative::Less,
        "two-sided" => Alternative::TwoSided,
        other => panic!("unknown alternative {other}"),
    }
}

#[test]
fn ttest_ind_matches_scipy() {
    let g = golden();
    let cases = g["ttest_ind"].as_array().unwrap();
    assert!(cases.len() >= 30);
    for case in cases {
        let a = floats(&case["a"]);
        let b = floats(&case["b"]);
        let opts = TTestOptions {
            alternative: alternative(case["alternative"].as_str().unwrap()),
            variance: if case["equal_var"].as_bool().unwrap() {
                VarianceAssumption::Student
            } else {
                VarianceAssumption::Welch
            },
            ..TTestOptions::default()
        };
        let out = ttest_ind(&a, &b, &opts).unwrap();
        let r = out
            .result()
            .unwrap_or_else(|| panic!("{case}: {}", out.note()));
        let name = case["name"].as_str().unwrap();
        assert_relative_eq!(r.t, case["t"].as_f64().unwrap(), max_relative = 1e-10);
        assert_relative_eq!(r.df, case["df"].as_f64().unwrap(), max_relative = 1e-10);
        let p = case["p"].as_f64().unwrap();
        assert!(
            (r.p - p).abs() <= 1e-9 + 1e-7 * p,
            "{name} {:?} {:?}: p {} vs scipy {}",
            opts.variance,
            opts.alternative,
            r.p,
            p
        );
    }
}

#[test]
fn min_detectable_d_matches_scipy_nct() {
    let g = golden();
    for case in g["min_detectable_d"].as_array().unwrap() {
        let d = min_detectable_d(
            case["n_a"].as_u64().unwrap() as usize,
            case["n_b"].as_u64().unwrap() as usize,
            case["alpha"].as_f64().unwrap(),
            case["power"].as_f64().unwrap(),
            alternative(case["alternative"].as_str().unwrap()),
        )
        .unwrap();
        assert_relative_eq!(
            d,
            case["min_detectable_d"].as_f64().unwrap(),
            max_relative = 1e-5
        );
    }
    for case in g["nct_sf"].as_array().unwrap() {
        let sf = noncentral_t_sf(
            case["t"].as_f64().unwrap(),
            case["df"].as_f64().unwrap(),
            case["nc"].as_f64().unwrap(),
        );
        assert_relative_eq!(sf, case["sf"].as_f64().unwrap(), max_relative = 1e-6);
    }
}

#[test]
fn effect_sizes_and_power_flag() {
    // Hand-computed: a = [3, 4, 5], b = [1, 2, 3]; pooled SD = 1, d = 2.
    let out = ttest_ind(&[3.0, 4.0, 5.0], &[1.0, 2.0, 3.0], &TTestOptions::default()).unwrap();
    let r = out.result().unwrap();
    assert_relative_eq!(r.cohens_d, 2.0, max_relative = 1e-12);
    // J(4) = Γ(2) / (√2 Γ(1.5)) = 1 / (√2 · √π / 2)
    let j = 1.0 / (2f64.sqrt() * std::f64::consts::PI.sqrt() / 2.0);
    assert_relative_eq!(r.hedges_g, 2.0 * j, max_relative = 1e-12);
    // With n = 3 per group the minimum detectable d (80%, one-tailed .05) is ≈ 2.48 > 2.
    assert!(r.power.underpowered);
    assert!(out.note().contains("underpowered"));
    assert_eq!(r.stars.as_str(), "*"); // p ≈ 0.0213 (Welch, df = 4)
}
