//! The model registry: one place that maps a model name to its constructor, its named taps,
//! its default input size and its input normalisation.
//!
//! Adding a model is one file under `models/` implementing [`Backbone`] (with its
//! [`ModelSpec`] as `SPEC`) and one line in the `registry!` list at the bottom of this file.
//! The all-models test (`tests/all_models.rs`) then runs forward and backward on it and checks
//! every tap's shape.

use std::fmt;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::cornet_z::CornetZ;
use super::efficientnet_b1::EfficientNetB1;
use super::resnet50::ResNet50;
use super::vgg16::Vgg16;
use crate::config::ModelConfig;

/// Where a tap sits in the hierarchy (what "early layer" means for a given model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Depth {
    /// First stage(s): the V1-like part.
    Early,
    /// Intermediate stages.
    Middle,
    /// Last feature stage(s).
    Late,
}

/// A named read-out point of a feature stack (a block's output).
#[derive(Debug, Clone, Copy)]
pub struct TapSpec {
    /// Name in configs, tables and `.npy` files (`v1`, `conv3`, ...).
    pub name: &'static str,
    /// Where it sits.
    pub depth: Depth,
    /// Path prefix of the parameters that compute it, as in the weights file
    /// (`features.CornetZ.v1`): what freezing "up to this tap" freezes last.
    pub module: &'static str,
}

/// How input pixels (in [0, 1]) are normalised before the network, per channel:
/// `(x − mean[c]) / std[c]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Normalization {
    /// Subtract the scalar mean pixel of the training images used (Federer et al. §2.4:
    /// "centred by the global mean"), resolved per run and recorded.
    TrainingMean,
    /// Fixed per-channel mean and standard deviation (e.g. ImageNet's).
    PerChannel {
        /// Channel means.
        mean: [f32; 3],
        /// Channel standard deviations.
        std: [f32; 3],
    },
}

/// Everything the rest of the program knows about a model without building it.
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    /// Registry name (`model.arch` in configs).
    pub name: &'static str,
    /// What the model is, in a few words.
    pub summary: &'static str,
    /// The paper that defines it.
    pub citation: &'static str,
    /// Taps in depth order.
    pub taps: &'static [TapSpec],
    /// The tap the V1 teacher shapes by default.
    pub default_teacher_tap: &'static str,
    /// Default (square) input side.
    pub default_input_size: usize,
    /// Smallest input side the architecture accepts.
    pub min_input_size: usize,
    /// Input normalisation.
    pub normalization: Normalization,
    /// Whether the forward pass of one image depends on the rest of the batch (BatchNorm in
    /// training mode). Without batch statistics the teacher's stimuli may share the batch's
    /// forward pass; with them they get their own pass (in evaluation mode).
    pub batch_stats: bool,
}

impl ModelSpec {
    /// The tap called `name`.
    pub fn tap(&self, name: &str) -> Option<Tap> {
        self.taps
            .iter()
            .find(|t| t.name == name)
            .map(|t| Tap(t.name))
    }

    /// Tap names, comma separated (for messages).
    pub fn tap_names(&self) -> String {
        self.taps
            .iter()
            .map(|t| t.name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A feature stack: the part of a model before its classifier head.
pub trait Backbone: Module + Sized {
    /// What the registry knows of this model.
    const SPEC: ModelSpec;

    /// A freshly initialised stack for `input_size` x `input_size` RGB input; `im2col` is the
    /// output-pixel threshold of [`super::Conv`] (0 = always Burn's conv2d).
    fn build(cfg: &ModelConfig, input_size: usize, im2col: usize, device: &Device) -> Self;

    /// For a model that follows a PyTorch reference implementation (torchvision, timm): the
    /// `state_dict` name of its classifier (`fc`, `classifier`), which the `decoder` head's
    /// linear layer takes in weight files. `None`: weight files use Burn's module paths.
    const TORCH_CLASSIFIER: Option<&'static str> = None;

    /// The reference implementation's `state_dict` name of the parameter at `path` (relative
    /// to this stack, e.g. `layer1.0.downsample.conv.weight`). Only used when
    /// [`Backbone::TORCH_CLASSIFIER`] is set.
    fn torch_name(path: &str) -> String {
        path.to_string()
    }

    /// Channels and side of the final feature map for `input_size`.
    fn output_shape(input_size: usize) -> (usize, usize);

    /// Runs the stack on `x`, handing every tap's output to `at` (which returns the tensor
    /// that continues, possibly sliced), and stops after the tap `stop_after` when given.
    ///
    /// # Shapes
    /// - input `[batch, 3, s, s]`; output `[batch', c, h, w]` (the last map computed)
    fn forward_taps(
        &self,
        x: Tensor<4>,
        stop_after: Option<Tap>,
        at: &mut dyn FnMut(Tap, Tensor<4>) -> Tensor<4>,
    ) -> Tensor<4>;
}

/// A tap of a registered model, by name (copyable; names are the registry's own strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tap(&'static str);

impl Tap {
    /// The tap called `name` in any registered model.
    pub fn parse(name: &str) -> Option<Tap> {
        MODELS.iter().find_map(|m| m.tap(name))
    }

    /// The tap's name.
    pub fn name(self) -> &'static str {
        self.0
    }

    /// A tap from a model file's own constant table (registry-internal).
    pub const fn from_static(name: &'static str) -> Tap {
        Tap(name)
    }
}

impl fmt::Display for Tap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Tap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Tap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Tap::parse(&s).ok_or_else(|| {
            let all: Vec<String> = MODELS
                .iter()
                .map(|m| format!("{}: {}", m.name, m.tap_names()))
                .collect();
            serde::de::Error::custom(format!(
                "unknown layer {s:?}; the registered models have {}",
                all.join("; ")
            ))
        })
    }
}

