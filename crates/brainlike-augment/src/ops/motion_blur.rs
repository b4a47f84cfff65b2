//! Motion blur (`A.MotionBlur`): a line kernel of odd size `k` drawn from `blur_limit`, at an
//! angle from `angle_range` (degrees, counter-clockwise), biased forward/backward by a
//! `direction` from `direction_range` (-1 backward only, 0 symmetric, 1 forward only), and
//! with `allow_shifted` moved off centre by up to a quarter of its length. The kernel is
//! normalised to sum 1 and correlated with every channel (OpenCV `filter2D`, border
//! `REFLECT_101`). Label unchanged. Kernel construction follows albumentations 2.0.8's
//! `create_motion_kernel` step by step (including numpy's round-half-to-even); only the
//! random stream differs.

use super::{Op, half, uniform};
use crate::error::{AugmentError, Result, check_pair};
use crate::image::Image;
use crate::warp::reflect101;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Configuration of [`MotionBlur`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MotionBlurConfig {
    /// Probability (default 0.5).
    #[serde(default = "half")]
    pub p: f64,
    /// Kernel size range (odd sizes drawn from it), default `[3, 7]`; `[1, 1]` is the identity.
    #[serde(default = "default_blur")]
    pub blur_limit: [usize; 2],
    /// Angle range in degrees, default `[0, 360]`.
    #[serde(default = "default_angle")]
    pub angle_range: [f64; 2],
    /// Direction bias range, default `[-1, 1]`.
    #[serde(default = "default_direction")]
    pub direction_range: [f64; 2],
    /// Whether the line may be shifted off centre (default true).
    #[serde(default = "yes")]
    pub allow_shifted: bool,
}

fn default_blur() -> [usize; 2] {
    [3, 7]
}
fn default_angle() -> [f64; 2] {
    [0.0, 360.0]
}
fn default_direction() -> [f64; 2] {
    [-1.0, 1.0]
}
fn yes() -> bool {
    true
}

impl Default for MotionBlurConfig {
    fn default() -> Self {
        Self {
            p: 0.5,
            blur_limit: default_blur(),
            angle_range: default_angle(),
            direction_range: default_direction(),
            allow_shifted: true,
        }
    }
}

/// Random motion blur.
#[derive(Debug, Clone)]
pub struct MotionBlur {
    config: MotionBlurConfig,
}

impl MotionBlur {
    /// Validates: `blur_limit` odd sizes with `1 <= low <= high <= 101`, angles within
    /// `[-360, 360]`, direction within `[-1, 1]`.
    pub fn new(config: MotionBlurConfig, key: &str) -> Result<Self> {
        let [lo, hi] = config.blur_limit;
        if lo < 1 || hi > 101 || lo > hi || lo % 2 == 0 || hi % 2 == 0 {
            return Err(AugmentError::InvalidValue {
                key: format!("{key}.blur_limit"),
                value: format!("[{lo}, {hi}]"),
                expected: "odd kernel sizes [low, high] with 1 <= low <= high <= 101".into(),
            });
        }
        check_pair(
            &format!("{key}.angle_range"),
            config.angle_range,
            -360.0,
            360.0,
        )?;
        check_pair(
            &format!("{key}.direction_range"),
            config.direction_range,
            -1.0,
            1.0,
        )?;
        Ok(Self { config })
    }
}

/// Albumentations' `create_motion_kernel` with the shift given explicitly (`shift` in units
/// of `line_length / 2`, each in `[-1, 1]`; `(0, 0)` when not shifted). Returns the `k x k`
/// kernel (entries 0 or 1, not yet normalised), row-major.
pub fn motion_kernel(k: usize, angle_deg: f64, direction: f64, shift: (f64, f64)) -> Vec<f32> {
    let direction = direction.clamp(-1.0, 1.0);
    let mut kernel = vec![0.0f32; k * k];
    let center = (k / 2) as f64;
    let (dy, dx) = angle_deg.to_radians().sin_cos();
    let line = (k / 2) as f64;
    let (t0, t1) = if direction < 0.0 {
        (-line, line * (1.0 + direction))
    } else if direction > 0.0 {
        (-line * (1.0 - direction), line)
    } else {
        (-line, line)
    };
    for i in 0..k {
        // numpy.linspace
        let t = if k == 1 {
            t0
        } else {
            t0 + (t1 - t0) * i as f64 / (k - 1) as f64
        };
        let x = center + dx * t + shift.0 * line / 2.0;
        let y = center + dy * t + shift.1 * line / 2.0;
        let xi = x.round_ties_even().clamp(0.0, (k - 1) as f64) as usize;
        let yi = y.round_ties_even().clamp(0.0, (k - 1) as f64) as usize;
        kernel[yi * k + xi] = 1.0;
    }
    if kernel.iter().all(|&v| v == 0.0) {
        kernel[k / 2 * k + k / 2] = 1.0;
    }
    kernel
}

/// Correlates every channel with the `k x k` `kernel` (normalised here to sum 1), border
/// `REFLECT_101` (OpenCV `filter2D`).
pub fn filter2d(img: &Image, kernel: &[f32], k: usize) -> Image {
    let sum: f32 = kernel.iter().sum();
    let taps: Vec<(i64, i64, f32)> = (0..k * k)
        .filter(|&i| kernel[i] != 0.0)
        .map(|i| {
            (
                (i / k) as i64 - (k / 2) as i64,
                (i % k) as i64 - (k / 2) as i64,
                kernel[i] / sum,
            )
        })
        .collect();
    let (h, w) = (img.height, img.width);
    let r = (k / 2) as i64;
    let (ph, pw) = (h + 2 * r as usize, w + 2 * r as usize);
    let rows: Vec<usize> = (0..ph as i64).map(|y| reflect101(y - r, h)).collect();
    let cols: Vec<usize> = (0..pw as i64).map(|x| reflect101(x - r, w)).collect();
    let mut out = Image::zeros(img.channels, h, w);
    let mut padded = vec![0.0f32; ph * pw];
    for c in 0..img.channels {
        let src = img.plane(c);
        for (py, &sy) in rows.iter().enumerate() {
            for (px, &sx) in cols.iter().enumerate() {
                padded[py * pw + px] = src[sy * w + sx];
            }
        }
        let dst = out.plane_mut(c);
        for &(oy, ox, wgt) in &taps {
            for y in 0..h {
                let start = (y as i64 + r + oy) as usize * pw + (r + ox) as usize;
                for (d, s) in dst[y * w..(y + 1) * w]
                    .iter_mut()
                    .zip(&padded[start..start + w])
                {
                    *d += wgt * s;
                }
            }
        }
        dst.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
    }
    out
}

impl Op for MotionBlur {
    fn name(&self) -> &'static str {
        "motion_blur"
    }
    fn apply(&self, img: &mut Image, rng: &mut ChaCha8Rng) {
        let c = &self.config;
        // An odd size in [lo, hi], uniformly over the odd values.
        let n_odd = (c.blur_limit[1] - c.blur_limit[0]) / 2 + 1;
        let k = c.blur_limit[0] + 2 * rng.random_range(0..n_odd);
        let angle = uniform(rng, c.angle_range);
        let direction = uniform(rng, c.direction_range);
        let shift = if c.allow_shifted {
            (rng.random_range(-1.0..=1.0), rng.random_range(-1.0..=1.0))
        } else {
            (0.0, 0.0)
        };
        if k == 1 {
            return;
        }
        let kernel = motion_kernel(k, angle, direction, shift);
        *img = filter2d(img, &kernel, k);
    }
}
