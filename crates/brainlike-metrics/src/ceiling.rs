//! Split-half noise ceiling over repetitions and ceiled scores (Brain-Score's
//! `InternalConsistency`: `SplitHalfConsistency` with Pearson r per neuron and
//! Spearman–Brown correction, median over neurons, averaged over random splits).
//!
//! For each of `n_splits` seeded random splits of the repetitions into two
//! halves (`floor(r/2)` and the rest), average each half over its repetitions
//! (NaNs, i.e. missing repetitions, skipped), correlate the two half means
//! across stimuli per neuron (Pearson r), correct with Spearman–Brown
//! `2r / (1 + r)`, take the median over neurons; the ceiling is the mean over
//! splits.
//!
//! Ceiled scores ([`CeilingFormula`]):
//! * `"r/c"`: `ceiled = r / c` (Brain-Score's `ceil_score` before 2025).
//! * `"r^2/c"`: `ceiled = r² / c`, explained variance over the split-half
//!   reliability (Brain-Score 2025–26 neural benchmarks score explained
//!   variance). Because `c` (Spearman–Brown corrected) estimates the
//!   reliability of the full-repetition mean, a model equal to the noise-free
//!   signal has `r² ≈ c`, i.e. a ceiled score ≈ 1. No clipping is applied.
//!
//! Deterministic per-neuron ceiling ([`split_half_per_neuron`], used by
//! `brainlike predict`): the first `floor(r/2)` repetitions against the rest,
//! Pearson r per neuron across stimuli, Spearman–Brown corrected; a score is
//! ceiled either as `median_r / median_c` ([`CeilingMode::SplitHalf`]) or as the
//! median over neurons of `r_i / c_i` ([`CeilingMode::MedianOfRatios`]).

use crate::error::{Error, Result};
use crate::linalg::columnwise_pearson;
use crate::stats;
use ndarray::{Array2, ArrayView3, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Normalisation of a raw score by the noise ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CeilingFormula {
    /// `r / c` (Brain-Score before 2025).
    RatioR,
    /// `r² / c` (Brain-Score 2025–26, explained variance).
    RSquaredOverCeiling,
}

impl CeilingFormula {
    /// `"r/c"` or `"r^2/c"`.
    pub fn name(&self) -> &'static str {
        match self {
            CeilingFormula::RatioR => "r/c",
            CeilingFormula::RSquaredOverCeiling => "r^2/c",
        }
    }

    /// Apply to a raw score `r` and ceiling `c`.
    pub fn apply(&self, r: f64, c: f64) -> f64 {
        match self {
            CeilingFormula::RatioR => r / c,
            CeilingFormula::RSquaredOverCeiling => r * r / c,
        }
    }
}

impl std::str::FromStr for CeilingFormula {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "r/c" => Ok(CeilingFormula::RatioR),
            "r^2/c" | "r2/c" => Ok(CeilingFormula::RSquaredOverCeiling),
            o => Err(Error::Invalid(format!(
                "unknown ceiling formula {o:?} (r/c, r^2/c)"
            ))),
        }
    }
}

/// Spearman–Brown prophecy for doubling the data: `2r / (1 + r)`.
pub fn spearman_brown(r: f64) -> f64 {
    2.0 * r / (1.0 + r)
}

/// A noise ceiling with its per-split values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CeilingResult {
    /// Mean over splits.
    pub ceiling: f64,
    /// Median-over-neurons corrected consistency per split.
    pub per_split: Vec<f64>,
}

/// NaN-skipping mean over the selected repetitions: stimuli x neurons.
pub fn mean_over_repetitions(data: ArrayView3<'_, f64>, reps: &[usize]) -> Array2<f64> {
    let (s, n, _) = data.dim();
    let mut sum = Array2::<f64>::zeros((s, n));
    let mut cnt = Array2::<f64>::zeros((s, n));
    for &r in reps {
        let slab = data.index_axis(Axis(2), r);
        ndarray::Zip::from(&mut sum)
            .and(&mut cnt)
            .and(&slab)
            .for_each(|a, c, &v| {
                if !v.is_nan() {
                    *a += v;
                    *c += 1.0;
                }
            });
    }
    sum / cnt
}

/// Per-neuron split-half reliability of `data` (stimuli x neurons x
/// repetitions): mean of the first `floor(r/2)` repetitions against the mean of
/// the others, Pearson r across stimuli per neuron, Spearman–Brown `2r / (1 + r)`.
pub fn split_half_per_neuron(data: ArrayView3<'_, f64>) -> Result<Vec<f64>> {
    let (s, _, r) = data.dim();
    if r < 2 || s < 3 {
        return Err(Error::Invalid(format!(
            "split-half ceiling needs >= 2 repetitions and >= 3 stimuli; got {r} repetitions, {s} stimuli"
        )));
    }
    let reps: Vec<usize> = (0..r).collect();
    let (h1, h2) = reps.split_at(r / 2);
    let m1 = mean_over_repetitions(data, h1);
    let m2 = mean_over_repetitions(data, h2);
    Ok(columnwise_pearson(m1.view(), m2.view())
        .into_iter()
        .map(spearman_brown)
        .collect())
}

