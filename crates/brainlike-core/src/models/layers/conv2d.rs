//! Convolution as PyTorch's `nn.Conv2d`: symmetric padding `k / 2` (what torchvision and timm's
//! `efficientnet_b1` use: timm's default padding is symmetric, not TensorFlow's "same"), groups
//! (depthwise when `groups == c_in`), bias on or off. Burn's `Conv2d` already has PyTorch's
//! weight layout `[out, in / groups, k, k]` and names (`weight`, `bias`).

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, PaddingConfig2d};
use burn::tensor::Device;

/// A `k`x`k` convolution with stride `stride`, padding `k / 2`, `groups` groups, and a bias
/// when `bias`. Weights: Kaiming normal over fan-out (torchvision's ResNet initialisation,
/// close to timm's EfficientNet one); biases start at zero.
pub fn conv2d(
    c_in: usize,
    c_out: usize,
    k: usize,
    stride: usize,
    groups: usize,
    bias: bool,
    device: &Device,
) -> Conv2d {
    let p = k / 2;
    let conv = Conv2dConfig::new([c_in, c_out], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_groups(groups)
        .with_bias(bias)
        .with_initializer(Initializer::KaimingNormal {
            gain: 2f64.sqrt(),
            fan_out_only: true,
        })
        .init(device);
    Conv2d {
        bias: conv.bias.map(|b| b.map(super::super::conv::zeros_param)),
        ..conv
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tensor};

    #[test]
    fn depthwise_shapes_and_padding() {
        let device = Device::default();
        let dw = conv2d(6, 6, 5, 2, 6, false, &device);
        assert_eq!(dw.weight.dims(), [6, 1, 5, 5]);
        assert!(dw.bias.is_none());
        let x = Tensor::<4>::random([2, 6, 9, 9], Distribution::Default, &device);
        assert_eq!(dw.forward(x).dims(), [2, 6, 5, 5]);
        let pw = conv2d(6, 4, 1, 1, 1, true, &device);
        assert_eq!(pw.bias.as_ref().unwrap().dims(), [4]);
    }

    #[test]
    fn depthwise_is_per_channel() {
        // Each output channel depends on its own input channel only.
        let device = Device::default();
        let dw = conv2d(3, 3, 3, 1, 3, false, &device);
        let x = Tensor::<4>::random([1, 3, 5, 5], Distribution::Default, &device);
        let y = dw.forward(x.clone());
        let x2 = x.slice_assign(
            [0..1, 1..2, 0..5, 0..5],
            Tensor::zeros([1, 1, 5, 5], &device),
        );
        let y2 = dw.forward(x2);
        let d0 = (y.clone().slice([0..1, 0..1]) - y2.clone().slice([0..1, 0..1]))
            .abs()
            .max()
            .into_scalar::<f32>();
        assert_eq!(d0, 0.0);
        let d1 = (y.slice([0..1, 1..2]) - y2.slice([0..1, 1..2]))
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(d1 > 0.0);
    }
}
