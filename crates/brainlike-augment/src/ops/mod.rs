//! The augmentation operations, one file each. Every op is a value built from its serde
//! configuration ([`OpConfig`]), `Send + Sync`, and a pure function of the image and the
//! random generator it is handed (no global state), so data-loader threads can share one.
//!
//! Definitions follow albumentations 2.0.8 on `float32` images (values in `0..=1`); each
//! file says what the op does to pixels and labels and where it differs.

use crate::error::{Result, check_pair, check_range};
use crate::image::Image;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub mod brightness_contrast;
pub mod coarse_dropout;
pub mod elastic;
pub mod gauss_noise;
pub mod horizontal_flip;
pub mod iso_noise;
pub mod motion_blur;
pub mod random_resized_crop;
pub mod shift_scale_rotate;

pub use brightness_contrast::{BrightnessContrast, BrightnessContrastConfig};
pub use coarse_dropout::{CoarseDropout, CoarseDropoutConfig};
pub use elastic::{Elastic, ElasticConfig};
pub use gauss_noise::{GaussNoise, GaussNoiseConfig};
pub use horizontal_flip::{HorizontalFlip, HorizontalFlipConfig};
pub use iso_noise::{IsoNoise, IsoNoiseConfig};
pub use motion_blur::{MotionBlur, MotionBlurConfig};
pub use random_resized_crop::{RandomResizedCrop, RandomResizedCropConfig};
pub use shift_scale_rotate::{ShiftScaleRotate, ShiftScaleRotateConfig};

/// One augmentation operation. It draws its own random parameters from `rng`.
pub trait Op: Send + Sync + std::fmt::Debug {
    /// Short name written in previews and logs (the configuration's `kind`).
    fn name(&self) -> &'static str;
    /// Transforms `img` in place (the size may change: RandomResizedCrop).
    fn apply(&self, img: &mut Image, rng: &mut ChaCha8Rng);
}

/// One entry of `[[augment.ops]]`: `kind` picks the op, `p` is its probability, the other
/// keys are the op's strengths (albumentations' names and defaults unless said otherwise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpConfig {
    /// `A.ShiftScaleRotate` (an `A.Affine`).
    ShiftScaleRotate(ShiftScaleRotateConfig),
    /// `A.ElasticTransform`.
    Elastic(ElasticConfig),
    /// `A.RandomBrightnessContrast`.
    BrightnessContrast(BrightnessContrastConfig),
    /// `A.MotionBlur`.
    MotionBlur(MotionBlurConfig),
    /// `A.CoarseDropout` (cutout).
    CoarseDropout(CoarseDropoutConfig),
    /// `A.GaussNoise`.
    GaussNoise(GaussNoiseConfig),
    /// `A.ISONoise`.
    IsoNoise(IsoNoiseConfig),
    /// `A.HorizontalFlip`.
    HorizontalFlip(HorizontalFlipConfig),
    /// `A.RandomResizedCrop`.
    RandomResizedCrop(RandomResizedCropConfig),
}

impl OpConfig {
    /// The op's `kind` (its name in configurations and previews).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ShiftScaleRotate(_) => "shift_scale_rotate",
            Self::Elastic(_) => "elastic",
            Self::BrightnessContrast(_) => "brightness_contrast",
            Self::MotionBlur(_) => "motion_blur",
            Self::CoarseDropout(_) => "coarse_dropout",
            Self::GaussNoise(_) => "gauss_noise",
            Self::IsoNoise(_) => "iso_noise",
            Self::HorizontalFlip(_) => "horizontal_flip",
            Self::RandomResizedCrop(_) => "random_resized_crop",
        }
    }

    /// The op's probability `p`.
    pub fn p(&self) -> f64 {
        match self {
            Self::ShiftScaleRotate(c) => c.p,
            Self::Elastic(c) => c.p,
            Self::BrightnessContrast(c) => c.p,
            Self::MotionBlur(c) => c.p,
            Self::CoarseDropout(c) => c.p,
            Self::GaussNoise(c) => c.p,
            Self::IsoNoise(c) => c.p,
            Self::HorizontalFlip(c) => c.p,
            Self::RandomResizedCrop(c) => c.p,
        }
    }

    /// Validates every value (naming `key`, e.g. `augment.ops[3]`, in errors) and builds the op.
    pub fn build(&self, key: &str) -> Result<Box<dyn Op>> {
        check_range(&format!("{key}.p"), self.p(), 0.0, 1.0)?;
        Ok(match self {
            Self::ShiftScaleRotate(c) => Box::new(ShiftScaleRotate::new(c.clone(), key)?),
            Self::Elastic(c) => Box::new(Elastic::new(c.clone(), key)?),
            Self::BrightnessContrast(c) => Box::new(BrightnessContrast::new(c.clone(), key)?),
            Self::MotionBlur(c) => Box::new(MotionBlur::new(c.clone(), key)?),
            Self::CoarseDropout(c) => Box::new(CoarseDropout::new(c.clone(), key)?),
            Self::GaussNoise(c) => Box::new(GaussNoise::new(c.clone(), key)?),
            Self::IsoNoise(c) => Box::new(IsoNoise::new(c.clone(), key)?),
            Self::HorizontalFlip(c) => Box::new(HorizontalFlip::new(c.clone(), key)?),
            Self::RandomResizedCrop(c) => Box::new(RandomResizedCrop::new(c.clone(), key)?),
        })
    }
}

/// Uniform draw from `[lo, hi]` (returns `lo` when the range is a point, drawing nothing
/// then, so a zero-width range is exactly the identity's parameter).
#[inline]
pub(crate) fn uniform(rng: &mut ChaCha8Rng, range: [f64; 2]) -> f64 {
    if range[0] >= range[1] {
        range[0]
    } else {
        rng.random_range(range[0]..=range[1])
    }
}

/// Validates a symmetric-able limit pair within `[min, max]`.
pub(crate) fn check_limit(key: &str, pair: [f64; 2], min: f64, max: f64) -> Result<()> {
    check_pair(key, pair, min, max)
}

/// Default probability of most ops (albumentations' default `p`).
pub(crate) fn half() -> f64 {
    0.5
}
