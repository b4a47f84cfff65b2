//! The experiment file: one study of the paper, as a grid of `brainlike train` overrides.
//!
//! ```toml
//! # Fig. 2: accuracy vs. the weighting ratio r
//! name = "fig2_ratio"
//! base = "../configs/cornet_z.toml"   # optional, relative to this file; absent = built-in defaults
//! seeds = 10                          # 0..=9; or an explicit list: seeds = [0, 1, 2]
//!
//! [set]                               # fixed overrides for every run (dotted keys)
//! optim.epochs = 100
//! teacher.epochs = 10
//!
//! [axes]                              # full grid product, one run per combination and seed
//! teacher.ratio = [0, 0.01, 0.1, 1.0]
//!
//! [[include]]                         # extra runs that are not on the grid (each x seeds)
//! teacher.ratio = 0.1
//! teacher.lambda_mode = "static"
//!
//! [executor]                          # defaults; command-line flags win
//! kind = "local"                      # local | slurm
//! concurrency = 1                     # runs at once (local) / array throttle (slurm)
//! threads_per_run = 2
//! [executor.slurm]
//! partition = "cpu"
//! time = "24:00:00"
//! mem = "16G"
//! cpus_per_task = 8
//! max_parallel = 20
//! sbatch_args = ["--qos=normal"]
//! ```
//!
//! Keys may be written dotted (`teacher.ratio = ...`, which TOML reads as nested tables) or
//! quoted (`"teacher.ratio" = ...`); both flatten to the same dotted key. `seed`, `out_dir`
//! and `threads` are set by the sweep and may not be overridden.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::SweepError;

/// Keys the sweep sets itself for every run.
pub const RESERVED_KEYS: &[&str] = &["seed", "out_dir", "threads"];

/// Where runs execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    /// On this machine: N runs at once, T threads each.
    Local,
    /// As a Slurm job array over the incomplete runs.
    Slurm,
}

impl fmt::Display for ExecutorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExecutorKind::Local => "local",
            ExecutorKind::Slurm => "slurm",
        })
    }
}

/// `seeds = 10` (meaning 0..=9) or `seeds = [0, 4, 7]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Seeds {
    /// The first N seeds, 0..N.
    Count(u64),
    /// An explicit list (order kept, duplicates are an error).
    List(Vec<u64>),
}

