//! Camera sensor noise (`A.ISONoise`): the RGB image is converted to HLS (OpenCV's float
//! convention: hue in degrees `0..360`, lightness and saturation in `0..=1`); with
//! `color_shift = U(color_shift)` and `intensity = U(intensity)` drawn per image, every pixel's
//! hue gets `N(0, color_shift * intensity)` degrees added and its lightness
//! `Poisson(std(L) * intensity) * intensity * (1 - L)` (Poisson shot noise scaled by the
//! image's lightness spread, weaker in bright pixels; lightness clipped to `0..=1`); then
//! back to RGB, clipped to `0..=1`.
//! Label unchanged. Requires 3 channels (RGB); other images are left alone.
//!
//! Same formula as albumentations 2.0.8 `iso_noise` (including that the hue noise is in
//! degrees, so it is small); only the random stream differs: given the same draws the output
//! equals albumentations' (fixture test).

use super::{Op, half, uniform};
use crate::error::{Result, check_pair};
use crate::image::Image;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Poisson};
use serde::{Deserialize, Serialize};

/// Configuration of [`IsoNoise`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsoNoiseConfig {
    /// Probability (default 0.5).
    #[serde(default = "half")]
    pub p: f64,
    /// Range of the hue noise scale, default `[0.01, 0.05]`.
    #[serde(default = "default_shift")]
    pub color_shift: [f64; 2],
    /// Range of the noise intensity, default `[0.1, 0.5]`; `[0, 0]` is the identity.
    #[serde(default = "default_intensity")]
    pub intensity: [f64; 2],
}

fn default_shift() -> [f64; 2] {
    [0.01, 0.05]
}
fn default_intensity() -> [f64; 2] {
    [0.1, 0.5]
}

impl Default for IsoNoiseConfig {
    fn default() -> Self {
        Self {
            p: 0.5,
            color_shift: default_shift(),
            intensity: default_intensity(),
        }
    }
}

/// Camera sensor noise.
#[derive(Debug, Clone)]
pub struct IsoNoise {
    config: IsoNoiseConfig,
}

impl IsoNoise {
    /// Validates: `color_shift` within `[0, 1]`, `intensity` within `[0, 10]`.
    pub fn new(config: IsoNoiseConfig, key: &str) -> Result<Self> {
        check_pair(&format!("{key}.color_shift"), config.color_shift, 0.0, 1.0)?;
        check_pair(&format!("{key}.intensity"), config.intensity, 0.0, 10.0)?;
        Ok(Self { config })
    }
}

/// OpenCV `RGB2HLS` for floats: `(h in degrees, l, s)`.
pub fn rgb_to_hls(r: f32, g: f32, b: f32) -> (f32, f32, f32) {
    let vmax = r.max(g).max(b);
    let vmin = r.min(g).min(b);
    let diff = vmax - vmin;
    let l = (vmax + vmin) * 0.5;
    if diff <= f32::EPSILON {
        return (0.0, l, 0.0);
    }
    let s = if l < 0.5 {
        diff / (vmax + vmin)
    } else {
        diff / (2.0 - vmax - vmin)
    };
    let d = 60.0 / diff;
    let mut h = if vmax == r {
        (g - b) * d
    } else if vmax == g {
        (b - r) * d + 120.0
    } else {
        (r - g) * d + 240.0
    };
    if h < 0.0 {
        h += 360.0;
    }
    (h, l, s)
}

/// OpenCV `HLS2RGB` for floats (hue in degrees, wrapped into `0..360`): `(r, g, b)`.
pub fn hls_to_rgb(h: f32, l: f32, s: f32) -> (f32, f32, f32) {
    if s == 0.0 {
        return (l, l, l);
    }
    const SECTOR: [[usize; 3]; 6] = [
        [1, 3, 0],
        [1, 0, 2],
        [3, 0, 1],
        [0, 2, 1],
        [0, 1, 3],
        [2, 1, 0],
    ];
    let p2 = if l <= 0.5 {
        l * (1.0 + s)
    } else {
        l + s - l * s
    };
    let p1 = 2.0 * l - p2;
    let mut h = (h / 60.0).rem_euclid(6.0);
    let mut sector = h.floor() as usize;
    if sector >= 6 {
        sector = 0;
        h = 0.0;
    } else {
        h -= sector as f32;
    }
    let tab = [p2, p1, p1 + (p2 - p1) * (1.0 - h), p1 + (p2 - p1) * h];
    let [bi, gi, ri] = SECTOR[sector];
    (tab[ri], tab[gi], tab[bi])
}

