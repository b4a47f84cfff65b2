//! Exact t-SNE (van der Maaten & Hinton 2008) for the paper's Fig. 3 (§3.2: "we used
//! t-SNE to visualize the unit activations from the first convolutional layer", 1,280
//! CIFAR-100 test images).
//!
//! The algorithm follows scikit-learn's `TSNE(method="exact")`:
//!
//! * optional pre-reduction: when the data have more than `pca_dims` (default 50)
//!   dimensions they are centred and projected on their top `pca_dims` principal
//!   components first, as is customary. The principal subspace is found by a seeded
//!   randomized range finder (Halko, Martinsson & Tropp 2011; 10 extra vectors, 6
//!   power iterations with re-orthonormalisation) followed by an exact Jacobi
//!   eigendecomposition of the small projected problem;
//! * affinities: squared Euclidean distances, per-point Gaussian bandwidth found by
//!   binary search so that the conditional distribution's perplexity is `perplexity`
//!   (default 30; tolerance 1e-5 on the entropy, at most 100 steps), then
//!   `P = (P + Pᵀ) / 2N`, floored at 1e-12;
//! * Student-t (1 degree of freedom) similarities in the 2-D embedding;
//! * gradient descent with momentum 0.5 during early exaggeration (P × 12 for the
//!   first 250 iterations) and 0.8 afterwards, 1,000 iterations in all, and
//!   delta-bar-delta gains (+0.2 / × 0.8, minimum 0.01); learning rate "auto" =
//!   max(N / early_exaggeration / 4, 50);
//! * initialisation: PCA (the first two principal components, scaled so that the
//!   first has standard deviation 1e-4) or seeded N(0, 1e-4²) random values.
//!
//! Cost: O(N²) memory for P and O(N²) work per iteration, parallel over points with
//! rayon; 1,280 points take a few seconds. The embedding is deterministic for a
//! given input, options and seed (the parallel reductions are per point, in a fixed
//! order).

use crate::error::{Result, StatsError};
use crate::matrix::Matrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// How the embedding is initialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsneInit {
    /// First two principal components, scaled to SD 1e-4 (scikit-learn's default).
    Pca,
    /// Seeded Gaussian values with SD 1e-4.
    Random,
}

/// Options of [`tsne`]; `Default` gives the values in the module documentation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TsneOptions {
    /// Perplexity of the conditional distributions (default 30).
    pub perplexity: f64,
    /// Early exaggeration factor (default 12).
    pub early_exaggeration: f64,
    /// Number of iterations with early exaggeration (default 250).
    pub exaggeration_iters: usize,
    /// Total number of iterations (default 1000).
    pub n_iter: usize,
    /// Learning rate; `None` = "auto" (default).
    pub learning_rate: Option<f64>,
    /// Momentum during early exaggeration (default 0.5).
    pub momentum_early: f64,
    /// Momentum afterwards (default 0.8).
    pub momentum_late: f64,
    /// Initialisation (default PCA).
    pub init: TsneInit,
    /// Reduce to this many principal components first when the data have more
    /// dimensions; `None` disables the reduction (default `Some(50)`).
    pub pca_dims: Option<usize>,
    /// Seed of the random projection and the random initialisation (default 0).
    pub seed: u64,
    /// Record the KL divergence every this many iterations (default 50; 0 = only at
    /// the end).
    pub kl_every: usize,
}

impl Default for TsneOptions {
    fn default() -> Self {
        TsneOptions {
            perplexity: 30.0,
            early_exaggeration: 12.0,
            exaggeration_iters: 250,
            n_iter: 1000,
            learning_rate: None,
            momentum_early: 0.5,
            momentum_late: 0.8,
            init: TsneInit::Pca,
            pca_dims: Some(50),
            seed: 0,
            kl_every: 50,
        }
    }
}

/// Output of [`tsne`].
#[derive(Debug, Clone, PartialEq)]
pub struct TsneResult {
    /// The embedding, N × 2.
    pub embedding: Matrix,
    /// `(iteration, KL(P‖Q))` with the un-exaggerated P, recorded every `kl_every`
    /// iterations and after the last one.
    pub kl_history: Vec<(usize, f64)>,
    /// KL divergence of the final embedding.
    pub kl_divergence: f64,
    /// The learning rate used.
    pub learning_rate: f64,
}

