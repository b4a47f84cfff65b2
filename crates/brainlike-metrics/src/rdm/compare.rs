//! RDM comparison, as rsatoolbox 0.3.2 `rsatoolbox.rdm.compare`, on the upper
//! triangles (`k = 1`, the condensed vectors) of two RDMs.
//!
//! Entries that are NaN in either vector are dropped from both before comparing
//! (rsatoolbox `_parse_input_rdms` drops NaN positions; it requires them to be
//! in the same places, we drop the union).
//!
//! Ties (rsatoolbox issue #434 asks for this to be documented):
//! * `spearman`: ties share their average rank (`scipy.stats.rankdata`), then
//!   Pearson of the ranks (the usual tie-corrected Spearman). Favours models that
//!   predict tied dissimilarities.
//! * `rho-a`: the same average ranks, but normalised by the no-tie variance
//!   `(n³ − n) / 12` instead of the ranks' own: the expected Spearman under random
//!   tie breaking; equals `spearman` without ties, is smaller with them.
//! * `tau-a`: `(concordant − discordant) / (n (n − 1) / 2)`: a pair tied in either
//!   vector counts as neither, but stays in the denominator.
//! * `kendall` (tau-b, `scipy.stats.kendalltau`): tied pairs are removed from
//!   the denominator, `√((n₀ − n₁)(n₀ − n₂))`.
//! * `pearson`, `cosine`, `corr-cov`, `cosine-cov` use the values, so ties need no
//!   rule.
//!
//! The stimulus bootstrap lives in [`super::bootstrap`] (re-exported here).

use super::Rdm;
pub use super::bootstrap::{BootstrapResult, bootstrap_compare};
use super::whiten::cov_weighting;
use crate::error::{Error, Result};
use crate::stats;
use serde::{Deserialize, Serialize};

/// How two RDMs (or two dissimilarity vectors) are compared. Names (`name()`,
/// `FromStr`) are the `brainlike compare --method` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CompareMethod {
    /// `cosine`: cosine similarity of the vectors (rsatoolbox `cosine`; 0 when
    /// either vector is all zeros). Beware: two all-positive RDMs have a high
    /// cosine even when unrelated.
    Cosine,
    /// `pearson`: subtract each vector's mean, then cosine (rsatoolbox `corr`).
    Pearson,
    /// `spearman`: average ranks (ties share the mean rank, scipy `rankdata`),
    /// subtract the mean rank, cosine (rsatoolbox `spearman`).
    Spearman,
    /// `rho-a`: ranks centred as for Spearman, then `12 Σ r1 r2 / (n³ − n)`
    /// (rsatoolbox `rho-a`; equals Spearman without ties, smaller with ties).
    RhoA,
    /// `tau-a`: Kendall's tau-a, `(concordant − discordant) / (n (n−1) / 2)`;
    /// tied pairs count as neither (rsatoolbox `tau-a`, O(n log n)).
    KendallTauA,
    /// `kendall`: Kendall's tau-b (scipy `kendalltau`; rsatoolbox `kendall`).
    KendallTauB,
    /// `corr-cov`: subtract the mean, whiten with the RDM covariance under
    /// i.i.d. pattern noise, cosine (rsatoolbox `corr_cov`, `sigma_k=None`; see
    /// [`super::whiten`]).
    CorrCov,
    /// `cosine-cov`: whiten, cosine: the whitened unbiased RDM cosine similarity
    /// (rsatoolbox `cosine_cov`, `sigma_k=None`).
    CosineCov,
}

impl CompareMethod {
    /// Every method, in the order `brainlike compare --help` lists them.
    pub const ALL: [CompareMethod; 8] = [
        CompareMethod::Spearman,
        CompareMethod::RhoA,
        CompareMethod::KendallTauA,
        CompareMethod::KendallTauB,
        CompareMethod::Pearson,
        CompareMethod::Cosine,
        CompareMethod::CorrCov,
        CompareMethod::CosineCov,
    ];

    /// Name (`spearman`, `rho-a`, `tau-a`, `kendall`, `pearson`, `cosine`,
    /// `corr-cov`, `cosine-cov`).
    pub fn name(&self) -> &'static str {
        match self {
            CompareMethod::Cosine => "cosine",
            CompareMethod::Pearson => "pearson",
            CompareMethod::Spearman => "spearman",
            CompareMethod::RhoA => "rho-a",
            CompareMethod::KendallTauA => "tau-a",
            CompareMethod::KendallTauB => "kendall",
            CompareMethod::CorrCov => "corr-cov",
            CompareMethod::CosineCov => "cosine-cov",
        }
    }

    /// The method's name in rsatoolbox 0.3.2 `compare(..., method=...)`.
    pub fn rsatoolbox_name(&self) -> &'static str {
        match self {
            CompareMethod::Pearson => "corr",
            CompareMethod::CorrCov => "corr_cov",
            CompareMethod::CosineCov => "cosine_cov",
            other => other.name(),
        }
    }
}

impl std::str::FromStr for CompareMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if let Some(m) = CompareMethod::ALL.into_iter().find(|m| m.name() == s) {
            return Ok(m);
        }
        Ok(match s {
            "corr" | "correlation" => CompareMethod::Pearson,
            "rho_a" => CompareMethod::RhoA,
            "tau_a" | "kendall_tau_a" => CompareMethod::KendallTauA,
            "tau-b" | "kendall_tau_b" => CompareMethod::KendallTauB,
            "corr_cov" => CompareMethod::CorrCov,
            "cosine_cov" => CompareMethod::CosineCov,
            other => {
                return Err(Error::Invalid(format!(
                    "unknown comparison {other:?} (one of: {})",
                    CompareMethod::ALL.map(|m| m.name()).join(", ")
                )));
            }
        })
    }
}

/// Number of conditions of a condensed vector of length `len`.
pub fn n_conditions_of(len: usize) -> Result<usize> {
    let n = ((1.0 + (1.0 + 8.0 * len as f64).sqrt()) / 2.0).round() as usize;
    if n * n.saturating_sub(1) / 2 != len {
        return Err(Error::Invalid(format!(
            "{len} dissimilarities are not the upper triangle of a square RDM"
        )));
    }
    Ok(n)
}

/// `corr-cov` / `cosine-cov` of two condensed vectors of an `n`-condition RDM
/// (NaN entries missing); `groups` as in [`cov_weighting`].
pub(crate) fn compare_cov(
    a: &[f64],
    b: &[f64],
    n: usize,
    centre: bool,
    groups: Option<&[usize]>,
) -> Result<f64> {
    let present: Vec<bool> = a
        .iter()
        .zip(b)
        .map(|(x, y)| !x.is_nan() && !y.is_nan())
        .collect();
    let pick = |v: &[f64]| -> Vec<f64> {
        let x: Vec<f64> = v
            .iter()
            .zip(&present)
            .filter(|(_, p)| **p)
            .map(|(x, _)| *x)
            .collect();
        if centre { centred(&x) } else { x }
    };
    let (va, vb) = (pick(a), pick(b));
    if va.len() < 2 {
        return Err(Error::Invalid(format!(
            "need at least 2 non-NaN dissimilarities to compare, got {}",
            va.len()
        )));
    }
    let w = cov_weighting(&[&va, &vb], &present, n, groups)?;
    Ok(stats::cosine(&w[0], &w[1]))
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
    if let CompareMethod::CorrCov | CompareMethod::CosineCov = method {
        let n = n_conditions_of(a.len())?;
        return compare_cov(a, b, n, method == CompareMethod::CorrCov, None);
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
        CompareMethod::CorrCov | CompareMethod::CosineCov => unreachable!("handled above"),
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
