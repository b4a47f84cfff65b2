//! Elastic deformation (`A.ElasticTransform`, Simard et al. 2003): two fields of standard
//! normal noise (one per axis) are scaled together so their largest magnitude is 1, blurred
//! with a Gaussian of standard deviation `sigma` (replicated border, kernel radius `4 sigma`
//! as OpenCV picks for float images), multiplied by `alpha`, and used as per-pixel
//! displacements: output `(x, y)` reads the input at `(x + dx, y + dy)`, bilinear, constant
//! `fill` outside (albumentations' default border). Label unchanged.
//!
//! Differences: the noise comes from our ChaCha8 stream, not numpy's; the blur kernel is
//! folded onto the image when it is wider than the image (same values as a replicated
//! border).
//! Albumentations' defaults `alpha = 1, sigma = 50` move pixels by less than a pixel; the
//! strength is set by `alpha`.

use super::{Op, half};
use crate::error::{Result, check_range};
use crate::image::Image;
use crate::warp::sample_bilinear;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Configuration of [`Elastic`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticConfig {
    /// Probability (default 0.5).
    #[serde(default = "half")]
    pub p: f64,
    /// Displacement scale in pixels (default 1); 0 is the identity.
    #[serde(default = "one")]
    pub alpha: f64,
    /// Smoothness: standard deviation of the Gaussian blur in pixels (default 50).
    #[serde(default = "fifty")]
    pub sigma: f64,
    /// Value of pixels mapped from outside the image (default 0).
    #[serde(default)]
    pub fill: f32,
}

fn one() -> f64 {
    1.0
}
fn fifty() -> f64 {
    50.0
}

impl Default for ElasticConfig {
    fn default() -> Self {
        Self {
            p: 0.5,
            alpha: 1.0,
            sigma: 50.0,
            fill: 0.0,
        }
    }
}

/// Random elastic deformation.
#[derive(Debug, Clone)]
pub struct Elastic {
    config: ElasticConfig,
}

impl Elastic {
    /// Validates: `alpha` in `[0, 10000]`, `sigma` in `(0, 10000]` (checked as `>= 1e-3`),
    /// `fill` in `[0, 1]`.
    pub fn new(config: ElasticConfig, key: &str) -> Result<Self> {
        check_range(&format!("{key}.alpha"), config.alpha, 0.0, 1e4)?;
        check_range(&format!("{key}.sigma"), config.sigma, 1e-3, 1e4)?;
        check_range(&format!("{key}.fill"), f64::from(config.fill), 0.0, 1.0)?;
        Ok(Self { config })
    }
}

/// Folded 1-D Gaussian blur weights for a length-`n` axis with a replicated border:
/// `weights[i]` lists `(j, w)` with `sum_j w = 1`.
fn folded_kernel(n: usize, sigma: f64) -> Vec<Vec<(usize, f32)>> {
    let radius = (4.0 * sigma).round().max(1.0) as i64;
    let g: Vec<f64> = (-radius..=radius)
        .map(|t| (-(t * t) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = g.iter().sum();
    (0..n as i64)
        .map(|i| {
            let mut acc = vec![0.0f64; n];
            for (k, t) in (-radius..=radius).enumerate() {
                let j = (i + t).clamp(0, n as i64 - 1) as usize;
                acc[j] += g[k] / total;
            }
            acc.into_iter()
                .enumerate()
                .filter(|&(_, w)| w > 1e-12)
                .map(|(j, w)| (j, w as f32))
                .collect()
        })
        .collect()
}

/// Separable blur of an `h x w` field with the folded kernels.
fn blur(
    field: &[f32],
    h: usize,
    w: usize,
    ky: &[Vec<(usize, f32)>],
    kx: &[Vec<(usize, f32)>],
) -> Vec<f32> {
    let mut tmp = vec![0.0f32; h * w];
    for y in 0..h {
        let row = &field[y * w..(y + 1) * w];
        for (x, ks) in kx.iter().enumerate() {
            tmp[y * w + x] = ks.iter().map(|&(j, k)| row[j] * k).sum();
        }
    }
    let mut out = vec![0.0f32; h * w];
    for (y, ks) in ky.iter().enumerate() {
        for &(j, k) in ks {
            let src = &tmp[j * w..(j + 1) * w];
            for (o, s) in out[y * w..(y + 1) * w].iter_mut().zip(src) {
                *o += k * s;
            }
        }
    }
    out
}

/// Warps `img` by the displacement fields `dx`, `dy` (each `h x w`).
pub fn remap_displaced(img: &Image, dx: &[f32], dy: &[f32], fill: f32) -> Image {
    let (h, w) = (img.height, img.width);
    let mut out = Image::zeros(img.channels, h, w);
    for c in 0..img.channels {
        let src = img.plane(c);
        let dst = out.plane_mut(c);
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                dst[i] = sample_bilinear(
                    src,
                    h,
                    w,
                    x as f64 + f64::from(dx[i]),
                    y as f64 + f64::from(dy[i]),
                    fill,
                );
            }
        }
    }
    out
}

impl Op for Elastic {
    fn name(&self) -> &'static str {
        "elastic"
    }
    fn apply(&self, img: &mut Image, rng: &mut ChaCha8Rng) {
        let c = &self.config;
        if c.alpha == 0.0 {
            return;
        }
        let (h, w) = (img.height, img.width);
        let mut fields: Vec<f32> = (0..2 * h * w)
            .map(|_| rng.sample::<f32, _>(StandardNormal))
            .collect();
        let max_abs = fields.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if max_abs > 1e-6 {
            fields.iter_mut().for_each(|v| *v /= max_abs);
        }
        let (ky, kx) = (folded_kernel(h, c.sigma), folded_kernel(w, c.sigma));
        let alpha = c.alpha as f32;
        let dx: Vec<f32> = blur(&fields[..h * w], h, w, &ky, &kx)
            .into_iter()
            .map(|v| v * alpha)
            .collect();
        let dy: Vec<f32> = blur(&fields[h * w..], h, w, &ky, &kx)
            .into_iter()
            .map(|v| v * alpha)
            .collect();
        *img = remap_displaced(img, &dx, &dy, c.fill);
    }
}
