//! Reading a sweep directory: `SWEEP/runs/<run_id>/{config.toml, metrics.csv,
//! summary.json, analysis/activation_variance.json, analysis/tsne.csv}`.

use crate::error::{Result, StatsError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One row of `metrics.csv` (accuracies are fractions 0..1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MetricsRow {
    /// Epoch (1-based in the trainer's files).
    pub epoch: u32,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy.
    pub train_acc: f64,
    /// Test loss.
    pub test_loss: f64,
    /// Test accuracy.
    pub test_acc: f64,
    /// Superclass accuracy (NaN if the column is absent).
    pub test_coarse_acc: f64,
    /// Of the test errors, the fraction within the true superclass (Table 1).
    pub superclass_error_frac: f64,
}

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

/// Where a run stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum RunStatus {
    /// `summary.json` exists.
    Finished,
    /// Some epochs written, no `summary.json` yet (running, crashed or stopped).
    Partial,
    /// No finished epoch (`metrics.csv` absent or empty).
    NoEpochs,
    /// A file could not be read; the run is not used.
    Invalid {
        /// The error, naming the file and place.
        reason: String,
    },
}

impl RunStatus {
    /// Short text for tables.
    pub fn describe(&self) -> String {
        match self {
            RunStatus::Finished => "finished".into(),
            RunStatus::Partial => "partial (no summary.json)".into(),
            RunStatus::NoEpochs => "missing (no finished epoch)".into(),
            RunStatus::Invalid { reason } => format!("invalid: {reason}"),
        }
    }
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
    /// Status.
    pub status: RunStatus,
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
}

/// Flatten a TOML table to dotted keys. Strings are unquoted; other values use TOML's
/// notation (arrays and inline tables as TOML text).
pub fn flatten_toml(value: &toml::Value) -> BTreeMap<String, String> {
    fn go(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    go(&key, v, out);
                }
            }
            toml::Value::String(s) => {
                out.insert(prefix.to_string(), s.clone());
            }
            toml::Value::Float(f) => {
                out.insert(prefix.to_string(), format!("{f}"));
            }
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    go("", value, &mut out);
    out
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| StatsError::io(path, "reading", e))
}

/// Read `metrics.csv`. Required columns: `epoch`, `train_loss`, `train_acc`,
/// `test_loss`, `test_acc`, `superclass_error_frac`; `test_coarse_acc` optional.
pub fn read_metrics_csv(path: &Path) -> Result<Vec<MetricsRow>> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| StatsError::parse(path, "header", "a CSV file", e.to_string()))?;
    let headers = rdr
        .headers()
        .map_err(|e| StatsError::parse(path, "line 1", "a CSV header", e.to_string()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let required = [
        "epoch",
        "train_loss",
        "train_acc",
        "test_loss",
        "test_acc",
        "superclass_error_frac",
    ];
    let mut idx = BTreeMap::new();
    for name in required {
        let i = col(name).ok_or_else(|| {
            StatsError::parse(
                path,
                "line 1",
                format!("a `{name}` column"),
                headers.iter().collect::<Vec<_>>().join(","),
            )
        })?;
        idx.insert(name, i);
    }
    let coarse = col("test_coarse_acc");
    let mut rows = Vec::new();
    for (k, rec) in rdr.records().enumerate() {
        let line = k + 2;
        let rec = rec.map_err(|e| {
            StatsError::parse(path, format!("line {line}"), "a CSV record", e.to_string())
        })?;
        let num = |name: &str, i: usize| -> Result<f64> {
            let text = rec.get(i).unwrap_or("");
            text.parse::<f64>().map_err(|_| {
                StatsError::parse(
                    path,
                    format!("line {line}, column `{name}`"),
                    "a number",
                    format!("{text:?}"),
                )
            })
        };
        let epoch_text = rec.get(idx["epoch"]).unwrap_or("");
        let epoch = epoch_text.parse::<u32>().map_err(|_| {
            StatsError::parse(
                path,
                format!("line {line}, column `epoch`"),
                "a non-negative integer",
                format!("{epoch_text:?}"),
            )
        })?;
        rows.push(MetricsRow {
            epoch,
            train_loss: num("train_loss", idx["train_loss"])?,
            train_acc: num("train_acc", idx["train_acc"])?,
            test_loss: num("test_loss", idx["test_loss"])?,
            test_acc: num("test_acc", idx["test_acc"])?,
            test_coarse_acc: match coarse {
                Some(i) => num("test_coarse_acc", i)?,
                None => f64::NAN,
            },
            superclass_error_frac: num("superclass_error_frac", idx["superclass_error_frac"])?,
        });
    }
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
        status: RunStatus::NoEpochs,
        metrics: Vec::new(),
        activation_variance: None,
        activation_layer: None,
        tsne: None,
    };
    let invalid = |rec: &mut RunRecord, e: StatsError| {
        rec.status = RunStatus::Invalid {
            reason: e.to_string(),
        };
    };
    let cfg_path = dir.join("config.toml");
    let cfg = read_text(&cfg_path).and_then(|text| {
        text.parse::<toml::Table>().map_err(|e| {
            let loc = e
                .span()
                .map(|s| format!("line {}", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_else(|| "document".into());
            StatsError::parse(&cfg_path, loc, "TOML", e.message().to_string())
        })
    });
    match cfg {
        Ok(t) => rec.config = flatten_toml(&toml::Value::Table(t)),
        Err(e) => {
            invalid(&mut rec, e);
            return rec;
        }
    }
    let metrics_path = dir.join("metrics.csv");
    if metrics_path.is_file() {
        match read_metrics_csv(&metrics_path) {
            Ok(m) => rec.metrics = m,
            Err(e) => {
                invalid(&mut rec, e);
                return rec;
            }
        }
    }
    rec.status = if dir.join("summary.json").is_file() {
        if rec.metrics.is_empty() {
            RunStatus::Invalid {
                reason: format!(
                    "{}: summary.json exists but metrics.csv has no rows",
                    dir.display()
                ),
            }
        } else {
            RunStatus::Finished
        }
    } else if rec.metrics.is_empty() {
        RunStatus::NoEpochs
    } else {
        RunStatus::Partial
    };
    let av = dir.join("analysis").join("activation_variance.json");
    if av.is_file() {
        match read_activation_variance(&av) {
            Ok((layer, v)) => {
                rec.activation_variance = Some(v);
                rec.activation_layer = layer;
            }
            Err(e) => invalid(&mut rec, e),
        }
    }
    let ts = dir.join("analysis").join("tsne.csv");
    if ts.is_file() {
        match read_tsne_csv(&ts) {
            Ok(p) => rec.tsne = Some(p),
            Err(e) => invalid(&mut rec, e),
        }
    }
    rec
}

/// Read every run directory under `sweep_dir/runs/`, sorted by run id. Unreadable runs
/// are returned with [`RunStatus::Invalid`]; only a missing `runs/` folder is an error.
pub fn load_runs(sweep_dir: &Path) -> Result<Vec<RunRecord>> {
    let runs_dir = sweep_dir.join("runs");
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
    Ok(dirs.iter().map(|d| load_run(d)).collect())
}
