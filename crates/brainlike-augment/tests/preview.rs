//! The preview grid: a PNG of the right size whose source tiles are the sources upscaled
//! (nearest) and whose captions are drawn.

use brainlike_augment::{
    AugmentConfig, MixConfig, MixKind, PreviewOptions, PreviewSource, write_preview,
};

/// Planar 3 x 32 x 32 image: a colour per quadrant, distinct per image.
fn source(k: u8) -> Vec<u8> {
    let mut px = vec![0u8; 3 * 32 * 32];
    for c in 0..3 {
        for y in 0..32 {
            for x in 0..32 {
                let q = (y / 16) * 2 + x / 16;
                px[(c * 32 + y) * 32 + x] = (40 * q as u8 + 30 * c as u8 + 20 * k) % 250;
            }
        }
    }
    px
}

#[test]
fn preview_png_has_the_grid_and_the_upscaled_sources() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("preview.png");
    let pixels: Vec<Vec<u8>> = (0..3).map(source).collect();
    let sources: Vec<PreviewSource<'_>> = pixels
        .iter()
        .enumerate()
        .map(|(i, p)| PreviewSource {
            pixels: p,
            height: 32,
            width: 32,
            label: i,
        })
        .collect();
    let names: Vec<String> = ["apple", "bee", "castle"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mix = MixConfig {
        kind: MixKind::Cutmix,
        p: 1.0,
        alpha: 1.0,
    };
    let pipeline = AugmentConfig::paper_heavy().build("augment").unwrap();
    let opts = PreviewOptions {
        versions: 4,
        seed: 1,
        mix: Some(&mix),
        class_names: &names,
        min_tile: 128,
    };
    write_preview(&path, &pipeline, &sources, &opts).unwrap();

    let png = image::open(&path).unwrap().to_rgb8();
    // 5 columns of max(128, 170) + 8 px, plus the left margin.
    assert_eq!(png.width(), 5 * (170 + 8) + 8);
    assert!(png.height() > 3 * (128 + 8), "rows of tiles plus captions");
    // The first source tile (origin 8, 8) is the source upscaled 4x, nearest.
    for (y, x) in [(0usize, 0usize), (5, 20), (20, 5), (31, 31), (17, 14)] {
        for (dy, dx) in [(0, 0), (3, 3), (1, 2)] {
            let p = png.get_pixel((8 + x * 4 + dx) as u32, (8 + y * 4 + dy) as u32);
            let e: Vec<u8> = (0..3).map(|c| pixels[0][(c * 32 + y) * 32 + x]).collect();
            assert_eq!(p.0.to_vec(), e, "source pixel ({y}, {x}) sub ({dy}, {dx})");
        }
    }
    // Captions: dark text pixels in the band under the first tile.
    let dark = (8..170)
        .flat_map(|x| (8 + 128 + 4..8 + 128 + 4 + 30).map(move |y| (x, y)))
        .filter(|&(x, y)| png.get_pixel(x, y).0.iter().all(|&v| v < 100))
        .count();
    assert!(
        dark > 30,
        "caption text under the first tile ({dark} dark pixels)"
    );
}

#[test]
fn preview_reports_a_bad_source() {
    let dir = tempfile::tempdir().unwrap();
    let short = vec![0u8; 10];
    let sources = [PreviewSource {
        pixels: &short,
        height: 32,
        width: 32,
        label: 0,
    }];
    let pipeline = AugmentConfig::default().build("augment").unwrap();
    let opts = PreviewOptions {
        versions: 1,
        seed: 0,
        mix: None,
        class_names: &[],
        min_tile: 64,
    };
    let err = write_preview(&dir.path().join("p.png"), &pipeline, &sources, &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("preview source 0"), "{err}");
}
