//! Multinomial (softmax) logistic regression with L2 penalty, fit by L-BFGS,
//! and a z-scoring standardiser.
//!
//! The objective is scikit-learn's `LogisticRegression(C, solver="lbfgs")`
//! multinomial objective (scikit-learn >= 1.1, `LinearModelLoss`):
//! `f(W, b) = (1/n) Σᵢ [log Σₖ exp(zᵢₖ) − zᵢ,yᵢ] + ‖W‖² / (2 C n)`,
//! `zᵢ = W xᵢ + b`, intercepts not penalised. It is strictly convex in `W`
//! and the fitted probabilities are unique, so a tightly converged fit matches
//! scikit-learn's probabilities (tested to 1e-4 against sklearn run with a
//! tight tolerance). Brain-Score's behavioural read-out (`ProbabilitiesMapping`)
//! standardises features ([`Standardizer`], as `StandardScaler`) and uses
//! multinomial logistic regression with `C = 1e-3`.

use crate::error::{Error, Result};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Z-scoring with training statistics (`sklearn.preprocessing.StandardScaler`:
/// population std, constant features get std 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Feature means.
    pub mean: Array1<f64>,
    /// Feature standard deviations (ddof 0; 0 replaced by 1).
    pub std: Array1<f64>,
}

impl Standardizer {
    /// Fit on samples x features.
    pub fn fit(x: ArrayView2<'_, f64>) -> Self {
        let mean = crate::linalg::col_means(x);
        let std = x
            .std_axis(Axis(0), 0.0)
            .mapv(|s| if s == 0.0 { 1.0 } else { s });
        Standardizer { mean, std }
    }
    /// `(x − mean) / std`.
    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        (&x - &self.mean) / &self.std
    }
}

/// Settings of the multinomial logistic regression.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegression {
    /// Inverse regularisation strength (sklearn's `C`).
    pub c: f64,
    /// Maximum L-BFGS iterations.
    pub max_iter: usize,
    /// Stop when the max-abs gradient is below this.
    pub gtol: f64,
}

impl Default for LogisticRegression {
    fn default() -> Self {
        LogisticRegression {
            c: 1.0,
            max_iter: 2000,
            gtol: 1e-9,
        }
    }
}

/// A fitted softmax model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    /// Weights, classes x features.
    pub coef: Array2<f64>,
    /// Intercepts, one per class.
    pub intercept: Array1<f64>,
    /// Iterations used.
    pub n_iter: usize,
}

fn softmax_rows(z: &mut Array2<f64>) -> Vec<f64> {
    // returns log-sum-exp per row, z becomes probabilities
    let mut lse = Vec::with_capacity(z.nrows());
    for mut row in z.axis_iter_mut(Axis(0)) {
        let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        row.mapv_inplace(|v| (v - m).exp());
        let s = row.sum();
        row.mapv_inplace(|v| v / s);
        lse.push(m + s.ln());
    }
    lse
}

impl LogisticRegression {
    /// Fit on `x` (samples x features) with class indices `y` in `0..n_classes`.
    pub fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        y: &[usize],
        n_classes: usize,
    ) -> Result<LogisticModel> {
        let (n, d) = x.dim();
        if y.len() != n {
            return Err(Error::shape("logistic: labels", n, y.len()));
        }
        if n_classes < 2 || y.iter().any(|&c| c >= n_classes) {
            return Err(Error::Invalid(format!(
                "labels must be in 0..{n_classes} with >= 2 classes"
            )));
        }
        if self.c <= 0.0 {
            return Err(Error::Invalid(format!("C must be > 0, got {}", self.c)));
        }
        let k = n_classes;
        let nf = n as f64;
        let lam = 1.0 / (self.c * nf);
        // theta = [W (k x d) row-major, b (k)]
        let eval = |theta: &[f64]| -> (f64, Vec<f64>) {
            let w = ArrayView2::from_shape((k, d), &theta[..k * d]).unwrap();
            let b = &theta[k * d..];
            let mut z = x.dot(&w.t());
            for mut row in z.axis_iter_mut(Axis(0)) {
                for (v, bb) in row.iter_mut().zip(b) {
                    *v += bb;
                }
            }
            let mut loss = 0.0;
            for (i, &yi) in y.iter().enumerate() {
                loss -= z[[i, yi]];
            }
            let lse = softmax_rows(&mut z);
            loss += lse.iter().sum::<f64>();
            for (i, &yi) in y.iter().enumerate() {
                z[[i, yi]] -= 1.0;
            }
            // z is now P − Y
            let gw = z.t().dot(&x) / nf + &(&w * lam);
            let gb = z.sum_axis(Axis(0)) / nf;
            let f = loss / nf + 0.5 * lam * w.iter().map(|v| v * v).sum::<f64>();
            let mut g = gw.into_raw_vec_and_offset().0;
            g.extend(gb.iter());
            (f, g)
        };
        let theta0 = vec![0.0; k * (d + 1)];
        let (theta, n_iter) = lbfgs(eval, theta0, self.max_iter, self.gtol);
        let coef = Array2::from_shape_vec((k, d), theta[..k * d].to_vec()).expect("shape");
        let intercept = Array1::from(theta[k * d..].to_vec());
        Ok(LogisticModel {
            coef,
            intercept,
            n_iter,
        })
    }
}