/// Embed the rows of `data` (N points × D dimensions) in 2-D with exact t-SNE.
///
/// Errors when there are fewer than 4 points, a value is not finite, or the
/// perplexity is not below N − 1.
pub fn tsne(data: &Matrix, opts: &TsneOptions) -> Result<TsneResult> {
    let n = data.rows();
    if n < 4 {
        return Err(StatsError::InvalidArgument(format!(
            "t-SNE needs at least 4 points, got {n}"
        )));
    }
    if data.as_slice().iter().any(|v| !v.is_finite()) {
        return Err(StatsError::InvalidArgument(
            "t-SNE input has a non-finite value".into(),
        ));
    }
    if !(opts.perplexity > 0.0 && opts.perplexity < (n - 1) as f64) {
        return Err(StatsError::InvalidArgument(format!(
            "perplexity {} must be in (0, N − 1 = {})",
            opts.perplexity,
            n - 1
        )));
    }
    let reduced;
    let x = match opts.pca_dims {
        Some(k) if data.cols() > k => {
            reduced = pca(data, k, opts.seed)?;
            &reduced
        }
        _ => data,
    };
    let p = joint_probabilities(x, opts.perplexity);
    let mut y = match opts.init {
        TsneInit::Pca => {
            let mut y = pca(x, 2, opts.seed)?;
            let sd = crate::summary::sample_sd(&y.column(0)).max(1e-300);
            // scikit-learn uses the population SD (np.std); the factor is immaterial
            // up to (N−1)/N, use it for parity.
            let sd = sd * (((n - 1) as f64) / n as f64).sqrt();
            y.as_mut_slice()
                .iter_mut()
                .for_each(|v| *v = *v / sd * 1e-4);
            y.into_vec()
        }
        TsneInit::Random => {
            let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
            (0..2 * n)
                .map(|_| {
                    1e-4 * {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        z
                    }
                })
                .collect::<Vec<f64>>()
        }
    };
    let lr = opts
        .learning_rate
        .unwrap_or_else(|| (n as f64 / opts.early_exaggeration / 4.0).max(50.0));
    let mut update = vec![0.0; 2 * n];
    let mut gains = vec![1.0f64; 2 * n];
    let mut grad = vec![0.0; 2 * n];
    let mut kl_history = Vec::new();
    for it in 0..opts.n_iter {
        let early = it < opts.exaggeration_iters;
        let exag = if early { opts.early_exaggeration } else { 1.0 };
        let momentum = if early {
            opts.momentum_early
        } else {
            opts.momentum_late
        };
        gradient(&p, &y, exag, &mut grad);
        for k in 0..2 * n {
            if update[k] * grad[k] < 0.0 {
                gains[k] += 0.2;
            } else {
                gains[k] *= 0.8;
            }
            gains[k] = gains[k].max(0.01);
            update[k] = momentum * update[k] - lr * gains[k] * grad[k];
            y[k] += update[k];
        }
        if opts.kl_every > 0 && (it + 1) % opts.kl_every == 0 {
            kl_history.push((it + 1, kl_divergence(&p, &y)));
        }
    }
    let kl = kl_divergence(&p, &y);
    if kl_history.last().map(|&(i, _)| i) != Some(opts.n_iter) {
        kl_history.push((opts.n_iter, kl));
    }
    Ok(TsneResult {
        embedding: Matrix::new(n, 2, y)?,
        kl_history,
        kl_divergence: kl,
        learning_rate: lr,
    })
}

/// Symmetric joint probabilities P (N × N, row-major) for the given perplexity.
fn joint_probabilities(x: &Matrix, perplexity: f64) -> Vec<f64> {
    let n = x.rows();
    let sq: Vec<f64> = (0..n)
        .map(|i| x.row(i).iter().map(|v| v * v).sum())
        .collect();
    let target = perplexity.ln();
    let mut cond = vec![0.0; n * n];
    cond.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        let xi = x.row(i);
        let d: Vec<f64> = (0..n)
            .map(|j| {
                if i == j {
                    0.0
                } else {
                    let dot: f64 = xi.iter().zip(x.row(j)).map(|(a, b)| a * b).sum();
                    (sq[i] + sq[j] - 2.0 * dot).max(0.0)
                }
            })
            .collect();
        let (mut beta, mut lo, mut hi) = (1.0f64, f64::NEG_INFINITY, f64::INFINITY);
        for _ in 0..100 {
            let mut sum = 0.0;
            for j in 0..n {
                row[j] = if j == i { 0.0 } else { (-d[j] * beta).exp() };
                sum += row[j];
            }
            if sum == 0.0 {
                sum = 1e-8;
            }
            let mut sum_dp = 0.0;
            for j in 0..n {
                row[j] /= sum;
                sum_dp += d[j] * row[j];
            }
            let entropy = sum.ln() + beta * sum_dp;
            let diff = entropy - target;
            if diff.abs() <= 1e-5 {
                break;
            }
            if diff > 0.0 {
                lo = beta;
                beta = if hi.is_finite() {
                    (beta + hi) / 2.0
                } else {
                    beta * 2.0
                };
            } else {
                hi = beta;
                beta = if lo.is_finite() {
                    (beta + lo) / 2.0
                } else {
                    beta / 2.0
                };
            }
        }
    });
    let mut p = vec![0.0; n * n];
    let denom = 2.0 * n as f64;
    p.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        for j in 0..n {
            row[j] = ((cond[i * n + j] + cond[j * n + i]) / denom).max(1e-12);
        }
        row[i] = 0.0;
    });
    p
}

