//! Adversarial attacks on a [`Network`]: PGD under L∞ and L2 ([`pgd`]) and FGSM ([`fgsm`]),
//! with robust evaluation ([`robust_batch`]).
//!
//! The batch holds normalised images (what the network sees). As MadryLab's `robustness` does,
//! every attack un-normalises them with the [`Preprocess`] mean and standard deviation
//! ([`PixelSpace`]), perturbs, projects onto the ε-ball and clamps to the valid pixel range
//! [0, 1] in pixel space, and re-normalises before each forward pass. ε and the step size are
//! therefore in pixel units (8/255 ≈ 0.0314 for the usual CIFAR L∞ budget).
//!
//! Gradients with respect to the input come from Burn's autodiff: the model must live on an
//! autodiff device. Each gradient evaluation runs its own forward and backward pass; the
//! [`burn::tensor::Gradients`] it produces (parameter gradients included) are dropped after the
//! input gradient is read, so nothing of the attack reaches a training step's optimiser (Burn
//! keeps gradients in the container `backward` returns, never in the parameters).
//!
//! Mode: [`AttackMode::Eval`] runs the attack's passes on a frozen copy of the network inside
//! [`eval_scope`](crate::models::layers::mode::eval_scope) ([`attacked`]: BatchNorm with
//! running statistics and no update, dropout and drop path off, no parameter gradients
//! computed), as `robustness`' `AttackerModel` does (it calls `self.eval()` while making the
//! adversarial example, also during training) and as torchattacks does by default; it is the
//! default for PGD training and always used for robust evaluation. It keeps the attack from
//! touching the training state: no BatchNorm statistics updated by the k attack passes, no
//! dropout masks drawn from the device's generator. [`AttackMode::Train`] attacks the network
//! as the training step runs it (Wong et al.'s fast adversarial training keeps `model.train()`
//! throughout; free training's gradient comes from the training pass itself). For CORnet-Z with
//! the decoder head (no BatchNorm, no dropout) the two modes compute the same thing.
//!
//! | file | what |
//! |---|---|
//! | `pgd.rs` | projected gradient descent (Madry et al. 2018), L∞ and L2, optional random start |
//! | `fgsm.rs` | the fast gradient sign method (Goodfellow et al. 2015) |
//! | `ball.rs` | random starts in the ε-balls, steps and projections |

pub mod ball;
pub mod fgsm;
pub mod pgd;

pub use fgsm::fgsm;
pub use pgd::pgd;

use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::batch::Preprocess;
use crate::error::{Error, Result};
use crate::models::Network;
use crate::models::layers::mode::eval_scope;
use crate::train::objective::cross_entropy::cross_entropy;

/// The norm of the threat model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Norm {
    /// ‖δ‖∞ ≤ ε; steps along the sign of the gradient.
    Linf,
    /// ‖δ‖₂ ≤ ε per image; steps along the L2-normalised gradient.
    L2,
}

/// The loss the attack ascends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackLoss {
    /// Mean cross-entropy of the true label (torchattacks' and `robustness`' default).
    CrossEntropy,
    /// Mean margin `max_{j≠y} z_j − z_y` of the logits (Carlini–Wagner's, untargeted).
    Margin,
}

/// How the network runs while it is attacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackMode {
    /// Evaluation mode (running BatchNorm statistics, not updated; no dropout).
    Eval,
    /// The mode of the device (training on an autodiff device).
    Train,
}

/// One attack: threat model, budget and steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackSpec {
    /// Threat model.
    pub norm: Norm,
    /// Radius of the ball, pixel units (images in [0, 1]).
    pub eps: f64,
    /// Gradient steps (1 with `step_size = eps` and no random start is FGSM).
    pub steps: usize,
    /// Step size α, pixel units.
    pub step_size: f64,
    /// Start uniformly at random in the ε-ball (clamped to [0, 1]) instead of at the image.
    pub random_start: bool,
    /// The loss ascended.
    pub loss: AttackLoss,
    /// Mode of the network during the attack.
    pub mode: AttackMode,
}

