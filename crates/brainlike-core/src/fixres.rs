//! FixRes test-resolution search (Touvron et al. 2019, "Fixing the train-test resolution
//! discrepancy"; Riedel 2022 Table 1, "FixRes"): a trained model evaluated at a range of test
//! resolutions, each image resized to `size / crop_fraction` and centre-cropped to `size`
//! (timm's evaluation transform), to find the resolution where the apparent object size
//! matches the one seen in training (random-resized crops make objects look larger at train
//! time). The model must accept any input size (an average-pooling head: `decoder`).
//!
//! Not done here: FixRes's second step, fine-tuning the classifier and the last BatchNorm at
//! the chosen resolution.

use burn::tensor::Device;

use crate::data::batch::Batcher;
use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::models::Network;
use crate::train::eval::{Evaluation, evaluate};

/// One evaluated resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolutionScore {
    /// Test input side.
    pub size: usize,
    /// Crop fraction used.
    pub crop_fraction: f64,
    /// The evaluation at that side.
    pub eval: Evaluation,
}

/// Evaluates `model` on the first `n` images of `data` at every side in `sizes` (the
/// normalisation of `batcher`), resizing to `size / crop_fraction` and centre-cropping.
pub fn search(
    model: &Network,
    data: &dyn Dataset,
    n: usize,
    batcher: &Batcher,
    sizes: &[usize],
    crop_fraction: f64,
    device: &Device,
) -> Result<Vec<ResolutionScore>> {
    if !(crop_fraction > 0.0 && crop_fraction <= 1.0) {
        return Err(Error::Config {
            origin: "--crop".into(),
            msg: format!("the crop fraction must be in (0, 1], got {crop_fraction}"),
        });
    }
    let min = model.spec().min_input_size;
    if let Some(&s) = sizes.iter().find(|&&s| s < min || s > 2048) {
        return Err(Error::Config {
            origin: "--sizes".into(),
            msg: format!(
                "{} takes inputs of {min}..=2048 pixels, got {s}",
                model.spec().name
            ),
        });
    }
    if matches!(model.head, crate::models::ClassifierHead::Fc(_)) {
        return Err(Error::Config {
            origin: "--sizes".into(),
            msg: "the fc4096 head fixes the input size (its first layer takes the flattened \
                  map); FixRes needs an average-pooling head (model.head = \"decoder\")"
                .into(),
        });
    }
    Ok(sizes
        .iter()
        .map(|&size| {
            let b = batcher.at_size(size, crop_fraction);
            ResolutionScore {
                size,
                crop_fraction,
                eval: evaluate(model, data, n, &b, device),
            }
        })
        .collect())
}
