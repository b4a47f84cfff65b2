//! RDM comparison, as rsatoolbox 0.3.2 `rsatoolbox.rdm.compare`, and bootstrap
//! confidence intervals over stimuli (conditions), as rsatoolbox's
//! `inference.bootstrap_sample_pattern` + `RDMs.subsample_pattern`.
//!
//! Entries that are NaN in either vector are dropped from both before comparing
//! (rsatoolbox `_parse_input_rdms` drops NaN positions; it requires them to be
//! in the same places, we drop the union).

use super::Rdm;
use crate::error::{Error, Result};
use crate::stats;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How two RDMs (or two dissimilarity vectors) are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CompareMethod {
    /// Cosine similarity of the vectors (rsatoolbox `cosine`). Beware: two
    /// all-positive RDMs have a high cosine even when unrelated.
    Cosine,
    /// Pearson correlation: subtract each vector's mean, then cosine
    /// (rsatoolbox `corr`).
    Pearson,
    /// Spearman correlation: average ranks (ties share the mean rank, scipy
    /// `rankdata`), subtract the mean rank, cosine (rsatoolbox `spearman`).
    Spearman,
    /// rsatoolbox `rho-a`: ranks centred as for Spearman, then
    /// `12 Σ r1 r2 / (n³ − n)` (equals Spearman without ties, smaller with ties).
    RhoA,
    /// Kendall's tau-a: `(concordant − discordant) / (n (n−1) / 2)`; tied pairs
    /// count as neither (rsatoolbox `tau-a`, O(n log n)).
    KendallTauA,
    /// Kendall's tau-b (scipy `kendalltau`; rsatoolbox `kendall`).
    KendallTauB,
}

impl CompareMethod {
    /// Short name (`cosine`, `corr`, `spearman`, `rho-a`, `tau-a`, `tau-b`).
    pub fn name(&self) -> &'static str {
        match self {
            CompareMethod::Cosine => "cosine",
            CompareMethod::Pearson => "corr",
            CompareMethod::Spearman => "spearman",
            CompareMethod::RhoA => "rho-a",
            CompareMethod::KendallTauA => "tau-a",
            CompareMethod::KendallTauB => "tau-b",
        }
    }
}

impl std::str::FromStr for CompareMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "cosine" => CompareMethod::Cosine,
            "corr" | "pearson" | "correlation" => CompareMethod::Pearson,
            "spearman" => CompareMethod::Spearman,
            "rho-a" | "rho_a" => CompareMethod::RhoA,
            "tau-a" | "tau_a" | "kendall_tau_a" => CompareMethod::KendallTauA,
            "tau-b" | "kendall" | "kendall_tau_b" => CompareMethod::KendallTauB,
            other => return Err(Error::Invalid(format!("unknown comparison {other:?}"))),
        })
    }
}

fn centred(x: &[f64]) -> Vec<f64> {
    let m = stats::mean(x);
    x.iter().map(|v| v - m).collect()
}

/// Compare two dissimilarity vectors of equal length (NaN entries dropped).
pub fn compare_vectors(a: &[f64], b: &[f64], method: CompareMethod) -> Result<f64> {
    if a.len() != b.len() {
        return Err(Error::shape("compared vectors", a.len(), b.len()));
    }
    let (a, b): (Vec<f64>, Vec<f64>) = a
        .iter()
        .zip(b)
        .filter(|(x, y)| !x.is_nan() && !y.is_nan())
        .map(|(x, y)| (*x, *y))
        .unzip();
    if a.len() < 2 {
        return Err(Error::Invalid(format!(
            "need at least 2 non-NaN dissimilarities to compare, got {}",
            a.len()
        )));
    }
    Ok(match method {
        CompareMethod::Cosine => stats::cosine(&a, &b),
        CompareMethod::Pearson => stats::cosine(&centred(&a), &centred(&b)),
        CompareMethod::Spearman => stats::cosine(
            &centred(&stats::rankdata(&a)),
            &centred(&stats::rankdata(&b)),
        ),
        CompareMethod::RhoA => {
            let ra = centred(&stats::rankdata(&a));
            let rb = centred(&stats::rankdata(&b));
            let n = ra.len() as f64;
            ra.iter().zip(&rb).map(|(x, y)| x * y).sum::<f64>() / (n * n * n - n) * 12.0
        }
        CompareMethod::KendallTauA => stats::kendall_tau_a(&a, &b),
        CompareMethod::KendallTauB => stats::kendall_tau_b(&a, &b),
    })
}

/// Compare two RDMs over the same conditions.
pub fn compare(a: &Rdm, b: &Rdm, method: CompareMethod) -> Result<f64> {
    if a.n_conditions() != b.n_conditions() {
        return Err(Error::shape(
            "RDM conditions",
            a.n_conditions(),
            b.n_conditions(),
        ));
    }
    compare_vectors(a.condensed(), b.condensed(), method)
}

/// Result of a bootstrap over stimuli.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapResult {
    /// The comparison on the full (not resampled) RDMs.
    pub point: f64,
    /// Mean of the bootstrap values.
    pub mean: f64,
    /// Standard error: standard deviation (ddof = 1) of the bootstrap values.
    pub se: f64,
    /// Lower percentile bound (`100 (1 − level) / 2`-th percentile).
    pub ci_low: f64,
    /// Upper percentile bound (`100 (1 + level) / 2`-th percentile).
    pub ci_high: f64,
    /// Confidence level of the interval (e.g. 0.95).
    pub level: f64,
    /// Every bootstrap value (samples that could not be compared are skipped).
    pub samples: Vec<f64>,
}

/// Bootstrap over stimuli: draw `n` conditions with replacement (seeded
/// ChaCha8), subsample both RDMs with the same draw (pairs of a duplicated
/// condition with itself become NaN and are dropped, as rsatoolbox's
/// `subsample_pattern`; the draw is sorted as rsatoolbox does), compare.
/// Percentile interval at `level` (e.g. 0.95).
pub fn bootstrap_compare(
    a: &Rdm,
    b: &Rdm,
    method: CompareMethod,
    n_bootstrap: usize,
    level: f64,
    seed: u64,
) -> Result<BootstrapResult> {
    let point = compare(a, b, method)?;
    if !(0.0..1.0).contains(&level) {
        return Err(Error::Invalid(format!(
            "level must be in [0, 1), got {level}"
        )));
    }
    let n = a.n_conditions();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut samples = Vec::with_capacity(n_bootstrap);
    for _ in 0..n_bootstrap {
        let mut idx: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
        idx.sort_unstable();
        let (sa, sb) = (a.subsample(&idx), b.subsample(&idx));
        if let Ok(v) = compare(&sa, &sb, method)
            && v.is_finite()
        {
            samples.push(v);
        }
    }
    let alpha = (1.0 - level) / 2.0 * 100.0;
    Ok(BootstrapResult {
        point,
        mean: stats::mean(&samples),
        se: stats::std(&samples, 1),
        ci_low: stats::percentile(&samples, alpha),
        ci_high: stats::percentile(&samples, 100.0 - alpha),
        level,
        samples,
    })
}
