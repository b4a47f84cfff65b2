//! CutMix and Foreground-CutMix: label weights equal the pasted pixel fractions (CutMix) or
//! put weight 1 on the pasted image (Foreground-CutMix), rows sum to 1, seeded partners.

use brainlike_augment::mix::{
    CutBox, MixConfig, MixKind, cutmix_box, cutmix_weights, fcutmix_box, fcutmix_weights,
    mix_batch, paste,
};
use brainlike_augment::{AugmentError, Image};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Image `i` of the batch is a constant `i / 100` (so every pixel says where it came from).
fn tagged_batch(n: usize, h: usize, w: usize) -> Vec<Image> {
    (0..n)
        .map(|i| Image::from_planar_f32(vec![i as f32 / 100.0; 3 * h * w], 3, h, w).unwrap())
        .collect()
}

fn cfg(kind: MixKind, p: f64, alpha: f64) -> MixConfig {
    MixConfig { kind, p, alpha }
}

#[test]
fn cutmix_weights_of_a_known_box() {
    let b = CutBox {
        y0: 2,
        x0: 3,
        y1: 6,
        x1: 8,
    }; // 4 x 5 = 20 of 100 pixels
    let row = cutmix_weights(1, 4, b, 10, 10, 5);
    assert_eq!(row, vec![0.0, 0.8, 0.0, 0.0, 0.2]);
    assert_eq!(cutmix_weights(2, 2, b, 10, 10, 3), vec![0.0, 0.0, 1.0]);
}

#[test]
fn paste_copies_exactly_the_box() {
    let mut dst = tagged_batch(1, 6, 7).remove(0);
    let src =
        Image::from_planar_f32((0..3 * 42).map(|v| v as f32 / 200.0).collect(), 3, 6, 7).unwrap();
    let (sb, db) = (
        CutBox {
            y0: 0,
            x0: 1,
            y1: 2,
            x1: 4,
        },
        CutBox {
            y0: 3,
            x0: 4,
            y1: 5,
            x1: 7,
        },
    );
    paste(&mut dst, db, &src, sb);
    for c in 0..3 {
        for y in 0..6 {
            for x in 0..7 {
                let inside = (3..5).contains(&y) && (4..7).contains(&x);
                let e = if inside {
                    src.get(c, y - 3, x - 3)
                } else {
                    0.0
                };
                assert_eq!(dst.get(c, y, x), e);
            }
        }
    }
}

#[test]
fn cutmix_targets_equal_the_pixel_fractions() {
    let (n, h, w, classes) = (12, 10, 14, 12);
    let labels: Vec<usize> = (0..n).collect();
    for seed in 0..20 {
        let mut batch = tagged_batch(n, h, w);
        let out = mix_batch(
            &mut batch,
            &labels,
            classes,
            &cfg(MixKind::Cutmix, 1.0, 1.0),
            seed,
        )
        .unwrap();
        let mut sorted = out.partner.clone();
        sorted.sort();
        assert_eq!(sorted, labels, "partners are a permutation");
        for i in 0..n {
            let row = &out.targets[i * classes..(i + 1) * classes];
            let sum: f32 = row.iter().sum();
            assert!((sum - 1.0).abs() < 1e-6, "row {i} sums to {sum}");
            // Fraction of pixels that now carry the partner's tag.
            let j = out.partner[i];
            let from_partner = batch[i]
                .plane(0)
                .iter()
                .filter(|&&v| v == j as f32 / 100.0)
                .count() as f64
                / (h * w) as f64;
            if j != i {
                assert!(
                    (f64::from(row[j]) - from_partner).abs() < 1e-6,
                    "seed {seed} image {i}"
                );
                assert!((f64::from(row[i]) - (1.0 - from_partner)).abs() < 1e-6);
            } else {
                assert_eq!(row[i], 1.0);
            }
            if let Some((sb, db)) = out.boxes[i] {
                assert_eq!(sb, db, "CutMix pastes the same region");
                assert!(db.y1 <= h && db.x1 <= w);
            }
        }
    }
}

#[test]
fn cutmix_box_is_clipped_at_the_border() {
    let mut clipped = 0;
    for seed in 0..500 {
        let (_, b) = cutmix_box(16, 16, 1.0, &mut ChaCha8Rng::seed_from_u64(seed));
        assert!(b.y0 <= b.y1 && b.x0 <= b.x1 && b.y1 <= 16 && b.x1 <= 16);
        clipped += usize::from(b.y0 == 0 || b.x0 == 0 || b.y1 == 16 || b.x1 == 16);
    }
    assert!(
        clipped > 50,
        "boxes centred near the border must be clipped ({clipped})"
    );
}

