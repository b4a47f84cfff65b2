//! CORnet-Z under the official CORnet repository's names and VGG-16 under torchvision's, both
//! ways: a `state_dict` with those names loads here and gives PyTorch's logits, and what
//! brainlike writes has exactly PyTorch's keys and shapes (what `load_state_dict(strict=True)`
//! asks for), values unchanged.
//!
//! `tests/fixtures/cornet/make_fixture.py` (torch 2.9.0, torchvision 0.24.0) records the
//! names, shapes and logits of both models with every parameter filled by a formula that this
//! test computes too (full-size weights would be a 6–500 MB fixture).

use std::path::PathBuf;

use brainlike_core::config::{Head, ModelConfig};
use brainlike_core::models::{Arch, Network};
use brainlike_core::train::export::{load_safetensors, save_safetensors};
use burn::tensor::{Device, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

struct Fixture {
    input_size: usize,
    state_dict: Vec<(String, Vec<usize>)>,
    logits: Vec<f32>,
    logits_shape: Vec<usize>,
}

fn fixture(name: &str) -> Fixture {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cornet")
        .join(name);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let usizes = |v: &serde_json::Value| -> Vec<usize> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect()
    };
    Fixture {
        input_size: v["input_size"].as_u64().unwrap() as usize,
        state_dict: v["state_dict"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e[0].as_str().unwrap().to_string(), usizes(&e[1])))
            .collect(),
        logits: v["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect(),
        logits_shape: usizes(&v["logits_shape"]),
    }
}

/// `make_fixture.py`'s `formula`: value j of tensor number k is `scale * sin(0.37 j + 1.3 k)`,
/// computed in f64 and rounded to f32.
fn formula(n: usize, k: usize, scale: f64) -> Vec<f32> {
    (0..n)
        .map(|j| (scale * (0.37 * j as f64 + 1.3 * k as f64).sin()) as f32)
        .collect()
}

