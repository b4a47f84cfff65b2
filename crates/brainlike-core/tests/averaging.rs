//! Weight averaging, BatchNorm statistics recomputation and frozen fine-tuning on a narrow
//! ResNet (the module layout of torchvision's `resnet50`, 8–128 channels) and CORnet-Z:
//!
//! - SWA's and EMA's running averages equal the means computed by hand;
//! - recomputed BatchNorm statistics equal the mean and unbiased variance of a direct pass
//!   over the same data (one batch), and the average of the batches' statistics (several);
//! - frozen layers (up to a tap, or the first half) keep weights *and* running statistics
//!   bit-identical through Adam fine-tuning, while the rest trains.

use brainlike_core::config::{AveragingConfig, AveragingKind, OptimConfig};
use brainlike_core::data::batch::{Batcher, Preprocess};
use brainlike_core::data::dataset::Dataset;
use brainlike_core::models::resnet50::{ResNet50, ResNetConfig};
use brainlike_core::models::{ClassifierHead, Features, Network};
use brainlike_core::train::average::{Averager, swa_learning_rate};
use brainlike_core::train::freeze::Frozen;
use brainlike_core::train::objective::CrossEntropy;
use brainlike_core::train::optim::{OptimizerKind, build_optimizer};
use brainlike_core::train::{AfterStep, Batch, Step, bn_stats};
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};

const SMALL: ResNetConfig = ResNetConfig {
    stem: 8,
    planes: [4, 8, 16, 32],
    layers: [2, 1, 1, 1],
};

fn resnet(device: &Device, seed: u64) -> Network {
    device.seed(seed);
    Network {
        features: Features::ResNet50(ResNet50::with_config(SMALL, device)),
        head: ClassifierHead::decoder(128, 10, device),
    }
}

/// Every float parameter and buffer by path.
#[derive(Default)]
struct Values {
    path: Vec<String>,
    out: Vec<(String, Vec<f32>)>,
}

impl ModuleVisitor for Values {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.into());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
        let v = p
            .val()
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap();
        self.out.push((self.path.join("."), v));
    }
}

fn values(net: &Network) -> Vec<(String, Vec<f32>)> {
    let mut v = Values::default();
    net.visit(&mut v);
    v.out
}

fn value(net: &Network, path: &str) -> Vec<f32> {
    values(net)
        .into_iter()
        .find(|(p, _)| p == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .1
}

#[test]
fn swa_and_ema_equal_the_means_computed_by_hand() {
    let device = Device::default();
    let nets: Vec<Network> = (0..3).map(|k| resnet(&device, 10 + k)).collect();
    let v: Vec<_> = nets.iter().map(values).collect();

    // SWA, one step per epoch from epoch 1: the uniform mean of the three.
    let cfg = AveragingConfig {
        kind: AveragingKind::Swa,
        ..AveragingConfig::default()
    };
    let mut swa = Averager::new(&cfg, 1).unwrap();
    for (k, n) in nets.iter().enumerate() {
        swa.after_step(n, k as u64 + 1);
    }
    assert_eq!(swa.count(), 3);
    let got = values(swa.average().unwrap());
    assert_eq!(got.len(), v[0].len());
    for (i, (path, g)) in got.iter().enumerate() {
        for (j, x) in g.iter().enumerate() {
            let want = (v[0][i].1[j] as f64 + v[1][i].1[j] as f64 + v[2][i].1[j] as f64) / 3.0;
            assert!(
                (*x as f64 - want).abs() <= 1e-6 * (1.0 + want.abs()),
                "{path}[{j}]: {x} vs {want}"
            );
        }
    }
    // SWA only at epoch ends from start_epoch: with 2 steps per epoch and start_epoch 2, steps
    // 1–3 leave nothing, step 4 (end of epoch 2) is the first.
    let mut late = Averager::new(
        &AveragingConfig {
            start_epoch: 2,
            ..cfg.clone()
        },
        2,
    )
    .unwrap();
    for s in 1..=3 {
        late.after_step(&nets[0], s);
    }
    assert!(late.average().is_none());
    late.after_step(&nets[1], 4);
    assert_eq!(values(late.average().unwrap()), v[1]);

    // EMA: the first step's weights, then decay·avg + (1 − decay)·w.
    let d = 0.75;
    let mut ema = Averager::new(
        &AveragingConfig {
            kind: AveragingKind::Ema,
            ema_decay: d,
            ..AveragingConfig::default()
        },
        1,
    )
    .unwrap();
    for (k, n) in nets.iter().enumerate() {
        ema.after_step(n, k as u64 + 1);
    }
    let got = values(ema.average().unwrap());
    for (i, (path, g)) in got.iter().enumerate() {
        for (j, x) in g.iter().enumerate() {
            let a = v[0][i].1[j] as f64;
            let a = d * a + (1.0 - d) * v[1][i].1[j] as f64;
            let want = d * a + (1.0 - d) * v[2][i].1[j] as f64;
            assert!(
                (*x as f64 - want).abs() <= 1e-6 * (1.0 + want.abs()),
                "{path}[{j}]: {x} vs {want}"
            );
        }
    }
}

#[test]
fn swa_learning_rate_switches_and_anneals_like_swalr() {
    let mut cfg = AveragingConfig {
        kind: AveragingKind::Swa,
        start_epoch: 3,
        swa_lr: 0.01,
        ..AveragingConfig::default()
    };
    // 10 minibatches per epoch: epochs 1–2 keep the schedule, from minibatch 20 on swa_lr.
    assert_eq!(swa_learning_rate(&cfg, 0.1, 0.1, 19, 10), 0.1);
    assert_eq!(swa_learning_rate(&cfg, 0.1, 0.1, 20, 10), 0.01);
    cfg.anneal_epochs = 2;
    assert_eq!(swa_learning_rate(&cfg, 0.1, 0.1, 20, 10), 0.1);
    let mid = swa_learning_rate(&cfg, 0.1, 0.1, 30, 10);
    assert!((mid - 0.055).abs() < 1e-12, "{mid}");
    assert_eq!(swa_learning_rate(&cfg, 0.1, 0.1, 45, 10), 0.01);
    cfg.kind = AveragingKind::Ema;
    assert_eq!(swa_learning_rate(&cfg, 0.1, 0.1, 45, 10), 0.1);
}

/// Images as a [`Dataset`] (32x32, values in [0, 1]).
struct Images {
    pixels: Vec<u8>,
    n: usize,
    classes: Vec<String>,
}

impl Dataset for Images {
    fn name(&self) -> String {
        "random".into()
    }
    fn len(&self) -> usize {
        self.n
    }
    fn image(&self, i: usize) -> brainlike_core::data::dataset::ImageRef<'_> {
        let plane = 32 * 32 * 3;
        brainlike_core::data::dataset::ImageRef {
            pixels: std::borrow::Cow::Borrowed(&self.pixels[i * plane..(i + 1) * plane]),
            height: 32,
            width: 32,
        }
    }
    fn label(&self, i: usize) -> usize {
        i % 10
    }
    fn classes(&self) -> &[String] {
        &self.classes
    }
}

