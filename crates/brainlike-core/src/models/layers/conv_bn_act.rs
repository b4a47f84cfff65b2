//! The unit both ImageNet families are built from: convolution, BatchNorm, activation
//! (torchvision's `conv → bn → relu`, timm's `ConvBnAct` / `BatchNormAct2d`).
//!
//! [`conv_bn_act`] is the three layers in sequence ([`super::conv2d::forward`],
//! [`BatchNorm2d::forward`], the activation); [`conv_bn_add_act`] adds a residual before the
//! activation. On a LibTorch autodiff device in training the unit is one node of Burn's graph
//! run by LibTorch with LibTorch's backward passes ([`super::libtorch::conv_bn_act`]): the same
//! values, one hand-over between Burn's and LibTorch's graphs instead of three.

use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;

use super::BatchNorm2d;

/// The activation after the BatchNorm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// None (the last BatchNorm of a residual branch).
    Identity,
    /// ReLU (ResNet).
    Relu,
    /// SiLU (EfficientNet).
    Silu,
}

impl Act {
    /// The activation on Burn's side.
    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Act::Identity => x,
            Act::Relu => burn::tensor::activation::relu(x),
            Act::Silu => super::activation::silu(x),
        }
    }
}

/// `act(bn(conv(x)))`.
///
/// # Shapes
/// - input `[batch, c_in, h, w]`; output `[batch, c_out, h', w']`
pub fn conv_bn_act(conv: &Conv2d, bn: &BatchNorm2d, act: Act, x: Tensor<4>) -> Tensor<4> {
    unit(conv, bn, act, x, None)
}

/// `act(bn(conv(x)) + residual)`: the end of a residual block (ResNet's bottleneck).
///
/// # Shapes
/// - input `[batch, c_in, h, w]`; residual and output `[batch, c_out, h', w']`
pub fn conv_bn_add_act(
    conv: &Conv2d,
    bn: &BatchNorm2d,
    act: Act,
    x: Tensor<4>,
    residual: Tensor<4>,
) -> Tensor<4> {
    unit(conv, bn, act, x, Some(residual))
}

fn unit(
    conv: &Conv2d,
    bn: &BatchNorm2d,
    act: Act,
    x: Tensor<4>,
    residual: Option<Tensor<4>>,
) -> Tensor<4> {
    #[cfg(feature = "tch")]
    if bn.trains(&x.device())
        && let Some(y) = libtorch(conv, bn, act, &x, residual.as_ref())
    {
        return y;
    }
    let y = bn.forward(super::conv2d::forward(conv, x));
    act.forward(match residual {
        Some(r) => y + r,
        None => y,
    })
}

#[cfg(feature = "tch")]
fn libtorch(
    conv: &Conv2d,
    bn: &BatchNorm2d,
    act: Act,
    x: &Tensor<4>,
    residual: Option<&Tensor<4>>,
) -> Option<Tensor<4>> {
    if conv.bias.is_some() {
        return None;
    }
    let shape = super::conv2d::libtorch_shape(conv)?;
    let (y, mean, var) = super::libtorch::conv_bn_act(
        x,
        &conv.weight.val(),
        &shape,
        &bn.weight.val(),
        &bn.bias.val(),
        bn.eps,
        residual,
        act,
    )?;
    let [b, _, h, w] = y.dims();
    bn.update_statistics(b * h * w, mean, var);
    Some(y)
}
