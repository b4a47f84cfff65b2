//! Adversarial-training input transforms ([`InputTransform`]): each replaces `batch.images` by
//! adversarial images of the current model and leaves everything else (targets, weights, the
//! objectives, the teacher term) alone, so each works with every objective.
//!
//! | file | method | paper |
//! |---|---|---|
//! | `pgd_k.rs` | PGD-k under L∞ or L2 | Madry et al. 2018 |
//! | `fgsm_rs.rs` | FGSM from a random start, α = 1.25ε | Wong, Rice & Kolter 2020, "Fast is better than free" |
//! | `free.rs` | "free" training, minibatch replay m, persistent δ | Shafahi et al. 2019, "Adversarial training for free!" |
//!
//! Configuration: [`AdversarialConfig`] (a TOML table, e.g. `[adversarial]`) and [`build`].
//! ε and step sizes are in pixel units (images in [0, 1]); the attacks work in pixel space
//! around the [`Preprocess`] normalisation ([`crate::attack`]).
//!
//! Random stream: the random start of step `step` (steps taken before it, counted over the run)
//! of epoch `epoch` (1-based) is drawn from `ChaCha8Rng::seed_from_u64(derive_seed(seed,
//! [STREAM, epoch, step]))` ([`crate::train::derive_seed`], [`STREAM`]), re-derived in
//! [`InputTransform::start_step`], so a resumed run draws the same starts. Free training's
//! persistent perturbation is reset to zero at the start of every epoch (so that it is fully
//! determined by the epoch's steps and a run resumed at an epoch boundary continues exactly;
//! Shafahi et al. carry it across epochs).
//!
//! ε = 0 (any method) makes every transform the identity: the batch is returned as it came (the
//! same tensors), no input gradient is asked for and `replays()` is 1, so training is clean
//! training bit for bit.
//!
//! Figures ([`InputTransform::logs`]): `adv_clean_loss` (the attack loss on the clean batch in
//! evaluation mode, when `log_clean_loss`: one extra forward pass, except for an
//! evaluation-mode PGD without random start, whose first gradient evaluation gives it) and
//! `adv_attack_loss` (the attack loss at its last gradient evaluation, in the attack's mode;
//! PGD and FGSM-RS only). The step's own `ce` is the training loss on the adversarial batch.
//!
//! Labels: the attacks ascend the loss of each image's heaviest target class
//! ([`Batch::argmax_labels`]); soft targets and sample weights enter the training loss only.

pub mod fgsm_rs;
pub mod free;
pub mod pgd_k;

pub use fgsm_rs::fgsm_rs;
pub use free::FreeTraining;
pub use pgd_k::AttackTransform;

use serde::{Deserialize, Serialize};

use crate::attack::{AttackLoss, AttackMode, AttackSpec, Norm};
use crate::data::batch::Preprocess;
use crate::error::{Error, Result};
use crate::models::Network;
use crate::train::step::{Batch, InputTransform};

/// Stream id of the attacks' random starts for [`crate::train::derive_seed`] (next to
/// [`crate::train::stream`]'s ids 1–5).
pub const STREAM: u64 = 6;

/// Adversarial-training methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Clean training.
    None,
    /// PGD-k (Madry et al. 2018).
    Pgd,
    /// FGSM from a random start (Wong et al. 2020).
    FgsmRs,
    /// Free adversarial training with minibatch replay (Shafahi et al. 2019).
    Free,
}

/// The `[adversarial]` table.
///
/// ```toml
/// [adversarial]
/// method = "pgd"          # none | pgd | fgsm_rs | free
/// norm = "linf"           # linf | l2 (fgsm_rs and free: linf only)
/// eps = 0.03137           # 8/255, pixel units
/// steps = 7               # pgd
/// # step_size = 0.0078    # default: pgd 2.5·eps/steps, fgsm_rs 1.25·eps, free eps
/// random_start = true     # pgd (fgsm_rs always starts at random, free never)
/// replays = 8             # free: minibatch replay m
/// loss = "cross_entropy"  # cross_entropy | margin
/// # attack_mode = "eval"  # eval | train; default: pgd eval, fgsm_rs train, free train
/// log_clean_loss = true
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdversarialConfig {
    /// `none`, `pgd`, `fgsm_rs` or `free`.
    pub method: Method,
    /// Threat model: `linf` or `l2`.
    pub norm: Norm,
    /// Radius ε of the ball, pixel units (0 = clean training).
    pub eps: f64,
    /// Gradient steps of PGD.
    pub steps: usize,
    /// Step size α, pixel units (unset: pgd 2.5·ε/steps, fgsm_rs 1.25·ε, free ε).
    pub step_size: Option<f64>,
    /// PGD: start uniformly at random in the ε-ball.
    pub random_start: bool,
    /// Free training: how often each minibatch is replayed in a row (m).
    pub replays: usize,
    /// The loss the attack ascends.
    pub loss: AttackLoss,
    /// Mode of the network while attacking (unset: pgd `eval` as MadryLab's `robustness`,
    /// fgsm_rs `train` as Wong et al.'s code, free `train`, the only one it has).
    pub attack_mode: Option<AttackMode>,
    /// Log the attack loss on the clean batch.
    pub log_clean_loss: bool,
}

