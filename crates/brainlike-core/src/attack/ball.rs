//! The ε-balls of the attacks: random starts, ascent steps and projections, all on pixels in
//! [0, 1] without autodiff. The step and projection follow torchattacks 3.5.1 operation by
//! operation (`PGD`, `PGDL2`), so that the same gradients give the same images.

use burn::tensor::{Tensor, TensorData};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Norm;

/// Division guard of the L2 step (torchattacks' `eps_for_division`).
pub const EPS_FOR_DIVISION: f64 = 1e-10;

/// Per-image L2 norms of `t`, `[batch, 1, 1, 1]`.
///
/// # Shapes
/// - input `[batch, 3, s, s]`
pub fn l2_norms(t: Tensor<4>) -> Tensor<4> {
    let b = t.dims()[0];
    let flat = t.flatten::<2>(1, 3); // [batch, 3·s·s]
    (flat.clone() * flat)
        .sum_dim(1)
        .sqrt()
        .reshape([b, 1, 1, 1])
}

/// A start drawn uniformly in the ε-ball around `x` (pixels), clamped to [0, 1].
///
/// L∞: every pixel offset ~ U(−ε, ε) (torchattacks, Wong et al.). L2: a direction uniform on
/// the sphere (normalised Gaussian, Box–Muller) and radius ε·u^(1/d), d = 3·s·s, which is
/// uniform in the ball. Draws come from `rng` on the host, in pixel order.
pub fn random_start(x: Tensor<4>, norm: Norm, eps: f64, rng: &mut ChaCha8Rng) -> Tensor<4> {
    let dims = x.dims();
    let [b, c, h, w] = dims;
    let d = c * h * w;
    let mut v: Vec<f32> = Vec::with_capacity(b * d);
    match norm {
        Norm::Linf => {
            for _ in 0..b * d {
                let u: f64 = rng.random();
                v.push(((2.0 * u - 1.0) * eps) as f32);
            }
        }
        Norm::L2 => {
            for _ in 0..b {
                let mut g: Vec<f64> = Vec::with_capacity(d);
                while g.len() < d {
                    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
                    let u2: f64 = rng.random();
                    let r = (-2.0 * u1.ln()).sqrt();
                    let t = std::f64::consts::TAU * u2;
                    g.push(r * t.cos());
                    if g.len() < d {
                        g.push(r * t.sin());
                    }
                }
                let norm = g.iter().map(|a| a * a).sum::<f64>().sqrt().max(1e-300);
                let u: f64 = rng.random();
                let radius = eps * u.powf(1.0 / d as f64);
                v.extend(g.iter().map(|a| (a / norm * radius) as f32));
            }
        }
    }
    let delta = Tensor::<4>::from_data(TensorData::new(v, dims), &x.device());
    (x + delta).clamp(0.0, 1.0)
}

/// One ascent step from `adv` along gradient `g`, projected onto the ε-ball around `x` and
/// clamped to [0, 1].
///
/// - L∞: `adv + α·sign(g)`, `δ = clamp(· − x, −ε, ε)`, `clamp(x + δ, 0, 1)`.
/// - L2: `adv + α·g/(‖g‖ + 1e-10)`, `δ = (· − x)·min(ε/‖δ‖, 1)`, `clamp(x + δ, 0, 1)`.
///
/// # Shapes
/// - `x`, `adv`, `g` `[batch, 3, s, s]`; output the same
pub fn step(
    x: Tensor<4>,
    adv: Tensor<4>,
    g: Tensor<4>,
    norm: Norm,
    eps: f64,
    alpha: f64,
) -> Tensor<4> {
    match norm {
        Norm::Linf => {
            let moved = adv + g.sign() * alpha;
            let delta = (moved - x.clone()).clamp(-eps, eps);
            (x + delta).clamp(0.0, 1.0)
        }
        Norm::L2 => {
            let g_norm = l2_norms(g.clone()) + EPS_FOR_DIVISION;
            let moved = adv + g / g_norm * alpha;
            let delta = moved - x.clone();
            let d_norm = l2_norms(delta.clone());
            let factor = (d_norm.zeros_like() + eps) / d_norm; // ε/‖δ‖ (inf at δ = 0)
            let factor = factor.clamp_max(1.0);
            (x + delta * factor).clamp(0.0, 1.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn t(v: [f32; 4]) -> Tensor<4> {
        Tensor::from_data(
            TensorData::new(v.to_vec(), [1, 1, 2, 2]),
            &Device::default(),
        )
    }

    fn vals(x: Tensor<4>) -> Vec<f32> {
        x.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn linf_step_by_hand() {
        // x = [0.5, 0.98, 0.02, 0.5], adv = x + [0.1, 0, 0, -0.1], α = 0.1, ε = 0.15,
        // g = [1, 2, -3, 0]: moved = [0.7, 1.08, -0.08, 0.4]; δ clamped to ±0.15 gives
        // [0.15, 0.1, -0.1, -0.1]; x + δ clamped to [0, 1] = [0.65, 1, 0, 0.4].
        let x = t([0.5, 0.98, 0.02, 0.5]);
        let adv = t([0.6, 0.98, 0.02, 0.4]);
        let g = t([1.0, 2.0, -3.0, 0.0]);
        let out = vals(step(x, adv, g, Norm::Linf, 0.15, 0.1));
        let want = [0.65, 1.0, 0.0, 0.4];
        for (a, b) in out.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{out:?} vs {want:?}");
        }
    }

    #[test]
    fn l2_step_by_hand() {
        // g = [3, 4, 0, 0] (‖g‖ = 5), α = 1: moved = adv + [0.6, 0.8, 0, 0]; from adv = x the
        // step has norm 1 > ε = 0.5, so δ is scaled to [0.3, 0.4, 0, 0].
        let x = t([0.2, 0.2, 0.5, 0.5]);
        let g = t([3.0, 4.0, 0.0, 0.0]);
        let out = vals(step(x.clone(), x, g, Norm::L2, 0.5, 1.0));
        let want = [0.5, 0.6, 0.5, 0.5];
        for (a, b) in out.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{out:?} vs {want:?}");
        }
    }
}
