//! Status of every run of a sweep, and `results.csv`: one row per run with its id, seed,
//! status, the values of its point (axis or include keys) and the scalar fields of its
//! `summary.json` (nested objects flattened to dotted names, arrays left out).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::plan::{Plan, PlanEntry};
use crate::state::{self, RunStatus};

/// One run's state.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Its plan entry.
    pub entry: PlanEntry,
    /// Its run directory.
    pub run_dir: PathBuf,
    /// Its status.
    pub status: RunStatus,
    /// `summary.json`, when complete and readable.
    pub summary: Option<serde_json::Value>,
}

/// Every run of a sweep.
#[derive(Debug, Clone)]
pub struct Collection {
    /// The sweep directory.
    pub sweep_dir: PathBuf,
    /// The plan.
    pub plan: Plan,
    /// One report per planned run, in plan order.
    pub runs: Vec<RunReport>,
}

impl Collection {
    /// Runs whose status word is `word` (complete, running, failed, interrupted, pending).
    pub fn count(&self, word: &str) -> usize {
        self.runs.iter().filter(|r| r.status.word() == word).count()
    }

    /// Complete runs.
    pub fn complete(&self) -> usize {
        self.count("complete")
    }

    /// Runs without `summary.json`.
    pub fn incomplete(&self) -> usize {
        self.runs.len() - self.complete()
    }

    /// Failed runs.
    pub fn failed(&self) -> usize {
        self.count("failed")
    }

    /// Reads `SWEEP_DIR/plan.json` and the status of every planned run; writes nothing.
    pub fn read(sweep_dir: &Path) -> anyhow::Result<Collection> {
        let plan = Plan::load(&sweep_dir.join("plan.json"))?;
        let mut runs = Vec::with_capacity(plan.runs.len());
        for entry in &plan.runs {
            let run_dir = sweep_dir.join("runs").join(&entry.id);
            let status = state::run_status(&run_dir);
            let summary = if status == RunStatus::Complete {
                match brainlike_run::summary::read_json(&run_dir.join(state::SUMMARY_FILE)) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        eprintln!("warning: {e}");
                        None
                    }
                }
            } else {
                None
            };
            runs.push(RunReport {
                entry: entry.clone(),
                run_dir,
                status,
                summary,
            });
        }
        Ok(Collection {
            sweep_dir: sweep_dir.to_path_buf(),
            plan,
            runs,
        })
    }

    /// Runs by status word, in [`RunStatus::WORDS`] order; the counts add up to the runs.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        RunStatus::WORDS
            .iter()
            .map(|w| (*w, self.count(w)))
            .collect()
    }

    /// Writes `results.csv` (see the module docs), atomically.
    pub fn write_csv(&self, path: &Path) -> anyhow::Result<()> {
        let mut point_keys = BTreeSet::new();
        let mut summary_keys = BTreeSet::new();
        let mut flat: Vec<BTreeMap<String, String>> = Vec::new();
        for r in &self.runs {
            for o in &r.entry.point {
                point_keys.insert(o.key.clone());
            }
            let mut m = BTreeMap::new();
            if let Some(s) = &r.summary {
                flatten_json("", s, &mut m);
            }
            summary_keys.extend(m.keys().cloned());
            flat.push(m);
        }
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec![
            "run_id".to_string(),
            "index".into(),
            "seed".into(),
            "status".into(),
        ];
        header.extend(point_keys.iter().cloned());
        // Summary fields that clash with the columns above get a prefix.
        let summary_cols: Vec<(String, String)> = summary_keys
            .iter()
            .map(|k| {
                let col = if header.contains(k) {
                    format!("summary.{k}")
                } else {
                    k.clone()
                };
                (k.clone(), col)
            })
            .collect();
        header.extend(summary_cols.iter().map(|(_, c)| c.clone()));
        w.write_record(&header)?;
        for (r, m) in self.runs.iter().zip(&flat) {
            let mut row = vec![
                r.entry.id.clone(),
                r.entry.index.to_string(),
                r.entry.seed.to_string(),
                r.status.word().to_string(),
            ];
            for k in &point_keys {
                row.push(
                    r.entry
                        .point
                        .iter()
                        .find(|o| &o.key == k)
                        .map(|o| match &o.value {
                            toml::Value::String(s) => s.clone(),
                            v => v.to_string(),
                        })
                        .unwrap_or_default(),
                );
            }
            for (k, _) in &summary_cols {
                row.push(m.get(k).cloned().unwrap_or_default());
            }
            w.write_record(&row)?;
        }
        let bytes = w.into_inner().context("writing results.csv in memory")?;
        brainlike_run::write_atomic(path, &bytes)?;
        Ok(())
    }
}

impl fmt::Display for Collection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts: Vec<String> = self
            .counts()
            .iter()
            .map(|(w, n)| format!("{n} {w}"))
            .collect();
        writeln!(
            f,
            "sweep {}: {} planned: {}",
            self.sweep_dir.display(),
            self.runs.len(),
            counts.join(", ")
        )?;
        for r in &self.runs {
            match &r.status {
                RunStatus::Failed { message } => {
                    writeln!(f, "  failed  {}: {}", r.entry.id, first_line(message))?
                }
                RunStatus::Running { holder } => writeln!(f, "  running {}: {holder}", r.entry.id)?,
                _ => {}
            }
        }
        Ok(())
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn flatten_json(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    use serde_json::Value as J;
    match v {
        J::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_json(&key, v, out);
            }
        }
        J::Array(_) => {}
        J::Null => {
            out.insert(prefix.to_string(), String::new());
        }
        J::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// Reads `SWEEP_DIR/plan.json` and every run directory; writes `SWEEP_DIR/results.csv`.
pub fn collect(sweep_dir: &Path) -> anyhow::Result<Collection> {
    let c = Collection::read(sweep_dir)?;
    c.write_csv(&sweep_dir.join("results.csv"))?;
    Ok(c)
}
