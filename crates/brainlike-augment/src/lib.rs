//! Framework-free image augmentation for the brainlike project (issue 14): the "heavy
//! augmentations" of Riedel (2022), "Bag of Tricks for Training Brain-Like Deep Neural
//! Networks" (shift/scale/rotate, elastic deformation, brightness and contrast, motion blur,
//! cutout, Gaussian and ISO noise, plus horizontal flip and RandomResizedCrop), defined as in
//! albumentations 2.0.8; CutMix and the paper's Foreground-CutMix with soft targets; and a
//! preview grid a person can look at.
//!
//! Images are planar `f32` in `0..=1` ([`Image`]). A [`Pipeline`] is built once from an
//! [`AugmentConfig`] and is `Send + Sync`; [`Pipeline::apply`] is a pure function of the image
//! and a per-sample seed ([`sample_seed`]), so data-loader threads can share it and a resumed
//! run sees the same images.
#![warn(missing_docs)]

pub mod error;
pub mod image;
pub mod mix;
pub mod ops;
pub mod pipeline;
pub mod preview;
pub mod source_crop;
mod warp;

pub use error::{AugmentError, Result};
pub use image::Image;
pub use mix::{CutBox, MixConfig, MixKind, MixOutcome, mix_batch};
pub use ops::{Op, OpConfig};
pub use pipeline::{AugmentConfig, Pipeline, sample_seed};
pub use preview::{PreviewOptions, PreviewSource, write_preview};
pub use source_crop::{SourceCrop, SourceCropConfig, SourceCropper};
