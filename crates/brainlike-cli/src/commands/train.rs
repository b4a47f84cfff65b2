//! `brainlike train`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
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
    /// Continue the interrupted run in out_dir from its newest checkpoint.
    #[arg(long)]
    pub resume: bool,
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
        Ok(TrainConfig::load(self.config.as_deref(), &sets)?)
    }
}

/// Runs `brainlike train`.
pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let cfg = args.config()?;
    brainlike_core::device::set_threads(cfg.threads);
    let res = load_resources(&cfg)?;
    eprintln!(
        "training {:?} on {} ({} train / {} test images), teacher: {}; run dir {}",
        cfg.model.arch,
        res.cifar.source.display(),
        if cfg.data.train_limit > 0 {
            cfg.data.train_limit
        } else {
            res.cifar.train.len()
        },
        if cfg.data.test_limit > 0 {
            cfg.data.test_limit
        } else {
            res.cifar.test.len()
        },
        if cfg.teacher.enabled() {
            format!(
                "{} at {}, r = {}, first {:?} epochs",
                cfg.teacher.pairs, cfg.teacher.layer, cfg.teacher.ratio, cfg.teacher.epochs
            )
        } else {
            "off".into()
        },
        cfg.out_dir.display()
    );
    let opts = TrainOptions {
        resume: args.resume,
        progress: !args.quiet,
        stop_after: None,
    };
    let s = train(&cfg, &res, &opts)?;
    println!("{}", serde_json::to_string_pretty(&s)?);
    Ok(ExitCode::SUCCESS)
}
