//! # brainlike-score
//!
//! Brain-likeness benchmarks as a library: each benchmark is one file, found by id in the
//! [`registry`], and returns a typed [`BenchmarkScore`] (raw, ceiling, ceiled, formula,
//! version, per-layer rows, splits, seeds), serialisable as `scores.json` writes it. Errors
//! are values ([`Error`]); every seed comes from the caller and is recorded in the score.
//!
//! | id | file | what |
//! |----|------|------|
//! | `Federer2019.V1-rsa`, `Federer2019.<pair set>-rsa`, `custom.<file>-rsa` | [`federer2019_v1_rsa`] | Spearman ρ of model vs monkey-V1 pair distances on held-out teacher stimuli, with the in-sample pairs and the untrained floor |
//! | `custom.<region>-pls` | [`pls`] | Brain-Score PLS neural predictivity with a split-half ceiling and layer commitment |
//! | `custom.behavior-i2n` | [`i2n`] | Brain-Score i2n behavioural consistency of a logistic read-out |
//! | `FreemanZiemba2013.V1-pls`, `FreemanZiemba2013.V2-pls`, `Rajalingham2018-i2n` | [`brainscore_public`] | the same PLS and i2n on Brain-Score's own data files (read by [`brainscore_data`]) |
//!
//! ```ignore
//! use brainlike_score::{Context, Model, LoadOptions, registry};
//! # fn main() -> brainlike_score::Result<()> {
//! let bench = registry::build("Federer2019.V1-rsa", &registry::Options::default())?;
//! let model = Model::load("runs/r0".as_ref(), "r0", &LoadOptions::default())?;
//! let score = bench.score(&model, &mut Context::new(64))?;
//! println!("{}", score.rows[0].raw);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod brainscore_data;
pub mod brainscore_public;
pub mod context;
pub mod error;
pub mod federer2019_v1_rsa;
pub mod i2n;
pub mod model;
pub mod pls;
pub mod registry;
pub mod score;

pub use context::Context;
pub use error::{Error, Result};
pub use model::{LoadOptions, Model, model_names};
pub use score::{BenchmarkScore, Details, LayerScore};

/// A benchmark: an id, a definition with a version, and a score for a model.
pub trait Benchmark: Send + Sync {
    /// Id, `<dataset>.<region>-<metric>`.
    fn id(&self) -> &str;
    /// Version of the definition (bumped when it changes).
    fn version(&self) -> &str;
    /// What a row's value is (plot and table titles).
    fn quantity(&self) -> &'static str;
    /// The benchmark's inputs and settings, for `scores.json`.
    fn describe(&self) -> serde_json::Value;
    /// Scores `model`, loading shared inputs through `ctx`.
    fn score(&self, model: &Model, ctx: &mut Context) -> Result<BenchmarkScore>;
}

/// Preprocessing of the scored images at input side `size`, for `scores.json`.
pub fn preprocessing_note(size: usize) -> String {
    format!(
        "RGB (grayscale replicated to 3 channels), resized to {size}x{size} with a triangle filter, pixels in [0, 1], not centred (as the trainer presents the teacher's stimuli)"
    )
}

/// How features are read out, for `scores.json`.
pub const FEATURES_NOTE: &str = "block outputs (after ReLU and max-pool) flattened C x H x W; penultimate = input of the last linear layer";
