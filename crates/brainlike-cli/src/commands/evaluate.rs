//! `brainlike evaluate --run DIR`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
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
    /// CPU threads for the backend (default: the run's `threads`, 0 = all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Robust accuracy under a PGD attack (repeatable): `NORM:EPS[:STEPS[:rs]]`, e.g.
    /// `linf:4/255:20`, `linf:8/255:20`, `l2:3.0:20:rs` (ε in pixel units of images in
    /// [0, 1]; step size 2.5·ε/steps; `rs` = random start). The table goes to
    /// `robustness.csv` in the run directory.
    #[arg(long = "attack", value_name = "NORM:EPS[:STEPS[:rs]]")]
    pub attacks: Vec<String>,
    /// Test images attacked (the first N of the evaluated ones; attacks cost steps+1 passes).
    #[arg(long, default_value_t = 1000)]
    pub attack_images: usize,
    /// Seed of the random starts.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Parses `NORM:EPS[:STEPS[:rs]]` (EPS may be a fraction `a/b`).
pub fn parse_attack(text: &str) -> Result<brainlike_core::attack::AttackSpec> {
    use brainlike_core::attack::{AttackSpec, Norm};
    let bad = |why: &str| {
        anyhow::anyhow!(
            "--attack {text:?}: {why} (expected NORM:EPS[:STEPS[:rs]], e.g. linf:8/255:20)"
        )
    };
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() < 2 || parts.len() > 4 {
        return Err(bad("2 to 4 fields"));
    }
    let norm = match parts[0] {
        "linf" => Norm::Linf,
        "l2" => Norm::L2,
        _ => return Err(bad("NORM is linf or l2")),
    };
    let eps = match parts[1].split_once('/') {
        Some((a, b)) => {
            let (a, b): (f64, f64) = (
                a.parse().map_err(|_| bad("EPS is a number or a/b"))?,
                b.parse().map_err(|_| bad("EPS is a number or a/b"))?,
            );
            a / b
        }
        None => parts[1]
            .parse()
            .map_err(|_| bad("EPS is a number or a/b"))?,
    };
    let steps: usize = match parts.get(2) {
        Some(s) => s.parse().map_err(|_| bad("STEPS is a whole number"))?,
        None => 20,
    };
    let random_start = match parts.get(3) {
        Some(&"rs") => true,
        Some(_) => return Err(bad("the fourth field can only be rs")),
        None => false,
    };
    if steps == 0 || steps > 1000 {
        return Err(bad("STEPS is 1..=1000"));
    }
    let spec = AttackSpec::pgd(norm, eps, steps, 2.5 * eps / steps as f64, random_start);
    spec.validate("attack")?;
    Ok(spec)
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
    let attacks = args
        .attacks
        .iter()
        .map(|a| parse_attack(a))
        .collect::<Result<Vec<_>>>()?;
    let (_, device) = brainlike_core::device::resolve(
        args.device
            .as_deref()
            .unwrap_or(recorded.device().unwrap_or("auto")),
    )?;
    let (cfg, model) = load_run(&args.run, &device)?;
    let set = brainlike_core::train::trainer::eval_set(&cfg, args.data_dir.as_deref())?;
    let (test, pre, batcher, n) = (&*set.test, set.pre, &set.batcher, set.n);
    let ev = evaluate(&model, test, n, batcher, &device);
    let mut robust = Vec::new();
    if !attacks.is_empty() {
        let ad = device.clone().autodiff();
        let (_, attacked) = load_run(&args.run, &ad)?;
        let m = args.attack_images.min(n);
        // Clean accuracy of the same images, once for every attack (the plain model: no
        // dropout, running statistics).
        let ca = evaluate(&model, test, m, batcher, &device).acc;
        let mut rows = String::from(
            "attack,norm,eps,steps,step_size,random_start,images,clean_acc,robust_acc\n",
        );
        for (text, spec) in args.attacks.iter().zip(&attacks) {
            let t0 = std::time::Instant::now();
            let mut correct = 0.0;
            let idx: Vec<usize> = (0..m).collect();
            for (b, chunk) in idx
                .chunks(brainlike_core::train::eval::EVAL_BATCH)
                .enumerate()
            {
                let (x, y) = batcher.batch(test, chunk, &ad);
                let r = brainlike_core::attack::robust_batch(
                    &attacked,
                    x,
                    y,
                    spec,
                    &pre,
                    brainlike_core::train::trainer::derive_seed(args.seed, &[b as u64]),
                );
                correct += r.correct.into_scalar::<f64>();
            }
            let ra = correct / m as f64;
            eprintln!(
                "{text}: robust accuracy {:.2}% (clean {:.2}%) on {m} images in {:.1} s",
                ra * 100.0,
                ca * 100.0,
                t0.elapsed().as_secs_f64()
            );
            rows.push_str(&format!(
                "{text},{:?},{},{},{},{},{m},{ca},{ra}\n",
                spec.norm, spec.eps, spec.steps, spec.step_size, spec.random_start
            ));
            robust.push(serde_json::json!({ "attack": text, "images": m, "clean_acc": ca, "robust_acc": ra }));
        }
        run.write_file("robustness.csv", rows.as_bytes())?;
    }
    let json = serde_json::json!({
        "robustness": robust,
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
