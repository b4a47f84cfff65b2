//! "Free" adversarial training (Shafahi, Najibi, Ghiasi, Xu, Dickerson, Studer, Davis, Taylor
//! & Goldstein 2019, "Adversarial training for free!"): each minibatch is replayed m times in a
//! row ([`InputTransform::replays`]); every replay trains on clamp(x + δ, 0, 1) and the same
//! backward pass that gives the parameter update gives the input gradient, with which
//! δ ← clamp(δ + ε·sign(∇ₓ), −ε, ε). δ persists across replays and minibatches (reset to zero
//! at the start of every epoch and when the batch shape changes, e.g. a short last batch).
//!
//! What the trainer must do: run each minibatch `replays()` times in a row through
//! [`crate::train::Step::run`] (the step asks for the input gradient itself, see
//! [`InputTransform::wants_input_grad`]); Shafahi et al. divide the number of epochs by m to
//! keep the cost of clean training.

use burn::tensor::Tensor;

use crate::attack::{AttackLoss, AttackMode, PixelSpace, loss_at};
use crate::data::batch::Preprocess;
use crate::models::Network;
use crate::train::step::{Batch, InputTransform};

/// Free adversarial training's persistent perturbation.
pub struct FreeTraining {
    eps: f64,
    step_size: f64,
    replays: usize,
    loss: AttackLoss,
    space: PixelSpace,
    log_clean_loss: bool,
    /// δ in pixel units, `[batch, 3, s, s]`, without autodiff.
    delta: Option<Tensor<4>>,
    epoch: usize,
    logs: Vec<(&'static str, Tensor<1>)>,
}

impl FreeTraining {
    /// Radius `eps` and δ step `step_size` (Shafahi et al.: ε), pixel units; `replays` m; images
    /// normalised by `pre`; `loss` is only used for the logged clean loss (the perturbation
    /// ascends the training step's own loss).
    pub fn new(
        eps: f64,
        step_size: f64,
        replays: usize,
        loss: AttackLoss,
        pre: &Preprocess,
        log_clean_loss: bool,
    ) -> Self {
        Self {
            eps,
            step_size,
            replays,
            loss,
            space: PixelSpace::new(pre),
            log_clean_loss,
            delta: None,
            epoch: 0,
            logs: Vec::new(),
        }
    }

    /// The current perturbation δ (pixel units), if any.
    pub fn delta(&self) -> Option<&Tensor<4>> {
        self.delta.as_ref()
    }
}

impl InputTransform for FreeTraining {
    fn name(&self) -> &'static str {
        "free"
    }

    fn start_step(&mut self, epoch: usize, _step: u64) {
        if epoch != self.epoch {
            self.epoch = epoch;
            self.delta = None;
        }
    }

    fn apply(&mut self, model: &Network, batch: Batch) -> Batch {
        self.logs.clear();
        if self.eps == 0.0 {
            return batch;
        }
        let autodiff = batch.images.is_autodiff();
        let x = self.space.to_pixels(batch.images.clone().detach().inner()); // [batch, 3, s, s]
        if self.log_clean_loss {
            let labels = batch.argmax_labels();
            let clean = loss_at(
                model,
                x.clone(),
                labels,
                &self.space,
                self.loss,
                AttackMode::Eval, // no BatchNorm update, no dropout mask: logging changes nothing
            );
            self.logs.push(("adv_clean_loss", clean));
        }
        let Some(delta) = self.delta.take().filter(|d| d.dims() == x.dims()) else {
            // δ = 0 (a new epoch or batch shape): the images as they came, bit for bit.
            self.delta = Some(x.zeros_like());
            return batch;
        };
        let adv = self.space.normalise((x + delta.clone()).clamp(0.0, 1.0));
        self.delta = Some(delta);
        Batch {
            images: if autodiff { adv.autodiff() } else { adv },
            ..batch
        }
    }

    fn wants_input_grad(&self) -> bool {
        self.eps > 0.0
    }

    fn after_backward(&mut self, input_grad: Tensor<4>) {
        // The gradient is w.r.t. the normalised images; dividing by the (positive) std per
        // channel gives the pixel gradient, whose sign is the same.
        if let Some(d) = self.delta.take() {
            let d = d + input_grad.inner().sign() * self.step_size;
            self.delta = Some(d.clamp(-self.eps, self.eps));
        }
    }

    fn replays(&self) -> usize {
        if self.eps == 0.0 { 1 } else { self.replays }
    }

    fn logs(&mut self) -> Vec<(&'static str, Tensor<1>)> {
        std::mem::take(&mut self.logs)
    }
}