impl AttackSpec {
    /// PGD-`steps` with step size `step_size`, cross-entropy, evaluation mode.
    pub fn pgd(norm: Norm, eps: f64, steps: usize, step_size: f64, random_start: bool) -> Self {
        Self {
            norm,
            eps,
            steps,
            step_size,
            random_start,
            loss: AttackLoss::CrossEntropy,
            mode: AttackMode::Eval,
        }
    }

    /// FGSM: one L∞ step of size ε from the image.
    pub fn fgsm(eps: f64) -> Self {
        Self::pgd(Norm::Linf, eps, 1, eps, false)
    }

    /// Checks the values; `key` prefixes the names in the message (e.g. `adversarial.eval`).
    pub fn validate(&self, key: &str) -> Result<()> {
        let err = |msg: String| Error::Config {
            origin: format!("[{key}]"),
            msg,
        };
        if !self.eps.is_finite() || self.eps < 0.0 {
            return Err(err(format!(
                "{key}.eps: expected a finite value >= 0 (pixel units, images in [0, 1]), found {}",
                self.eps
            )));
        }
        if self.norm == Norm::Linf && self.eps > 1.0 {
            return Err(err(format!(
                "{key}.eps: an L∞ radius above 1 covers the whole pixel range [0, 1], found {}",
                self.eps
            )));
        }
        if self.steps == 0 {
            return Err(err(format!("{key}.steps: expected at least 1, found 0")));
        }
        if !self.step_size.is_finite() || self.step_size < 0.0 {
            return Err(err(format!(
                "{key}.step_size: expected a finite value >= 0 (pixel units), found {}",
                self.step_size
            )));
        }
        Ok(())
    }
}

/// The map between normalised images (what the network sees) and pixels in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelSpace {
    /// Per-channel mean subtracted by the normalisation.
    pub mean: [f32; 3],
    /// Per-channel standard deviation divided by.
    pub std: [f32; 3],
}

impl PixelSpace {
    /// The normalisation of `pre`.
    pub fn new(pre: &Preprocess) -> Self {
        Self {
            mean: pre.mean,
            std: pre.std,
        }
    }

    fn channel(v: [f32; 3], like: &Tensor<4>) -> Tensor<4> {
        Tensor::<4>::from_data(TensorData::new(v.to_vec(), [1, 3, 1, 1]), &like.device())
    }

    /// Pixels of normalised images: `x · std + mean`.
    ///
    /// # Shapes
    /// - `[batch, 3, s, s]` in and out
    pub fn to_pixels(&self, x: Tensor<4>) -> Tensor<4> {
        let (m, s) = (Self::channel(self.mean, &x), Self::channel(self.std, &x));
        x * s + m
    }

    /// Normalised images of pixels: `(p − mean) / std`.
    ///
    /// # Shapes
    /// - `[batch, 3, s, s]` in and out
    pub fn normalise(&self, p: Tensor<4>) -> Tensor<4> {
        let (m, s) = (Self::channel(self.mean, &p), Self::channel(self.std, &p));
        (p - m) / s
    }
}

/// The attack loss of `logits` `[batch, classes]` against `labels` `[batch]`; `[1]`.
pub fn attack_loss(loss: AttackLoss, logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    match loss {
        AttackLoss::CrossEntropy => cross_entropy(logits, labels),
        AttackLoss::Margin => {
            let [n, classes] = logits.dims();
            let onehot = labels
                .reshape([n, 1])
                .one_hot::<3>(classes)
                .reshape([n, classes]);
            let true_logit = (logits.clone() * onehot.clone().float()).sum_dim(1); // [batch, 1]
            // The other classes' best logit: the true class pushed far below.
            let others = logits.mask_fill(onehot.bool(), f32::MIN).max_dim(1); // [batch, 1]
            (others - true_logit).mean()
        }
    }
}

/// The network as the attack runs it. Evaluation: a frozen copy (Burn's `Module::freeze`:
/// parameters untracked, so the backward pass computes no parameter gradients at all, and the
/// training flags of Burn's layers cleared, so dropout is off), to be run inside
/// [`eval_scope`] (this crate's BatchNorm and drop path). Training: the network itself (dropout
/// draws from the device's generator; BatchNorm uses and updates batch statistics, as the
/// training step's own pass does).
pub fn attacked(model: &Network, mode: AttackMode) -> Network {
    match mode {
        AttackMode::Eval => model.clone().freeze(),
        AttackMode::Train => model.clone(),
    }
}