#[test]
fn fcutmix_gives_the_pasted_image_weight_one() {
    let (n, h, w, classes) = (10, 12, 12, 10);
    let labels: Vec<usize> = (0..n).collect();
    for seed in 0..20 {
        let mut batch = tagged_batch(n, h, w);
        let originals = batch.clone();
        let out = mix_batch(
            &mut batch,
            &labels,
            classes,
            &cfg(MixKind::ForegroundCutmix, 1.0, 1.0),
            seed,
        )
        .unwrap();
        for i in 0..n {
            let row = &out.targets[i * classes..(i + 1) * classes];
            match out.boxes[i] {
                Some((sb, db)) => {
                    assert_eq!(row, fcutmix_weights(out.partner[i], classes).as_slice());
                    assert_eq!((sb.height(), sb.width()), (db.height(), db.width()));
                    // The patch comes from the partner's centre and lies wholly inside.
                    assert_eq!(
                        (sb.y0, sb.x0),
                        ((h - sb.height()) / 2, (w - sb.width()) / 2)
                    );
                    assert!(db.y1 <= h && db.x1 <= w);
                    let mut expect = originals[i].clone();
                    paste(&mut expect, db, &originals[out.partner[i]], sb);
                    assert_eq!(batch[i], expect);
                }
                None => assert_eq!(
                    row,
                    fcutmix_weights(i, classes).as_slice(),
                    "empty patch keeps the own label"
                ),
            }
        }
    }
}

#[test]
fn fcutmix_patch_area_follows_beta() {
    // alpha = 1: lambda uniform, patch area fraction ~ 1 - lambda, mean 1/2.
    let k = 4000;
    let mean = (0..k)
        .map(|s| {
            let (_, b) = fcutmix_box(224, 224, 1.0, &mut ChaCha8Rng::seed_from_u64(s));
            b.area() as f64 / (224.0 * 224.0)
        })
        .sum::<f64>()
        / k as f64;
    // sd of the mean ~ 0.29 / sqrt(4000) = 0.0046; truncation to whole pixels lowers it by < 0.01.
    assert!((0.475..0.52).contains(&mean), "mean patch fraction {mean}");
    // Large alpha concentrates lambda at 1/2.
    for s in 0..200 {
        let (_, b) = fcutmix_box(100, 100, 1000.0, &mut ChaCha8Rng::seed_from_u64(s));
        let f = b.area() as f64 / 1e4;
        assert!((0.40..0.56).contains(&f), "alpha = 1000 gave fraction {f}");
    }
}

#[test]
fn p_zero_leaves_the_batch_and_one_hot_targets() {
    let labels = vec![3, 1, 2, 0];
    let mut batch = tagged_batch(4, 8, 8);
    let before = batch.clone();
    for kind in [MixKind::Cutmix, MixKind::ForegroundCutmix] {
        let out = mix_batch(&mut batch, &labels, 5, &cfg(kind, 0.0, 1.0), 9).unwrap();
        assert_eq!(batch, before);
        assert!(out.boxes.iter().all(Option::is_none));
        for (i, &l) in labels.iter().enumerate() {
            let mut e = vec![0.0; 5];
            e[l] = 1.0;
            assert_eq!(&out.targets[i * 5..(i + 1) * 5], e.as_slice());
        }
    }
}

#[test]
fn mixing_is_seeded() {
    let labels: Vec<usize> = (0..8).collect();
    let run = |seed| {
        let mut b = tagged_batch(8, 10, 10);
        let out = mix_batch(&mut b, &labels, 8, &cfg(MixKind::Cutmix, 1.0, 1.0), seed).unwrap();
        (b, out)
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5).1.partner, run(6).1.partner);
}

#[test]
fn invalid_mix_inputs_are_named() {
    let mut batch = tagged_batch(2, 4, 4);
    for (c, key) in [
        (cfg(MixKind::Cutmix, 1.0, 0.0), "mix.alpha"),
        (cfg(MixKind::Cutmix, 1.0, f64::NAN), "mix.alpha"),
        (cfg(MixKind::Cutmix, 2.0, 1.0), "mix.p"),
    ] {
        let err = mix_batch(&mut batch, &[0, 1], 2, &c, 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{err}");
    }
    let ok = cfg(MixKind::Cutmix, 1.0, 1.0);
    assert!(matches!(
        mix_batch(&mut batch, &[0, 5], 2, &ok, 0),
        Err(AugmentError::BadImage { .. })
    ));
    assert!(matches!(
        mix_batch(&mut batch, &[0], 2, &ok, 0),
        Err(AugmentError::BadImage { .. })
    ));
    let err = toml::from_str::<MixConfig>("kind = \"cutmix\"\nalpah = 1\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("alpah"), "{err}");
    let parsed: MixConfig = toml::from_str("kind = \"foreground_cutmix\"\np = 0.5\n").unwrap();
    assert_eq!(parsed, cfg(MixKind::ForegroundCutmix, 0.5, 1.0));
}
