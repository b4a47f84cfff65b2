//! Mini-batches as tensors: pixels to [0, 1], the model's input normalisation
//! ([`Preprocess`], resolved once per run from the registry's [`Normalization`] and recorded),
//! optional resize to the network's input size.

use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::dataset::{Dataset, global_mean_first};
use crate::models::Normalization;

/// The preprocessing a model was trained with, as PyTorch users write it: resize, then
/// `(x − mean) / std` per channel on pixels in [0, 1]. Recorded in `summary.json` and in the
/// weights' metadata.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    /// Per-channel mean subtracted.
    pub mean: [f32; 3],
    /// Per-channel standard deviation divided by.
    pub std: [f32; 3],
    /// Network input side.
    pub input_size: usize,
    /// How images are resized to the input side.
    pub interpolation: &'static str,
}

impl Preprocess {
    /// The normalisation `norm` resolved on `train` (its first `n` images for the training
    /// mean), at `input_size`.
    pub fn resolve(norm: Normalization, train: &dyn Dataset, n: usize, input_size: usize) -> Self {
        let (mean, std) = match norm {
            Normalization::TrainingMean => {
                let m = global_mean_first(train, n) as f32;
                ([m; 3], [1.0; 3])
            }
            Normalization::PerChannel { mean, std } => (mean, std),
        };
        Self {
            mean,
            std,
            input_size,
            interpolation: "bilinear",
        }
    }

    /// No normalisation (pixels in [0, 1]) at `input_size`.
    pub fn identity(input_size: usize) -> Self {
        Self {
            mean: [0.0; 3],
            std: [1.0; 3],
            input_size,
            interpolation: "bilinear",
        }
    }
}

/// Turns images of a [`Dataset`] into network input.
#[derive(Debug, Clone)]
pub struct Batcher {
    /// The normalisation and input size.
    pub pre: Preprocess,
    /// Evaluation crop: images are resized to `input_size / crop_fraction` and the centre
    /// `input_size` square is kept (timm's `crop_pct`; 1 = resize only, the default).
    pub crop_fraction: f64,
}

impl Batcher {
    /// A batcher for `pre` (no crop).
    pub fn new(pre: Preprocess) -> Self {
        Self {
            pre,
            crop_fraction: 1.0,
        }
    }

    /// The same batcher at input side `size`, resizing to `size / crop_fraction` and keeping
    /// the centre crop (FixRes evaluation).
    pub fn at_size(&self, size: usize, crop_fraction: f64) -> Self {
        Self {
            pre: Preprocess {
                input_size: size,
                ..self.pre
            },
            crop_fraction,
        }
    }

    /// Images `indices` of `data` as `[n, 3, s, s]` and their labels as `[n]`.
    pub fn batch(
        &self,
        data: &dyn Dataset,
        indices: &[usize],
        device: &Device,
    ) -> (Tensor<4>, Tensor<1, Int>) {
        let n = indices.len();
        let (mut h, mut w) = (0, 0);
        let mut pixels = Vec::new();
        let scale = 1.0 / 255.0;
        let (mean, std) = (self.pre.mean, self.pre.std);
        for &i in indices {
            let img = data.image(i);
            (h, w) = (img.height, img.width);
            let plane = h * w;
            if pixels.is_empty() {
                pixels.reserve_exact(n * 3 * plane); // once, at the first image's size
            }
            for (c, chunk) in img.pixels.chunks_exact(plane).enumerate() {
                pixels.extend(chunk.iter().map(|&b| (b as f32 * scale - mean[c]) / std[c]));
            }
        }
        let images = Tensor::<4>::from_data(TensorData::new(pixels, [n, 3, h, w]), device);
        let images = self.resize(images);
        let targets: Vec<i64> = indices.iter().map(|&i| data.label(i) as i64).collect();
        let targets = Tensor::<1, Int>::from_data(TensorData::new(targets, [n]), device);
        (images, targets)
    }

    /// Resizes `[n, 3, h, w]` to the input size (bilinear) when needed; with a crop fraction
    /// below 1, to `round(input_size / crop_fraction)` and then the centre square.
    pub fn resize(&self, images: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = images.dims();
        let s = self.pre.input_size;
        let big = if self.crop_fraction < 1.0 {
            ((s as f64 / self.crop_fraction).round() as usize).max(s)
        } else {
            s
        };
        let images = if h == big && w == big {
            images
        } else {
            interpolate(
                images,
                InterpolateOptions::new(InterpolateMode::Bilinear).with_output_size([big, big]),
            )
        };
        if big == s {
            return images;
        }
        let off = (big - s) / 2;
        let n = images.dims()[0];
        images.slice([0..n, 0..3, off..off + s, off..off + s])
    }
}
