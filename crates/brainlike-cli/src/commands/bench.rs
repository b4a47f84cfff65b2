//! `brainlike bench`: images/s of training (without and with the teacher) and inference for
//! every compiled backend, and the PyTorch peer (`bench/cornet_z_peer.py`) on the same model,
//! step and data, side by side with the ratios.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::Result;
use brainlike_core::bench::{BenchConfig, BenchResult, run_bench};
use clap::Args;

/// Benchmark the training step and inference.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Backends to measure (default: every one compiled in and present).
    #[arg(long, value_delimiter = ',')]
    pub devices: Vec<String>,
    /// Batch size of the training step.
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// Timed steps per measurement (after the warm-up).
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// Warm-up steps.
    #[arg(long, default_value_t = 3)]
    pub warmup: usize,
    /// Teacher ratio r for the teacher measurement.
    #[arg(long, default_value_t = 0.1)]
    pub ratio: f64,
    /// CIFAR-100 folder for real batches (random tensors of the same shape if absent).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// CPU threads (0 = all cores), used by both sides.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Skip the PyTorch peer.
    #[arg(long)]
    pub no_peer: bool,
    /// Python interpreter for the peer.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// The peer script.
    #[arg(long, default_value = "bench/cornet_z_peer.py")]
    pub peer_script: PathBuf,
    /// Classifier head: fc4096 (the paper's) or decoder (CORnet's avg-pool + linear).
    #[arg(long, default_value = "fc4096")]
    pub head: String,
    /// Write the results as JSON here too.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Runs `brainlike bench`.
pub fn run(args: BenchArgs) -> Result<ExitCode> {
    brainlike_core::device::set_threads(args.threads);
    let threads = if args.threads > 0 {
        args.threads
    } else {
        rayon::current_num_threads()
    };
    let devices = if args.devices.is_empty() {
        brainlike_core::device::compiled()
            .into_iter()
            .map(String::from)
            .collect()
    } else {
        args.devices.clone()
    };
    let cfg = BenchConfig {
        batch: args.batch,
        steps: args.steps,
        warmup: args.warmup,
        ratio: args.ratio,
        data_dir: args.data_dir.clone(),
        infer_batch: 512,
        head: match args.head.as_str() {
            "fc4096" => brainlike_core::config::Head::Fc4096,
            "decoder" => brainlike_core::config::Head::Decoder,
            other => anyhow::bail!("--head must be fc4096 or decoder, got {other:?}"),
        },
    };
    let mut ours: Vec<BenchResult> = Vec::new();
    for d in &devices {
        eprintln!("measuring {d} ...");
        ours.push(run_bench(d, &cfg)?);
    }
    let mut peers: Vec<serde_json::Value> = Vec::new();
    if !args.no_peer {
        let mut peer_devices = vec!["cpu"];
        if devices.iter().any(|d| d == "tch-cuda") {
            peer_devices.push("cuda");
        }
        for pd in peer_devices {
            eprintln!("measuring the PyTorch peer on {pd} ...");
            let mut cmd = Command::new(&args.python);
            cmd.arg(&args.peer_script)
                .args(["--device", pd, "--threads", &threads.to_string()])
                .args([
                    "--batch",
                    &args.batch.to_string(),
                    "--steps",
                    &args.steps.to_string(),
                ])
                .args([
                    "--warmup",
                    &args.warmup.to_string(),
                    "--ratio",
                    &args.ratio.to_string(),
                    "--head",
                    &args.head,
                ]);
            if let Some(d) = &args.data_dir {
                cmd.arg("--data-dir").arg(d);
            }
            match cmd.output() {
                Ok(o) if o.status.success() => {
                    let text = String::from_utf8_lossy(&o.stdout);
                    match text
                        .lines()
                        .last()
                        .map(serde_json::from_str::<serde_json::Value>)
                    {
                        Some(Ok(v)) => peers.push(v),
                        _ => eprintln!("peer printed no JSON: {text}"),
                    }
                }
                Ok(o) => eprintln!("peer failed: {}", String::from_utf8_lossy(&o.stderr)),
                Err(e) => eprintln!(
                    "peer not run ({} {}): {e}",
                    args.python,
                    args.peer_script.display()
                ),
            }
        }
    }
    println!(
        "CORnet-Z 32x32, {} head, SGD, batch {}, {} timed steps, {} threads, data: {}",
        args.head,
        args.batch,
        args.steps,
        threads,
        ours.first().map(|r| r.data.as_str()).unwrap_or("-")
    );
    println!(
        "{:<22} {:>12} {:>16} {:>14}",
        "backend", "train img/s", "+teacher img/s", "infer img/s"
    );
    for r in &ours {
        println!(
            "{:<22} {:>12.0} {:>16.0} {:>14.0}",
            format!("brainlike {}", r.device),
            r.train,
            r.train_teacher,
            r.inference
        );
    }
    for p in &peers {
        let f = |k: &str| p[k].as_f64().unwrap_or(f64::NAN);
        let name = format!(
            "pytorch {} {}",
            p["torch"].as_str().unwrap_or("?"),
            p["device"].as_str().unwrap_or("?")
        );
        println!(
            "{:<22} {:>12.0} {:>16.0} {:>14.0}",
            name,
            f("train"),
            f("train_teacher"),
            f("inference")
        );
    }
    for p in &peers {
        let f = |k: &str| p[k].as_f64().unwrap_or(f64::NAN);
        let peer_dev = p["device"].as_str().unwrap_or("cpu");
        for r in ours
            .iter()
            .filter(|r| (peer_dev == "cuda") == (r.device == "tch-cuda"))
        {
            println!(
                "ratio {:<16} {:>12.2}x {:>15.2}x {:>13.2}x   (brainlike / pytorch {peer_dev})",
                r.device,
                r.train / f("train"),
                r.train_teacher / f("train_teacher"),
                r.inference / f("inference")
            );
        }
    }
    if let Some(path) = &args.json {
        let json = serde_json::json!({ "brainlike": ours, "pytorch": peers, "threads": threads, "batch": args.batch, "steps": args.steps });
        brainlike_run::write_atomic(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}
