//! Whitening of RDM vectors for the `corr-cov` and `cosine-cov` comparisons, as
//! rsatoolbox 0.3.2 `rdm.compare._cov_weighting` with `sigma_k=None` (independent,
//! identically distributed pattern estimates; Diedrichsen et al. 2021, "Comparing
//! representational geometries using whitened unbiased-distance-matrix similarity").
//!
//! The RDM is turned into `G = −D / 2` and double-centred (every row and column
//! mean removed); the whitened vector is the off-diagonal entries of the centred
//! `G` times `√2` followed by its diagonal, so that the plain inner product of two
//! whitened vectors is the Frobenius inner product of the centred matrices
//! (linear CKA). `cosine-cov` is the cosine of the whitened vectors; `corr-cov`
//! first subtracts the mean of the (non-NaN) dissimilarities.
//!
//! With missing entries (NaN, e.g. pairs of a stimulus with itself after a
//! bootstrap draw) rsatoolbox replaces the double centring by
//! `v − (v S) (Sᵀ W S)⁻¹ (W S)ᵀ`, with `S` the row+column indicator of every
//! present entry (diagonal rows halved) and `W` weights ½ off the diagonal, 1 on
//! it; we compute the same with one solve of the `n x n` system `Sᵀ W S`: by
//! Cholesky in general, in O(n) when the missing entries are exactly the pairs
//! within groups of identical stimuli (a bootstrap draw), where
//! `Sᵀ W S = blockdiag(α_g I − J/2) + J/2`, `α_g = 1 + (n − g)/2` for a group
//! of size `g`, is inverted blockwise with Sherman–Morrison.
//!
//! Note: rsatoolbox 0.3.2 raises an error for NaNs from 100 conditions on (its
//! sparse int8 indicator matrices cannot be halved in place); we apply the same
//! formula as it does below 100 conditions at every size.

use crate::error::{Error, Result};
use crate::linalg::{cholesky, cholesky_solve};
use ndarray::Array2;

/// Entries present (not NaN) and the conditions of each entry.
struct Layout<'a> {
    n: usize,
    present: &'a [bool],
}

impl Layout<'_> {
    /// `(i, j)` of each present entry, in condensed order.
    fn pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let n = self.n;
        (0..n)
            .flat_map(move |i| (i + 1..n).map(move |j| (i, j)))
            .zip(self.present.iter())
            .filter(|(_, p)| **p)
            .map(|(ij, _)| ij)
    }
}

/// Whiten the present entries `v` (condensed order, NaNs removed) of an
/// `n`-condition RDM; `present` marks which of the `n (n − 1) / 2` entries `v`
/// holds. `groups`, when given, is a group id per condition such that exactly the
/// pairs within a group are missing (a bootstrap draw); it enables the O(n) solve.
/// Returns `len(v) + n` values (off-diagonal entries, then the diagonal).
pub fn cov_weighting(
    vs: &[&[f64]],
    present: &[bool],
    n: usize,
    groups: Option<&[usize]>,
) -> Result<Vec<Vec<f64>>> {
    let lay = Layout { n, present };
    let sqrt2 = std::f64::consts::SQRT_2;
    if present.iter().all(|&p| p) {
        // double centring of G = −D/2 (rsatoolbox's branch without NaNs)
        let nf = n as f64;
        return Ok(vs
            .iter()
            .map(|v| {
                let mut row = vec![0.0; n];
                let mut total = 0.0;
                for ((i, j), &d) in lay.pairs().zip(v.iter()) {
                    let g = -0.5 * d;
                    row[i] += g;
                    row[j] += g;
                    total += g;
                }
                let m: Vec<f64> = row.iter().map(|r| r / nf).collect();
                let mm = 2.0 * total / (nf * nf);
                let mut out: Vec<f64> = lay
                    .pairs()
                    .zip(v.iter())
                    .map(|((i, j), &d)| (-0.5 * d - (m[i] + m[j]) + mm) * sqrt2)
                    .collect();
                out.extend(m.iter().map(|mi| -2.0 * mi + mm));
                out
            })
            .collect());
    }
    // degree of each condition in the graph of present pairs
    let mut deg = vec![0usize; n];
    for (i, j) in lay.pairs() {
        deg[i] += 1;
        deg[j] += 1;
    }
    let solver = Solver::new(&lay, &deg, groups)?;
    Ok(vs
        .iter()
        .map(|v| {
            // b = Sᵀ (−v/2) (the diagonal entries of −v/2 are 0)
            let mut b = vec![0.0; n];
            for ((i, j), &d) in lay.pairs().zip(v.iter()) {
                b[i] += -0.5 * d;
                b[j] += -0.5 * d;
            }
            let c = solver.solve(&b);
            let mut out: Vec<f64> = lay
                .pairs()
                .zip(v.iter())
                .map(|((i, j), &d)| (-0.5 * d - 0.5 * (c[i] + c[j])) * sqrt2)
                .collect();
            out.extend(c.iter().map(|ci| -ci));
            out
        })
        .collect())
}

