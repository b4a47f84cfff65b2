//! Elastic deformation (`A.ElasticTransform`, Simard et al. 2003): two fields of standard
//! normal noise (one per axis) are scaled together so their largest magnitude is 1, blurred
//! with a Gaussian of standard deviation `sigma` (replicated border, kernel radius `4 sigma`
//! as OpenCV picks for float images), multiplied by `alpha`, and used as per-pixel
//! displacements: output `(x, y)` reads the input at `(x + dx, y + dy)`, bilinear, constant
//! `fill` outside (albumentations' default border). Label unchanged.
//!
//! Differences: the noise comes from our ChaCha8 stream, not numpy's. Albumentations 2.0.8
//! blurs the two fields stacked as one `2h x w` image, so its vertical blur leaks the x field
//! into the y field across the seam (with `sigma` near the image size the two become nearly
//! equal, a mostly diagonal shear); we blur each field on its own, as Simard et al. and
//! albumentations' own docs describe. Given the same noise, our output equals OpenCV's
//! per-field `GaussianBlur` followed by albumentations' `remap` (fixture test). The blur
//! kernel is folded onto the image when it is wider than the image (the same values as a
//! replicated border).
//! Albumentations' defaults `alpha = 1, sigma = 50` move pixels by less than a pixel; the
//! strength is set by `alpha`.

use super::{Op, half};
use crate::error::{Result, check_range};
use crate::image::Image;
use crate::warp::remap_with;
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

/// Folded 1-D Gaussian blur matrix for a length-`n` axis with a replicated border, stored
/// transposed: `kt[j * n + i]` is the weight of input `j` in output `i` (each output's
/// weights sum to 1).
fn folded_kernel_t(n: usize, sigma: f64) -> Vec<f32> {
    let radius = (4.0 * sigma).round().max(1.0) as i64;
    let g: Vec<f64> = (-radius..=radius)
        .map(|t| (-(t * t) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = g.iter().sum();
    let mut kt = vec![0.0f64; n * n];
    for i in 0..n as i64 {
        for (k, t) in (-radius..=radius).enumerate() {
            let j = (i + t).clamp(0, n as i64 - 1) as usize;
            kt[j * n + i as usize] += g[k] / total;
        }
    }
    kt.into_iter().map(|w| w as f32).collect()
}

/// Separable blur of an `h x w` field with the transposed folded matrices, written as
/// row updates (`out_row += weight * in_row`) that the compiler vectorises.
fn blur(field: &[f32], h: usize, w: usize, ky_t: &[f32], kx_t: &[f32]) -> Vec<f32> {
    // Along x: tmp[y][x] = sum_j field[y][j] * kx_t[j][x].
    let mut tmp = vec![0.0f32; h * w];
    for y in 0..h {
        let out = &mut tmp[y * w..(y + 1) * w];
        for j in 0..w {
            let v = field[y * w + j];
            for (o, k) in out.iter_mut().zip(&kx_t[j * w..(j + 1) * w]) {
                *o += v * k;
            }
        }
    }
    // Along y: out[y][x] = sum_j ky_t[j][y] * tmp[j][x].
    let mut out = vec![0.0f32; h * w];
    for j in 0..h {
        let src = &tmp[j * w..(j + 1) * w];
        for y in 0..h {
            let k = ky_t[j * h + y];
            if k == 0.0 {
                continue;
            }
            for (o, s) in out[y * w..(y + 1) * w].iter_mut().zip(src) {
                *o += k * s;
            }
        }
    }
    out
}

/// Warps `img` by the displacement fields `dx`, `dy` (each `h x w`).
pub fn remap_displaced(img: &Image, dx: &[f32], dy: &[f32], fill: f32) -> Image {
    let w = img.width;
    remap_with(img, fill, |x, y| {
        let i = y * w + x;
        (x as f64 + f64::from(dx[i]), y as f64 + f64::from(dy[i]))
    })
}

/// The deterministic core: `noise` holds `2 x h x w` standard normal draws (the x field, then
/// the y field); they are scaled together so the largest magnitude is 1, blurred, times
/// `alpha`, and used as displacements.
pub fn elastic_from_noise(img: &Image, noise: &[f32], alpha: f64, sigma: f64, fill: f32) -> Image {
    let (h, w) = (img.height, img.width);
    assert_eq!(
        noise.len(),
        2 * h * w,
        "elastic noise must hold 2 x h x w values"
    );
    let mut fields = noise.to_vec();
    let max_abs = fields.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max_abs > 1e-6 {
        fields.iter_mut().for_each(|v| *v /= max_abs);
    }
    let (ky, kx) = (folded_kernel_t(h, sigma), folded_kernel_t(w, sigma));
    let alpha = alpha as f32;
    let dx: Vec<f32> = blur(&fields[..h * w], h, w, &ky, &kx)
        .into_iter()
        .map(|v| v * alpha)
        .collect();
    let dy: Vec<f32> = blur(&fields[h * w..], h, w, &ky, &kx)
        .into_iter()
        .map(|v| v * alpha)
        .collect();
    remap_displaced(img, &dx, &dy, fill)
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
        let n = img.height * img.width;
        let noise: Vec<f32> = (0..2 * n)
            .map(|_| rng.sample::<f32, _>(StandardNormal))
            .collect();
        *img = elastic_from_noise(img, &noise, c.alpha, c.sigma, c.fill);
    }
}
