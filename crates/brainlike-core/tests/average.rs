//! Weight averaging: the average equals the hand-computed parameter-wise mean (f64 sum,
//! rounded once), averaging one network is that network, and networks of different
//! architectures are refused.

use brainlike_core::config::{Head, ModelConfig};
use brainlike_core::models::{Arch, Features, Network};
use brainlike_core::train::average::average;
use burn::tensor::Device;

fn net(arch: &str, seed: u64) -> Network {
    let device = Device::default();
    device.seed(seed);
    let cfg = ModelConfig {
        arch: Arch::parse(arch).unwrap(),
        head: Head::Decoder,
        ..ModelConfig::default()
    };
    Network::new(&cfg, 32, 10, 0, &device)
}

fn v1_weights(n: &Network) -> Vec<f32> {
    let Features::CornetZ(f) = &n.features else {
        panic!("cornet_z")
    };
    f.v1.conv
        .conv
        .weight
        .val()
        .into_data()
        .try_to_vec()
        .unwrap()
}

#[test]
fn average_is_the_parameter_wise_mean() {
    let nets: Vec<Network> = (1..=3).map(|s| net("cornet_z", s)).collect();
    let parts: Vec<Vec<f32>> = nets.iter().map(v1_weights).collect();
    assert_ne!(parts[0], parts[1], "different seeds give different weights");
    let avg = average(&nets).unwrap();
    let got = v1_weights(&avg);
    for (i, g) in got.iter().enumerate() {
        let want = ((parts[0][i] as f64 + parts[1][i] as f64 + parts[2][i] as f64) / 3.0) as f32;
        assert_eq!(*g, want, "parameter {i}");
    }
    let one = average(&nets[..1]).unwrap();
    assert_eq!(v1_weights(&one), parts[0]);
}

#[test]
fn averaging_different_architectures_is_refused() {
    let err = average(&[net("cornet_z", 1), net("vgg16", 1)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not the same architecture"), "{err}");
    assert!(average(&[]).is_err());
}
