//! Gaussian noise (`A.GaussNoise`): a standard deviation `std = U(std_range)` and mean
//! `mean = U(mean_range)` (both as fractions of the maximum value 1.0) are drawn per image;
//! every pixel of every channel (`per_channel = true`, albumentations' default) gets
//! independent `N(mean, std)` noise added; the result is clipped to `0..=1`. Label unchanged.
//!
//! Differences: no `per_channel = false` or `noise_scale_factor` (always full resolution);
//! the noise comes from ChaCha8, not numpy. Albumentations 2.0's default `std_range`
//! `[0.2, 0.44]` is far stronger than the 1.x default the paper (2022) used
//! (`var_limit = (10, 50)` on 0..255, i.e. std 0.012..0.028); our default is the 2.0 one, and
//! [`crate::AugmentConfig::paper_heavy`] uses the 1.x strength.

use super::{Op, half, uniform};
use crate::error::{Result, check_pair};
use crate::image::Image;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Configuration of [`GaussNoise`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaussNoiseConfig {
    /// Probability (default 0.5).
    #[serde(default = "half")]
    pub p: f64,
    /// Range of the noise standard deviation, default `[0.2, 0.44]`; `[0, 0]` is the identity.
    #[serde(default = "default_std")]
    pub std_range: [f64; 2],
    /// Range of the noise mean, default `[0, 0]`.
    #[serde(default)]
    pub mean_range: [f64; 2],
}

fn default_std() -> [f64; 2] {
    [0.2, 0.44]
}

impl Default for GaussNoiseConfig {
    fn default() -> Self {
        Self {
            p: 0.5,
            std_range: default_std(),
            mean_range: [0.0, 0.0],
        }
    }
}

/// Additive Gaussian noise.
#[derive(Debug, Clone)]
pub struct GaussNoise {
    config: GaussNoiseConfig,
}

impl GaussNoise {
    /// Validates: `std_range` within `[0, 1]`, `mean_range` within `[-1, 1]`.
    pub fn new(config: GaussNoiseConfig, key: &str) -> Result<Self> {
        check_pair(&format!("{key}.std_range"), config.std_range, 0.0, 1.0)?;
        check_pair(&format!("{key}.mean_range"), config.mean_range, -1.0, 1.0)?;
        Ok(Self { config })
    }
}

impl Op for GaussNoise {
    fn name(&self) -> &'static str {
        "gauss_noise"
    }
    fn apply(&self, img: &mut Image, rng: &mut ChaCha8Rng) {
        let std = uniform(rng, self.config.std_range) as f32;
        let mean = uniform(rng, self.config.mean_range) as f32;
        if std == 0.0 && mean == 0.0 {
            return;
        }
        for v in &mut img.pixels {
            let z: f32 = rng.sample(StandardNormal);
            *v = (*v + mean + std * z).clamp(0.0, 1.0);
        }
    }
}