impl Seeds {
    /// The seeds in run order.
    pub fn to_vec(&self) -> Vec<u64> {
        match self {
            Seeds::Count(n) => (0..*n).collect(),
            Seeds::List(v) => v.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for Seeds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SeedsVisitor;
        impl<'de> Visitor<'de> for SeedsVisitor {
            type Value = Seeds;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of seeds (seeds = 10 means 0..=9) or a list of seeds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seeds, E> {
                u64::try_from(v)
                    .map(Seeds::Count)
                    .map_err(|_| E::custom(format!("seeds = {v}: expected a count >= 1")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seeds, E> {
                Ok(Seeds::Count(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Seeds, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<u64>()? {
                    v.push(s);
                }
                Ok(Seeds::List(v))
            }
        }
        d.deserialize_any(SeedsVisitor)
    }
}

/// Slurm settings of `[executor.slurm]`; each becomes an `#SBATCH` line when set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmConfig {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time`, e.g. `"24:00:00"`.
    pub time: Option<String>,
    /// `--mem`, e.g. `"16G"`.
    pub mem: Option<String>,
    /// `--cpus-per-task`; also the threads each run uses. Default: `threads_per_run`, else 1.
    pub cpus_per_task: Option<usize>,
    /// The `%N` array throttle: at most N tasks at once. Default: `concurrency`, else none.
    pub max_parallel: Option<usize>,
    /// Extra `#SBATCH` arguments, verbatim (e.g. `"--gres=gpu:1"`).
    #[serde(default)]
    pub sbatch_args: Vec<String>,
}

/// `[executor]`: defaults for how the sweep runs; command-line flags override them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutorConfig {
    /// `local` (default) or `slurm`.
    pub kind: Option<ExecutorKind>,
    /// Runs at once on this machine (default 1).
    pub concurrency: Option<usize>,
    /// Threads per run (default: all cores / concurrency).
    pub threads_per_run: Option<usize>,
    /// Slurm settings.
    #[serde(default)]
    pub slurm: SlurmConfig,
}

/// The file as written (private: validated into [`Experiment`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExperiment {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    base: Option<PathBuf>,
    seeds: Seeds,
    #[serde(default)]
    set: toml::Table,
    #[serde(default)]
    axes: toml::Table,
    #[serde(default)]
    include: Vec<toml::Table>,
    #[serde(default)]
    executor: ExecutorConfig,
}

/// A validated experiment file.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its text (copied to `SWEEP_DIR/experiment.toml`).
    pub text: String,
    /// `name`: names the default sweep dir `sweeps/<name>`; letters, digits, `_-.` only.
    pub name: String,
    /// Optional free text.
    pub description: Option<String>,
    /// The base run config, resolved relative to the experiment file.
    pub base: Option<PathBuf>,
    /// Seeds, in run order.
    pub seeds: Vec<u64>,
    /// Fixed overrides, sorted by key.
    pub set: BTreeMap<String, toml::Value>,
    /// Grid axes, sorted by key; each a non-empty list of values.
    pub axes: Vec<(String, Vec<toml::Value>)>,
    /// Explicit extra points, in file order; keys sorted within each.
    pub include: Vec<BTreeMap<String, toml::Value>>,
    /// Executor defaults.
    pub executor: ExecutorConfig,
}

impl Experiment {
    /// Reads and validates an experiment file.
    pub fn load(path: &Path) -> anyhow::Result<Experiment> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read experiment file {}", path.display()))?;
        Self::parse(path, &text)
    }

    /// Validates experiment `text`; `path` names the file in errors and anchors `base`.
    pub fn parse(path: &Path, text: &str) -> anyhow::Result<Experiment> {
        let raw: RawExperiment = toml::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{}: {}",
                path.display(),
                e.to_string().trim_end().replace('\n', "\n  ")
            )
        })?;
        let invalid = |key: &str, expected: String| SweepError::invalid(path, key, expected);

        if raw.name.is_empty()
            || !raw
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            || raw.name.starts_with('.')
        {
            return Err(invalid(
                "name",
                format!(
                    "expected a non-empty name of letters, digits, `_`, `-`, `.` (it names \
                     the sweep directory), found {:?}",
                    raw.name
                ),
            )
            .into());
        }

        let seeds = raw.seeds.to_vec();
        if seeds.is_empty() {
            return Err(invalid("seeds", "expected at least one seed".into()).into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for s in &seeds {
            if !seen.insert(*s) {
                return Err(invalid("seeds", format!("seed {s} is listed twice")).into());
            }
        }

        let set = flatten_section(path, "set", &raw.set)?;
        let mut axes = Vec::new();
        for (key, value) in flatten_section(path, "axes", &raw.axes)? {
            let where_ = format!("[axes] {key}");
            let values = match value {
                toml::Value::Array(v) if !v.is_empty() => v,
                toml::Value::Array(_) => {
                    return Err(
                        invalid(&where_, "expected a non-empty list of values".into()).into(),
                    );
                }
                other => {
                    return Err(invalid(
                        &where_,
                        format!(
                            "expected a list of values (an axis), found {} {other}; put single \
                             values under [set]",
                            other.type_str()
                        ),
                    )
                    .into());
                }
            };
            for (i, v) in values.iter().enumerate() {
                if v.is_table() {
                    return Err(invalid(
                        &where_,
                        format!("value #{i} is a table; expected a number, string or boolean"),
                    )
                    .into());
                }
                if values[..i].contains(v) {
                    return Err(invalid(&where_, format!("value {v} is listed twice")).into());
                }
            }
            axes.push((key, values));
        }
        let mut include = Vec::new();
        for (i, table) in raw.include.iter().enumerate() {
            let section = format!("include #{}", i + 1);
            let point = flatten_section(path, &section, table)?;
            if point.is_empty() {
                return Err(invalid(&format!("[[include]] #{}", i + 1), "is empty".into()).into());
            }
            include.push(point);
        }

        let base = raw.base.map(|b| {
            if b.is_absolute() {
                b
            } else {
                path.parent().unwrap_or(Path::new(".")).join(b)
            }
        });
        if let Some(b) = &base
            && !b.is_file()
        {
            return Err(invalid(
                "base",
                format!(
                    "expected a run config file, but {} does not exist",
                    b.display()
                ),
            )
            .into());
        }
        if raw.executor.concurrency == Some(0) {
            return Err(invalid("executor.concurrency", "expected at least 1".into()).into());
        }
        if raw.executor.threads_per_run == Some(0) {
            return Err(invalid("executor.threads_per_run", "expected at least 1".into()).into());
        }

        Ok(Experiment {
            path: path.to_path_buf(),
            text: text.to_string(),
            name: raw.name,
            description: raw.description,
            base,
            seeds,
            set,
            axes,
            include,
            executor: raw.executor,
        })
    }
}

/// Flattens a table of (possibly nested, possibly quoted-dotted) keys into dotted keys.
fn flatten_section(
    file: &Path,
    section: &str,
    table: &toml::Table,
) -> anyhow::Result<BTreeMap<String, toml::Value>> {
    let mut out = BTreeMap::new();
    flatten_into(file, section, "", table, &mut out)?;
    Ok(out)
}

fn flatten_into(
    file: &Path,
    section: &str,
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<String, toml::Value>,
) -> anyhow::Result<()> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let where_ = format!("[{section}] {key}");
        if key.split('.').any(|seg| {
            seg.is_empty()
                || !seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }) {
            return Err(SweepError::invalid(
                file,
                where_,
                "expected a dotted key of letters, digits, `_` and `-` (like teacher.ratio)",
            )
            .into());
        }
        if RESERVED_KEYS.contains(&key.as_str()) {
            let hint = if key == "seed" {
                "use the top-level `seeds` instead"
            } else {
                "the sweep sets it for every run"
            };
            return Err(SweepError::invalid(
                file,
                where_,
                format!("`{key}` cannot be overridden here: {hint}"),
            )
            .into());
        }
        match v {
            toml::Value::Table(t) => flatten_into(file, section, &key, t, out)?,
            other => {
                if out.insert(key.clone(), other.clone()).is_some() {
                    return Err(SweepError::invalid(
                        file,
                        where_,
                        "is given twice (once dotted, once quoted?)",
                    )
                    .into());
                }
            }
        }
    }
    Ok(())
}
