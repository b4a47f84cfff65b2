//! Models: one file per architecture, one convolution type, shared heads.
//!
//! [`Network`] is the registered model: a feature stack with named taps (brain areas for
//! CORnet-Z) and a classifier head. The teacher's stimuli can share the forward pass with the
//! batch up to the tapped layer ([`Network::forward_with_tap`]): they are concatenated to the
//! batch, split off at the tap, and never reach the head.

pub mod conv;
pub mod cornet_z;
pub mod head;
pub mod vgg16;

use burn::module::Module;
use burn::tensor::{Device, Tensor};

pub use conv::Conv;
pub use cornet_z::CornetZ;
pub use head::ClassifierHead;
pub use vgg16::Vgg16;

use crate::config::{Arch, Head, ModelConfig, Tap};

/// A feature stack.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Features {
    /// CORnet-Z.
    CornetZ(CornetZ),
    /// VGG-16.
    Vgg16(Vgg16),
}

/// A registered model: features and head.
#[derive(Module, Debug)]
pub struct Network {
    /// Feature stack.
    pub features: Features,
    /// Classifier head.
    pub head: ClassifierHead,
}

/// Output of a forward pass with the teacher's stimuli.
pub struct TapForward {
    /// Class scores of the batch, `[batch, classes]`.
    pub logits: Tensor<2>,
    /// Flattened tap activations of the extra stimuli, `[stimuli, features]`.
    pub tap: Option<Tensor<2>>,
}

impl Network {
    /// Builds the model for `input_size` x `input_size` RGB input and `classes` outputs.
    /// `im2col` is the [`Conv`] output-pixel threshold (0 = always Burn's conv2d).
    pub fn new(
        cfg: &ModelConfig,
        input_size: usize,
        classes: usize,
        im2col: usize,
        device: &Device,
    ) -> Self {
        let (features, channels, side) = match cfg.arch {
            Arch::CornetZ => (
                Features::CornetZ(CornetZ::new(cfg.lrn, im2col, device)),
                512,
                CornetZ::output_side(input_size),
            ),
            Arch::Vgg16 => (
                Features::Vgg16(Vgg16::new(im2col, device)),
                512,
                Vgg16::output_side(input_size),
            ),
        };
        let head = match cfg.head {
            Head::Fc4096 => {
                ClassifierHead::fc(channels * side * side, classes, cfg.dropout, device)
            }
            Head::Decoder => ClassifierHead::decoder(channels, classes, device),
        };
        Self { features, head }
    }

    /// The taps this model offers, in depth order.
    pub fn taps(&self) -> Vec<Tap> {
        match &self.features {
            Features::CornetZ(_) => cornet_z::TAPS.to_vec(),
            Features::Vgg16(_) => vec![Tap::Conv3],
        }
    }

