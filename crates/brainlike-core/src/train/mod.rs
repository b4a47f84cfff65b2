//! Training: the composite loss, the λ controller, the loop, evaluation, checkpoints, export.

pub mod checkpoint;
pub mod eval;
pub mod export;
pub mod loss;
pub mod metrics;
pub mod trainer;

pub use metrics::{EpochMetrics, Summary};
pub use trainer::{
    Resources, TrainOptions, load_resources, load_resources_shared, load_resources_with, train,
};