impl LogisticModel {
    /// Class probabilities, samples x classes.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if x.ncols() != self.coef.ncols() {
            return Err(Error::shape(
                "logistic predict: features",
                self.coef.ncols(),
                x.ncols(),
            ));
        }
        let mut z = x.dot(&self.coef.t()) + &self.intercept;
        softmax_rows(&mut z);
        Ok(z)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimise with L-BFGS (memory 10, backtracking Armijo line search).
/// Returns the minimiser and the iteration count.
pub(crate) fn lbfgs<F: Fn(&[f64]) -> (f64, Vec<f64>)>(
    eval: F,
    mut x: Vec<f64>,
    max_iter: usize,
    gtol: f64,
) -> (Vec<f64>, usize) {
    let m = 10;
    let (mut f, mut g) = eval(&x);
    let mut hist: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::new();
    let mut it = 0;
    while it < max_iter {
        let gmax = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        if gmax < gtol {
            break;
        }
        it += 1;
        // two-loop recursion
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(hist.len());
        for (s, yv, rho) in hist.iter().rev() {
            let a = rho * dot(s, &q);
            for (qi, yi) in q.iter_mut().zip(yv) {
                *qi -= a * yi;
            }
            alphas.push(a);
        }
        let gamma = match hist.back() {
            Some((s, yv, _)) => dot(s, yv) / dot(yv, yv),
            None => 1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300),
        };
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, yv, rho), a) in hist.iter().zip(alphas.iter().rev()) {
            let bcoef = rho * dot(yv, &q);
            for (qi, si) in q.iter_mut().zip(s) {
                *qi += (a - bcoef) * si;
            }
        }
        // direction p = −q
        let mut gd = -dot(&g, &q);
        if gd >= 0.0 {
            // not a descent direction: reset to steepest descent
            hist.clear();
            q = g.clone();
            let sc = 1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
            q.iter_mut().for_each(|v| *v *= sc);
            gd = -dot(&g, &q);
        }
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..60 {
            let xn: Vec<f64> = x.iter().zip(&q).map(|(xi, qi)| xi - step * qi).collect();
            let (fn_, gn) = eval(&xn);
            if fn_ <= f + 1e-4 * step * gd {
                accepted = Some((xn, fn_, gn));
                break;
            }
            step *= 0.5;
        }
        let Some((xn, fn_, gn)) = accepted else {
            break; // no decrease possible: at the numerical optimum
        };
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let yv: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &yv);
        if sy > 1e-300 {
            if hist.len() == m {
                hist.pop_front();
            }
            hist.push_back((s, yv, 1.0 / sy));
        }
        let converged_f = (f - fn_).abs() <= 1e-16 * f.abs().max(1.0);
        x = xn;
        f = fn_;
        g = gn;
        if converged_f && g.iter().fold(0.0f64, |a, v| a.max(v.abs())) < gtol.sqrt() {
            break;
        }
    }
    (x, it)
}
