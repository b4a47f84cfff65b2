//! VGG-16 (Simonyan & Zisserman 2015, configuration D): 13 3x3 convolutions in five stages
//! with max-pooling, then the FC head. The teacher taps the third convolutional layer (paper
//! §3.7: in VGG-16 trained for object recognition it is the layer most similar to monkey V1).

use burn::module::Module;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::conv::Conv;
use super::registry::{Backbone, Depth, ModelSpec, Normalization, Tap, TapSpec};
use crate::config::ModelConfig;

/// Citation of the architecture.
pub const CITATION: &str = "Simonyan & Zisserman (2015). Very deep convolutional networks for large-scale image recognition. ICLR";

/// Channels of the 13 convolutions; `0` marks a max-pool.
pub const LAYOUT: [usize; 18] = [
    64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0,
];

/// Index (among convolutions) of the teacher's tap: the third convolution.
pub const CONV3: usize = 2;

/// VGG-16 features.
#[derive(Module, Debug)]
pub struct Vgg16 {
    /// The 13 convolutions in order.
    pub convs: Vec<Conv>,
    /// 2x2 / 2 max-pool.
    pub pool: MaxPool2d,
}

impl Vgg16 {
    /// A Glorot-initialised VGG-16 feature stack.
    pub fn new(im2col: usize, device: &Device) -> Self {
        let mut convs = Vec::new();
        let mut c_in = 3;
        for &c in LAYOUT.iter().filter(|&&c| c > 0) {
            convs.push(Conv::new(c_in, c, 3, 1, 1, im2col, device));
            c_in = c;
        }
        Self {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
        }
    }

    /// Runs the stack; `on_conv(i, x)` sees every convolution's ReLU output and may replace it
    /// (used to split off the teacher's stimuli at the tap).
    pub fn forward_with(
        &self,
        mut x: Tensor<4>,
        mut on_conv: impl FnMut(usize, Tensor<4>) -> Tensor<4>,
    ) -> Tensor<4> {
        let mut i = 0;
        for &c in LAYOUT.iter() {
            if c == 0 {
                x = self.pool.forward(x);
            } else {
                x = relu(self.convs[i].forward(x));
                x = on_conv(i, x);
                i += 1;
            }
        }
        x
    }

    /// Output side for input side `n`.
    pub fn output_side(n: usize) -> usize {
        (0..5).fold(n, |n, _| n / 2)
    }
}

/// Tap names of the 13 convolutions (after ReLU), in depth order.
const TAP_NAMES: [&str; 13] = [
    "conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "conv7", "conv8", "conv9", "conv10",
    "conv11", "conv12", "conv13",
];

impl Backbone for Vgg16 {
    const SPEC: ModelSpec = ModelSpec {
        name: "vgg16",
        summary: "VGG-16 (configuration D), 13 convolutions conv1..conv13",
        citation: CITATION,
        taps: &[
            TapSpec {
                name: "conv1",
                depth: Depth::Early,
                module: "features.Vgg16.convs.0",
            },
            TapSpec {
                name: "conv2",
                depth: Depth::Early,
                module: "features.Vgg16.convs.1",
            },
            TapSpec {
                name: "conv3",
                depth: Depth::Early,
                module: "features.Vgg16.convs.2",
            },
            TapSpec {
                name: "conv4",
                depth: Depth::Early,
                module: "features.Vgg16.convs.3",
            },
            TapSpec {
                name: "conv5",
                depth: Depth::Middle,
                module: "features.Vgg16.convs.4",
            },
            TapSpec {
                name: "conv6",
                depth: Depth::Middle,
                module: "features.Vgg16.convs.5",
            },
            TapSpec {
                name: "conv7",
                depth: Depth::Middle,
                module: "features.Vgg16.convs.6",
            },
            TapSpec {
                name: "conv8",
                depth: Depth::Middle,
                module: "features.Vgg16.convs.7",
            },
            TapSpec {
                name: "conv9",
                depth: Depth::Middle,
                module: "features.Vgg16.convs.8",
            },
            TapSpec {
                name: "conv10",
                depth: Depth::Middle,
                module: "features.Vgg16.convs.9",
            },
            TapSpec {
                name: "conv11",
                depth: Depth::Late,
                module: "features.Vgg16.convs.10",
            },
            TapSpec {
                name: "conv12",
                depth: Depth::Late,
                module: "features.Vgg16.convs.11",
            },
            TapSpec {
                name: "conv13",
                depth: Depth::Late,
                module: "features.Vgg16.convs.12",
            },
        ],
        default_teacher_tap: "conv3",
        default_input_size: 32,
        min_input_size: 32,
        normalization: Normalization::TrainingMean,
        batch_stats: false,
    };

    /// A `decoder` head's linear layer (torchvision's VGG has none; its FC head is
    /// `classifier.0/3/6`, which the `fc4096` head takes).
    const TORCH_CLASSIFIER: Option<&'static str> = Some("classifier");

    /// `convs.3.conv.weight` → `features.7.weight`: torchvision numbers the modules of
    /// `features` (conv, ReLU, ..., max-pool) in one sequence.
    fn torch_name(path: &str) -> String {
        let Some(rest) = path.strip_prefix("convs.") else {
            return path.to_string();
        };
        let (n, tail) = rest.split_once('.').unwrap_or((rest, ""));
        let Ok(n) = n.parse::<usize>() else {
            return path.to_string();
        };
        let mut index = 0;
        let mut conv = 0;
        for &c in LAYOUT.iter() {
            if c > 0 {
                if conv == n {
                    break;
                }
                conv += 1;
                index += 2; // conv, ReLU
            } else {
                index += 1; // max-pool
            }
        }
        let tail = tail.strip_prefix("conv.").unwrap_or(tail);
        format!("features.{index}.{tail}")
    }

    fn build(_cfg: &ModelConfig, _input_size: usize, im2col: usize, device: &Device) -> Self {
        Vgg16::new(im2col, device)
    }

    fn output_shape(input_size: usize) -> (usize, usize) {
        (512, Vgg16::output_side(input_size))
    }

    fn forward_taps(
        &self,
        x: Tensor<4>,
        stop_after: Option<Tap>,
        at: &mut dyn FnMut(Tap, Tensor<4>) -> Tensor<4>,
    ) -> Tensor<4> {
        let mut x = x;
        let mut i = 0;
        for &c in LAYOUT.iter() {
            if c == 0 {
                x = self.pool.forward(x);
            } else {
                let tap = Tap::from_static(TAP_NAMES[i]);
                x = at(tap, relu(self.convs[i].forward(x))); // [batch, c, side, side]
                i += 1;
                if stop_after == Some(tap) {
                    break;
                }
            }
        }
        x
    }
}
