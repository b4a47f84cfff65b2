//! One training step, built from parts that each do one thing:
//!
//! ```text
//! batch                       Batch { images, targets (hard or soft), weights }
//! transforms.apply(model, b)  InputTransform: e.g. an attack, with gradients w.r.t. the input
//!                             (start_step(epoch, step) first; train/transform/)
//! objectives.probe(..)        an objective may ask for extra stimuli read out at a tap
//! model forward               logits (+ the probe's tap activations: shared pass when the model
//!                             has no batch statistics, else a pass of its own in eval mode)
//! objectives.loss(..)         Terms, each already weighted; their sum is the loss
//! backward, frozen groups     gradients of frozen parameters are dropped; transforms that ask
//!                             get the input gradient of this same pass (free adversarial training)
//! optimizer.step(lr)          the schedule gives lr for this step
//! hooks.after_step(model)     e.g. weight averaging
//! ```
//!
//! The loop ([`super::trainer`]) never changes when a trick is added: a trick is a new
//! [`Objective`], [`InputTransform`] or [`AfterStep`] built from the configuration.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor};

use super::freeze::Frozen;
use crate::models::{Network, Tap};

/// Targets of a batch.
#[derive(Clone, Debug)]
pub enum Targets {
    /// One class per image, `[batch]`.
    Hard(Tensor<1, Int>),
    /// Per-class weights summing to 1 per image (CutMix, label smoothing), `[batch, classes]`.
    Soft(Tensor<2>),
}

/// A mini-batch on the device.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Normalised images, `[batch, 3, s, s]`.
    pub images: Tensor<4>,
    /// Targets.
    pub targets: Targets,
    /// Per-sample loss weights, `[batch]` (None = uniform).
    pub weights: Option<Tensor<1>>,
}

impl Batch {
    /// A batch with hard labels and uniform weights.
    pub fn hard(images: Tensor<4>, labels: Tensor<1, Int>) -> Self {
        Self {
            images,
            targets: Targets::Hard(labels),
            weights: None,
        }
    }

    /// The class each image counts as for accuracy (the heaviest target class).
    pub fn argmax_labels(&self) -> Tensor<1, Int> {
        match &self.targets {
            Targets::Hard(y) => y.clone(),
            Targets::Soft(t) => {
                let n = t.dims()[0];
                t.clone().argmax(1).reshape([n])
            }
        }
    }
}

/// Stimuli an objective wants read out at a tap during the step's forward pass.
pub struct Probe {
    /// `[stimuli, 3, s, s]`, normalised as the objective decided.
    pub stimuli: Tensor<4>,
    /// Where to read them out.
    pub tap: Tap,
}

/// What an objective sees when it computes its term.
pub struct StepView<'a> {
    /// Class scores of the batch, `[batch, classes]`.
    pub logits: &'a Tensor<2>,
    /// The batch.
    pub batch: &'a Batch,
    /// The flattened tap activations of this objective's probe, `[stimuli, features]`.
    pub probe: Option<Tensor<2>>,
    /// The terms computed before this one, in objective order.
    pub earlier: &'a [Term],
}

/// One objective's contribution to the loss.
pub struct Term {
    /// Name (`ce`, `teacher`, ...).
    pub name: &'static str,
    /// The weighted term that enters the loss, `[1]`.
    pub value: Tensor<1>,
    /// Figures to log (device-side, detached), e.g. `("teacher_term", T)`, `("lambda", λ)`.
    pub logs: Vec<(&'static str, Tensor<1>)>,
}

/// A loss term of the training step.
pub trait Objective {
    /// Name of the term.
    fn name(&self) -> &'static str;

    /// Called at the start of every epoch (1-based), before its first step: random streams
    /// are re-derived here so that a resumed run continues exactly.
    fn start_epoch(&mut self, _epoch: usize) {}

    /// Whether the term is active in this step (`epoch` 1-based, `step` counted over the run).
    fn active(&self, _epoch: usize, _step: u64) -> bool {
        true
    }

    /// Extra stimuli to read out in this step (called before the forward pass).
    fn probe(&mut self, _device: &Device) -> Option<Probe> {
        None
    }

    /// The term. `view.probe` holds the activations of this objective's probe.
    fn loss(&mut self, view: &StepView) -> Term;

    /// State to keep in a checkpoint (e.g. a λ frozen at the first step).
    fn state(&self) -> Option<serde_json::Value> {
        None
    }

    /// Restores [`Objective::state`].
    fn restore(&mut self, _state: &serde_json::Value) {}
}

/// Changes the batch before the forward pass, with access to the model (adversarial
/// examples: gradients with respect to the input inside the step).
pub trait InputTransform {
    /// Name for logs.
    fn name(&self) -> &'static str;

    /// Called at the start of every step, before [`InputTransform::apply`]: `epoch` 1-based,
    /// `step` the steps taken before this one (random streams derive from them, so that a
    /// resumed run continues exactly).
    fn start_step(&mut self, _epoch: usize, _step: u64) {}

    /// The transformed batch.
    fn apply(&mut self, model: &Network, batch: Batch) -> Batch;

    /// Whether [`InputTransform::after_backward`] wants the gradient of the step's loss with
    /// respect to the (transformed) images, from the step's own backward pass ("free"
    /// adversarial training).
    fn wants_input_grad(&self) -> bool {
        false
    }

    /// Receives the gradient of the step's loss with respect to `batch.images` (normalised
    /// images, `[batch, 3, s, s]`, without autodiff) when [`InputTransform::wants_input_grad`].
    fn after_backward(&mut self, _input_grad: Tensor<4>) {}

    /// How many times the trainer runs each minibatch in a row (minibatch replay of free
    /// adversarial training; 1 = once).
    fn replays(&self) -> usize {
        1
    }

