//! Projected gradient descent (Madry, Makelov, Schmidt, Tsipras & Vladu 2018, "Towards deep
//! learning models resistant to adversarial attacks"), under L∞ or L2, in pixel space.
//!
//! ```text
//! p0  = pixels of the batch (un-normalised with the Preprocess mean/std)
//! p   = p0, or a random start in the ε-ball around p0 clamped to [0, 1]
//! k×: g = ∇_p loss(model(normalise(p)), y);  p = project(p + α·step(g))   (ball.rs)
//! out = normalise(p)
//! ```
//!
//! With `random_start = false` this is torchattacks' `PGD` / `PGDL2` operation by operation
//! (checked in `tests/attack.rs` against its images).

use burn::tensor::{Int, Tensor};
use rand_chacha::ChaCha8Rng;

use super::{AttackSpec, Attacked, PixelSpace, ball, input_gradient};
use crate::models::Network;

/// PGD on normalised `images` `[batch, 3, s, s]` with `labels` `[batch]`; `rng` draws the
/// random start (untouched without one). ε = 0 returns the images themselves, unchanged, with
/// the clean loss as both losses; 0 steps return the start point.
pub fn pgd(
    model: &Network,
    images: Tensor<4>,
    labels: Tensor<1, Int>,
    spec: &AttackSpec,
    space: &PixelSpace,
    rng: &mut ChaCha8Rng,
) -> Attacked {
    let autodiff = images.is_autodiff();
    let labels = labels.inner();
    let x = space.to_pixels(images.clone().detach().inner()); // [batch, 3, s, s]
    if spec.eps == 0.0 {
        let (_, loss) = input_gradient(model, x, labels, space, spec.loss, spec.mode);
        return Attacked {
            images,
            first_loss: loss.clone(),
            last_loss: loss,
        };
    }
    let mut adv = if spec.random_start {
        ball::random_start(x.clone(), spec.norm, spec.eps, rng)
    } else {
        x.clone()
    };
    if spec.steps == 0 {
        // No step: the start point (the images, or a random start).
        let (_, loss) = input_gradient(model, adv.clone(), labels, space, spec.loss, spec.mode);
        let out = space.normalise(adv);
        return Attacked {
            images: if autodiff { out.autodiff() } else { out },
            first_loss: loss.clone(),
            last_loss: loss,
        };
    }
    let mut first_loss = None;
    let mut last_loss = None;
    for _ in 0..spec.steps {
        let (g, loss) = input_gradient(
            model,
            adv.clone(),
            labels.clone(),
            space,
            spec.loss,
            spec.mode,
        );
        first_loss.get_or_insert_with(|| loss.clone());
        last_loss = Some(loss);
        adv = ball::step(x.clone(), adv, g, spec.norm, spec.eps, spec.step_size);
    }
    let out = space.normalise(adv);
    Attacked {
        images: if autodiff { out.autodiff() } else { out },
        first_loss: first_loss.expect("at least one step"),
        last_loss: last_loss.expect("at least one step"),
    }
}