/// Planar RGB → per-pixel HLS (OpenCV float convention).
fn to_hls(img: &Image) -> Vec<(f32, f32, f32)> {
    let n = img.height * img.width;
    (0..n)
        .map(|i| rgb_to_hls(img.pixels[i], img.pixels[n + i], img.pixels[2 * n + i]))
        .collect()
}

/// Population standard deviation of the lightness (OpenCV `meanStdDev`).
fn lightness_sd(hls: &[(f32, f32, f32)]) -> f64 {
    let n = hls.len().max(1) as f64;
    let mean = hls.iter().map(|p| f64::from(p.1)).sum::<f64>() / n;
    (hls.iter()
        .map(|p| (f64::from(p.1) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
}

/// The deterministic core: with per-pixel Poisson counts `shot` and hue offsets `hue`
/// (degrees), `L += shot * intensity * (1 - L)` clipped to `0..=1` (albucore's `add_array`
/// clips), `H += hue`, back to RGB, clipped. Images without 3 channels are left alone.
///
/// # Panics
/// If `shot` or `hue` do not hold one value per pixel.
pub fn iso_noise_with(img: &mut Image, intensity: f64, shot: &[f64], hue: &[f64]) {
    if img.channels != 3 {
        return;
    }
    let n = img.height * img.width;
    assert!(
        shot.len() == n && hue.len() == n,
        "iso_noise_with: one shot count and hue offset per pixel"
    );
    let hls = to_hls(img);
    for (i, &(h, l, s)) in hls.iter().enumerate() {
        let l = (l + (shot[i] * intensity) as f32 * (1.0 - l)).clamp(0.0, 1.0);
        let (r, g, b) = hls_to_rgb(h + hue[i] as f32, l, s);
        img.pixels[i] = r.clamp(0.0, 1.0);
        img.pixels[n + i] = g.clamp(0.0, 1.0);
        img.pixels[2 * n + i] = b.clamp(0.0, 1.0);
    }
}

/// Applies ISO noise with fixed `color_shift` and `intensity`, drawing the per-pixel noise
/// from `rng`: `Poisson(std(L) * intensity)` shot counts, then `N(0, color_shift * intensity)`
/// hue offsets (albumentations' order).
pub fn iso_noise(img: &mut Image, color_shift: f64, intensity: f64, rng: &mut ChaCha8Rng) {
    if img.channels != 3 || intensity == 0.0 {
        return;
    }
    let n = img.height * img.width;
    let lambda = lightness_sd(&to_hls(img)) * intensity;
    let shot: Vec<f64> = match Poisson::new(lambda) {
        Ok(p) if lambda > 0.0 => (0..n).map(|_| p.sample(rng)).collect(),
        _ => vec![0.0; n],
    };
    let hue_sd = color_shift * intensity;
    let hue: Vec<f64> = match Normal::new(0.0, hue_sd) {
        Ok(d) if hue_sd > 0.0 => (0..n).map(|_| d.sample(rng)).collect(),
        _ => vec![0.0; n],
    };
    iso_noise_with(img, intensity, &shot, &hue);
}

impl Op for IsoNoise {
    fn name(&self) -> &'static str {
        "iso_noise"
    }
    fn apply(&self, img: &mut Image, rng: &mut ChaCha8Rng) {
        let color_shift = uniform(rng, self.config.color_shift);
        let intensity = uniform(rng, self.config.intensity);
        iso_noise(img, color_shift, intensity, rng);
    }
}
