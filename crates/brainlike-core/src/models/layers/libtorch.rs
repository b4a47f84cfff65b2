//! LibTorch's own operators *and their own backward passes* for the convolutions, BatchNorm
//! and SiLU of the ImageNet families, on a LibTorch autodiff device (`--device tch`,
//! training).
//!
//! Burn's autodiff runs every backward pass as a composition of backend ops, and burn-tch
//! 0.22.1 implements none of these three natively: the convolution's weight gradient is a
//! convolution with an `h x w` kernel (for depthwise layers one per channel, 13,584 calls per
//! EfficientNet-B1 step), BatchNorm ten full-size passes, SiLU a sigmoid and a product. That
//! made the `tch` training step 0.74–0.88x PyTorch's although both run LibTorch
//! (`bench/imagenet_README.md`). Here each of these layers is recorded as one node of Burn's
//! graph whose forward pass also records the layer in LibTorch's autograd (inputs that need a
//! gradient become LibTorch leaves), and whose backward pass asks LibTorch for the gradients
//! of those leaves (`torch::autograd::Engine::execute` from the layer's output seeded with
//! its gradient, through the few lines of C++ in `csrc/backward.cpp`): the same `convolution_backward`,
//! `native_batch_norm_backward` and `silu_backward` kernels PyTorch runs.
//!
//! Every function returns `None` where it does not apply (another backend, a device without
//! autodiff, or gradient checkpointing), and the caller keeps Burn's path.

// burn-tch is deprecated upstream in favour of CubeCL backends; it is still our LibTorch route.
#![allow(deprecated)]

use burn::backend::BackendTypes;
use burn::backend::LibTorch;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::libtorch::TchTensor;
use burn::tensor::Tensor;

type Ad = Autodiff<LibTorch>;
/// Burn's autodiff tensor over LibTorch (its type is not exported by name).
type AutodiffTensor<B> = <Autodiff<B> as BackendTypes>::FloatTensorPrimitive;

/// The node of Burn's graph for one layer run by LibTorch.
#[derive(Debug)]
struct TorchNode<const N: usize>;

/// What the backward pass needs: the layer's output inside LibTorch's graph and the LibTorch
/// leaves of the inputs that need a gradient. A value LibTorch saved for its backward pass and
/// then found changed fails loudly (its version counter), never silently.
#[derive(Debug, Clone)]
struct TorchGraph<const N: usize> {
    output: TchTensor,
    leaves: [Option<TchTensor>; N],
    /// The inputs, held so that Burn (which mutates a tensor in place only when nothing else
    /// holds its storage) leaves the values LibTorch saved for the backward pass alone.
    _inputs: [TchTensor; N],
}

impl<const N: usize> Backward<LibTorch, N> for TorchNode<N> {
    type State = TorchGraph<N>;

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<LibTorch>(&ops.node);
        let mut ids = Vec::with_capacity(N);
        let mut leaves = Vec::with_capacity(N);
        for (parent, leaf) in ops.parents.iter().zip(ops.state.leaves.iter()) {
            if let (Some(node), Some(leaf)) = (parent, leaf) {
                ids.push(node.id);
                leaves.push(leaf.tensor.shallow_clone());
            }
        }
        if leaves.is_empty() {
            return;
        }
        let leaf_grads = grad_to_leaves(&ops.state.output.tensor, &grad.tensor, &leaves);
        for (id, g) in ids.into_iter().zip(leaf_grads) {
            grads.register::<LibTorch>(id, TchTensor::new(g));
        }
    }
}

unsafe extern "C" {
    /// `csrc/backward.cpp`: LibTorch's autograd engine from `output` seeded with `grad` to
    /// `inputs`, the gradients written to `results`; a message on failure.
    fn brainlike_grad(
        output: *const torch_sys::C_tensor,
        grad: *const torch_sys::C_tensor,
        inputs: *const *const torch_sys::C_tensor,
        ninputs: std::ffi::c_int,
        results: *mut *mut torch_sys::C_tensor,
    ) -> *mut std::ffi::c_char;
    fn brainlike_free_error(message: *mut std::ffi::c_char);
}

