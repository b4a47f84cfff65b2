//! Each op: identity at zero strength, the expected geometry or statistics at a known
//! strength, bounds, and sizes.

mod common;

use brainlike_augment::Image;
use brainlike_augment::ops::coarse_dropout::{CoarseDropout, CoarseDropoutConfig};
use brainlike_augment::ops::horizontal_flip::hflip;
use brainlike_augment::ops::iso_noise::{hls_to_rgb, rgb_to_hls};
use brainlike_augment::ops::random_resized_crop::{
    RandomResizedCrop, RandomResizedCropConfig, crop_resize,
};
use brainlike_augment::ops::shift_scale_rotate::{AffineParams, affine};
use brainlike_augment::ops::{Op, OpConfig};
use common::{in_range, one_op, random_image};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const SEEDS: [u64; 5] = [0, 1, 7, 42, 12345];

#[test]
fn zero_strength_is_identity_for_every_op() {
    let cases = [
        "kind = \"shift_scale_rotate\"\np = 1\nshift_limit = [0, 0]\nscale_limit = [0, 0]\nrotate_limit = [0, 0]",
        "kind = \"elastic\"\np = 1\nalpha = 0",
        "kind = \"brightness_contrast\"\np = 1\nbrightness_limit = [0, 0]\ncontrast_limit = [0, 0]",
        "kind = \"motion_blur\"\np = 1\nblur_limit = [1, 1]",
        "kind = \"coarse_dropout\"\np = 1\nnum_holes_range = [0, 0]",
        "kind = \"gauss_noise\"\np = 1\nstd_range = [0, 0]",
        "kind = \"iso_noise\"\np = 1\nintensity = [0, 0]",
        "kind = \"random_resized_crop\"\np = 1\nscale = [1, 1]\nratio = [1, 1]",
    ];
    let img = random_image(16, 16, 0.0, 1.0, 3);
    for body in cases {
        let pipe = one_op(body);
        for seed in SEEDS {
            let mut out = img.clone();
            let fired = pipe.apply(&mut out, seed);
            assert_eq!(fired.len(), 1, "{body}: op should fire at p = 1");
            let max = out
                .pixels
                .iter()
                .zip(&img.pixels)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(max < 1e-6, "{body}: zero strength changed pixels by {max}");
        }
    }
}

#[test]
fn p_zero_never_fires_and_p_one_always_fires() {
    let img = random_image(8, 8, 0.0, 1.0, 1);
    for (p, expect) in [(0.0, 0usize), (1.0, 1usize)] {
        let pipe = one_op(&format!("kind = \"gauss_noise\"\np = {p}"));
        for seed in 0..50 {
            let mut out = img.clone();
            assert_eq!(pipe.apply(&mut out, seed).len(), expect);
            if expect == 0 {
                assert_eq!(out, img);
            }
        }
    }
}

#[test]
fn p_half_fires_about_half_the_time() {
    let pipe = one_op("kind = \"horizontal_flip\"");
    let img = random_image(4, 4, 0.0, 1.0, 1);
    let fired = (0..2000u64)
        .filter(|&s| !pipe.apply(&mut img.clone(), s).is_empty())
        .count();
    // Binomial(2000, 0.5): sd 22; 6 sd either side.
    assert!(
        (868..=1132).contains(&fired),
        "fired {fired} of 2000 at p = 0.5"
    );
}

#[test]
fn hflip_twice_is_identity_and_mirrors_columns() {
    let img = random_image(5, 7, 0.0, 1.0, 2);
    let mut once = img.clone();
    hflip(&mut once);
    for c in 0..3 {
        for y in 0..5 {
            for x in 0..7 {
                assert_eq!(once.get(c, y, x), img.get(c, y, 6 - x));
            }
        }
    }
    hflip(&mut once);
    assert_eq!(once, img);
}

#[test]
fn rotate_90_is_transpose_then_vertical_flip() {
    let img = random_image(9, 9, 0.0, 1.0, 4);
    let out = affine(
        &img,
        AffineParams {
            rotate_deg: 90.0,
            scale_x: 1.0,
            scale_y: 1.0,
            tx: 0.0,
            ty: 0.0,
        },
        0.0,
    );
    // Counter-clockwise on screen: out[r][c] = in[c][w-1-r].
    for c in 0..3 {
        for r in 0..9 {
            for col in 0..9 {
                let e = img.get(c, col, 8 - r);
                assert!((out.get(c, r, col) - e).abs() < 1e-5, "({c},{r},{col})");
            }
        }
    }
    // Four quarter turns are the identity.
    let mut four = img.clone();
    for _ in 0..4 {
        four = affine(
            &four,
            AffineParams {
                rotate_deg: 90.0,
                scale_x: 1.0,
                scale_y: 1.0,
                tx: 0.0,
                ty: 0.0,
            },
            0.0,
        );
    }
    let max = four
        .pixels
        .iter()
        .zip(&img.pixels)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(max < 1e-4, "four quarter turns differ by {max}");
}

