//! Helpers shared by the integration tests.
#![allow(dead_code)]

use brainlike_augment::{AugmentConfig, Image, OpConfig, Pipeline};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded random RGB image with values in `[lo, hi]`.
pub fn random_image(h: usize, w: usize, lo: f32, hi: f32, seed: u64) -> Image {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pixels = (0..3 * h * w).map(|_| rng.random_range(lo..=hi)).collect();
    Image::from_planar_f32(pixels, 3, h, w).unwrap()
}

/// A pipeline of one op from a TOML snippet (the body of one `[[ops]]` entry).
pub fn one_op(toml_body: &str) -> Pipeline {
    let cfg: AugmentConfig =
        toml::from_str(&format!("[[ops]]\n{toml_body}")).unwrap_or_else(|e| panic!("{e}"));
    cfg.build("augment").unwrap_or_else(|e| panic!("{e}"))
}

/// Builds a pipeline from op configs.
pub fn pipeline(ops: Vec<OpConfig>) -> Pipeline {
    AugmentConfig {
        ops,
        ..Default::default()
    }
    .build("augment")
    .unwrap()
}

/// All values within `[0, 1]` and finite.
pub fn in_range(img: &Image) -> bool {
    img.pixels
        .iter()
        .all(|v| v.is_finite() && (0.0..=1.0).contains(v))
}
