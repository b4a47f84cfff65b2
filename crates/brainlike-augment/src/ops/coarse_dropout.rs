//! Cutout (`A.CoarseDropout`): `n` holes, `n` uniform in `num_holes_range`; each hole's
//! height is `max(1, int(h * U(hole_height_range)))` and width likewise from
//! `hole_width_range` (fractions of the image size, albumentations' float form), placed
//! uniformly so it lies inside the image; every pixel of a hole, in every channel, is set to
//! `fill`. Label unchanged.
//!
//! Differences: only fractional hole sizes and a constant fill (albumentations also takes
//! pixel sizes and random or inpainted fills).

use super::{Op, half};
use crate::error::{AugmentError, Result, check_pair, check_range};
use crate::image::Image;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Configuration of [`CoarseDropout`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoarseDropoutConfig {
    /// Probability (default 0.5).
    #[serde(default = "half")]
    pub p: f64,
    /// Number of holes, inclusive range, default `[1, 2]`; `[0, 0]` is the identity.
    #[serde(default = "default_holes")]
    pub num_holes_range: [usize; 2],
    /// Hole height as a fraction of the image height, default `[0.1, 0.2]`.
    #[serde(default = "default_size")]
    pub hole_height_range: [f64; 2],
    /// Hole width as a fraction of the image width, default `[0.1, 0.2]`.
    #[serde(default = "default_size")]
    pub hole_width_range: [f64; 2],
    /// Value written into the holes (default 0).
    #[serde(default)]
    pub fill: f32,
}

fn default_holes() -> [usize; 2] {
    [1, 2]
}
fn default_size() -> [f64; 2] {
    [0.1, 0.2]
}

impl Default for CoarseDropoutConfig {
    fn default() -> Self {
        Self {
            p: 0.5,
            num_holes_range: default_holes(),
            hole_height_range: default_size(),
            hole_width_range: default_size(),
            fill: 0.0,
        }
    }
}

/// Random rectangular holes.
#[derive(Debug, Clone)]
pub struct CoarseDropout {
    config: CoarseDropoutConfig,
}

impl CoarseDropout {
    /// Validates: hole counts low <= high <= 1000, size fractions in `[0, 1]`, fill in `[0, 1]`.
    pub fn new(config: CoarseDropoutConfig, key: &str) -> Result<Self> {
        let [lo, hi] = config.num_holes_range;
        if lo > hi || hi > 1000 {
            return Err(AugmentError::InvalidValue {
                key: format!("{key}.num_holes_range"),
                value: format!("[{lo}, {hi}]"),
                expected: "hole counts [low, high] with low <= high <= 1000".into(),
            });
        }
        check_pair(
            &format!("{key}.hole_height_range"),
            config.hole_height_range,
            0.0,
            1.0,
        )?;
        check_pair(
            &format!("{key}.hole_width_range"),
            config.hole_width_range,
            0.0,
            1.0,
        )?;
        check_range(&format!("{key}.fill"), f64::from(config.fill), 0.0, 1.0)?;
        Ok(Self { config })
    }
}

/// A rectangle `rows y0..y1`, `cols x0..x1` (half-open, pixels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hole {
    /// First row.
    pub y0: usize,
    /// First column.
    pub x0: usize,
    /// One past the last row.
    pub y1: usize,
    /// One past the last column.
    pub x1: usize,
}

/// Sets every pixel of `hole` (all channels) to `fill`.
pub fn fill_hole(img: &mut Image, hole: Hole, fill: f32) {
    let (h, w) = (img.height, img.width);
    for c in 0..img.channels {
        let plane = img.plane_mut(c);
        for y in hole.y0..hole.y1.min(h) {
            plane[y * w + hole.x0.min(w)..y * w + hole.x1.min(w)].fill(fill);
        }
    }
}

impl CoarseDropout {
    /// Draws the holes for an `h x w` image.
    pub fn sample_holes(&self, h: usize, w: usize, rng: &mut ChaCha8Rng) -> Vec<Hole> {
        let c = &self.config;
        let n = rng.random_range(c.num_holes_range[0]..=c.num_holes_range[1]);
        (0..n)
            .map(|_| {
                let hh =
                    ((h as f64 * super::uniform(rng, c.hole_height_range)) as usize).clamp(1, h);
                let hw =
                    ((w as f64 * super::uniform(rng, c.hole_width_range)) as usize).clamp(1, w);
                let y0 = rng.random_range(0..=h - hh);
                let x0 = rng.random_range(0..=w - hw);
                Hole {
                    y0,
                    x0,
                    y1: y0 + hh,
                    x1: x0 + hw,
                }
            })
            .collect()
    }
}

impl Op for CoarseDropout {
    fn name(&self) -> &'static str {
        "coarse_dropout"
    }
    fn apply(&self, img: &mut Image, rng: &mut ChaCha8Rng) {
        for hole in self.sample_holes(img.height, img.width, rng) {
            fill_hole(img, hole, self.config.fill);
        }
    }
}
