//! Deterministic expansion of an [`Experiment`] into runs, with stable run ids; `plan.json`.
//!
//! Order: seeds outermost (so adding seeds appends runs and a partly run sweep already
//! has one seed of every configuration), then the grid in row-major order over the axes
//! sorted by key (last axis fastest), then the `[[include]]` points in file order.
//!
//! The grid contributes one point with no axis values when there are neither axes nor
//! includes (a plain "N seeds of one config" experiment); with includes but no axes only
//! the includes run.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::error::SweepError;
use crate::experiment::Experiment;

/// Run ids longer than this are shortened and given a hash suffix.
pub const MAX_ID_LEN: usize = 96;

/// Version of the `plan.json` layout.
pub const PLAN_VERSION: u32 = 1;

/// One `--set key=value` override; `value` is a TOML value.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Dotted key, e.g. `teacher.ratio`.
    pub key: String,
    /// The value, e.g. `0.1` or `"v1_shuffled"`.
    pub value: toml::Value,
}

impl Override {
    /// A new override.
    pub fn new(key: impl Into<String>, value: impl Into<toml::Value>) -> Self {
        Override {
            key: key.into(),
            value: value.into(),
        }
    }

    /// The value as a TOML literal: `0.1`, `"v1"`, `true`.
    pub fn value_literal(&self) -> String {
        self.value.to_string()
    }

    /// The argument of `--set`: `key=<TOML literal>`, e.g. `teacher.pairs="v1"`.
    pub fn to_arg(&self) -> String {
        format!("{}={}", self.key, self.value_literal())
    }
}

/// How an override is stored in `plan.json`: `{"key": "teacher.pairs", "value": "\"v1\""}`
/// (the value as its TOML literal, exactly what `--set` receives).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideRepr {
    key: String,
    value: String,
}

impl Serialize for Override {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        OverrideRepr {
            key: self.key.clone(),
            value: self.value_literal(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Override {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = OverrideRepr::deserialize(d)?;
        let value = parse_value(&r.value).map_err(|e| {
            serde::de::Error::custom(format!(
                "override {}: bad TOML value {:?}: {e}",
                r.key, r.value
            ))
        })?;
        Ok(Override { key: r.key, value })
    }
}

/// Parses a TOML value literal (`0.1`, `"v1"`, `[1, 2]`).
pub fn parse_value(literal: &str) -> anyhow::Result<toml::Value> {
    Ok(literal.parse::<toml::Value>()?)
}

/// One expanded run as stored in `plan.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanEntry {
    /// Position in the plan (the Slurm array index).
    pub index: usize,
    /// Stable, readable, file-name-safe id; also the run directory name.
    pub id: String,
    /// The seed (also present in `overrides` as `seed`).
    pub seed: u64,
    /// The axis or include values that distinguish this run (its id), in key order.
    pub point: Vec<Override>,
    /// Every override, sorted by key: `[set]`, then the point, then `seed`.
    pub overrides: Vec<Override>,
}

/// `plan.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// [`PLAN_VERSION`].
    pub version: u32,
    /// The experiment name.
    pub name: String,
    /// The base config's file name inside the sweep dir (`base.toml`), if any.
    pub base: Option<String>,
    /// The runs, by index.
    pub runs: Vec<PlanEntry>,
}

/// A run ready to execute: its plan entry plus where and how.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    /// Position in the plan.
    pub index: usize,
    /// Run id (directory name).
    pub id: String,
    /// Seed.
    pub seed: u64,
    /// Every override but `out_dir` and `threads` (see [`PlannedRun::set_args`]).
    pub overrides: Vec<Override>,
    /// The base config (the sweep's copy), or `None` for built-in defaults.
    pub base: Option<PathBuf>,
    /// The run directory, `SWEEP_DIR/runs/<id>`; the trainer's `out_dir`.
    pub out_dir: PathBuf,
    /// True when the run directory holds an interrupted run: pass `--resume`.
    pub resume: bool,
}

impl PlannedRun {
    /// Every override the trainer gets, in order: the plan's overrides, then `out_dir` and
    /// `threads`. An in-process runner applies exactly these on top of the base config.
    pub fn all_overrides(&self, threads: usize) -> Vec<Override> {
        let mut v = self.overrides.clone();
        v.push(Override::new(
            "out_dir",
            self.out_dir.to_string_lossy().into_owned(),
        ));
        v.push(Override::new("threads", threads as i64));
        v
    }

    /// The `--set` arguments: `key=value` strings of [`PlannedRun::all_overrides`].
    pub fn set_args(&self, threads: usize) -> Vec<String> {
        self.all_overrides(threads)
            .iter()
            .map(Override::to_arg)
            .collect()
    }
}

