//! Throughput of the training step (without and with the teacher) and of inference, measured
//! with the same step the trainer runs ([`crate::train::Step`], built by
//! [`crate::train::build_step`]). Timing is
//! wall-clock over `steps` steps after `warmup` steps, ending with a host read so that
//! asynchronous backends (CUDA) have finished.
//!
//! CORnet-Z runs at 32x32 on CIFAR-100 (or random) batches with and without the V1 teacher;
//! the ImageNet models (`resnet50`, `efficientnet_b1`) run on random tensors at their default
//! input size (or `size`), 1000 classes, decoder head, cross-entropy only. [`profile`] splits
//! a model's step time by layer kind.

pub mod profile;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use serde::Serialize;

use crate::config::TrainConfig;
use crate::data::batch::{Batcher, Preprocess};
use crate::data::cifar100::{Cifar100, NUM_FINE, resolve_data_dir};
use crate::data::dataset::{Cifar100Split, Part};
use crate::data::{PackSource, Stimuli};
use crate::error::Result;
use crate::models::{Arch, Network};
use crate::train::optim::build_optimizer;
use crate::train::trainer::im2col_threshold;
use crate::train::{Batch, build_step};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Training batch.
    pub batch: usize,
    /// Timed steps.
    pub steps: usize,
    /// Warm-up steps.
    pub warmup: usize,
    /// Teacher ratio r.
    pub ratio: f64,
    /// CIFAR-100 folder for real batches (random data if None or missing).
    pub data_dir: Option<PathBuf>,
    /// Inference batch.
    pub infer_batch: usize,
    /// Classifier head (CORnet-Z only; the ImageNet models use their decoder).
    pub head: crate::config::Head,
    /// The model.
    pub arch: Arch,
    /// Input side (CORnet-Z: 32 only).
    pub size: usize,
}

impl BenchConfig {
    /// Defaults for `arch`: CORnet-Z batch 128 / inference 512 / 20 steps after 3; the ImageNet
    /// models batch 32 / inference 32 / 5 steps after 1 at their default input size.
    pub fn for_arch(arch: Arch) -> Self {
        let cornet = arch.name() == "cornet_z";
        Self {
            batch: if cornet { 128 } else { 32 },
            steps: if cornet { 20 } else { 5 },
            warmup: if cornet { 3 } else { 1 },
            ratio: 0.1,
            data_dir: None,
            infer_batch: if cornet { 512 } else { 32 },
            head: crate::config::Head::Fc4096,
            arch,
            size: if cornet {
                32
            } else {
                arch.spec().default_input_size
            },
        }
    }
}

/// Images per second on one backend.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    /// Backend.
    pub device: String,
    /// Model name.
    pub model: String,
    /// Input side.
    pub size: usize,
    /// `cifar100` or `random`.
    pub data: String,
    /// Training step, cross-entropy only.
    pub train: f64,
    /// Training step with the V1 teacher (50 pairs, shared V1 pass); CORnet-Z only.
    pub train_teacher: Option<f64>,
    /// Inference.
    pub inference: f64,
}

