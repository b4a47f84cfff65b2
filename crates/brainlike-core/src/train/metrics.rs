//! Per-epoch metrics (`metrics.csv`) and the run summary (`summary.json`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;

/// One row of `metrics.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training cross-entropy over the epoch's steps.
    pub train_loss: f64,
    /// Training accuracy over the epoch (with dropout on, as seen by the optimiser).
    pub train_acc: f64,
    /// Test cross-entropy.
    pub test_loss: f64,
    /// Test accuracy (fine classes).
    pub test_acc: f64,
    /// Test accuracy of the superclass implied by the predicted fine class.
    pub test_coarse_acc: f64,
    /// Of the misclassified test images, the fraction whose predicted class is in the true
    /// superclass (Table 1 of the paper).
    pub superclass_error_frac: f64,
    /// Mean teacher term Σ(d − d̂)² over steps where the teacher was on (0 otherwise).
    pub teacher_loss: f64,
    /// Mean λ over steps where the teacher was on (0 otherwise).
    pub lambda: f64,
    /// Wall-clock seconds of the epoch (training and evaluation).
    pub seconds: f64,
    /// Training images per second.
    pub images_per_sec: f64,
}

/// Writes all rows as `metrics.csv`, atomically.
pub fn write_csv(path: &Path, rows: &[EpochMetrics]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)
            .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    }
    if rows.is_empty() {
        w.write_record([
            "epoch",
            "train_loss",
            "train_acc",
            "test_loss",
            "test_acc",
            "test_coarse_acc",
            "superclass_error_frac",
            "teacher_loss",
            "lambda",
            "seconds",
            "images_per_sec",
        ])
        .map_err(|e| Error::Other(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Other(e.to_string()))?;
    write_atomic(path, &bytes)
}

/// Reads `metrics.csv`.
pub fn read_csv(path: &Path) -> Result<Vec<EpochMetrics>> {
    let mut r = csv::Reader::from_path(path)
        .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    r.deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.map_err(|e| {
                Error::format(
                    path,
                    format!("row {}", i + 1),
                    format!("metrics columns ({e})"),
                )
            })
        })
        .collect()
}

/// `summary.json`, written last: a run is complete iff it exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Backend that ran it.
    pub device: String,
    /// Epochs trained.
    pub epochs: usize,
    /// Final test accuracy.
    pub final_test_acc: f64,
    /// Best test accuracy over epochs.
    pub best_test_acc: f64,
    /// Final superclass accuracy.
    pub final_test_coarse_acc: f64,
    /// Final superclass-error fraction.
    pub final_superclass_error_frac: f64,
    /// Final train − test loss gap (test_loss − train_loss).
    pub final_generalization_gap: f64,
    /// Total wall-clock seconds.
    pub seconds: f64,
    /// Mean training images per second.
    pub images_per_sec: f64,
    /// Mean per-unit activation variance of the tapped layer over the test set (§3.2).
    pub tap_activation_variance: Option<f64>,
    /// Files in the run directory.
    pub files: Vec<String>,
}
