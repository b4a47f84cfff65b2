//! Random resized crop (`A.RandomResizedCrop`, the torchvision/Inception crop): up to ten
//! tries draw an area fraction `U(scale)` of the image and an aspect ratio
//! `exp(U(ln ratio))`, giving `w = round(sqrt(A r))`, `h = round(sqrt(A / r))`; the first
//! that fits is placed uniformly. If none fits, the largest centred crop with the ratio
//! clamped into `ratio` is used. The crop is resized bilinearly (OpenCV `INTER_LINEAR`
//! half-pixel convention) to `size`. Label unchanged (the crop may lose the object; that is
//! the point of the op).
//!
//! Differences: `size` may be omitted to keep the input size; bilinear only.

use super::{Op, check_limit};
use crate::error::{AugmentError, Result};
use crate::image::Image;
use crate::warp::resize_crop_bilinear;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Configuration of [`RandomResizedCrop`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomResizedCropConfig {
    /// Probability (default 1, as albumentations).
    #[serde(default = "one")]
    pub p: f64,
    /// Output `[height, width]`; absent keeps the input size.
    #[serde(default)]
    pub size: Option<[usize; 2]>,
    /// Range of the crop's area fraction, default `[0.08, 1]`.
    #[serde(default = "default_scale")]
    pub scale: [f64; 2],
    /// Range of the crop's aspect ratio (width / height), default `[3/4, 4/3]`.
    #[serde(default = "default_ratio")]
    pub ratio: [f64; 2],
}

fn one() -> f64 {
    1.0
}
fn default_scale() -> [f64; 2] {
    [0.08, 1.0]
}
fn default_ratio() -> [f64; 2] {
    [0.75, 4.0 / 3.0]
}

impl Default for RandomResizedCropConfig {
    fn default() -> Self {
        Self {
            p: 1.0,
            size: None,
            scale: default_scale(),
            ratio: default_ratio(),
        }
    }
}

/// Random crop, resized.
#[derive(Debug, Clone)]
pub struct RandomResizedCrop {
    config: RandomResizedCropConfig,
}

impl RandomResizedCrop {
    /// Validates: `scale` within `(0, 1]`, `ratio` within `(0, 100]`, `size` positive.
    pub fn new(config: RandomResizedCropConfig, key: &str) -> Result<Self> {
        check_limit(&format!("{key}.scale"), config.scale, 1e-6, 1.0)?;
        check_limit(&format!("{key}.ratio"), config.ratio, 1e-3, 100.0)?;
        if let Some([h, w]) = config.size
            && (h == 0 || w == 0)
        {
            return Err(AugmentError::InvalidValue {
                key: format!("{key}.size"),
                value: format!("[{h}, {w}]"),
                expected: "a positive [height, width]".into(),
            });
        }
        Ok(Self { config })
    }

    /// Draws the crop `(y0, x0, crop_h, crop_w)` for an `h x w` image.
    pub fn sample_crop(
        &self,
        h: usize,
        w: usize,
        rng: &mut ChaCha8Rng,
    ) -> (usize, usize, usize, usize) {
        let c = &self.config;
        let area = (h * w) as f64;
        let log_ratio = [c.ratio[0].ln(), c.ratio[1].ln()];
        for _ in 0..10 {
            let target = area * super::uniform(rng, c.scale);
            let aspect = super::uniform(rng, log_ratio).exp();
            let cw = (target * aspect).sqrt().round() as usize;
            let ch = (target / aspect).sqrt().round() as usize;
            if cw > 0 && cw <= w && ch > 0 && ch <= h {
                let y0 = rng.random_range(0..=h - ch);
                let x0 = rng.random_range(0..=w - cw);
                return (y0, x0, ch, cw);
            }
        }
        // Fallback: centre crop.
        let in_ratio = w as f64 / h as f64;
        let (cw, ch) = if in_ratio < c.ratio[0] {
            (w, ((w as f64 / c.ratio[0]).round() as usize).clamp(1, h))
        } else if in_ratio > c.ratio[1] {
            (((h as f64 * c.ratio[1]).round() as usize).clamp(1, w), h)
        } else {
            (w, h)
        };
        ((h - ch) / 2, (w - cw) / 2, ch, cw)
    }
}

/// Crops `rows y0..y0+ch`, `cols x0..x0+cw` and resizes bilinearly to `out_h x out_w`.
pub fn crop_resize(
    img: &Image,
    crop: (usize, usize, usize, usize),
    out_h: usize,
    out_w: usize,
) -> Image {
    resize_crop_bilinear(img, crop, out_h, out_w)
}

impl Op for RandomResizedCrop {
    fn name(&self) -> &'static str {
        "random_resized_crop"
    }
    fn apply(&self, img: &mut Image, rng: &mut ChaCha8Rng) {
        let [oh, ow] = self.config.size.unwrap_or([img.height, img.width]);
        let crop = self.sample_crop(img.height, img.width, rng);
        *img = crop_resize(img, crop, oh, ow);
    }
}
