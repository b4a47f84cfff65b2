//! RDMs and comparisons against rsatoolbox 0.3.2 / scipy (golden/gen_rdm.py).

use brainlike_metrics::rdm::compare::bootstrap_compare;
use brainlike_metrics::{CompareMethod, Rdm, RdmMethod, calc_rdm, compare, compare_vectors};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

fn golden() -> Value {
    serde_json::from_str(include_str!("golden/rdm.json")).unwrap()
}

fn vecf(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn matf(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(vecf).collect();
    let (n, p) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((n, p), rows.concat()).unwrap()
}

fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}[{i}]: ours {x} vs reference {y}"
        );
    }
}

#[test]
fn every_rdm_method_matches_reference() {
    let g = golden();
    let x = matf(&g["X"]);
    for (m, key) in [
        (RdmMethod::Correlation, "correlation"),
        (RdmMethod::Cosine, "cosine"),
        (RdmMethod::Euclidean, "euclidean"),
        (
            RdmMethod::SquaredEuclideanPerChannel,
            "sq_euclidean_per_channel",
        ),
    ] {
        let rdm = calc_rdm(x.view(), m).unwrap();
        assert_close(rdm.condensed(), &vecf(&g[key]), 1e-10, key);
    }
}

#[test]
fn f32_input_works() {
    let g = golden();
    let x = matf(&g["X"]).mapv(|v| v as f32);
    let rdm = calc_rdm(x.view(), RdmMethod::Correlation).unwrap();
    assert_close(rdm.condensed(), &vecf(&g["X32_correlation"]), 1e-10, "f32");
}

#[test]
fn every_comparison_matches_rsatoolbox_with_ties() {
    let g = golden();
    let (a, b, c) = (vecf(&g["cmp_a"]), vecf(&g["cmp_b"]), vecf(&g["cmp_c"]));
    let methods = [
        (CompareMethod::Cosine, "cosine"),
        (CompareMethod::Pearson, "corr"),
        (CompareMethod::Spearman, "spearman"),
        (CompareMethod::RhoA, "rho-a"),
        (CompareMethod::KendallTauA, "tau-a"),
        (CompareMethod::KendallTauB, "kendall"),
    ];
    for (m, key) in methods {
        let ab = compare_vectors(&a, &b, m).unwrap();
        let ac = compare_vectors(&a, &c, m).unwrap();
        let want_ab = g["cmp_ab"][key].as_f64().unwrap();
        let want_ac = g["cmp_ac"][key].as_f64().unwrap();
        assert!((ab - want_ab).abs() < 1e-12, "{key} ab: {ab} vs {want_ab}");
        assert!((ac - want_ac).abs() < 1e-12, "{key} ac: {ac} vs {want_ac}");
    }
}

#[test]
fn bootstrap_subsample_matches_rsatoolbox() {
    let g = golden();
    let ra = Rdm::from_condensed(10, vecf(&g["cmp_a"])).unwrap();
    let rb = Rdm::from_condensed(10, vecf(&g["cmp_b"])).unwrap();
    let idx: Vec<usize> = g["boot_idx"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let (sa, sb) = (ra.subsample(&idx), rb.subsample(&idx));
    for (m, key) in [
        (CompareMethod::Cosine, "cosine"),
        (CompareMethod::Pearson, "corr"),
        (CompareMethod::Spearman, "spearman"),
        (CompareMethod::RhoA, "rho-a"),
        (CompareMethod::KendallTauA, "tau-a"),
        (CompareMethod::KendallTauB, "kendall"),
    ] {
        let v = compare(&sa, &sb, m).unwrap();
        let want = g["boot_ab"][key].as_f64().unwrap();
        assert!((v - want).abs() < 1e-12, "{key}: {v} vs {want}");
    }
}

fn random_features(seed: u64, n: usize, p: usize, offset: f64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, p), |_| rng.random::<f64>() + offset)
}

