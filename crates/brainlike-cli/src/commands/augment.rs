//! `brainlike augment --preview`: what the network sees. Reads a training configuration (its
//! `[[augment.ops]]` and `[mix]`, or `--paper-heavy`), takes N training images and writes a
//! PNG grid of each source and M augmented versions, the ops that fired and the mixed labels
//! written under each tile.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use brainlike_augment::{AugmentConfig, PreviewOptions, PreviewSource, write_preview};
use brainlike_core::TrainConfig;
use brainlike_core::data::{Cifar100Split, Dataset, Part};
use clap::Args;

/// `brainlike augment`.
#[derive(Args, Debug)]
pub struct AugmentArgs {
    /// Write the preview grid to this PNG.
    #[arg(long, value_name = "OUT.png")]
    pub preview: PathBuf,
    /// Training configuration (or recipe) whose `[[augment.ops]]` and `[mix]` are shown.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override a key, as for `brainlike train` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Show the paper's heavy augmentation (Riedel 2022, Table 1) instead of the config's ops.
    #[arg(long)]
    pub paper_heavy: bool,
    /// Source images (rows): the first N training images.
    #[arg(long, default_value_t = 6)]
    pub images: usize,
    /// Augmented versions per image (columns after the source).
    #[arg(long, default_value_t = 6)]
    pub versions: usize,
    /// CIFAR-100 folder (default: the config's data.dir, else $BRAINLIKE_DATA, else ./data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Seed of the augmentation draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs `brainlike augment`.
pub fn run(args: AugmentArgs) -> Result<ExitCode> {
    if args.images == 0 || args.images > 64 || args.versions == 0 || args.versions > 16 {
        bail!(
            "--images must be 1..=64 and --versions 1..=16, got {} and {}",
            args.images,
            args.versions
        );
    }
    let cfg = TrainConfig::load(args.config.as_deref(), &args.sets)?;
    let augment = if args.paper_heavy {
        AugmentConfig::paper_heavy()
    } else {
        cfg.augment.clone()
    };
    if augment.ops.is_empty() && cfg.mix.is_none() {
        eprintln!(
            "note: the configuration has no [[augment.ops]] and no [mix]: the versions equal \
             the source (use --paper-heavy to see the paper's list)"
        );
    }
    let pipeline = augment.build("augment").map_err(|e| anyhow!("{e}"))?;
    let dir = brainlike_core::data::cifar100::resolve_data_dir(
        args.data_dir.as_deref().unwrap_or(&cfg.data.dir),
    );
    let cifar = brainlike_core::data::fetch::load_or_fetch(&dir, cfg.data.offline)?;
    let train = Cifar100Split::new(std::sync::Arc::new(cifar), Part::Train);
    let n = args.images.min(train.len());
    let images: Vec<_> = (0..n).map(|i| train.image(i)).collect();
    let sources: Vec<PreviewSource<'_>> = images
        .iter()
        .enumerate()
        .map(|(i, img)| PreviewSource {
            pixels: &img.pixels,
            height: img.height,
            width: img.width,
            label: train.label(i),
        })
        .collect();
    let class_names: Vec<String> = train.classes().to_vec();
    let opts = PreviewOptions {
        versions: args.versions,
        seed: args.seed,
        mix: cfg.mix.as_ref(),
        class_names: &class_names,
        min_tile: 128,
    };
    if let Some(parent) = args.preview.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    write_preview(&args.preview, &pipeline, &sources, &opts).map_err(|e| anyhow!("{e}"))?;
    println!(
        "wrote {} ({n} images x {} versions; ops: {}{})",
        args.preview.display(),
        args.versions,
        if pipeline.is_empty() {
            "none".to_string()
        } else {
            pipeline.names().join(", ")
        },
        cfg.mix
            .as_ref()
            .map(|m| format!("; mix: {:?} p {} alpha {}", m.kind, m.p, m.alpha))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