/// How a predictivity score is divided by the per-neuron ceilings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CeilingMode {
    /// `split-half`: `median_r / median_i(c_i)`, `median_r` the mean over splits
    /// of the median over neurons of the held-out r.
    SplitHalf,
    /// `median-of-ratios`: `median_i(r_i / c_i)`, `r_i` neuron i's held-out r
    /// averaged over splits.
    MedianOfRatios,
}

impl CeilingMode {
    /// `split-half` or `median-of-ratios`.
    pub fn name(&self) -> &'static str {
        match self {
            CeilingMode::SplitHalf => "split-half",
            CeilingMode::MedianOfRatios => "median-of-ratios",
        }
    }

    /// The formula, as written into outputs.
    pub fn formula(&self) -> &'static str {
        match self {
            CeilingMode::SplitHalf => "median_r / median_ceiling",
            CeilingMode::MedianOfRatios => "median_i(mean_splits(r_i) / c_i)",
        }
    }

    /// The ceiled score from per-split per-neuron r (`per_neuron[split][neuron]`)
    /// and per-neuron ceilings `c`. NaNs are skipped in the medians.
    pub fn ceil(&self, per_neuron: &[Vec<f64>], c: &[f64]) -> f64 {
        match self {
            CeilingMode::SplitHalf => {
                let per_split: Vec<f64> = per_neuron.iter().map(|r| stats::nanmedian(r)).collect();
                stats::mean(&per_split) / stats::nanmedian(c)
            }
            CeilingMode::MedianOfRatios => {
                let ratios: Vec<f64> = c
                    .iter()
                    .enumerate()
                    .map(|(i, ci)| {
                        let r: Vec<f64> = per_neuron.iter().map(|s| s[i]).collect();
                        stats::mean(&r) / ci
                    })
                    .collect();
                stats::nanmedian(&ratios)
            }
        }
    }
}

impl std::str::FromStr for CeilingMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "split-half" => Ok(CeilingMode::SplitHalf),
            "median-of-ratios" => Ok(CeilingMode::MedianOfRatios),
            o => Err(Error::Invalid(format!(
                "unknown ceiling {o:?} (split-half, median-of-ratios)"
            ))),
        }
    }
}

/// Split-half ceiling of `data` (stimuli x neurons x repetitions).
pub fn split_half_ceiling(
    data: ArrayView3<'_, f64>,
    n_splits: usize,
    seed: u64,
) -> Result<CeilingResult> {
    let (s, _, r) = data.dim();
    if r < 2 || s < 3 || n_splits == 0 {
        return Err(Error::Invalid(format!(
            "split-half ceiling needs >= 2 repetitions, >= 3 stimuli, >= 1 split; got {r} reps, {s} stimuli, {n_splits} splits"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let per_split = (0..n_splits)
        .map(|_| {
            let mut reps: Vec<usize> = (0..r).collect();
            reps.shuffle(&mut rng);
            let (h1, h2) = reps.split_at(r / 2);
            let m1 = mean_over_repetitions(data, h1);
            let m2 = mean_over_repetitions(data, h2);
            let corrected: Vec<f64> = columnwise_pearson(m1.view(), m2.view())
                .into_iter()
                .map(spearman_brown)
                .collect();
            stats::nanmedian(&corrected)
        })
        .collect::<Vec<f64>>();
    Ok(CeilingResult {
        ceiling: stats::mean(&per_split),
        per_split,
    })
}

/// A raw score normalised by a ceiling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CeiledScore {
    /// Raw score (e.g. mean over splits of median Pearson r).
    pub raw: f64,
    /// Error of the raw score (SEM over splits).
    pub raw_error: f64,
    /// The ceiling.
    pub ceiling: f64,
    /// `formula(raw, ceiling)`.
    pub ceiled: f64,
    /// Formula name (`"r/c"` or `"r^2/c"`).
    pub formula: String,
    /// Every split's raw value.
    pub per_split: Vec<f64>,
}

/// Ceil a raw score given per split values.
pub fn ceil_score(per_split: &[f64], ceiling: f64, formula: CeilingFormula) -> CeiledScore {
    let raw = stats::mean(per_split);
    CeiledScore {
        raw,
        raw_error: stats::sem(per_split),
        ceiling,
        ceiled: formula.apply(raw, ceiling),
        formula: formula.name().to_string(),
        per_split: per_split.to_vec(),
    }
}