/// KL gradient: grad_i = 4 Σ_j (exag·P_ij − q_ij) w_ij (y_i − y_j), w = 1/(1+|y_i−y_j|²),
/// evaluated in one pass as 4 (exag·A_i − R_i / Z) with A_i = Σ P_ij w_ij (y_i − y_j),
/// R_i = Σ w_ij² (y_i − y_j) and Z = Σ_{i≠j} w_ij.
fn gradient(p: &[f64], y: &[f64], exag: f64, grad: &mut [f64]) {
    let n = y.len() / 2;
    // Structure-of-arrays copies so that the inner loop vectorises.
    let y0: Vec<f64> = (0..n).map(|i| y[2 * i]).collect();
    let y1: Vec<f64> = (0..n).map(|i| y[2 * i + 1]).collect();
    let parts: Vec<[f64; 5]> = (0..n)
        .into_par_iter()
        .map(|i| {
            let (yi0, yi1) = (y0[i], y1[i]);
            let prow = &p[i * n..(i + 1) * n];
            // Four independent lanes per sum so that the loop vectorises.
            const L: usize = 4;
            let mut lanes = [[0.0f64; L]; 5];
            let m = n / L * L;
            for ((pc, ac), bc) in prow[..m]
                .chunks_exact(L)
                .zip(y0[..m].chunks_exact(L))
                .zip(y1[..m].chunks_exact(L))
            {
                for l in 0..L {
                    let (d0, d1) = (yi0 - ac[l], yi1 - bc[l]);
                    let w = 1.0 / (1.0 + d0 * d0 + d1 * d1);
                    let pw = pc[l] * w;
                    let ww = w * w;
                    lanes[0][l] += w;
                    lanes[1][l] += pw * d0;
                    lanes[2][l] += pw * d1;
                    lanes[3][l] += ww * d0;
                    lanes[4][l] += ww * d1;
                }
            }
            let mut acc = [0.0f64; 5];
            for (a, lane) in acc.iter_mut().zip(&lanes) {
                *a = lane.iter().sum();
            }
            // j = i contributes nothing to the sums below except w = 1 (d = 0) to Z.
            for j in m..n {
                let (d0, d1) = (yi0 - y0[j], yi1 - y1[j]);
                let w = 1.0 / (1.0 + d0 * d0 + d1 * d1);
                let pw = prow[j] * w;
                let ww = w * w;
                acc[0] += w;
                acc[1] += pw * d0;
                acc[2] += pw * d1;
                acc[3] += ww * d0;
                acc[4] += ww * d1;
            }
            acc[0] -= 1.0; // remove the j = i term (P_ii = 0, d = 0 elsewhere)
            acc
        })
        .collect();
    let z: f64 = parts.iter().map(|a| a[0]).sum();
    for (i, a) in parts.iter().enumerate() {
        grad[2 * i] = 4.0 * (exag * a[1] - a[3] / z);
        grad[2 * i + 1] = 4.0 * (exag * a[2] - a[4] / z);
    }
}

/// KL(P‖Q) of an embedding `y` (N × 2 row-major) under joint probabilities `p`.
fn kl_divergence(p: &[f64], y: &[f64]) -> f64 {
    let n = y.len() / 2;
    let w = |i: usize, j: usize| {
        let (d0, d1) = (y[2 * i] - y[2 * j], y[2 * i + 1] - y[2 * j + 1]);
        1.0 / (1.0 + d0 * d0 + d1 * d1)
    };
    let z: f64 = (0..n)
        .into_par_iter()
        .map(|i| (0..n).filter(|&j| j != i).map(|j| w(i, j)).sum::<f64>())
        .sum();
    (0..n)
        .into_par_iter()
        .map(|i| {
            (0..n)
                .filter(|&j| j != i)
                .map(|j| {
                    let pij = p[i * n + j];
                    let q = (w(i, j) / z).max(1e-300);
                    if pij > 0.0 { pij * (pij / q).ln() } else { 0.0 }
                })
                .sum::<f64>()
        })
        .sum()
}

