//! Behavioural consistency i2n, as Brain-Score's Rajalingham2018 metric
//! (`brainscore_vision/metrics/i1i2`, class `I2n` = `_I(collapse_distractors=False,
//! normalize=True)`), reimplemented from its definition:
//!
//! 1. **Read-out** (Brain-Score `ProbabilitiesMapping`): penultimate features are
//!    z-scored with training statistics and a multinomial logistic regression
//!    gives class probabilities per test image. Here the layer's features and the
//!    classifier ([`LogisticRegression`], Brain-Score uses `C = 1e-3`) are
//!    explicit; [`cross_validated_probabilities`] gives out-of-fold
//!    probabilities per image, [`readout_probabilities`] a train/test read-out.
//! 2. **Model response matrix** (`target_distractor_scores`): for image `i` of
//!    true class `t` and distractor `c ≠ t`, the probability of choosing the
//!    distractor in a 2AFC is `p_c / (p_c + p_t)`.
//! 3. **Behavioural response matrix** (`build_response_matrix_from_responses`):
//!    for image `i` and class `c ≠ t`, `#trials choosing c / #trials where c was
//!    offered` (NaN when never offered).
//! 4. **d′** (`dprimes`): hit rate `H[i,c] = 1 − R[i,c]`; false-alarm rate
//!    `F[t,c]` = mean over images `j` of class `c` of `R[j,t]` (choosing `t`
//!    when it was the distractor; NaNs skipped); `d′ = Φ⁻¹(H) − Φ⁻¹(F)` clipped
//!    to `[−5, 5]`; entries with `c = t` are NaN.
//! 5. **Normalisation** (i2n, `subtract_mean`): within every (true class,
//!    distractor) group the mean d′ over images is subtracted.
//! 6. **Score**: per repetition (Brain-Score: 2), trials are shuffled (seeded)
//!    and split in halves; score = Pearson r between the model's i2n and the
//!    i2n of the first half (over entries finite in both); ceiling = Pearson r
//!    between the two halves' i2n (same split, no Spearman–Brown correction, as
//!    Brain-Score); both averaged over repetitions; ceiled with
//!    [`CeilingFormula`] (Brain-Score: `r / c`).
//!
//! ## Trial file format
//! CSV with a header row and columns (by name, any order, extra columns ignored):
//! `image_id,true_label,distractor_label,choice_label[,subject]` — one row per
//! 2AFC trial: the image shown, its true class, the other class offered, the
//! class the subject chose (must be the true or the distractor class), and an
//! optional subject id. Class names must match the model's class names.

use crate::ceiling::CeilingFormula;
use crate::error::{Error, Result};
use crate::linalg::{Real, to_f64};
use crate::logistic::{LogisticRegression, Standardizer};
use crate::predictivity::{CrossValidation, CvScheme};
use crate::stats;
use ndarray::{Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};
use std::collections::HashMap;
use std::path::Path;

/// One 2AFC trial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trial {
    /// Image shown.
    pub image_id: String,
    /// True class of the image.
    pub true_label: String,
    /// Distractor class offered.
    pub distractor_label: String,
    /// Class chosen.
    pub choice_label: String,
    /// Optional subject id.
    #[serde(default)]
    pub subject: Option<String>,
}

