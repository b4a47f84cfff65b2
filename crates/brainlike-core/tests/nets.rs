//! Golden tests of the ImageNet families against PyTorch, without PyTorch at test time.
//!
//! `tests/fixtures/nets/make_fixtures.py` (torch 2.9.0, torchvision 0.24.0, timm 1.0.31)
//! builds a narrow ResNet from torchvision's own `Bottleneck`/`_make_layer` and timm's
//! `efficientnet_b1` generator with channel multiplier 0.125 and depth multiplier 0.5 (same
//! module names as `resnet50` / `efficientnet_b1`), randomises the BatchNorm statistics,
//! saves the `state_dict` with `safetensors.torch.save_file`, and records for 4 images of
//! 32x32: eval-mode logits and taps, the train-mode logits and cross-entropy of one SGD step
//! (lr 0.1), the `state_dict` after it (weights and BatchNorm running statistics) and the
//! eval-mode logits after it. Here the same files load through the PyTorch-name loader, the
//! same step runs in Burn, and the saver's output is compared with PyTorch's.

use std::collections::BTreeMap;
use std::path::PathBuf;

use brainlike_core::models::efficientnet_b1::{EfficientNetB1, EfficientNetConfig};
use brainlike_core::models::resnet50::{ResNet50, ResNetConfig};
use brainlike_core::models::{ClassifierHead, Features, Network, Tap, weights};
use burn::module::Module;
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

/// Relative tolerance: max |ours − PyTorch| / max |PyTorch|.
const TOL: f32 = 1e-4;
/// For what follows the step (parameters after it, eval-mode logits after it): the
/// 8-channel EfficientNet's BatchNorms over 4 images of 1x1 maps amplify the step's float
/// error (logits measured 3.7e-4; the SE reduce bias of `blocks.4.0` 1.2e-4 on an AVX-512
/// EPYC, below 1e-4 on AVX2; ResNet in the 1e-6 range).
const TOL_AFTER: f32 = 1e-3;

/// The device of the golden tests: `BRAINLIKE_TEST_DEVICE` (e.g. `tch`, in a build with
/// `--features tch`, to check LibTorch's own backward passes of `models/layers/libtorch.rs`
/// against PyTorch), or the default one (`flex`).
fn test_device() -> Device {
    match std::env::var("BRAINLIKE_TEST_DEVICE") {
        Ok(name) => brainlike_core::device::resolve(&name).unwrap().1,
        Err(_) => Device::default(),
    }
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/nets")
        .join(name)
}

/// Every tensor of a safetensors file (or bytes) as (shape, f32 values).
fn read_bytes(bytes: &[u8]) -> BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    let st = SafeTensors::deserialize(bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, v)| {
            let vals: Vec<f32> = match v.dtype() {
                Dtype::F32 => v
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
                Dtype::I64 => v
                    .data()
                    .chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f32)
                    .collect(),
                d => panic!("{name}: {d:?}"),
            };
            (name, (v.shape().to_vec(), vals))
        })
        .collect()
}

fn read(name: &str) -> BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    read_bytes(&std::fs::read(fixture(name)).unwrap())
}

