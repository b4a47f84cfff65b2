//! Typed scores: what a benchmark returns for one model, serialisable as it is written to
//! `scores.json`, and flattened to the CSV rows of [`brainlike_metrics::scores::Score`].

use std::collections::BTreeMap;

use brainlike_metrics::scores::Score as CsvRow;
use serde::{Deserialize, Serialize};

use crate::federer2019_v1_rsa::{RsaDetails, SplitRecord};
use crate::i2n::I2nDetails;
use crate::pls::{CommittedDetails, PlsDetails};

/// One model on one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkScore {
    /// Benchmark id (`Federer2019.V1-rsa`, `custom.IT-pls`, ...).
    pub id: String,
    /// Model name.
    pub model: String,
    /// Version of the benchmark's definition.
    pub version: String,
    /// One row per layer, and for PLS a committed row (no layer).
    pub rows: Vec<LayerScore>,
    /// Every seed that entered the score, by what it seeds (`floor_init`: the run's seed,
    /// from which the untrained floor is initialised as the trainer initialises it).
    pub seeds: BTreeMap<String, u64>,
    /// The held-out stimulus split (RSA benchmarks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitRecord>,
    /// Caveats a reader must see (also printed by the CLI).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The score at one layer (or the committed layer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerScore {
    /// Layer (`v1`, ..., `penultimate`); `None` for a committed whole-model row.
    pub layer: Option<String>,
    /// Raw score.
    pub raw: f64,
    /// Noise ceiling, if the benchmark has one.
    pub ceiling: Option<f64>,
    /// Ceiled score (`raw` where there is no ceiling, as `formula = "none"` says).
    pub ceiled: Option<f64>,
    /// Ceiling formula (`r/c`, `r^2/c`) or `none`.
    pub formula: String,
    /// Raw value per cross-validation split or trial half.
    pub per_split: Vec<f64>,
    /// What the benchmark measured besides, in its own shape.
    pub details: Details,
}

/// Benchmark-specific details of a row (serialised without a tag: the JSON keeps each
/// benchmark's own fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Details {
    /// `Federer2019.*-rsa`.
    Rsa(Box<RsaDetails>),
    /// `custom.<region>-pls`, one layer.
    Pls(PlsDetails),
    /// `custom.<region>-pls`, the committed layer.
    Committed(CommittedDetails),
    /// `custom.behavior-i2n`.
    I2n(I2nDetails),
}

impl BenchmarkScore {
    /// The rows as CSV rows (`scores.csv`).
    pub fn csv_rows(&self) -> Vec<CsvRow> {
        self.rows
            .iter()
            .map(|r| CsvRow {
                id: self.id.clone(),
                model: self.model.clone(),
                layer: r.layer.clone(),
                raw: r.raw,
                ceiling: r.ceiling,
                ceiled: r.ceiled,
                formula: r.formula.clone(),
                benchmark_version: self.version.clone(),
                per_split: r.per_split.clone(),
            })
            .collect()
    }
}
