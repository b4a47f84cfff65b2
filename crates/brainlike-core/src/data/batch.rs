//! Mini-batches as tensors: pixels to [0, 1], optional centring by the global training mean
//! (the paper's preprocessing), optional resize to the network's input size.

use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::cifar100::{IMAGE_BYTES, Split};

/// Turns CIFAR images into network input.
#[derive(Debug, Clone)]
pub struct Batcher {
    /// Value subtracted from every pixel (in [0, 1] units); 0 = no centring.
    pub center: f32,
    /// Network input side; images are resized bilinearly when it is not 32.
    pub input_size: usize,
}

impl Batcher {
    /// Images `indices` of `split` as `[n, 3, s, s]` and their fine labels as `[n]`.
    pub fn batch(
        &self,
        split: &Split,
        indices: &[usize],
        labels: &[u8],
        device: &Device,
    ) -> (Tensor<4>, Tensor<1, Int>) {
        let n = indices.len();
        let mut pixels = Vec::with_capacity(n * IMAGE_BYTES);
        let scale = 1.0 / 255.0;
        for &i in indices {
            pixels.extend(
                split
                    .image(i)
                    .iter()
                    .map(|&b| b as f32 * scale - self.center),
            );
        }
        let images = Tensor::<4>::from_data(TensorData::new(pixels, [n, 3, 32, 32]), device);
        let images = self.resize(images);
        let targets: Vec<i64> = indices.iter().map(|&i| labels[i] as i64).collect();
        let targets = Tensor::<1, Int>::from_data(TensorData::new(targets, [n]), device);
        (images, targets)
    }

    /// Resizes `[n, 3, h, w]` to the input size (bilinear) when needed.
    pub fn resize(&self, images: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = images.dims();
        if h == self.input_size && w == self.input_size {
            return images;
        }
        interpolate(
            images,
            InterpolateOptions::new(InterpolateMode::Bilinear)
                .with_output_size([self.input_size, self.input_size]),
        )
    }
}
