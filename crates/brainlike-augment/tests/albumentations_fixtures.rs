//! Deterministic ops against albumentations 2.0.8 / OpenCV on the same float32 image.
//! The fixture `tests/fixtures/albu_fixtures.json` was made by
//! `tests/fixtures/make_albu_fixtures.py` (committed beside it); this test reads only the JSON.

use brainlike_augment::Image;
use brainlike_augment::ops::brightness_contrast::multiply_add;
use brainlike_augment::ops::horizontal_flip::hflip;
use brainlike_augment::ops::iso_noise::{hls_to_rgb, rgb_to_hls};
use brainlike_augment::ops::motion_blur::{filter2d, motion_kernel};
use brainlike_augment::ops::random_resized_crop::crop_resize;
use brainlike_augment::ops::shift_scale_rotate::{AffineParams, affine};
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/albu_fixtures.json"
);

fn load() -> Value {
    let text =
        std::fs::read_to_string(FIXTURE).unwrap_or_else(|e| panic!("cannot read {FIXTURE}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{FIXTURE} is not JSON: {e}"))
}

fn floats(v: &Value, key: &str) -> Vec<f32> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{FIXTURE}: `{key}` is not an array"))
        .iter()
        .map(|x| {
            x.as_f64()
                .unwrap_or_else(|| panic!("{FIXTURE}: `{key}` holds a non-number"))
                as f32
        })
        .collect()
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{FIXTURE}: case {} lacks number `{key}`", v["name"]))
}

fn input(doc: &Value) -> Image {
    let (h, w, c) = (
        num(doc, "height") as usize,
        num(doc, "width") as usize,
        num(doc, "channels") as usize,
    );
    Image::from_interleaved_f32(&floats(doc, "input"), c, h, w)
        .expect("fixture input has h*w*c values")
}

fn expected(case: &Value, c: usize, h: usize, w: usize) -> Image {
    Image::from_interleaved_f32(&floats(case, "output"), c, h, w)
        .unwrap_or_else(|e| panic!("case {}: output size: {e}", case["name"]))
}

fn cases<'a>(doc: &'a Value, name: &str) -> Vec<&'a Value> {
    let found: Vec<&Value> = doc["cases"]
        .as_array()
        .expect("`cases` array")
        .iter()
        .filter(|c| c["name"] == name)
        .collect();
    assert!(!found.is_empty(), "{FIXTURE} has no case `{name}`");
    found
}

/// Largest and mean absolute difference.
fn diff(a: &Image, b: &Image) -> (f32, f32) {
    assert_eq!(
        (a.channels, a.height, a.width),
        (b.channels, b.height, b.width),
        "shapes differ"
    );
    let d: Vec<f32> = a
        .pixels
        .iter()
        .zip(&b.pixels)
        .map(|(x, y)| (x - y).abs())
        .collect();
    (
        d.iter().fold(0.0, |m, &v| m.max(v)),
        d.iter().sum::<f32>() / d.len() as f32,
    )
}

#[test]
fn brightness_contrast_matches_albumentations() {
    let doc = load();
    for name in ["brightness_contrast", "brightness_contrast_dark"] {
        for case in cases(&doc, name) {
            let mut img = input(&doc);
            multiply_add(
                &mut img,
                num(case, "alpha") as f32,
                num(case, "beta") as f32,
            );
            let (max, _) = diff(&img, &expected(case, 3, img.height, img.width));
            assert!(max < 1e-5, "{name}: max |diff| {max}");
        }
    }
}

#[test]
fn hflip_matches_albumentations() {
    let doc = load();
    let mut img = input(&doc);
    hflip(&mut img);
    let (max, _) = diff(
        &img,
        &expected(cases(&doc, "hflip")[0], 3, img.height, img.width),
    );
    assert_eq!(max, 0.0);
}

#[test]
fn affine_matches_albumentations() {
    let doc = load();
    for case in cases(&doc, "affine") {
        let img = input(&doc);
        let p = AffineParams {
            rotate_deg: num(case, "rotate"),
            scale_x: num(case, "scale_x"),
            scale_y: num(case, "scale_y"),
            tx: num(case, "tx"),
            ty: num(case, "ty"),
        };
        let out = affine(&img, p, 0.0);
        let (max, mean) = diff(&out, &expected(case, 3, img.height, img.width));
        assert!(max < 1e-4, "affine {p:?}: max {max}, mean {mean}");
        // Negative control: the opposite rotation is far off, so the tolerance can tell.
        let wrong = affine(
            &img,
            AffineParams {
                rotate_deg: -p.rotate_deg,
                ..p
            },
            0.0,
        );
        let (_, wrong_mean) = diff(&wrong, &expected(case, 3, img.height, img.width));
        assert!(
            wrong_mean > 10.0 * mean.max(1e-3),
            "control: mirrored rotation {wrong_mean} vs {mean}"
        );
        eprintln!(
            "affine {p:?}: max {max:.5}, mean {mean:.6}, mirrored-rotation mean {wrong_mean:.4}"
        );
    }
}

