//! Squeeze-and-excitation as timm's `SqueezeExcite` (Hu et al. 2018): global average pool,
//! 1x1 conv to `rd` channels, SiLU, 1x1 conv back, sigmoid gate. timm's EfficientNet sizes `rd`
//! from the block's *input* channels × 0.25 (`se_ratio / exp_ratio` of the expanded channels,
//! rounded half to even as Python's `round`): [`SqueezeExcite::reduced_channels`].

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor};

use super::activation::{sigmoid, silu};
use super::conv2d::{conv2d, forward as conv_forward};
use super::pool::global_avg_pool;

/// Channel attention over `[batch, c, h, w]`.
#[derive(Module, Debug)]
pub struct SqueezeExcite {
    /// `c → rd`, 1x1 with bias.
    pub conv_reduce: Conv2d,
    /// `rd → c`, 1x1 with bias.
    pub conv_expand: Conv2d,
}

impl SqueezeExcite {
    /// timm's reduced width for a block whose SE sees `mid` channels, expanded `exp_ratio`
    /// times from its input, with `se_ratio` (0.25): `round(mid · se_ratio / exp_ratio)`.
    pub fn reduced_channels(mid: usize, se_ratio: f64, exp_ratio: f64) -> usize {
        (mid as f64 * se_ratio / exp_ratio).round_ties_even() as usize
    }

    /// SE over `c` channels reduced to `rd`.
    pub fn new(c: usize, rd: usize, device: &Device) -> Self {
        Self {
            conv_reduce: conv2d(c, rd, 1, 1, 1, true, device),
            conv_expand: conv2d(rd, c, 1, 1, 1, true, device),
        }
    }

    /// # Shapes
    /// - input and output `[batch, c, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let s = global_avg_pool(x.clone()); // [batch, c, 1, 1]
        let s = silu(conv_forward(&self.conv_reduce, s)); // [batch, rd, 1, 1]
        let gate = sigmoid(conv_forward(&self.conv_expand, s)); // [batch, c, 1, 1]
        x * gate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn timm_sizes() {
        // efficientnet_b1: stage 1 (depthwise-separable, 32 in) → 8; stage 2 (16 in, mid 96) → 4.
        assert_eq!(SqueezeExcite::reduced_channels(32, 0.25, 1.0), 8);
        assert_eq!(SqueezeExcite::reduced_channels(96, 0.25, 6.0), 4);
        assert_eq!(SqueezeExcite::reduced_channels(1152, 0.25, 6.0), 48);
    }

    #[test]
    fn gate_scales_channels_into_range() {
        let device = Device::default();
        let se = SqueezeExcite::new(4, 2, &device);
        let x = Tensor::<4>::random([2, 4, 3, 3], Distribution::Uniform(0.5, 1.0), &device);
        let y = se.forward(x.clone());
        assert_eq!(y.dims(), [2, 4, 3, 3]);
        let ratio = y / x;
        assert!(ratio.clone().min().into_scalar::<f32>() > 0.0);
        assert!(ratio.max().into_scalar::<f32>() < 1.0);
    }
}
