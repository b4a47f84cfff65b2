//! CORnet-Z (Kubilius et al. 2018, "CORnet: modeling the core object recognition circuit of
//! the ventral stream"): four blocks named after the cortical areas they model, each
//! conv → (LRN) → ReLU → max-pool, with an output tap on every block.
//!
//! | block | conv | channels | output at 32x32 input |
//! |---|---|---|---|
//! | V1 | 7x7 / 2, pad 3 | 64 | 64x8x8 |
//! | V2 | 3x3 / 1, pad 1 | 128 | 128x4x4 |
//! | V4 | 3x3 / 1, pad 1 | 256 | 256x2x2 |
//! | IT | 3x3 / 1, pad 1 | 512 | 512x1x1 |
//!
//! Max-pool 3x3 / 2, pad 1 after each conv.

use burn::module::Module;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{LocalResponseNorm, LocalResponseNormConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::conv::Conv;
use crate::config::Tap;

/// Citation of the architecture.
pub const CITATION: &str = "Kubilius, Schrimpf, Nayebi, Bear, Yamins & DiCarlo (2018). CORnet: modeling the core object recognition circuit of the ventral stream. arXiv:1808.02991";

/// The taps of CORnet-Z, in depth order.
pub const TAPS: [Tap; 4] = [Tap::V1, Tap::V2, Tap::V4, Tap::It];

/// Channels per block.
pub const CHANNELS: [usize; 4] = [64, 128, 256, 512];

/// One CORnet-Z block: conv → (LRN) → ReLU → max-pool 3x3/2.
#[derive(Module, Debug)]
pub struct Block {
    /// The convolution.
    pub conv: Conv,
    /// Optional local response normalisation (authors' code).
    pub lrn: Option<LocalResponseNorm>,
    /// Max pooling.
    pub pool: MaxPool2d,
}

impl Block {
    fn new(
        c_in: usize,
        c_out: usize,
        k: usize,
        s: usize,
        lrn: bool,
        im2col: usize,
        device: &Device,
    ) -> Self {
        Self {
            conv: Conv::new(c_in, c_out, k, s, k / 2, im2col, device),
            // AlexNet's LRN constants (size 5, alpha 1e-4, beta 0.75, k 2).
            lrn: lrn.then(|| {
                LocalResponseNormConfig::new(5)
                    .with_alpha(1e-4)
                    .with_beta(0.75)
                    .with_k(2.0)
                    .init()
            }),
            pool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
        }
    }

    /// # Shapes
    /// - input `[batch, c_in, h, w]`; output `[batch, c_out, h', w']`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = self.conv.forward(x);
        if let Some(lrn) = &self.lrn {
            x = lrn.forward(x);
        }
        self.pool.forward(relu(x))
    }
}

/// The CORnet-Z feature stack (heads live in [`super::Network`]).
#[derive(Module, Debug)]
pub struct CornetZ {
    /// V1 block.
    pub v1: Block,
    /// V2 block.
    pub v2: Block,
    /// V4 block.
    pub v4: Block,
    /// IT block.
    pub it: Block,
}

impl CornetZ {
    /// A Glorot-initialised CORnet-Z; `im2col` is the output-pixel threshold of [`Conv`].
    pub fn new(lrn: bool, im2col: usize, device: &Device) -> Self {
        Self {
            v1: Block::new(3, 64, 7, 2, lrn, im2col, device),
            v2: Block::new(64, 128, 3, 1, lrn, im2col, device),
            v4: Block::new(128, 256, 3, 1, lrn, im2col, device),
            it: Block::new(256, 512, 3, 1, lrn, im2col, device),
        }
    }

    /// The blocks with their tap names, in depth order.
    pub fn blocks(&self) -> [(Tap, &Block); 4] {
        [
            (Tap::V1, &self.v1),
            (Tap::V2, &self.v2),
            (Tap::V4, &self.v4),
            (Tap::It, &self.it),
        ]
    }

    /// Output side of the IT block for input side `n`.
    pub fn output_side(n: usize) -> usize {
        let conv = |n: usize, k: usize, s: usize| (n + 2 * (k / 2) - k) / s + 1;
        let pool = |n: usize| (n + 2 - 3) / 2 + 1;
        let mut n = pool(conv(n, 7, 2));
        for _ in 0..3 {
            n = pool(conv(n, 3, 1));
        }
        n
    }
}
