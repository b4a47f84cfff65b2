//! ResNet-50 as torchvision's `resnet50` (He et al. 2016; "v1.5": the stride of a downsampling
//! bottleneck sits on its 3x3 convolution). Module names follow torchvision's `state_dict`
//! (`conv1`, `bn1`, `layer1.0.conv2.weight`, ...) except `downsample.conv`/`downsample.bn`,
//! which [`ResNet50::torch_name`] maps to torchvision's `downsample.0`/`downsample.1`. The
//! classifier is the registry's `decoder` head (global average pool + linear), exported as
//! torchvision's `fc`.

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::{Device, Tensor};

use super::layers::{Act, BatchNorm2d, conv_bn_act, conv_bn_add_act, conv2d};
use super::registry::{Backbone, Depth, ModelSpec, Normalization, Tap, TapSpec};
use crate::config::ModelConfig;

/// Citation of the architecture.
pub const CITATION: &str =
    "He, Zhang, Ren & Sun (2016). Deep residual learning for image recognition. CVPR";

/// ImageNet channel means (torchvision's preprocessing).
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations.
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Widths and depths of a bottleneck ResNet (torchvision's `ResNet(Bottleneck, layers)`).
#[derive(Debug, Clone, Copy)]
pub struct ResNetConfig {
    /// Channels of the 7x7 stem.
    pub stem: usize,
    /// Bottleneck width per stage (outputs are 4x wider).
    pub planes: [usize; 4],
    /// Bottlenecks per stage.
    pub layers: [usize; 4],
}

/// torchvision's `resnet50`.
pub const RESNET50: ResNetConfig = ResNetConfig {
    stem: 64,
    planes: [64, 128, 256, 512],
    layers: [3, 4, 6, 3],
};

/// Output channels of a bottleneck per unit of width.
pub const EXPANSION: usize = 4;

/// 1x1 convolution and BatchNorm on the shortcut of a block that changes shape.
#[derive(Module, Debug)]
pub struct Downsample {
    /// 1x1, stride of the block, no bias (torchvision `downsample.0`).
    pub conv: Conv2d,
    /// torchvision `downsample.1`.
    pub bn: BatchNorm2d,
}

/// 1x1 → 3x3 (stride) → 1x1 (4x wider), each followed by BatchNorm; ReLU after the first two
/// and after the residual sum.
#[derive(Module, Debug)]
pub struct Bottleneck {
    /// 1x1 reduction.
    pub conv1: Conv2d,
    /// After `conv1`.
    pub bn1: BatchNorm2d,
    /// 3x3, carries the stride (v1.5).
    pub conv2: Conv2d,
    /// After `conv2`.
    pub bn2: BatchNorm2d,
    /// 1x1 expansion.
    pub conv3: Conv2d,
    /// After `conv3`.
    pub bn3: BatchNorm2d,
    /// Shortcut projection when the shape changes.
    pub downsample: Option<Downsample>,
}

impl Bottleneck {
    fn new(c_in: usize, planes: usize, stride: usize, device: &Device) -> Self {
        let c_out = planes * EXPANSION;
        let downsample = (stride != 1 || c_in != c_out).then(|| Downsample {
            conv: conv2d(c_in, c_out, 1, stride, 1, false, device),
            bn: BatchNorm2d::new(c_out, device),
        });
        Self {
            conv1: conv2d(c_in, planes, 1, 1, 1, false, device),
            bn1: BatchNorm2d::new(planes, device),
            conv2: conv2d(planes, planes, 3, stride, 1, false, device),
            bn2: BatchNorm2d::new(planes, device),
            conv3: conv2d(planes, c_out, 1, 1, 1, false, device),
            bn3: BatchNorm2d::new(c_out, device),
            downsample,
        }
    }

    /// # Shapes
    /// - input `[batch, c_in, h, w]`; output `[batch, 4·planes, h / stride, w / stride]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let identity = match &self.downsample {
            Some(d) => conv_bn_act(&d.conv, &d.bn, Act::Identity, x.clone()),
            None => x.clone(),
        };
        let y = conv_bn_act(&self.conv1, &self.bn1, Act::Relu, x);
        let y = conv_bn_act(&self.conv2, &self.bn2, Act::Relu, y);
        conv_bn_add_act(&self.conv3, &self.bn3, Act::Relu, y, identity)
    }
}

