//! `summary.json`, written last by the trainer: a run is complete iff it exists.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::{Result, RunError};

/// What `summary.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Test accuracy of the weight average (`[averaging]`), which `weights.safetensors` holds;
    /// the rows of `metrics.csv` are the trained weights'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub averaged_test_acc: Option<f64>,
}

/// Writes `summary` as pretty JSON at `path`, atomically.
pub fn write_summary(path: &Path, summary: &Summary) -> Result<()> {
    let text = serde_json::to_string_pretty(summary).expect("a summary serialises");
    write_atomic(path, text.as_bytes())
}

/// Reads `summary.json` as a [`Summary`].
pub fn read_summary(path: &Path) -> Result<Summary> {
    let text = std::fs::read_to_string(path).map_err(|e| RunError::io(path, "reading", e))?;
    serde_json::from_str(&text).map_err(|e| {
        RunError::format(
            path,
            format!("line {}, column {}", e.line(), e.column()),
            "the fields of a run summary",
            e.to_string(),
        )
    })
}

/// Reads any JSON file of a run directory (e.g. a `summary.json` of another writer).
pub fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| RunError::io(path, "reading", e))?;
    serde_json::from_str(&text).map_err(|e| {
        RunError::format(
            path,
            format!("line {}, column {}", e.line(), e.column()),
            "JSON",
            e.to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_round_trips_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("summary.json");
        let s = Summary {
            device: "flex".into(),
            epochs: 3,
            final_test_acc: 0.1 + 0.2,
            best_test_acc: 1.0 / 3.0,
            final_test_coarse_acc: 1e-300,
            final_superclass_error_frac: 5e-324,
            final_generalization_gap: -0.1,
            seconds: 2.0f64.sqrt() * 1e10,
            images_per_sec: f64::MAX,
            tap_activation_variance: Some(0.30000000000000004e-7),
            files: vec!["config.toml".into(), "summary.json".into()],
            averaged_test_acc: Some(0.7),
        };
        write_summary(&p, &s).unwrap();
        let back = read_summary(&p).unwrap();
        assert_eq!(back, s);
        let b = |x: &Summary| {
            [
                x.final_test_acc,
                x.best_test_acc,
                x.final_test_coarse_acc,
                x.final_superclass_error_frac,
                x.final_generalization_gap,
                x.seconds,
                x.images_per_sec,
                x.tap_activation_variance.unwrap(),
            ]
            .map(f64::to_bits)
        };
        assert_eq!(b(&back), b(&s));
    }

    #[test]
    fn json_floats_parse_exactly() {
        // Random doubles: serde_json's default (fast) parser reads some of them back 1 ulp
        // off (issue 17 item 9); with the `float_roundtrip` feature every one is exact.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = f64::from_bits(state >> 2);
            if !x.is_finite() {
                continue;
            }
            let text = serde_json::to_string(&x).unwrap();
            let back: f64 = serde_json::from_str(&text).unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{text}");
        }
    }

    #[test]
    fn a_bad_summary_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("summary.json");
        std::fs::write(&p, "{\"device\": 1}").unwrap();
        let err = read_summary(&p).unwrap_err().to_string();
        assert!(err.contains("summary.json: line 1, column 12"), "{err}");
    }
}
