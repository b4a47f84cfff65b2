//! `brainlike evaluate --run DIR`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use brainlike_core::data::{Cifar100Split, Dataset, Part};
use brainlike_core::train::eval::evaluate;
use brainlike_core::train::export::load_run;
use brainlike_core::train::trainer::{eval_batcher, run_preprocess};
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
    /// CPU threads for the backend (default: the run's `threads`, 0 = all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Runs `brainlike evaluate`.
pub fn run(args: EvaluateArgs) -> Result<ExitCode> {
    let run = brainlike_run::RunDir::open(&args.run)?;
    let recorded = run.config()?;
    let threads = args
        .threads
        .unwrap_or(recorded.f64("threads").unwrap_or(0.0) as usize);
    if threads > brainlike_core::config::max_threads() {
        anyhow::bail!(
            "--threads must be at most {} (4 × this machine's cores), got {threads}",
            brainlike_core::config::max_threads()
        );
    }
    brainlike_core::device::set_threads(threads);
    if !brainlike_core::train::trainer::is_complete(&args.run) {
        eprintln!(
            "warning: {} is not a finished run (no summary.json): evaluating whatever \
             weights.safetensors it holds",
            args.run.display()
        );
    }
    let (_, device) = brainlike_core::device::resolve(
        args.device
            .as_deref()
            .unwrap_or(recorded.device().unwrap_or("auto")),
    )?;
    let (cfg, model) = load_run(&args.run, &device)?;
    let dir = brainlike_core::data::cifar100::resolve_data_dir(
        args.data_dir.as_deref().unwrap_or(&cfg.data.dir),
    );
    let cifar = brainlike_core::data::fetch::load_or_fetch(&dir, cfg.data.offline)?;
    let cifar = std::sync::Arc::new(cifar);
    let train = Cifar100Split::new(cifar.clone(), Part::Train);
    let test = Cifar100Split::new(cifar, Part::Test);
    let pre = run_preprocess(&cfg, &train);
    let batcher = eval_batcher(&cfg, &pre);
    let n = if cfg.data.test_limit > 0 {
        cfg.data.test_limit.min(test.len())
    } else {
        test.len()
    };
    let ev = evaluate(&model, &test, n, &batcher, &device);
    let json = serde_json::json!({
        "run": args.run.display().to_string(),
        "images": n,
        "test_loss": ev.loss,
        "test_acc": ev.acc,
        "test_coarse_acc": ev.coarse_acc,
        "superclass_error_frac": ev.superclass_error_frac,
    });
    run.write_file(
        "evaluation.json",
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(ExitCode::SUCCESS)
}
