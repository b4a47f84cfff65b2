//! Weight averaging (Riedel 2022, Table 1 "WA"; Izmailov et al. 2018): the uniform mean of
//! several networks of one architecture, parameter by parameter ([`average`], the models of a
//! run's checkpoints: `brainlike average`), and the running averages kept during training
//! ([`Averager`], an after-step hook: SWA at epoch ends, EMA after every step).
//!
//! Every float parameter and buffer is averaged, BatchNorm running statistics included; those
//! are then recomputed on training data ([`super::bn_stats::recompute`]): the mean of several
//! networks' statistics is not the statistics of the mean network.

use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Bytes, Tensor, TensorData};
use burn_store::{BurnpackStore, ModuleSnapshot};
use serde_json::json;

use super::checkpoint;
use super::step::AfterStep;
use crate::config::{AveragingConfig, AveragingKind};
use crate::error::{Error, Result};
use crate::models::Network;

/// Collects every float parameter's values, in visiting order.
struct Collect(Vec<(Vec<usize>, Vec<f64>)>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let v = t
            .into_data()
            .convert::<f64>()
            .try_into_vec::<f64>()
            .expect("float values");
        self.0.push((shape, v));
    }
}

/// Replaces every float parameter, in visiting order, by the given values.
struct Replace {
    values: std::vec::IntoIter<(Vec<usize>, Vec<f64>)>,
}

impl ModuleMapper for Replace {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (shape, v) = self.values.next().expect("one value per parameter");
        param.map(|t| {
            let device = t.device();
            let grad = t.is_require_grad();
            let data = TensorData::new(
                v.iter().map(|&x| x as f32).collect::<Vec<f32>>(),
                shape.clone(),
            );
            let new = Tensor::<D>::from_data(data, &device);
            if grad { new.require_grad() } else { new }
        })
    }
}

fn params(net: &Network) -> Vec<(Vec<usize>, Vec<f64>)> {
    let mut c = Collect(Vec::new());
    net.visit(&mut c);
    c.0
}

/// The parameter-wise mean of `nets` (same architecture), accumulated in f64 and rounded to
/// f32 once. Errors when the networks' parameters differ in number or shape.
pub fn average(nets: &[Network]) -> Result<Network> {
    let Some(first) = nets.first() else {
        return Err(Error::Other("averaging needs at least one network".into()));
    };
    let mut sum = params(first);
    for (k, net) in nets.iter().enumerate().skip(1) {
        let p = params(net);
        if p.len() != sum.len() || p.iter().zip(&sum).any(|(a, b)| a.0 != b.0) {
            return Err(Error::Other(format!(
                "network {k} has other parameters than network 0: not the same architecture"
            )));
        }
        for ((_, acc), (_, v)) in sum.iter_mut().zip(p) {
            for (a, x) in acc.iter_mut().zip(v) {
                *a += x;
            }
        }
    }
    let n = nets.len() as f64;
    for (_, acc) in &mut sum {
        for a in acc.iter_mut() {
            *a /= n;
        }
    }
    Ok(first.clone().map(&mut Replace {
        values: sum.into_iter(),
    }))
}

/// The model of the checkpoint after `epoch` of the run in `run_dir`, loaded into `template`
/// (checked against the checkpoint's SHA-256). The error lists the epochs that have
/// checkpoints when `epoch` has none.
pub fn checkpoint_model(run_dir: &Path, epoch: usize, template: Network) -> Result<Network> {
    let all = checkpoint::list(run_dir);
    let Some((_, dir)) = all.iter().find(|(e, _)| *e == epoch) else {
        return Err(Error::Missing(format!(
            "{}: no checkpoint of epoch {epoch} (there are: {}); keep them all with \
             checkpoint.keep = 0",
            run_dir.display(),
            all.iter()
                .map(|(e, _)| e.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    checkpoint::verify(dir)?;
    let path = dir.join(checkpoint::MODEL_FILE);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes)));
    let mut model = template;
    model
        .load_from(&mut store)
        .map_err(|e| Error::format(&path, "whole file", format!("weights of this model ({e})")))?;
    Ok(model)
}

/// Every float parameter and buffer of a network, flattened, in visiting order.
struct Flat(Vec<Tensor<1>>);

impl ModuleVisitor for Flat {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let n = t.shape().num_elements();
        self.0.push(t.reshape([n]));
    }
}

/// Replaces each float of the average, in visiting order, by `f(average, current)`.
struct Update<F: FnMut(Tensor<1>, Tensor<1>) -> Tensor<1>> {
    current: std::vec::IntoIter<Tensor<1>>,
    f: F,
}

impl<F: FnMut(Tensor<1>, Tensor<1>) -> Tensor<1>> ModuleMapper for Update<F> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let cur = self.current.next().expect("one value per parameter");
        let f = &mut self.f;
        param.map(|avg| {
            let dims = avg.shape();
            let n = dims.num_elements();
            f(avg.reshape([n]), cur).reshape(dims)
        })
    }
}