/// Read trials from the CSV format documented in the module header.
pub fn read_trials_csv(path: impl AsRef<Path>) -> Result<Vec<Trial>> {
    let path = path.as_ref();
    let csv_err = |e| Error::Csv {
        path: path.into(),
        source: e,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(csv_err)?;
    let mut out = vec![];
    for rec in rdr.deserialize::<Trial>() {
        let t = rec.map_err(csv_err)?;
        if t.choice_label != t.true_label && t.choice_label != t.distractor_label {
            return Err(Error::format(
                path,
                "choice_label equal to true_label or distractor_label",
                format!("trial {t:?}"),
            ));
        }
        out.push(t);
    }
    Ok(out)
}

/// Model response matrix (images x classes): `p_c / (p_c + p_true)` for
/// `c ≠ true`, NaN for `c = true`.
pub fn model_response_matrix(
    probabilities: ArrayView2<'_, f64>,
    truth: &[usize],
) -> Result<Array2<f64>> {
    let (n, k) = probabilities.dim();
    if truth.len() != n {
        return Err(Error::shape("i2n: truth labels", n, truth.len()));
    }
    Ok(Array2::from_shape_fn((n, k), |(i, c)| {
        let t = truth[i];
        if c == t {
            f64::NAN
        } else {
            let (pc, pt) = (probabilities[[i, c]], probabilities[[i, t]]);
            pc / (pc + pt)
        }
    }))
}

/// Behavioural response matrix (images x classes) from trials: fraction of
/// trials choosing `c` among the trials where `c` was the distractor.
pub fn behavioural_response_matrix(
    trials: &[&Trial],
    image_index: &HashMap<&str, usize>,
    class_index: &HashMap<&str, usize>,
    n_images: usize,
    n_classes: usize,
) -> Result<Array2<f64>> {
    let mut chose = Array2::<f64>::zeros((n_images, n_classes));
    let mut offered = Array2::<f64>::zeros((n_images, n_classes));
    for t in trials {
        let i = *image_index.get(t.image_id.as_str()).ok_or_else(|| {
            Error::Invalid(format!(
                "trial image {:?} not among the model's images",
                t.image_id
            ))
        })?;
        let cls = |s: &str| {
            class_index.get(s).copied().ok_or_else(|| {
                Error::Invalid(format!("trial class {s:?} not among the model's classes"))
            })
        };
        let d = cls(&t.distractor_label)?;
        cls(&t.true_label)?;
        offered[[i, d]] += 1.0;
        if t.choice_label == t.distractor_label {
            chose[[i, d]] += 1.0;
        }
    }
    Ok(Array2::from_shape_fn((n_images, n_classes), |(i, c)| {
        if offered[[i, c]] > 0.0 {
            chose[[i, c]] / offered[[i, c]]
        } else {
            f64::NAN
        }
    }))
}

/// d′ per image and distractor from a response matrix (see module docs),
/// clipped to `±cap`; with `normalize` the (true, distractor) group means are
/// removed (i2n). Entries with `c = true` are NaN.
pub fn dprime_matrix(
    response: ArrayView2<'_, f64>,
    truth: &[usize],
    cap: f64,
    normalize: bool,
) -> Array2<f64> {
    let (n, k) = response.dim();
    let norm = Normal::new(0.0, 1.0).expect("standard normal");
    // false-alarm rate F[t][c]: mean over images j with truth c of R[j, t]
    let mut fa_sum = vec![vec![0.0; k]; k];
    let mut fa_cnt = vec![vec![0.0; k]; k];
    for j in 0..n {
        let c = truth[j];
        for t in 0..k {
            let v = response[[j, t]];
            if t != c && !v.is_nan() {
                fa_sum[t][c] += v;
                fa_cnt[t][c] += 1.0;
            }
        }
    }
    let mut d = Array2::from_shape_fn((n, k), |(i, c)| {
        let t = truth[i];
        if c == t {
            return f64::NAN;
        }
        let hit = 1.0 - response[[i, c]];
        let fa = fa_sum[t][c] / fa_cnt[t][c];
        // A pair never offered in this half of the trials has no rate: no d′ (statrs panics on NaN).
        if hit.is_nan() || fa.is_nan() {
            return f64::NAN;
        }
        let v = norm.inverse_cdf(hit) - norm.inverse_cdf(fa);
        if v.is_nan() { v } else { v.clamp(-cap, cap) }
    });
    if normalize {
        let mut sum = vec![vec![0.0; k]; k];
        let mut cnt = vec![vec![0.0; k]; k];
        for i in 0..n {
            for c in 0..k {
                let v = d[[i, c]];
                if !v.is_nan() {
                    sum[truth[i]][c] += v;
                    cnt[truth[i]][c] += 1.0;
                }
            }
        }
        for i in 0..n {
            for c in 0..k {
                d[[i, c]] -= sum[truth[i]][c] / cnt[truth[i]][c];
            }
        }
    }
    d
}

/// Pearson r over entries finite in both matrices.
pub fn correlate_finite(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> f64 {
    let (x, y): (Vec<f64>, Vec<f64>) = a
        .iter()
        .zip(b.iter())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| (*x, *y))
        .unzip();
    if x.len() < 3 {
        return f64::NAN;
    }
    stats::pearson(&x, &y)
}

/// i2n settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct I2nConfig {
    /// Remove (true, distractor) means (i2n); `false` gives raw i2.
    pub normalize: bool,
    /// d′ clip (Brain-Score: 5).
    pub cap: f64,
    /// Random trial half-splits (Brain-Score: 2).
    pub n_repetitions: usize,
    /// Seed of the half-splits.
    pub seed: u64,
    /// Ceiling normalisation (Brain-Score: `r/c`).
    pub formula: CeilingFormula,
}

impl Default for I2nConfig {
    fn default() -> Self {
        I2nConfig {
            normalize: true,
            cap: 5.0,
            n_repetitions: 2,
            seed: 1,
            formula: CeilingFormula::RatioR,
        }
    }
}

