//! The image the ops work on: planar (channel-major) `f32` in `0.0..=1.0`.
//!
//! This is albumentations' `float32` convention (its "max value" is 1.0), so brightness
//! offsets, noise standard deviations and fill values read the same as in albumentations.
//! The project's data sets hand out planar `3 x h x w` `u8` ([`Image::from_planar_u8`]);
//! the trainer wants planar `f32` ([`Image::pixels`] is already that, scaled to 0..=1).

use crate::error::{AugmentError, Result};

/// A planar `channels x height x width` image with values in `0.0..=1.0`.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// `channels * height * width` values, channel-major then row-major.
    pub pixels: Vec<f32>,
    /// Number of channels (3 for RGB; the colour ops require 3).
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

impl Image {
    /// A black image.
    pub fn zeros(channels: usize, height: usize, width: usize) -> Self {
        Self {
            pixels: vec![0.0; channels * height * width],
            channels,
            height,
            width,
        }
    }

    /// Wraps planar `f32` values, checking the length.
    pub fn from_planar_f32(
        pixels: Vec<f32>,
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Self> {
        if pixels.len() != channels * height * width {
            return Err(AugmentError::BadImage {
                what: "planar f32 buffer".into(),
                detail: format!(
                    "{} values, expected {channels} x {height} x {width}",
                    pixels.len()
                ),
            });
        }
        Ok(Self {
            pixels,
            channels,
            height,
            width,
        })
    }

    /// Converts planar `3 x h x w` (or `c x h x w`) bytes, dividing by 255.
    pub fn from_planar_u8(
        bytes: &[u8],
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Self> {
        if bytes.len() != channels * height * width {
            return Err(AugmentError::BadImage {
                what: "planar u8 buffer".into(),
                detail: format!(
                    "{} bytes, expected {channels} x {height} x {width}",
                    bytes.len()
                ),
            });
        }
        let pixels = bytes
            .iter()
            .map(|&b| f32::from(b) * (1.0 / 255.0))
            .collect();
        Ok(Self {
            pixels,
            channels,
            height,
            width,
        })
    }

    /// Planar bytes: values clamped to `0..=1`, times 255, rounded to nearest.
    pub fn to_planar_u8(&self) -> Vec<u8> {
        self.pixels
            .iter()
            .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect()
    }

    /// Interleaved (`h x w x c`) bytes, e.g. for a PNG.
    pub fn to_interleaved_u8(&self) -> Vec<u8> {
        let plane = self.height * self.width;
        let mut out = vec![0u8; self.pixels.len()];
        for c in 0..self.channels {
            for i in 0..plane {
                out[i * self.channels + c] =
                    (self.pixels[c * plane + i].clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        }
        out
    }

    /// Builds from interleaved (`h x w x c`) `f32` values (numpy/albumentations layout).
    pub fn from_interleaved_f32(
        values: &[f32],
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Self> {
        if values.len() != channels * height * width {
            return Err(AugmentError::BadImage {
                what: "interleaved f32 buffer".into(),
                detail: format!(
                    "{} values, expected {height} x {width} x {channels}",
                    values.len()
                ),
            });
        }
        let plane = height * width;
        let mut pixels = vec![0.0; values.len()];
        for i in 0..plane {
            for c in 0..channels {
                pixels[c * plane + i] = values[i * channels + c];
            }
        }
        Ok(Self {
            pixels,
            channels,
            height,
            width,
        })
    }

    /// The planar `f32` values (`0..=1`), without copying.
    pub fn into_planar_f32(self) -> Vec<f32> {
        self.pixels
    }

    /// Writes `(value - mean[c]) / std[c]` per channel into `out` (planar, same length as
    /// [`Image::pixels`]), the usual normalisation before a network; `mean` and `std` are in
    /// the same `0..=1` units (e.g. ImageNet's `[0.485, 0.456, 0.406]`, `[0.229, 0.224, 0.225]`).
    ///
    /// # Panics
    /// If `out` has the wrong length or `mean`/`std` have fewer entries than channels.
    pub fn normalize_into(&self, mean: &[f32], std: &[f32], out: &mut [f32]) {
        assert_eq!(
            out.len(),
            self.pixels.len(),
            "normalize_into: output length"
        );
        let n = self.height * self.width;
        for c in 0..self.channels {
            let (m, inv) = (mean[c], 1.0 / std[c]);
            for (o, &v) in out[c * n..(c + 1) * n].iter_mut().zip(self.plane(c)) {
                *o = (v - m) * inv;
            }
        }
    }

    /// One channel's plane.
    pub fn plane(&self, c: usize) -> &[f32] {
        let n = self.height * self.width;
        &self.pixels[c * n..(c + 1) * n]
    }

    /// One channel's plane, mutably.
    pub fn plane_mut(&mut self, c: usize) -> &mut [f32] {
        let n = self.height * self.width;
        &mut self.pixels[c * n..(c + 1) * n]
    }

    /// Value at channel `c`, row `y`, column `x`.
    pub fn get(&self, c: usize, y: usize, x: usize) -> f32 {
        self.pixels[(c * self.height + y) * self.width + x]
    }

    /// Mean over all values.
    pub fn mean(&self) -> f64 {
        self.pixels.iter().map(|&v| f64::from(v)).sum::<f64>() / self.pixels.len().max(1) as f64
    }
}