/// Solver of `M c = b`, `M = Sᵀ W S` (`M_ii = 1 + deg_i / 2`, `M_ij = ½` for a
/// present pair).
enum Solver {
    Dense(Array2<f64>),
    /// Per condition: its group's `α_g` and `α_g − g/2`; plus group membership.
    Groups {
        group: Vec<usize>,
        alpha: Vec<f64>,
        shifted: Vec<f64>,
        n_groups: usize,
    },
}

impl Solver {
    fn new(lay: &Layout<'_>, deg: &[usize], groups: Option<&[usize]>) -> Result<Self> {
        let n = lay.n;
        if let Some(g) = groups
            && g.len() == n
            && let Some(s) = Self::grouped(lay, deg, g)
        {
            return Ok(s);
        }
        let mut m = Array2::<f64>::zeros((n, n));
        for i in 0..n {
            m[[i, i]] = 1.0 + 0.5 * deg[i] as f64;
        }
        for (i, j) in lay.pairs() {
            m[[i, j]] = 0.5;
            m[[j, i]] = 0.5;
        }
        let l = cholesky(m.view()).ok_or_else(|| {
            Error::Invalid("cov-weighted comparison: singular whitening system".into())
        })?;
        Ok(Solver::Dense(l))
    }

    /// The O(n) solver when exactly the within-group pairs are missing.
    fn grouped(lay: &Layout<'_>, deg: &[usize], g: &[usize]) -> Option<Self> {
        let n = lay.n;
        // relabel groups 0..k and count sizes
        let mut ids: Vec<usize> = g.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let group: Vec<usize> = g
            .iter()
            .map(|x| ids.binary_search(x).expect("present"))
            .collect();
        let mut size = vec![0usize; ids.len()];
        for &k in &group {
            size[k] += 1;
        }
        // the missing pattern must be exactly the within-group pairs
        let mut k = 0;
        for i in 0..n {
            for j in i + 1..n {
                if lay.present[k] != (group[i] != group[j]) {
                    return None;
                }
                k += 1;
            }
        }
        debug_assert!((0..n).all(|i| deg[i] == n - size[group[i]]));
        let alpha: Vec<f64> = size.iter().map(|&s| 1.0 + 0.5 * (n - s) as f64).collect();
        let shifted: Vec<f64> = size
            .iter()
            .zip(&alpha)
            .map(|(&s, a)| a - 0.5 * s as f64)
            .collect();
        if shifted.iter().any(|s| s.abs() < 1e-8) {
            return None;
        }
        Some(Solver::Groups {
            group,
            alpha,
            shifted,
            n_groups: ids.len(),
        })
    }

    fn solve(&self, b: &[f64]) -> Vec<f64> {
        match self {
            Solver::Dense(l) => cholesky_solve(l.view(), b),
            Solver::Groups {
                group,
                alpha,
                shifted,
                n_groups,
            } => {
                // D = blockdiag(α_g I − J_g/2): D⁻¹ b per block, and D⁻¹ 1
                let mut gsum = vec![0.0; *n_groups];
                for (&k, &bi) in group.iter().zip(b) {
                    gsum[k] += bi;
                }
                let y: Vec<f64> = group
                    .iter()
                    .zip(b)
                    .map(|(&k, &bi)| (bi + 0.5 * gsum[k] / shifted[k]) / alpha[k])
                    .collect();
                let z: Vec<f64> = group.iter().map(|&k| 1.0 / shifted[k]).collect();
                // M = D + ½ 1 1ᵀ: Sherman–Morrison
                let (sy, sz) = (y.iter().sum::<f64>(), z.iter().sum::<f64>());
                let f = 0.5 * sy / (1.0 + 0.5 * sz);
                y.iter().zip(&z).map(|(yi, zi)| yi - f * zi).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_solver_equals_dense() {
        // 9 conditions in groups {0,1}, {2}, {3,4,5}, {6}, {7,8}
        let g = [0, 0, 1, 2, 2, 2, 3, 4, 4];
        let n = g.len();
        let mut present = vec![];
        for i in 0..n {
            for j in i + 1..n {
                present.push(g[i] != g[j]);
            }
        }
        let np = present.iter().filter(|p| **p).count();
        let v: Vec<f64> = (0..np)
            .map(|k| ((k * 37 % 11) as f64).sin() + 2.0)
            .collect();
        let dense = cov_weighting(&[&v], &present, n, None).unwrap();
        let fast = cov_weighting(&[&v], &present, n, Some(&g)).unwrap();
        for (a, b) in dense[0].iter().zip(&fast[0]) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }
}
