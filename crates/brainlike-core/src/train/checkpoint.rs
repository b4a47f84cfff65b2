//! Checkpoints after epochs (and, when configured, inside them): model (burnpack, parameter
//! ids kept so optimiser state matches), optimiser state, and the metrics so far. Every file is written atomically and `state.json`
//! last, so a checkpoint without `state.json` is incomplete and ignored.
//!
//! `state.json` also records the SHA-256 of `model.bpk` and `optim.bpk` and the run's
//! configuration (`config.toml`'s text): a damaged file is found before it is loaded, and a
//! resumed run is checked against the configuration the checkpoint was trained with even when
//! the run's `config.toml` is gone. When the newest checkpoint is damaged, [`load_latest`]
//! falls back to the newest intact one and says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::optim::ModuleOptimizer;
use burn::tensor::Bytes;
use burn_store::{BurnpackStore, ModuleSnapshot};
use serde::{Deserialize, Serialize};

use super::metrics::EpochMetrics;
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::models::Network;

/// What `state.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Last finished epoch (1-based).
    pub epoch: usize,
    /// Metrics of epochs 1..=epoch.
    pub rows: Vec<EpochMetrics>,
    /// Optimiser steps taken.
    pub steps: u64,
    /// λ frozen by the static mode, once known (checkpoints written before objectives kept
    /// their own state; read for them, written as `objectives.teacher` now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_lambda: Option<f64>,
    /// Each stateful objective's state, by objective name.
    #[serde(default)]
    pub objectives: BTreeMap<String, serde_json::Value>,
    /// Wall-clock seconds spent training up to this checkpoint, over every invocation
    /// (absent in older checkpoints: the sum of the epochs' seconds is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// The run's configuration (`config.toml` text) when the checkpoint was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Each after-step hook's state, by hook name (its network, if any, is `<name>.bpk`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hooks: BTreeMap<String, serde_json::Value>,
    /// SHA-256 (hex) of each file of the checkpoint, by file name (absent in older
    /// checkpoints, which are loaded unchecked).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sha256: BTreeMap<String, String>,
    /// For a mid-epoch checkpoint: where inside epoch `epoch + 1` (the epoch in progress) it
    /// was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<WithinEpoch>,
}

/// Where a mid-epoch checkpoint stands in its epoch, and the trainer's running figures of that
/// epoch so far (restored exactly: the epoch's `metrics.csv` row is that of an uninterrupted run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithinEpoch {
    /// Minibatches of the epoch in progress trained.
    pub batches: usize,
    /// The trainer's device-side sums over those minibatches (f32 values, exact as f64), by name.
    pub sums: BTreeMap<String, f64>,
    /// The trainer's counters over those minibatches, by name.
    pub counts: BTreeMap<String, usize>,
    /// Wall-clock seconds of those minibatches' training, and of the epoch so far.
    pub train_seconds: f64,
    /// Wall-clock seconds of the epoch so far.
    pub epoch_seconds: f64,
}

impl CheckpointState {
    /// The state after `epoch` with `steps` optimiser steps and the objectives' states.
    pub fn new(
        epoch: usize,
        rows: Vec<EpochMetrics>,
        steps: u64,
        objectives: BTreeMap<String, serde_json::Value>,
    ) -> Self {
        Self {
            epoch,
            rows,
            steps,
            fixed_lambda: None,
            objectives,
            seconds: None,
            config: None,
            hooks: BTreeMap::new(),
            sha256: BTreeMap::new(),
            within: None,
        }
    }

    /// Records the training seconds so far and the run's configuration text.
    pub fn with_run(mut self, seconds: f64, config: String) -> Self {
        self.seconds = Some(seconds);
        self.config = Some(config);
        self
    }

    /// Training seconds up to this checkpoint, over every invocation.
    pub fn seconds_so_far(&self) -> f64 {
        self.seconds
            .unwrap_or_else(|| self.rows.iter().map(|r| r.seconds).sum())
    }

    /// The saved state of objective `name` (for a checkpoint of the older layout, the
    /// teacher's frozen λ).
    pub fn objective_state(&self, name: &str) -> Option<serde_json::Value> {
        if let Some(v) = self.objectives.get(name) {
            return Some(v.clone());
        }
        (name == "teacher" && self.fixed_lambda.is_some())
            .then(|| serde_json::json!({ "fixed_lambda": self.fixed_lambda }))
    }
}

/// The model's file in a checkpoint folder.
pub const MODEL_FILE: &str = "model.bpk";
/// The optimiser's file in a checkpoint folder.
pub const OPTIM_FILE: &str = "optim.bpk";

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Folder of the checkpoint after `epoch` (`checkpoints/epoch-NNNN`).
pub fn dir(run_dir: &Path, epoch: usize) -> PathBuf {
    brainlike_run::checkpoint_dir(run_dir, epoch)
}

