//! Training: the step and its parts (objectives, optimiser and schedule, frozen groups), the
//! loop, evaluation, checkpoints, export.
//!
//! | file | what |
//! |---|---|
//! | `step.rs` | one step: batch → transforms → forward (+ probes) → objectives → optimiser → hooks |
//! | `objective/` | loss terms, one file each (cross-entropy, V1 teacher) |
//! | `optim.rs` | optimiser (SGD/Adam/AdamW) and learning-rate schedule from `[optim]` |
//! | `freeze.rs` | frozen parameter groups (by path, up to a tap, a fraction; BatchNorm statistics too) |
//! | `average.rs` | weight averaging: of checkpoints, and SWA / EMA during training (an after-step hook) |
//! | `bn_stats.rs` | recomputing BatchNorm statistics on training data (after averaging) |
//! | `trainer.rs` | the epoch loop, resumable |
//! | `resume.rs` | what a resumed run may change, per-epoch log lines, provenance |
//! | `transform/` | adversarial-training input transforms (PGD-k, FGSM-RS, free) |
//! | `loss.rs` | the teacher term's math (cosine distances, penalty, λ) |

pub mod average;
pub mod bn_stats;
pub mod checkpoint;
pub mod eval;
pub mod export;
pub mod freeze;
pub mod loss;
pub mod metrics;
pub mod objective;
pub mod optim;
pub mod resume;
pub mod step;
pub mod trainer;
pub mod transform;

pub use metrics::{EpochMetrics, Summary};
pub use step::{AfterStep, Batch, InputTransform, Objective, Probe, Step, StepView, Targets, Term};
pub use trainer::{
    Resources, TrainOptions, build_step, derive_seed, load_resources, load_resources_shared,
    load_resources_with, stream, train,
};