fn images(n: usize) -> Images {
    let mut x: u32 = 12345;
    let pixels = (0..n * 32 * 32 * 3)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    Images {
        pixels,
        n,
        classes: (0..10).map(|c| c.to_string()).collect(),
    }
}

/// Mean and unbiased variance per channel of `[b, c, h, w]`.
fn channel_stats(t: Tensor<4>) -> (Vec<f64>, Vec<f64>) {
    let [b, c, h, w] = t.dims();
    let v = t
        .into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .unwrap();
    let n = (b * h * w) as f64;
    let (mut mean, mut var) = (vec![0.0; c], vec![0.0; c]);
    for ch in 0..c {
        let xs: Vec<f64> = (0..b)
            .flat_map(|i| {
                let off = (i * c + ch) * h * w;
                v[off..off + h * w].to_vec()
            })
            .collect();
        let m = xs.iter().sum::<f64>() / n;
        mean[ch] = m;
        var[ch] = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    }
    (mean, var)
}

fn close(a: &[f32], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (*x as f64 - y).abs() <= 1e-4 * (1.0 + y.abs()),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

#[test]
fn recomputed_batch_norm_statistics_equal_a_direct_pass() {
    let ad = Device::default().autodiff();
    let data = images(24);
    let batcher = Batcher::new(Preprocess::identity(32));
    let all: Vec<usize> = (0..24).collect();
    let (x, _) = batcher.batch(&data, &all, &Device::default());
    let stem = |net: &Network| {
        let Features::ResNet50(r) = &net.features else {
            unreachable!()
        };
        r.conv1.forward(x.clone())
    };
    let bn1 = |net: &Network| {
        (
            value(net, "features.ResNet50.bn1.running_mean"),
            value(net, "features.ResNet50.bn1.running_var"),
            value(net, "features.ResNet50.bn1.num_batches_tracked"),
        )
    };

    // One batch holding all the data: the statistics of a direct pass, whatever was there.
    let net = resnet(&ad, 3);
    let _ = net.forward(images_tensor(&batcher, &data, &[0, 1, 2, 3], &ad)); // disturb them
    let (want_mean, want_var) = channel_stats(stem(&net.valid()));
    let net = bn_stats::recompute(net, &data, &all, 24, &batcher, &ad);
    let (m, v, count) = bn1(&net);
    close(&m, &want_mean, "running_mean");
    close(&v, &want_var, "running_var");
    assert_eq!(count, [1.0]);

    // Three batches of 8: the plain mean of the three batches' statistics.
    let net = bn_stats::recompute(net, &data, &all, 8, &batcher, &ad);
    let (m, v, count) = bn1(&net);
    let conv = stem(&net.valid());
    let parts: Vec<_> = (0..3)
        .map(|k| channel_stats(conv.clone().narrow(0, k * 8, 8)))
        .collect();
    let mean3 = |second: bool| -> Vec<f64> {
        (0..m.len())
            .map(|c| {
                parts
                    .iter()
                    .map(|p| if second { p.1[c] } else { p.0[c] })
                    .sum::<f64>()
                    / 3.0
            })
            .collect()
    };
    close(&m, &mean3(false), "running_mean of 3 batches");
    close(&v, &mean3(true), "running_var of 3 batches");
    assert_eq!(count, [3.0]);
}

fn images_tensor(batcher: &Batcher, data: &Images, idx: &[usize], device: &Device) -> Tensor<4> {
    batcher.batch(data, idx, device).0
}

fn fine_tune(net: Network, frozen: Frozen, device: &Device) -> Network {
    let mut step = Step {
        objectives: vec![Box::new(CrossEntropy {
            label_smoothing: 0.0,
        })],
        transforms: Vec::new(),
        hooks: Vec::new(),
        frozen,
    };
    let net = step.frozen.apply(net);
    let mut optim = build_optimizer(&OptimConfig {
        optimizer: OptimizerKind::Adam,
        momentum: 0.0,
        ..OptimConfig::default()
    });
    let mut net = net;
    for k in 0..5 {
        device.seed(100 + k);
        let x = Tensor::<4>::random([6, 3, 32, 32], Distribution::Normal(0.0, 1.0), device);
        let y =
            Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 3, 4, 5], [6]), device);
        // The paper's fine-tuning rate is 1.5e-4; a larger one moves the trained part visibly.
        let (n, _) = step.run(net, &mut optim, Batch::hard(x, y), 1e-2, 1, k);
        net = n;
    }
    net
}

