//! Score rows (`<dataset>.<region>-<metric>`, e.g. `Federer2019.V1-rsa`,
//! `custom.V1-pls`) and atomic CSV / JSON writers (the layer-profile plot is
//! `brainlike_stats::report::layer_profile`).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One score row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Benchmark id, `<dataset>.<region>-<metric>`.
    pub id: String,
    /// Model / run name (one line per model in the layer profile).
    pub model: String,
    /// Layer scored (None for a committed, whole-model score).
    pub layer: Option<String>,
    /// Raw score.
    pub raw: f64,
    /// Noise ceiling (None when not ceiled).
    pub ceiling: Option<f64>,
    /// Ceiled score (None when not ceiled).
    pub ceiled: Option<f64>,
    /// Ceiling formula (`"r/c"`, `"r^2/c"`) or empty.
    pub formula: String,
    /// Benchmark version.
    pub benchmark_version: String,
    /// Every split's raw value.
    pub per_split: Vec<f64>,
}

impl Score {
    /// `<dataset>.<region>-<metric>`.
    pub fn make_id(dataset: &str, region: &str, metric: &str) -> String {
        format!("{dataset}.{region}-{metric}")
    }
    /// The value plotted / ranked: ceiled if present, else raw.
    pub fn value(&self) -> f64 {
        self.ceiled.unwrap_or(self.raw)
    }
}

/// Write bytes to `path` atomically (the project's one `write_atomic`, brainlike-run's:
/// temporary file, fsync, rename; the temporary file is removed on error).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    brainlike_run::write_atomic(path, bytes).map_err(|e| match e {
        brainlike_run::RunError::Io { path, source, .. } => Error::io(&path, source),
        other => Error::io(path, std::io::Error::other(other.to_string())),
    })
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Write rows as CSV (columns `id,model,layer,raw,ceiling,ceiled,formula,
/// benchmark_version,per_split`; `per_split` joined with `;`), atomically.
pub fn write_scores_csv(rows: &[Score], path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let mut w = csv::Writer::from_writer(vec![]);
    let err = |e| Error::Csv {
        path: path.into(),
        source: e,
    };
    w.write_record([
        "id",
        "model",
        "layer",
        "raw",
        "ceiling",
        "ceiled",
        "formula",
        "benchmark_version",
        "per_split",
    ])
    .map_err(err)?;
    for r in rows {
        let splits: Vec<String> = r.per_split.iter().map(|v| v.to_string()).collect();
        w.write_record([
            r.id.clone(),
            r.model.clone(),
            r.layer.clone().unwrap_or_default(),
            r.raw.to_string(),
            opt(r.ceiling),
            opt(r.ceiled),
            r.formula.clone(),
            r.benchmark_version.clone(),
            splits.join(";"),
        ])
        .map_err(err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    write_atomic(path, &bytes)
}

/// Write rows as a pretty JSON array, atomically.
pub fn write_scores_json(rows: &[Score], path: impl AsRef<Path>) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(rows)?;
    write_atomic(path.as_ref(), &bytes)
}
