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
use super::registry::{Backbone, Depth, ModelSpec, Normalization, Tap, TapSpec};
use crate::config::ModelConfig;

/// Citation of the architecture.
pub const CITATION: &str = "Kubilius, Schrimpf, Nayebi, Bear, Yamins & DiCarlo (2018). CORnet: modeling the core object recognition circuit of the ventral stream. arXiv:1808.02991";

/// The V1 block's tap.
pub const V1: Tap = Tap::from_static("v1");
/// The V2 block's tap.
pub const V2: Tap = Tap::from_static("v2");
/// The V4 block's tap.
pub const V4: Tap = Tap::from_static("v4");
/// The IT block's tap.
pub const IT: Tap = Tap::from_static("it");

/// The taps of CORnet-Z, in depth order.
pub const TAPS: [Tap; 4] = [V1, V2, V4, IT];

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
            (V1, &self.v1),
            (V2, &self.v2),
            (V4, &self.v4),
            (IT, &self.it),
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

impl Backbone for CornetZ {
    const SPEC: ModelSpec = ModelSpec {
        name: "cornet_z",
        summary: "CORnet-Z: four conv blocks named V1, V2, V4, IT (Federer et al.'s model)",
        citation: CITATION,
        taps: &[
            TapSpec {
                name: "v1",
                depth: Depth::Early,
                module: "features.CornetZ.v1",
            },
            TapSpec {
                name: "v2",
                depth: Depth::Middle,
                module: "features.CornetZ.v2",
            },
            TapSpec {
                name: "v4",
                depth: Depth::Middle,
                module: "features.CornetZ.v4",
            },
            TapSpec {
                name: "it",
                depth: Depth::Late,
                module: "features.CornetZ.it",
            },
        ],
        default_teacher_tap: "v1",
        default_input_size: 32,
        min_input_size: 32,
        normalization: Normalization::TrainingMean,
        batch_stats: false,
    };

    /// The official CORnet code (`cornet/cornet_z.py`): the decoder's `linear`.
    const TORCH_CLASSIFIER: Option<&'static str> = Some("decoder.linear");

    /// `v1.conv.conv.weight` → `V1.conv.weight`, as the official CORnet-Z names its blocks
    /// (`V1`, `V2`, `V4`, `IT`, each with a `conv`).
    fn torch_name(path: &str) -> String {
        let (block, rest) = path.split_once('.').unwrap_or((path, ""));
        let rest = rest
            .strip_prefix("conv.conv.")
            .map_or_else(|| rest.to_string(), |tail| format!("conv.{tail}"));
        let block = block.to_uppercase();
        if rest.is_empty() {
            block
        } else {
            format!("{block}.{rest}")
        }
    }

    fn build(cfg: &ModelConfig, _input_size: usize, im2col: usize, device: &Device) -> Self {
        CornetZ::new(cfg.lrn, im2col, device)
    }

    fn output_shape(input_size: usize) -> (usize, usize) {
        (CHANNELS[3], CornetZ::output_side(input_size))
    }

    fn forward_taps(
        &self,
        x: Tensor<4>,
        stop_after: Option<Tap>,
        at: &mut dyn FnMut(Tap, Tensor<4>) -> Tensor<4>,
    ) -> Tensor<4> {
        let mut h = x;
        for (area, block) in self.blocks() {
            h = at(area, block.forward(h)); // [batch, CHANNELS[i], side_i, side_i]
            if stop_after == Some(area) {
                break;
            }
        }
        h
    }
}
