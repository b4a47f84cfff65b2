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
    /// Rounds: each measures every backend and the peer once, in alternating order (ours
    /// first in odd rounds, the peer first in even ones); the table shows each side's median
    /// over the rounds and every round's ratio, so that a drift of the machine's speed (up to
    /// 30% between runs on a shared 2-core VM) hits both sides alike.
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
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
    let peer_script = args.peer_script.clone().unwrap_or_else(|| {
        PathBuf::from(if cornet {
            "bench/cornet_z_peer.py"
        } else {
            "bench/imagenet_peer.py"
        })
    });
    let mut peer_devices = vec!["cpu"];
    if devices.iter().any(|d| d == "tch-cuda") {
        peer_devices.push("cuda");
    }
    if args.rounds == 0 {
        anyhow::bail!("--rounds must be at least 1");
    }
    let mut rounds: Vec<(Vec<BenchResult>, Vec<serde_json::Value>)> = Vec::new();
    let mut profiles = Vec::new();
    for round in 0..args.rounds {
        let label = if args.rounds > 1 {
            format!(" (round {} of {})", round + 1, args.rounds)
        } else {
            String::new()
        };
        let measure_ours = |profiles: &mut Vec<_>| -> Result<Vec<BenchResult>> {
            let mut ours = Vec::new();
            for d in &devices {
                eprintln!("measuring {d}{label} ...");
                let r = run_bench(d, &cfg)?;
                if args.profile && round == 0 {
                    eprintln!("profiling {d} by layer kind ...");
                    let p = brainlike_core::bench::profile::run_profile(d, &cfg)?;
                    profiles.push((d.clone(), p, cfg.batch as f64 / r.train));
                }
                ours.push(r);
            }
            Ok(ours)
        };
        let measure_peers = || -> Vec<serde_json::Value> {
            if args.no_peer {
                return Vec::new();
            }
            peer_devices
                .iter()
                .filter_map(|pd| {
                    eprintln!("measuring the PyTorch peer on {pd}{label} ...");
                    run_peer(&args, &cfg, arch.name(), cornet, &peer_script, threads, pd)
                })
                .collect()
        };
        let (ours, peers) = if round % 2 == 0 {
            let ours = measure_ours(&mut profiles)?;
            (ours, measure_peers())
        } else {
            let peers = measure_peers();
            (measure_ours(&mut profiles)?, peers)
        };
        rounds.push((ours, peers));
    }
    let (ours, peers) = medians(&rounds);
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
    for (r, p) in pairs(&ours, &peers) {
        let f = |k: &str| p[k].as_f64().unwrap_or(f64::NAN);
        let peer_dev = p["device"].as_str().unwrap_or("cpu");
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
    if rounds.len() > 1 {
        println!(
            "(medians over {} rounds; training ratio by round:)",
            rounds.len()
        );
        for (i, (ours, peers)) in rounds.iter().enumerate() {
            let ratios: Vec<String> = pairs(ours, peers)
                .map(|(r, p)| {
                    let peer_train = p["train"].as_f64().unwrap_or(f64::NAN);
                    format!("{} {:.2}x", r.device, r.train / peer_train)
                })
                .collect();
            println!("  round {}: {}", i + 1, ratios.join(", "));
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
        let rounds: Vec<_> = rounds
            .iter()
            .map(|(ours, peers)| serde_json::json!({ "brainlike": ours, "pytorch": peers }))
            .collect();
        let json = serde_json::json!({ "model": arch.name(), "size": cfg.size, "brainlike": ours, "pytorch": peers, "rounds": rounds, "profiles": profiles, "threads": threads, "batch": cfg.batch, "infer_batch": cfg.infer_batch, "steps": cfg.steps, "warmup": cfg.warmup });
        brainlike_run::write_atomic(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the PyTorch peer script once on `peer_device`; its JSON line, or `None` (said on
/// stderr) when it failed or is missing.
fn run_peer(
    args: &BenchArgs,
    cfg: &BenchConfig,
    model: &str,
    cornet: bool,
    script: &PathBuf,
    threads: usize,
    peer_device: &str,
) -> Option<serde_json::Value> {
    let mut cmd = Command::new(&args.python);
    cmd.arg(script)
        .args(["--device", peer_device, "--threads", &threads.to_string()])
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
        cmd.args(["--model", model, "--size", &cfg.size.to_string()]);
    }
    match cmd.output() {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            match text
                .lines()
                .last()
                .map(serde_json::from_str::<serde_json::Value>)
            {
                Some(Ok(v)) => Some(v),
                _ => {
                    eprintln!("peer printed no JSON: {text}");
                    None
                }
            }
        }
        Ok(o) => {
            eprintln!("peer failed: {}", String::from_utf8_lossy(&o.stderr));
            None
        }
        Err(e) => {
            eprintln!("peer not run ({} {}): {e}", args.python, script.display());
            None
        }
    }
}

/// Each of our results with the peer run it is compared with: the CUDA peer for `tch-cuda`,
/// the CPU peer for every other backend.
fn pairs<'a>(
    ours: &'a [BenchResult],
    peers: &'a [serde_json::Value],
) -> impl Iterator<Item = (&'a BenchResult, &'a serde_json::Value)> {
    peers.iter().flat_map(move |p| {
        let cuda = p["device"].as_str() == Some("cuda");
        ours.iter()
            .filter(move |r| cuda == (r.device == "tch-cuda"))
            .map(move |r| (r, p))
    })
}

/// The median of `values` (NaN when empty); the mean of the middle two for an even count.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Each backend's and each peer device's median images/s over the rounds (the first round's
/// record with its figures replaced).
fn medians(
    rounds: &[(Vec<BenchResult>, Vec<serde_json::Value>)],
) -> (Vec<BenchResult>, Vec<serde_json::Value>) {
    let Some((first_ours, first_peers)) = rounds.first() else {
        return (Vec::new(), Vec::new());
    };
    let ours = first_ours
        .iter()
        .map(|r| {
            let same: Vec<&BenchResult> = rounds
                .iter()
                .flat_map(|(o, _)| o.iter().filter(|x| x.device == r.device))
                .collect();
            let teacher: Vec<f64> = same.iter().filter_map(|x| x.train_teacher).collect();
            BenchResult {
                train: median(same.iter().map(|x| x.train).collect()),
                train_teacher: (!teacher.is_empty()).then(|| median(teacher)),
                inference: median(same.iter().map(|x| x.inference).collect()),
                ..r.clone()
            }
        })
        .collect();
    let peers = first_peers
        .iter()
        .map(|p| {
            let same: Vec<&serde_json::Value> = rounds
                .iter()
                .flat_map(|(_, ps)| ps.iter().filter(|x| x["device"] == p["device"]))
                .collect();
            let field = |k: &str| {
                let v: Vec<f64> = same.iter().filter_map(|x| x[k].as_f64()).collect();
                (!v.is_empty()).then(|| median(v))
            };
            let mut m = p.clone();
            for k in ["train", "train_teacher", "inference"] {
                m[k] = field(k).map_or(serde_json::Value::Null, serde_json::Value::from);
            }
            m
        })
        .collect();
    (ours, peers)
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_even_and_empty_sets() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }
}
