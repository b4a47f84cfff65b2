//! Seeded invariants: ceilings, predictivity, i2n, I/O, score writers, plots.

use brainlike_metrics::ceiling::{
    CeilingFormula, ceil_score, mean_over_repetitions, split_half_ceiling,
};
use brainlike_metrics::i2n::{I2nConfig, Trial, cross_validated_probabilities, i2n_score};
use brainlike_metrics::io::{NeuralData, read_neural_npy};
use brainlike_metrics::logistic::LogisticRegression;
use brainlike_metrics::pls::PlsRegression;
use brainlike_metrics::predictivity::{CrossValidation, layer_commitment, neural_predictivity};
use brainlike_metrics::scores::{Score, write_scores_csv, write_scores_json};
use ndarray::{Array2, Array3, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// latent (stimuli x d), data (stimuli x neurons x reps) = latent·B + noise
fn synth(
    seed: u64,
    s: usize,
    d: usize,
    n: usize,
    r: usize,
    noise: f64,
) -> (Array2<f64>, Array2<f64>, Array3<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let latent = Array2::from_shape_fn((s, d), |_| rng.sample::<f64, _>(StandardNormal));
    let b = Array2::from_shape_fn((d, n), |_| rng.sample::<f64, _>(StandardNormal));
    let signal = latent.dot(&b);
    let data = Array3::from_shape_fn((s, n, r), |(i, j, _)| {
        signal[[i, j]] + noise * rng.sample::<f64, _>(StandardNormal)
    });
    (latent, signal, data)
}

#[test]
fn perfect_model_ceils_to_one_and_shuffled_model_to_zero() {
    let (latent, _signal, data) = synth(11, 300, 10, 40, 8, 5.0);
    let ceiling = split_half_ceiling(data.view(), 10, 3).unwrap();
    assert!(
        ceiling.ceiling > 0.5 && ceiling.ceiling < 0.98,
        "ceiling {}",
        ceiling.ceiling
    );
    let target = mean_over_repetitions(data.view(), &(0..8).collect::<Vec<_>>());
    let cv = CrossValidation::brain_score(None);
    let pls = PlsRegression::new(10);
    let res = neural_predictivity(latent.view(), target.view(), &pls, &cv).unwrap();
    let ev = ceil_score(
        &res.per_split,
        ceiling.ceiling,
        CeilingFormula::RSquaredOverCeiling,
    );
    assert_eq!(ev.per_split.len(), 10);
    assert!(
        (ev.ceiled - 1.0).abs() < 0.1,
        "r^2/c of the true latent model = {ev:?}"
    );
    // shuffled stimuli: features no longer belong to the images
    let mut idx: Vec<usize> = (0..300).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(4));
    let shuffled = latent.select(Axis(0), &idx);
    let res = neural_predictivity(shuffled.view(), target.view(), &pls, &cv).unwrap();
    assert!(res.mean.abs() < 0.1, "shuffled predictivity {}", res.mean);
}

#[test]
fn data_predicts_itself_near_ceiling() {
    // predict one half of the repetitions from the other half: r/c near 1
    let (_latent, _signal, data) = synth(12, 300, 10, 40, 8, 3.0);
    let h1 = mean_over_repetitions(data.view(), &[0, 1, 2, 3]);
    let h2 = mean_over_repetitions(data.view(), &[4, 5, 6, 7]);
    let ceiling = split_half_ceiling(data.view(), 10, 3).unwrap();
    let res = neural_predictivity(
        h1.view(),
        h2.view(),
        &PlsRegression::new(25),
        &CrossValidation::brain_score(None),
    )
    .unwrap();
    let s = ceil_score(&res.per_split, ceiling.ceiling, CeilingFormula::RatioR);
    assert!(s.ceiled > 0.9 && s.ceiled < 1.05, "{s:?}");
}

#[test]
fn layer_commitment_picks_best() {
    let t = vec![
        ("conv1".to_string(), 0.2),
        ("conv2".into(), f64::NAN),
        ("conv3".into(), 0.5),
        ("fc".into(), 0.4),
    ];
    let c = layer_commitment(&t).unwrap();
    assert_eq!(
        (c.best_layer.as_str(), c.best_score, c.table.len()),
        ("conv3", 0.5, 4)
    );
}

fn trials_from(
    p_true: &Array2<f64>,
    truth: &[usize],
    ids: &[String],
    classes: &[String],
    per_pair: usize,
    seed: u64,
) -> Vec<Trial> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut trials = vec![];
    for (i, &t) in truth.iter().enumerate() {
        for c in 0..classes.len() {
            if c == t {
                continue;
            }
            let pc = p_true[[i, c]] / (p_true[[i, c]] + p_true[[i, t]]);
            for _ in 0..per_pair {
                let chose_d = rng.random::<f64>() < pc;
                trials.push(Trial {
                    image_id: ids[i].clone(),
                    true_label: classes[t].clone(),
                    distractor_label: classes[c].clone(),
                    choice_label: classes[if chose_d { c } else { t }].clone(),
                    subject: None,
                });
            }
        }
    }
    trials
}

