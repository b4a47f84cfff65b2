//! Bootstrap over stimuli of an RDM comparison, as rsatoolbox 0.3.2
//! `inference.bootstrap_sample_pattern` + `RDMs.subsample_pattern`: draw `n`
//! stimuli with replacement, sort the draw, index both RDMs with it; the diagonal
//! is set to NaN before indexing, so pairs of a repeated stimulus with itself are
//! NaN and dropped by the comparison. Percentile confidence interval (numpy's
//! linear interpolation).
//!
//! Draws come from one seeded ChaCha8 generator (not numpy's, so the draws differ
//! from rsatoolbox's while following the same scheme) and are made before the
//! resamples are compared in parallel (rayon): results do not depend on the
//! number of threads.
//!
//! Speed: a resample of `n` stimuli with multiplicities `c_i` holds every
//! original pair `(i, j)` exactly `c_i c_j` times (and nothing else), so for
//! `cosine`, `pearson`, `spearman` and `rho-a` we compare the original vectors
//! with weights `c_i c_j` (ranks of weighted ties from one sort made before the
//! loop) instead of building and sorting the resampled vectors: O(n²) per
//! resample without a sort. `tau-a`, `kendall` and the `-cov` methods build the
//! resampled RDMs (the `-cov` whitening then solves its system in O(n), see
//! [`super::whiten`]). Both routes are tested against each other.

use super::Rdm;
use super::compare::{CompareMethod, compare, compare_cov};
use crate::error::{Error, Result};
use crate::stats;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

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

/// The seeded stimulus draws of [`bootstrap_compare`]: `n_bootstrap` sorted
/// draws of `n` indices with replacement.
pub fn bootstrap_draws(n: usize, n_bootstrap: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n_bootstrap)
        .map(|_| {
            let mut idx: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
            idx.sort_unstable();
            idx
        })
        .collect()
}

/// Compare `a` and `b` on one resample the slow way: build both resampled RDMs
/// (rsatoolbox's route). Exposed to test the fast route against it.
pub fn compare_resampled(a: &Rdm, b: &Rdm, idx: &[usize], method: CompareMethod) -> Result<f64> {
    let (sa, sb) = (a.subsample(idx), b.subsample(idx));
    match method {
        CompareMethod::CorrCov | CompareMethod::CosineCov => {
            let groups = if a
                .condensed()
                .iter()
                .chain(b.condensed())
                .any(|v| v.is_nan())
            {
                None
            } else {
                Some(idx)
            };
            compare_cov(
                sa.condensed(),
                sb.condensed(),
                idx.len(),
                method == CompareMethod::CorrCov,
                groups,
            )
        }
        _ => compare(&sa, &sb, method),
    }
}

/// Bootstrap over stimuli (see the module docs). Percentile interval at `level`
/// (e.g. 0.95). Resamples run in parallel.
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
    let draws = bootstrap_draws(a.n_conditions(), n_bootstrap, seed);
    let values: Vec<Option<f64>> = match Weighted::new(a, b, method) {
        Some(w) => draws.par_iter().map(|idx| w.compare(idx)).collect(),
        None => draws
            .par_iter()
            .map(|idx| compare_resampled(a, b, idx, method).ok())
            .collect(),
    };
    let samples: Vec<f64> = values
        .into_iter()
        .flatten()
        .filter(|v| v.is_finite())
        .collect();
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

/// The weighted route for cosine / Pearson / Spearman / rho-a.
pub struct Weighted {
    method: CompareMethod,
    n: usize,
    /// `(i, j)` of every entry present (non-NaN) in both RDMs.
    pairs: Vec<(u32, u32)>,
    a: Vec<f64>,
    b: Vec<f64>,
    /// For the rank methods: the entries sorted by `a` and by `b`.
    ranked: Option<Ranked>,
    /// No entry is NaN (the number of pairs of a resample is then known).
    complete: bool,
}

/// Entries in sorted order, so that ranking a resample reads memory sequentially
/// (the multiplicities of the stimuli fit in cache); one gather joins the two orders.
struct Ranked {
    /// `(i, j)` of each entry in `a`-sorted order, and the end of each run of ties.
    pairs_a: Vec<(u32, u32)>,
    ends_a: Vec<u32>,
    pairs_b: Vec<(u32, u32)>,
    ends_b: Vec<u32>,
    /// Position in `b`-sorted order of the entry at each `a`-sorted position.
    b_pos: Vec<u32>,
}

