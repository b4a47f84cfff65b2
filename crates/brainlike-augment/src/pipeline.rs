//! The augmentation pipeline: ops in configured order, each fired with its own probability,
//! all randomness from one ChaCha8 stream seeded per sample, so the same `(image, seed)`
//! always gives the same output (a run and its resume see the same images) and no state is
//! shared between threads.

use crate::error::Result;
use crate::image::Image;
use crate::ops::{
    BrightnessContrastConfig, CoarseDropoutConfig, ElasticConfig, GaussNoiseConfig,
    HorizontalFlipConfig, IsoNoiseConfig, MotionBlurConfig, Op, OpConfig, ShiftScaleRotateConfig,
};
use crate::source_crop::SourceCropConfig;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The `[augment]` table: `[[augment.ops]]` entries applied in order, and optionally a
/// random resized crop (+ flip) drawn on each image's full-resolution source before them
/// ([`SourceCropConfig`]).
///
/// ```toml
/// [augment]
/// random_resized_crop = { scale = [0.08, 1.0], ratio = [0.75, 1.3333] }
///
/// [[augment.ops]]
/// kind = "shift_scale_rotate"
/// p = 0.5
/// rotate_limit = [-30, 30]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AugmentConfig {
    /// Ops in application order.
    #[serde(default)]
    pub ops: Vec<OpConfig>,
    /// Random resized crop + flip from the full-resolution source, before the ops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_resized_crop: Option<SourceCropConfig>,
}

impl AugmentConfig {
    /// The paper's "heavy augmentations" (shift, rotation, elastic deformation, brightness and
    /// contrast, motion blur, cutout, Gaussian and ISO noise; Riedel 2022, citing
    /// albumentations), preceded by a horizontal flip. The paper gives neither probabilities
    /// nor strengths: these are albumentations' defaults (p = 0.5 each), except Gaussian noise
    /// at albumentations 1.x's default strength (std 0.012..0.028; the 2.0 default of
    /// 0.2..0.44 would bury a 32 px image) and an elastic `alpha` of 1 (albumentations'
    /// default, under a pixel of displacement).
    pub fn paper_heavy() -> Self {
        Self {
            ops: vec![
                OpConfig::HorizontalFlip(HorizontalFlipConfig::default()),
                OpConfig::ShiftScaleRotate(ShiftScaleRotateConfig::default()),
                OpConfig::Elastic(ElasticConfig::default()),
                OpConfig::BrightnessContrast(BrightnessContrastConfig::default()),
                OpConfig::MotionBlur(MotionBlurConfig::default()),
                OpConfig::CoarseDropout(CoarseDropoutConfig::default()),
                OpConfig::GaussNoise(GaussNoiseConfig {
                    std_range: [0.012, 0.028],
                    ..Default::default()
                }),
                OpConfig::IsoNoise(IsoNoiseConfig::default()),
            ],
            random_resized_crop: None,
        }
    }

    /// Validates every value and builds the runtime pipeline. `key` is the table's path for
    /// error messages (e.g. `augment`).
    pub fn build(&self, key: &str) -> Result<Pipeline> {
        let ops = self
            .ops
            .iter()
            .enumerate()
            .map(|(i, op)| Ok((op.p(), op.build(&format!("{key}.ops[{i}]"))?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Pipeline { ops })
    }
}

/// A validated sequence of `(probability, op)`.
#[derive(Debug)]
pub struct Pipeline {
    ops: Vec<(f64, Box<dyn Op>)>,
}

impl Pipeline {
    /// Applies the ops to `img` with randomness from `seed` and returns the names of the ops
    /// that fired, in order. For every op (fired or not) the pipeline's stream gives a seed
    /// for the op's own generator and a uniform number compared with `p`, so whether or how
    /// one op fires never changes the draws of another.
    pub fn apply(&self, img: &mut Image, seed: u64) -> Vec<&'static str> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut fired = Vec::new();
        for (p, op) in &self.ops {
            // Each op gets its own sub-stream so one op's draws never shift another's.
            let op_seed: u64 = rng.random();
            let roll: f64 = rng.random();
            if roll < *p {
                let mut op_rng = ChaCha8Rng::seed_from_u64(op_seed);
                op.apply(img, &mut op_rng);
                fired.push(op.name());
            }
        }
        fired
    }

    /// Number of ops.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there are no ops (the identity).
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Names of the configured ops, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.ops.iter().map(|(_, op)| op.name()).collect()
    }
}

/// A per-sample seed from the run's seed, the epoch and the sample's index in the data set
/// (SplitMix64 finaliser over the three), so epochs differ, samples differ, and a resumed
/// run recomputes the same seeds.
pub fn sample_seed(run_seed: u64, epoch: u64, index: u64) -> u64 {
    let mut z = run_seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(epoch.wrapping_mul(0xD1B5_4A32_D192_ED03))
        .wrapping_add(index.wrapping_mul(0x94D0_49BB_1331_11EB))
        .wrapping_add(0x2545_F491_4F6C_DD1D);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