/// Project the rows of `data` on their top `k` principal components (data centred;
/// components ordered by decreasing variance; each component's sign fixed so that its
/// largest-magnitude loading is positive). Uses a seeded randomized range finder when
/// `k` is smaller than the dimension (see the module documentation), an exact
/// eigendecomposition of the covariance when the dimension is at most 64.
pub fn pca(data: &Matrix, k: usize, seed: u64) -> Result<Matrix> {
    let (n, d) = (data.rows(), data.cols());
    if k == 0 || k > d || k > n {
        return Err(StatsError::InvalidArgument(format!(
            "PCA to {k} components of {n} points in {d} dimensions"
        )));
    }
    let mut means = vec![0.0; d];
    for i in 0..n {
        for (m, v) in means.iter_mut().zip(data.row(i)) {
            *m += v;
        }
    }
    means.iter_mut().for_each(|m| *m /= n as f64);
    let mut xc = data.as_slice().to_vec();
    xc.par_chunks_mut(d).for_each(|row| {
        for (v, m) in row.iter_mut().zip(&means) {
            *v -= m;
        }
    });

    // Basis V (d × k, column-major in `axes[c]`) of the principal axes.
    let axes: Vec<Vec<f64>> = if d <= 64 {
        // Exact: eigenvectors of XᵀX.
        let mut c = vec![0.0; d * d];
        for i in 0..n {
            let r = &xc[i * d..(i + 1) * d];
            for a in 0..d {
                for b in a..d {
                    c[a * d + b] += r[a] * r[b];
                }
            }
        }
        for a in 0..d {
            for b in 0..a {
                c[a * d + b] = c[b * d + a];
            }
        }
        let (_vals, vecs) = jacobi_eigen(c, d);
        (0..k)
            .map(|c| (0..d).map(|r| vecs[r * d + c]).collect())
            .collect()
    } else {
        // Randomized range finder on X (n × d).
        let l = (k + 10).min(d).min(n);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7C5E_0000_0000_0001);
        let omega: Vec<Vec<f64>> = (0..l)
            .map(|_| (0..d).map(|_| StandardNormal.sample(&mut rng)).collect())
            .collect();
        let mut q = orthonormalize(mul_x(&xc, n, d, &omega)); // l columns of length n
        for _ in 0..6 {
            let z = orthonormalize(mul_xt(&xc, n, d, &q)); // l columns of length d
            q = orthonormalize(mul_x(&xc, n, d, &z));
        }
        // B = Qᵀ X (l × d) as l rows = Xᵀ q_c.
        let b = mul_xt(&xc, n, d, &q);
        // Right singular vectors of B: eigenvectors of BᵀB restricted to span(B rows):
        // via the small l × l matrix B Bᵀ = U S² Uᵀ, V = Bᵀ U S⁻¹.
        let mut bbt = vec![0.0; l * l];
        for a in 0..l {
            for c in a..l {
                let v: f64 = b[a].iter().zip(&b[c]).map(|(x, y)| x * y).sum();
                bbt[a * l + c] = v;
                bbt[c * l + a] = v;
            }
        }
        let (vals, u) = jacobi_eigen(bbt, l);
        (0..k)
            .map(|c| {
                let s = vals[c].max(0.0).sqrt().max(1e-300);
                let mut v = vec![0.0; d];
                for (a, row) in b.iter().enumerate() {
                    let coef = u[a * l + c] / s;
                    for (vi, bi) in v.iter_mut().zip(row) {
                        *vi += coef * bi;
                    }
                }
                v
            })
            .collect()
    };
    let axes: Vec<Vec<f64>> = axes
        .into_iter()
        .map(|mut v| {
            let big = v
                .iter()
                .copied()
                .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            if big < 0.0 {
                v.iter_mut().for_each(|x| *x = -*x);
            }
            v
        })
        .collect();
    let mut out = vec![0.0; n * k];
    out.par_chunks_mut(k).enumerate().for_each(|(i, o)| {
        let r = &xc[i * d..(i + 1) * d];
        for (c, axis) in axes.iter().enumerate() {
            o[c] = r.iter().zip(axis).map(|(a, b)| a * b).sum();
        }
    });
    Matrix::new(n, k, out)
}

/// X (n × d, row-major) times each column in `cols` (length d): columns of length n.
fn mul_x(x: &[f64], n: usize, d: usize, cols: &[Vec<f64>]) -> Vec<Vec<f64>> {
    cols.par_iter()
        .map(|c| {
            (0..n)
                .map(|i| {
                    x[i * d..(i + 1) * d]
                        .iter()
                        .zip(c)
                        .map(|(a, b)| a * b)
                        .sum()
                })
                .collect()
        })
        .collect()
}

