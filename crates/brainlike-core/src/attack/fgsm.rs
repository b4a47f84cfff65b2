//! The fast gradient sign method (Goodfellow, Shlens & Szegedy 2015, "Explaining and
//! harnessing adversarial examples"): one L∞ step of size ε along the sign of the input
//! gradient from the image, clamped to [0, 1] (torchattacks' `FGSM`).

use burn::tensor::{Int, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{AttackLoss, AttackMode, AttackSpec, Attacked, PixelSpace, pgd};
use crate::models::Network;

/// FGSM with radius `eps` (pixel units) on normalised `images` `[batch, 3, s, s]` with
/// `labels` `[batch]`, ascending `loss` with the network in `mode`: PGD with one L∞ step of
/// size ε from the image.
pub fn fgsm(
    model: &Network,
    images: Tensor<4>,
    labels: Tensor<1, Int>,
    eps: f64,
    loss: AttackLoss,
    mode: AttackMode,
    space: &PixelSpace,
) -> Attacked {
    let one_step = AttackSpec {
        loss,
        mode,
        ..AttackSpec::fgsm(eps)
    };
    // No random start: the generator is never drawn from.
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    pgd(model, images, labels, &one_step, space, &mut rng)
}