#[test]
fn integer_shift_moves_pixels_and_fills_the_border() {
    let img = random_image(6, 8, 0.1, 1.0, 5);
    let out = affine(
        &img,
        AffineParams {
            rotate_deg: 0.0,
            scale_x: 1.0,
            scale_y: 1.0,
            tx: 2.0,
            ty: -1.0,
        },
        0.0,
    );
    for c in 0..3 {
        for y in 0..6 {
            for x in 0..8 {
                let (sx, sy) = (x as i64 - 2, y as i64 + 1);
                let e = if (0..8).contains(&sx) && (0..6).contains(&sy) {
                    img.get(c, sy as usize, sx as usize)
                } else {
                    0.0
                };
                assert!((out.get(c, y, x) - e).abs() < 1e-6);
            }
        }
    }
}

#[test]
fn brightness_shifts_the_mean_by_the_set_amount() {
    let img = random_image(16, 16, 0.2, 0.7, 6);
    let pipe = one_op(
        "kind = \"brightness_contrast\"\np = 1\nbrightness_limit = [0.15, 0.15]\ncontrast_limit = [0, 0]",
    );
    let mut out = img.clone();
    pipe.apply(&mut out, 9);
    assert!(
        (out.mean() - img.mean() - 0.15).abs() < 1e-5,
        "mean moved by {}",
        out.mean() - img.mean()
    );
    // Contrast 1.5 about zero: every value scales.
    let pipe = one_op(
        "kind = \"brightness_contrast\"\np = 1\nbrightness_limit = [0, 0]\ncontrast_limit = [0.5, 0.5]",
    );
    let mut out = img.clone();
    pipe.apply(&mut out, 9);
    for (a, b) in out.pixels.iter().zip(&img.pixels) {
        assert!((a - 1.5 * b.min(1.0 / 1.5)).abs() < 1e-5 || *a == 1.0);
    }
    // Saturates, never leaves [0, 1].
    let pipe = one_op(
        "kind = \"brightness_contrast\"\np = 1\nbrightness_limit = [1, 1]\ncontrast_limit = [1, 1]",
    );
    let mut out = img.clone();
    pipe.apply(&mut out, 1);
    assert!(out.pixels.iter().all(|&v| v == 1.0));
}

#[test]
fn cutout_zeroes_exactly_the_holes() {
    let config = CoarseDropoutConfig {
        p: 1.0,
        num_holes_range: [1, 4],
        ..Default::default()
    };
    let op = CoarseDropout::new(config, "test").unwrap();
    for seed in SEEDS {
        let img = random_image(20, 24, 0.1, 1.0, seed);
        let mut out = img.clone();
        op.apply(&mut out, &mut ChaCha8Rng::seed_from_u64(seed));
        let holes = op.sample_holes(20, 24, &mut ChaCha8Rng::seed_from_u64(seed));
        assert!(!holes.is_empty());
        for c in 0..3 {
            for y in 0..20 {
                for x in 0..24 {
                    let inside = holes
                        .iter()
                        .any(|h| (h.y0..h.y1).contains(&y) && (h.x0..h.x1).contains(&x));
                    let e = if inside { 0.0 } else { img.get(c, y, x) };
                    assert_eq!(out.get(c, y, x), e, "seed {seed} ({c},{y},{x})");
                }
            }
        }
        for h in &holes {
            // Height and width within 10..20 % of the side (at least one pixel), inside the image.
            assert!(h.y1 <= 20 && h.x1 <= 24);
            assert!(
                (2..=4).contains(&(h.y1 - h.y0)) && (2..=4).contains(&(h.x1 - h.x0)),
                "{h:?}"
            );
        }
    }
}

