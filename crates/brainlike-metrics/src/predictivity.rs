//! Cross-validated neural predictivity as Brain-Score's
//! `CrossRegressedCorrelation(regression=pls_regression(), correlation=pearsonr_correlation())`:
//! fit PLS (25 components, `scale=False`) on the training stimuli, predict
//! the held-out stimuli, Pearson r per neuron across held-out stimuli, median
//! over neurons (NaNs skipped) per split, mean over splits (error: SEM over
//! splits).
//!
//! Splits: Brain-Score's default is 10 splits of 90 % train / 10 % test,
//! `StratifiedShuffleSplit` when a stratification coordinate (e.g. object
//! label) is given, `ShuffleSplit` otherwise. We generate splits with a seeded
//! ChaCha8 generator (not numpy's, so the exact splits differ from
//! Brain-Score's while following the same scheme): `n_train = floor(0.9 n)`,
//! `n_test = n − n_train`; stratified: test stimuli per class proportional to
//! the class size (largest-remainder rounding, ties broken at random). Plain
//! k-fold (shuffled, sklearn's fold sizes) is also available.
//!
//! [`layer_commitment`] picks the best layer from per-layer held-out scores.

use crate::error::{Error, Result};
use crate::linalg::{Real, columnwise_pearson, to_f64};
use crate::pls::PlsRegression;
use crate::stats;
use ndarray::{Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Cross-validation scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CvScheme {
    /// Repeated random train/test splits (Brain-Score: 10 splits, 0.9 train).
    ShuffleSplit {
        /// Number of splits.
        n_splits: usize,
        /// Fraction of stimuli used for training.
        train_size: f64,
    },
    /// Shuffled k-fold: every stimulus is tested exactly once.
    KFold {
        /// Number of folds.
        k: usize,
    },
    /// scikit-learn's `KFold(k, shuffle=False)`: contiguous folds in stimulus
    /// order, the first `n % k` folds one stimulus larger (no randomness).
    ContiguousKFold {
        /// Number of folds.
        k: usize,
    },
    /// Held-out stimulus sets given explicitly, one per split; each split
    /// trains on all other stimuli.
    Given {
        /// Held-out stimulus indices of each split.
        test: Vec<Vec<usize>>,
    },
}

/// Cross-validation settings: scheme, seed and optional stratification labels
/// (one per stimulus; used by `ShuffleSplit` and `KFold` alike).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    /// The scheme.
    pub scheme: CvScheme,
    /// Seed of the ChaCha8 generator.
    pub seed: u64,
    /// Stratification labels, one per stimulus.
    pub stratify: Option<Vec<String>>,
}

impl CrossValidation {
    /// Brain-Score's default: 10 shuffle splits, 90 % train, seed 1, optional strata.
    pub fn brain_score(stratify: Option<Vec<String>>) -> Self {
        CrossValidation {
            scheme: CvScheme::ShuffleSplit {
                n_splits: 10,
                train_size: 0.9,
            },
            seed: 1,
            stratify,
        }
    }

    /// Parse a `--cv` specification: `kfold:K` ([`CvScheme::ContiguousKFold`])
    /// or `shuffle[:N[:TRAIN[:SEED]]]` ([`CvScheme::ShuffleSplit`], Brain-Score's
    /// default 10 splits, 0.9 train, seed 1; stratified when `stratify` is given).
    pub fn parse(spec: &str, stratify: Option<Vec<String>>) -> Result<Self> {
        let bad = || {
            Error::Invalid(format!(
                "--cv {spec:?}: expected kfold:K or shuffle[:N[:TRAIN[:SEED]]], e.g. kfold:10, shuffle:10:0.9:1"
            ))
        };
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.as_slice() {
            ["kfold", k] => Ok(CrossValidation {
                scheme: CvScheme::ContiguousKFold {
                    k: k.parse().map_err(|_| bad())?,
                },
                seed: 0,
                stratify,
            }),
            ["shuffle", rest @ ..] if rest.len() <= 3 => {
                let mut cv = CrossValidation::brain_score(stratify);
                let (mut n_splits, mut train_size) = (10usize, 0.9f64);
                if let Some(v) = rest.first() {
                    n_splits = v.parse().map_err(|_| bad())?;
                }
                if let Some(v) = rest.get(1) {
                    train_size = v.parse().map_err(|_| bad())?;
                }
                if let Some(v) = rest.get(2) {
                    cv.seed = v.parse().map_err(|_| bad())?;
                }
                if n_splits == 0 {
                    return Err(bad());
                }
                cv.scheme = CvScheme::ShuffleSplit {
                    n_splits,
                    train_size,
                };
                Ok(cv)
            }
            _ => Err(bad()),
        }
    }