fn sorted_with_ties(v: &[f64]) -> (Vec<u32>, Vec<u32>) {
    let mut order: Vec<u32> = (0..v.len() as u32).collect();
    order.sort_by(|&x, &y| v[x as usize].total_cmp(&v[y as usize]));
    let mut ends = vec![];
    for k in 1..order.len() {
        if v[order[k] as usize] != v[order[k - 1] as usize] {
            ends.push(k as u32);
        }
    }
    ends.push(order.len() as u32);
    (order, ends)
}

impl Ranked {
    fn new(pairs: &[(u32, u32)], a: &[f64], b: &[f64]) -> Self {
        let (order_a, ends_a) = sorted_with_ties(a);
        let (order_b, ends_b) = sorted_with_ties(b);
        let mut pos_in_b = vec![0u32; b.len()];
        for (t, &e) in order_b.iter().enumerate() {
            pos_in_b[e as usize] = t as u32;
        }
        Ranked {
            pairs_a: order_a.iter().map(|&e| pairs[e as usize]).collect(),
            ends_a,
            pairs_b: order_b.iter().map(|&e| pairs[e as usize]).collect(),
            ends_b,
            b_pos: order_a.iter().map(|&e| pos_in_b[e as usize]).collect(),
        }
    }

    /// Spearman's `(Σ w ra rb, Σ w ra², Σ w rb²)` over the resample with
    /// stimulus multiplicities `count` and `total` pairs: centred average ranks
    /// of weighted ties, computed run by run in sorted order. Centred ranks are
    /// multiples of ½ no larger than `total / 2`: below 2²³ pairs (about 4,000
    /// stimuli) they are exact in `f32`, which halves the memory of the one
    /// gather; larger RDMs use an `f64` buffer.
    fn sums(&self, count: &[f64], total: f64) -> (f64, f64, f64) {
        let w = |&(i, j): &(u32, u32)| count[i as usize] * count[j as usize];
        let mean = (total + 1.0) / 2.0;
        let exact_f32 = total < (1u64 << 23) as f64;
        let mut rb32 = vec![0f32; if exact_f32 { self.pairs_b.len() } else { 0 }];
        let mut rb64 = vec![0f64; if exact_f32 { 0 } else { self.pairs_b.len() }];
        let (mut start, mut before, mut sbb) = (0usize, 0.0, 0.0);
        for &end in &self.ends_b {
            let end = end as usize;
            let wg: f64 = self.pairs_b[start..end].iter().map(w).sum();
            let r = before + (wg + 1.0) / 2.0 - mean;
            if exact_f32 {
                rb32[start..end].fill(r as f32);
            } else {
                rb64[start..end].fill(r);
            }
            sbb += wg * r * r;
            before += wg;
            start = end;
        }
        let (mut start, mut before, mut saa, mut sab) = (0usize, 0.0, 0.0, 0.0);
        for &end in &self.ends_a {
            let end = end as usize;
            let run = &self.pairs_a[start..end];
            let pos = &self.b_pos[start..end];
            let wg: f64 = run.iter().map(w).sum();
            let r = before + (wg + 1.0) / 2.0 - mean;
            let inner: f64 = if exact_f32 {
                run.iter()
                    .zip(pos)
                    .map(|(p, &t)| w(p) * f64::from(rb32[t as usize]))
                    .sum()
            } else {
                run.iter()
                    .zip(pos)
                    .map(|(p, &t)| w(p) * rb64[t as usize])
                    .sum()
            };
            saa += wg * r * r;
            sab += r * inner;
            before += wg;
            start = end;
        }
        (sab, saa, sbb)
    }
}

