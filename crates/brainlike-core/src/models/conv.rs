//! One convolution type the models use; it picks the kernel per layer shape.
//!
//! Burn's `flex` backend runs a convolution as one small matrix product per image and per
//! pixel tile. For layers with very few output pixels (CORnet-Z's IT block at 32x32 input has
//! 2x2 outputs) that per-image kernel costs several times its arithmetic; an im2col convolution
//! built from slices, one concatenation and one matrix product over the whole batch is much
//! faster there. For larger maps Burn's own conv2d wins. [`Conv`] chooses by output size with a
//! threshold set at construction (0 disables im2col, e.g. on LibTorch where conv2d is native).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

/// Glorot-uniform (Xavier) initialiser, as the paper uses for every weight.
pub fn glorot() -> Initializer {
    Initializer::XavierUniform { gain: 1.0 }
}

/// Zeros shaped like `t`, trainable when `t` lives on an autodiff device (a mapped parameter
/// is trained only if its new value requires gradients).
pub fn zeros_param<const D: usize>(t: Tensor<D>) -> Tensor<D> {
    let z = t.zeros_like();
    if z.device().is_autodiff() {
        z.require_grad()
    } else {
        z
    }
}

/// A 2-D convolution with symmetric padding whose kernel is chosen per output shape.
#[derive(Module, Debug)]
pub struct Conv {
    /// The convolution's parameters (PyTorch layout `[out, in, kh, kw]`).
    pub conv: Conv2d,
    /// Use im2col when the output has at most this many pixels per image (0 = never).
    pub im2col_max_pixels: usize,
}

impl Conv {
    /// A `k`x`k` convolution, stride `s`, padding `p`, Glorot weights, zero bias.
    pub fn new(
        c_in: usize,
        c_out: usize,
        k: usize,
        s: usize,
        p: usize,
        im2col_max_pixels: usize,
        device: &Device,
    ) -> Self {
        let conv = Conv2dConfig::new([c_in, c_out], [k, k])
            .with_stride([s, s])
            .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
            .with_initializer(glorot())
            .init(device);
        // Glorot initialisation applies to weights; biases start at zero (Keras/TF default).
        let conv = Conv2d {
            bias: conv.bias.map(|b| b.map(zeros_param)),
            ..conv
        };
        Self {
            conv,
            im2col_max_pixels,
        }
    }

    /// Output side for input side `n`.
    fn out_side(&self, n: usize) -> usize {
        let k = self.conv.kernel_size[0];
        let s = self.conv.stride[0];
        let p = self.padding();
        (n + 2 * p - k) / s + 1
    }

    fn padding(&self) -> usize {
        match self.conv.padding {
            PaddingConfig2d::Explicit(p, _, _, _) => p,
            _ => 0,
        }
    }

    /// # Shapes
    /// - input `[batch, c_in, h, w]`
    /// - output `[batch, c_out, h', w']`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let (oh, ow) = (self.out_side(h), self.out_side(w));
        if oh * ow <= self.im2col_max_pixels {
            self.forward_im2col(x)
        } else {
            self.conv.forward(x)
        }
    }

    /// im2col convolution: one slice per output pixel, one concatenation, one matrix product.
    pub fn forward_im2col(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let k = self.conv.kernel_size[0];
        let s = self.conv.stride[0];
        let p = self.padding();
        let (oh, ow) = (self.out_side(h), self.out_side(w));
        let x = if p > 0 {
            x.pad([(0, 0), (0, 0), (p, p), (p, p)], 0.0)
        } else {
            x
        }; // [b, c, h + 2p, w + 2p]
        let mut cols = Vec::with_capacity(oh * ow);
        for oy in 0..oh {
            for ox in 0..ow {
                let (y0, x0) = (oy * s, ox * s);
                let patch = x.clone().slice([0..b, 0..c, y0..y0 + k, x0..x0 + k]); // [b, c, k, k]
                cols.push(patch.reshape([b, 1, c * k * k]));
            }
        }
        let cols = Tensor::cat(cols, 1).reshape([b * oh * ow, c * k * k]); // [b*oh*ow, c*k*k]
        let [c_out, ..] = self.conv.weight.dims();
        let weight = self
            .conv
            .weight
            .val()
            .reshape([c_out, c * k * k])
            .transpose(); // [c*k*k, c_out]
        let mut y = cols.matmul(weight); // [b*oh*ow, c_out]
        if let Some(bias) = &self.conv.bias {
            y = y + bias.val().reshape([1, c_out]);
        }
        y.reshape([b, oh, ow, c_out]).permute([0, 3, 1, 2]) // [b, c_out, oh, ow]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn max_abs_diff(a: Tensor<4>, b: Tensor<4>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    #[test]
    fn im2col_matches_conv2d_forward_and_gradients() {
        let device = Device::default().autodiff();
        for &(c_in, c_out, k, s, p, n) in
            &[(8, 16, 3, 1, 1, 2), (4, 6, 7, 2, 3, 9), (5, 7, 3, 1, 0, 4)]
        {
            let mut conv = Conv::new(c_in, c_out, k, s, p, 0, &device);
            // Non-zero bias so that its gradient is exercised too.
            conv.conv.bias = conv
                .conv
                .bias
                .map(|b| b.map(|t| t.random_like(Distribution::Default).require_grad()));
            assert!(conv.conv.bias.as_ref().unwrap().val().is_require_grad());
            let x =
                Tensor::<4>::random([3, c_in, n, n], Distribution::Default, &device).require_grad();
            let y_ref = conv.conv.forward(x.clone());
            let y = conv.forward_im2col(x.clone());
            assert_eq!(y.dims(), y_ref.dims());
            assert!(max_abs_diff(y.clone(), y_ref.clone()) < 1e-5);
            // Same scalar objective through both paths: gradients must agree.
            let g = Tensor::<4>::random(y.dims(), Distribution::Default, &device);
            let grads_ref = (y_ref * g.clone()).sum().backward();
            let grads = (y * g).sum().backward();
            let gx_ref = x.grad(&grads_ref).unwrap();
            let gx = x.grad(&grads).unwrap();
            assert!((gx - gx_ref).abs().max().into_scalar::<f32>() < 1e-4);
            let gw_ref = conv.conv.weight.val().grad(&grads_ref).unwrap();
            let gw = conv.conv.weight.val().grad(&grads).unwrap();
            assert!((gw - gw_ref).abs().max().into_scalar::<f32>() < 1e-4);
            let b = conv.conv.bias.as_ref().unwrap().val();
            let gb = b.grad(&grads).unwrap();
            let gb_ref = b.grad(&grads_ref).unwrap();
            assert!((gb - gb_ref).abs().max().into_scalar::<f32>() < 1e-4);
        }
    }

    #[test]
    fn dispatch_by_output_size() {
        let device = Device::default();
        let conv = Conv::new(4, 8, 3, 1, 1, 4, &device);
        let small = Tensor::<4>::random([2, 4, 2, 2], Distribution::Default, &device);
        let big = Tensor::<4>::random([2, 4, 8, 8], Distribution::Default, &device);
        assert_eq!(conv.forward(small).dims(), [2, 8, 2, 2]);
        assert_eq!(conv.forward(big).dims(), [2, 8, 8, 8]);
    }
}