/// Measures `device_name` (CORnet-Z, 32x32, the configured head: `BenchConfig::head` was
/// ignored before, so earlier "decoder" rows measured the FC head).
pub fn run_bench(device_name: &str, cfg: &BenchConfig) -> Result<BenchResult> {
    if cfg.arch.name() != "cornet_z" {
        return run_bench_imagenet(device_name, cfg);
    }
    if cfg.size != 32 {
        return Err(crate::error::Error::Other(format!(
            "the CORnet-Z bench runs at 32 px, got size {}",
            cfg.size
        )));
    }
    let (name, base) = crate::device::resolve(device_name)?;
    let device = base.clone().autodiff();
    device.seed(0);
    let n = cfg.batch.max(cfg.infer_batch);
    let (images, labels, data) = match cfg
        .data_dir
        .as_ref()
        .map(|d| Cifar100::load(&resolve_data_dir(d)))
    {
        Some(Ok(c)) => {
            let idx: Vec<usize> = (0..n).collect();
            let train = Cifar100Split::new(Arc::new(c), Part::Train);
            let pre =
                Preprocess::resolve(crate::models::Normalization::TrainingMean, &train, 0, 32);
            let (x, y) = Batcher::new(pre).batch(&train, &idx, &base);
            (x, y, "cifar100")
        }
        _ => (
            Tensor::<4>::random([n, 3, 32, 32], Distribution::Uniform(-0.5, 0.5), &base),
            Tensor::<1, Int>::from_data(
                TensorData::new(
                    (0..n as i64)
                        .map(|i| i % NUM_FINE as i64)
                        .collect::<Vec<_>>(),
                    [n],
                ),
                &base,
            ),
            "random",
        ),
    };
    let stimuli = Stimuli::load(&PackSource::Builtin, 32)?;
    let pairs = Arc::new(pairs_of(&stimuli)?);
    let mut tcfg = TrainConfig::default();
    tcfg.model.head = cfg.head;
    tcfg.teacher.ratio = cfg.ratio;
    tcfg.teacher.epochs = crate::config::TeacherEpochs::All;
    let mut model = Network::new(&tcfg.model, 32, NUM_FINE, im2col_threshold(&name), &device);
    let mut optim = build_optimizer(&tcfg.optim);
    let pre = Preprocess::identity(32);
    let mut with_teacher_step =
        build_step(&tcfg, Some(&stimuli), Some(&pairs), &model, &pre, &device)?;
    let mut ce_only = build_step(&tcfg, Some(&stimuli), Some(&pairs), &model, &pre, &device)?;
    ce_only.objectives.truncate(1);
    for o in &mut with_teacher_step.objectives {
        o.start_epoch(1);
    }
    let x = images
        .clone()
        .slice([0..cfg.batch, 0..3, 0..32, 0..32])
        .to_device(&device);
    let y = labels.clone().narrow(0, 0, cfg.batch).to_device(&device);
    let mut time_train = |step: &mut crate::train::Step, model: &mut Option<Network>| -> f64 {
        let m = model.take().expect("model");
        let (secs, m) = timed_loop(step, &mut optim, m, &x, &y, cfg.warmup, cfg.steps);
        *model = Some(m);
        (cfg.steps * cfg.batch) as f64 / secs
    };
    let mut slot = Some(model);
    let train = time_train(&mut ce_only, &mut slot);
    let train_teacher = time_train(&mut with_teacher_step, &mut slot);
    model = slot.expect("model");

    let valid = model.valid();
    let xi = images.slice([0..cfg.infer_batch, 0..3, 0..32, 0..32]);
    let inference = time_inference(cfg, &valid, xi);
    Ok(BenchResult {
        device: name,
        model: "cornet_z".into(),
        size: 32,
        data: data.into(),
        train,
        train_teacher: Some(train_teacher),
        inference,
    })
}

/// Random input `[n, 3, size, size]` in `-1..1` and labels `i % classes`.
pub fn random_batch(
    n: usize,
    size: usize,
    classes: usize,
    device: &Device,
) -> (Tensor<4>, Tensor<1, Int>) {
    let x = Tensor::<4>::random([n, 3, size, size], Distribution::Uniform(-1.0, 1.0), device);
    let y = Tensor::<1, Int>::from_data(
        TensorData::new(
            (0..n as i64)
                .map(|i| i % classes as i64)
                .collect::<Vec<_>>(),
            [n],
        ),
        device,
    );
    (x, y)
}

/// Classes of the ImageNet benches.
pub const IMAGENET_CLASSES: usize = 1000;

/// The model of an ImageNet bench: `cfg.arch`, decoder head, 1000 classes, `cfg.size` px.
pub fn imagenet_model(
    cfg: &BenchConfig,
    device_name: &str,
    device: &Device,
) -> (TrainConfig, Network) {
    let mut tcfg = TrainConfig::default();
    tcfg.model.arch = cfg.arch;
    tcfg.model.head = crate::config::Head::Decoder;
    tcfg.teacher.ratio = 0.0;
    let model = Network::new(
        &tcfg.model,
        cfg.size,
        IMAGENET_CLASSES,
        im2col_threshold(device_name),
        device,
    );
    (tcfg, model)
}