    /// Class scores.
    ///
    /// # Shapes
    /// - input `[batch, 3, s, s]`; output `[batch, classes]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_with_tap(x, None, Tap::V1).logits
    }

    /// Runs the batch and (optionally) teacher stimuli in one pass: `extra` is concatenated to
    /// `x`, split off at `tap` (its activations flattened and returned), and only `x`
    /// continues to the head.
    pub fn forward_with_tap(&self, x: Tensor<4>, extra: Option<Tensor<4>>, tap: Tap) -> TapForward {
        let n = x.dims()[0];
        let m = extra.as_ref().map(|e| e.dims()[0]).unwrap_or(0);
        let mut tap_out = None;
        let mut split = |area: Tap, h: Tensor<4>| -> Tensor<4> {
            if m == 0 || area != tap {
                return h;
            }
            let [_, c, hh, ww] = h.dims();
            tap_out = Some(
                h.clone()
                    .slice([n..n + m, 0..c, 0..hh, 0..ww])
                    .flatten::<2>(1, 3),
            );
            h.slice([0..n, 0..c, 0..hh, 0..ww])
        };
        let input = match extra {
            Some(e) => Tensor::cat(vec![x, e], 0), // [n + m, 3, s, s]
            None => x,
        };
        let h = match &self.features {
            Features::CornetZ(net) => {
                let mut h = input;
                for (area, block) in net.blocks() {
                    h = split(area, block.forward(h));
                }
                h
            }
            Features::Vgg16(net) => net.forward_with(input, |i, h| {
                if i == vgg16::CONV3 {
                    split(Tap::Conv3, h)
                } else {
                    h
                }
            }),
        };
        TapForward {
            logits: self.head.forward(h),
            tap: tap_out,
        }
    }

    /// Activations at `tap` (the block output), running the stack only as deep as needed.
    pub fn activations(&self, x: Tensor<4>, tap: Tap) -> Tensor<4> {
        match &self.features {
            Features::CornetZ(net) => {
                let mut h = x;
                for (area, block) in net.blocks() {
                    h = block.forward(h);
                    if area == tap {
                        return h;
                    }
                }
                h
            }
            Features::Vgg16(net) => {
                let mut out = None;
                net.forward_with(x, |i, h| {
                    if i == vgg16::CONV3 {
                        out = Some(h.clone());
                    }
                    h
                });
                out.expect("VGG-16 has a third convolution")
            }
        }
    }

    /// Penultimate features (input of the last linear layer).
    pub fn penultimate(&self, x: Tensor<4>) -> Tensor<2> {
        let h = match &self.features {
            Features::CornetZ(net) => net.blocks().iter().fold(x, |h, (_, b)| b.forward(h)),
            Features::Vgg16(net) => net.forward_with(x, |_, h| h),
        };
        self.head.penultimate(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn cfg(arch: Arch, head: Head) -> ModelConfig {
        ModelConfig {
            arch,
            head,
            ..ModelConfig::default()
        }
    }

    #[test]
    fn cornet_z_shapes_both_heads_both_sizes() {
        let device = Device::default();
        for size in [32usize, 227] {
            for head in [Head::Fc4096, Head::Decoder] {
                if size == 227 && head == Head::Fc4096 {
                    // 512*8*8 -> 4096 FC: checked by output_side below, too big for a unit test.
                    assert_eq!(CornetZ::output_side(227), 8);
                    continue;
                }
                let net = Network::new(&cfg(Arch::CornetZ, head), size, 100, 4, &device);
                let x = Tensor::<4>::random([2, 3, size, size], Distribution::Default, &device);
                assert_eq!(net.forward(x.clone()).dims(), [2, 100]);
                let expect = if size == 32 {
                    [
                        [2, 64, 8, 8],
                        [2, 128, 4, 4],
                        [2, 256, 2, 2],
                        [2, 512, 1, 1],
                    ]
                } else {
                    [
                        [2, 64, 57, 57],
                        [2, 128, 29, 29],
                        [2, 256, 15, 15],
                        [2, 512, 8, 8],
                    ]
                };
                for (tap, dims) in cornet_z::TAPS.iter().zip(expect) {
                    assert_eq!(
                        net.activations(x.clone(), *tap).dims(),
                        dims,
                        "{tap} at {size}"
                    );
                }
            }
        }
    }

    #[test]
    fn shared_pass_equals_separate_passes() {
        let device = Device::default();
        let net = Network::new(&cfg(Arch::CornetZ, Head::Decoder), 32, 10, 4, &device);
        let x = Tensor::<4>::random([3, 3, 32, 32], Distribution::Default, &device);
        let e = Tensor::<4>::random([2, 3, 32, 32], Distribution::Default, &device);
        for tap in cornet_z::TAPS {
            let out = net.forward_with_tap(x.clone(), Some(e.clone()), tap);
            let logits = net.forward(x.clone());
            let acts = net.activations(e.clone(), tap).flatten::<2>(1, 3);
            assert!((out.logits - logits).abs().max().into_scalar::<f32>() < 1e-5);
            assert!((out.tap.unwrap() - acts).abs().max().into_scalar::<f32>() < 1e-5);
        }
    }

    #[test]
    fn vgg16_shapes() {
        let device = Device::default();
        let net = Network::new(&cfg(Arch::Vgg16, Head::Decoder), 32, 100, 4, &device);
        let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Default, &device);
        assert_eq!(net.forward(x.clone()).dims(), [2, 100]);
        assert_eq!(net.activations(x, Tap::Conv3).dims(), [2, 128, 16, 16]);
    }
}
