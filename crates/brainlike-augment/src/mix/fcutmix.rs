//! Foreground-CutMix (Riedel 2022, "Bag of Tricks for Training Brain-Like Deep Neural
//! Networks", Table 3 and appendix): "pasting parts of ImageNet images on top of a background
//! image and assign the pasted image label to the whole image". The pasted image's label gets
//! weight 1, whatever the patch's size.
//!
//! The paper does not say how the patch is chosen. Here: `lambda ~ Beta(alpha, alpha)` sets
//! the patch to `int(h sqrt(1 - lambda)) x int(w sqrt(1 - lambda))` (the CutMix size rule);
//! the patch is cut from the CENTRE of the partner (where photographs put their object) and
//! placed at a uniformly random position entirely inside the image (never clipped, so the
//! whole "object" is there). A zero-area patch means no mix (the own label stays).

use super::CutBox;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};

/// Draws the Foreground-CutMix patch for an `h x w` image: `(source box, centred in the
/// partner; destination box, uniformly placed)`.
pub fn fcutmix_box(h: usize, w: usize, alpha: f64, rng: &mut ChaCha8Rng) -> (CutBox, CutBox) {
    let lambda = Beta::new(alpha, alpha)
        .expect("alpha > 0 is validated")
        .sample(rng);
    let cut = (1.0 - lambda).max(0.0).sqrt();
    let ph = ((h as f64 * cut) as usize).min(h);
    let pw = ((w as f64 * cut) as usize).min(w);
    let y0 = rng.random_range(0..=h - ph);
    let x0 = rng.random_range(0..=w - pw);
    let (sy, sx) = ((h - ph) / 2, (w - pw) / 2);
    (
        CutBox {
            y0: sy,
            x0: sx,
            y1: sy + ph,
            x1: sx + pw,
        },
        CutBox {
            y0,
            x0,
            y1: y0 + ph,
            x1: x0 + pw,
        },
    )
}

/// Soft target row: weight 1 on the pasted image's label.
pub fn fcutmix_weights(pasted: usize, classes: usize) -> Vec<f32> {
    let mut row = vec![0.0f32; classes];
    row[pasted] = 1.0;
    row
}
