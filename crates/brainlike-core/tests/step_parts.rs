//! The parts of the training step, each on its own: optimisers from the configuration, frozen
//! groups, after-step hooks, soft targets, the schedule driving the step. Small CORnet-Z on
//! random data (fast, no data files).

use std::sync::{Arc, Mutex};

use brainlike_core::TrainConfig;
use brainlike_core::config::{Head, ModelConfig};
use brainlike_core::models::{Arch, Network};
use brainlike_core::train::freeze::Frozen;
use brainlike_core::train::objective::CrossEntropy;
use brainlike_core::train::optim::build_optimizer;
use brainlike_core::train::{AfterStep, Batch, Step, Targets};
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};

fn model(device: &Device) -> Network {
    device.seed(7);
    let cfg = ModelConfig {
        arch: Arch::parse("cornet_z").unwrap(),
        head: Head::Decoder,
        ..ModelConfig::default()
    };
    Network::new(&cfg, 32, 10, 4, device)
}

fn data(device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let x = Tensor::<4>::random([16, 3, 32, 32], Distribution::Uniform(-0.5, 0.5), device);
    let y = Tensor::<1, Int>::from_data(
        TensorData::new((0..16i64).map(|i| i % 10).collect::<Vec<_>>(), [16]),
        device,
    );
    (x, y)
}

fn ce_step(frozen: Frozen) -> Step {
    Step {
        objectives: vec![Box::new(CrossEntropy {
            label_smoothing: 0.0,
        })],
        transforms: Vec::new(),
        hooks: Vec::new(),
        frozen,
    }
}

fn optim_cfg(sets: &[&str]) -> TrainConfig {
    TrainConfig::load(
        None,
        &sets.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    )
    .unwrap()
}

/// All parameter values by path.
struct Values(Vec<(String, Vec<f32>)>, Vec<String>);

impl ModuleVisitor for Values {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.1.push(name.into());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.1.pop();
    }
    fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
        let v = p
            .val()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        self.0.push((self.1.join("."), v));
    }
}

fn values(m: &Network) -> Vec<(String, Vec<f32>)> {
    let mut v = Values(Vec::new(), Vec::new());
    m.visit(&mut v);
    v.0
}

#[test]
fn every_optimizer_lowers_the_loss_on_a_fixed_batch() {
    let device = Device::default().autodiff();
    for sets in [
        vec!["optim.optimizer=sgd", "optim.lr=0.05"],
        vec![
            "optim.optimizer=sgd",
            "optim.lr=0.02",
            "optim.momentum=0.9",
            "optim.nesterov=true",
            "optim.weight_decay=5e-4",
        ],
        vec!["optim.optimizer=adam", "optim.lr=1e-3"],
        vec![
            "optim.optimizer=adamw",
            "optim.lr=1e-3",
            "optim.weight_decay=0.05",
        ],
    ] {
        let cfg = optim_cfg(&sets);
        let mut m = model(&device);
        let mut optim = build_optimizer(&cfg.optim);
        let mut step = ce_step(Frozen::default());
        let (x, y) = data(&device);
        let mut first = None;
        let mut last = 0.0;
        for t in 0..15 {
            let (next, stats) = step.run(
                m,
                &mut optim,
                Batch::hard(x.clone(), y.clone()),
                cfg.optim.lr,
                1,
                t,
            );
            m = next;
            last = stats.ce.into_scalar::<f64>();
            first.get_or_insert(last);
        }
        let first = first.unwrap();
        eprintln!("{sets:?}: {first} -> {last}");
        assert!(last < first - 0.05, "{sets:?}: {first} -> {last}");
    }
}

#[test]
fn frozen_groups_stay_bit_identical_and_the_rest_trains() {
    let device = Device::default().autodiff();
    let cfg = optim_cfg(&[
        "optim.momentum=0.9",
        "optim.weight_decay=1e-3",
        "optim.lr=0.05",
    ]);
    let m = model(&device);
    let frozen = Frozen::new(
        &m,
        &["features.CornetZ.v1".into(), "features.CornetZ.v2".into()],
    )
    .unwrap();
    assert_eq!(frozen.paths.len(), 4, "{:?}", frozen.paths); // conv weight + bias, twice
    let before = values(&m);
    let mut optim = build_optimizer(&cfg.optim);
    let mut step = ce_step(frozen);
    let (x, y) = data(&device);
    let mut m = m;
    for t in 0..3 {
        m = step
            .run(m, &mut optim, Batch::hard(x.clone(), y.clone()), 0.05, 1, t)
            .0;
    }
    let after = values(&m);
    for ((path, a), (_, b)) in before.iter().zip(&after) {
        let frozen =
            path.starts_with("features.CornetZ.v1") || path.starts_with("features.CornetZ.v2");
        if frozen {
            assert_eq!(a, b, "{path} changed although frozen");
        } else {
            assert_ne!(a, b, "{path} did not train");
        }
    }
    // A prefix that matches nothing is an error naming it.
    let err = Frozen::new(&model(&device), &["features.CornetZ.v3".into()]).unwrap_err();
    assert!(err.to_string().contains("features.CornetZ.v3"), "{err}");
}

struct Count(Arc<Mutex<Vec<u64>>>);

impl AfterStep for Count {
    fn name(&self) -> &'static str {
        "count"
    }
    fn after_step(&mut self, _model: &Network, step: u64) {
        self.0.lock().unwrap().push(step);
    }
}

#[test]
fn after_step_hooks_see_every_step() {
    let device = Device::default().autodiff();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut step = ce_step(Frozen::default());
    step.hooks.push(Box::new(Count(seen.clone())));
    let cfg = optim_cfg(&[]);
    let mut optim = build_optimizer(&cfg.optim);
    let (x, y) = data(&device);
    let mut m = model(&device);
    for t in 0..4 {
        m = step
            .run(m, &mut optim, Batch::hard(x.clone(), y.clone()), 0.01, 1, t)
            .0;
    }
    assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3, 4]);
}

#[test]
fn one_hot_soft_targets_train_exactly_like_hard_labels() {
    let device = Device::default().autodiff();
    let cfg = optim_cfg(&[]);
    let (x, y) = data(&device);
    let onehot = y.clone().one_hot::<2>(10).float();
    let run = |targets: Targets| {
        let mut m = model(&device);
        let mut optim = build_optimizer(&cfg.optim);
        let mut step = ce_step(Frozen::default());
        let mut ces = Vec::new();
        for t in 0..2 {
            let batch = Batch {
                images: x.clone(),
                targets: targets.clone(),
                weights: None,
            };
            let (next, stats) = step.run(m, &mut optim, batch, 0.05, 1, t);
            m = next;
            ces.push(stats.ce.into_scalar::<f64>());
        }
        ces
    };
    let hard = run(Targets::Hard(y.clone()));
    let soft = run(Targets::Soft(onehot));
    for (h, s) in hard.iter().zip(&soft) {
        assert!((h - s).abs() < 1e-5, "{hard:?} vs {soft:?}");
    }
}
