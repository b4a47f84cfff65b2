//! Per-epoch metrics (`metrics.csv`) and the run summary (`summary.json`): the types and
//! files are brainlike-run's; these are the trainer's names for them.

use std::path::Path;

use crate::error::Result;

/// One row of `metrics.csv` ([`brainlike_run::EpochRow`]).
pub use brainlike_run::EpochRow as EpochMetrics;
/// `summary.json`, written last: a run is complete iff it exists.
pub use brainlike_run::Summary;

/// Writes all rows as `metrics.csv`, atomically (floats round-trip exactly).
pub fn write_csv(path: &Path, rows: &[EpochMetrics]) -> Result<()> {
    Ok(brainlike_run::write_metrics(path, rows)?)
}

/// Reads `metrics.csv`.
pub fn read_csv(path: &Path) -> Result<Vec<EpochMetrics>> {
    Ok(brainlike_run::read_metrics(path)?)
}
