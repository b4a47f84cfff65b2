//! `brainlike average --run RUN --epochs 8,9,10 --out DIR`: the uniform average of a run's
//! checkpoints ([`brainlike_core::train::average`]) written as a model directory that
//! `evaluate`, `score`, `fixres` and `extract --run` read (`config.toml`, `weights.safetensors`,
//! `averaged.json` with the epochs, the source run and the test accuracy of each part and of
//! the average). Models with BatchNorm get their statistics recomputed on training data.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use brainlike_core::train::average::{average, checkpoint_model};
use brainlike_core::train::eval::evaluate;
use brainlike_core::train::export::{load_run, metadata, save_safetensors};
use clap::Args;

/// `brainlike average`.
#[derive(Args, Debug)]
pub struct AverageArgs {
    /// Run directory whose checkpoints are averaged.
    #[arg(long)]
    pub run: PathBuf,
    /// Epochs whose checkpoints are averaged (the run must keep them: checkpoint.keep = 0).
    #[arg(long, value_delimiter = ',', required = true)]
    pub epochs: Vec<usize>,
    /// Output model directory (default: RUN/averaged-E1-E2-...).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// CIFAR-100 folder for the evaluation (default: the run's data.dir, else $BRAINLIKE_DATA).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Backend (default: flex).
    #[arg(long, default_value = "flex")]
    pub device: String,
    /// Training images for recomputing the average's BatchNorm statistics (0 = every
    /// training image the run used; models without BatchNorm skip it).
    #[arg(long, default_value_t = 0)]
    pub bn_images: usize,
}

/// Runs `brainlike average`.
pub fn run(args: AverageArgs) -> Result<ExitCode> {
    let mut epochs = args.epochs.clone();
    epochs.sort_unstable();
    epochs.dedup();
    if epochs.is_empty() {
        bail!("--epochs: give at least one epoch");
    }
    let (_, device) = brainlike_core::device::resolve(&args.device)?;
    let (cfg, template) = load_run(&args.run, &device)?;
    let parts = epochs
        .iter()
        .map(|&e| checkpoint_model(&args.run, e, template.clone()))
        .collect::<brainlike_core::Result<Vec<_>>>()?;
    let avg = average(&parts)?;

    let set = brainlike_core::train::trainer::eval_set(&cfg, args.data_dir.as_deref())?;
    let (test, pre, batcher, n) = (&*set.test, set.pre, &set.batcher, set.n);
    // The mean of the parts' BatchNorm statistics is not the statistics of the mean network:
    // recompute them on training data (torch.optim.swa_utils.update_bn).
    let bn_images = if avg.spec().batch_stats {
        let k = if args.bn_images > 0 {
            args.bn_images.min(set.n_train)
        } else {
            set.n_train
        };
        eprintln!("recomputing BatchNorm statistics on {k} training images ...");
        k
    } else {
        0
    };
    let avg = if bn_images > 0 {
        let idx: Vec<usize> = (0..bn_images).collect();
        let ad = device.clone().autodiff();
        brainlike_core::train::bn_stats::recompute(
            avg,
            &*set.train,
            &idx,
            cfg.optim.batch_size,
            &brainlike_core::data::batch::Batcher::new(pre),
            &ad,
        )
    } else {
        avg
    };
    let mut rows = Vec::new();
    for (e, m) in epochs.iter().zip(&parts) {
        let ev = evaluate(m, test, n, batcher, &device);
        println!("epoch {e:>4}: test acc {:.2} %", ev.acc * 100.0);
        rows.push(serde_json::json!({ "epoch": e, "test_acc": ev.acc, "test_loss": ev.loss }));
    }
    let ev = evaluate(&avg, test, n, batcher, &device);
    println!(
        "average of epochs {epochs:?}: test acc {:.2} % ({n} test images)",
        ev.acc * 100.0
    );

    let name = epochs
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("-");
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.run.join(format!("averaged-{name}")));
    if out.join("weights.safetensors").exists() {
        bail!(
            "{}: already holds weights; choose another --out",
            out.display()
        );
    }
    std::fs::create_dir_all(&out)?;
    let mut out_cfg = cfg.clone();
    out_cfg.out_dir = out.clone();
    brainlike_run::write_atomic(&out.join("config.toml"), out_cfg.to_toml().as_bytes())?;
    let source = brainlike_core::data::cifar100::resolve_data_dir(
        args.data_dir.as_deref().unwrap_or(&cfg.data.dir),
    );
    let mut meta = metadata(&cfg, &pre, &source.display().to_string());
    meta.push(("averaged_epochs".into(), name.clone()));
    meta.push(("averaged_from".into(), args.run.display().to_string()));
    save_safetensors(&avg, &out.join("weights.safetensors"), &meta)?;
    let record = serde_json::json!({
        "run": args.run.display().to_string(),
        "epochs": epochs,
        "method": if bn_images > 0 {
            "uniform mean of every float parameter and buffer, then BatchNorm statistics recomputed on training images"
        } else {
            "uniform mean of every float parameter and buffer (no BatchNorm to recompute)"
        },
        "batch_norm_images": bn_images,
        "images": n,
        "parts": rows,
        "average": { "test_acc": ev.acc, "test_loss": ev.loss },
    });
    brainlike_run::write_atomic(
        &out.join("averaged.json"),
        serde_json::to_string_pretty(&record)?.as_bytes(),
    )?;
    println!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}
