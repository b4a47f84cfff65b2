//! LibTorch (`tch`) agrees with `flex` on CORnet-Z: the same weights give the same logits, and
//! the same SGD steps (cross-entropy only, then with the V1 teacher) give the same weights.
//!
//! Needs the `tch` feature and libtorch 2.9.0 at run time, e.g.
//! `LIBTORCH_USE_PYTORCH=1 LD_LIBRARY_PATH=$(python3 -c 'import torch, os;
//! print(os.path.dirname(torch.__file__))')/lib cargo test --release -p brainlike-core
//! --features tch --test tch_backend`.
#![cfg(feature = "tch")]

use std::sync::Arc;

use burn::module::Module;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use burn_store::ModuleSnapshot;

use brainlike_core::config::{ModelConfig, TeacherConfig, TrainConfig};
use brainlike_core::data::cifar100::NUM_FINE;
use brainlike_core::data::{PackSource, Stimuli};
use brainlike_core::device;
use brainlike_core::models::Network;
use brainlike_core::train::objective::{CrossEntropy, Teacher, TeacherData};
use brainlike_core::train::optim::build_optimizer;
use brainlike_core::train::trainer::im2col_threshold;
use brainlike_core::train::{Batch, Objective, Step};

const TOL: f32 = 1e-4;
const BATCH: usize = 16;

/// CORnet-Z with the paper's FC head, without dropout (its masks are backend RNG draws).
fn model_config() -> ModelConfig {
    ModelConfig {
        dropout: 0.0,
        ..ModelConfig::default()
    }
}

fn devices() -> (Device, Device) {
    let (_, flex) = device::resolve("flex").expect("flex compiled in");
    let (_, tch) = device::resolve("tch").expect("tch compiled in");
    (flex.autodiff(), tch.autodiff())
}

/// Every parameter of `model` as `(name, values)`, in module order.
fn params(model: &Network) -> Vec<(String, Vec<f32>)> {
    model
        .collect(None, None, false)
        .into_iter()
        .map(|t| {
            let bytes = t.to_bytes().expect("parameter bytes");
            let v = bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (t.name.clone(), v)
        })
        .collect()
}

/// The flex model and a tch model carrying the same weights.
fn twin_models(flex: &Device, tch: &Device) -> (Network, Network) {
    flex.seed(7);
    let cfg = model_config();
    let a = Network::new(&cfg, 32, NUM_FINE, im2col_threshold("flex"), flex);
    let mut b = Network::new(&cfg, 32, NUM_FINE, im2col_threshold("tch"), tch);
    let result = b.apply(a.collect(None, None, false), None, None, false);
    assert!(
        result.errors.is_empty() && result.missing.is_empty() && result.unused.is_empty(),
        "weights copied flex → tch: {result:?}"
    );
    let (pa, pb) = (params(&a), params(&b));
    assert_eq!(pa.len(), pb.len());
    for ((na, va), (nb, vb)) in pa.iter().zip(&pb) {
        assert_eq!(na, nb);
        assert_eq!(va, vb, "{na} copied exactly");
    }
    (a, b)
}

/// A batch on `flex` and the same values on `tch`.
fn twin_batch(flex: &Device, tch: &Device) -> [(Tensor<4>, Tensor<1, Int>); 2] {
    flex.seed(11);
    let x = Tensor::<4>::random([BATCH, 3, 32, 32], Distribution::Uniform(-0.5, 0.5), flex);
    let labels: Vec<i64> = (0..BATCH as i64)
        .map(|i| (i * 7) % NUM_FINE as i64)
        .collect();
    let data = x.to_data();
    let y = |d: &Device| Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [BATCH]), d);
    [(x, y(flex)), (Tensor::<4>::from_data(data, tch), y(tch))]
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 data")
}

#[test]
fn logits_agree_with_flex() {
    let (flex, tch) = devices();
    let (a, b) = twin_models(&flex, &tch);
    let [(xa, _), (xb, _)] = twin_batch(&flex, &tch);
    let la = values(a.valid().forward(xa.inner()));
    let lb = values(b.valid().forward(xb.inner()));
    let scale = la.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let diff = max_abs_diff(&la, &lb);
    eprintln!("logits: max |flex - tch| = {diff:.3e} (max |logit| {scale:.3e})");
    assert!(scale > 1e-3, "logits are not trivially zero");
    assert!(diff <= TOL, "logits differ by {diff:e}");
}

