//! FixRes search: at the training resolution (crop 1) it equals plain evaluation; another
//! resolution or a crop changes the input; an FC head (fixed input size) is refused.

use std::borrow::Cow;

use brainlike_core::config::{Head, ModelConfig};
use brainlike_core::data::batch::{Batcher, Preprocess};
use brainlike_core::data::dataset::{Dataset, ImageRef};
use brainlike_core::fixres::search;
use brainlike_core::models::{Arch, Network};
use brainlike_core::train::eval::evaluate;
use burn::tensor::Device;

struct Synthetic {
    pixels: Vec<Vec<u8>>,
    classes: Vec<String>,
}

impl Synthetic {
    fn new(n: usize) -> Self {
        let pixels = (0..n)
            .map(|k| {
                (0..3 * 32 * 32)
                    .map(|j| ((j * 31 + k * 97) % 251) as u8)
                    .collect()
            })
            .collect();
        Self {
            pixels,
            classes: (0..10).map(|c| format!("c{c}")).collect(),
        }
    }
}

impl Dataset for Synthetic {
    fn name(&self) -> String {
        "synthetic".into()
    }
    fn len(&self) -> usize {
        self.pixels.len()
    }
    fn image(&self, i: usize) -> ImageRef<'_> {
        ImageRef {
            pixels: Cow::Borrowed(&self.pixels[i]),
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

fn net(head: Head) -> Network {
    let cfg = ModelConfig {
        arch: Arch::parse("cornet_z").unwrap(),
        head,
        ..ModelConfig::default()
    };
    Network::new(&cfg, 32, 10, 0, &Device::default())
}

#[test]
fn at_the_training_resolution_fixres_is_plain_evaluation() {
    let device = Device::default();
    let model = net(Head::Decoder);
    let data = Synthetic::new(24);
    let batcher = Batcher::new(Preprocess::identity(32));
    let plain = evaluate(&model, &data, 24, &batcher, &device);
    let scores = search(&model, &data, 24, &batcher, &[32, 48], 1.0, &device).unwrap();
    assert_eq!(scores[0].size, 32);
    assert_eq!(scores[0].eval, plain);
    // Another side is another input: the loss moves.
    assert_ne!(scores[1].eval.loss, plain.loss);
    // A crop at the same side is another input too.
    let cropped = search(&model, &data, 24, &batcher, &[32], 0.875, &device).unwrap();
    assert_ne!(cropped[0].eval.loss, plain.loss);
}

#[test]
fn fixres_refuses_fixed_size_heads_and_bad_crops() {
    let device = Device::default();
    let data = Synthetic::new(4);
    let batcher = Batcher::new(Preprocess::identity(32));
    let err = search(&net(Head::Fc4096), &data, 4, &batcher, &[32], 1.0, &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("decoder"), "{err}");
    let err = search(&net(Head::Decoder), &data, 4, &batcher, &[32], 1.5, &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("crop"), "{err}");
    let err = search(&net(Head::Decoder), &data, 4, &batcher, &[16], 1.0, &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("32..=2048"), "{err}");
}
