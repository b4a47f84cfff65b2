//! Shift, scale and rotate (`A.ShiftScaleRotate`, which albumentations 2.0 implements as an
//! `A.Affine`). The forward map about the image centre `(w/2 - 0.5, h/2 - 0.5)` is
//! `M = T(centre) · T(tx, ty) · R(angle) · S(sx, sy) · T(-centre)` with
//! `R = [[cos, sin], [-sin, cos]]` (a positive angle turns the picture counter-clockwise on
//! screen), `sx, sy = 1 + U(scale_limit)` drawn independently (albumentations passes
//! `keep_ratio = False`), `tx = int(U(shift_limit) * w)`, `ty = int(U(shift_limit) * h)`
//! (whole pixels, truncated toward zero, as albumentations). Each output pixel reads the
//! input at `M⁻¹(x, y)`, bilinear, with a constant `fill` outside (albumentations' default
//! `border_mode = BORDER_CONSTANT`, `fill = 0`). Label unchanged.
//!
//! Matches albumentations on float images to 1e-4 (fixture test). Difference: only the
//! constant border is offered.

use super::{Op, check_limit, half, uniform};
use crate::error::{Result, check_range};
use crate::image::Image;
use crate::warp::warp_affine_inverse;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Configuration of [`ShiftScaleRotate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftScaleRotateConfig {
    /// Probability (default 0.5).
    #[serde(default = "half")]
    pub p: f64,
    /// Shift as a fraction of the width/height, default `[-0.0625, 0.0625]`.
    #[serde(default = "default_shift")]
    pub shift_limit: [f64; 2],
    /// Scale factor minus one, default `[-0.1, 0.1]`.
    #[serde(default = "default_scale")]
    pub scale_limit: [f64; 2],
    /// Rotation in degrees, default `[-45, 45]`.
    #[serde(default = "default_rotate")]
    pub rotate_limit: [f64; 2],
    /// Value of pixels mapped from outside the image (default 0, black).
    #[serde(default)]
    pub fill: f32,
}

fn default_shift() -> [f64; 2] {
    [-0.0625, 0.0625]
}
fn default_scale() -> [f64; 2] {
    [-0.1, 0.1]
}
fn default_rotate() -> [f64; 2] {
    [-45.0, 45.0]
}

impl Default for ShiftScaleRotateConfig {
    fn default() -> Self {
        Self {
            p: 0.5,
            shift_limit: default_shift(),
            scale_limit: default_scale(),
            rotate_limit: default_rotate(),
            fill: 0.0,
        }
    }
}

/// Random affine shift/scale/rotation.
#[derive(Debug, Clone)]
pub struct ShiftScaleRotate {
    config: ShiftScaleRotateConfig,
}

impl ShiftScaleRotate {
    /// Validates: shift in `[-1, 1]`, scale factor minus one in `(-1, 10]` (scale > 0),
    /// rotation in `[-360, 360]`, fill in `[0, 1]`.
    pub fn new(config: ShiftScaleRotateConfig, key: &str) -> Result<Self> {
        check_limit(&format!("{key}.shift_limit"), config.shift_limit, -1.0, 1.0)?;
        check_limit(
            &format!("{key}.scale_limit"),
            config.scale_limit,
            -0.99,
            10.0,
        )?;
        check_limit(
            &format!("{key}.rotate_limit"),
            config.rotate_limit,
            -360.0,
            360.0,
        )?;
        check_range(&format!("{key}.fill"), f64::from(config.fill), 0.0, 1.0)?;
        Ok(Self { config })
    }
}

/// Parameters of one affine warp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AffineParams {
    /// Rotation in degrees (positive: counter-clockwise on screen).
    pub rotate_deg: f64,
    /// Horizontal scale factor.
    pub scale_x: f64,
    /// Vertical scale factor.
    pub scale_y: f64,
    /// Horizontal shift in pixels (positive: right).
    pub tx: f64,
    /// Vertical shift in pixels (positive: down).
    pub ty: f64,
}

/// The forward 2x3 matrix `[a, b, c, d, e, f]` (albumentations'
/// `create_affine_transformation_matrix` without shear) for an `h x w` image.
pub fn affine_matrix(p: AffineParams, h: usize, w: usize) -> [f64; 6] {
    let (cx, cy) = (w as f64 / 2.0 - 0.5, h as f64 / 2.0 - 0.5);
    let r = p.rotate_deg.rem_euclid(360.0).to_radians();
    let (s, c) = r.sin_cos();
    // R · S
    let (a, b, d, e) = (c * p.scale_x, s * p.scale_y, -s * p.scale_x, c * p.scale_y);
    // T(centre + t) · (R S) · T(-centre)
    [
        a,
        b,
        cx + p.tx - a * cx - b * cy,
        d,
        e,
        cy + p.ty - d * cx - e * cy,
    ]
}

/// Inverse of a 2x3 affine matrix.
pub fn invert_affine(m: [f64; 6]) -> [f64; 6] {
    let det = m[0] * m[4] - m[1] * m[3];
    let (a, b, d, e) = (m[4] / det, -m[1] / det, -m[3] / det, m[0] / det);
    [a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])]
}

/// Applies a fixed affine warp (the deterministic core of the op).
pub fn affine(img: &Image, p: AffineParams, fill: f32) -> Image {
    let inv = invert_affine(affine_matrix(p, img.height, img.width));
    warp_affine_inverse(img, inv, fill)
}

impl Op for ShiftScaleRotate {
    fn name(&self) -> &'static str {
        "shift_scale_rotate"
    }
    fn apply(&self, img: &mut Image, rng: &mut ChaCha8Rng) {
        let c = &self.config;
        // Albumentations' draw order: translate x, y; scale x, y; rotate.
        let tx = (uniform(rng, c.shift_limit) * img.width as f64).trunc();
        let ty = (uniform(rng, c.shift_limit) * img.height as f64).trunc();
        let scale_x = 1.0 + uniform(rng, c.scale_limit);
        let scale_y = 1.0 + uniform(rng, c.scale_limit);
        let rotate_deg = uniform(rng, c.rotate_limit);
        let p = AffineParams {
            rotate_deg,
            scale_x,
            scale_y,
            tx,
            ty,
        };
        if p == (AffineParams {
            rotate_deg: 0.0,
            scale_x: 1.0,
            scale_y: 1.0,
            tx: 0.0,
            ty: 0.0,
        }) {
            return;
        }
        *img = affine(img, p, c.fill);
    }
}