#[test]
fn gaussian_noise_has_the_set_spread() {
    let img = Image::from_planar_f32(vec![0.5; 3 * 64 * 64], 3, 64, 64).unwrap();
    let pipe = one_op("kind = \"gauss_noise\"\np = 1\nstd_range = [0.05, 0.05]");
    let mut out = img.clone();
    pipe.apply(&mut out, 3);
    let n = out.pixels.len() as f64;
    let mean = out.mean();
    let sd = (out
        .pixels
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    // 12288 samples: the sd estimate is within 2 % with overwhelming probability.
    assert!((mean - 0.5).abs() < 0.002, "mean {mean}");
    assert!((sd - 0.05).abs() < 0.002, "sd {sd}");
}

#[test]
fn motion_blur_keeps_a_constant_image_and_smooths_a_random_one() {
    let flat = Image::from_planar_f32(vec![0.3; 3 * 12 * 12], 3, 12, 12).unwrap();
    let pipe = one_op("kind = \"motion_blur\"\np = 1\nblur_limit = [7, 7]");
    for seed in SEEDS {
        let mut out = flat.clone();
        pipe.apply(&mut out, seed);
        assert!(out.pixels.iter().all(|v| (v - 0.3).abs() < 1e-6));
    }
    let img = random_image(32, 32, 0.0, 1.0, 8);
    let var = |im: &Image| {
        let m = im.mean();
        im.pixels
            .iter()
            .map(|&v| (f64::from(v) - m).powi(2))
            .sum::<f64>()
    };
    let mut out = img.clone();
    pipe.apply(&mut out, 1);
    assert!(
        var(&out) < 0.5 * var(&img),
        "a 7-tap line average of white noise must cut its variance"
    );
}

#[test]
fn hls_round_trip_is_identity() {
    let img = random_image(16, 16, 0.0, 1.0, 10);
    let n = 256;
    for i in 0..n {
        let (r, g, b) = (img.pixels[i], img.pixels[n + i], img.pixels[2 * n + i]);
        let (h, l, s) = rgb_to_hls(r, g, b);
        let (r2, g2, b2) = hls_to_rgb(h, l, s);
        assert!(
            (r - r2).abs() < 1e-5 && (g - g2).abs() < 1e-5 && (b - b2).abs() < 1e-5,
            "{i}"
        );
    }
}

#[test]
fn iso_noise_and_elastic_change_pixels_and_stay_in_range() {
    let img = random_image(32, 32, 0.0, 1.0, 11);
    for body in [
        "kind = \"iso_noise\"\np = 1\nintensity = [0.5, 0.5]",
        "kind = \"elastic\"\np = 1\nalpha = 20\nsigma = 4",
        "kind = \"shift_scale_rotate\"\np = 1",
        "kind = \"gauss_noise\"\np = 1",
    ] {
        let pipe = one_op(body);
        let mut out = img.clone();
        pipe.apply(&mut out, 5);
        assert!(in_range(&out), "{body}");
        assert_ne!(out, img, "{body} left the image unchanged");
    }
}

#[test]
fn random_resized_crop_full_scale_square_ratio_is_a_resize() {
    let img = random_image(12, 12, 0.0, 1.0, 12);
    let pipe =
        one_op("kind = \"random_resized_crop\"\nsize = [20, 20]\nscale = [1, 1]\nratio = [1, 1]");
    let expected = crop_resize(&img, (0, 0, 12, 12), 20, 20);
    for seed in SEEDS {
        let mut out = img.clone();
        pipe.apply(&mut out, seed);
        assert_eq!(out, expected);
    }
}

#[test]
fn random_resized_crop_output_size_and_crop_bounds() {
    let config = RandomResizedCropConfig {
        size: Some([7, 9]),
        ..Default::default()
    };
    let op = RandomResizedCrop::new(config, "t").unwrap();
    for seed in 0..200 {
        let (y0, x0, ch, cw) = op.sample_crop(30, 40, &mut ChaCha8Rng::seed_from_u64(seed));
        assert!(ch >= 1 && cw >= 1 && y0 + ch <= 30 && x0 + cw <= 40);
        let area = (ch * cw) as f64 / 1200.0;
        assert!(area <= 1.0 + 1e-9);
    }
    let mut img = random_image(30, 40, 0.0, 1.0, 13);
    op.apply(&mut img, &mut ChaCha8Rng::seed_from_u64(1));
    assert_eq!((img.channels, img.height, img.width), (3, 7, 9));
    assert!(in_range(&img));
    // Impossible ratio: falls back to the centred crop with the ratio clamped.
    let op = RandomResizedCrop::new(
        RandomResizedCropConfig {
            ratio: [3.0, 3.0],
            scale: [0.99, 1.0],
            ..Default::default()
        },
        "t",
    )
    .unwrap();
    assert_eq!(
        op.sample_crop(30, 40, &mut ChaCha8Rng::seed_from_u64(0)),
        (8, 0, 13, 40)
    );
}

#[test]
fn every_op_is_deterministic_in_its_seed_and_varies_across_seeds() {
    let img = random_image(24, 24, 0.0, 1.0, 14);
    for op in brainlike_augment::AugmentConfig::paper_heavy()
        .ops
        .into_iter()
        .chain([OpConfig::RandomResizedCrop(
            RandomResizedCropConfig::default(),
        )])
    {
        let op = match op {
            OpConfig::Elastic(mut c) => {
                c.alpha = 5.0;
                c.sigma = 3.0;
                OpConfig::Elastic(c)
            }
            other => other,
        };
        let built = op.build("t").unwrap();
        let run = |seed| {
            let mut out = img.clone();
            built.apply(&mut out, &mut ChaCha8Rng::seed_from_u64(seed));
            out
        };
        assert_eq!(run(3), run(3), "{}", built.name());
        if built.name() == "horizontal_flip" {
            continue; // no random parameters
        }
        let distinct = (0..6).map(run).filter(|o| *o != run(3)).count();
        assert!(
            distinct >= 4,
            "{} gives the same output for most seeds",
            built.name()
        );
    }
}
