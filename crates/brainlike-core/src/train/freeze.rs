//! Frozen parameter groups (Riedel 2022: "freeze the first half of the network, BatchNorm
//! statistics included, then fine-tune the rest").
//!
//! What is frozen is chosen by path (as in the weights file: `features.CornetZ.v1`, `head`), by
//! tap (`optim.freeze_up_to = "layer2"`: every layer up to and including that block), by
//! fraction (`optim.freeze_fraction = 0.5`: the first half of the layers in forward order) or
//! as the complement of a list (`optim.train_only`, FixRes fine-tuning). A *layer* is a module
//! that holds parameters directly (a convolution, a BatchNorm, a linear layer), counted in the
//! order the network visits them, which is its forward order.
//!
//! Frozen means: the parameters get no gradient (Burn's [`Module::freeze_group`]: no update,
//! no weight decay, no momentum) and their BatchNorm layers evaluate with their running
//! statistics and never update them (the layers' `training` flag), so both stay bit-identical.

use std::collections::HashSet;

use burn::module::{Flag, Module, ModuleVisitor, Param, ParamGroup, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use crate::config::OptimConfig;
use crate::error::{Error, Result};
use crate::models::Network;

/// The parameters not to train.
#[derive(Debug, Clone, Default)]
pub struct Frozen {
    ids: Vec<(ParamId, usize)>,
    /// BatchNorm `training` flags of the frozen layers.
    flags: Vec<ParamId>,
    /// Paths of the frozen parameters (for logs and tests).
    pub paths: Vec<String>,
    /// Frozen layers / all layers (for the log).
    pub layers: (usize, usize),
}

/// One value of the network in visiting order: a float parameter (or buffer) or a flag.
struct Entry {
    path: String,
    id: ParamId,
    /// Tensor rank; 0 for a flag.
    rank: usize,
}

impl Entry {
    /// The module holding it (`features.ResNet50.layer1.0.bn1`).
    fn layer(&self) -> &str {
        self.path.rsplit_once('.').map_or("", |(l, _)| l)
    }
}

#[derive(Default)]
struct Collect {
    path: Vec<String>,
    entries: Vec<Entry>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.entries.push(Entry {
            path: self.path.join("."),
            id: param.id,
            rank: D,
        });
    }

    fn visit_flag(&mut self, flag: &Param<Flag>) {
        self.entries.push(Entry {
            path: self.path.join("."),
            id: flag.id,
            rank: 0,
        });
    }
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix || path.starts_with(&format!("{prefix}."))
}

fn config_error(key: &str, msg: String) -> Error {
    Error::Config {
        origin: key.into(),
        msg,
    }
}

impl Frozen {
    /// The parameters of `model` under any of `prefixes`; a prefix that matches nothing is an
    /// error naming it.
    pub fn new(model: &Network, prefixes: &[String]) -> Result<Self> {
        Self::from_config(
            model,
            &OptimConfig {
                freeze: prefixes.to_vec(),
                ..OptimConfig::default()
            },
        )
    }

    /// What `optim.freeze`, `optim.freeze_up_to`, `optim.freeze_fraction` and
    /// `optim.train_only` freeze in `model` (their union).
    pub fn from_config(model: &Network, cfg: &OptimConfig) -> Result<Self> {
        let mut c = Collect::default();
        model.visit(&mut c);
        let entries = c.entries;
        // Layers in forward order.
        let mut layers: Vec<&str> = Vec::new();
        for e in &entries {
            if !layers.contains(&e.layer()) {
                layers.push(e.layer());
            }
        }
        let mut frozen_layers: HashSet<&str> = HashSet::new();
        let mut frozen_paths: HashSet<&str> = HashSet::new();

        for p in &cfg.freeze {
            let hit: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.rank > 0 && under(&e.path, p))
                .collect();
            if hit.is_empty() {
                return Err(config_error(
                    "optim.freeze",
                    format!(
                        "no parameter of this model lies under {p:?} (paths look like \
                         \"features.CornetZ.v1\", \"head\")"
                    ),
                ));
            }
            for e in hit {
                frozen_paths.insert(&e.path);
            }
        }
        if !cfg.freeze_up_to.is_empty() {
            let spec = model.spec();
            let tap = spec
                .taps
                .iter()
                .find(|t| t.name == cfg.freeze_up_to)
                .ok_or_else(|| {
                    config_error(
                        "optim.freeze_up_to",
                        format!(
                            "{} has no tap {:?}; its taps: {}",
                            spec.name,
                            cfg.freeze_up_to,
                            spec.tap_names()
                        ),
                    )
                })?;
            let last = layers
                .iter()
                .rposition(|l| under(l, tap.module))
                .ok_or_else(|| {
                    config_error(
                        "optim.freeze_up_to",
                        format!("no layer lies under the tap's module {:?}", tap.module),
                    )
                })?;
            frozen_layers.extend(&layers[..=last]);
        }
        if cfg.freeze_fraction > 0.0 {
            let k = (cfg.freeze_fraction * layers.len() as f64).round() as usize;
            frozen_layers.extend(&layers[..k.min(layers.len())]);
        }
        if !cfg.train_only.is_empty() {
            for p in &cfg.train_only {
                if !entries.iter().any(|e| under(&e.path, p)) {
                    return Err(config_error(
                        "optim.train_only",
                        format!("no parameter of this model lies under {p:?}"),
                    ));
                }
            }
            for e in entries.iter().filter(|e| e.rank > 0) {
                if !cfg.train_only.iter().any(|p| under(&e.path, p)) {
                    frozen_paths.insert(&e.path);
                }
            }
        }
        // A layer with any frozen parameter is frozen whole (its flag too).
        for e in &entries {
            if frozen_paths.contains(e.path.as_str()) {
                frozen_layers.insert(e.layer());
            }
        }
        let mut out = Self {
            layers: (frozen_layers.len(), layers.len()),
            ..Self::default()
        };
        for e in &entries {
            if !frozen_layers.contains(e.layer()) {
                continue;
            }
            if e.rank == 0 {
                out.flags.push(e.id);
            } else {
                out.ids.push((e.id, e.rank));
                out.paths.push(e.path.clone());
            }
        }
        Ok(out)
    }

    /// Whether nothing is frozen.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// `model` with the frozen parameters untracked (no gradient) and the frozen BatchNorm
    /// layers switched to their running statistics.
    pub fn apply(&self, model: Network) -> Network {
        if self.ids.is_empty() && self.flags.is_empty() {
            return model;
        }
        let ids = self
            .ids
            .iter()
            .map(|(id, _)| *id)
            .chain(self.flags.iter().copied())
            .collect();
        model.freeze_group(ParamGroup::from_ids(ids))
    }

    /// Removes the frozen parameters' gradients (for a model [`Frozen::apply`] was not applied
    /// to).
    pub fn drop_gradients(&self, grads: &mut GradientsParams) {
        for &(id, d) in &self.ids {
            match d {
                1 => drop(grads.remove::<1>(id)),
                2 => drop(grads.remove::<2>(id)),
                3 => drop(grads.remove::<3>(id)),
                4 => drop(grads.remove::<4>(id)),
                _ => unreachable!("parameters have 1 to 4 dimensions"),
            }
        }
    }
}