/// i2n score with ceiling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct I2nResult {
    /// Mean over repetitions of r(model i2n, half-trials i2n).
    pub raw: f64,
    /// Mean over repetitions of r(half 1 i2n, half 2 i2n).
    pub ceiling: f64,
    /// `formula(raw, ceiling)`.
    pub ceiled: f64,
    /// Formula name.
    pub formula: String,
    /// Raw value per repetition.
    pub per_split: Vec<f64>,
    /// Ceiling per repetition.
    pub ceiling_per_split: Vec<f64>,
}

/// Score model probabilities (images x classes, rows in `image_ids` order,
/// columns in `class_names` order) against behavioural trials.
pub fn i2n_score(
    probabilities: ArrayView2<'_, f64>,
    image_ids: &[String],
    class_names: &[String],
    truth: &[usize],
    trials: &[Trial],
    cfg: &I2nConfig,
) -> Result<I2nResult> {
    let (n, k) = probabilities.dim();
    if image_ids.len() != n || class_names.len() != k {
        return Err(Error::shape(
            "i2n: image ids x class names",
            format!("{n}x{k}"),
            format!("{}x{}", image_ids.len(), class_names.len()),
        ));
    }
    let image_index: HashMap<&str, usize> = image_ids
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let class_index: HashMap<&str, usize> = class_names
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let model = dprime_matrix(
        model_response_matrix(probabilities, truth)?.view(),
        truth,
        cfg.cap,
        cfg.normalize,
    );
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let (mut raw, mut ceil) = (vec![], vec![]);
    for _ in 0..cfg.n_repetitions.max(1) {
        let mut order: Vec<&Trial> = trials.iter().collect();
        order.shuffle(&mut rng);
        let (h1, h2) = order.split_at(order.len() / 2);
        let d1 = dprime_matrix(
            behavioural_response_matrix(h1, &image_index, &class_index, n, k)?.view(),
            truth,
            cfg.cap,
            cfg.normalize,
        );
        let d2 = dprime_matrix(
            behavioural_response_matrix(h2, &image_index, &class_index, n, k)?.view(),
            truth,
            cfg.cap,
            cfg.normalize,
        );
        raw.push(correlate_finite(model.view(), d1.view()));
        ceil.push(correlate_finite(d1.view(), d2.view()));
    }
    let (r, c) = (stats::mean(&raw), stats::mean(&ceil));
    Ok(I2nResult {
        raw: r,
        ceiling: c,
        ceiled: cfg.formula.apply(r, c),
        formula: cfg.formula.name().into(),
        per_split: raw,
        ceiling_per_split: ceil,
    })
}

/// Train/test read-out: z-score with the training statistics, fit the
/// classifier on `(train, labels)`, return test probabilities.
pub fn readout_probabilities<T: Real>(
    train: ArrayView2<'_, T>,
    labels: &[usize],
    n_classes: usize,
    test: ArrayView2<'_, T>,
    classifier: &LogisticRegression,
) -> Result<Array2<f64>> {
    let (tr, te) = (to_f64(train), to_f64(test));
    let sc = Standardizer::fit(tr.view());
    let model = classifier.fit(sc.transform(tr.view()).view(), labels, n_classes)?;
    model.predict_proba(sc.transform(te.view()).view())
}

/// Out-of-fold class probabilities for every image: stratified shuffled
/// k-fold (seeded), per fold z-scoring with training-fold statistics and a
/// fresh classifier.
pub fn cross_validated_probabilities<T: Real>(
    features: ArrayView2<'_, T>,
    labels: &[usize],
    n_classes: usize,
    classifier: &LogisticRegression,
    k_folds: usize,
    seed: u64,
) -> Result<Array2<f64>> {
    let n = features.nrows();
    if labels.len() != n {
        return Err(Error::shape("labels", n, labels.len()));
    }
    let x = to_f64(features);
    let cv = CrossValidation {
        scheme: CvScheme::KFold { k: k_folds },
        seed,
        stratify: Some(labels.iter().map(|l| l.to_string()).collect()),
    };
    let mut out = Array2::<f64>::zeros((n, n_classes));
    for (train, test) in cv.splits(n)? {
        let ytr: Vec<usize> = train.iter().map(|&i| labels[i]).collect();
        let p = readout_probabilities(
            x.select(Axis(0), &train).view(),
            &ytr,
            n_classes,
            x.select(Axis(0), &test).view(),
            classifier,
        )?;
        for (r, &i) in test.iter().enumerate() {
            out.row_mut(i).assign(&p.row(r));
        }
    }
    Ok(out)
}
