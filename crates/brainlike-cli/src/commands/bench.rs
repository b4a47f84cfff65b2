//! `brainlike bench`: images/s of training (without and with the teacher for CORnet-Z) and
//! inference for every compiled backend, and the PyTorch peer (`bench/cornet_z_peer.py`, or
//! `bench/imagenet_peer.py` for `--model resnet50|efficientnet_b1`) on the same model, step and
//! data, side by side with the ratios; `--profile` splits the step time by layer kind.

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
    /// Model: cornet_z (32 px, CIFAR-100 shapes), resnet50 or efficientnet_b1 (1000 classes,
    /// random tensors).
    #[arg(long, default_value = "cornet_z")]
    pub model: String,
    /// Input side (default: 32 for cornet_z, the model's default input size otherwise: 224
    /// for resnet50, 240 for efficientnet_b1).
    #[arg(long)]
    pub size: Option<usize>,
    /// Batch size of the training step (default 128 for cornet_z, 32 otherwise).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Inference batch (default 512 for cornet_z, the training batch otherwise).
    #[arg(long)]
    pub infer_batch: Option<usize>,
    /// Timed steps per measurement, after the warm-up (default 20 for cornet_z, 5 otherwise).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Warm-up steps (default 3 for cornet_z, 1 otherwise).
    #[arg(long)]
    pub warmup: Option<usize>,
    /// Also split the training step by layer kind (resnet50, efficientnet_b1).
    #[arg(long)]
    pub profile: bool,
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
    /// The peer script (default: bench/cornet_z_peer.py for cornet_z, bench/imagenet_peer.py
    /// otherwise).
    #[arg(long)]
    pub peer_script: Option<PathBuf>,
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
    let Some(arch) = brainlike_core::models::Arch::parse(&args.model) else {
        anyhow::bail!(
            "--model must be cornet_z, resnet50 or efficientnet_b1, got {:?}",
            args.model
        );
    };
    let cornet = arch.name() == "cornet_z";
    if !cornet && arch.name() != "resnet50" && arch.name() != "efficientnet_b1" {
        anyhow::bail!(
            "--model must be cornet_z, resnet50 or efficientnet_b1, got {:?}",
            args.model
        );
    }
    let mut cfg = BenchConfig::for_arch(arch);
    cfg.batch = args.batch.unwrap_or(cfg.batch);
    cfg.infer_batch = args
        .infer_batch
        .unwrap_or(if cornet { cfg.infer_batch } else { cfg.batch });
    cfg.steps = args.steps.unwrap_or(cfg.steps);
    cfg.warmup = args.warmup.unwrap_or(cfg.warmup);
    cfg.size = args.size.unwrap_or(cfg.size);
    cfg.ratio = args.ratio;
    cfg.data_dir = args.data_dir.clone();
    cfg.head = match args.head.as_str() {
        "fc4096" => brainlike_core::config::Head::Fc4096,
        "decoder" => brainlike_core::config::Head::Decoder,
        other => anyhow::bail!("--head must be fc4096 or decoder, got {other:?}"),
    };
    let mut ours: Vec<BenchResult> = Vec::new();
    let mut profiles = Vec::new();
    for d in &devices {
        eprintln!("measuring {d} ...");
        let r = run_bench(d, &cfg)?;
        if args.profile {
            eprintln!("profiling {d} by layer kind ...");
            let p = brainlike_core::bench::profile::run_profile(d, &cfg)?;
            profiles.push((d.clone(), p, cfg.batch as f64 / r.train));
        }
        ours.push(r);
    }
    let peer_script = args.peer_script.clone().unwrap_or_else(|| {
        PathBuf::from(if cornet {
            "bench/cornet_z_peer.py"
        } else {
            "bench/imagenet_peer.py"
        })
    });
    let mut peers: Vec<serde_json::Value> = Vec::new();
    if !args.no_peer {
        let mut peer_devices = vec!["cpu"];
        if devices.iter().any(|d| d == "tch-cuda") {
            peer_devices.push("cuda");
        }
        for pd in peer_devices {
            eprintln!("measuring the PyTorch peer on {pd} ...");
            let mut cmd = Command::new(&args.python);
            cmd.arg(&peer_script)
                .args(["--device", pd, "--threads", &threads.to_string()])
                .args([
                    "--batch",
                    &cfg.batch.to_string(),
                    "--infer-batch",
                    &cfg.infer_batch.to_string(),
                    "--steps",
                    &cfg.steps.to_string(),
                    "--warmup",
                    &cfg.warmup.to_string(),
                ]);
            if cornet {
                cmd.args(["--ratio", &args.ratio.to_string(), "--head", &args.head]);
                if let Some(d) = &args.data_dir {
                    cmd.arg("--data-dir").arg(d);
                }
            } else {
                cmd.args(["--model", arch.name(), "--size", &cfg.size.to_string()]);
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
                    peer_script.display()
                ),
            }
        }
    }
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
    if cornet {
        println!(
            "CORnet-Z 32x32, {} head, SGD, batch {}, inference batch {}, {} timed steps after {}, {} threads, data: {}",
            args.head,
            cfg.batch,
            cfg.infer_batch,
            cfg.steps,
            cfg.warmup,
            threads,
            ours.first().map(|r| r.data.as_str()).unwrap_or("-")
        );
    } else {
        println!(
            "{} {}x{}, 1000 classes, SGD lr 0.01 + cross-entropy, batch {}, inference batch {}, {} timed steps after {}, {} threads, random tensors",
            arch.name(),
            cfg.size,
            cfg.size,
            cfg.batch,
            cfg.infer_batch,
            cfg.steps,
            cfg.warmup,
            threads
        );
    }
    println!(
        "{:<22} {:>12} {:>16} {:>14}",
        "backend", "train img/s", "+teacher img/s", "infer img/s"
    );
    for r in &ours {
        println!(
            "{:<22} {:>12.1} {:>16} {:>14.1}",
            format!("brainlike {}", r.device),
            r.train,
            opt(r.train_teacher),
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
            "{:<22} {:>12.1} {:>16} {:>14.1}",
            name,
            f("train"),
            opt(p["train_teacher"].as_f64()),
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
            let teacher = match (r.train_teacher, p["train_teacher"].as_f64()) {
                (Some(a), Some(b)) => format!("{:.2}x", a / b),
                _ => "-".into(),
            };
            println!(
                "ratio {:<16} {:>11.2}x {:>16} {:>13.2}x   (brainlike / pytorch {peer_dev})",
                r.device,
                r.train / f("train"),
                teacher,
                r.inference / f("inference")
            );
        }
    }
    for (d, p, step_secs) in &profiles {
        println!(
            "\n{d}: training step by layer kind ({}, batch {}, {} px; measured step {:.3} s)",
            arch.name(),
            cfg.batch,
            cfg.size,
            step_secs
        );
        print!("{}", p.table(*step_secs));
    }
    if let Some(path) = &args.json {
        let profiles: Vec<_> = profiles
            .iter()
            .map(|(d, p, s)| serde_json::json!({ "device": d, "step_secs": s, "profile": p }))
            .collect();
        let json = serde_json::json!({ "model": arch.name(), "size": cfg.size, "brainlike": ours, "pytorch": peers, "profiles": profiles, "threads": threads, "batch": cfg.batch, "infer_batch": cfg.infer_batch, "steps": cfg.steps, "warmup": cfg.warmup });
        brainlike_run::write_atomic(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}
