//! Throughput of the augmentation ops and of the paper's pipeline, on real CIFAR-100 test
//! images at 32 px and upscaled (bilinear) to 224 px; images/s on 1 thread per op, and for
//! the whole pipeline over rayon pools of each requested size. Every image is converted from
//! planar u8 to planar f32 inside the timed loop (what a data loader does).
//!
//! ```text
//! cargo run --release -j 1 -p brainlike-augment --example bench_augment -- \
//!     [/work/shared/data/cifar-100-binary.tar.gz] [threads=1,2] [n32=2000] [n224=64]
//! ```
//! The peer is `bench/augment_peer.py` (same images, same ops, albumentations 2.0.8).

#[path = "common/cifar.rs"]
mod cifar;

use brainlike_augment::ops::random_resized_crop::crop_resize;
use brainlike_augment::ops::{
    BrightnessContrastConfig, CoarseDropoutConfig, ElasticConfig, GaussNoiseConfig,
    HorizontalFlipConfig, IsoNoiseConfig, MotionBlurConfig, OpConfig, RandomResizedCropConfig,
    ShiftScaleRotateConfig,
};
use brainlike_augment::{AugmentConfig, Image, Pipeline, sample_seed};
use rayon::prelude::*;
use std::time::Instant;

/// The paper's op list with every op firing (p = 1), so each image does all the work.
fn paper_ops_p1() -> Vec<(&'static str, OpConfig)> {
    vec![
        (
            "horizontal_flip",
            OpConfig::HorizontalFlip(HorizontalFlipConfig { p: 1.0 }),
        ),
        (
            "shift_scale_rotate",
            OpConfig::ShiftScaleRotate(ShiftScaleRotateConfig {
                p: 1.0,
                ..Default::default()
            }),
        ),
        (
            "elastic",
            OpConfig::Elastic(ElasticConfig {
                p: 1.0,
                ..Default::default()
            }),
        ),
        (
            "brightness_contrast",
            OpConfig::BrightnessContrast(BrightnessContrastConfig {
                p: 1.0,
                ..Default::default()
            }),
        ),
        (
            "motion_blur",
            OpConfig::MotionBlur(MotionBlurConfig {
                p: 1.0,
                ..Default::default()
            }),
        ),
        (
            "coarse_dropout",
            OpConfig::CoarseDropout(CoarseDropoutConfig {
                p: 1.0,
                ..Default::default()
            }),
        ),
        (
            "gauss_noise",
            OpConfig::GaussNoise(GaussNoiseConfig {
                p: 1.0,
                std_range: [0.012, 0.028],
                ..Default::default()
            }),
        ),
        (
            "iso_noise",
            OpConfig::IsoNoise(IsoNoiseConfig {
                p: 1.0,
                ..Default::default()
            }),
        ),
    ]
}

/// Images per second of `pipeline` over `images` (planar u8) on a pool of `threads`,
/// repeating passes until at least `min_secs` have elapsed.
fn rate(
    pipeline: &Pipeline,
    images: &[Vec<u8>],
    side: usize,
    threads: usize,
    min_secs: f64,
) -> f64 {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool");
    let one_pass = |pass: u64| -> f32 {
        pool.install(|| {
            images
                .par_iter()
                .enumerate()
                .map(|(i, px)| {
                    let mut img =
                        Image::from_planar_u8(px, 3, side, side).expect("3 x side x side");
                    pipeline.apply(&mut img, sample_seed(pass, 0, i as u64));
                    img.pixels[0]
                })
                .sum()
        })
    };
    std::hint::black_box(one_pass(u64::MAX)); // warm-up
    let start = Instant::now();
    let (mut done, mut pass) = (0usize, 0u64);
    while start.elapsed().as_secs_f64() < min_secs || done == 0 {
        std::hint::black_box(one_pass(pass));
        done += images.len();
        pass += 1;
    }
    done as f64 / start.elapsed().as_secs_f64()
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let archive = args
        .get(1)
        .map_or("/work/shared/data/cifar-100-binary.tar.gz", String::as_str);
    let threads: Vec<usize> = args
        .get(2)
        .map_or("1,2", String::as_str)
        .split(',')
        .map(|s| s.parse().map_err(|e| format!("threads `{s}`: {e}")))
        .collect::<Result<_, _>>()?;
    let n32: usize = args
        .get(3)
        .map_or(Ok(2000), |s| s.parse())
        .map_err(|e| format!("n32: {e}"))?;
    let n224: usize = args
        .get(4)
        .map_or(Ok(64), |s| s.parse())
        .map_err(|e| format!("n224: {e}"))?;
    let data = cifar::read_cifar(std::path::Path::new(archive), "test.bin", n32.max(n224))?;
    let imgs32: Vec<Vec<u8>> = data.images.iter().take(n32).cloned().collect();
    let imgs224: Vec<Vec<u8>> = data
        .images
        .iter()
        .take(n224)
        .map(|px| {
            let img = Image::from_planar_u8(px, 3, 32, 32).expect("CIFAR record");
            crop_resize(&img, (0, 0, 32, 32), 224, 224).to_planar_u8()
        })
        .collect();
    println!(
        "brainlike-augment bench: {} images at 32 px, {} at 224 px (CIFAR-100 test.bin)",
        imgs32.len(),
        imgs224.len()
    );
    println!(
        "{:<5} {:<28} {:>7} {:>12} {:>14}",
        "size", "op", "threads", "images/s", "images/s/core"
    );
    for (side, imgs) in [(32usize, &imgs32), (224usize, &imgs224)] {
        let min_secs = 1.5;
        let mut rows: Vec<(String, Pipeline, Vec<usize>)> = paper_ops_p1()
            .into_iter()
            .map(|(name, op)| {
                (
                    name.to_string(),
                    AugmentConfig {
                        ops: vec![op],
                        ..Default::default()
                    }
                    .build("bench")
                    .unwrap(),
                    vec![1],
                )
            })
            .collect();
        rows.push((
            "random_resized_crop".into(),
            AugmentConfig {
                ops: vec![OpConfig::RandomResizedCrop(
                    RandomResizedCropConfig::default(),
                )],
                ..Default::default()
            }
            .build("bench")
            .unwrap(),
            vec![1],
        ));
        let all: Vec<OpConfig> = paper_ops_p1().into_iter().map(|(_, op)| op).collect();
        rows.push((
            "pipeline: all 8 ops, p=1".into(),
            AugmentConfig {
                ops: all,
                ..Default::default()
            }
            .build("bench")
            .unwrap(),
            threads.clone(),
        ));
        rows.push((
            "paper_heavy (p=0.5 each)".into(),
            AugmentConfig::paper_heavy().build("bench").unwrap(),
            threads.clone(),
        ));
        for (name, pipeline, ts) in &rows {
            for &t in ts {
                let r = rate(pipeline, imgs, side, t, min_secs);
                println!(
                    "{side:<5} {name:<28} {t:>7} {r:>12.0} {:>14.0}",
                    r / t as f64
                );
            }
        }
    }
    Ok(())
}
