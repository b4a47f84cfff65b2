//! Dense linear-algebra helpers on `ndarray` (f64): conversion from f32/f64
//! inputs, a symmetric Gram product that computes only the upper blocks (in
//! parallel with rayon), and a small pivoted inverse.

use ndarray::{Array1, Array2, ArrayView2, Axis, s};
use rayon::prelude::*;

/// Element types accepted as features (f32 or f64); everything is computed in f64.
pub trait Real: Copy + Send + Sync + Into<f64> + 'static {}
impl Real for f32 {}
impl Real for f64 {}

/// Copy a matrix of `f32`/`f64` into a new f64 matrix (standard layout).
pub fn to_f64<T: Real>(x: ArrayView2<'_, T>) -> Array2<f64> {
    x.mapv(|v| v.into())
}

/// Gram matrix `X Xᵀ` (rows x rows). Only blocks on and above the diagonal are
/// multiplied (about half the flops of a full product), blocks run in parallel.
pub fn gram(x: ArrayView2<'_, f64>) -> Array2<f64> {
    let n = x.nrows();
    if n <= 256 {
        return x.dot(&x.t());
    }
    let nb = 8usize.min(n.div_ceil(128));
    let bs = n.div_ceil(nb);
    let tasks: Vec<(usize, usize)> = (0..nb)
        .flat_map(|i| (i..nb).map(move |j| (i, j)))
        .filter(|&(i, j)| i * bs < n && j * bs < n)
        .collect();
    let blocks: Vec<((usize, usize), Array2<f64>)> = tasks
        .into_par_iter()
        .map(|(i, j)| {
            let a = x.slice(s![i * bs..((i + 1) * bs).min(n), ..]);
            let b = x.slice(s![j * bs..((j + 1) * bs).min(n), ..]);
            ((i, j), a.dot(&b.t()))
        })
        .collect();
    let mut g = Array2::<f64>::zeros((n, n));
    for ((i, j), blk) in blocks {
        let (r0, c0) = (i * bs, j * bs);
        let (r1, c1) = (r0 + blk.nrows(), c0 + blk.ncols());
        g.slice_mut(s![r0..r1, c0..c1]).assign(&blk);
        if i != j {
            g.slice_mut(s![c0..c1, r0..r1]).assign(&blk.t());
        }
    }
    g
}

/// Column means of a matrix.
pub fn col_means(x: ArrayView2<'_, f64>) -> Array1<f64> {
    x.mean_axis(Axis(0))
        .unwrap_or_else(|| Array1::zeros(x.ncols()))
}

/// Inverse of a small square matrix by Gauss–Jordan elimination with partial
/// pivoting. Returns `None` when singular.
pub fn inverse(a: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
    let n = a.nrows();
    let mut m = a.to_owned();
    let mut inv = Array2::<f64>::eye(n);
    let scale = a.iter().fold(0.0f64, |acc, v| acc.max(v.abs())).max(1e-300);
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| m[[i, col]].abs().total_cmp(&m[[j, col]].abs()))?;
        if m[[piv, col]].abs() <= 1e-13 * scale {
            return None;
        }
        if piv != col {
            for k in 0..n {
                m.swap([piv, k], [col, k]);
                inv.swap([piv, k], [col, k]);
            }
        }
        let d = m[[col, col]];
        for k in 0..n {
            m[[col, k]] /= d;
            inv[[col, k]] /= d;
        }
        for r in 0..n {
            if r != col {
                let f = m[[r, col]];
                if f != 0.0 {
                    for k in 0..n {
                        m[[r, k]] -= f * m[[col, k]];
                        inv[[r, k]] -= f * inv[[col, k]];
                    }
                }
            }
        }
    }
    Some(inv)
}

/// Cholesky factor `L` (lower triangular, `A = L Lᵀ`) of a symmetric positive
/// definite matrix. Returns `None` when `A` is not positive definite.
pub fn cholesky(a: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let lj = l.row(j).to_owned();
        let d = a[[j, j]] - lj.slice(s![..j]).dot(&lj.slice(s![..j]));
        if d.is_nan() || d <= 0.0 {
            return None;
        }
        let djj = d.sqrt();
        l[[j, j]] = djj;
        for i in j + 1..n {
            let v = a[[i, j]] - l.row(i).slice(s![..j]).dot(&lj.slice(s![..j]));
            l[[i, j]] = v / djj;
        }
    }
    Some(l)
}

/// Solve `L Lᵀ x = b` given the Cholesky factor `L` of [`cholesky`].
pub fn cholesky_solve(l: ArrayView2<'_, f64>, b: &[f64]) -> Vec<f64> {
    let n = l.nrows();
    let mut y = b.to_vec();
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[[i, k]] * y[k]).sum();
        y[i] = (y[i] - s) / l[[i, i]];
    }
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[[k, i]] * y[k]).sum();
        y[i] = (y[i] - s) / l[[i, i]];
    }
    y
}

/// Per-column Pearson correlation between two matrices of the same shape
/// (samples x columns). NaN for constant columns.
pub fn columnwise_pearson(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Vec<f64> {
    assert_eq!(a.dim(), b.dim());
    let ma = col_means(a);
    let mb = col_means(b);
    let q = a.ncols();
    let mut sab = vec![0.0; q];
    let mut saa = vec![0.0; q];
    let mut sbb = vec![0.0; q];
    for (ra, rb) in a.rows().into_iter().zip(b.rows()) {
        for j in 0..q {
            let da = ra[j] - ma[j];
            let db = rb[j] - mb[j];
            sab[j] += da * db;
            saa[j] += da * da;
            sbb[j] += db * db;
        }
    }
    (0..q)
        .map(|j| {
            if saa[j] == 0.0 || sbb[j] == 0.0 {
                f64::NAN
            } else {
                sab[j] / (saa[j].sqrt() * sbb[j].sqrt())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_gram_matches_dot() {
        let n = 300;
        let x = Array2::from_shape_fn((n, 7), |(i, j)| ((i * 31 + j * 17) % 13) as f64 - 6.0);
        let g = gram(x.view());
        let r = x.dot(&x.t());
        assert!(g.iter().zip(r.iter()).all(|(a, b)| (a - b).abs() < 1e-9));
    }

    #[test]
    fn cholesky_solves() {
        let a = ndarray::arr2(&[[4.0, 1.0, 0.5], [1.0, 3.0, 1.0], [0.5, 1.0, 2.0]]);
        let l = cholesky(a.view()).unwrap();
        let x = cholesky_solve(l.view(), &[1.0, 2.0, 3.0]);
        let ax = a.dot(&ndarray::arr1(&x));
        for (v, w) in ax.iter().zip([1.0, 2.0, 3.0]) {
            assert!((v - w).abs() < 1e-12);
        }
        assert!(cholesky(ndarray::arr2(&[[1.0, 2.0], [2.0, 1.0]]).view()).is_none());
    }

    #[test]
    fn inverse_works() {
        let a = ndarray::arr2(&[[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]]);
        let inv = inverse(a.view()).unwrap();
        let id = a.dot(&inv);
        for i in 0..3 {
            for j in 0..3 {
                assert!((id[[i, j]] - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
    }
}