fn network_bytes(net: &Network, d: &Path) -> Result<Vec<u8>> {
    let mut store = BurnpackStore::from_bytes(None);
    net.save_into(&mut store)
        .map_err(|e| Error::Other(format!("saving a network for {}: {e}", d.display())))?;
    Ok(store
        .get_bytes()
        .map_err(|e| Error::Other(format!("saving a network for {}: {e}", d.display())))?
        .to_vec())
}

/// Writes a checkpoint (with `extra` networks, e.g. a weight average, as `<name>.bpk`) and
/// keeps only the newest `keep` (0 = all) epoch-end checkpoints. A mid-epoch checkpoint
/// (`state.within`) goes to its own folder and replaces the older mid-epoch one; an epoch-end
/// checkpoint removes the mid-epoch ones of its epoch and before.
pub fn save(
    run_dir: &Path,
    model: &Network,
    optim: &ModuleOptimizer,
    extra: &[(&str, &Network)],
    state: &CheckpointState,
    keep: usize,
) -> Result<()> {
    let d = match &state.within {
        Some(w) => brainlike_run::within_epoch_dir(run_dir, state.epoch + 1, w.batches),
        None => dir(run_dir, state.epoch),
    };
    let bytes = network_bytes(model, &d)?;
    write_atomic(&d.join(MODEL_FILE), &bytes)?;
    let opt = optim
        .into_bytes()
        .map_err(|e| Error::Other(format!("saving optimiser for {}: {e:?}", d.display())))?;
    write_atomic(&d.join(OPTIM_FILE), &opt)?;
    let mut state = state.clone();
    state.sha256 = BTreeMap::from([
        (MODEL_FILE.to_string(), sha256_hex(&bytes)),
        (OPTIM_FILE.to_string(), sha256_hex(&opt)),
    ]);
    for (name, net) in extra {
        let file = format!("{name}.bpk");
        let b = network_bytes(net, &d)?;
        write_atomic(&d.join(&file), &b)?;
        state.sha256.insert(file, sha256_hex(&b));
    }
    let json = serde_json::to_vec_pretty(&state).expect("state serialises");
    write_atomic(
        &d.join(brainlike_run::checkpoints::CHECKPOINT_STATE_FILE),
        &json,
    )?;
    match &state.within {
        Some(w) => {
            let newest = (state.epoch + 1, w.batches);
            brainlike_run::prune_within_epoch(run_dir, state.epoch, Some(newest))
        }
        None => {
            brainlike_run::prune_within_epoch(run_dir, state.epoch, None);
            brainlike_run::prune_checkpoints(run_dir, keep, state.epoch);
        }
    }
    Ok(())
}

/// Complete epoch-end checkpoints (those with `state.json`), by epoch.
pub fn list(run_dir: &Path) -> Vec<(usize, PathBuf)> {
    brainlike_run::list_checkpoints(run_dir)
}

/// Whether the run has any complete checkpoint, epoch-end or mid-epoch.
pub fn any(run_dir: &Path) -> bool {
    !list(run_dir).is_empty() || !brainlike_run::list_within_epoch(run_dir).is_empty()
}

/// Every complete checkpoint, oldest first, as `(label, folder)`: ordered by training
/// progress (an epoch-end checkpoint of epoch e before the mid-epoch ones of epoch e + 1).
fn all_by_progress(run_dir: &Path) -> Vec<(String, PathBuf)> {
    let mut v: Vec<((usize, usize), String, PathBuf)> = list(run_dir)
        .into_iter()
        .map(|(e, d)| ((e, 0), format!("epoch {e}"), d))
        .chain(
            brainlike_run::list_within_epoch(run_dir)
                .into_iter()
                .map(|((e, b), d)| {
                    (
                        (e.saturating_sub(1), b),
                        format!("epoch {e} after minibatch {b}"),
                        d,
                    )
                }),
        )
        .collect();
    v.sort();
    v.into_iter().map(|(_, l, d)| (l, d)).collect()
}

/// A checkpoint read from disk and checked, not yet loaded into a model.
#[derive(Debug)]
pub struct Verified {
    /// Its folder.
    pub dir: PathBuf,
    /// `state.json`.
    pub state: CheckpointState,
    model: Vec<u8>,
    optim: Vec<u8>,
    /// Other networks (`<name>.bpk` listed in `state.json`), by name.
    extra: BTreeMap<String, Vec<u8>>,
}