impl Default for AdversarialConfig {
    fn default() -> Self {
        Self {
            method: Method::None,
            norm: Norm::Linf,
            eps: 8.0 / 255.0,
            steps: 7,
            step_size: None,
            random_start: true,
            replays: 8,
            loss: AttackLoss::CrossEntropy,
            attack_mode: None,
            log_clean_loss: true,
        }
    }
}

impl AdversarialConfig {
    /// The attack the method runs in each step (steps, step size and mode resolved).
    pub fn attack(&self) -> AttackSpec {
        let (steps, step_size, random_start, mode) = match self.method {
            Method::None | Method::Pgd => (
                self.steps,
                self.step_size
                    .unwrap_or(2.5 * self.eps / self.steps.max(1) as f64),
                self.random_start,
                self.attack_mode.unwrap_or(AttackMode::Eval),
            ),
            Method::FgsmRs => (
                1,
                self.step_size.unwrap_or(1.25 * self.eps),
                true,
                self.attack_mode.unwrap_or(AttackMode::Train),
            ),
            Method::Free => (
                1,
                self.step_size.unwrap_or(self.eps),
                false,
                AttackMode::Train,
            ),
        };
        AttackSpec {
            norm: self.norm,
            eps: self.eps,
            steps,
            step_size,
            random_start,
            loss: self.loss,
            mode,
        }
    }

    /// Checks the values, naming the key at fault.
    pub fn validate(&self) -> Result<()> {
        let err = |msg: String| Error::Config {
            origin: "[adversarial]".into(),
            msg,
        };
        if matches!(self.method, Method::FgsmRs | Method::Free) && self.norm != Norm::Linf {
            return Err(err(format!(
                "adversarial.norm: method {:?} is an L∞ method (norm = \"linf\"), found {:?}",
                self.method, self.norm
            )));
        }
        if self.method == Method::Pgd && self.steps == 0 {
            return Err(err(
                "adversarial.steps: PGD needs at least 1 step, found 0".into()
            ));
        }
        if self.method == Method::Free && self.replays == 0 {
            return Err(err(
                "adversarial.replays: free training replays each minibatch at least once, found 0"
                    .into(),
            ));
        }
        if self.method == Method::Free && self.attack_mode == Some(AttackMode::Eval) {
            return Err(err(
                "adversarial.attack_mode: free training takes the input gradient from the \
                 training step's own pass, so it can only be \"train\""
                    .into(),
            ));
        }
        self.attack().validate("adversarial")
    }
}

/// The transform of `cfg` for images normalised by `pre`; `seed` is the run seed (random
/// starts derive from it, see the module documentation). `method = "none"` gives the identity.
pub fn build(
    cfg: &AdversarialConfig,
    pre: &Preprocess,
    seed: u64,
) -> Result<Box<dyn InputTransform>> {
    cfg.validate()?;
    let spec = cfg.attack();
    Ok(match cfg.method {
        Method::None => Box::new(Identity),
        Method::Pgd => Box::new(AttackTransform::new(
            "pgd",
            spec,
            pre,
            seed,
            cfg.log_clean_loss,
        )),
        Method::FgsmRs => Box::new(fgsm_rs(
            spec.eps,
            spec.step_size,
            spec.mode,
            spec.loss,
            pre,
            seed,
            cfg.log_clean_loss,
        )),
        Method::Free => Box::new(FreeTraining::new(
            spec.eps,
            spec.step_size,
            cfg.replays,
            spec.loss,
            pre,
            cfg.log_clean_loss,
        )),
    })
}

/// The transform of `method = "none"`: the batch as it came.
pub struct Identity;

impl InputTransform for Identity {
    fn name(&self) -> &'static str {
        "none"
    }

    fn apply(&mut self, _model: &Network, batch: Batch) -> Batch {
        batch
    }
}