/// The gradients of `leaves` given the gradient `grad` of `output`: LibTorch's backward pass
/// from `output` seeded with `grad` (`torch.autograd.grad(output, leaves, grad)`).
///
/// # Panics
/// If LibTorch fails (a saved value changed in place, for one), with its message: a backward
/// pass has no error channel in Burn.
fn grad_to_leaves(
    output: &tch::Tensor,
    grad: &tch::Tensor,
    leaves: &[tch::Tensor],
) -> Vec<tch::Tensor> {
    let leaf_ptrs: Vec<_> = leaves.iter().map(|l| l.as_ptr()).collect();
    let mut results = vec![std::ptr::null_mut(); leaves.len()];
    // SAFETY: every pointer is a live `at::Tensor` owned by a `tch::Tensor` borrowed for the
    // call; the C++ side only reads them and writes `leaves.len()` new tensors to `results`,
    // each then owned (and freed) by one `tch::Tensor`.
    unsafe {
        let error = brainlike_grad(
            output.as_ptr(),
            grad.as_ptr(),
            leaf_ptrs.as_ptr(),
            leaves.len() as std::ffi::c_int,
            results.as_mut_ptr(),
        );
        if !error.is_null() {
            let message = std::ffi::CStr::from_ptr(error)
                .to_string_lossy()
                .into_owned();
            brainlike_free_error(error);
            panic!("LibTorch's backward pass failed: {message}");
        }
        let grads = results.into_iter().map(|t| tch::Tensor::from_ptr(t));
        // A leaf the output does not depend on gets no gradient from the engine: zero.
        grads
            .zip(leaves)
            .map(|(g, leaf)| if g.defined() { g } else { leaf.zeros_like() })
            .collect()
    }
}

fn shallow(t: &TchTensor) -> TchTensor {
    TchTensor {
        tensor: t.tensor.shallow_clone(),
        storage: t.storage.clone(),
    }
}

/// Runs `layer` on LibTorch, recorded as one node of Burn's graph over `inputs`; returns the
/// layer's first output (differentiable) and its other outputs (constants).
fn record<const N: usize>(
    inputs: [AutodiffTensor<LibTorch>; N],
    layer: impl FnOnce(&[tch::Tensor; N]) -> (tch::Tensor, Vec<tch::Tensor>),
) -> (AutodiffTensor<LibTorch>, Vec<TchTensor>) {
    let tracked = inputs.each_ref().map(|t| t.is_tracked());
    let nodes = inputs.each_ref().map(|t| t.node());
    let prims = inputs.map(|t| t.into_primitive());
    let extras = |extra: Vec<tch::Tensor>| {
        extra
            .into_iter()
            .map(|t| TchTensor::new(t.detach().copy()))
            .collect::<Vec<_>>()
    };
    match TorchNode::<N>
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let leaves: [Option<TchTensor>; N] = std::array::from_fn(|i| {
                tracked[i].then(|| TchTensor {
                    tensor: prims[i].tensor.detach().set_requires_grad(true),
                    storage: prims[i].storage.clone(),
                })
            });
            let args: [tch::Tensor; N] = std::array::from_fn(|i| match &leaves[i] {
                Some(leaf) => leaf.tensor.shallow_clone(),
                None => prims[i].tensor.shallow_clone(),
            });
            let (output, extra) = tch::with_grad(|| layer(&args));
            let output = TchTensor::new(output);
            // Shares the storage count with the graph's output, which LibTorch may have saved
            // (ReLU saves its output), so Burn does not overwrite it in place.
            let out = TchTensor::from_existing(output.tensor.detach(), output.storage.clone());
            let state = TorchGraph {
                output,
                leaves,
                _inputs: prims.each_ref().map(shallow),
            };
            (prep.finish(state, out), extras(extra))
        }
        OpsKind::UnTracked(prep) => {
            let args = prims.each_ref().map(|p| p.tensor.shallow_clone());
            let (output, extra) = tch::no_grad(|| layer(&args));
            (prep.finish(TchTensor::new(output)), extras(extra))
        }
    }
}

fn primitive<const D: usize>(t: &Tensor<D>) -> Option<AutodiffTensor<LibTorch>> {
    t.clone().try_into_primitive::<Ad>().ok()
}

fn tensor<const D: usize>(t: AutodiffTensor<LibTorch>) -> Tensor<D> {
    Tensor::from_primitive::<Ad>(t)
}

fn constant<const D: usize>(t: TchTensor) -> Tensor<D> {
    tensor(AutodiffTensor::new(t))
}

/// A convolution's geometry (from [`super::conv2d::libtorch_shape`]).
#[derive(Clone, Debug)]
pub struct ConvShape {
    /// Stride (height, width).
    pub stride: [usize; 2],
    /// Symmetric zero padding (height, width).
    pub padding: [usize; 2],
    /// Groups.
    pub groups: usize,
}