/// The training step of a run: cross-entropy, and with `teacher` the V1 teacher on the
/// built-in pack (same seed, so the same pairs on both devices).
fn step(teacher: bool, device: &Device) -> Step {
    let mut objectives: Vec<Box<dyn Objective>> = vec![Box::new(CrossEntropy {
        label_smoothing: 0.0,
    })];
    if teacher {
        let stimuli = Stimuli::load(&PackSource::Builtin, 32).expect("built-in stimuli");
        let pairs = Arc::new(
            brainlike_core::data::teacher::load_pairs(&PackSource::Builtin, "v1", stimuli.count)
                .expect("built-in V1 pairs"),
        );
        let cfg = TeacherConfig {
            ratio: 0.5,
            ..TeacherConfig::default()
        };
        let data = TeacherData::new(stimuli.pixels, stimuli.count, stimuli.size, pairs, device);
        let tap = cfg.layer;
        objectives.push(Box::new(Teacher::new(cfg, data, tap, 3)));
    }
    Step {
        objectives,
        transforms: Vec::new(),
        hooks: Vec::new(),
        frozen: Default::default(),
    }
}

#[test]
fn sgd_steps_agree_with_flex() {
    let (flex, tch) = devices();
    let (mut a, mut b) = twin_models(&flex, &tch);
    let [(xa, ya), (xb, yb)] = twin_batch(&flex, &tch);
    let optim = TrainConfig::default().optim;
    let (mut oa, mut ob) = (build_optimizer(&optim), build_optimizer(&optim));
    // Step 1: cross-entropy only; step 2: with the teacher (the same pairs on both).
    for (t, with_teacher) in [false, true].into_iter().enumerate() {
        let before = params(&a);
        let (ma, sa) = step(with_teacher, &flex).run(
            a,
            &mut oa,
            Batch::hard(xa.clone(), ya.clone()),
            0.05,
            1,
            t as u64,
        );
        let (mb, sb) = step(with_teacher, &tch).run(
            b,
            &mut ob,
            Batch::hard(xb.clone(), yb.clone()),
            0.05,
            1,
            t as u64,
        );
        (a, b) = (ma, mb);
        let (ce_a, ce_b) = (sa.ce.into_scalar::<f32>(), sb.ce.into_scalar::<f32>());
        eprintln!("step (teacher {with_teacher}): CE flex {ce_a:.6} tch {ce_b:.6}");
        assert!((ce_a - ce_b).abs() <= TOL, "CE {ce_a} vs {ce_b}");
        let term = |logs: Vec<(&'static str, Tensor<1>)>| {
            logs.into_iter()
                .find(|(name, _)| *name == "teacher_term")
                .map(|(_, v)| v.into_scalar::<f32>())
        };
        let (t_a, t_b) = (term(sa.logs), term(sb.logs));
        assert_eq!(t_a.is_some(), with_teacher, "the teacher term is logged");
        if let (Some(t_a), Some(t_b)) = (t_a, t_b) {
            eprintln!("  teacher term flex {t_a:.6} tch {t_b:.6}");
            assert!((t_a - t_b).abs() <= TOL, "teacher term {t_a} vs {t_b}");
        }
        let mut worst = (0.0f32, String::new());
        let mut moved = 0.0f32;
        let (pa, pb) = (params(&a), params(&b));
        for (((name, va), (_, vb)), (_, v0)) in pa.iter().zip(&pb).zip(&before) {
            let d = max_abs_diff(va, vb);
            if d > worst.0 {
                worst = (d, name.clone());
            }
            moved = moved.max(max_abs_diff(va, v0));
        }
        eprintln!(
            "  weights: max |flex - tch| = {:.3e} ({}); largest update {moved:.3e}",
            worst.0, worst.1
        );
        assert!(moved > 1e-5, "the step moved the weights ({moved:e})");
        assert!(worst.0 <= TOL, "{} differs by {:e}", worst.1, worst.0);
    }
}

#[test]
fn threads_and_cuda_probe() {
    let before = device::tch_threads_now();
    assert!(before >= 1);
    device::set_tch_threads(1);
    assert_eq!(device::tch_threads_now(), 1);
    device::set_tch_threads(before);
    assert_eq!(device::tch_threads_now(), before);
    // `auto` is LibTorch CUDA where libtorch sees a GPU, LibTorch CPU otherwise.
    let (name, _) = device::resolve("auto").expect("auto");
    let expect = if device::cuda_device_count() > 0 {
        "tch-cuda"
    } else {
        "tch"
    };
    assert_eq!(name, expect);
    assert!(device::compiled().contains(&"flex"));
}