    /// Train/test index lists for `n` stimuli.
    pub fn splits(&self, n: usize) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
        if let Some(s) = &self.stratify
            && s.len() != n
        {
            return Err(Error::shape("stratification labels", n, s.len()));
        }
        let complement = |test: &[usize]| -> Vec<usize> {
            let mut held = vec![false; n];
            for &i in test {
                held[i] = true;
            }
            (0..n).filter(|&i| !held[i]).collect()
        };
        match &self.scheme {
            CvScheme::ContiguousKFold { .. } | CvScheme::Given { .. }
                if self.stratify.is_some() =>
            {
                return Err(Error::Invalid(
                    "stratification applies to shuffle splits only".into(),
                ));
            }
            CvScheme::ContiguousKFold { k } => {
                let k = *k;
                if k < 2 || k > n {
                    return Err(Error::Invalid(format!(
                        "k-fold needs 2 <= k <= {n} (stimuli), got {k}"
                    )));
                }
                let (base, extra) = (n / k, n % k);
                let mut start = 0;
                return Ok((0..k)
                    .map(|f| {
                        let len = base + usize::from(f < extra);
                        let test: Vec<usize> = (start..start + len).collect();
                        start += len;
                        (complement(&test), test)
                    })
                    .collect());
            }
            CvScheme::Given { test } => {
                return test
                    .iter()
                    .map(|t| {
                        if let Some(&i) = t.iter().find(|&&i| i >= n) {
                            return Err(Error::Invalid(format!(
                                "held-out stimulus {i} out of range for {n} stimuli"
                            )));
                        }
                        let mut t = t.clone();
                        t.sort_unstable();
                        Ok((complement(&t), t))
                    })
                    .collect();
            }
            _ => {}
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        // group stimuli by stratum (a single group when not stratified)
        let groups: Vec<Vec<usize>> = match &self.stratify {
            None => vec![(0..n).collect()],
            Some(labels) => {
                let mut m: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
                for (i, l) in labels.iter().enumerate() {
                    m.entry(l.as_str()).or_default().push(i);
                }
                m.into_values().collect()
            }
        };
        match self.scheme {
            CvScheme::ContiguousKFold { .. } | CvScheme::Given { .. } => {
                unreachable!("returned above")
            }
            CvScheme::ShuffleSplit {
                n_splits,
                train_size,
            } => {
                if !(train_size > 0.0 && train_size < 1.0) {
                    return Err(Error::Invalid(format!(
                        "train_size must be in (0, 1), got {train_size}"
                    )));
                }
                let n_train = (train_size * n as f64).floor() as usize;
                let n_test = n - n_train;
                if n_train < 2 || n_test < 2 {
                    return Err(Error::Invalid(format!(
                        "{n} stimuli give {n_train} train / {n_test} test: need >= 2 each"
                    )));
                }
                let alloc = allocate(&groups, n_test, n, &mut rng);
                Ok((0..n_splits)
                    .map(|_| {
                        let (mut train, mut test) = (vec![], vec![]);
                        for (g, &t) in groups.iter().zip(&alloc) {
                            let mut g = g.clone();
                            g.shuffle(&mut rng);
                            test.extend_from_slice(&g[..t]);
                            train.extend_from_slice(&g[t..]);
                        }
                        train.sort_unstable();
                        test.sort_unstable();
                        (train, test)
                    })
                    .collect())
            }
            CvScheme::KFold { k } => {
                if k < 2 || k > n {
                    return Err(Error::Invalid(format!(
                        "k-fold needs 2 <= k <= {n}, got {k}"
                    )));
                }
                // fold id per stimulus: shuffled within each stratum, dealt round-robin
                let mut fold = vec![0usize; n];
                let mut order: Vec<usize> = vec![];
                for g in &groups {
                    let mut g = g.clone();
                    g.shuffle(&mut rng);
                    order.extend(g);
                }
                if self.stratify.is_none() {
                    // sklearn KFold sizes: first n % k folds get one extra
                    let (base, extra) = (n / k, n % k);
                    let mut pos = 0;
                    for f in 0..k {
                        let len = base + usize::from(f < extra);
                        for &i in &order[pos..pos + len] {
                            fold[i] = f;
                        }
                        pos += len;
                    }
                } else {
                    for (j, &i) in order.iter().enumerate() {
                        fold[i] = j % k;
                    }
                }
                Ok((0..k)
                    .map(|f| {
                        let test: Vec<usize> = (0..n).filter(|&i| fold[i] == f).collect();
                        let train: Vec<usize> = (0..n).filter(|&i| fold[i] != f).collect();
                        (train, test)
                    })
                    .collect())
            }
        }
    }
}

/// Test items per group, proportional to group size (largest remainder).
fn allocate(groups: &[Vec<usize>], n_test: usize, n: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let exact: Vec<f64> = groups
        .iter()
        .map(|g| n_test as f64 * g.len() as f64 / n as f64)
        .collect();
    let mut alloc: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut left = n_test - alloc.iter().sum::<usize>();
    let mut order: Vec<(f64, f64, usize)> = exact
        .iter()
        .enumerate()
        .map(|(i, e)| (e - e.floor(), rng.random::<f64>(), i))
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)));
    for &(_, _, i) in &order {
        if left == 0 {
            break;
        }
        if alloc[i] < groups[i].len() {
            alloc[i] += 1;
            left -= 1;
        }
    }
    alloc
}