/// Reads the checkpoint in `d` and checks its files against the checksums in `state.json`.
pub fn verify(d: &Path) -> Result<Verified> {
    let read = |name: &str| {
        let p = d.join(name);
        std::fs::read(&p).map_err(|e| Error::io(&p, e))
    };
    let state_path = d.join(brainlike_run::checkpoints::CHECKPOINT_STATE_FILE);
    let state: CheckpointState = serde_json::from_slice(&read(
        brainlike_run::checkpoints::CHECKPOINT_STATE_FILE,
    )?)
    .map_err(|e| {
        Error::format(
            &state_path,
            format!("line {}, column {}", e.line(), e.column()),
            format!("checkpoint state ({e})"),
        )
    })?;
    let (model, optim) = (read(MODEL_FILE)?, read(OPTIM_FILE)?);
    let mut extra = BTreeMap::new();
    for file in state.sha256.keys() {
        if file != MODEL_FILE && file != OPTIM_FILE {
            let name = file.strip_suffix(".bpk").unwrap_or(file);
            extra.insert(name.to_string(), read(file)?);
        }
    }
    let files = [(MODEL_FILE, &model), (OPTIM_FILE, &optim)]
        .into_iter()
        .map(|(n, b)| (n.to_string(), b))
        .chain(extra.iter().map(|(n, b)| (format!("{n}.bpk"), b)));
    for (name, bytes) in files {
        if let Some(want) = state.sha256.get(&name) {
            let got = sha256_hex(bytes);
            if &got != want {
                return Err(Error::format(
                    &d.join(&name),
                    "whole file",
                    format!(
                        "the SHA-256 recorded in state.json ({want}); the file's is {got}: it \
                         was damaged after it was written"
                    ),
                ));
            }
        }
    }
    Ok(Verified {
        dir: d.to_path_buf(),
        state,
        model,
        optim,
        extra,
    })
}

/// The newest checkpoint whose files are intact. A damaged newer one is skipped with a
/// warning on stderr naming it and the reason; `Ok(None)` when there is no checkpoint, an
/// error listing every checkpoint's fault when none is intact.
pub fn latest_intact(run_dir: &Path) -> Result<Option<Verified>> {
    let all = all_by_progress(run_dir);
    if all.is_empty() {
        return Ok(None);
    }
    let mut faults = Vec::new();
    for (label, d) in all.iter().rev() {
        match verify(d) {
            Ok(v) => {
                if !faults.is_empty() {
                    eprintln!(
                        "warning: falling back to the checkpoint of {label} ({}); newer \
                         damaged: {}",
                        d.display(),
                        faults.join("; ")
                    );
                }
                return Ok(Some(v));
            }
            Err(e) => faults.push(format!("{label}: {e}")),
        }
    }
    Err(Error::Other(format!(
        "no intact checkpoint in {}: {}",
        run_dir.display(),
        faults.join("; ")
    )))
}

/// A checkpoint loaded into a model and optimiser.
pub struct Loaded {
    /// The model.
    pub model: Network,
    /// The optimiser.
    pub optim: ModuleOptimizer,
    /// `state.json`.
    pub state: CheckpointState,
    /// The folder it came from.
    pub dir: PathBuf,
    extra: BTreeMap<String, Vec<u8>>,
}

impl Loaded {
    /// The extra network `name` (saved by [`save`]'s `extra`) loaded into `template` (taken:
    /// each is loaded once); None when the checkpoint has none of that name.
    pub fn extra(&mut self, name: &str, template: Network) -> Result<Option<Network>> {
        let Some(bytes) = self.extra.remove(name) else {
            return Ok(None);
        };
        let path = self.dir.join(format!("{name}.bpk"));
        network_from(bytes, template, &path).map(Some)
    }
}

fn network_from(bytes: Vec<u8>, template: Network, path: &Path) -> Result<Network> {
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes)));
    let mut model = template;
    // load_from puts every tensor on its parameter's device as a fresh leaf.
    model
        .load_from(&mut store)
        .map_err(|e| Error::format(path, "whole file", format!("weights of this model ({e})")))?;
    Ok(model)
}

/// Loads a verified checkpoint into `model` and `optim`.
pub fn load(v: Verified, model: Network, optim: ModuleOptimizer) -> Result<Loaded> {
    let d = &v.dir;
    let model = network_from(v.model, model, &d.join(MODEL_FILE))?;
    let optim = optim
        .from_bytes(Bytes::from_bytes_vec(v.optim))
        .map_err(|e| {
            Error::format(
                &d.join(OPTIM_FILE),
                "whole file",
                format!("optimiser state ({e:?})"),
            )
        })?;
    Ok(Loaded {
        model,
        optim,
        state: v.state,
        dir: v.dir,
        extra: v.extra,
    })
}

/// Loads the newest intact checkpoint (see [`latest_intact`]) into `model` and `optim`.
pub fn load_latest(
    run_dir: &Path,
    model: Network,
    optim: ModuleOptimizer,
) -> Result<Option<Loaded>> {
    match latest_intact(run_dir)? {
        Some(v) => load(v, model, optim).map(Some),
        None => Ok(None),
    }
}
