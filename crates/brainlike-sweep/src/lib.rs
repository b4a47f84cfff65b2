//! Sweeps of `brainlike train` runs: experiment files, grid expansion, resumable execution
//! on this machine or on a Slurm cluster, and collection of the results.
//!
//! The paper this toolkit reproduces (Federer et al., "Improved object recognition using
//! neural networks trained to mimic the brain's statistical properties") repeats every
//! configuration over 10 random initialisations and varies one or two settings per study;
//! each study is one experiment file under `experiments/`.
//!
//! # Layers
//! - [`experiment`]: the TOML experiment file (`name`, `base`, `seeds`, `[set]`, `[axes]`,
//!   `[[include]]`, `[executor]`), parsed strictly.
//! - [`plan`]: deterministic expansion into [`PlannedRun`]s with stable, readable run ids,
//!   and `plan.json`.
//! - [`state`]: what a run directory says about a run (complete iff `summary.json`
//!   exists), and the per-run lock that keeps a run from being started twice.
//! - [`runner`]: the [`Runner`] trait (in-process or [`ProcessRunner`]).
//! - [`local`] and [`slurm`]: the two executors; [`collect`]: status and `results.csv`.
//! - [`sweep`]: the `brainlike sweep` entry point, [`SweepArgs`] and [`run_sweep`].
//!
//! # Sweep directory
//! ```text
//! SWEEP_DIR/                    default sweeps/<name>
//!   experiment.toml             copy of the experiment file that ran
//!   base.toml                   copy of the base run config (when the experiment names one)
//!   plan.json                   the expanded runs
//!   results.csv                 written by collect
//!   runs/<run_id>/              out_dir of one `brainlike train` run
//!     config.toml metrics.csv checkpoints... summary.json   (written by the trainer)
//!     log.txt                   trainer output (process runner)
//!     sweep.lock                present while a sweep process owns the run
//!     sweep-failed.json         the last failure, removed when the run starts again
//!   (the run-directory files and statuses are brainlike-run's)
//!   slurm/sweep.sbatch slurm/jobs.json slurm/%A_%a.out
//! ```
#![warn(missing_docs)]

pub mod collect;
pub mod error;
pub mod experiment;
pub mod local;
pub mod plan;
pub mod runner;
pub mod slurm;
pub mod state;
pub mod sweep;

pub use collect::{Collection, RunReport, collect};
pub use error::SweepError;
pub use experiment::{ExecutorConfig, ExecutorKind, Experiment, Seeds, SlurmConfig};
pub use plan::{Override, Plan, PlanEntry, PlannedRun};
pub use runner::{ProcessRunner, Runner};
pub use state::RunStatus;
pub use sweep::{SweepArgs, SweepOutcome, run_sweep, sweep_main};
