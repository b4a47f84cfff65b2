//! Reading a sweep directory: `SWEEP/runs/<run_id>/{config.toml, metrics.csv,
//! summary.json, analysis/activation_variance.json, analysis/tsne.csv}`. The run-directory
//! files and statuses are brainlike-run's; this module adds the analysis files and what a
//! report may use of a run.

use crate::error::{Result, StatsError};
use brainlike_run::{RunConfig, RunStatus};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One row of `metrics.csv` (brainlike-run's [`brainlike_run::EpochRow`]).
pub use brainlike_run::EpochRow as MetricsRow;
pub use brainlike_run::flatten_toml;

/// One point of `analysis/tsne.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TsnePoint {
    /// First coordinate.
    pub x: f64,
    /// Second coordinate.
    pub y: f64,
    /// Fine label.
    pub label: usize,
    /// Coarse label (superclass).
    pub coarse_label: usize,
}

/// One run of a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// Directory name under `runs/`.
    pub run_id: String,
    /// Run directory.
    pub dir: PathBuf,
    /// `config.toml` flattened to dotted keys (values as text; strings unquoted).
    pub config: BTreeMap<String, String>,
    /// Where the run stands (complete iff `summary.json` exists).
    pub status: RunStatus,
    /// Why a file of the run could not be read, if one could not: the run is not used.
    pub invalid: Option<String>,
    /// Rows of `metrics.csv`, sorted by epoch.
    pub metrics: Vec<MetricsRow>,
    /// `analysis/activation_variance.json`'s `mean_unit_variance`, when present.
    pub activation_variance: Option<f64>,
    /// `analysis/activation_variance.json`'s `layer`, when present.
    pub activation_layer: Option<String>,
    /// `analysis/tsne.csv`, when present.
    pub tsne: Option<Vec<TsnePoint>>,
}

impl RunRecord {
    /// The last metrics row, if any.
    pub fn last(&self) -> Option<&MetricsRow> {
        self.metrics.last()
    }

    /// Complete and readable: used in the final-epoch statistics.
    pub fn is_finished(&self) -> bool {
        self.invalid.is_none() && self.status == RunStatus::Complete
    }

    /// Some epochs but no `summary.json` (running, interrupted or failed): used in the
    /// per-epoch curves only.
    pub fn is_partial(&self) -> bool {
        self.invalid.is_none() && self.status != RunStatus::Complete && !self.metrics.is_empty()
    }

    /// No finished epoch and no summary.
    pub fn is_missing(&self) -> bool {
        self.invalid.is_none() && self.status != RunStatus::Complete && self.metrics.is_empty()
    }

    /// A file could not be read.
    pub fn is_invalid(&self) -> bool {
        self.invalid.is_some()
    }

    /// Short text for tables: finished, partial (...), missing (...), invalid: reason.
    pub fn describe(&self) -> String {
        if let Some(reason) = &self.invalid {
            return format!("invalid: {reason}");
        }
        if self.is_finished() {
            return "finished".into();
        }
        let why = match &self.status {
            RunStatus::Running { holder } => format!("running: {holder}; "),
            RunStatus::Failed { message } => {
                format!("failed: {}; ", message.lines().next().unwrap_or(""))
            }
            _ => String::new(),
        };
        if self.metrics.is_empty() {
            format!("missing ({why}no finished epoch)")
        } else {
            format!("partial ({why}no summary.json)")
        }
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| StatsError::io(path, "reading", e))
}

/// Read `metrics.csv`, sorted by epoch. Required columns: `epoch`, `train_loss`,
/// `train_acc`, `test_loss`, `test_acc`, `superclass_error_frac`; the others are NaN when
/// absent.
pub fn read_metrics_csv(path: &Path) -> Result<Vec<MetricsRow>> {
    let mut rows = brainlike_run::read_metrics(path)?;
    rows.sort_by_key(|r| r.epoch);
    Ok(rows)
}

/// Read `analysis/tsne.csv` (`x,y,label,coarse_label`).
pub fn read_tsne_csv(path: &Path) -> Result<Vec<TsnePoint>> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| StatsError::parse(path, "header", "a CSV file", e.to_string()))?;
    let headers = rdr
        .headers()
        .map_err(|e| StatsError::parse(path, "line 1", "a CSV header", e.to_string()))?
        .clone();
    let names = ["x", "y", "label", "coarse_label"];
    let mut idx = [0usize; 4];
    for (slot, name) in idx.iter_mut().zip(names) {
        *slot = headers.iter().position(|h| h == name).ok_or_else(|| {
            StatsError::parse(
                path,
                "line 1",
                "header x,y,label,coarse_label",
                headers.iter().collect::<Vec<_>>().join(","),
            )
        })?;
    }
    let mut out = Vec::new();
    for (k, rec) in rdr.records().enumerate() {
        let line = k + 2;
        let rec = rec.map_err(|e| {
            StatsError::parse(path, format!("line {line}"), "a CSV record", e.to_string())
        })?;
        let field = |j: usize| rec.get(idx[j]).unwrap_or("");
        let f = |j: usize| -> Result<f64> {
            field(j).parse().map_err(|_| {
                StatsError::parse(
                    path,
                    format!("line {line}, column `{}`", names[j]),
                    "a number",
                    format!("{:?}", field(j)),
                )
            })
        };
        let u = |j: usize| -> Result<usize> {
            field(j).parse().map_err(|_| {
                StatsError::parse(
                    path,
                    format!("line {line}, column `{}`", names[j]),
                    "a class index",
                    format!("{:?}", field(j)),
                )
            })
        };
        out.push(TsnePoint {
            x: f(0)?,
            y: f(1)?,
            label: u(2)?,
            coarse_label: u(3)?,
        });
    }
    Ok(out)
}

