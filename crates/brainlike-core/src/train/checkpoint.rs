//! Per-epoch checkpoints: model (burnpack, parameter ids kept so optimiser state matches),
//! optimiser state, and the metrics so far. Every file is written atomically and `state.json`
//! last, so a checkpoint without `state.json` is incomplete and ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::optim::ModuleOptimizer;
use burn::tensor::{Bytes, Device};
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
        }
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

/// Folder of the checkpoint after `epoch` (`checkpoints/epoch-NNNN`).
pub fn dir(run_dir: &Path, epoch: usize) -> PathBuf {
    brainlike_run::checkpoint_dir(run_dir, epoch)
}

/// Writes a checkpoint and keeps only the newest `keep` (0 = all).
pub fn save(
    run_dir: &Path,
    model: &Network,
    optim: &ModuleOptimizer,
    state: &CheckpointState,
    keep: usize,
) -> Result<()> {
    let d = dir(run_dir, state.epoch);
    let mut store = BurnpackStore::from_bytes(None);
    model
        .save_into(&mut store)
        .map_err(|e| Error::Other(format!("saving model for {}: {e}", d.display())))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| Error::Other(format!("saving model for {}: {e}", d.display())))?;
    write_atomic(&d.join("model.bpk"), &bytes)?;
    let opt = optim
        .into_bytes()
        .map_err(|e| Error::Other(format!("saving optimiser for {}: {e:?}", d.display())))?;
    write_atomic(&d.join("optim.bpk"), &opt)?;
    let json = serde_json::to_vec_pretty(state).expect("state serialises");
    write_atomic(
        &d.join(brainlike_run::checkpoints::CHECKPOINT_STATE_FILE),
        &json,
    )?;
    brainlike_run::prune_checkpoints(run_dir, keep, state.epoch);
    Ok(())
}

/// Complete checkpoints (those with `state.json`), by epoch.
pub fn list(run_dir: &Path) -> Vec<(usize, PathBuf)> {
    brainlike_run::list_checkpoints(run_dir)
}

/// Loads the newest complete checkpoint into `model` and `optim`.
pub fn load_latest(
    run_dir: &Path,
    model: Network,
    optim: ModuleOptimizer,
    device: &Device,
) -> Result<Option<(Network, ModuleOptimizer, CheckpointState)>> {
    let Some((_, d)) = brainlike_run::latest_checkpoint(run_dir) else {
        return Ok(None);
    };
    let read = |name: &str| {
        let p = d.join(name);
        std::fs::read(&p).map_err(|e| Error::io(&p, e))
    };
    let state: CheckpointState = serde_json::from_slice(&read("state.json")?).map_err(|e| {
        Error::format(
            &d.join("state.json"),
            "whole file",
            format!("checkpoint state ({e})"),
        )
    })?;
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(read("model.bpk")?)));
    let mut model = model;
    model.load_from(&mut store).map_err(|e| {
        Error::format(
            &d.join("model.bpk"),
            "whole file",
            format!("weights of this model ({e})"),
        )
    })?;
    // load_from puts every tensor on its parameter's (autodiff) device as a fresh leaf.
    let _ = device;
    let optim = optim
        .from_bytes(Bytes::from_bytes_vec(read("optim.bpk")?))
        .map_err(|e| {
            Error::format(
                &d.join("optim.bpk"),
                "whole file",
                format!("optimiser state ({e:?})"),
            )
        })?;
    Ok(Some((model, optim, state)))
}
