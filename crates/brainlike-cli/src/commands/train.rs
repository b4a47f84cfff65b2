//! `brainlike train`.

use std::path::PathBuf;
use std::process::ExitCode;

use std::io::IsTerminal;

use anyhow::{Result, bail};
use brainlike_core::TrainConfig;
use brainlike_core::train::{TrainOptions, load_resources, train};
use clap::Args;

/// Train one run.
#[derive(Args, Debug)]
#[command(after_long_help = brainlike_core::config::keys_help())]
pub struct TrainArgs {
    /// TOML configuration file (keys below; anything not given takes its default).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override a key: `--set teacher.ratio=0.1` (repeatable; TOML values).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Continue a run from its newest checkpoint: `--resume runs/X` (or `--resume` with the
    /// run's `--out-dir`) reads the run's own config.toml. A finished run is trained longer
    /// with `--set optim.epochs=N` (besides `threads`, `data.dir`, `data.offline` and the
    /// `checkpoint.*` intervals, the only key that may differ).
    #[arg(long, num_args = 0..=1, value_name = "RUN_DIR")]
    pub resume: Option<Option<PathBuf>>,
    /// Shortcut for `--set data.dir=DIR`.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Shortcut for `--set device=NAME` (auto | flex | tch | tch-cuda).
    #[arg(long)]
    pub device: Option<String>,
    /// Shortcut for `--set out_dir=DIR`.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Never download CIFAR-100 (`--set data.offline=true`).
    #[arg(long)]
    pub offline: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Start from these weights: a PyTorch `state_dict` as
    /// `safetensors.torch.save_file(model.state_dict(), FILE)` writes it (torchvision
    /// resnet50 / vgg16, timm efficientnet_b1, official CORnet-Z names), or a brainlike run's
    /// weights.safetensors. Every tensor must fit the configured model, except a classifier
    /// with another class count, which is replaced by a fresh one (and said so).
    #[arg(long, visible_alias = "weights", value_name = "FILE.safetensors")]
    pub init: Option<PathBuf>,
}

impl TrainArgs {
    /// The configuration these arguments describe.
    pub fn config(&self) -> Result<TrainConfig> {
        let mut sets = self.sets.clone();
        let quote = |p: &PathBuf| toml::Value::String(p.display().to_string()).to_string();
        if let Some(d) = &self.data_dir {
            sets.push(format!("data.dir={}", quote(d)));
        }
        if let Some(d) = &self.device {
            sets.push(format!("device={d}"));
        }
        if let Some(d) = &self.out_dir {
            sets.push(format!("out_dir={}", quote(d)));
        }
        if self.offline {
            sets.push("data.offline=true".into());
        }
        if let Some(Some(dir)) = &self.resume {
            sets.push(format!("out_dir={}", quote(dir)));
        }
        let cfg = TrainConfig::load(self.config.as_deref(), &sets)?;
        if self.resume.is_none() {
            return Ok(cfg);
        }
        // Resuming: the run's own config.toml is the base (unless --config names one).
        let dir = cfg.out_dir.clone();
        let own = dir.join("config.toml");
        if !own.is_file() {
            bail!(
                "--resume: nothing to resume in {}: {}; start a new run without --resume",
                dir.display(),
                if dir.is_dir() {
                    "it holds no config.toml"
                } else {
                    "no such run directory"
                }
            );
        }
        if self.config.is_some() {
            return Ok(cfg);
        }
        Ok(TrainConfig::load_run_config(&own, &sets)?)
    }
}

/// Runs `brainlike train`.
pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let cfg = args.config()?;
    if cfg.out_dir.exists() && !cfg.out_dir.is_dir() {
        bail!(
            "out_dir {} is a file, not a directory; choose another --out-dir",
            cfg.out_dir.display()
        );
    }
    if args.resume.is_some() && !brainlike_core::train::checkpoint::any(&cfg.out_dir) {
        eprintln!(
            "warning: {} has no checkpoint (the run stopped before its first epoch ended): \
             starting it from epoch 1",
            cfg.out_dir.display()
        );
    }
    brainlike_core::device::set_threads(cfg.threads);
    let res = load_resources(&cfg)?;
    let used = |limit: usize, len: usize| if limit > 0 { limit.min(len) } else { len };
    eprintln!(
        "training {} on {} ({} train / {} test images), teacher: {}; run dir {}",
        cfg.model.arch,
        res.source,
        used(cfg.data.train_limit, res.train.len()),
        used(cfg.data.test_limit, res.test.len()),
        if cfg.teacher.enabled() {
            format!(
                "{} pairs at layer {}, r = {}, {} (stimuli {})",
                cfg.teacher.pairs,
                cfg.teacher.layer,
                cfg.teacher.ratio,
                cfg.teacher.epochs,
                if cfg.teacher.center_stimuli {
                    "normalised like the training images"
                } else {
                    "uncentred"
                }
            )
        } else {
            "off".into()
        },
        cfg.out_dir.display()
    );
    let mut tricks = Vec::new();
    if !cfg.augment.ops.is_empty() {
        let names: Vec<String> = cfg
            .augment
            .ops
            .iter()
            .map(|o| format!("{} (p {})", o.name(), o.p()))
            .collect();
        tricks.push(format!("augmentation: {}", names.join(", ")));
    }
    if let Some(m) = &cfg.mix {
        tricks.push(format!("mix: {:?} (p {}, alpha {})", m.kind, m.p, m.alpha));
    }
    if cfg.adversarial.method != brainlike_core::train::transform::Method::None {
        let a = &cfg.adversarial;
        tricks.push(format!(
            "adversarial training: {:?} {:?} eps {:.5}{}",
            a.method,
            a.norm,
            a.eps,
            match a.method {
                brainlike_core::train::transform::Method::Pgd => format!(", {} steps", a.steps),
                brainlike_core::train::transform::Method::Free => {
                    format!(", {} replays", a.replays)
                }
                _ => String::new(),
            }
        ));
    }
    if !tricks.is_empty() {
        eprintln!("{}", tricks.join("; "));
    }
    let opts = TrainOptions {
        resume: args.resume.is_some(),
        progress: !args.quiet && std::io::stderr().is_terminal(),
        stop_after: None,
        weights: args.init.clone(),
        log_lines: !std::io::stderr().is_terminal(),
        ..Default::default()
    };
    let s = train(&cfg, &res, &opts)?;
    println!("{}", serde_json::to_string_pretty(&s)?);
    Ok(ExitCode::SUCCESS)
}