/// Read `analysis/activation_variance.json`: `(layer, mean_unit_variance)`.
pub fn read_activation_variance(path: &Path) -> Result<(Option<String>, f64)> {
    let text = read_text(path)?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        StatsError::parse(path, format!("line {}", e.line()), "JSON", e.to_string())
    })?;
    let var = v
        .get("mean_unit_variance")
        .and_then(|x| x.as_f64())
        .ok_or_else(|| {
            StatsError::parse(
                path,
                "key `mean_unit_variance`",
                "a number",
                v.get("mean_unit_variance")
                    .map_or("nothing".to_string(), |x| x.to_string()),
            )
        })?;
    Ok((
        v.get("layer").and_then(|x| x.as_str()).map(String::from),
        var,
    ))
}

fn load_run(dir: &Path) -> RunRecord {
    let run_id = dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut rec = RunRecord {
        run_id,
        dir: dir.to_path_buf(),
        config: BTreeMap::new(),
        status: brainlike_run::run_status(dir, None),
        invalid: None,
        metrics: Vec::new(),
        activation_variance: None,
        activation_layer: None,
        tsne: None,
    };
    match RunConfig::read(&dir.join(brainlike_run::CONFIG_FILE)) {
        Ok(c) => rec.config = c.flatten(),
        Err(e) => {
            rec.invalid = Some(e.to_string());
            return rec;
        }
    }
    let metrics_path = dir.join(brainlike_run::METRICS_FILE);
    if metrics_path.is_file() {
        match read_metrics_csv(&metrics_path) {
            Ok(m) => rec.metrics = m,
            Err(e) => {
                rec.invalid = Some(e.to_string());
                return rec;
            }
        }
    }
    if rec.status == RunStatus::Complete && rec.metrics.is_empty() {
        rec.invalid = Some(format!(
            "{}: summary.json exists but metrics.csv has no rows",
            dir.display()
        ));
    }
    let av = dir.join(brainlike_run::ACTIVATION_VARIANCE_FILE);
    if av.is_file() {
        match read_activation_variance(&av) {
            Ok((layer, v)) => {
                rec.activation_variance = Some(v);
                rec.activation_layer = layer;
            }
            Err(e) => rec.invalid = Some(e.to_string()),
        }
    }
    let ts = dir.join(brainlike_run::TSNE_FILE);
    if ts.is_file() {
        match read_tsne_csv(&ts) {
            Ok(p) => rec.tsne = Some(p),
            Err(e) => rec.invalid = Some(e.to_string()),
        }
    }
    rec
}

/// Read every run directory under `sweep_dir/runs/`, sorted by run id. Unreadable runs
/// are returned with [`RunRecord::invalid`] set; only a missing `runs/` folder is an error.
pub fn load_runs(sweep_dir: &Path) -> Result<Vec<RunRecord>> {
    let runs_dir = sweep_dir.join("runs");
    if !runs_dir.is_dir() {
        return Err(StatsError::InvalidArgument(format!(
            "{} is not a sweep directory (it has no runs/ folder): give the folder `brainlike \
             sweep` wrote, e.g. sweeps/<experiment name>",
            sweep_dir.display()
        )));
    }
    let entries =
        std::fs::read_dir(&runs_dir).map_err(|e| StatsError::io(&runs_dir, "listing", e))?;
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StatsError::io(&runs_dir, "listing", e))?;
        if entry.path().is_dir() {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    let mut runs: Vec<RunRecord> = dirs.iter().map(|d| load_run(d)).collect();
    mark_repeats(&mut runs);
    Ok(runs)
}

/// Keys that do not change what a run computes: where it wrote, read data, and ran.
const NOT_IDENTITY: &[&str] = &["out_dir", "threads", "device", "data.dir", "data.offline"];

/// Two runs with the same configuration and seed are one sample, not n = 2: every repeat
/// after the first (finished runs first, then by run id) is marked [`RunRecord::invalid`],
/// naming the run it repeats, and is not counted.
fn mark_repeats(runs: &mut [RunRecord]) {
    let counts = |r: &RunRecord| r.is_finished() || r.is_partial();
    let mut order: Vec<usize> = (0..runs.len()).filter(|&i| counts(&runs[i])).collect();
    order.sort_by_key(|&i| (!runs[i].is_finished(), runs[i].run_id.clone()));
    let mut seen: BTreeMap<Vec<(String, String)>, String> = BTreeMap::new();
    for i in order {
        let key: Vec<(String, String)> = runs[i]
            .config
            .iter()
            .filter(|(k, _)| !NOT_IDENTITY.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        match seen.get(&key) {
            Some(first) => {
                runs[i].invalid = Some(format!(
                    "same configuration and seed as run {first}: a repeat, not an \
                     independent sample; counted once (as {first})"
                ));
            }
            None => {
                seen.insert(key, runs[i].run_id.clone());
            }
        }
    }
}
