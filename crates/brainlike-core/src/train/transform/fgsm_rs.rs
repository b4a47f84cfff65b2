//! FGSM adversarial training from a random start (Wong, Rice & Kolter 2020, "Fast is better
//! than free: revisiting adversarial training"): δ ~ U(−ε, ε) (clamped so that x + δ stays in
//! [0, 1]), one step δ ← clamp(δ + α·sign(∇), −ε, ε) with α = 1.25ε, x + δ clamped to [0, 1].
//! It is PGD-1 with a random start ([`AttackTransform`]).

use super::AttackTransform;
use crate::attack::{AttackLoss, AttackMode, AttackSpec, Norm};
use crate::data::batch::Preprocess;

/// The FGSM-RS transform: radius `eps`, step `alpha` (Wong et al.: 1.25·ε), the network in
/// `mode` while attacking (Wong et al.: train), images normalised by `pre`, random starts from
/// `seed`.
pub fn fgsm_rs(
    eps: f64,
    alpha: f64,
    mode: AttackMode,
    loss: AttackLoss,
    pre: &Preprocess,
    seed: u64,
    log_clean_loss: bool,
) -> AttackTransform {
    let spec = AttackSpec {
        norm: Norm::Linf,
        eps,
        steps: 1,
        step_size: alpha,
        random_start: true,
        loss,
        mode,
    };
    AttackTransform::new("fgsm_rs", spec, pre, seed, log_clean_loss)
}
