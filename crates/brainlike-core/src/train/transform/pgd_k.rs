//! PGD-k adversarial training (Madry, Makelov, Schmidt, Tsipras & Vladu 2018): every step
//! trains on the PGD adversarial examples of the current model (any norm, steps, step size,
//! random start; [`crate::attack::pgd`]). FGSM-RS (`fgsm_rs.rs`) is this transform with one
//! step from a random start.

use burn::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::STREAM;
use crate::attack::{AttackMode, AttackSpec, PixelSpace, loss_at, pgd};
use crate::data::batch::Preprocess;
use crate::models::Network;
use crate::train::derive_seed;
use crate::train::step::{Batch, InputTransform};

/// Replaces the batch by adversarial images of an [`AttackSpec`].
pub struct AttackTransform {
    name: &'static str,
    spec: AttackSpec,
    space: PixelSpace,
    seed: u64,
    rng: ChaCha8Rng,
    log_clean_loss: bool,
    logs: Vec<(&'static str, Tensor<1>)>,
}

impl AttackTransform {
    /// The transform named `name` (for logs) running `spec` on images normalised by `pre`;
    /// random starts derive from `seed` (see [`super`]).
    pub fn new(
        name: &'static str,
        spec: AttackSpec,
        pre: &Preprocess,
        seed: u64,
        log_clean_loss: bool,
    ) -> Self {
        Self {
            name,
            spec,
            space: PixelSpace::new(pre),
            seed,
            rng: ChaCha8Rng::seed_from_u64(derive_seed(seed, &[STREAM, 0, 0])),
            log_clean_loss,
            logs: Vec::new(),
        }
    }

    /// The attack run in every step.
    pub fn spec(&self) -> &AttackSpec {
        &self.spec
    }
}

impl InputTransform for AttackTransform {
    fn name(&self) -> &'static str {
        self.name
    }

    fn start_step(&mut self, epoch: usize, step: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(derive_seed(self.seed, &[STREAM, epoch as u64, step]));
    }

    fn apply(&mut self, model: &Network, batch: Batch) -> Batch {
        self.logs.clear();
        if self.spec.eps == 0.0 {
            return batch;
        }
        let labels = batch.argmax_labels();
        let attacked = pgd(
            model,
            batch.images.clone(),
            labels.clone(),
            &self.spec,
            &self.space,
            &mut self.rng,
        );
        if self.log_clean_loss {
            // Evaluation mode (no BatchNorm update, no dropout mask drawn: logging changes
            // nothing). An evaluation-mode attack without a random start has it already: its
            // first gradient evaluation is at the clean images.
            let clean = if self.spec.random_start || self.spec.mode == AttackMode::Train {
                let x = self.space.to_pixels(batch.images.clone().detach().inner());
                loss_at(
                    model,
                    x,
                    labels,
                    &self.space,
                    self.spec.loss,
                    AttackMode::Eval,
                )
            } else {
                attacked.first_loss.clone()
            };
            self.logs.push(("adv_clean_loss", clean));
        }
        self.logs.push(("adv_attack_loss", attacked.last_loss));
        Batch {
            images: attacked.images,
            ..batch
        }
    }

    fn logs(&mut self) -> Vec<(&'static str, Tensor<1>)> {
        std::mem::take(&mut self.logs)
    }
}
