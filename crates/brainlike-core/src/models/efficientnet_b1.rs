//! EfficientNet-B1 as timm 1.0's `efficientnet_b1` (Tan & Le 2019): the B0 block list scaled
//! by channel multiplier 1.0 and depth multiplier 1.1 with timm's rounding (channels:
//! `make_divisible(c · m, 8)`; repeats: `ceil(r · d)`), depthwise-separable and inverted-
//! residual (MBConv) blocks with squeeze-excitation and SiLU, symmetric padding, BatchNorm
//! eps 1e-5 / momentum 0.1. Module names follow timm's `state_dict` (`conv_stem`, `bn1`,
//! `blocks.1.0.conv_pw.weight`, `conv_head`, `bn2`); [`EfficientNetB1::torch_name`] drops the
//! block-kind component of our paths (`blocks.1.0.Ir.conv_pw` → `blocks.1.0.conv_pw`). The
//! classifier is the registry's `decoder` head (global average pool + linear), exported as
//! timm's `classifier` (timm's dropout before it defaults to 0 in `create_model`).

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor};

use super::layers::{Act, BatchNorm2d, DropPath, SqueezeExcite, conv_bn_act, conv2d};
use super::registry::{Backbone, Depth, ModelSpec, Normalization, Tap, TapSpec};
use crate::config::ModelConfig;

/// Citation of the architecture.
pub const CITATION: &str = "Tan & Le (2019). EfficientNet: Rethinking model scaling for convolutional neural networks. ICML";

/// One stage of the block list: timm's `ds_r1_k3_s1_e1_c16_se0.25` etc.
#[derive(Debug, Clone, Copy)]
pub struct StageDef {
    /// Inverted residual (`ir`) or depthwise-separable (`ds`).
    pub inverted: bool,
    /// Repeats before depth scaling.
    pub repeats: usize,
    /// Depthwise kernel.
    pub kernel: usize,
    /// Stride of the first block.
    pub stride: usize,
    /// Expansion ratio.
    pub expand: usize,
    /// Output channels before channel scaling.
    pub channels: usize,
}

const fn st(
    inverted: bool,
    repeats: usize,
    kernel: usize,
    stride: usize,
    expand: usize,
    channels: usize,
) -> StageDef {
    StageDef {
        inverted,
        repeats,
        kernel,
        stride,
        expand,
        channels,
    }
}

/// timm's `_gen_efficientnet` block list (EfficientNet-B0), SE ratio 0.25 everywhere.
pub const ARCH: [StageDef; 7] = [
    st(false, 1, 3, 1, 1, 16),
    st(true, 2, 3, 2, 6, 24),
    st(true, 2, 5, 2, 6, 40),
    st(true, 3, 3, 2, 6, 80),
    st(true, 3, 5, 1, 6, 112),
    st(true, 4, 5, 2, 6, 192),
    st(true, 1, 3, 1, 6, 320),
];

/// SE ratio of every block.
pub const SE_RATIO: f64 = 0.25;

/// timm's `make_divisible(v, 8)`: nearest multiple of 8, at least 8, not below 90% of `v`.
pub fn make_divisible(v: f64) -> usize {
    let d = 8usize;
    let mut n = (((v + d as f64 / 2.0) as usize) / d * d).max(d);
    if (n as f64) < 0.9 * v {
        n += d;
    }
    n
}

/// timm's `round_channels(c, multiplier)`.
pub fn round_channels(c: usize, multiplier: f64) -> usize {
    make_divisible(c as f64 * multiplier)
}

/// Channel and depth multipliers (B1: 1.0 and 1.1).
#[derive(Debug, Clone, Copy)]
pub struct EfficientNetConfig {
    /// Width multiplier.
    pub channel_multiplier: f64,
    /// Depth multiplier.
    pub depth_multiplier: f64,
    /// timm's `drop_path_rate` (0 in `create_model("efficientnet_b1")`); block `i` of `n`
    /// drops with `rate · i / n`.
    pub drop_path_rate: f64,
}

/// timm's `efficientnet_b1`.
pub const B1: EfficientNetConfig = EfficientNetConfig {
    channel_multiplier: 1.0,
    depth_multiplier: 1.1,
    drop_path_rate: 0.0,
};

/// Depthwise-separable block: depthwise conv, BN+SiLU, SE, pointwise conv, BN.
#[derive(Module, Debug)]
pub struct DepthwiseSeparable {
    /// Depthwise `k`x`k`.
    pub conv_dw: Conv2d,
    /// BN + SiLU.
    pub bn1: BatchNorm2d,
    /// Squeeze-excitation.
    pub se: SqueezeExcite,
    /// Pointwise projection.
    pub conv_pw: Conv2d,
    /// BN, no activation.
    pub bn2: BatchNorm2d,
    /// Residual when stride 1 and equal widths.
    pub has_skip: bool,
    /// Stochastic depth on the residual branch.
    pub drop_path: DropPath,
}

