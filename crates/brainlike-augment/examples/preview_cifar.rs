//! Writes an augmentation preview grid of CIFAR-100 test images (the library half of
//! `brainlike augment --preview`), for a person to look at.
//!
//! ```text
//! cargo run --release -j 1 -p brainlike-augment --example preview_cifar -- \
//!     /work/shared/data/cifar-100-binary.tar.gz out.png [cutmix|foreground_cutmix|none] [rows] [versions]
//! ```

#[path = "common/cifar.rs"]
mod cifar;

use brainlike_augment::{
    AugmentConfig, MixConfig, MixKind, PreviewOptions, PreviewSource, write_preview,
};
use std::path::PathBuf;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let archive = PathBuf::from(
        args.get(1)
            .map_or("/work/shared/data/cifar-100-binary.tar.gz", String::as_str),
    );
    let out = PathBuf::from(args.get(2).map_or("augment_preview.png", String::as_str));
    let mix = match args.get(3).map_or("none", String::as_str) {
        "cutmix" => Some(MixConfig {
            kind: MixKind::Cutmix,
            p: 1.0,
            alpha: 1.0,
        }),
        "foreground_cutmix" => Some(MixConfig {
            kind: MixKind::ForegroundCutmix,
            p: 1.0,
            alpha: 1.0,
        }),
        "none" => None,
        other => {
            return Err(format!(
                "unknown mix `{other}` (cutmix, foreground_cutmix, none)"
            ));
        }
    };
    let rows: usize = args
        .get(4)
        .map_or(Ok(6), |s| s.parse())
        .map_err(|e| format!("rows: {e}"))?;
    let versions: usize = args
        .get(5)
        .map_or(Ok(6), |s| s.parse())
        .map_err(|e| format!("versions: {e}"))?;
    let data = cifar::read_cifar(&archive, "test.bin", rows)?;
    let pipeline = AugmentConfig::paper_heavy()
        .build("augment")
        .map_err(|e| e.to_string())?;
    let sources: Vec<PreviewSource<'_>> = data
        .images
        .iter()
        .zip(&data.labels)
        .map(|(px, &label)| PreviewSource {
            pixels: px,
            height: 32,
            width: 32,
            label,
        })
        .collect();
    let opts = PreviewOptions {
        versions,
        seed: 2022,
        mix: mix.as_ref(),
        class_names: &data.class_names,
        min_tile: 128,
    };
    write_preview(&out, &pipeline, &sources, &opts).map_err(|e| e.to_string())?;
    println!("wrote {}", out.display());
    Ok(())
}