/// The running average of the weights during training (`[averaging]`): an [`AfterStep`] hook
/// holding an evaluation-mode copy of the network.
///
/// - SWA: at the end of every epoch from `start_epoch` on,
///   `avg ← avg + (w − avg) / (n + 1)` (`torch.optim.swa_utils.AveragedModel`'s default),
///   the first time `avg ← w`.
/// - EMA: after every step `avg ← decay·avg + (1 − decay)·w`, starting from the weights after
///   the first step (timm's `ModelEmaV2` starts from the weights before it: one step apart).
pub struct Averager {
    cfg: AveragingConfig,
    /// Steps per epoch (minibatches times replays): SWA's epoch ends.
    steps_per_epoch: u64,
    avg: Option<Network>,
    /// Weights averaged so far (SWA) or updates (EMA).
    count: u64,
}

impl Averager {
    /// The hook for `cfg` (None when averaging is off).
    pub fn new(cfg: &AveragingConfig, steps_per_epoch: u64) -> Option<Self> {
        (cfg.kind != AveragingKind::None).then(|| Self {
            cfg: cfg.clone(),
            steps_per_epoch: steps_per_epoch.max(1),
            avg: None,
            count: 0,
        })
    }

    /// How many weight vectors (SWA) or updates (EMA) the average holds.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The average so far (evaluation mode), if any.
    pub fn average(&self) -> Option<&Network> {
        self.avg.as_ref()
    }

    fn fold(&mut self, model: &Network, f: impl FnMut(Tensor<1>, Tensor<1>) -> Tensor<1>) {
        let current = model.valid();
        let Some(avg) = self.avg.take() else {
            self.avg = Some(current);
            return;
        };
        let mut flat = Flat(Vec::new());
        current.visit(&mut flat);
        self.avg = Some(avg.map(&mut Update {
            current: flat.0.into_iter(),
            f,
        }));
    }
}

impl AfterStep for Averager {
    fn name(&self) -> &'static str {
        "averaging"
    }

    fn after_step(&mut self, model: &Network, step: u64) {
        match self.cfg.kind {
            AveragingKind::None => {}
            AveragingKind::Ema => {
                let d = self.cfg.ema_decay;
                self.fold(model, |avg, w| avg.mul_scalar(d) + w.mul_scalar(1.0 - d));
                self.count += 1;
            }
            AveragingKind::Swa => {
                if !step.is_multiple_of(self.steps_per_epoch) {
                    return;
                }
                let epoch = step / self.steps_per_epoch;
                if epoch < self.cfg.start_epoch as u64 {
                    return;
                }
                let n = self.count as f64;
                self.fold(model, |avg, w| avg.clone() + (w - avg).div_scalar(n + 1.0));
                self.count += 1;
            }
        }
    }

    fn network(&self) -> Option<&Network> {
        self.avg.as_ref()
    }

    fn state(&self) -> Option<serde_json::Value> {
        Some(json!({ "count": self.count }))
    }

    fn restore(&mut self, network: Option<Network>, state: Option<&serde_json::Value>) {
        self.avg = network.map(|n| n.valid());
        self.count = state
            .and_then(|s| s.get("count"))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
    }
}

/// The learning rate at minibatch `minibatch` (0-based over the run) under SWA's schedule:
/// the scheduled rate `scheduled` before `start_epoch`, then a cosine from the rate scheduled
/// at the start epoch's first minibatch (`at_start`) down to `swa_lr` over `anneal_epochs`,
/// then `swa_lr` (PyTorch's `SWALR` with `anneal_strategy="cos"`, per minibatch). Other kinds
/// and `swa_lr = 0` keep `scheduled`.
pub fn swa_learning_rate(
    cfg: &AveragingConfig,
    scheduled: f64,
    at_start: f64,
    minibatch: u64,
    steps_per_epoch: u64,
) -> f64 {
    if cfg.kind != AveragingKind::Swa || cfg.swa_lr <= 0.0 {
        return scheduled;
    }
    let start = (cfg.start_epoch as u64 - 1) * steps_per_epoch;
    if minibatch < start {
        return scheduled;
    }
    let span = cfg.anneal_epochs as u64 * steps_per_epoch;
    if span == 0 {
        return cfg.swa_lr;
    }
    let t = ((minibatch - start) as f64 / span as f64).min(1.0);
    cfg.swa_lr + (at_start - cfg.swa_lr) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
}