fn rel_err(ours: &[f32], theirs: &[f32]) -> f32 {
    assert_eq!(ours.len(), theirs.len());
    let scale = theirs.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    let diff = ours
        .iter()
        .zip(theirs)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    diff / scale
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

fn check<const D: usize>(
    what: &str,
    ours: Tensor<D>,
    io: &BTreeMap<String, (Vec<usize>, Vec<f32>)>,
) {
    check_tol(what, ours, io, TOL)
}

fn check_tol<const D: usize>(
    what: &str,
    ours: Tensor<D>,
    io: &BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    tol: f32,
) {
    let (shape, theirs) = &io[what];
    assert_eq!(&ours.dims().to_vec(), shape, "{what}: shape");
    let e = rel_err(&values(ours), theirs);
    println!("{what}: relative error {e:.2e}");
    assert!(e < tol, "{what}: relative error {e:.2e}");
}

fn tensor4(
    io: &BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    name: &str,
    device: &Device,
) -> Tensor<4> {
    let (s, v) = &io[name];
    Tensor::from_data(TensorData::new(v.clone(), s.clone()), device)
}

/// Runs the whole comparison for one family.
fn golden(name: &str, features: Features, classes: usize, channels: usize, taps: &[&'static str]) {
    let device = test_device().autodiff();
    let mut net = Network {
        features,
        head: ClassifierHead::decoder(channels, classes, &device),
    };
    brainlike_core::train::export::load_safetensors(
        &mut net,
        &fixture(&format!("{name}.safetensors")),
    )
    .unwrap();
    let io = read(&format!("{name}_io.safetensors"));
    let x = tensor4(&io, "input", &device);

    // Eval mode (valid model, plain device): logits and every tap.
    let valid = net.valid();
    let xv = x.clone().inner();
    check("eval.logits", valid.forward(xv.clone()), &io);
    let tap_list: Vec<Tap> = taps.iter().map(|t| Tap::from_static(t)).collect();
    let (acts, _) = valid.read_out(xv, &tap_list, false);
    for (t, a) in taps.iter().zip(acts) {
        check(&format!("eval.{t}"), a, &io);
    }
    // Eval mode on the autodiff device (the teacher's pass): the same activations, and the
    // running statistics stay untouched (checked after the step below).
    let first = tap_list[0];
    let e = net.activations_eval(x.clone(), first);
    check(&format!("eval.{}", taps[0]), e.inner(), &io);

    // One training step: train-mode forward, cross-entropy, SGD lr 0.1.
    let (_, labels) = &io["labels"];
    let labels: Vec<i64> = labels.iter().map(|&v| v as i64).collect();
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [4]), &device);
    let logits = net.forward(x.clone());
    check("train.logits", logits.clone().inner(), &io);
    let loss = burn::nn::loss::CrossEntropyLossConfig::new()
        .init(&device)
        .forward(logits, y);
    check("train.loss", loss.clone().inner(), &io);
    let grads = GradientsParams::from_grads(loss.backward(), &net);
    let mut optim = SgdConfig::new().init();
    let net = optim.step(0.1, net, grads);

    // The state after the step, written by our saver under PyTorch names, against PyTorch's.
    let ours = read_bytes(&weights::torch_bytes(&net, &[]).unwrap());
    let theirs = read(&format!("{name}_after.safetensors"));
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "same state_dict names"
    );
    let mut worst = (0f32, String::new());
    for (k, (s, v)) in &theirs {
        assert_eq!(&ours[k].0, s, "{k}: shape");
        let e = rel_err(&ours[k].1, v);
        if e > worst.0 {
            worst = (e, k.clone());
        }
        assert!(e < TOL_AFTER, "{k} after the step: relative error {e:.2e}");
    }
    println!(
        "after step: worst relative error {:.2e} ({})",
        worst.0, worst.1
    );
    check_tol(
        "after.eval.logits",
        net.valid().forward(x.inner()),
        &io,
        TOL_AFTER,
    );
}

#[test]
fn resnet_matches_torchvision() {
    let device = test_device().autodiff();
    let cfg = ResNetConfig {
        stem: 8,
        planes: [4, 8, 16, 32],
        layers: [2, 1, 1, 1],
    };
    golden(
        "resnet_small",
        Features::ResNet50(ResNet50::with_config(cfg, &device)),
        10,
        128,
        &["layer1", "layer2", "layer3", "layer4"],
    );
}

#[test]
fn efficientnet_matches_timm() {
    let device = test_device().autodiff();
    let cfg = EfficientNetConfig {
        channel_multiplier: 0.125,
        depth_multiplier: 0.5,
        drop_path_rate: 0.0,
    };
    golden(
        "efficientnet_small",
        Features::EfficientNetB1(EfficientNetB1::with_config(cfg, &device)),
        10,
        EfficientNetB1::features(cfg),
        &[
            "stage1",
            "stage2",
            "stage3",
            "stage4",
            "stage5",
            "stage6",
            "stage7",
            "conv_head",
        ],
    );
}

#[test]
fn a_file_that_does_not_fit_is_a_clear_error() {
    let device = Device::default();
    // The small ResNet's file into a ResNet with one block more in layer1 and 5 classes.
    let cfg = ResNetConfig {
        stem: 8,
        planes: [4, 8, 16, 32],
        layers: [3, 1, 1, 1],
    };
    let mut net = Network {
        features: Features::ResNet50(ResNet50::with_config(cfg, &device)),
        head: ClassifierHead::decoder(128, 5, &device),
    };
    let err = weights::load_torch(&mut net, &fixture("resnet_small.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing: layer1.2.conv1.weight"), "{err}");
    assert!(
        err.contains(
            "mismatched shapes: fc.weight (file [10, 128], model [5, 128], PyTorch layout)"
        ),
        "{err}"
    );
    assert!(err.contains("unexpected: none"), "{err}");
    // An EfficientNet file into a ResNet: everything unexpected.
    let err = weights::load_torch(&mut net, &fixture("efficientnet_small.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unexpected: blocks.0.0.bn1.bias"), "{err}");
}