/// The convolution in LibTorch: `conv2d(x, weight, bias, stride, padding, 1, groups)`, also
/// for 1x1 layers as PyTorch runs them. (The matrix product that replaces Burn's slow 1x1
/// backward, [`super::conv2d::pointwise`], gains nothing here: summed over the pointwise
/// layers of a step it took 0.98–0.99x conv2d's time on ResNet-50 and 0.95–1.08x on
/// EfficientNet-B1, `bench/conv1x1_torch_ab.py`.)
fn torch_conv(
    x: &tch::Tensor,
    w: &tch::Tensor,
    bias: Option<&tch::Tensor>,
    shape: &ConvShape,
) -> tch::Tensor {
    x.conv2d(
        w,
        bias,
        shape.stride.map(|s| s as i64),
        shape.padding.map(|p| p as i64),
        [1, 1],
        shape.groups as i64,
    )
}

/// The convolution with LibTorch's backward pass, or `None` off a LibTorch autodiff device.
pub fn conv2d(
    x: &Tensor<4>,
    weight: &Tensor<4>,
    bias: Option<&Tensor<1>>,
    shape: &ConvShape,
) -> Option<Tensor<4>> {
    let (x, w) = (primitive(x)?, primitive(weight)?);
    let out = match bias {
        Some(b) => {
            record([x, w, primitive(b)?], |[x, w, b]| {
                (torch_conv(x, w, Some(b), shape), vec![])
            })
            .0
        }
        None => record([x, w], |[x, w]| (torch_conv(x, w, None, shape), vec![])).0,
    };
    Some(tensor(out))
}

/// Convolution (no bias), BatchNorm in training mode, the residual `residual` added when given,
/// and activation as one LibTorch graph: the output, the batch mean and the biased batch
/// variance; `None` off a LibTorch autodiff device.
#[allow(clippy::too_many_arguments)]
pub fn conv_bn_act(
    x: &Tensor<4>,
    weight: &Tensor<4>,
    shape: &ConvShape,
    bn_weight: &Tensor<1>,
    bn_bias: &Tensor<1>,
    eps: f64,
    residual: Option<&Tensor<4>>,
    act: super::Act,
) -> Option<(Tensor<4>, Tensor<1>, Tensor<1>)> {
    let unit = |x: &tch::Tensor,
                w: &tch::Tensor,
                g: &tch::Tensor,
                b: &tch::Tensor,
                r: Option<&tch::Tensor>| {
        let y = torch_conv(x, w, None, shape);
        let (z, mean, invstd) =
            y.native_batch_norm(Some(g), Some(b), None::<&tch::Tensor>, None, true, 0.0, eps);
        let z = match r {
            Some(r) => z + r,
            None => z,
        };
        let z = match act {
            super::Act::Identity => z,
            super::Act::Relu => z.relu(),
            super::Act::Silu => z.silu(),
        };
        (z, vec![mean, invstd])
    };
    let (x, w) = (primitive(x)?, primitive(weight)?);
    let (g, b) = (primitive(bn_weight)?, primitive(bn_bias)?);
    let (out, stats) = match residual {
        None => record([x, w, g, b], |[x, w, g, b]| unit(x, w, g, b, None)),
        Some(r) => record([x, w, g, b, primitive(r)?], |[x, w, g, b, r]| {
            unit(x, w, g, b, Some(r))
        }),
    };
    let (mean, var) = statistics(stats, eps)?;
    Some((tensor(out), mean, var))
}

/// The batch mean and biased variance from `native_batch_norm`'s saved mean and
/// `1 / sqrt(var + eps)`.
fn statistics(mut stats: Vec<TchTensor>, eps: f64) -> Option<(Tensor<1>, Tensor<1>)> {
    let invstd = stats.pop()?;
    let mean = stats.pop()?;
    let var = TchTensor::new(tch::no_grad(|| invstd.tensor.square().reciprocal() - eps));
    Some((constant(mean), constant(var)))
}

/// BatchNorm in training mode (batch statistics) with LibTorch's `native_batch_norm` and its
/// backward pass: the output, the batch mean and the *biased* batch variance (per channel),
/// or `None` off a LibTorch autodiff device.
pub fn batch_norm_train(
    x: &Tensor<4>,
    weight: &Tensor<1>,
    bias: &Tensor<1>,
    eps: f64,
) -> Option<(Tensor<4>, Tensor<1>, Tensor<1>)> {
    let inputs = [primitive(x)?, primitive(weight)?, primitive(bias)?];
    let (out, stats) = record(inputs, |[x, w, b]| {
        let (y, mean, invstd) =
            x.native_batch_norm(Some(w), Some(b), None::<&tch::Tensor>, None, true, 0.0, eps);
        (y, vec![mean, invstd])
    });
    let (mean, var) = statistics(stats, eps)?;
    Some((tensor(out), mean, var))
}