/// Inverted residual (MBConv): 1x1 expansion, BN+SiLU, depthwise, BN+SiLU, SE, 1x1
/// projection, BN.
#[derive(Module, Debug)]
pub struct InvertedResidual {
    /// Pointwise expansion.
    pub conv_pw: Conv2d,
    /// BN + SiLU.
    pub bn1: BatchNorm2d,
    /// Depthwise `k`x`k`, carries the stride.
    pub conv_dw: Conv2d,
    /// BN + SiLU.
    pub bn2: BatchNorm2d,
    /// Squeeze-excitation on the expanded channels.
    pub se: SqueezeExcite,
    /// Pointwise projection.
    pub conv_pwl: Conv2d,
    /// BN, no activation.
    pub bn3: BatchNorm2d,
    /// Residual when stride 1 and equal widths.
    pub has_skip: bool,
    /// Stochastic depth on the residual branch.
    pub drop_path: DropPath,
}

/// A block of either kind.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Block {
    /// Depthwise-separable.
    Ds(DepthwiseSeparable),
    /// Inverted residual.
    Ir(InvertedResidual),
}

impl Block {
    /// # Shapes
    /// - input `[batch, c_in, h, w]`; output `[batch, c_out, h / stride, w / stride]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Block::Ds(b) => {
                let y = conv_bn_act(&b.conv_dw, &b.bn1, Act::Silu, x.clone());
                let y = b.se.forward(y);
                let y = conv_bn_act(&b.conv_pw, &b.bn2, Act::Identity, y);
                if b.has_skip {
                    b.drop_path.forward(y) + x
                } else {
                    y
                }
            }
            Block::Ir(b) => {
                let y = conv_bn_act(&b.conv_pw, &b.bn1, Act::Silu, x.clone()); // [batch, mid, h, w]
                let y = conv_bn_act(&b.conv_dw, &b.bn2, Act::Silu, y);
                let y = b.se.forward(y);
                let y = conv_bn_act(&b.conv_pwl, &b.bn3, Act::Identity, y); // [batch, c_out, h', w']
                if b.has_skip {
                    b.drop_path.forward(y) + x
                } else {
                    y
                }
            }
        }
    }
}

/// EfficientNet features: stem (3x3/2 conv, BN, SiLU), seven stages, 1x1 head conv (BN, SiLU).
#[derive(Module, Debug)]
pub struct EfficientNetB1 {
    /// 3x3 stem convolution, stride 2.
    pub conv_stem: Conv2d,
    /// Stem BN + SiLU.
    pub bn1: BatchNorm2d,
    /// The seven stages.
    pub blocks: Vec<Vec<Block>>,
    /// 1x1 convolution to the feature width (1280 for B1).
    pub conv_head: Conv2d,
    /// Head BN + SiLU.
    pub bn2: BatchNorm2d,
}

const TAPS: [&str; 8] = [
    "stage1",
    "stage2",
    "stage3",
    "stage4",
    "stage5",
    "stage6",
    "stage7",
    "conv_head",
];

impl EfficientNetB1 {
    /// Blocks per stage under `cfg` (timm's `ceil` depth scaling; one block string per stage).
    pub fn repeats(cfg: EfficientNetConfig) -> [usize; 7] {
        ARCH.map(|s| (s.repeats as f64 * cfg.depth_multiplier).ceil() as usize)
    }

    /// Width of the final feature map under `cfg`.
    pub fn features(cfg: EfficientNetConfig) -> usize {
        round_channels(1280, cfg.channel_multiplier)
    }

    /// A freshly initialised network of configuration `cfg`.
    pub fn with_config(cfg: EfficientNetConfig, device: &Device) -> Self {
        let stem = round_channels(32, cfg.channel_multiplier);
        let repeats = Self::repeats(cfg);
        let total: usize = repeats.iter().sum();
        let mut c_in = stem;
        let mut idx = 0;
        let mut blocks = Vec::new();
        for (s, &n) in ARCH.iter().zip(&repeats) {
            let c_out = round_channels(s.channels, cfg.channel_multiplier);
            let mut stage = Vec::new();
            for b in 0..n {
                let stride = if b == 0 { s.stride } else { 1 };
                let has_skip = stride == 1 && c_in == c_out;
                let drop_path = DropPath {
                    rate: cfg.drop_path_rate * idx as f64 / total as f64,
                };
                let k = s.kernel;
                stage.push(if s.inverted {
                    let mid = make_divisible((c_in * s.expand) as f64);
                    let rd = SqueezeExcite::reduced_channels(mid, SE_RATIO, s.expand as f64);
                    Block::Ir(InvertedResidual {
                        conv_pw: conv2d(c_in, mid, 1, 1, 1, false, device),
                        bn1: BatchNorm2d::new(mid, device),
                        conv_dw: conv2d(mid, mid, k, stride, mid, false, device),
                        bn2: BatchNorm2d::new(mid, device),
                        se: SqueezeExcite::new(mid, rd, device),
                        conv_pwl: conv2d(mid, c_out, 1, 1, 1, false, device),
                        bn3: BatchNorm2d::new(c_out, device),
                        has_skip,
                        drop_path,
                    })
                } else {
                    let rd = SqueezeExcite::reduced_channels(c_in, SE_RATIO, 1.0);
                    Block::Ds(DepthwiseSeparable {
                        conv_dw: conv2d(c_in, c_in, k, stride, c_in, false, device),
                        bn1: BatchNorm2d::new(c_in, device),
                        se: SqueezeExcite::new(c_in, rd, device),
                        conv_pw: conv2d(c_in, c_out, 1, 1, 1, false, device),
                        bn2: BatchNorm2d::new(c_out, device),
                        has_skip,
                        drop_path,
                    })
                });
                c_in = c_out;
                idx += 1;
            }
            blocks.push(stage);
        }
        let features = Self::features(cfg);
        Self {
            conv_stem: conv2d(3, stem, 3, 2, 1, false, device),
            bn1: BatchNorm2d::new(stem, device),
            blocks,
            conv_head: conv2d(c_in, features, 1, 1, 1, false, device),
            bn2: BatchNorm2d::new(features, device),
        }
    }

