//! `brainlike extract` through the real binary: one `.npy` per layer with the stimuli in
//! file-name order, values equal to an in-process forward pass, the same from `--inputs`,
//! and clear errors for a missing layer or a malformed input array.

use std::path::Path;
use std::process::Command;

use brainlike_core::burn::tensor::{Device, Tensor, TensorData};
use brainlike_core::config::{Head, ModelConfig};
use brainlike_core::models::{Arch, Network};
use brainlike_core::train::export::save_safetensors;
use npyz::WriterBuilder;

const BIN: &str = env!("CARGO_BIN_EXE_brainlike");
const MEAN: f32 = 0.5;
const STD: f32 = 0.25;

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

fn read_npy(path: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f32>().unwrap())
}

fn write_npy(path: &Path, shape: &[u64], values: &[f32]) {
    let mut f = std::fs::File::create(path).unwrap();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut f)
        .begin_nd()
        .unwrap();
    w.extend(values.iter().copied()).unwrap();
    w.finish().unwrap();
}

/// An untrained CORnet-Z (decoder head, 100 classes) saved with a recorded preprocessing,
/// and 5 PNG images of 32x32 (named out of order).
fn setup(dir: &Path) -> Network {
    let device = Device::default();
    let cfg = ModelConfig {
        arch: Arch::parse("cornet_z").unwrap(),
        head: Head::Decoder,
        ..ModelConfig::default()
    };
    let net = Network::new(&cfg, 32, 100, 0, &device);
    let pre = format!(
        r#"{{"mean":[{MEAN},{MEAN},{MEAN}],"std":[{STD},{STD},{STD}],"input_size":32,"interpolation":"bilinear"}}"#
    );
    save_safetensors(
        &net,
        &dir.join("w.safetensors"),
        &[("preprocessing".into(), pre)],
    )
    .unwrap();
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    for (k, name) in ["e", "a", "c", "b", "d"].iter().enumerate() {
        let img = image::RgbImage::from_fn(32, 32, |x, y| {
            image::Rgb([
                (x * 7 + k as u32 * 40) as u8,
                (y * 5 + k as u32 * 11) as u8,
                ((x + y) * 3) as u8,
            ])
        });
        img.save(images.join(format!("{name}.png"))).unwrap();
    }
    net
}

/// The normalised pixels of the images in name order, as the command should feed them.
fn inputs(dir: &Path) -> Vec<f32> {
    let mut px = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        let p = dir.join(format!("images/{name}.png"));
        let v =
            brainlike_core::data::image::decode_chw(&p, &std::fs::read(&p).unwrap(), 32).unwrap();
        px.extend(v.iter().map(|x| (x - MEAN) / STD));
    }
    px
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()))
}

#[test]
fn extract_all_layers_from_images_and_from_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let net = setup(tmp.path());
    let out = tmp.path().join("feats");
    let (ok, log) = run(&[
        "extract",
        "--model",
        "cornet_z",
        "--weights",
        tmp.path().join("w.safetensors").to_str().unwrap(),
        "--images",
        tmp.path().join("images").to_str().unwrap(),
        "--layers",
        "all",
        "--chunk",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{log}");
    assert_eq!(
        std::fs::read_to_string(out.join("stimuli.txt")).unwrap(),
        "a\nb\nc\nd\ne\n"
    );
    let expect_dims = [
        ("v1", 64 * 8 * 8),
        ("v2", 128 * 4 * 4),
        ("v4", 256 * 2 * 2),
        ("it", 512),
        ("penultimate", 512),
        ("logits", 100),
    ];
    for (layer, dim) in expect_dims {
        let (shape, _) = read_npy(&out.join(format!("{layer}.npy")));
        assert_eq!(shape, vec![5, dim as u64], "{layer}");
    }
    let px = inputs(tmp.path());
    let x = Tensor::<4>::from_data(
        TensorData::new(px.clone(), [5, 3, 32, 32]),
        &Device::default(),
    );
    let want: Vec<f32> = net.forward(x).into_data().try_to_vec().unwrap();
    let (_, got) = read_npy(&out.join("logits.npy"));
    assert!(max_diff(&got, &want) < 1e-5, "logits differ");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("extract.json")).unwrap()).unwrap();
    assert_eq!(
        meta["preprocessing"]["mean"][0].as_f64().unwrap(),
        MEAN as f64
    );

    // The same stimuli as an already-normalised array.
    let npy = tmp.path().join("x.npy");
    write_npy(&npy, &[5, 3, 32, 32], &px);
    let out2 = tmp.path().join("feats2");
    let (ok, log) = run(&[
        "extract",
        "--model",
        "cornet_z",
        "--weights",
        tmp.path().join("w.safetensors").to_str().unwrap(),
        "--inputs",
        npy.to_str().unwrap(),
        "--layers",
        "logits,v2",
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert!(ok, "{log}");
    let (_, got2) = read_npy(&out2.join("logits.npy"));
    assert!(max_diff(&got2, &want) < 1e-5);
    let (a, _) = read_npy(&out2.join("v2.npy"));
    assert_eq!(a, vec![5, 2048]);
    assert!(!out2.join("v1.npy").exists());
}

#[test]
fn extract_refuses_unknown_layers_and_bad_arrays() {
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path());
    let w = tmp.path().join("w.safetensors");
    let (ok, log) = run(&[
        "extract",
        "--model",
        "cornet_z",
        "--weights",
        w.to_str().unwrap(),
        "--images",
        tmp.path().join("images").to_str().unwrap(),
        "--layers",
        "v9",
        "--out",
        tmp.path().join("o").to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        log.contains("no layer \"v9\"") && log.contains("v1, v2, v4, it"),
        "{log}"
    );

    let npy = tmp.path().join("bad.npy");
    write_npy(&npy, &[2, 32, 32, 3], &vec![0.0; 2 * 32 * 32 * 3]);
    let (ok, log) = run(&[
        "extract",
        "--model",
        "cornet_z",
        "--weights",
        w.to_str().unwrap(),
        "--inputs",
        npy.to_str().unwrap(),
        "--out",
        tmp.path().join("o").to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        log.contains("bad.npy") && log.contains("N x 3 x S x S") && log.contains("[2, 32, 32, 3]"),
        "{log}"
    );
}
