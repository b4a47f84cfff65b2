//! Batch-level mixing: CutMix (Yun et al. 2019) and Foreground-CutMix (Riedel 2022, Table 3).
//! Both paste a box from a partner image (partner = a seeded permutation of the batch) and
//! return soft targets, `batch x classes` weights that sum to 1 per image, for a
//! soft-target cross-entropy.

use crate::error::{AugmentError, Result, check_range};
use crate::image::Image;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub mod cutmix;
pub mod fcutmix;

pub use cutmix::{cutmix_box, cutmix_weights};
pub use fcutmix::{fcutmix_box, fcutmix_weights};

/// Which mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MixKind {
    /// CutMix: the label is mixed by the pasted area.
    Cutmix,
    /// Foreground-CutMix: the pasted image's label counts for the whole image.
    ForegroundCutmix,
}

/// The `[mix]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixConfig {
    /// Which mix.
    pub kind: MixKind,
    /// Probability that an image of the batch is mixed (default 1).
    #[serde(default = "one")]
    pub p: f64,
    /// Beta(alpha, alpha) parameter of the box size (default 1: uniform area).
    #[serde(default = "one")]
    pub alpha: f64,
}

fn one() -> f64 {
    1.0
}

impl MixConfig {
    /// Checks `p` in `[0, 1]` and `alpha > 0` (finite), naming `key.p` / `key.alpha`.
    pub fn validate(&self, key: &str) -> Result<()> {
        check_range(&format!("{key}.p"), self.p, 0.0, 1.0)?;
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(AugmentError::InvalidValue {
                key: format!("{key}.alpha"),
                value: format!("{}", self.alpha),
                expected: "a finite number > 0".into(),
            });
        }
        Ok(())
    }
}

/// A box `rows y0..y1`, `cols x0..x1` (half-open, pixels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutBox {
    /// First row.
    pub y0: usize,
    /// First column.
    pub x0: usize,
    /// One past the last row.
    pub y1: usize,
    /// One past the last column.
    pub x1: usize,
}

impl CutBox {
    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.y1 - self.y0
    }
    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.x1 - self.x0
    }
    /// Area in pixels.
    pub fn area(&self) -> usize {
        self.height() * self.width()
    }
}

/// Copies `src[src_box]` into `dst` at `dst_box` (same height and width), all channels.
pub fn paste(dst: &mut Image, dst_box: CutBox, src: &Image, src_box: CutBox) {
    debug_assert_eq!(
        (dst_box.height(), dst_box.width()),
        (src_box.height(), src_box.width())
    );
    for c in 0..dst.channels.min(src.channels) {
        for r in 0..dst_box.height() {
            let s = (c * src.height + src_box.y0 + r) * src.width + src_box.x0;
            let d = (c * dst.height + dst_box.y0 + r) * dst.width + dst_box.x0;
            let n = dst_box.width();
            dst.pixels[d..d + n].copy_from_slice(&src.pixels[s..s + n]);
        }
    }
}

/// What one mixed batch looked like.
#[derive(Debug, Clone, PartialEq)]
pub struct MixOutcome {
    /// Soft targets, `batch x classes`, row-major; each row sums to 1.
    pub targets: Vec<f32>,
    /// Number of classes (row length of `targets`).
    pub classes: usize,
    /// Partner of each image (the image its box came from).
    pub partner: Vec<usize>,
    /// For each image, the `(source box in the partner, destination box)` pasted, or `None`
    /// when it was not mixed.
    pub boxes: Vec<Option<(CutBox, CutBox)>>,
}

/// One-hot soft targets.
pub fn one_hot(labels: &[usize], classes: usize) -> Vec<f32> {
    let mut t = vec![0.0f32; labels.len() * classes];
    for (i, &l) in labels.iter().enumerate() {
        t[i * classes + l] = 1.0;
    }
    t
}

/// Mixes a batch in place. Every image is mixed with probability `p`, each with its own box;
/// partners come from a permutation of `0..batch` drawn from `seed` (an image may be its own
/// partner: then the paste changes nothing and the label stays its own). All images must
/// have the same shape; labels must be `< classes`.
pub fn mix_batch(
    images: &mut [Image],
    labels: &[usize],
    classes: usize,
    config: &MixConfig,
    seed: u64,
) -> Result<MixOutcome> {
    config.validate("mix")?;
    if images.len() != labels.len() {
        return Err(AugmentError::BadImage {
            what: "batch".into(),
            detail: format!("{} images but {} labels", images.len(), labels.len()),
        });
    }
    if let Some(first) = images.first() {
        for (i, img) in images.iter().enumerate() {
            if (img.channels, img.height, img.width) != (first.channels, first.height, first.width)
            {
                return Err(AugmentError::BadImage {
                    what: format!("batch[{i}]"),
                    detail: format!(
                        "shape {}x{}x{}, batch[0] is {}x{}x{}",
                        img.channels,
                        img.height,
                        img.width,
                        first.channels,
                        first.height,
                        first.width
                    ),
                });
            }
        }
    }
    if let Some((i, &l)) = labels.iter().enumerate().find(|&(_, &l)| l >= classes) {
        return Err(AugmentError::BadImage {
            what: format!("labels[{i}]"),
            detail: format!("label {l} but only {classes} classes"),
        });
    }
    let n = images.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut partner: Vec<usize> = (0..n).collect();
    partner.shuffle(&mut rng);
    let originals: Vec<Image> = images.to_vec();
    let mut targets = one_hot(labels, classes);
    let mut boxes = vec![None; n];
    for i in 0..n {
        let roll: f64 = rand::Rng::random(&mut rng);
        let (h, w) = (images[i].height, images[i].width);
        let drawn = match config.kind {
            MixKind::Cutmix => cutmix_box(h, w, config.alpha, &mut rng),
            MixKind::ForegroundCutmix => fcutmix_box(h, w, config.alpha, &mut rng),
        };
        if roll >= config.p {
            continue;
        }
        let (src_box, dst_box) = drawn;
        if dst_box.area() == 0 {
            continue;
        }
        let j = partner[i];
        paste(&mut images[i], dst_box, &originals[j], src_box);
        let row = match config.kind {
            MixKind::Cutmix => cutmix_weights(labels[i], labels[j], dst_box, h, w, classes),
            MixKind::ForegroundCutmix => fcutmix_weights(labels[j], classes),
        };
        targets[i * classes..(i + 1) * classes].copy_from_slice(&row);
        boxes[i] = Some((src_box, dst_box));
    }
    Ok(MixOutcome {
        targets,
        classes,
        partner,
        boxes,
    })
}