#[test]
fn rdm_invariants_symmetric_zero_diagonal_and_self_comparison() {
    let x = random_features(1, 40, 25, 0.0);
    for m in [
        RdmMethod::Correlation,
        RdmMethod::Cosine,
        RdmMethod::Euclidean,
        RdmMethod::SquaredEuclideanPerChannel,
    ] {
        let rdm = calc_rdm(x.view(), m).unwrap();
        let sq = rdm.square();
        for i in 0..40 {
            assert_eq!(sq[[i, i]], 0.0);
            for j in 0..40 {
                assert_eq!(sq[[i, j]], sq[[j, i]]);
            }
        }
        assert!(rdm.condensed().iter().all(|v| *v >= -1e-12));
        assert_eq!(
            Rdm::from_square(sq.view()).unwrap().condensed(),
            rdm.condensed()
        );
        for c in [
            CompareMethod::Cosine,
            CompareMethod::Pearson,
            CompareMethod::Spearman,
            CompareMethod::RhoA,
            CompareMethod::KendallTauA,
            CompareMethod::KendallTauB,
        ] {
            let s = compare(&rdm, &rdm, c).unwrap();
            assert!((s - 1.0).abs() < 1e-9, "{m:?} {c:?} self = {s}");
        }
    }
}

#[test]
fn unrelated_data_scores_low_even_though_cosine_is_high() {
    // all-positive features -> all-positive RDMs: cosine similarity is high
    // for unrelated data, the correlation-type scores must not be
    let a = calc_rdm(random_features(2, 60, 50, 1.0).view(), RdmMethod::Euclidean).unwrap();
    let b = calc_rdm(random_features(3, 60, 50, 1.0).view(), RdmMethod::Euclidean).unwrap();
    let cos = compare(&a, &b, CompareMethod::Cosine).unwrap();
    assert!(cos > 0.9, "cosine of unrelated positive RDMs = {cos}");
    for c in [
        CompareMethod::Pearson,
        CompareMethod::Spearman,
        CompareMethod::KendallTauA,
    ] {
        let s = compare(&a, &b, c).unwrap();
        assert!(s.abs() < 0.1, "{c:?} of unrelated RDMs = {s}");
    }
}

#[test]
fn bootstrap_is_seeded_and_brackets_the_point() {
    let x = random_features(4, 30, 20, 0.0);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let y = x.mapv(|v| v + 0.3 * rng.random::<f64>());
    let a = calc_rdm(x.view(), RdmMethod::Correlation).unwrap();
    let b = calc_rdm(y.view(), RdmMethod::Correlation).unwrap();
    let r1 = bootstrap_compare(&a, &b, CompareMethod::Spearman, 200, 0.95, 7).unwrap();
    let r2 = bootstrap_compare(&a, &b, CompareMethod::Spearman, 200, 0.95, 7).unwrap();
    assert_eq!(r1, r2);
    assert_eq!(r1.samples.len(), 200);
    assert!(r1.ci_low < r1.point && r1.point < r1.ci_high, "{r1:?}");
    assert!(r1.se > 0.0 && r1.se < 0.2);
}

#[test]
fn pair_list_matches_cosine_rdm_and_self_scores_one() {
    use brainlike_metrics::{PairList, compare_features_to_pairs, pair_cosine_distances};
    let x = random_features(9, 50, 16, -0.5);
    let rdm = calc_rdm(x.view(), RdmMethod::Cosine).unwrap();
    let pairs: Vec<(usize, usize)> = (0..50)
        .flat_map(|i| (0..50).map(move |j| (i, j)))
        .filter(|(i, j)| (i * 7 + j) % 5 == 0 && i < j)
        .collect();
    let d = pair_cosine_distances(x.view(), &pairs).unwrap();
    for (&(i, j), v) in pairs.iter().zip(&d) {
        assert!((rdm.get(i, j) - v).abs() < 1e-12);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1_pairs.csv");
    let ids: Vec<String> = (0..50).map(|i| format!("im{i:03}")).collect();
    let mut text = String::from("image_a,image_b,distance\n");
    for (&(i, j), v) in pairs.iter().zip(&d) {
        text.push_str(&format!("{},{},{v}\n", ids[i], ids[j]));
    }
    std::fs::write(&path, text).unwrap();
    let teacher = PairList::read_csv(&path, Some(&ids)).unwrap();
    assert_eq!(teacher.pairs, pairs);
    for m in [
        CompareMethod::Spearman,
        CompareMethod::Pearson,
        CompareMethod::KendallTauA,
    ] {
        let s = compare_features_to_pairs(x.view(), &teacher, m).unwrap();
        assert!((s - 1.0).abs() < 1e-9, "{m:?}: {s}");
    }
    let other = random_features(10, 50, 16, -0.5);
    let s = compare_features_to_pairs(other.view(), &teacher, CompareMethod::Spearman).unwrap();
    assert!(s.abs() < 0.2, "unrelated features vs teacher pairs: {s}");
    let bad = PairList::read_csv(&path, Some(&ids[..10]))
        .unwrap_err()
        .to_string();
    assert!(bad.contains("v1_pairs.csv"), "{bad}");
}
