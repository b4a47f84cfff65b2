//! Classifier heads: the paper's FC 4096-4096-classes with dropout, and CORnet's decoder.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::module::adaptive_avg_pool2d;
use burn::tensor::{Device, Tensor};

use super::conv::{glorot, zeros_param};

fn linear(d_in: usize, d_out: usize, device: &Device) -> Linear {
    let l = LinearConfig::new(d_in, d_out)
        .with_initializer(glorot())
        .init(device);
    Linear {
        bias: l.bias.map(|b| b.map(zeros_param)),
        ..l
    }
}

/// FC 4096 → ReLU → dropout → FC 4096 → ReLU → dropout → FC classes (AlexNet/VGG style; the
/// paper: "dropout regularization with 0.5 retention probability for the 3 fully connected
/// layers").
#[derive(Module, Debug)]
pub struct FcHead {
    /// First hidden layer.
    pub fc1: Linear,
    /// Second hidden layer.
    pub fc2: Linear,
    /// Class scores.
    pub fc3: Linear,
    /// Dropout after each hidden layer.
    pub dropout: Dropout,
}

/// CORnet's decoder: global average pool, linear.
#[derive(Module, Debug)]
pub struct Decoder {
    /// Class scores.
    pub linear: Linear,
}

/// A classifier head.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum ClassifierHead {
    /// The paper's FC head.
    Fc(FcHead),
    /// CORnet's decoder.
    Decoder(Decoder),
}

impl ClassifierHead {
    /// The FC head on `features` = channels x side x side flattened inputs.
    pub fn fc(features: usize, classes: usize, dropout: f64, device: &Device) -> Self {
        ClassifierHead::Fc(FcHead {
            fc1: linear(features, 4096, device),
            fc2: linear(4096, 4096, device),
            fc3: linear(4096, classes, device),
            dropout: DropoutConfig::new(dropout).init(),
        })
    }

    /// The decoder on `channels` inputs.
    pub fn decoder(channels: usize, classes: usize, device: &Device) -> Self {
        ClassifierHead::Decoder(Decoder {
            linear: linear(channels, classes, device),
        })
    }

    /// # Shapes
    /// - input `[batch, c, h, w]`
    /// - output `[batch, classes]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            ClassifierHead::Fc(h) => {
                let x = x.flatten::<2>(1, 3); // [batch, c*h*w]
                let x = h.dropout.forward(relu(h.fc1.forward(x)));
                let x = h.dropout.forward(relu(h.fc2.forward(x)));
                h.fc3.forward(x)
            }
            ClassifierHead::Decoder(h) => {
                let x = adaptive_avg_pool2d(x, [1, 1]).flatten::<2>(1, 3); // [batch, c]
                h.linear.forward(x)
            }
        }
    }

    /// The penultimate representation (read-out features for behavioural metrics).
    pub fn penultimate(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            ClassifierHead::Fc(h) => {
                let x = x.flatten::<2>(1, 3);
                let x = relu(h.fc1.forward(x));
                relu(h.fc2.forward(x))
            }
            ClassifierHead::Decoder(_) => adaptive_avg_pool2d(x, [1, 1]).flatten::<2>(1, 3),
        }
    }
}
