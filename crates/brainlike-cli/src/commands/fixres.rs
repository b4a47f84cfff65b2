//! `brainlike fixres --run RUN --sizes 24,28,32,40,48`: test accuracy of a trained model over
//! a range of test resolutions ([`brainlike_core::fixres`]), as a table (`fixres.csv` in the
//! run directory, printed) and a plot (`fixres.png`/`.svg`), with the best resolution named.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use brainlike_core::train::export::load_run;
use brainlike_stats::report::plot::{LineChart, LineSeries, OKABE_ITO, line_chart};
use clap::Args;

/// `brainlike fixres`.
#[derive(Args, Debug)]
pub struct FixresArgs {
    /// Run directory.
    #[arg(long)]
    pub run: PathBuf,
    /// Test input sides to evaluate.
    #[arg(long, value_delimiter = ',', required = true)]
    pub sizes: Vec<usize>,
    /// Crop fraction: resize to size / crop, keep the centre size x size (1 = resize only).
    #[arg(long, default_value_t = 1.0)]
    pub crop: f64,
    /// Test images (default: the run's test_limit, 0 = all).
    #[arg(long)]
    pub images: Option<usize>,
    /// CIFAR-100 folder (default: the run's data.dir, else $BRAINLIKE_DATA, else ./data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Backend (default: the run's).
    #[arg(long)]
    pub device: Option<String>,
    /// CPU threads for the backend (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Runs `brainlike fixres`.
pub fn run(args: FixresArgs) -> Result<ExitCode> {
    if let Some(t) = args.threads {
        brainlike_core::device::set_threads(t);
    }
    let run = brainlike_run::RunDir::open(&args.run)?;
    let recorded = run.config()?;
    let (_, device) = brainlike_core::device::resolve(
        args.device
            .as_deref()
            .unwrap_or(recorded.device().unwrap_or("auto")),
    )?;
    let (cfg, model) = load_run(&args.run, &device)?;
    let set = brainlike_core::train::trainer::eval_set(&cfg, args.data_dir.as_deref())?;
    let (test, batcher) = (&*set.test, &set.batcher);
    let n = match args.images {
        Some(k) if k > 0 => k.min(test.len()),
        Some(_) => test.len(),
        None => set.n,
    };
    let scores =
        brainlike_core::fixres::search(&model, test, n, batcher, &args.sizes, args.crop, &device)?;
    let mut csv = String::from("size,crop_fraction,images,test_acc,test_loss\n");
    println!(
        "trained at {0}x{0}; {n} test images, crop {1}",
        cfg.data.input_size, args.crop
    );
    println!("{:>6}  {:>8}  {:>9}", "size", "acc %", "loss");
    for s in &scores {
        csv.push_str(&format!(
            "{},{},{n},{},{}\n",
            s.size, s.crop_fraction, s.eval.acc, s.eval.loss
        ));
        println!(
            "{:>6}  {:>8.2}  {:>9.4}",
            s.size,
            s.eval.acc * 100.0,
            s.eval.loss
        );
    }
    let best = scores
        .iter()
        .max_by(|a, b| a.eval.acc.total_cmp(&b.eval.acc))
        .expect("at least one size");
    println!(
        "best: {0}x{0} ({1:.2} %; at the training size {2}x{2}: {3})",
        best.size,
        best.eval.acc * 100.0,
        cfg.data.input_size,
        scores
            .iter()
            .find(|s| s.size == cfg.data.input_size)
            .map(|s| format!("{:.2} %", s.eval.acc * 100.0))
            .unwrap_or_else(|| "not evaluated".into())
    );
    run.write_file("fixres.csv", csv.as_bytes())?;
    let chart = LineChart {
        title: format!(
            "FixRes: test accuracy by test resolution (trained at {} px)",
            cfg.data.input_size
        ),
        x_label: "test input side (px)".into(),
        y_label: "test accuracy (%)".into(),
        series: vec![LineSeries {
            label: format!("crop {}", args.crop),
            color: OKABE_ITO[1],
            points: scores
                .iter()
                .map(|s| (s.size as f64, s.eval.acc * 100.0, f64::NAN))
                .collect(),
            dashed: false,
        }],
        hline: Some((100.0 / test.classes().len() as f64, "chance".into())),
    };
    let files = line_chart(&args.run, "fixres", &chart)?;
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}