#[test]
fn frozen_layers_keep_weights_and_statistics_bit_identical() {
    let ad = Device::default().autodiff();
    for (how, cfg) in [
        (
            "up to layer1",
            OptimConfig {
                freeze_up_to: "layer1".into(),
                ..OptimConfig::default()
            },
        ),
        (
            "first half",
            OptimConfig {
                freeze_fraction: 0.5,
                ..OptimConfig::default()
            },
        ),
    ] {
        let net = resnet(&ad, 5);
        let frozen = Frozen::from_config(&net, &cfg).unwrap();
        let before = values(&net);
        let after = values(&fine_tune(net, frozen.clone(), &ad));
        let (k, all) = frozen.layers;
        assert!(k > 0 && k < all, "{how}: {k} of {all} layers");
        let mut trained_moved = 0;
        for ((path, b), (_, a)) in before.iter().zip(&after) {
            if frozen.paths.contains(path) {
                assert_eq!(a, b, "{how}: frozen {path} changed");
            } else if a != b {
                trained_moved += 1;
            }
        }
        assert!(
            trained_moved > 10,
            "{how}: only {trained_moved} trained tensors moved"
        );
        let frozen_stats = frozen
            .paths
            .iter()
            .filter(|p| p.ends_with("running_var"))
            .count();
        assert!(frozen_stats > 0, "{how}: no BatchNorm frozen");
        if how == "up to layer1" {
            // The stem and layer1 exactly; nothing of layer2 on.
            assert!(frozen.paths.iter().all(|p| {
                p.starts_with("features.ResNet50.conv1")
                    || p.starts_with("features.ResNet50.bn1")
                    || p.starts_with("features.ResNet50.layer1.")
            }));
            assert!(frozen.paths.iter().any(|p| p.contains("layer1.1.bn3")));
        }
    }
    // Without freezing the same fine-tuning moves the stem's statistics (the test can fail).
    let net = resnet(&ad, 5);
    let before = value(&net, "features.ResNet50.bn1.running_mean");
    let after = fine_tune(net, Frozen::default(), &ad);
    assert_ne!(before, value(&after, "features.ResNet50.bn1.running_mean"));
}

#[test]
fn train_only_freezes_everything_else_and_names_bad_prefixes() {
    let ad = Device::default().autodiff();
    let net = resnet(&ad, 7);
    let cfg = OptimConfig {
        train_only: vec!["head".into(), "features.ResNet50.layer4.0.bn3".into()],
        ..OptimConfig::default()
    };
    let frozen = Frozen::from_config(&net, &cfg).unwrap();
    let (k, all) = frozen.layers;
    assert_eq!(all - k, 2, "head and one BatchNorm train");
    assert!(!frozen.paths.iter().any(|p| p.starts_with("head")));
    let err = Frozen::from_config(
        &net,
        &OptimConfig {
            train_only: vec!["features.ResNet50.layer9".into()],
            ..OptimConfig::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("optim.train_only") && err.contains("layer9"),
        "{err}"
    );
}
