//! The composite loss of Federer et al. (2019), Eq. 1:
//!
//! `cost = CE + λ · Σ_k (d_model(a_k, b_k) − d_V1(a_k, b_k))²`
//!
//! over a batch of teacher pairs k, with `d_model = 1 − cos` of the flattened tapped activations
//! for the two stimuli. λ is re-set every step so that the teacher term is a constant ratio r of
//! the cross-entropy: `λ = r · CE / T` with CE and T detached (so the ratio is exactly r and
//! the gradient of the teacher term is scaled, not redirected); or λ is static (appendix A.1).
//! The authors' released code uses `|d − d̂|` instead of the square: [`Penalty::Absolute`].

use burn::tensor::{Int, Tensor};

use crate::config::{LambdaMode, Penalty, TeacherConfig};

/// Guard against division by a vanishing teacher term.
pub const EPS: f64 = 1e-12;

pub use super::objective::cross_entropy;

/// Cosine distances `1 − cos(x_a, x_b)` between rows `a` and `b` of `acts` `[stimuli, features]`.
pub fn pair_cosine_distances(acts: Tensor<2>, a: Tensor<1, Int>, b: Tensor<1, Int>) -> Tensor<1> {
    let norm = (acts.clone() * acts.clone())
        .sum_dim(1)
        .sqrt()
        .clamp_min(1e-12); // [stimuli, 1]
    let unit = acts / norm; // rows of unit length
    let ua = unit.clone().select(0, a); // [pairs, features]
    let ub = unit.select(0, b);
    let cos = (ua * ub).sum_dim(1).squeeze_dim::<1>(1); // [pairs]
    cos.neg() + 1.0
}

/// The teacher term `Σ_k penalty(d_model_k − d_V1_k)`; shape `[1]`.
pub fn teacher_term(d_model: Tensor<1>, d_teacher: Tensor<1>, penalty: Penalty) -> Tensor<1> {
    let diff = d_model - d_teacher;
    match penalty {
        Penalty::Squared => (diff.clone() * diff).sum(),
        Penalty::Absolute => diff.abs().sum(),
    }
}

/// λ for this step, as a detached `[1]` tensor (no host synchronisation): `r·CE/T` in the
/// ratio mode; in the static mode `static_lambda`, or when that is 0 the ratio rule (the
/// caller freezes the first step's value: "init r", appendix A.1).
pub fn lambda(cfg: &TeacherConfig, ce: &Tensor<1>, term: &Tensor<1>) -> Tensor<1> {
    if cfg.lambda_mode == LambdaMode::Static && cfg.static_lambda > 0.0 {
        return ce.clone().detach().zeros_like() + cfg.static_lambda;
    }
    (ce.clone().detach() * cfg.ratio) / (term.clone().detach().clamp_min(EPS))
}

/// λ as plain numbers (the same rule as [`lambda`], for reports and tests).
pub fn lambda_value(cfg: &TeacherConfig, ce: f64, term: f64) -> f64 {
    if cfg.lambda_mode == LambdaMode::Static && cfg.static_lambda > 0.0 {
        return cfg.static_lambda;
    }
    cfg.ratio * ce / term.max(EPS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn t1(v: &[f32], d: &Device) -> Tensor<1> {
        Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), d)
    }

    fn i1(v: &[i64], d: &Device) -> Tensor<1, Int> {
        Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), d)
    }

    fn scalar(t: Tensor<1>) -> f64 {
        t.into_scalar::<f64>()
    }

    #[test]
    fn cross_entropy_by_hand() {
        let d = Device::default();
        // logits [0, ln 3] -> p = [1/4, 3/4]; target 1 -> -ln(3/4); target 0 -> -ln(1/4)
        let logits = Tensor::<2>::from_data(
            TensorData::new(vec![0.0f32, 3f32.ln(), 0.0, 3f32.ln()], [2, 2]),
            &d,
        );
        let ce = scalar(cross_entropy(logits, i1(&[1, 0], &d)));
        let want = (-(0.75f64).ln() - (0.25f64).ln()) / 2.0;
        assert!((ce - want).abs() < 1e-6, "{ce} vs {want}");
    }

    #[test]
    fn cosine_distances_and_teacher_term_by_hand() {
        let d = Device::default();
        // rows: e1, e2, (1,1)/sqrt2 * 3 (scale must not matter), -e1
        let acts = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.0, 2.0, 3.0, 3.0, -1.0, 0.0], [4, 2]),
            &d,
        );
        let dm = pair_cosine_distances(acts, i1(&[0, 0, 0, 1], &d), i1(&[1, 2, 3, 2], &d));
        let got: Vec<f32> = dm.clone().into_data().try_to_vec::<f32>().unwrap();
        let s = 1.0 - std::f32::consts::FRAC_1_SQRT_2;
        let want = [1.0, s, 2.0, s];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{got:?}");
        }
        let target = t1(&[0.5, 0.0, 2.5, 1.0], &d);
        // squared: 0.25 + s^2 + 0.25 + (1-s)^2 ; absolute: 0.5 + s + 0.5 + (1 - s) = 2
        let sq = scalar(teacher_term(dm.clone(), target.clone(), Penalty::Squared));
        let want_sq = 0.25 + (s * s) as f64 + 0.25 + ((1.0 - s) * (1.0 - s)) as f64;
        assert!((sq - want_sq).abs() < 1e-5, "{sq} vs {want_sq}");
        let ab = scalar(teacher_term(dm, target, Penalty::Absolute));
        assert!((ab - 2.0).abs() < 1e-5, "{ab}");
    }

    #[test]
    fn lambda_keeps_the_ratio() {
        let d = Device::default();
        let cfg = TeacherConfig {
            ratio: 0.1,
            ..TeacherConfig::default()
        };
        let ce = t1(&[4.6], &d);
        let term = t1(&[23.0], &d);
        let lam = lambda(&cfg, &ce, &term);
        let weighted = scalar(lam.clone() * term.clone());
        assert!((weighted / 4.6 - 0.1).abs() < 1e-6);
        assert!((scalar(lam) - lambda_value(&cfg, 4.6, 23.0)).abs() < 1e-6);
        let st = TeacherConfig {
            lambda_mode: LambdaMode::Static,
            static_lambda: 2.5,
            ..cfg.clone()
        };
        assert_eq!(lambda_value(&st, 4.6, 23.0), 2.5);
        assert!((scalar(lambda(&st, &ce, &term)) - 2.5).abs() < 1e-6);
        // A vanishing teacher term does not blow up to inf/NaN.
        let zero = t1(&[0.0], &d);
        assert!(scalar(lambda(&cfg, &ce, &zero)).is_finite());
    }

    #[test]
    fn ratio_lambda_is_detached_so_gradient_scales() {
        // d/dx [ce + λ·T(x)] with λ = r·ce/T detached equals r·ce/T · dT/dx.
        let d = Device::default().autodiff();
        let cfg = TeacherConfig {
            ratio: 0.5,
            ..TeacherConfig::default()
        };
        let x = t1(&[3.0], &d).require_grad();
        let term = (x.clone() * x.clone()).sum(); // T = x^2 = 9, dT/dx = 6
        let ce = t1(&[2.0], &d);
        let lam = lambda(&cfg, &ce, &term); // 0.5 * 2 / 9
        let loss = ce + lam * term;
        let grads = loss.backward();
        let g = x.grad(&grads).unwrap().into_scalar::<f64>();
        assert!((g - 0.5 * 2.0 / 9.0 * 6.0).abs() < 1e-5, "{g}");
    }
}