/// SiLU with LibTorch's `silu` and `silu_backward`, or `None` off a LibTorch autodiff device.
pub fn silu<const D: usize>(x: &Tensor<D>) -> Option<Tensor<D>> {
    let (out, _) = record([primitive(x)?], |[x]| (x.silu(), vec![]));
    Some(tensor(out))
}

#[cfg(test)]
mod tests {
    //! Against Burn's own compositions on the same LibTorch autodiff device: outputs and every
    //! gradient. `tests/nets.rs` with `BRAINLIKE_TEST_DEVICE=tch` checks whole networks and a
    //! training step against PyTorch.
    use super::*;
    use burn::tensor::Distribution;
    use burn::tensor::ops::ConvOptions;

    fn device() -> burn::tensor::Device {
        crate::device::resolve("tch").unwrap().1.autodiff()
    }

    fn rel<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        let scale = b.clone().abs().max().into_scalar::<f32>().max(1e-6);
        (a - b).abs().max().into_scalar::<f32>() / scale
    }

    fn random<const D: usize>(shape: [usize; D], grad: bool) -> Tensor<D> {
        let t = Tensor::<D>::random(shape, Distribution::Normal(0.0, 1.0), &device());
        if grad { t.require_grad() } else { t }
    }

    #[test]
    fn conv2d_matches_burn_in_output_and_gradients() {
        // (c_in, c_out, k, stride, groups, bias, input needs a gradient)
        let cases = [
            (8, 8, 3, 2, 8, false, true),  // depthwise, strided
            (6, 12, 3, 1, 1, true, true),  // dense with bias
            (4, 4, 5, 1, 4, true, false),  // depthwise 5x5, input without gradient
            (8, 16, 1, 1, 1, false, true), // pointwise
            (8, 4, 1, 2, 1, false, true),  // strided 1x1 (ResNet's downsample)
        ];
        for (c_in, c_out, k, stride, groups, bias, x_grad) in cases {
            let x = random([2, c_in, 9, 9], x_grad);
            let w = random([c_out, c_in / groups, k, k], true);
            let b = bias.then(|| random([c_out], true));
            let p = k / 2;
            let shape = ConvShape {
                stride: [stride; 2],
                padding: [p; 2],
                groups,
            };
            let y = conv2d(&x, &w, b.as_ref(), &shape).unwrap();
            let options = ConvOptions::new([stride; 2], [p; 2], [1, 1], groups);
            let y_ref = burn::tensor::module::conv2d(x.clone(), w.clone(), b.clone(), options);
            assert!(
                rel(y.clone(), y_ref.clone()) < 1e-5,
                "output {k}x{k}/{groups}"
            );
            let g = Tensor::<4>::random(y.dims(), Distribution::Normal(0.0, 1.0), &device());
            let grads = (y * g.clone()).sum().backward();
            let grads_ref = (y_ref * g).sum().backward();
            assert_eq!(x.grad(&grads).is_some(), x_grad);
            if x_grad {
                let e = rel(x.grad(&grads).unwrap(), x.grad(&grads_ref).unwrap());
                assert!(e < 1e-5, "input gradient {k}x{k}/{groups}: {e:.1e}");
            }
            let e = rel(w.grad(&grads).unwrap(), w.grad(&grads_ref).unwrap());
            assert!(e < 1e-5, "weight gradient {k}x{k}/{groups}: {e:.1e}");
            if let Some(b) = b {
                let e = rel(b.grad(&grads).unwrap(), b.grad(&grads_ref).unwrap());
                assert!(e < 1e-5, "bias gradient: {e:.1e}");
            }
        }
    }

    #[test]
    fn batch_norm_train_matches_burn_in_output_statistics_and_gradients() {
        let x = random([4, 3, 5, 5], true);
        let (w, b) = (random([3], true), random([3], true));
        let (y, mean, var) = batch_norm_train(&x, &w, &b, 1e-5).unwrap();
        let r = burn::tensor::module::batch_norm_train(x.clone(), w.clone(), b.clone(), 1e-5);
        assert!(rel(y.clone(), r.output.clone()) < 1e-5);
        assert!(rel(mean, r.mean) < 1e-5);
        assert!(rel(var, r.variance) < 1e-5);
        let g = Tensor::<4>::random(y.dims(), Distribution::Normal(0.0, 1.0), &device());
        let grads = (y * g.clone()).sum().backward();
        let grads_ref = (r.output * g).sum().backward();
        for (name, t) in [("weight", &w), ("bias", &b)] {
            let e = rel(t.grad(&grads).unwrap(), t.grad(&grads_ref).unwrap());
            assert!(e < 1e-4, "{name} gradient: {e:.1e}");
        }
        let e = rel(x.grad(&grads).unwrap(), x.grad(&grads_ref).unwrap());
        assert!(e < 1e-4, "input gradient: {e:.1e}");
    }

    #[test]
    fn conv_bn_act_matches_burn_in_output_statistics_and_gradients() {
        use crate::models::layers::Act;
        // (c_in, c_out, k, stride, groups, activation)
        let cases = [
            (6, 6, 3, 2, 6, Act::Silu),      // depthwise
            (6, 10, 1, 1, 1, Act::Identity), // pointwise
            (4, 8, 3, 1, 1, Act::Relu),      // dense, with a residual
        ];
        for (c_in, c_out, k, stride, groups, act) in cases {
            let x = random([3, c_in, 9, 9], true);
            let w = random([c_out, c_in / groups, k, k], true);
            let (g, b) = (random([c_out], true), random([c_out], true));
            let p = k / 2;
            let side = (9 + 2 * p - k) / stride + 1;
            let shape = ConvShape {
                stride: [stride; 2],
                padding: [p; 2],
                groups,
            };
            let residual = (act == Act::Relu).then(|| random([3, c_out, side, side], true));
            let (y, mean, var) =
                conv_bn_act(&x, &w, &shape, &g, &b, 1e-5, residual.as_ref(), act).unwrap();
            let options = ConvOptions::new([stride; 2], [p; 2], [1, 1], groups);
            let c = burn::tensor::module::conv2d(x.clone(), w.clone(), None, options);
            let r = burn::tensor::module::batch_norm_train(c, g.clone(), b.clone(), 1e-5);
            let z = match &residual {
                Some(res) => r.output + res.clone(),
                None => r.output,
            };
            let y_ref = match act {
                Act::Identity => z,
                Act::Relu => burn::tensor::activation::relu(z),
                Act::Silu => burn::tensor::activation::silu(z),
            };
            assert!(rel(y.clone(), y_ref.clone()) < 1e-5, "{act:?}: output");
            assert!(rel(mean, r.mean) < 1e-5);
            assert!(rel(var, r.variance) < 1e-5);
            let d = Tensor::<4>::random(y.dims(), Distribution::Normal(0.0, 1.0), &device());
            let grads = (y * d.clone()).sum().backward();
            let grads_ref = (y_ref * d).sum().backward();
            for (name, t) in [("bn weight", &g), ("bn bias", &b)] {
                let e = rel(t.grad(&grads).unwrap(), t.grad(&grads_ref).unwrap());
                assert!(e < 1e-4, "{act:?}: {name} gradient: {e:.1e}");
            }
            for (name, t) in [("input", &x), ("conv weight", &w)] {
                let e = rel(t.grad(&grads).unwrap(), t.grad(&grads_ref).unwrap());
                assert!(e < 1e-4, "{act:?}: {name} gradient: {e:.1e}");
            }
            if let Some(res) = &residual {
                let e = rel(res.grad(&grads).unwrap(), res.grad(&grads_ref).unwrap());
                assert!(e < 1e-5, "residual gradient: {e:.1e}");
            }
        }
    }

    #[test]
    fn silu_matches_burn_in_output_and_gradient() {
        let x = random([2, 3, 4, 4], true);
        let y = silu(&x).unwrap();
        let y_ref = burn::tensor::activation::silu(x.clone());
        assert!(rel(y.clone(), y_ref.clone()) < 1e-6);
        let grads = (y * 3.0).sum().backward();
        let grads_ref = (y_ref * 3.0).sum().backward();
        assert!(rel(x.grad(&grads).unwrap(), x.grad(&grads_ref).unwrap()) < 1e-6);
    }

    #[test]
    fn off_a_libtorch_autodiff_device_it_declines() {
        let plain = crate::device::resolve("tch").unwrap().1;
        let x = Tensor::<4>::zeros([1, 1, 2, 2], &plain);
        assert!(silu(&x).is_none());
    }
}
