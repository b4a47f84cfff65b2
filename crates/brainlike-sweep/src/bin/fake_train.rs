//! A stand-in for the `brainlike` binary in the sweep tests: it honours `brainlike train`'s
//! run-directory contract without any deep learning, and runs `sweep` with the real library
//! (through the [`brainlike_sweep::ProcessRunner`], i.e. trainings as child processes).
//!
//! `fake_train train [--config F] --set k=v ... [--resume]`:
//! - needs `out_dir`; epochs from `optim.epochs` (default 3); each epoch sleeps
//!   `FAKE_TRAIN_EPOCH_MS` milliseconds (default 50), appends a row to `metrics.csv`, then
//!   writes `checkpoint.json`; `--resume` continues after the checkpoint's epoch, dropping
//!   metrics rows past it; finally `summary.json` (brainlike-run's atomic write).
//! - appends `begin <pid> <mode>` / `end <pid>` to `attempts.txt`, and refuses (exit 3)
//!   to train a run whose `summary.json` exists, so a test can see double work.
//! - `fake.fail_once = true` fails the first attempt (exit 1) after one epoch.
//!
//! `fake_train sweep ...`: exactly `brainlike sweep` (see [`brainlike_sweep::SweepArgs`]).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use brainlike_run::write_atomic;
use brainlike_sweep::{ProcessRunner, SweepArgs, sweep_main};
use clap::Parser;

#[derive(Parser)]
enum Cli {
    /// Pretend to train.
    Train(TrainArgs),
    /// Run a sweep with this binary as the trainer.
    Sweep(SweepArgs),
}

#[derive(clap::Args)]
struct TrainArgs {
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    #[arg(long)]
    resume: bool,
}

fn main() -> ExitCode {
    let result = match Cli::parse() {
        Cli::Train(a) => train(&a),
        Cli::Sweep(a) => std::env::current_exe()
            .map_err(anyhow::Error::from)
            .and_then(|exe| {
                let runner = ProcessRunner::new(&exe);
                sweep_main(&a, &runner, &exe)
            }),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn train(a: &TrainArgs) -> anyhow::Result<u8> {
    let mut set = BTreeMap::new();
    for s in &a.set {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--set {s}: expected KEY=VALUE"))?;
        let v: toml::Value = v
            .parse()
            .map_err(|e| anyhow::anyhow!("--set {s}: not a TOML value: {e}"))?;
        set.insert(k.to_string(), v);
    }
    let out_dir = match set.get("out_dir") {
        Some(toml::Value::String(s)) => PathBuf::from(s),
        _ => anyhow::bail!("--set out_dir=\"...\" is required"),
    };
    let epochs = set
        .get("optim.epochs")
        .and_then(|v| v.as_integer())
        .unwrap_or(3) as u64;
    let ms: u64 = std::env::var("FAKE_TRAIN_EPOCH_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    std::fs::create_dir_all(&out_dir)?;
    let pid = std::process::id();
    let mode = if a.resume { "resume" } else { "start" };
    append(
        &out_dir.join("attempts.txt"),
        &format!("begin {pid} {mode}"),
    )?;
    if out_dir.join("summary.json").exists() {
        append(&out_dir.join("attempts.txt"), &format!("refused {pid}"))?;
        eprintln!("fake_train: {} is already complete", out_dir.display());
        return Ok(3);
    }
    let mut config = String::new();
    if let Some(c) = &a.config {
        config += &std::fs::read_to_string(c)?;
    }
    for (k, v) in &set {
        config += &format!("# --set {k}={v}\n");
    }
    std::fs::write(out_dir.join("config.toml"), config)?;

    let ckpt = out_dir.join("checkpoint.json");
    let mut done = 0;
    if a.resume && ckpt.exists() {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&ckpt)?)?;
        done = v["epoch"].as_u64().unwrap_or(0);
    }
    // Keep only metrics rows up to the checkpoint.
    let metrics = out_dir.join("metrics.csv");
    let kept: Vec<String> = std::fs::read_to_string(&metrics)
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            l.split(',')
                .next()
                .and_then(|e| e.parse::<u64>().ok())
                .is_some_and(|e| e <= done)
        })
        .map(str::to_string)
        .collect();
    let mut text = String::from("epoch,test_acc\n");
    for l in &kept {
        text += l;
        text += "\n";
    }
    std::fs::write(&metrics, text)?;

    let fail_once = set.get("fake.fail_once").and_then(|v| v.as_bool()) == Some(true);
    let seed = set.get("seed").and_then(|v| v.as_integer()).unwrap_or(0);
    for epoch in done + 1..=epochs {
        std::thread::sleep(std::time::Duration::from_millis(ms));
        append(&metrics, &format!("{epoch},{:.4}", 0.01 * epoch as f64))?;
        write_atomic(&ckpt, format!("{{\"epoch\": {epoch}}}").as_bytes())?;
        if fail_once && !out_dir.join("failed_once").exists() {
            std::fs::write(out_dir.join("failed_once"), "")?;
            eprintln!("fake_train: failing on purpose after epoch {epoch}");
            return Ok(1);
        }
    }
    let summary = serde_json::json!({
        "seed": seed,
        "epochs": epochs,
        "final": { "test_acc": 0.01 * epochs as f64 },
        "ratio": set.get("teacher.ratio").map(|v| v.to_string()),
    });
    write_atomic(
        &out_dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    append(&out_dir.join("attempts.txt"), &format!("end {pid}"))?;
    Ok(0)
}

fn append(path: &Path, line: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(f, "{line}")
}
