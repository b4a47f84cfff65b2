//! The optimiser and learning-rate schedule, built from `[optim]`.
//!
//! * `sgd`: PyTorch's `SGD(lr, momentum, dampening, nesterov, weight_decay)` (L2 added to the
//!   gradient). Burn's momentum defaults to a dampening of 0.1; ours is PyTorch's 0 unless set.
//! * `adam`: `Adam(betas, eps, weight_decay)` with L2 weight decay added to the gradient.
//! * `adamw`: `AdamW(betas, eps, weight_decay)` with decoupled weight decay.
//!
//! Schedules give the learning rate of step `t` (0-based, counted over the run) from the epoch
//! fraction `e = t / steps_per_epoch`: `constant`; `step` (× `gamma` every `step_epochs`
//! epochs); `cosine` (from `lr` to `min_lr` over the run, `0.5·(1 + cos(π·p))`). Any schedule
//! may start with `warmup_epochs` of linear warm-up from 0 (per step, as timm's
//! `warmup_t` with `warmup_lr_init = 0`).

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

use crate::config::OptimConfig;

/// Optimisers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// Stochastic gradient descent (the first paper's, without momentum).
    Sgd,
    /// Adam (Kingma & Ba 2015), L2 weight decay.
    Adam,
    /// AdamW (Loshchilov & Hutter 2019), decoupled weight decay.
    Adamw,
}

/// Learning-rate schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// `lr` throughout (the first paper's).
    Constant,
    /// `lr · gamma^⌊epoch / step_epochs⌋`.
    Step,
    /// Cosine annealing from `lr` to `min_lr` over the run.
    Cosine,
}

/// The optimiser of `cfg`.
pub fn build_optimizer(cfg: &OptimConfig) -> ModuleOptimizer {
    let decay = (cfg.weight_decay > 0.0).then(|| WeightDecayConfig::new(cfg.weight_decay as f32));
    match cfg.optimizer {
        OptimizerKind::Sgd => {
            let mut sgd = SgdConfig::new();
            if cfg.momentum > 0.0 {
                sgd = sgd.with_momentum(Some(
                    MomentumConfig::new()
                        .with_momentum(cfg.momentum)
                        .with_dampening(cfg.dampening)
                        .with_nesterov(cfg.nesterov),
                ));
            }
            if let Some(d) = decay {
                sgd = sgd.with_weight_decay(Some(d));
            }
            sgd.init()
        }
        OptimizerKind::Adam => AdamConfig::new()
            .with_beta_1(cfg.betas[0] as f32)
            .with_beta_2(cfg.betas[1] as f32)
            .with_epsilon(cfg.eps as f32)
            .with_weight_decay(decay)
            .init(),
        OptimizerKind::Adamw => AdamWConfig::new()
            .with_beta_1(cfg.betas[0] as f32)
            .with_beta_2(cfg.betas[1] as f32)
            .with_epsilon(cfg.eps as f32)
            .with_weight_decay(cfg.weight_decay as f32)
            .init(),
    }
}

/// The learning rate of step `step` (0-based over the run).
pub fn learning_rate(cfg: &OptimConfig, step: u64, steps_per_epoch: usize) -> f64 {
    let s = &cfg.schedule;
    let spe = steps_per_epoch.max(1) as f64;
    let e = step as f64 / spe; // epochs done, fractional
    let warm = s.warmup_epochs * spe;
    if warm > 0.0 && (step as f64) < warm {
        return cfg.lr * (step as f64 + 1.0) / warm;
    }
    match s.kind {
        ScheduleKind::Constant => cfg.lr,
        ScheduleKind::Step => {
            let k = (e / s.step_epochs.max(1) as f64).floor();
            cfg.lr * s.gamma.powf(k)
        }
        ScheduleKind::Cosine => {
            let total = cfg.epochs as f64 * spe - warm;
            let p = ((step as f64 - warm) / total.max(1.0)).clamp(0.0, 1.0);
            s.min_lr + 0.5 * (cfg.lr - s.min_lr) * (1.0 + (std::f64::consts::PI * p).cos())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ScheduleConfig;

    fn cfg(kind: ScheduleKind, warmup: f64) -> OptimConfig {
        OptimConfig {
            lr: 0.1,
            epochs: 10,
            schedule: ScheduleConfig {
                kind,
                warmup_epochs: warmup,
                step_epochs: 3,
                gamma: 0.5,
                min_lr: 0.001,
            },
            ..OptimConfig::default()
        }
    }

    #[test]
    fn constant_is_constant() {
        let c = cfg(ScheduleKind::Constant, 0.0);
        for t in [0, 7, 99] {
            assert_eq!(learning_rate(&c, t, 10), 0.1);
        }
    }

    #[test]
    fn step_decays_every_step_epochs() {
        let c = cfg(ScheduleKind::Step, 0.0);
        assert_eq!(learning_rate(&c, 29, 10), 0.1);
        assert_eq!(learning_rate(&c, 30, 10), 0.05);
        assert_eq!(learning_rate(&c, 65, 10), 0.025);
    }

    #[test]
    fn cosine_with_warmup() {
        let c = cfg(ScheduleKind::Cosine, 1.0);
        // warm-up: linear from lr/10 at step 0 to lr at step 9
        assert!((learning_rate(&c, 0, 10) - 0.01).abs() < 1e-12);
        assert!((learning_rate(&c, 9, 10) - 0.1).abs() < 1e-12);
        // cosine starts at lr right after warm-up, is halfway at the middle, ends at min_lr
        assert!((learning_rate(&c, 10, 10) - 0.1).abs() < 1e-12);
        let mid = learning_rate(&c, 10 + 45, 10);
        assert!((mid - (0.001 + 0.5 * 0.099)).abs() < 1e-12, "{mid}");
        assert!((learning_rate(&c, 100, 10) - 0.001).abs() < 1e-12);
        // monotone after warm-up
        let lrs: Vec<f64> = (10..100).map(|t| learning_rate(&c, t, 10)).collect();
        assert!(lrs.windows(2).all(|w| w[1] <= w[0]));
    }
}