/// Result of a cross-validated predictivity run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictivityResult {
    /// Mean over splits of the per-split median Pearson r.
    pub mean: f64,
    /// Standard error of the mean over splits.
    pub sem: f64,
    /// Median over neurons of the held-out Pearson r, per split.
    pub per_split: Vec<f64>,
    /// Held-out Pearson r per split (outer) and neuron (inner).
    pub per_neuron: Vec<Vec<f64>>,
}

fn rows(m: ArrayView2<'_, f64>, idx: &[usize]) -> Array2<f64> {
    m.select(Axis(0), idx)
}

/// Cross-validated PLS predictivity of `responses` (stimuli x neurons, e.g.
/// repetition-averaged) from `features` (stimuli x features, f32/f64).
/// Splits run in parallel.
pub fn neural_predictivity<T: Real>(
    features: ArrayView2<'_, T>,
    responses: ArrayView2<'_, f64>,
    pls: &PlsRegression,
    cv: &CrossValidation,
) -> Result<PredictivityResult> {
    let n = features.nrows();
    if responses.nrows() != n {
        return Err(Error::shape(
            "responses rows (stimuli)",
            n,
            responses.nrows(),
        ));
    }
    let x = to_f64(features);
    let splits = cv.splits(n)?;
    let per_neuron: Vec<Vec<f64>> = splits
        .par_iter()
        .map(|(train, test)| -> Result<Vec<f64>> {
            let model = pls.fit(rows(x.view(), train).view(), rows(responses, train).view())?;
            let pred = model.predict(rows(x.view(), test).view())?;
            Ok(columnwise_pearson(
                pred.view(),
                rows(responses, test).view(),
            ))
        })
        .collect::<Result<_>>()?;
    let per_split: Vec<f64> = per_neuron.iter().map(|r| stats::nanmedian(r)).collect();
    Ok(PredictivityResult {
        mean: stats::mean(&per_split),
        sem: stats::sem(&per_split),
        per_split,
        per_neuron,
    })
}

/// Per-layer scores and the committed (best) layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerCommitment {
    /// The layer with the highest score (first one on ties; NaNs never win).
    pub best_layer: String,
    /// Its score.
    pub best_score: f64,
    /// Every `(layer, score)` in the order given.
    pub table: Vec<(String, f64)>,
}

/// Pick the best layer from per-layer held-out scores (Brain-Score's layer
/// commitment: the layer that best predicts held-out data of the region).
pub fn layer_commitment(scores: &[(String, f64)]) -> Result<LayerCommitment> {
    let best = scores
        .iter()
        .filter(|(_, s)| !s.is_nan())
        .fold(None::<&(String, f64)>, |b, c| match b {
            Some(b) if b.1 >= c.1 => Some(b),
            _ => Some(c),
        })
        .ok_or_else(|| Error::Invalid("no finite layer score to commit to".into()))?;
    Ok(LayerCommitment {
        best_layer: best.0.clone(),
        best_score: best.1,
        table: scores.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_splits_are_balanced_and_disjoint() {
        let labels: Vec<String> = (0..100).map(|i| format!("c{}", i % 4)).collect();
        let cv = CrossValidation::brain_score(Some(labels.clone()));
        let splits = cv.splits(100).unwrap();
        assert_eq!(splits.len(), 10);
        for (train, test) in &splits {
            assert_eq!((train.len(), test.len()), (90, 10));
            assert!(test.iter().all(|t| !train.contains(t)));
            let per_class: Vec<usize> = (0..4)
                .map(|c| test.iter().filter(|&&i| i % 4 == c).count())
                .collect();
            assert!(per_class.iter().all(|&k| k == 2 || k == 3), "{per_class:?}");
        }
    }

    #[test]
    fn contiguous_kfold_is_sklearns() {
        // KFold(3).split(range(10)): test folds [0..4), [4..7), [7..10)
        let cv = CrossValidation::parse("kfold:3", None).unwrap();
        let s = cv.splits(10).unwrap();
        let tests: Vec<Vec<usize>> = s.iter().map(|t| t.1.clone()).collect();
        assert_eq!(tests, vec![vec![0, 1, 2, 3], vec![4, 5, 6], vec![7, 8, 9]]);
        assert_eq!(s[1].0, vec![0, 1, 2, 3, 7, 8, 9]);
        assert!(CrossValidation::parse("kfold:x", None).is_err());
        let sh = CrossValidation::parse("shuffle:5:0.8:7", None).unwrap();
        assert_eq!(sh.seed, 7);
        assert_eq!(sh.splits(20).unwrap().len(), 5);
    }

    #[test]
    fn kfold_tests_every_stimulus_once() {
        let cv = CrossValidation {
            scheme: CvScheme::KFold { k: 3 },
            seed: 0,
            stratify: None,
        };
        let mut seen: Vec<usize> = cv
            .splits(10)
            .unwrap()
            .into_iter()
            .flat_map(|s| s.1)
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
    }
}
