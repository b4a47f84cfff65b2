//! CutMix (Yun et al. 2019, "CutMix: Regularization Strategy to Train Strong Classifiers with
//! Localizable Features", Algorithm A1): `lambda ~ Beta(alpha, alpha)`; a box of
//! `int(w sqrt(1 - lambda)) x int(h sqrt(1 - lambda))` centred on a uniform pixel
//! `(cx, cy)` is clipped at the border; the same region of the partner is pasted into the
//! image; the label is `lambda' * own + (1 - lambda') * partner` with `lambda'` recomputed
//! from the clipped box, `lambda' = 1 - box_area / (h w)`, so the weights equal the pixel
//! fractions exactly.

use super::CutBox;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};

/// Draws the CutMix box for an `h x w` image; returns `(source box, destination box)`, which
/// are the same region. `alpha` must be > 0 (checked by [`super::MixConfig::validate`]).
pub fn cutmix_box(h: usize, w: usize, alpha: f64, rng: &mut ChaCha8Rng) -> (CutBox, CutBox) {
    let lambda = Beta::new(alpha, alpha)
        .expect("alpha > 0 is validated")
        .sample(rng);
    let cut = (1.0 - lambda).max(0.0).sqrt();
    let (cut_w, cut_h) = ((w as f64 * cut) as i64, (h as f64 * cut) as i64);
    let cx = rng.random_range(0..w as i64);
    let cy = rng.random_range(0..h as i64);
    let b = CutBox {
        x0: (cx - cut_w / 2).clamp(0, w as i64) as usize,
        x1: (cx + cut_w / 2).clamp(0, w as i64) as usize,
        y0: (cy - cut_h / 2).clamp(0, h as i64) as usize,
        y1: (cy + cut_h / 2).clamp(0, h as i64) as usize,
    };
    (b, b)
}

/// Soft target row for an image with label `own` that received `dst_box` (of an `h x w`
/// image) from a partner labelled `partner`: `1 - area/(h w)` on `own`, `area/(h w)` on
/// `partner` (summed when they are the same class).
pub fn cutmix_weights(
    own: usize,
    partner: usize,
    dst_box: CutBox,
    h: usize,
    w: usize,
    classes: usize,
) -> Vec<f32> {
    let frac = dst_box.area() as f64 / (h * w) as f64;
    let mut row = vec![0.0f32; classes];
    row[own] += (1.0 - frac) as f32;
    row[partner] += frac as f32;
    row
}