/// The gradient of the attack loss with respect to the pixels `p` (a tensor without autodiff),
/// and the loss; both without autodiff. The gradients of the parameters are dropped here.
///
/// # Shapes
/// - `pixels` `[batch, 3, s, s]`, `labels` `[batch]`; gradient as `pixels`, loss `[1]`
pub fn input_gradient(
    model: &Network,
    pixels: Tensor<4>,
    labels: Tensor<1, Int>,
    space: &PixelSpace,
    loss: AttackLoss,
    mode: AttackMode,
) -> (Tensor<4>, Tensor<1>) {
    let p = pixels.inner().autodiff().require_grad();
    let net = attacked(model, mode);
    let run = || {
        let logits = net.forward(space.normalise(p.clone()));
        attack_loss(loss, logits, labels)
    };
    let value = match mode {
        AttackMode::Eval => eval_scope(run),
        AttackMode::Train => run(),
    };
    let grads = value.backward();
    let g = p
        .grad(&grads)
        .expect("the attack loss depends on the input pixels");
    (g, value.detach().inner())
}

/// What an attack returns.
pub struct Attacked {
    /// The adversarial images, normalised as the input was, `[batch, 3, s, s]` (without the
    /// input's autodiff graph; on an autodiff device when the input was).
    pub images: Tensor<4>,
    /// The attack loss at the first gradient evaluation (at the start point), `[1]`.
    pub first_loss: Tensor<1>,
    /// The attack loss at the last gradient evaluation, `[1]`.
    pub last_loss: Tensor<1>,
}

/// Adversarial images and the model's predictions on them.
pub struct RobustBatch {
    /// The adversarial images, normalised, `[batch, 3, s, s]`.
    pub images: Tensor<4>,
    /// Predicted classes on the adversarial images (evaluation mode), `[batch]`.
    pub predictions: Tensor<1, Int>,
    /// Correct predictions on the adversarial images, `[1]` (robust accuracy = sum / images).
    pub correct: Tensor<1>,
}

/// Robust evaluation of one batch: attacks `images` (normalised, `[batch, 3, s, s]`) with
/// labels `[batch]` under `spec`, then classifies the adversarial images, everything in
/// evaluation mode whatever `spec.mode` says. `model` must live on an autodiff device; `seed`
/// seeds the random start (derive it from the run seed and the batch index so that evaluation
/// is reproducible).
pub fn robust_batch(
    model: &Network,
    images: Tensor<4>,
    labels: Tensor<1, Int>,
    spec: &AttackSpec,
    pre: &Preprocess,
    seed: u64,
) -> RobustBatch {
    let spec = AttackSpec {
        mode: AttackMode::Eval,
        ..spec.clone()
    };
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed);
    let adv = pgd(
        model,
        images,
        labels.clone(),
        &spec,
        &PixelSpace::new(pre),
        &mut rng,
    );
    let n = labels.dims()[0];
    let net = attacked(model, AttackMode::Eval);
    let logits = eval_scope(|| net.forward(adv.images.clone().inner().autodiff()));
    let predictions = logits.detach().inner().argmax(1).reshape([n]);
    let correct = predictions
        .clone()
        .equal(labels.inner())
        .int()
        .sum()
        .float();
    RobustBatch {
        images: adv.images,
        predictions,
        correct,
    }
}

/// The attack loss at `pixels` (`[batch, 3, s, s]`, [0, 1]) with the network in `mode`, without
/// a backward pass; `[1]`, detached and without autodiff.
pub fn loss_at(
    model: &Network,
    pixels: Tensor<4>,
    labels: Tensor<1, Int>,
    space: &PixelSpace,
    loss: AttackLoss,
    mode: AttackMode,
) -> Tensor<1> {
    let net = attacked(model, mode);
    let run = || {
        let logits = net.forward(space.normalise(pixels.inner()));
        attack_loss(loss, logits, labels.inner())
    };
    let value = match mode {
        AttackMode::Eval => eval_scope(run),
        AttackMode::Train => run(),
    };
    value.detach().inner()
}
