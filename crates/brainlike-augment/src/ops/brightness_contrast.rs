//! Brightness and contrast (`A.RandomBrightnessContrast`): `out = clip(alpha * img + beta, 0, 1)`
//! with `alpha = 1 + U(contrast_limit)` and `beta = U(brightness_limit)` (times the image
//! mean instead of the maximum 1.0 when `brightness_by_max = false`). Same for every channel.
//! Label unchanged. Same as albumentations 2.0.8 on float images (its `ensure_safe_range`
//! option is not offered).

use super::{Op, check_limit, half, uniform};
use crate::error::Result;
use crate::image::Image;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Configuration of [`BrightnessContrast`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrightnessContrastConfig {
    /// Probability (default 0.5).
    #[serde(default = "half")]
    pub p: f64,
    /// Range of the additive brightness `beta` (fraction of the maximum value), default `[-0.2, 0.2]`.
    #[serde(default = "default_limit")]
    pub brightness_limit: [f64; 2],
    /// Range of `alpha - 1` (contrast factor minus one), default `[-0.2, 0.2]`.
    #[serde(default = "default_limit")]
    pub contrast_limit: [f64; 2],
    /// Brightness relative to the maximum value (true, default) or to the image mean.
    #[serde(default = "yes")]
    pub brightness_by_max: bool,
}

fn default_limit() -> [f64; 2] {
    [-0.2, 0.2]
}
fn yes() -> bool {
    true
}

impl Default for BrightnessContrastConfig {
    fn default() -> Self {
        Self {
            p: 0.5,
            brightness_limit: default_limit(),
            contrast_limit: default_limit(),
            brightness_by_max: true,
        }
    }
}

/// Random brightness and contrast change.
#[derive(Debug, Clone)]
pub struct BrightnessContrast {
    config: BrightnessContrastConfig,
}

impl BrightnessContrast {
    /// Validates the limits (each within `[-1, 1]`, low <= high).
    pub fn new(config: BrightnessContrastConfig, key: &str) -> Result<Self> {
        check_limit(
            &format!("{key}.brightness_limit"),
            config.brightness_limit,
            -1.0,
            1.0,
        )?;
        check_limit(
            &format!("{key}.contrast_limit"),
            config.contrast_limit,
            -1.0,
            1.0,
        )?;
        Ok(Self { config })
    }
}

/// `img = clip(alpha * img + beta, 0, 1)`: the deterministic core of the op.
pub fn multiply_add(img: &mut Image, alpha: f32, beta: f32) {
    for v in &mut img.pixels {
        *v = (alpha * *v + beta).clamp(0.0, 1.0);
    }
}

impl Op for BrightnessContrast {
    fn name(&self) -> &'static str {
        "brightness_contrast"
    }
    fn apply(&self, img: &mut Image, rng: &mut ChaCha8Rng) {
        let alpha = 1.0 + uniform(rng, self.config.contrast_limit);
        let mut beta = uniform(rng, self.config.brightness_limit);
        if !self.config.brightness_by_max {
            beta *= img.mean();
        }
        multiply_add(img, alpha as f32, beta as f32);
    }
}