    /// Figures of the last [`InputTransform::apply`] to log (device-side, detached), e.g. the
    /// clean and the adversarial loss; the step appends them to [`StepStats::logs`].
    fn logs(&mut self) -> Vec<(&'static str, Tensor<1>)> {
        Vec::new()
    }
}

/// Runs after every optimiser step (weight averaging, statistics).
pub trait AfterStep {
    /// Name for logs and checkpoint files.
    fn name(&self) -> &'static str;
    /// Sees the updated model and the number of steps taken so far.
    fn after_step(&mut self, model: &Network, step: u64);
    /// A network the hook keeps (the running average of the weights), saved with every
    /// checkpoint as `<name>.bpk` and handed back by [`AfterStep::restore`] on resume.
    fn network(&self) -> Option<&Network> {
        None
    }
    /// The hook's other state, saved in the checkpoint's `state.json`.
    fn state(&self) -> Option<serde_json::Value> {
        None
    }
    /// Restores what [`AfterStep::network`] and [`AfterStep::state`] saved.
    fn restore(&mut self, _network: Option<Network>, _state: Option<&serde_json::Value>) {}
}

/// Device-side figures of one step (no host synchronisation).
pub struct StepStats {
    /// The first term's unweighted value (the cross-entropy), `[1]`.
    pub ce: Tensor<1>,
    /// Correct predictions, `[1]`.
    pub correct: Tensor<1>,
    /// Every term's logs.
    pub logs: Vec<(&'static str, Tensor<1>)>,
}

/// The parts of a training step.
pub struct Step {
    /// Loss terms, in order (later terms see earlier ones: λ = r·CE/T).
    pub objectives: Vec<Box<dyn Objective>>,
    /// Input transforms, in order.
    pub transforms: Vec<Box<dyn InputTransform>>,
    /// After-step hooks.
    pub hooks: Vec<Box<dyn AfterStep>>,
    /// Parameters that are not trained.
    pub frozen: Frozen,
}

impl Step {
    /// One optimiser step on `batch` at learning rate `lr`; `epoch` (1-based) and `step`
    /// (steps taken before this one) decide which objectives are active.
    pub fn run(
        &mut self,
        model: Network,
        optim: &mut ModuleOptimizer,
        batch: Batch,
        lr: f64,
        epoch: usize,
        step: u64,
    ) -> (Network, StepStats) {
        let mut batch = batch;
        for t in &mut self.transforms {
            t.start_step(epoch, step);
            batch = t.apply(&model, batch);
        }
        let input_grad = self.transforms.iter().any(|t| t.wants_input_grad());
        if input_grad {
            batch.images = batch.images.detach().autodiff().require_grad();
        }
        let device = batch.images.device();
        let active: Vec<bool> = self
            .objectives
            .iter()
            .map(|o| o.active(epoch, step))
            .collect();
        let probes: Vec<Option<Probe>> = self
            .objectives
            .iter_mut()
            .zip(&active)
            .map(|(o, &on)| if on { o.probe(&device) } else { None })
            .collect();

        // The forward pass. One probe on a model without batch statistics shares the batch's
        // pass up to its tap (the stimuli are split off there); otherwise each probe gets a pass
        // of its own so that no batch statistics see the stimuli.
        let n_probes = probes.iter().filter(|p| p.is_some()).count();
        let mut probe_acts: Vec<Option<Tensor<2>>> = vec![None; probes.len()];
        let logits = if n_probes == 1 && !model.spec().batch_stats {
            let (i, p) = probes
                .iter()
                .enumerate()
                .find_map(|(i, p)| p.as_ref().map(|p| (i, p)))
                .expect("one probe");
            let out = model.forward_with_tap(batch.images.clone(), Some(p.stimuli.clone()), p.tap);
            probe_acts[i] = out.tap;
            out.logits
        } else {
            for (i, p) in probes.iter().enumerate() {
                if let Some(p) = p {
                    // Evaluation mode: running statistics, not updated (a no-op for models
                    // without BatchNorm).
                    probe_acts[i] = Some(
                        model
                            .activations_eval(p.stimuli.clone(), p.tap)
                            .flatten::<2>(1, 3),
                    );
                }
            }
            model.forward(batch.images.clone())
        };

        let mut terms: Vec<Term> = Vec::with_capacity(self.objectives.len());
        for ((o, on), acts) in self.objectives.iter_mut().zip(&active).zip(probe_acts) {
            if !*on {
                continue;
            }
            let view = StepView {
                logits: &logits,
                batch: &batch,
                probe: acts,
                earlier: &terms,
            };
            let term = o.loss(&view);
            terms.push(term);
        }
        let mut terms = terms.into_iter();
        let first = terms.next().expect("at least one objective is active");
        let ce = first.value.clone();
        let mut total = first.value;
        let mut logs = first.logs;
        for t in terms {
            total = total + t.value;
            logs.extend(t.logs);
        }

        let n = logits.dims()[0];
        let pred = logits.detach().inner().argmax(1).reshape([n]);
        let correct = pred
            .equal(batch.argmax_labels().inner())
            .int()
            .sum()
            .float();
        let raw = total.backward();
        if input_grad && let Some(g) = batch.images.grad(&raw) {
            for t in self.transforms.iter_mut().filter(|t| t.wants_input_grad()) {
                t.after_backward(g.clone());
            }
        }
        for t in &mut self.transforms {
            logs.extend(t.logs());
        }
        let mut grads = GradientsParams::from_grads(raw, &model);
        self.frozen.drop_gradients(&mut grads);
        let model = optim.step(lr, model, grads);
        for h in &mut self.hooks {
            h.after_step(&model, step + 1);
        }
        let stats = StepStats {
            ce: ce.detach().inner(),
            correct,
            logs,
        };
        (model, stats)
    }
}