/// ResNet features: stem (7x7/2 conv, BN, ReLU, 3x3/2 max-pool) and four stages.
#[derive(Module, Debug)]
pub struct ResNet50 {
    /// 7x7 stem convolution, stride 2.
    pub conv1: Conv2d,
    /// Stem BatchNorm.
    pub bn1: BatchNorm2d,
    /// 3x3 / 2 max-pool, padding 1.
    pub maxpool: MaxPool2d,
    /// Stage 1 (stride 4 overall).
    pub layer1: Vec<Bottleneck>,
    /// Stage 2 (stride 8).
    pub layer2: Vec<Bottleneck>,
    /// Stage 3 (stride 16).
    pub layer3: Vec<Bottleneck>,
    /// Stage 4 (stride 32).
    pub layer4: Vec<Bottleneck>,
}

const TAPS: [&str; 4] = ["layer1", "layer2", "layer3", "layer4"];

impl ResNet50 {
    /// A freshly initialised network of configuration `cfg` (torchvision's initialisation:
    /// Kaiming-normal convolutions over fan-out, BatchNorm γ = 1, β = 0).
    pub fn with_config(cfg: ResNetConfig, device: &Device) -> Self {
        let mut c_in = cfg.stem;
        let mut stage = |i: usize| {
            let stride = if i == 0 { 1 } else { 2 };
            (0..cfg.layers[i])
                .map(|b| {
                    let blk = Bottleneck::new(
                        c_in,
                        cfg.planes[i],
                        if b == 0 { stride } else { 1 },
                        device,
                    );
                    c_in = cfg.planes[i] * EXPANSION;
                    blk
                })
                .collect::<Vec<_>>()
        };
        let (layer1, layer2, layer3, layer4) = (stage(0), stage(1), stage(2), stage(3));
        Self {
            conv1: conv2d(3, cfg.stem, 7, 2, 1, false, device),
            bn1: BatchNorm2d::new(cfg.stem, device),
            maxpool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            layer1,
            layer2,
            layer3,
            layer4,
        }
    }

    /// Side after the stem and the three stride-2 stages for input side `n`.
    pub fn output_side(n: usize) -> usize {
        // Each of the five stride-2 steps (7x7/2 p3, max-pool 3/2 p1, three 3x3/2 p1) maps
        // n to (n − 1) / 2 + 1.
        (0..5).fold(n, |n, _| (n - 1) / 2 + 1)
    }

    /// torchvision's `state_dict` name of the parameter at `path` (relative to this module).
    pub fn torch_name(path: &str) -> String {
        path.replace(".downsample.conv.", ".downsample.0.")
            .replace(".downsample.bn.", ".downsample.1.")
    }
}

impl Backbone for ResNet50 {
    const SPEC: ModelSpec = ModelSpec {
        name: "resnet50",
        summary: "ResNet-50 (torchvision resnet50, v1.5), taps layer1..layer4",
        citation: CITATION,
        taps: &[
            TapSpec {
                name: "layer1",
                depth: Depth::Early,
                module: "features.ResNet50.layer1",
            },
            TapSpec {
                name: "layer2",
                depth: Depth::Middle,
                module: "features.ResNet50.layer2",
            },
            TapSpec {
                name: "layer3",
                depth: Depth::Middle,
                module: "features.ResNet50.layer3",
            },
            TapSpec {
                name: "layer4",
                depth: Depth::Late,
                module: "features.ResNet50.layer4",
            },
        ],
        default_teacher_tap: "layer1",
        default_input_size: 224,
        min_input_size: 32,
        normalization: Normalization::PerChannel {
            mean: IMAGENET_MEAN,
            std: IMAGENET_STD,
        },
        batch_stats: true,
    };

    const TORCH_CLASSIFIER: Option<&'static str> = Some("fc");

    fn torch_name(path: &str) -> String {
        ResNet50::torch_name(path)
    }

    fn build(_cfg: &ModelConfig, _input_size: usize, _im2col: usize, device: &Device) -> Self {
        ResNet50::with_config(RESNET50, device)
    }

    fn output_shape(input_size: usize) -> (usize, usize) {
        (
            RESNET50.planes[3] * EXPANSION,
            ResNet50::output_side(input_size),
        )
    }

    fn forward_taps(
        &self,
        x: Tensor<4>,
        stop_after: Option<Tap>,
        at: &mut dyn FnMut(Tap, Tensor<4>) -> Tensor<4>,
    ) -> Tensor<4> {
        let x = conv_bn_act(&self.conv1, &self.bn1, Act::Relu, x); // [batch, 64, s/2, s/2]
        let mut x = self.maxpool.forward(x); // [batch, 64, s/4, s/4]
        for (name, stage) in
            TAPS.iter()
                .zip([&self.layer1, &self.layer2, &self.layer3, &self.layer4])
        {
            for blk in stage {
                x = blk.forward(x);
            }
            let tap = Tap::from_static(name);
            x = at(tap, x); // [batch, 4·planes, side, side]
            if stop_after == Some(tap) {
                break;
            }
        }
        x
    }
}
