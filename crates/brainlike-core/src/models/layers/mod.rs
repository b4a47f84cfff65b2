//! Layers of the ImageNet families (ResNet, EfficientNet), one file each, with PyTorch's
//! semantics and parameter names (`weight`, `bias`, `running_mean`, ...), so that a
//! torchvision/timm `state_dict` maps onto them name for name.
//!
//! Training or evaluation behaviour (BatchNorm statistics, drop path) follows [`mode`]: a
//! forward pass on an autodiff device trains unless it runs inside [`mode::eval_scope`].

pub mod activation;
pub mod batch_norm;
pub mod conv2d;
pub mod conv_bn_act;
pub mod drop_path;
#[cfg(feature = "tch")]
pub mod libtorch;
pub mod mode;
pub mod pool;
pub mod squeeze_excite;

pub use batch_norm::BatchNorm2d;
pub use conv_bn_act::{Act, conv_bn_act, conv_bn_add_act};
pub use conv2d::{conv2d, forward as conv_forward};
pub use drop_path::DropPath;
pub use squeeze_excite::SqueezeExcite;
