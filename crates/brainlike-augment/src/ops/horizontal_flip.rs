//! Horizontal flip (`A.HorizontalFlip`): mirrors every row left-right. Label unchanged.
//! Identical to albumentations (it has no parameters besides `p`).

use super::{Op, half};
use crate::error::Result;
use crate::image::Image;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Configuration of [`HorizontalFlip`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HorizontalFlipConfig {
    /// Probability (default 0.5).
    #[serde(default = "half")]
    pub p: f64,
}

impl Default for HorizontalFlipConfig {
    fn default() -> Self {
        Self { p: 0.5 }
    }
}

/// Mirrors the image left-right.
#[derive(Debug, Clone)]
pub struct HorizontalFlip;

impl HorizontalFlip {
    /// Builds the op (nothing to validate beyond `p`, checked by the caller).
    pub fn new(_config: HorizontalFlipConfig, _key: &str) -> Result<Self> {
        Ok(Self)
    }
}

/// Mirrors `img` left-right in place.
pub fn hflip(img: &mut Image) {
    let w = img.width;
    for row in img.pixels.chunks_mut(w) {
        row.reverse();
    }
}

impl Op for HorizontalFlip {
    fn name(&self) -> &'static str {
        "horizontal_flip"
    }
    fn apply(&self, img: &mut Image, _rng: &mut ChaCha8Rng) {
        hflip(img);
    }
}