    /// Side of the final map for input side `n` (five stride-2 steps with padding `k / 2`).
    pub fn output_side(n: usize) -> usize {
        (0..5).fold(n, |n, _| (n - 1) / 2 + 1)
    }

    /// timm's `state_dict` name of the parameter at `path` (relative to this module).
    pub fn torch_name(path: &str) -> String {
        path.replace(".Ds.", ".").replace(".Ir.", ".")
    }
}

impl Backbone for EfficientNetB1 {
    const SPEC: ModelSpec = ModelSpec {
        name: "efficientnet_b1",
        summary: "EfficientNet-B1 (timm efficientnet_b1), taps stage1..stage7, conv_head",
        citation: CITATION,
        taps: &[
            TapSpec {
                name: "stage1",
                depth: Depth::Early,
                module: "features.EfficientNetB1.blocks.0",
            },
            TapSpec {
                name: "stage2",
                depth: Depth::Early,
                module: "features.EfficientNetB1.blocks.1",
            },
            TapSpec {
                name: "stage3",
                depth: Depth::Middle,
                module: "features.EfficientNetB1.blocks.2",
            },
            TapSpec {
                name: "stage4",
                depth: Depth::Middle,
                module: "features.EfficientNetB1.blocks.3",
            },
            TapSpec {
                name: "stage5",
                depth: Depth::Middle,
                module: "features.EfficientNetB1.blocks.4",
            },
            TapSpec {
                name: "stage6",
                depth: Depth::Late,
                module: "features.EfficientNetB1.blocks.5",
            },
            TapSpec {
                name: "stage7",
                depth: Depth::Late,
                module: "features.EfficientNetB1.blocks.6",
            },
            TapSpec {
                name: "conv_head",
                depth: Depth::Late,
                module: "features.EfficientNetB1.conv_head",
            },
        ],
        default_teacher_tap: "stage2",
        // timm's pretrained cfg of the default tag (ra4_e3600_r240_in1k): 240 px, mean = std
        // = 0.5.
        default_input_size: 240,
        min_input_size: 32,
        normalization: Normalization::PerChannel {
            mean: [0.5; 3],
            std: [0.5; 3],
        },
        batch_stats: true,
    };

    const TORCH_CLASSIFIER: Option<&'static str> = Some("classifier");

    fn torch_name(path: &str) -> String {
        EfficientNetB1::torch_name(path)
    }

    fn build(_cfg: &ModelConfig, _input_size: usize, _im2col: usize, device: &Device) -> Self {
        EfficientNetB1::with_config(B1, device)
    }

    fn output_shape(input_size: usize) -> (usize, usize) {
        (
            EfficientNetB1::features(B1),
            EfficientNetB1::output_side(input_size),
        )
    }

    fn forward_taps(
        &self,
        x: Tensor<4>,
        stop_after: Option<Tap>,
        at: &mut dyn FnMut(Tap, Tensor<4>) -> Tensor<4>,
    ) -> Tensor<4> {
        let mut x = conv_bn_act(&self.conv_stem, &self.bn1, Act::Silu, x); // [batch, 32, s/2, s/2]
        for (i, stage) in self.blocks.iter().enumerate() {
            for blk in stage {
                x = blk.forward(x);
            }
            let tap = Tap::from_static(TAPS[i]);
            x = at(tap, x);
            if stop_after == Some(tap) {
                return x;
            }
        }
        let x = conv_bn_act(&self.conv_head, &self.bn2, Act::Silu, x); // [batch, 1280, s/32, s/32]
        at(Tap::from_static(TAPS[7]), x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b1_widths_and_depths_follow_timm() {
        assert_eq!(EfficientNetB1::repeats(B1), [2, 3, 3, 4, 4, 5, 2]);
        assert_eq!(round_channels(32, 1.0), 32);
        assert_eq!(EfficientNetB1::features(B1), 1280);
        // The fixtures' small variant (channel 0.125, depth 0.5).
        let small = EfficientNetConfig {
            channel_multiplier: 0.125,
            depth_multiplier: 0.5,
            drop_path_rate: 0.0,
        };
        assert_eq!(EfficientNetB1::repeats(small), [1, 1, 1, 2, 2, 2, 1]);
        assert_eq!(round_channels(40, 0.125), 8);
        assert_eq!(round_channels(80, 0.125), 16);
    }
}