/// The file `safetensors.torch.save_file(model.state_dict(), FILE)` writes for the fixture's
/// model filled by `fill`.
fn torch_file(fx: &Fixture) -> Vec<u8> {
    let data: Vec<(String, Vec<usize>, Vec<u8>)> = fx
        .state_dict
        .iter()
        .enumerate()
        .map(|(k, (name, shape))| {
            let n: usize = shape.iter().product();
            let scale = if shape.len() > 1 {
                1.0 / ((n / shape[0]) as f64).sqrt()
            } else {
                0.01
            };
            let bytes = formula(n, k, scale)
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect();
            (name.clone(), shape.clone(), bytes)
        })
        .collect();
    let views: Vec<(String, TensorView)> = data
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                TensorView::new(Dtype::F32, s.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

fn image(n: usize, size: usize) -> Vec<f32> {
    (0..n * 3 * size * size)
        .map(|j| (0.11 * j as f64).cos() as f32)
        .collect()
}

/// (name, shape, raw bytes) of every tensor in a safetensors file, sorted by name.
fn tensors(bytes: &[u8]) -> Vec<(String, Vec<usize>, Vec<u8>)> {
    let st = SafeTensors::deserialize(bytes).unwrap();
    let mut v: Vec<_> = st
        .tensors()
        .into_iter()
        .map(|(n, t)| (n, t.shape().to_vec(), t.data().to_vec()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn round_trip(model: &str, head: Head, fixture_file: &str) {
    let fx = fixture(fixture_file);
    let device = Device::default();
    let cfg = ModelConfig {
        arch: Arch::parse(model).unwrap(),
        head,
        lrn: false,
        ..ModelConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("torch.safetensors");
    let bytes = torch_file(&fx);
    std::fs::write(&theirs, &bytes).unwrap();

    let mut net = Network::new(&cfg, fx.input_size, 10, 0, &device);
    load_safetensors(&mut net, &theirs).unwrap();
    let n = fx.logits_shape[0];
    let x = Tensor::<4>::from_data(
        TensorData::new(
            image(n, fx.input_size),
            [n, 3, fx.input_size, fx.input_size],
        ),
        &device,
    );
    let logits = net.forward(x);
    assert_eq!(logits.dims().to_vec(), fx.logits_shape);
    let ours: Vec<f32> = logits.into_data().try_to_vec().unwrap();
    let scale = fx.logits.iter().fold(0f32, |m, v| m.max(v.abs()));
    let err = ours
        .iter()
        .zip(&fx.logits)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        err <= 1e-4 * scale,
        "{model}: logits differ from PyTorch's by {err} (scale {scale}): {ours:?} vs {:?}",
        fx.logits
    );

    // Written back: PyTorch's keys, shapes and values exactly.
    let ours = dir.path().join("ours.safetensors");
    save_safetensors(&net, &ours, &[("model".into(), model.into())]).unwrap();
    assert!(
        tensors(&std::fs::read(&ours).unwrap()) == tensors(&bytes),
        "{model}: the saved state_dict differs from PyTorch's names, shapes or values"
    );
}

#[test]
fn cornet_z_loads_and_saves_the_official_cornet_names() {
    round_trip("cornet_z", Head::Decoder, "cornet_z.json");
}

#[test]
fn vgg16_loads_and_saves_torchvision_names() {
    round_trip("vgg16", Head::Fc4096, "vgg16.json");
}

#[test]
fn weights_of_another_model_list_missing_and_unexpected_tensors() {
    let fx = fixture("cornet_z.json");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cornet.safetensors");
    std::fs::write(&path, torch_file(&fx)).unwrap();
    let cfg = ModelConfig {
        arch: Arch::parse("vgg16").unwrap(),
        head: Head::Decoder,
        ..ModelConfig::default()
    };
    let mut net = Network::new(&cfg, 32, 10, 0, &Device::default());
    let err = load_safetensors(&mut net, &path).unwrap_err().to_string();
    assert!(
        err.contains("cornet.safetensors")
            && err.contains("missing: features.0.weight")
            && err.contains("V1.conv.weight"),
        "{err}"
    );
}

#[test]
fn init_from_another_class_count_replaces_only_the_classifier_and_says_so() {
    use brainlike_core::train::export::load_init;
    let fx = fixture("cornet_z.json"); // 10 classes
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cornet10.safetensors");
    std::fs::write(&path, torch_file(&fx)).unwrap();
    let cfg = ModelConfig {
        arch: Arch::parse("cornet_z").unwrap(),
        head: Head::Decoder,
        ..ModelConfig::default()
    };
    let device = Device::default();
    let fresh = Network::new(&cfg, 32, 100, 0, &device);

    // Strict loading refuses, naming the classifier's shapes.
    let mut strict = fresh.clone();
    let err = load_safetensors(&mut strict, &path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("decoder.linear.weight (file [10, 512]"),
        "{err}"
    );

    let mut net = fresh.clone();
    let note = load_init(&mut net, &path).unwrap().expect("a note");
    assert!(
        note.contains("decoder.linear") && note.contains("10 classes, this run 100"),
        "{note}"
    );
    let vals = |t: Tensor<4>| -> Vec<f32> { t.into_data().try_to_vec().unwrap() };
    let Some(brainlike_core::models::Features::CornetZ(f)) = Some(&net.features) else {
        panic!("cornet_z")
    };
    // V1's weights are the file's (tensor 0 of the state_dict), the classifier the fresh one.
    let v1 = vals(f.v1.conv.conv.weight.val());
    assert_eq!(v1[..5], formula(5, 0, 1.0 / (3.0f64 * 49.0).sqrt())[..]);
    let (a, b) = match (&net.head, &fresh.head) {
        (
            brainlike_core::models::ClassifierHead::Decoder(a),
            brainlike_core::models::ClassifierHead::Decoder(b),
        ) => (a.linear.weight.val(), b.linear.weight.val()),
        _ => panic!("decoder head"),
    };
    assert_eq!(a.dims(), [512, 100]);
    assert!(a.equal(b).all().into_scalar::<bool>());
}