impl Plan {
    /// Expands an experiment (pure: touches no files).
    pub fn expand(exp: &Experiment) -> anyhow::Result<Plan> {
        let mut points: Vec<Vec<(String, toml::Value)>> = Vec::new();
        if !exp.axes.is_empty() || exp.include.is_empty() {
            // Row-major product, last axis fastest.
            let mut grid: Vec<Vec<(String, toml::Value)>> = vec![Vec::new()];
            for (key, values) in &exp.axes {
                let mut next = Vec::with_capacity(grid.len() * values.len());
                for p in &grid {
                    for v in values {
                        let mut q = p.clone();
                        q.push((key.clone(), v.clone()));
                        next.push(q);
                    }
                }
                grid = next;
            }
            points.extend(grid);
        }
        for inc in &exp.include {
            points.push(inc.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        }

        let mut runs = Vec::new();
        let mut by_id: HashMap<String, usize> = HashMap::new();
        for &seed in &exp.seeds {
            for point in &points {
                let mut all: BTreeMap<String, toml::Value> = exp.set.clone();
                for (k, v) in point {
                    all.insert(k.clone(), v.clone());
                }
                all.insert("seed".into(), toml::Value::Integer(seed as i64));
                let overrides: Vec<Override> = all
                    .into_iter()
                    .map(|(key, value)| Override { key, value })
                    .collect();
                let point: Vec<Override> = point
                    .iter()
                    .map(|(k, v)| Override::new(k.clone(), v.clone()))
                    .collect();
                let id = run_id(&point, seed);
                let index = runs.len();
                if let Some(&other) = by_id.get(&id) {
                    let o: &PlanEntry = &runs[other];
                    let what = if o.overrides == overrides {
                        "the same overrides appear twice (an [[include]] repeating a grid point?)"
                            .to_string()
                    } else {
                        format!(
                            "two different runs map to the same id `{id}` (values that differ \
                             only in characters not allowed in file names?)"
                        )
                    };
                    return Err(SweepError::invalid(&exp.path, "axes/include", what).into());
                }
                by_id.insert(id.clone(), index);
                runs.push(PlanEntry {
                    index,
                    id,
                    seed,
                    point,
                    overrides,
                });
            }
        }
        Ok(Plan {
            version: PLAN_VERSION,
            name: exp.name.clone(),
            base: exp.base.as_ref().map(|_| "base.toml".to_string()),
            runs,
        })
    }

    /// Reads `plan.json`.
    pub fn load(path: &Path) -> anyhow::Result<Plan> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read sweep plan {}", path.display()))?;
        let plan: Plan = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid sweep plan", path.display()))?;
        if plan.version != PLAN_VERSION {
            anyhow::bail!(
                "{}: plan version {} but this brainlike writes version {PLAN_VERSION}",
                path.display(),
                plan.version
            );
        }
        Ok(plan)
    }

    /// Writes `plan.json` atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)? + "\n";
        Ok(brainlike_run::write_atomic(path, text.as_bytes())?)
    }

    /// The entry with this id.
    pub fn get(&self, id: &str) -> Option<&PlanEntry> {
        self.runs.iter().find(|r| r.id == id)
    }

    /// The runnable form of entry `entry`, inside `sweep_dir` (resume flag unset).
    pub fn planned_run(&self, sweep_dir: &Path, entry: &PlanEntry) -> PlannedRun {
        PlannedRun {
            index: entry.index,
            id: entry.id.clone(),
            seed: entry.seed,
            overrides: entry.overrides.clone(),
            base: self.base.as_ref().map(|b| sweep_dir.join(b)),
            out_dir: sweep_dir.join("runs").join(&entry.id),
            resume: false,
        }
    }
}

/// The run id of a point and seed: `k1=v1,k2=v2__seed=S`, characters outside
/// `[A-Za-z0-9._=,+-]` replaced by `_`; ids over [`MAX_ID_LEN`] are cut and suffixed
/// with a hash of the full id.
pub fn run_id(point: &[Override], seed: u64) -> String {
    let parts: Vec<String> = point
        .iter()
        .map(|o| format!("{}={}", o.key, plain(&o.value)))
        .collect();
    let full = if parts.is_empty() {
        format!("seed={seed}")
    } else {
        format!("{}__seed={seed}", parts.join(","))
    };
    let mut id: String = full
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._=,+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if id.starts_with('.') {
        id.replace_range(0..1, "_");
    }
    if id.len() > MAX_ID_LEN {
        let hash = format!("{:016x}", fnv1a64(full.as_bytes()));
        // Keep the seed visible at the end.
        let tail = format!("~{}__seed={seed}", &hash[..10]);
        id.truncate(MAX_ID_LEN - tail.len());
        id.push_str(&tail);
    }
    id
}

/// A value as it reads in a run id: strings unquoted, arrays joined by `+`.
fn plain(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join("+"),
        other => other.to_string(),
    }
}

/// 64-bit FNV-1a: a hash that is stable across Rust versions and platforms.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
