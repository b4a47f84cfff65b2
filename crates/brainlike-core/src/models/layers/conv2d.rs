//! Convolution as PyTorch's `nn.Conv2d`: symmetric padding `k / 2` (what torchvision and timm's
//! `efficientnet_b1` use: timm's default padding is symmetric, not TensorFlow's "same"), groups
//! (depthwise when `groups == c_in`), bias on or off. Burn's `Conv2d` already has PyTorch's
//! weight layout `[out, in / groups, k, k]` and names (`weight`, `bias`).
//!
//! [`forward`] runs these layers: a 1x1, stride-1, single-group convolution is one batched
//! matrix product (`[out, in] x [in, h·w]` per image), whose backward pass is two more matrix
//! products; Burn's `conv2d` on `flex` computes the same layer's weight gradient as a
//! convolution with an `h x w` kernel and its input gradient as a transposed convolution,
//! ~10x its forward time (ResNet-50 at 224 px, `brainlike bench --profile`). Everything else
//! goes through Burn's `Conv2d::forward`. On a LibTorch autodiff device (`tch`, training) every
//! layer is LibTorch's own convolution with LibTorch's backward pass ([`super::libtorch`]).

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

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

/// Maps of at most this many pixels keep Burn's conv2d: at 7x7 (ResNet-50's last stage, batch
/// 32) its backward pass beat the matrix product's, whose weight gradient is one product per
/// image summed over the batch; from 14x14 up the matrix product was 2-8x faster
/// (`examples/conv1x1_ab.rs`, `bench/imagenet_README.md`).
pub const POINTWISE_MIN_PIXELS: usize = 64;

/// Whether `conv` is a 1x1, stride-1, unpadded, single-group convolution.
pub fn is_pointwise(conv: &Conv2d) -> bool {
    let [_, _, kh, kw] = conv.weight.dims();
    kh == 1
        && kw == 1
        && conv.groups == 1
        && conv.stride == [1, 1]
        && conv.dilation == [1, 1]
        && matches!(
            conv.padding,
            PaddingConfig2d::Explicit(0, 0, 0, 0) | PaddingConfig2d::Valid
        )
}

/// The forward pass of a layer built by [`conv2d`]: pointwise layers ([`is_pointwise`]) on
/// maps larger than [`POINTWISE_MIN_PIXELS`] as a matrix product ([`pointwise`]), the rest
/// through Burn's `Conv2d::forward`.
///
/// # Shapes
/// - input `[batch, c_in, h, w]`; output `[batch, c_out, h', w']`
pub fn forward(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "tch")]
    if let Some(y) = libtorch_forward(conv, &x) {
        return y;
    }
    let [_, _, h, w] = x.dims();
    if is_pointwise(conv) && h * w > POINTWISE_MIN_PIXELS {
        pointwise(conv, x)
    } else {
        conv.forward(x)
    }
}

/// The layer's geometry for [`super::libtorch`]; `None` for padding that is not
/// symmetric or a dilated layer (Burn's path then). Pointwise layers are LibTorch's
/// convolution there, not a matrix product.
#[cfg(feature = "tch")]
pub(crate) fn libtorch_shape(conv: &Conv2d) -> Option<super::libtorch::ConvShape> {
    let padding = match conv.padding {
        PaddingConfig2d::Valid => [0, 0],
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            [top, left]
        }
        _ => return None,
    };
    if conv.dilation != [1, 1] {
        return None;
    }
    Some(super::libtorch::ConvShape {
        stride: conv.stride,
        padding,
        groups: conv.groups,
    })
}

/// The layer with LibTorch's own convolution and backward pass, on a LibTorch autodiff device
/// ([`super::libtorch`]); `None` elsewhere.
#[cfg(feature = "tch")]
fn libtorch_forward(conv: &Conv2d, x: &Tensor<4>) -> Option<Tensor<4>> {
    let shape = libtorch_shape(conv)?;
    let bias = conv.bias.as_ref().map(|b| b.val());
    super::libtorch::conv2d(x, &conv.weight.val(), bias.as_ref(), &shape)
}

/// A 1x1 stride-1 convolution as one batched matrix product.
///
/// # Shapes
/// - input `[batch, c_in, h, w]`; output `[batch, c_out, h, w]`
pub fn pointwise(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    let [o, ..] = conv.weight.dims();
    let weight = conv.weight.val().reshape([1, o, c]); // [1, c_out, c_in]
    let y = weight.matmul(x.reshape([b, c, h * w])); // [batch, c_out, h*w]
    let y = match &conv.bias {
        Some(bias) => y + bias.val().reshape([1, o, 1]),
        None => y,
    };
    y.reshape([b, o, h, w])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn max_abs<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    /// The matrix-product path equals Burn's conv2d (the old path) to 1e-5 in the output and
    /// in every gradient (input, weight, bias), at ResNet/EfficientNet-like shapes.
    #[test]
    fn pointwise_equals_burn_conv2d_forward_and_gradients() {
        let device = Device::default().autodiff();
        for &(c_in, c_out, side, bias) in &[(16, 24, 7, false), (8, 4, 1, true), (5, 9, 12, true)] {
            let mut conv = conv2d(c_in, c_out, 1, 1, 1, bias, &device);
            conv.bias = conv
                .bias
                .map(|b| b.map(|t| t.random_like(Distribution::Default).require_grad()));
            assert!(is_pointwise(&conv));
            let x = Tensor::<4>::random([3, c_in, side, side], Distribution::Default, &device)
                .require_grad();
            let y_ref = conv.forward(x.clone());
            let y = pointwise(&conv, x.clone());
            assert_eq!(y.dims(), y_ref.dims());
            let scale = y_ref.clone().abs().max().into_scalar::<f32>().max(1.0);
            assert!(max_abs(y.clone(), y_ref.clone()) / scale < 1e-5);
            let g = Tensor::<4>::random(y.dims(), Distribution::Default, &device);
            let grads_ref = (y_ref * g.clone()).sum().backward();
            let grads = (y * g).sum().backward();
            let rel = |a: Tensor<4>, b: Tensor<4>| {
                let s = b.clone().abs().max().into_scalar::<f32>().max(1.0);
                max_abs(a, b) / s
            };
            assert!(rel(x.grad(&grads).unwrap(), x.grad(&grads_ref).unwrap()) < 1e-5);
            let w = conv.weight.val();
            assert!(rel(w.grad(&grads).unwrap(), w.grad(&grads_ref).unwrap()) < 1e-5);
            if let Some(b) = &conv.bias {
                let b = b.val();
                let (gb, gb_ref) = (b.grad(&grads).unwrap(), b.grad(&grads_ref).unwrap());
                let s = gb_ref.clone().abs().max().into_scalar::<f32>().max(1.0);
                assert!(max_abs(gb, gb_ref) / s < 1e-5);
            }
        }
        // Strided, padded or grouped layers keep Burn's path.
        assert!(!is_pointwise(&conv2d(4, 4, 1, 2, 1, false, &device)));
        assert!(!is_pointwise(&conv2d(4, 4, 3, 1, 1, false, &device)));
        assert!(!is_pointwise(&conv2d(4, 4, 1, 1, 4, false, &device)));
    }

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
