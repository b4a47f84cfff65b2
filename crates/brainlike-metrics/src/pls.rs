//! PLS regression (PLS2), NIPALS exactly as scikit-learn's
//! `sklearn.cross_decomposition.PLSRegression(n_components, scale=False)` runs
//! it (scikit-learn 1.x `_pls.py`): centring (no scaling), per component the
//! power method `_get_first_singular_vectors_power_method` (mode "A",
//! `max_iter = 500`, `tol = 1e-6` on the squared change of the x weights,
//! starting from the first non-constant column of the residual Y, stopping
//! after one iteration when Y has one column), `_svd_flip_1d` sign convention,
//! regression-mode deflation of X and Y on the x scores, then
//! `x_rotations = W (Pᵀ W)⁻¹` and `coef = x_rotations Qᵀ`.
//!
//! Speed: the power iterations are run on the cross-product `C = Xₖᵀ Yₖ`
//! (features x targets): the x-weight iterate of scikit-learn,
//! `normalise(Xᵀ Y Yᵀ X w)`, equals `normalise(C (Cᵀ w))`, so every iteration
//! costs `2 p q` instead of `2 n (p + q)`, producing the same sequence (up to
//! round-off) and hence the same iteration count and result. `C` is updated by
//! the exact rank-one identity `C ← C − (tᵀt) p qᵀ` after each deflation.

use crate::error::{Error, Result};
use crate::linalg::{col_means, inverse};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, s};
use serde::{Deserialize, Serialize};

/// PLS regression settings (scikit-learn defaults: 500 iterations, tol 1e-6).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlsRegression {
    /// Number of latent components (Brain-Score uses 25).
    pub n_components: usize,
    /// Maximum power-method iterations per component (500).
    pub max_iter: usize,
    /// Convergence tolerance on `‖w_new − w_old‖²` (1e-6).
    pub tol: f64,
}

impl Default for PlsRegression {
    fn default() -> Self {
        PlsRegression::new(25)
    }
}

/// A fitted PLS model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlsModel {
    /// Feature means of the training data (subtracted before predicting).
    pub x_mean: Array1<f64>,
    /// Target means (the intercept).
    pub y_mean: Array1<f64>,
    /// Regression coefficients, features x targets (scikit-learn's `coef_.T`).
    pub coef: Array2<f64>,
    /// X weights `W`, features x components (`x_weights_`).
    pub x_weights: Array2<f64>,
    /// X loadings `P`, features x components (`x_loadings_`).
    pub x_loadings: Array2<f64>,
    /// Y loadings `Q`, targets x components (`y_loadings_`).
    pub y_loadings: Array2<f64>,
    /// X rotations `W (PᵀW)⁻¹`, features x components (`x_rotations_`).
    pub x_rotations: Array2<f64>,
    /// Power-method iterations per fitted component (`n_iter_`).
    pub n_iter: Vec<usize>,
}

impl PlsRegression {
    /// `n_components` with scikit-learn's defaults otherwise.
    pub fn new(n_components: usize) -> Self {
        PlsRegression {
            n_components,
            max_iter: 500,
            tol: 1e-6,
        }
    }

