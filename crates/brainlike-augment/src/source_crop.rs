//! Train-time `RandomResizedCrop` + horizontal flip taken from an image's full-resolution
//! source (torchvision's ImageNet training transform `RandomResizedCrop(size, scale, ratio)` +
//! `RandomHorizontalFlip()`), configured as `[augment] random_resized_crop = { ... }`.
//!
//! Unlike the `random_resized_crop` op of `[[augment.ops]]`, which crops the image the data set
//! hands out (for image folders: already resized to the input size), this crop is drawn on the
//! decoded source at its own resolution and only then resized to the input size, so a small
//! crop keeps its detail. The box follows torchvision's `RandomResizedCrop.get_params`: up to
//! ten tries of an area fraction `U(scale)` and an aspect ratio `exp(U(ln ratio))`,
//! `w = round(sqrt(A r))`, `h = round(sqrt(A / r))`, placed uniformly when it fits; otherwise
//! the centred crop with the aspect ratio clamped into `ratio`. Where the data set applies it
//! and how it resizes: `brainlike-core`'s `Dataset::image_source_crop`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ops::random_resized_crop::{RandomResizedCrop, RandomResizedCropConfig};

/// `[augment] random_resized_crop = { scale = [0.08, 1.0], ratio = [0.75, 1.3333], hflip = true }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceCropConfig {
    /// Range of the crop's area fraction of the source, default `[0.08, 1]`.
    #[serde(default = "default_scale")]
    pub scale: [f64; 2],
    /// Range of the crop's aspect ratio (width / height), default `[3/4, 4/3]`.
    #[serde(default = "default_ratio")]
    pub ratio: [f64; 2],
    /// Flip horizontally with probability 0.5 (torchvision's `RandomHorizontalFlip()`),
    /// default true.
    #[serde(default = "yes")]
    pub hflip: bool,
}

fn default_scale() -> [f64; 2] {
    [0.08, 1.0]
}
fn default_ratio() -> [f64; 2] {
    [0.75, 4.0 / 3.0]
}
fn yes() -> bool {
    true
}

impl Default for SourceCropConfig {
    fn default() -> Self {
        Self {
            scale: default_scale(),
            ratio: default_ratio(),
            hflip: true,
        }
    }
}

/// One sampled crop: rows `y0..y0 + h`, columns `x0..x0 + w` of the source, then a flip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceCrop {
    /// Top row.
    pub y0: usize,
    /// Left column.
    pub x0: usize,
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
    /// Flip the resized crop left to right.
    pub flip: bool,
}

/// A validated [`SourceCropConfig`].
#[derive(Debug, Clone)]
pub struct SourceCropper {
    crop: RandomResizedCrop,
    hflip: bool,
}

impl SourceCropConfig {
    /// Validates (`scale` within `(0, 1]`, `ratio` within `(0, 100]`, both ordered); `key`
    /// names the table in errors (`augment.random_resized_crop`).
    pub fn build(&self, key: &str) -> Result<SourceCropper> {
        let crop = RandomResizedCrop::new(
            RandomResizedCropConfig {
                p: 1.0,
                size: None,
                scale: self.scale,
                ratio: self.ratio,
            },
            key,
        )?;
        Ok(SourceCropper {
            crop,
            hflip: self.hflip,
        })
    }
}

impl SourceCropper {
    /// The crop of an `h x w` source for per-sample seed `seed` (the same seed always gives
    /// the same crop): the box as torchvision draws it, then the flip.
    pub fn sample(&self, h: usize, w: usize, seed: u64) -> SourceCrop {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (y0, x0, ch, cw) = self.crop.sample_crop(h, w, &mut rng);
        let flip = self.hflip && rng.random::<f64>() < 0.5;
        SourceCrop {
            y0,
            x0,
            h: ch,
            w: cw,
            flip,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cropper(scale: [f64; 2], ratio: [f64; 2]) -> SourceCropper {
        SourceCropConfig {
            scale,
            ratio,
            hflip: true,
        }
        .build("augment.random_resized_crop")
        .unwrap()
    }

    #[test]
    fn boxes_follow_torchvision_definition() {
        let c = cropper([0.08, 1.0], [0.75, 4.0 / 3.0]);
        let (h, w) = (375usize, 500usize);
        let mut flips = 0;
        for seed in 0..2000 {
            let b = c.sample(h, w, seed);
            assert!(
                b.h >= 1 && b.w >= 1 && b.y0 + b.h <= h && b.x0 + b.w <= w,
                "{b:?}"
            );
            flips += b.flip as usize;
            let full = b.h == h && b.w == w;
            if !full {
                // A box drawn in the loop: area and aspect inside the ranges up to rounding
                // of w and h to whole pixels.
                let area = (b.h * b.w) as f64 / (h * w) as f64;
                let tol_a = (b.h + b.w + 1) as f64 / (h * w) as f64;
                assert!(
                    area >= 0.08 - tol_a && area <= 1.0 + tol_a,
                    "{b:?} area {area}"
                );
                let r = b.w as f64 / b.h as f64;
                let tol_r = r * (1.0 / b.w as f64 + 1.0 / b.h as f64);
                assert!(
                    r >= 0.75 - tol_r && r <= 4.0 / 3.0 + tol_r,
                    "{b:?} ratio {r}"
                );
            }
        }
        assert!((800..1200).contains(&flips), "{flips} flips in 2000");
    }

    #[test]
    fn fallback_is_centre_crop_with_clamped_ratio() {
        // scale 1 with a ratio range that a 100x300 source (ratio 3) cannot meet: every try
        // fails, the fallback keeps the full height and width = round(h · 4/3).
        let c = cropper([1.0, 1.0], [0.75, 4.0 / 3.0]);
        let b = c.sample(100, 300, 7);
        assert_eq!((b.y0, b.x0, b.h, b.w), (0, (300 - 133) / 2, 100, 133));
        // A tall source (ratio 1/4): full width, height = round(w / 0.75).
        let b = c.sample(400, 100, 7);
        assert_eq!((b.y0, b.x0, b.h, b.w), ((400 - 133) / 2, 0, 133, 100));
        // Ratio inside the range: the whole image.
        let b = c.sample(100, 110, 7);
        assert_eq!((b.y0, b.x0, b.h, b.w), (0, 0, 100, 110));
    }

    #[test]
    fn deterministic_per_seed() {
        let c = cropper([0.08, 1.0], [0.75, 4.0 / 3.0]);
        assert_eq!(c.sample(240, 320, 42), c.sample(240, 320, 42));
        let distinct: std::collections::HashSet<_> = (0..50)
            .map(|s| {
                let b = c.sample(240, 320, s);
                (b.y0, b.x0, b.h, b.w)
            })
            .collect();
        assert!(distinct.len() > 40);
    }

    #[test]
    fn rejects_bad_ranges() {
        let err = SourceCropConfig {
            scale: [0.5, 0.1],
            ..Default::default()
        }
        .build("augment.random_resized_crop")
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("augment.random_resized_crop.scale")
        );
    }
}
