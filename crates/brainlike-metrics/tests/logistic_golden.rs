//! Logistic read-out against scikit-learn (golden/gen_logistic.py).

use brainlike_metrics::logistic::{LogisticRegression, Standardizer};
use ndarray::Array2;
use serde_json::Value;

fn matf(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    let (n, p) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((n, p), rows.concat()).unwrap()
}

#[test]
fn multinomial_probabilities_match_sklearn() {
    let g: Value = serde_json::from_str(include_str!("golden/logistic.json")).unwrap();
    let (xtr, xte) = (matf(&g["X_train"]), matf(&g["X_test"]));
    let y: Vec<usize> = g["y_train"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let sc = Standardizer::fit(xtr.view());
    let xte_s = sc.transform(xte.view());
    let want_scaled = matf(&g["scaled_test"]);
    assert!(
        xte_s
            .iter()
            .zip(&want_scaled)
            .all(|(a, b)| (a - b).abs() < 1e-12)
    );
    let xtr_s = sc.transform(xtr.view());
    for case in g["cases"].as_array().unwrap() {
        let c = case["C"].as_f64().unwrap();
        let model = LogisticRegression {
            c,
            ..Default::default()
        }
        .fit(xtr_s.view(), &y, 3)
        .unwrap();
        let p = model.predict_proba(xte_s.view()).unwrap();
        let want = matf(&case["proba"]);
        let err = p
            .iter()
            .zip(&want)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        eprintln!(
            "C={c}: max |p − p_sklearn| = {err:.2e} after {} iterations",
            model.n_iter
        );
        assert!(err < 1e-4, "C={c}: max abs diff {err}");
    }
}