/// Seconds per training step of `model` (warm-up, then `cfg.steps` timed steps ending with a
/// host read of the last loss). Returns the model after the steps.
pub fn time_steps(
    cfg: &BenchConfig,
    tcfg: &TrainConfig,
    model: Network,
    x: &Tensor<4>,
    y: &Tensor<1, Int>,
    device: &Device,
) -> Result<(f64, Network)> {
    let pre = Preprocess::identity(cfg.size);
    let mut step = build_step(tcfg, None, None, &model, &pre, device)?;
    let mut optim = build_optimizer(&tcfg.optim);
    let (secs, model) = timed_loop(&mut step, &mut optim, model, x, y, cfg.warmup, cfg.steps);
    Ok((secs / cfg.steps.max(1) as f64, model))
}

/// `warmup` untimed then `steps` timed training steps (lr 0.01, epoch 1) on one batch; the
/// clock starts after a host read of the last warm-up loss and stops after one of the last
/// timed loss (asynchronous backends have finished). Returns the timed seconds and the model.
fn timed_loop(
    step: &mut crate::train::Step,
    optim: &mut burn::optim::ModuleOptimizer,
    model: Network,
    x: &Tensor<4>,
    y: &Tensor<1, Int>,
    warmup: usize,
    steps: usize,
) -> (f64, Network) {
    let mut model = Some(model);
    let mut last = None;
    let mut t0 = Instant::now();
    for i in 0..warmup + steps {
        if i == warmup {
            if let Some(s) = last.take() {
                let _: f32 = Tensor::<1>::into_scalar(s);
            }
            t0 = Instant::now();
        }
        let (m, stats) = step.run(
            model.take().expect("model"),
            optim,
            Batch::hard(x.clone(), y.clone()),
            0.01,
            1,
            i as u64,
        );
        model = Some(m);
        last = Some(stats.ce);
    }
    if let Some(s) = last {
        let _: f32 = s.into_scalar();
    }
    (t0.elapsed().as_secs_f64(), model.expect("model"))
}

/// Inference images/s of `model` on the batch `x`: `cfg.warmup` untimed passes, then
/// `cfg.steps` timed ones (the backend is synchronised at the end of each phase).
fn time_inference(cfg: &BenchConfig, model: &Network, x: Tensor<4>) -> f64 {
    let mut t0 = Instant::now();
    for i in 0..cfg.warmup + cfg.steps {
        if i == cfg.warmup {
            t0 = Instant::now();
        }
        let out = model.forward(x.clone());
        if i + 1 == cfg.warmup || i + 1 == cfg.warmup + cfg.steps {
            let _: f32 = out.sum().into_scalar();
        }
    }
    (cfg.steps * cfg.infer_batch) as f64 / t0.elapsed().as_secs_f64()
}

/// ResNet-50 / EfficientNet-B1: SGD (lr 0.01, the trainer's defaults otherwise) with
/// cross-entropy on random `[batch, 3, size, size]` tensors, and inference in eval mode.
fn run_bench_imagenet(device_name: &str, cfg: &BenchConfig) -> Result<BenchResult> {
    let (name, base) = crate::device::resolve(device_name)?;
    let device = base.clone().autodiff();
    device.seed(0);
    let (tcfg, model) = imagenet_model(cfg, &name, &device);
    let (x, y) = random_batch(cfg.batch, cfg.size, IMAGENET_CLASSES, &device);
    let (secs, model) = time_steps(cfg, &tcfg, model, &x, &y, &device)?;
    let train = cfg.batch as f64 / secs;
    drop((x, y));
    let valid = model.valid();
    let (xi, _) = random_batch(cfg.infer_batch, cfg.size, IMAGENET_CLASSES, &base);
    let inference = time_inference(cfg, &valid, xi);
    Ok(BenchResult {
        device: name,
        model: cfg.arch.name().into(),
        size: cfg.size,
        data: "random".into(),
        train,
        train_teacher: None,
        inference,
    })
}

fn pairs_of(stimuli: &Stimuli) -> Result<crate::data::PairSet> {
    crate::data::teacher::load_pairs(&PackSource::Builtin, "v1", stimuli.count)
}