/// A registered model name (`model.arch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Arch(&'static ModelSpec);

impl Arch {
    /// The model called `name`.
    pub fn parse(name: &str) -> Option<Arch> {
        MODELS.iter().find(|m| m.name == name).map(|m| Arch(m))
    }

    /// Its registry entry.
    pub fn spec(self) -> &'static ModelSpec {
        self.0
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        self.0.name
    }
}

impl PartialEq for ModelSpec {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for ModelSpec {}

impl std::hash::Hash for ModelSpec {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.name.hash(h)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl Serialize for Arch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name)
    }
}

impl<'de> Deserialize<'de> for Arch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Arch::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown model {s:?}; registered: {}",
                MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
            ))
        })
    }
}

/// Generates the [`Features`] enum (one variant per registered backbone), the [`MODELS`] list
/// and the dispatch, from one line per model.
macro_rules! registry {
    ($($variant:ident => $ty:ty),* $(,)?) => {
        /// A feature stack of any registered model.
        #[derive(Module, Debug)]
        #[allow(clippy::large_enum_variant)]
        pub enum Features {
            $(
                #[doc = concat!("`", stringify!($ty), "`.")]
                $variant($ty),
            )*
        }

        /// Every registered model, in listing order.
        pub const MODELS: &[&ModelSpec] = &[$(&<$ty as Backbone>::SPEC),*];

        impl Features {
            /// Builds the registered model `arch`.
            pub fn build(
                arch: Arch,
                cfg: &ModelConfig,
                input_size: usize,
                im2col: usize,
                device: &Device,
            ) -> Self {
                $(
                    if arch.name() == <$ty as Backbone>::SPEC.name {
                        return Features::$variant(<$ty>::build(cfg, input_size, im2col, device));
                    }
                )*
                unreachable!("Arch values come from the registry")
            }

            /// The registry entry of this stack.
            pub fn spec(&self) -> &'static ModelSpec {
                match self {
                    $(Features::$variant(_) => &<$ty as Backbone>::SPEC,)*
                }
            }

            /// See [`Backbone::TORCH_CLASSIFIER`].
            pub fn torch_classifier(&self) -> Option<&'static str> {
                match self {
                    $(Features::$variant(_) => <$ty as Backbone>::TORCH_CLASSIFIER,)*
                }
            }

            /// The variant's name (the first component of its parameter paths) and
            /// [`Backbone::torch_name`] of `path` relative to it.
            pub fn torch_name(&self, path: &str) -> (&'static str, String) {
                match self {
                    $(Features::$variant(_) => (stringify!($variant), <$ty as Backbone>::torch_name(path)),)*
                }
            }

            /// Channels and side of the final feature map of model `arch` for `input_size`.
            pub fn output_shape(arch: Arch, input_size: usize) -> (usize, usize) {
                $(
                    if arch.name() == <$ty as Backbone>::SPEC.name {
                        return <$ty>::output_shape(input_size);
                    }
                )*
                unreachable!("Arch values come from the registry")
            }

            /// See [`Backbone::forward_taps`].
            pub fn forward_taps(
                &self,
                x: Tensor<4>,
                stop_after: Option<Tap>,
                at: &mut dyn FnMut(Tap, Tensor<4>) -> Tensor<4>,
            ) -> Tensor<4> {
                match self {
                    $(Features::$variant(m) => m.forward_taps(x, stop_after, at),)*
                }
            }
        }
    };
}

registry! {
    CornetZ => CornetZ,
    Vgg16 => Vgg16,
    ResNet50 => ResNet50,
    EfficientNetB1 => EfficientNetB1,
}