#[test]
fn motion_kernel_and_filter_match_albumentations() {
    let doc = load();
    for case in cases(&doc, "motion_blur") {
        let k = num(case, "k") as usize;
        let kernel = motion_kernel(k, num(case, "angle"), num(case, "direction"), (0.0, 0.0));
        assert_eq!(
            kernel,
            floats(case, "kernel"),
            "kernel k={k} angle={}",
            case["angle"]
        );
        let img = input(&doc);
        let out = filter2d(&img, &kernel, k);
        let (max, _) = diff(&out, &expected(case, 3, img.height, img.width));
        assert!(max < 1e-5, "motion blur k={k}: max {max}");
    }
}

#[test]
fn resize_and_crop_resize_match_opencv() {
    let doc = load();
    let img = input(&doc);
    let case = cases(&doc, "resize")[0];
    let (oh, ow) = (num(case, "out_h") as usize, num(case, "out_w") as usize);
    let out = crop_resize(&img, (0, 0, img.height, img.width), oh, ow);
    let (max, _) = diff(&out, &expected(case, 3, oh, ow));
    assert!(max < 1e-5, "resize: max {max}");
    let case = cases(&doc, "crop_resize")[0];
    let crop = (
        num(case, "y0") as usize,
        num(case, "x0") as usize,
        num(case, "ch") as usize,
        num(case, "cw") as usize,
    );
    let (oh, ow) = (num(case, "out_h") as usize, num(case, "out_w") as usize);
    let out = crop_resize(&img, crop, oh, ow);
    let (max, _) = diff(&out, &expected(case, 3, oh, ow));
    assert!(max < 1e-5, "crop+resize: max {max}");
}

#[test]
fn hls_conversions_match_opencv() {
    let doc = load();
    let img = input(&doc);
    let n = img.height * img.width;
    let hls_ref = floats(cases(&doc, "rgb_to_hls")[0], "output");
    let shift = num(cases(&doc, "hls_shift_to_rgb")[0], "hue_shift") as f32;
    let rgb_ref = floats(cases(&doc, "hls_shift_to_rgb")[0], "output");
    for i in 0..n {
        let (h, l, s) = rgb_to_hls(img.pixels[i], img.pixels[n + i], img.pixels[2 * n + i]);
        assert!(
            (h - hls_ref[3 * i]).abs() < 1e-3,
            "hue at {i}: {h} vs {}",
            hls_ref[3 * i]
        );
        assert!((l - hls_ref[3 * i + 1]).abs() < 1e-5, "lightness at {i}");
        assert!((s - hls_ref[3 * i + 2]).abs() < 1e-5, "saturation at {i}");
        let (r, g, b) = hls_to_rgb(h + shift, l, s);
        for (ch, v) in [r, g, b].into_iter().enumerate() {
            let e = rgb_ref[3 * i + ch];
            assert!(
                (v.clamp(0.0, 1.0) - e).abs() < 1e-4,
                "hls->rgb at {i} ch {ch}: {v} vs {e}"
            );
        }
    }
}

#[test]
fn elastic_matches_opencv_blur_and_albumentations_remap() {
    use brainlike_augment::ops::elastic::elastic_from_noise;
    let doc = load();
    for case in cases(&doc, "elastic") {
        let img = input(&doc);
        let (alpha, sigma) = (num(case, "alpha"), num(case, "sigma"));
        let out = elastic_from_noise(&img, &floats(case, "noise"), alpha, sigma, 0.0);
        let (max, mean) = diff(&out, &expected(case, 3, img.height, img.width));
        eprintln!("elastic alpha {alpha} sigma {sigma}: max {max:.6}, mean {mean:.7}");
        // Displacements move pixels by up to `alpha` * (blurred noise); a wrong blur or sign
        // moves them elsewhere. OpenCV's remap rounds positions to 1/32 pixel.
        assert!(
            max < 0.02 && mean < 0.002,
            "elastic alpha {alpha} sigma {sigma}: max {max}, mean {mean}"
        );
        let unwarped = diff(&img, &out).1;
        assert!(
            unwarped > 5.0 * mean,
            "control: the warp must move pixels ({unwarped} vs {mean})"
        );
    }
}

#[test]
fn iso_noise_matches_albumentations_given_the_same_draws() {
    use brainlike_augment::ops::iso_noise::iso_noise_with;
    let doc = load();
    for case in cases(&doc, "iso_noise") {
        let mut img = input(&doc);
        let to64 = |k: &str| {
            floats(case, k)
                .into_iter()
                .map(f64::from)
                .collect::<Vec<f64>>()
        };
        let shot = to64("shot");
        assert!(
            shot.iter().any(|&s| s > 0.0),
            "fixture must contain shot noise"
        );
        iso_noise_with(&mut img, num(case, "intensity"), &shot, &to64("hue"));
        let (max, mean) = diff(&img, &expected(case, 3, img.height, img.width));
        assert!(
            max < 1e-4,
            "iso noise intensity {}: max {max}, mean {mean}",
            num(case, "intensity")
        );
    }
}
