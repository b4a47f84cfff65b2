//! PLS regression against scikit-learn `PLSRegression(scale=False)` (golden/gen_pls.py).

use brainlike_metrics::pls::PlsRegression;
use ndarray::{Array2, s};
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

fn max_rel(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

#[test]
fn pls_matches_sklearn() {
    let g: Value = serde_json::from_str(include_str!("golden/pls.json")).unwrap();
    let (xtr, ytr, xte) = (matf(&g["X_train"]), matf(&g["Y_train"]), matf(&g["X_test"]));
    for case in g["cases"].as_array().unwrap() {
        let k = case["n_components"].as_u64().unwrap() as usize;
        let q = case["n_targets"].as_u64().unwrap() as usize;
        let y = ytr.slice(s![.., ..q]);
        let model = PlsRegression::new(k).fit(xtr.view(), y).unwrap();
        let want_iter: Vec<usize> = case["n_iter"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(model.n_iter, want_iter, "k={k}: iteration counts");
        let pred = model.predict(xte.view()).unwrap();
        let e_pred = max_rel(&pred, &matf(&case["pred"]));
        let e_coef = max_rel(&model.coef, &matf(&case["coef"]));
        let e_w = max_rel(&model.x_weights, &matf(&case["x_weights"]));
        assert!(e_pred < 1e-6, "k={k} q={q}: predictions rel err {e_pred}");
        assert!(e_coef < 1e-6, "k={k} q={q}: coef rel err {e_coef}");
        assert!(e_w < 1e-6, "k={k} q={q}: x_weights rel err {e_w}");
        eprintln!("k={k} q={q}: pred {e_pred:.2e} coef {e_coef:.2e} w {e_w:.2e}");
    }
}