impl Weighted {
    /// Precompute for `method`; `None` for methods without a weighted route.
    pub fn new(a: &Rdm, b: &Rdm, method: CompareMethod) -> Option<Self> {
        let ranked = match method {
            CompareMethod::Cosine | CompareMethod::Pearson => false,
            CompareMethod::Spearman | CompareMethod::RhoA => true,
            _ => return None,
        };
        let n = a.n_conditions();
        if b.n_conditions() != n || n > u32::MAX as usize {
            return None;
        }
        let mut pairs = vec![];
        let (mut va, mut vb) = (vec![], vec![]);
        let mut k = 0;
        for i in 0..n {
            for j in i + 1..n {
                let (x, y) = (a.condensed()[k], b.condensed()[k]);
                if !x.is_nan() && !y.is_nan() {
                    pairs.push((i as u32, j as u32));
                    va.push(x);
                    vb.push(y);
                }
                k += 1;
            }
        }
        let ranked = ranked.then(|| Ranked::new(&pairs, &va, &vb));
        Some(Weighted {
            method,
            n,
            complete: pairs.len() == n * n.saturating_sub(1) / 2,
            pairs,
            a: va,
            b: vb,
            ranked,
        })
    }

    /// The comparison on the resample `idx` (indices into the stimuli).
    pub fn compare(&self, idx: &[usize]) -> Option<f64> {
        let mut count = vec![0.0f64; self.n];
        for &i in idx {
            count[i] += 1.0;
        }
        if let Some(rk) = &self.ranked {
            let total: f64 = if self.complete {
                // Σ_{i<j} c_i c_j, exact in f64
                let (s1, s2) = count
                    .iter()
                    .fold((0.0, 0.0), |(s1, s2), c| (s1 + c, s2 + c * c));
                (s1 * s1 - s2) / 2.0
            } else {
                rk.pairs_a
                    .iter()
                    .map(|&(i, j)| count[i as usize] * count[j as usize])
                    .sum()
            };
            if total < 2.0 {
                return None;
            }
            let (sab, saa, sbb) = rk.sums(&count, total);
            return Some(if self.method == CompareMethod::Spearman {
                if saa == 0.0 || sbb == 0.0 {
                    0.0
                } else {
                    sab / saa.sqrt() / sbb.sqrt()
                }
            } else {
                sab / (total * total * total - total) * 12.0
            });
        }
        let w: Vec<f64> = self
            .pairs
            .iter()
            .map(|&(i, j)| count[i as usize] * count[j as usize])
            .collect();
        let total: f64 = w.iter().sum();
        if total < 2.0 {
            return None;
        }
        let (ma, mb) = if self.method == CompareMethod::Pearson {
            let ma = w.iter().zip(&self.a).map(|(w, x)| w * x).sum::<f64>() / total;
            let mb = w.iter().zip(&self.b).map(|(w, y)| w * y).sum::<f64>() / total;
            (ma, mb)
        } else {
            (0.0, 0.0)
        };
        let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
        for ((w, x), y) in w.iter().zip(&self.a).zip(&self.b) {
            let (x, y) = (x - ma, y - mb);
            sab += w * x * y;
            saa += w * x * x;
            sbb += w * y * y;
        }
        Some(if saa == 0.0 || sbb == 0.0 {
            0.0
        } else {
            sab / saa.sqrt() / sbb.sqrt()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_route_equals_resampling() {
        let n = 25;
        let m = n * (n - 1) / 2;
        // ties in a, continuous b
        let a: Vec<f64> = (0..m).map(|k| ((k * 7919 % 13) as f64) / 4.0).collect();
        let b: Vec<f64> = (0..m)
            .map(|k| (k as f64 * 0.37).sin() + 0.1 * a[k])
            .collect();
        let (ra, rb) = (
            Rdm::from_condensed(n, a).unwrap(),
            Rdm::from_condensed(n, b).unwrap(),
        );
        for method in [
            CompareMethod::Cosine,
            CompareMethod::Pearson,
            CompareMethod::Spearman,
            CompareMethod::RhoA,
        ] {
            let w = Weighted::new(&ra, &rb, method).unwrap();
            for idx in bootstrap_draws(n, 20, 3) {
                let fast = w.compare(&idx).unwrap();
                let slow = compare_resampled(&ra, &rb, &idx, method).unwrap();
                assert!((fast - slow).abs() < 1e-12, "{method:?}: {fast} vs {slow}");
            }
        }
    }
}
