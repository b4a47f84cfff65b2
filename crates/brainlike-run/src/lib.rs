//! The run directory of brainlike, with no deep-learning framework: what one training run
//! leaves on disk, how it is written (atomically, by one writer at a time) and how sweeps,
//! reports and the command line read it back.
//!
//! ```text
//! RUN_DIR/
//!   config.toml            the resolved configuration, written first      [`RunConfig`]
//!   metrics.csv            one row per finished epoch                     [`EpochRow`]
//!   checkpoints/epoch-NNNN/  model, optimiser, state.json (written last)  [`checkpoints`]
//!   weights.safetensors    the trained model
//!   analysis/activation_variance.json analysis/tsne.csv
//!   summary.json           written last: the run is complete iff it exists [`Summary`]
//!   .writer.lock           the writer's advisory lock                     [`WriterLock`]
//!   log.txt sweep.lock sweep.child.lock sweep-failed.json   a sweep's bookkeeping
//! ```
//!
//! Every file is written with [`write_atomic`]; floats round-trip exactly through CSV and
//! JSON. [`RunStatus`] is what a directory says about its run (pending, running,
//! interrupted, complete, failed).
#![warn(missing_docs)]

pub mod atomic;
pub mod checkpoints;
pub mod config;
pub mod dir;
pub mod error;
pub mod lock;
pub mod metrics;
pub mod process;
pub mod status;
pub mod summary;

pub use atomic::{sweep_stale_temps, write_atomic};
pub use checkpoints::{
    checkpoint_dir, latest_checkpoint, list_checkpoints, list_within_epoch, prune_checkpoints,
    prune_within_epoch, within_epoch_dir,
};
pub use config::{RunConfig, flatten_toml};
pub use dir::RunDir;
pub use error::{Result, RunError};
pub use lock::{LockInfo, WriterLock, writer_holder};
pub use metrics::{EpochRow, read_metrics, write_metrics};
pub use status::{FailureRecord, RunStatus, has_trainer_state, record_failure, run_status};
pub use summary::{Summary, read_summary, write_summary};

/// The resolved configuration.
pub const CONFIG_FILE: &str = "config.toml";
/// Per-epoch metrics.
pub const METRICS_FILE: &str = "metrics.csv";
/// Written last: the run is complete iff it exists.
pub const SUMMARY_FILE: &str = "summary.json";
/// The trained model (PyTorch layout).
pub const WEIGHTS_FILE: &str = "weights.safetensors";
/// Mean unit activation variance of the tapped layer (`analysis/`).
pub const ACTIVATION_VARIANCE_FILE: &str = "analysis/activation_variance.json";
/// t-SNE of the tapped layer (`analysis/`).
pub const TSNE_FILE: &str = "analysis/tsne.csv";
/// Trainer output written by a sweep's process runner.
pub const LOG_FILE: &str = "log.txt";
/// A sweep's lock on the run.
pub const SWEEP_LOCK_FILE: &str = "sweep.lock";
/// A sweep's record of the trainer child's pid.
pub const SWEEP_CHILD_LOCK_FILE: &str = "sweep.child.lock";
/// The last failure, removed when the run starts again.
pub const FAILURE_FILE: &str = "sweep-failed.json";