#[test]
fn full_resnet50_forward_on_one_small_image() {
    use brainlike_core::config::{Head, ModelConfig};
    use brainlike_core::models::Arch;
    let device = Device::default();
    let cfg = ModelConfig {
        arch: Arch::parse("resnet50").unwrap(),
        head: Head::Decoder,
        ..ModelConfig::default()
    };
    let t = std::time::Instant::now();
    let net = Network::new(&cfg, 64, 1000, 0, &device);
    let x = Tensor::<4>::random([1, 3, 64, 64], burn::tensor::Distribution::Default, &device);
    let logits = net.forward(x);
    assert_eq!(logits.dims(), [1, 1000]);
    assert!(logits.abs().sum().into_scalar::<f32>().is_finite());
    // torchvision's resnet50: 25,557,032 parameters (running statistics not counted there).
    let params: usize = weights::torch_bytes(&net, &[])
        .map(|b| {
            read_bytes(&b)
                .iter()
                .filter(|(k, _)| !k.contains("running_") && !k.contains("num_batches"))
                .map(|(_, (s, _))| s.iter().product::<usize>())
                .sum()
        })
        .unwrap();
    assert_eq!(params, 25_557_032);
    println!("resnet50 at 64 px: {:.2} s", t.elapsed().as_secs_f64());
}

#[test]
fn saved_weights_load_back_bit_for_bit() {
    use brainlike_core::train::export::{load_safetensors, save_safetensors};
    let device = Device::default();
    let cfg = EfficientNetConfig {
        channel_multiplier: 0.125,
        depth_multiplier: 0.5,
        drop_path_rate: 0.0,
    };
    let build = || Network {
        features: Features::EfficientNetB1(EfficientNetB1::with_config(cfg, &device)),
        head: ClassifierHead::decoder(EfficientNetB1::features(cfg), 10, &device),
    };
    let mut a = build();
    weights::load_torch(&mut a, &fixture("efficientnet_small.safetensors")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    save_safetensors(&a, &path, &[("producer".into(), "test".into())]).unwrap();
    // PyTorch's names and layout: the same tensors as the fixture PyTorch wrote.
    let ours = read_bytes(&std::fs::read(&path).unwrap());
    let theirs = read("efficientnet_small.safetensors");
    assert_eq!(ours, theirs);
    let mut b = build();
    load_safetensors(&mut b, &path).unwrap();
    let x = Tensor::<4>::random([2, 3, 32, 32], burn::tensor::Distribution::Default, &device);
    let d = (a.forward(x.clone()) - b.forward(x))
        .abs()
        .max()
        .into_scalar::<f32>();
    assert_eq!(d, 0.0);
}

/// Full-size `resnet50` / `efficientnet_b1` files from torchvision/timm (random weights,
/// randomised BatchNorm statistics), too big to commit. Make them with
/// `tests/fixtures/nets/make_full.py DIR`, then
/// `BRAINLIKE_TORCH_FULL=DIR cargo test --release -p brainlike-core --test nets -- --ignored`.
#[test]
#[ignore = "needs BRAINLIKE_TORCH_FULL (files made by make_full.py)"]
fn full_size_pytorch_files_load_and_agree() {
    use brainlike_core::config::{Head, ModelConfig};
    use brainlike_core::models::Arch;
    let dir = PathBuf::from(std::env::var("BRAINLIKE_TORCH_FULL").expect("BRAINLIKE_TORCH_FULL"));
    let device = Device::default();
    for name in ["resnet50", "efficientnet_b1"] {
        let cfg = ModelConfig {
            arch: Arch::parse(name).unwrap(),
            head: Head::Decoder,
            ..ModelConfig::default()
        };
        let mut net = Network::new(&cfg, 64, 1000, 0, &device);
        weights::load_torch(&mut net, &dir.join(format!("{name}.safetensors"))).unwrap();
        let io = read_bytes(&std::fs::read(dir.join(format!("{name}_io.safetensors"))).unwrap());
        let x = tensor4(&io, "input", &device);
        let (_, theirs) = &io["eval.logits"];
        let e = rel_err(&values(net.forward(x)), theirs);
        println!("{name}: eval logits relative error {e:.2e}");
        assert!(e < TOL, "{name}: {e:.2e}");
    }
}

/// An objective that reads extra stimuli out at a tap (like the V1 teacher) and adds their
/// mean square activation to the loss.
struct ProbeSquare {
    stimuli: Tensor<4>,
    tap: Tap,
}

impl brainlike_core::train::Objective for ProbeSquare {
    fn name(&self) -> &'static str {
        "probe_square"
    }
    fn probe(&mut self, _device: &Device) -> Option<brainlike_core::train::Probe> {
        Some(brainlike_core::train::Probe {
            stimuli: self.stimuli.clone(),
            tap: self.tap,
        })
    }
    fn loss(&mut self, view: &brainlike_core::train::StepView) -> brainlike_core::train::Term {
        let acts = view.probe.clone().expect("probe activations");
        brainlike_core::train::Term {
            name: "probe_square",
            value: acts.powi_scalar(2).mean().reshape([1]),
            logs: Vec::new(),
        }
    }
}