/// Xᵀ (d × n) times each column in `cols` (length n): columns of length d.
fn mul_xt(x: &[f64], n: usize, d: usize, cols: &[Vec<f64>]) -> Vec<Vec<f64>> {
    cols.par_iter()
        .map(|c| {
            let mut out = vec![0.0; d];
            for (i, &ci) in c.iter().enumerate().take(n) {
                for (o, v) in out.iter_mut().zip(&x[i * d..(i + 1) * d]) {
                    *o += ci * v;
                }
            }
            out
        })
        .collect()
}

/// Modified Gram–Schmidt (twice, for stability); columns that vanish become zero.
fn orthonormalize(mut cols: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    for _ in 0..2 {
        for a in 0..cols.len() {
            let (done, rest) = cols.split_at_mut(a);
            let v = &mut rest[0];
            for u in done.iter() {
                let dot: f64 = u.iter().zip(v.iter()).map(|(x, y)| x * y).sum();
                v.iter_mut().zip(u).for_each(|(x, y)| *x -= dot * y);
            }
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 1e-300 {
                v.iter_mut().for_each(|x| *x /= norm);
            } else {
                v.iter_mut().for_each(|x| *x = 0.0);
            }
        }
    }
    cols
}

/// Cyclic Jacobi eigendecomposition of a symmetric `m × m` matrix (row-major).
/// Returns eigenvalues in decreasing order and the eigenvectors as columns of a
/// row-major `m × m` matrix in the same order.
fn jacobi_eigen(mut a: Vec<f64>, m: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; m * m];
    for i in 0..m {
        v[i * m + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..m)
            .flat_map(|i| (0..m).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * m + j] * a[i * m + j])
            .sum();
        let total: f64 = a.iter().map(|x| x * x).sum();
        if off <= 1e-30 * total.max(1e-300) {
            break;
        }
        for p in 0..m {
            for q in p + 1..m {
                let apq = a[p * m + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * m + q] - a[p * m + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..m {
                    let (akp, akq) = (a[k * m + p], a[k * m + q]);
                    a[k * m + p] = c * akp - s * akq;
                    a[k * m + q] = s * akp + c * akq;
                }
                for k in 0..m {
                    let (apk, aqk) = (a[p * m + k], a[q * m + k]);
                    a[p * m + k] = c * apk - s * aqk;
                    a[q * m + k] = s * apk + c * aqk;
                }
                for k in 0..m {
                    let (vkp, vkq) = (v[k * m + p], v[k * m + q]);
                    v[k * m + p] = c * vkp - s * vkq;
                    v[k * m + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| a[j * m + j].total_cmp(&a[i * m + i]));
    let vals = order.iter().map(|&i| a[i * m + i]).collect();
    let mut vecs = vec![0.0; m * m];
    for (c, &src) in order.iter().enumerate() {
        for r in 0..m {
            vecs[r * m + c] = v[r * m + src];
        }
    }
    (vals, vecs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_diagonalises() {
        let a = vec![4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 1.0];
        let (vals, vecs) = jacobi_eigen(a.clone(), 3);
        assert!(vals[0] >= vals[1] && vals[1] >= vals[2]);
        for c in 0..3 {
            for r in 0..3 {
                let av: f64 = (0..3).map(|k| a[r * 3 + k] * vecs[k * 3 + c]).sum();
                assert!((av - vals[c] * vecs[r * 3 + c]).abs() < 1e-10);
            }
        }
    }

    #[test]
    fn randomized_pca_matches_exact_on_low_rank_data() {
        // 200 points in 80 dims with 3 dominant directions.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut data = vec![0.0; 200 * 80];
        for i in 0..200 {
            let f: [f64; 3] = [
                10.0 * {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    z
                },
                5.0 * {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    z
                },
                2.0 * {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    z
                },
            ];
            for j in 0..80 {
                let noise: f64 = 0.01 * {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    z
                };
                data[i * 80 + j] = f[j % 3] * if j < 40 { 1.0 } else { -0.5 } + noise;
            }
        }
        let m = Matrix::new(200, 80, data).unwrap();
        let p = pca(&m, 3, 0).unwrap();
        let var: Vec<f64> = (0..3)
            .map(|c| crate::summary::sample_variance(&p.column(c)))
            .collect();
        assert!(var[0] > var[1] && var[1] > var[2]);
        // Total variance is captured.
        let total: f64 = (0..80)
            .map(|c| crate::summary::sample_variance(&m.column(c)))
            .sum();
        assert!((var.iter().sum::<f64>() / total) > 0.999);
    }
}
