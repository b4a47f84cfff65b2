//! VGG-16 (Simonyan & Zisserman 2015, configuration D): 13 3x3 convolutions in five stages
//! with max-pooling, then the FC head. The teacher taps the third convolutional layer (paper
//! §3.7: in VGG-16 trained for object recognition it is the layer most similar to monkey V1).

use burn::module::Module;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::conv::Conv;

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