#[test]
fn the_step_reads_probes_out_in_eval_mode_on_batchnorm_models() {
    use brainlike_core::train::freeze::Frozen;
    use brainlike_core::train::objective::CrossEntropy;
    use brainlike_core::train::{Batch, Objective, Step};
    let device = Device::default().autodiff();
    let io = read("resnet_small_io.safetensors");
    let x = tensor4(&io, "input", &device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 3, 7, 9], [4]), &device);
    // Stimuli far from the batch: they would move any batch statistics they entered.
    let stimuli = tensor4(&io, "input", &device)
        .mul_scalar(50.0)
        .add_scalar(3.0);
    let run = |with_probe: bool| {
        let cfg = ResNetConfig {
            stem: 8,
            planes: [4, 8, 16, 32],
            layers: [2, 1, 1, 1],
        };
        let mut net = Network {
            features: Features::ResNet50(ResNet50::with_config(cfg, &device)),
            head: ClassifierHead::decoder(128, 10, &device),
        };
        weights::load_torch(&mut net, &fixture("resnet_small.safetensors")).unwrap();
        let mut objectives: Vec<Box<dyn Objective>> = vec![Box::new(CrossEntropy {
            label_smoothing: 0.0,
        })];
        if with_probe {
            objectives.push(Box::new(ProbeSquare {
                stimuli: stimuli.clone(),
                tap: Tap::from_static("layer1"),
            }));
        }
        let mut step = Step {
            objectives,
            transforms: Vec::new(),
            hooks: Vec::new(),
            frozen: Frozen::default(),
        };
        let mut optim = SgdConfig::new().init();
        let (net, _) = step.run(
            net,
            &mut optim,
            Batch::hard(x.clone(), y.clone()),
            0.1,
            1,
            0,
        );
        read_bytes(&weights::torch_bytes(&net, &[]).unwrap())
    };
    let plain = run(false);
    let probed = run(true);
    let theirs = read("resnet_small_after.safetensors");
    for (k, (_, v)) in &plain {
        if k.contains("running_") || k.contains("num_batches_tracked") {
            // The probe's pass left every BatchNorm statistic as the batch alone set it, and
            // the batch alone set them as PyTorch's step did.
            assert_eq!(v, &probed[k].1, "{k}: the probe entered the statistics");
            assert!(rel_err(v, &theirs[k].1) < TOL, "{k}");
        }
    }
    // The probe's term reached the weights below its tap.
    assert_ne!(plain["conv1.weight"].1, probed["conv1.weight"].1);
    // ...and none above it (layer2.. and fc see only the cross-entropy).
    assert_eq!(plain["fc.weight"].1, probed["fc.weight"].1);
}

#[test]
fn checkpoints_keep_batchnorm_statistics() {
    // The checkpoint format (Burnpack, Burn's paths) round-trips the running statistics and
    // num_batches_tracked of our BatchNorm2d.
    use burn::tensor::Bytes;
    use burn_store::{BurnpackStore, ModuleSnapshot};
    let device = Device::default().autodiff();
    let cfg = ResNetConfig {
        stem: 8,
        planes: [4, 8, 16, 32],
        layers: [2, 1, 1, 1],
    };
    let build = || Network {
        features: Features::ResNet50(ResNet50::with_config(cfg, &device)),
        head: ClassifierHead::decoder(128, 10, &device),
    };
    let mut a = build();
    weights::load_torch(&mut a, &fixture("resnet_small.safetensors")).unwrap();
    let io = read("resnet_small_io.safetensors");
    let _ = a.forward(tensor4(&io, "input", &device)); // train mode: statistics move
    let mut store = BurnpackStore::from_bytes(None);
    a.save_into(&mut store).unwrap();
    let bytes = store.get_bytes().unwrap();
    let mut b = build();
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes.to_vec())));
    b.load_from(&mut store).unwrap();
    let (ta, tb) = (
        read_bytes(&weights::torch_bytes(&a, &[]).unwrap()),
        read_bytes(&weights::torch_bytes(&b, &[]).unwrap()),
    );
    assert_eq!(ta, tb);
    assert_eq!(ta["bn1.num_batches_tracked"].1, vec![4.0]);
}