#[test]
fn i2n_true_model_scores_high_and_random_model_low() {
    let (n_img, k) = (120, 4);
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let truth: Vec<usize> = (0..n_img).map(|i| i % k).collect();
    let logits = Array2::from_shape_fn((n_img, k), |(i, c)| {
        rng.sample::<f64, _>(StandardNormal) * 1.5 + if c == truth[i] { 1.5 } else { 0.0 }
    });
    let softmax = |z: &Array2<f64>| {
        let mut p = z.mapv(f64::exp);
        for mut r in p.axis_iter_mut(Axis(0)) {
            let s = r.sum();
            r.mapv_inplace(|v| v / s);
        }
        p
    };
    let p_true = softmax(&logits);
    let ids: Vec<String> = (0..n_img).map(|i| format!("img{i}")).collect();
    let classes: Vec<String> = (0..k).map(|c| format!("obj{c}")).collect();
    let trials = trials_from(&p_true, &truth, &ids, &classes, 40, 5);
    let cfg = I2nConfig::default();
    let good = i2n_score(p_true.view(), &ids, &classes, &truth, &trials, &cfg).unwrap();
    assert!(good.ceiling > 0.3, "{good:?}");
    assert!(good.ceiled > 0.8 && good.ceiled < 1.3, "{good:?}");
    let other = softmax(&Array2::from_shape_fn((n_img, k), |(i, c)| {
        rng.sample::<f64, _>(StandardNormal) * 1.5 + if c == truth[i] { 1.5 } else { 0.0 }
    }));
    let bad = i2n_score(other.view(), &ids, &classes, &truth, &trials, &cfg).unwrap();
    assert!(bad.ceiled.abs() < 0.3, "{bad:?}");
}

#[test]
fn cross_validated_readout_gives_valid_probabilities() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let labels: Vec<usize> = (0..90).map(|i| i % 3).collect();
    let x = Array2::from_shape_fn((90, 5), |(i, j)| {
        rng.sample::<f64, _>(StandardNormal) + if j == labels[i] { 2.0 } else { 0.0 }
    });
    let p =
        cross_validated_probabilities(x.view(), &labels, 3, &LogisticRegression::default(), 5, 1)
            .unwrap();
    for (i, r) in p.axis_iter(Axis(0)).enumerate() {
        assert!((r.sum() - 1.0).abs() < 1e-9);
        let _ = i;
    }
    let acc = p
        .axis_iter(Axis(0))
        .zip(&labels)
        .filter(|(r, l)| {
            r.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0
                == **l
        })
        .count();
    assert!(acc > 60, "accuracy {acc}/90");
}

/// Hand-written .npy (v1.0, little-endian f4, C order).
fn npy_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}",
        dims.join(", ")
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    for v in data {
        out.extend(v.to_le_bytes());
    }
    out
}

#[test]
fn neural_data_io_and_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let npy = dir.path().join("resp.npy");
    let data: Vec<f32> = (0..12).map(|v| v as f32).collect();
    std::fs::write(&npy, npy_f32(&[3, 2, 2], &data)).unwrap();
    let a = read_neural_npy(&npy).unwrap();
    assert_eq!(a.dim(), (3, 2, 2));
    assert_eq!(a[[1, 0, 1]], 5.0);
    let stim = dir.path().join("stimuli.txt");
    std::fs::write(&stim, "a\nb\n\nc\n").unwrap();
    let nd = NeuralData::load(&npy, &stim, None).unwrap();
    assert_eq!(nd.stimulus_ids, vec!["a", "b", "c"]);
    assert_eq!(nd.mean_responses()[[1, 0]], 4.5);
    std::fs::write(&stim, "a\nb\n").unwrap();
    let err = NeuralData::load(&npy, &stim, None).unwrap_err().to_string();
    assert!(
        err.contains("stimuli.txt") && err.contains("3 stimulus ids"),
        "{err}"
    );
    let err = read_neural_npy(dir.path().join("missing.npy"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.npy"), "{err}");
}

#[test]
fn score_writers_and_layer_plot() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = vec![];
    for (m, off) in [("alexnet", 0.0), ("brainlike-run1", 0.1)] {
        for (i, l) in ["conv1", "conv2", "conv3", "fc6"].iter().enumerate() {
            rows.push(Score {
                id: Score::make_id("custom", "V1", "pls"),
                model: m.into(),
                layer: Some(l.to_string()),
                raw: 0.3 + off + 0.05 * i as f64,
                ceiling: Some(0.8),
                ceiled: Some((0.3 + off + 0.05 * i as f64) / 0.8),
                formula: "r/c".into(),
                benchmark_version: "1".into(),
                per_split: vec![0.3, 0.31],
            });
        }
    }
    let csv = dir.path().join("scores.csv");
    let json = dir.path().join("scores.json");
    write_scores_csv(&rows, &csv).unwrap();
    write_scores_json(&rows, &json).unwrap();
    let back: Vec<Score> = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(back, rows);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.starts_with("id,model,layer,raw,ceiling,ceiled,formula,benchmark_version,per_split")
    );
    assert!(text.contains("custom.V1-pls,alexnet,conv1,0.3,0.8,"));
}
