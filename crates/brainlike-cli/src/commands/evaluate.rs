//! `brainlike evaluate --run DIR`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use brainlike_core::data::batch::Batcher;
use brainlike_core::train::eval::evaluate;
use brainlike_core::train::export::load_run;
use clap::Args;

/// Evaluate a finished run.
#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// Run directory (holds config.toml and weights.safetensors).
    #[arg(long)]
    pub run: PathBuf,
    /// CIFAR-100 folder (default: the run's data.dir, else $BRAINLIKE_DATA, else ./data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Backend (default: the run's).
    #[arg(long)]
    pub device: Option<String>,
}

/// Runs `brainlike evaluate`.
pub fn run(args: EvaluateArgs) -> Result<ExitCode> {
    let cfg_text = std::fs::read_to_string(args.run.join("config.toml"))
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.run.join("config.toml").display()))?;
    let cfg: brainlike_core::TrainConfig = toml::from_str(&cfg_text)?;
    let (_, device) =
        brainlike_core::device::resolve(args.device.as_deref().unwrap_or(&cfg.device))?;
    let (cfg, model) = load_run(&args.run, &device)?;
    let dir = brainlike_core::data::cifar100::resolve_data_dir(
        args.data_dir.as_deref().unwrap_or(&cfg.data.dir),
    );
    let cifar = brainlike_core::data::fetch::load_or_fetch(&dir, cfg.data.offline)?;
    let mean = cifar.train.global_mean_first(cfg.data.train_limit) as f32;
    let batcher = Batcher {
        center: if cfg.data.center_eval { mean } else { 0.0 },
        input_size: cfg.data.input_size,
    };
    let n = if cfg.data.test_limit > 0 {
        cfg.data.test_limit.min(cifar.test.len())
    } else {
        cifar.test.len()
    };
    let ev = evaluate(
        &model,
        &cifar.test,
        n,
        &cifar.fine_to_coarse,
        &batcher,
        &device,
    );
    let json = serde_json::json!({
        "run": args.run.display().to_string(),
        "images": n,
        "test_loss": ev.loss,
        "test_acc": ev.acc,
        "test_coarse_acc": ev.coarse_acc,
        "superclass_error_frac": ev.superclass_error_frac,
    });
    brainlike_core::fsutil::write_atomic(
        &args.run.join("evaluation.json"),
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(ExitCode::SUCCESS)
}
