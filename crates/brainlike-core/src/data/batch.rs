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

/// Targets of a [`HostBatch`].
#[derive(Debug, Clone)]
pub enum HostTargets {
    /// One class per image.
    Hard(Vec<i64>),
    /// `n x classes` weights, row-major, and the class count.
    Soft(Vec<f32>, usize),
}

/// A batch prepared on the host (decoded, augmented, normalised), not yet on the device.
#[derive(Debug, Clone)]
pub struct HostBatch {
    /// `n * 3 * height * width` normalised values, NCHW.
    pub pixels: Vec<f32>,
    /// Images.
    pub n: usize,
    /// Rows per image (before the resize to the input size).
    pub height: usize,
    /// Columns per image.
    pub width: usize,
    /// Labels or soft targets.
    pub targets: HostTargets,
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
        let b = self.upload(self.host(data, indices), device);
        let crate::train::step::Targets::Hard(y) = b.targets else {
            unreachable!("host() gives hard labels")
        };
        (b.images, y)
    }

    /// The host side of [`Batcher::batch`]: images decoded (in parallel, on rayon's workers)
    /// and normalised, labels; no device work, so it can run ahead of the training step.
    pub fn host(&self, data: &dyn Dataset, indices: &[usize]) -> HostBatch {
        use rayon::prelude::*;
        let scale = 1.0 / 255.0;
        let (mean, std) = (self.pre.mean, self.pre.std);
        let per: Vec<(Vec<f32>, usize, usize)> = indices
            .par_iter()
            .map(|&i| {
                let img = data.image(i);
                let plane = img.height * img.width;
                let mut v = Vec::with_capacity(3 * plane);
                for (c, chunk) in img.pixels.chunks_exact(plane).enumerate() {
                    v.extend(chunk.iter().map(|&b| (b as f32 * scale - mean[c]) / std[c]));
                }
                (v, img.height, img.width)
            })
            .collect();
        let (h, w) = per.first().map(|p| (p.1, p.2)).unwrap_or((0, 0));
        let mut pixels = Vec::with_capacity(per.iter().map(|p| p.0.len()).sum());
        for (v, _, _) in per {
            pixels.extend(v);
        }
        HostBatch {
            pixels,
            n: indices.len(),
            height: h,
            width: w,
            targets: HostTargets::Hard(indices.iter().map(|&i| data.label(i) as i64).collect()),
        }
    }

    /// A host batch on `device` as network input (resized to the input size) with its
    /// targets.
    pub fn upload(&self, host: HostBatch, device: &Device) -> crate::train::step::Batch {
        use crate::train::step::{Batch, Targets};
        let n = host.n;
        let targets = match host.targets.clone() {
            HostTargets::Hard(y) => {
                Targets::Hard(Tensor::<1, Int>::from_data(TensorData::new(y, [n]), device))
            }
            HostTargets::Soft(t, classes) => Targets::Soft(Tensor::<2>::from_data(
                TensorData::new(t, [n, classes]),
                device,
            )),
        };
        let images = Tensor::<4>::from_data(
            TensorData::new(host.pixels, [n, 3, host.height, host.width]),
            device,
        );
        Batch {
            images: self.resize(images),
            targets,
            weights: None,
        }
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
