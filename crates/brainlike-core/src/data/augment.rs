//! Training batches through the augmentation pipeline and the batch-level mix
//! ([`brainlike_augment`]): with `[augment] random_resized_crop`, each image is first the
//! data set's random resized crop of its full-resolution source
//! ([`Dataset::image_source_crop`]); then per-sample ops on worker threads (rayon), seeded by
//! `(run seed, epoch, data-set index)` so a resumed run sees the same images, then CutMix or
//! Foreground-CutMix on the batch (seeded by `(run seed, epoch, step)`), giving soft targets.
//! Without ops and without a mix the plain [`Batcher::batch`] path runs (bit for bit the
//! unaugmented run).

use brainlike_augment::{
    AugmentConfig, Image, MixConfig, Pipeline, SourceCropper, mix_batch, sample_seed,
};
use burn::tensor::Device;
use rayon::prelude::*;

use super::batch::{Batcher, HostBatch, HostTargets};
use super::dataset::Dataset;
use crate::error::{Error, Result};
use crate::train::step::Batch;

/// The augmentation of a run: a validated pipeline and an optional mix.
#[derive(Debug)]
pub struct Augmenter {
    source_crop: Option<SourceCropper>,
    pipeline: Pipeline,
    mix: Option<MixConfig>,
    seed: u64,
    classes: usize,
}

/// Stream tag of the batch-level mix seeds (per-sample seeds use [`sample_seed`]).
const MIX_STREAM: u64 = 0x4d49_5843_5554; // "MIXCUT"
/// Stream tag of the source-crop seeds (its own stream, so adding the crop leaves the ops'
/// draws unchanged).
const SOURCE_CROP_STREAM: u64 = 0x5253_5243_524f; // "RSRCRO"

impl Augmenter {
    /// Builds the pipeline from `[augment]` and checks `[mix]`; `None` when neither does
    /// anything. Errors name the key.
    pub fn new(
        augment: &AugmentConfig,
        mix: Option<&MixConfig>,
        seed: u64,
    ) -> Result<Option<Self>> {
        let pipeline = augment.build("augment").map_err(|e| Error::Config {
            origin: "augment".into(),
            msg: e.to_string(),
        })?;
        if let Some(m) = mix {
            m.validate("mix").map_err(|e| Error::Config {
                origin: "mix".into(),
                msg: e.to_string(),
            })?;
        }
        let source_crop = augment
            .random_resized_crop
            .as_ref()
            .map(|c| c.build("augment.random_resized_crop"))
            .transpose()
            .map_err(|e| Error::Config {
                origin: "augment".into(),
                msg: e.to_string(),
            })?;
        if pipeline.is_empty() && mix.is_none() && source_crop.is_none() {
            return Ok(None);
        }
        Ok(Some(Self {
            source_crop,
            pipeline,
            mix: mix.cloned(),
            seed,
            classes: 0,
        }))
    }

    /// The same augmenter for a data set of `classes` classes (the width of soft targets).
    pub fn for_classes(mut self, classes: usize) -> Self {
        self.classes = classes;
        self
    }

    /// Images `indices` of `data`, augmented for `epoch` (1-based) at optimiser step `step`,
    /// normalised as `batcher` does, with hard labels or (with a mix) soft targets over the
    /// classes given to [`Augmenter::for_classes`].
    pub fn batch(
        &self,
        batcher: &Batcher,
        data: &dyn Dataset,
        indices: &[usize],
        epoch: usize,
        step: u64,
        device: &Device,
    ) -> Result<Batch> {
        Ok(batcher.upload(self.host(batcher, data, indices, epoch, step)?, device))
    }

    /// The host side of [`Augmenter::batch`] (no device work: it can run ahead of the step).
    pub fn host(
        &self,
        batcher: &Batcher,
        data: &dyn Dataset,
        indices: &[usize],
        epoch: usize,
        step: u64,
    ) -> Result<HostBatch> {
        let classes = self.classes;
        let mut images: Vec<Image> = indices
            .par_iter()
            .map(|&i| {
                let img = match &self.source_crop {
                    Some(c) => data.image_source_crop(
                        i,
                        c,
                        sample_seed(self.seed ^ SOURCE_CROP_STREAM, epoch as u64, i as u64),
                    ),
                    None => data.image(i),
                };
                let mut x = Image::from_planar_u8(&img.pixels, 3, img.height, img.width)
                    .map_err(|e| Error::Other(format!("{} image {i}: {e}", data.name())))?;
                self.pipeline
                    .apply(&mut x, sample_seed(self.seed, epoch as u64, i as u64));
                Ok(x)
            })
            .collect::<Result<_>>()?;
        let labels: Vec<usize> = indices.iter().map(|&i| data.label(i)).collect();
        let n = indices.len();
        let targets = match &self.mix {
            Some(m) => {
                let seed = sample_seed(self.seed ^ MIX_STREAM, epoch as u64, step);
                let out = mix_batch(&mut images, &labels, classes, m, seed)
                    .map_err(|e| Error::Other(format!("mix: {e}")))?;
                HostTargets::Soft(out.targets, classes)
            }
            None => HostTargets::Hard(labels.iter().map(|&l| l as i64).collect()),
        };
        let (h, w) = (images[0].height, images[0].width);
        if let Some((k, img)) = images
            .iter()
            .enumerate()
            .find(|(_, x)| (x.height, x.width) != (h, w))
        {
            return Err(Error::Other(format!(
                "augment: image {k} of the batch is {}x{} after the ops, image 0 is {h}x{w}; \
                 give random_resized_crop a fixed size",
                img.height, img.width
            )));
        }
        let (mean, std) = (batcher.pre.mean, batcher.pre.std);
        let plane = h * w;
        let mut pixels = Vec::with_capacity(n * 3 * plane);
        for img in &images {
            for (c, ch) in img.pixels.chunks_exact(plane).enumerate() {
                pixels.extend(ch.iter().map(|&v| (v - mean[c]) / std[c]));
            }
        }
        Ok(HostBatch {
            pixels,
            n,
            height: h,
            width: w,
            targets,
        })
    }
}