    /// Fit on `x` (samples x features) and `y` (samples x targets).
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Result<PlsModel> {
        let (n, p) = x.dim();
        let q = y.ncols();
        if y.nrows() != n {
            return Err(Error::shape("PLS: rows of y (samples)", n, y.nrows()));
        }
        if n < 2 || q == 0 {
            return Err(Error::Invalid(format!(
                "PLS needs >= 2 samples and >= 1 target, got n={n}, q={q}"
            )));
        }
        let kmax = self.n_components;
        if kmax == 0 || kmax > n.min(p) {
            return Err(Error::Invalid(format!(
                "n_components must be in [1, min(n_samples, n_features) = {}], got {kmax}",
                n.min(p)
            )));
        }
        let eps = f64::EPSILON;
        let x_mean = col_means(x);
        let y_mean = col_means(y);
        let mut xk = &x - &x_mean;
        let mut yk = &y - &y_mean;
        let mut c = xk.t().dot(&yk); // p x q
        let mut w_all = Array2::<f64>::zeros((p, kmax));
        let mut p_all = Array2::<f64>::zeros((p, kmax));
        let mut q_all = Array2::<f64>::zeros((q, kmax));
        let mut n_iter = Vec::with_capacity(kmax);
        for k in 0..kmax {
            // columns of Y that are all ~0 are set to exactly 0
            for j in 0..q {
                if yk.column(j).iter().all(|v| v.abs() < 10.0 * eps) {
                    yk.column_mut(j).fill(0.0);
                    c.column_mut(j).fill(0.0);
                }
            }
            let Some(j0) = (0..q).find(|&j| yk.column(j).iter().any(|v| v.abs() > eps)) else {
                break; // "y residual is constant": remaining components are zero
            };
            let yj = yk.column(j0);
            let mut xw: Array1<f64> = c.column(j0).to_owned() / yj.dot(&yj);
            normalise(&mut xw, eps);
            let mut iters = 1;
            if q > 1 {
                for i in 1..self.max_iter {
                    let u = c.t().dot(&xw);
                    let mut v = c.dot(&u);
                    normalise(&mut v, eps);
                    let diff: f64 = v.iter().zip(&xw).map(|(a, b)| (a - b) * (a - b)).sum();
                    xw = v;
                    iters = i + 1;
                    if diff < self.tol {
                        break;
                    }
                }
            }
            // sign flip: the largest |x weight| is positive (_svd_flip_1d)
            let imax = argmax_abs(xw.view());
            let sign = xw[imax].signum() * if xw[imax] == 0.0 { 0.0 } else { 1.0 };
            xw *= sign;
            let t = xk.dot(&xw);
            let tt = t.dot(&t);
            let x_load = xk.t().dot(&t) / tt;
            let y_load = yk.t().dot(&t) / tt;
            deflate(&mut xk, t.view(), x_load.view());
            deflate(&mut yk, t.view(), y_load.view());
            // C_{k+1} = X_{k+1}ᵀ Y_{k+1} = C_k − (tᵀt) p qᵀ
            for (i, mut row) in c.axis_iter_mut(Axis(0)).enumerate() {
                let f = tt * x_load[i];
                row.scaled_add(-f, &y_load);
            }
            w_all.column_mut(k).assign(&xw);
            p_all.column_mut(k).assign(&x_load);
            q_all.column_mut(k).assign(&y_load);
            n_iter.push(iters);
        }
        let kf = n_iter.len();
        let (w, pl, ql) = (
            w_all.slice(s![.., ..kf]),
            p_all.slice(s![.., ..kf]),
            q_all.slice(s![.., ..kf]),
        );
        let ptw = pl.t().dot(&w);
        let inv = inverse(ptw.view())
            .ok_or_else(|| Error::Invalid("PLS: Pᵀ W is singular (degenerate data)".to_string()))?;
        let mut x_rotations = Array2::<f64>::zeros((p, kmax));
        x_rotations.slice_mut(s![.., ..kf]).assign(&w.dot(&inv));
        let coef = x_rotations.slice(s![.., ..kf]).dot(&ql.t());
        Ok(PlsModel {
            x_mean,
            y_mean,
            coef,
            x_weights: w_all,
            x_loadings: p_all,
            y_loadings: q_all,
            x_rotations,
            n_iter,
        })
    }
}

fn normalise(v: &mut Array1<f64>, eps: f64) {
    let nrm = v.dot(v).sqrt() + eps;
    v.mapv_inplace(|a| a / nrm);
}

fn argmax_abs(v: ArrayView1<'_, f64>) -> usize {
    let mut best = 0;
    for (i, a) in v.iter().enumerate() {
        if a.abs() > v[best].abs() {
            best = i;
        }
    }
    best
}

fn deflate(m: &mut Array2<f64>, t: ArrayView1<'_, f64>, load: ArrayView1<'_, f64>) {
    for (i, mut row) in m.axis_iter_mut(Axis(0)).enumerate() {
        row.scaled_add(-t[i], &load);
    }
}

impl PlsModel {
    /// Predict targets for `x` (samples x features): `(x − x_mean) coef + y_mean`.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if x.ncols() != self.x_mean.len() {
            return Err(Error::shape(
                "PLS predict: features",
                self.x_mean.len(),
                x.ncols(),
            ));
        }
        let xc = &x - &self.x_mean;
        Ok(xc.dot(&self.coef) + &self.y_mean)
    }
}
