//! `brainlike score --model RUN_DIR [--model RUN_DIR2 ...]`: brain-likeness of trained models
//! at every layer.
//!
//! Benchmarks (ids `<dataset>.<region>-<metric>`):
//!
//! * `Federer2019.V1-rsa` (default): the model's cosine distances (`1 − cos`) between the
//!   flattened layer activations of the two stimuli of every teacher pair, compared with the
//!   monkey-V1 cosine distances of the built-in pack (the trainer's own pairs and stimulus
//!   preprocessing). Main score: Spearman ρ with average ranks for ties (rsatoolbox
//!   `spearman`) on the pairs whose two stimuli the run held out of its teacher
//!   (`teacher.holdout_fraction`, `teacher.split_seed`); the in-sample pairs and the
//!   untrained floor (same architecture initialised from the run's seed) beside it, each with
//!   Pearson r and a seeded paired bootstrap over stimuli (percentile 95 % CI) in the JSON.
//!   There is no noise ceiling for a pair list (one distance per pair, no repetitions): the
//!   row says so (`formula = none`, no ceiling, ceiled = raw).
//!   `--pairs v1_shuffled|gaussian_v1_stats|gaussian_non_v1_stats|FILE.tsv` scores against a
//!   control instead (id `Federer2019.<set>-rsa`, or `custom.<file stem>-rsa`).
//! * `custom.<REGION>-pls` (with `--neural FILE.npy --stimuli FILE.txt --images DIR
//!   [--strata FILE]`): Brain-Score neural predictivity: layers wider than 1,000 features
//!   reduced by PCA (see `brainlike_core::extract`), PLS with 25 components, 10 shuffle splits
//!   of 90 % / 10 % (stratified with `--strata`), Pearson r per neuron on held-out stimuli,
//!   median over neurons, mean over splits; split-half noise ceiling over repetitions
//!   (Spearman–Brown), ceiled with `--ceiling r/c` (default) or `r^2/c`. One row per layer and
//!   a committed row (no layer): the layer with the best held-out score.
//! * `FreemanZiemba2013.V1-pls`, `FreemanZiemba2013.V2-pls`, `Rajalingham2018-i2n` (with
//!   `--assembly FILE.nc --stimulus-set FILE.csv`, Brain-Score's own files as downloaded):
//!   the same PLS / i2n with Brain-Score's data definitions (region, 50-200 ms window,
//!   `texture_type` strata; see `brainlike_score::brainscore_public`). The converted inputs
//!   are kept in `--out`/`brainscore_inputs/<id>/`.
//! * `custom.behavior-i2n` (with `--behavior trials.csv --images DIR`): penultimate features,
//!   explicit read-out (z-scored, multinomial logistic regression `C = 1e-3`, out-of-fold
//!   probabilities from stratified k-fold), Brain-Score's i2n consistency with its trial
//!   split-half ceiling.
//!
//! The benchmarks live in `brainlike-score` (one file each, found by id in its registry);
//! this command parses flags, calls it and writes the files.
//!
//! Outputs in `--out` (default `./scores`): `scores.csv`, `scores.json` (rows plus details,
//! models, input size and preprocessing), `layer_profile.png` / `.svg` (score vs layer, one
//! line per model, for the first benchmark with per-layer rows; other such benchmarks get
//! `layer_profile_<id>.png` / `.svg`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, anyhow};
use brainlike_core::extract::BRAIN_SCORE_PCA;
use brainlike_metrics::ceiling::CeilingFormula;
use brainlike_metrics::scores::{Score, write_scores_csv};
use brainlike_score::registry::{self, Options};
use brainlike_score::{
    Benchmark, BenchmarkScore, Context, Details, FEATURES_NOTE, LoadOptions, Model, model_names,
    preprocessing_note,
};
use brainlike_stats::report::layer_profile::plot_layer_profile;
use clap::Args;
use serde::Serialize;
use serde_json::json;

/// Score trained models' brain-likeness at every layer.
#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// Run directory (holds config.toml and weights.safetensors); repeat for several models.
    #[arg(long = "model", required = true, value_name = "RUN_DIR")]
    pub models: Vec<PathBuf>,
    /// Benchmark (repeatable): Federer2019.V1-rsa, Federer2019.<pair set>-rsa,
    /// custom.<REGION>-pls, custom.behavior-i2n. Default: Federer2019.V1-rsa, plus
    /// custom.<--region>-pls when --neural is given and custom.behavior-i2n when --behavior is.
    #[arg(long = "benchmark", value_name = "NAME")]
    pub benchmarks: Vec<String>,
    /// Layers to score, comma separated (v1,v2,v4,it, conv3, penultimate); default: every tap.
    #[arg(long, value_delimiter = ',')]
    pub layers: Vec<String>,
    /// Output folder.
    #[arg(long, default_value = "scores")]
    pub out: PathBuf,
    /// Backend (default: each run's).
    #[arg(long)]
    pub device: Option<String>,
    /// Input side length (default: each run's data.input_size).
    #[arg(long)]
    pub size: Option<usize>,
    /// Images per forward pass.
    #[arg(long, default_value_t = 64)]
    pub chunk: usize,
    /// CPU threads for the backend (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// RSA: teacher pair set (v1, v1_shuffled, gaussian_v1_stats, gaussian_non_v1_stats) or a
    /// pair TSV (image_a, image_b, cosine_distance).
    #[arg(long, default_value = "v1")]
    pub pairs: String,
    /// RSA: teacher pack folder (default: the pack built into the binary).
    #[arg(long)]
    pub pack_dir: Option<PathBuf>,
    /// RSA: bootstrap resamples of the stimuli for the confidence interval (0 = none).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Seed of the RSA bootstrap, the split-half ceiling, the PCA, the i2n read-out folds and
    /// trial halves (the PLS splits use Brain-Score's fixed seed 1).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// PLS: neural responses, .npy stimuli x neurons [x repetitions], f32/f64.
    #[arg(long)]
    pub neural: Option<PathBuf>,
    /// PLS: stimulus ids, one per line, in the row order of --neural (file names in --images,
    /// with or without extension).
    #[arg(long)]
    pub stimuli: Option<PathBuf>,
    /// PLS / i2n: folder of the stimulus images (PNG or JPEG).
    #[arg(long)]
    pub images: Option<PathBuf>,
    /// PLS: stratification labels (e.g. object category), one per line, same order.
    #[arg(long)]
    pub strata: Option<PathBuf>,
    /// PLS: region name used in the benchmark id custom.<REGION>-pls.
    #[arg(long, default_value = "neural")]
    pub region: String,
    /// PLS / i2n: ceiling formula, r/c (Brain-Score before 2025) or r^2/c.
    #[arg(long, default_value = "r/c")]
    pub ceiling: String,
    /// PLS: components (Brain-Score: 25; capped at the training stimuli and features).
    #[arg(long, default_value_t = 25)]
    pub pls_components: usize,
    /// PLS: PCA components for wider layers (Brain-Score: 1000, the cap); 0 = no PCA.
    #[arg(long, default_value_t = BRAIN_SCORE_PCA)]
    pub pca: usize,
    /// i2n: 2AFC trials, CSV image_id,true_label,distractor_label,choice_label[,subject].
    #[arg(long)]
    pub behavior: Option<PathBuf>,
    /// i2n: inverse L2 strength of the logistic read-out (Brain-Score: 1e-3).
    #[arg(long, default_value_t = 1e-3)]
    pub readout_c: f64,
    /// i2n: folds of the cross-validated read-out.
    #[arg(long, default_value_t = 5)]
    pub readout_folds: usize,
    /// FreemanZiemba2013.V1-pls / .V2-pls / Rajalingham2018-i2n: Brain-Score's assembly as
    /// downloaded (netCDF4, e.g. assy_movshon_FreemanZiemba2013_public.nc).
    #[arg(long, value_name = "FILE.nc")]
    pub assembly: Option<PathBuf>,
    /// With --assembly: Brain-Score's stimulus set CSV, or a folder with that one CSV (its zip
    /// unpacked beside it or in --stimuli-dir).
    #[arg(long, value_name = "FILE.csv", requires = "assembly")]
    pub stimulus_set: Option<PathBuf>,
    /// Folder the stimulus set's zip was unpacked into (default: the CSV's folder).
    #[arg(long, value_name = "DIR", requires = "stimulus_set")]
    pub stimuli_dir: Option<PathBuf>,
}

/// A score row with its details, as written to `scores.json`.
#[derive(Debug, Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    score: Score,
    details: &'a Details,
}

fn sanitize(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs `brainlike score`.
pub fn run(args: ScoreArgs) -> Result<ExitCode> {
    validate(&args)?;
    if let Some(t) = args.threads {
        brainlike_core::device::set_threads(t);
    }
    let ceiling: CeilingFormula = args
        .ceiling
        .parse()
        .map_err(|e| anyhow!("--ceiling: {e}"))?;
    let opts = Options {
        pairs: args.pairs.clone(),
        pack_dir: args.pack_dir.clone(),
        bootstrap: args.bootstrap,
        seed: args.seed,
        neural: args.neural.clone(),
        stimuli: args.stimuli.clone(),
        images: args.images.clone(),
        strata: args.strata.clone(),
        region: args.region.clone(),
        ceiling,
        pls_components: args.pls_components,
        pca: args.pca,
        behavior: args.behavior.clone(),
        readout_c: args.readout_c,
        readout_folds: args.readout_folds,
        assembly: args.assembly.clone(),
        stimulus_set: args.stimulus_set.clone(),
        stimuli_dir: args.stimuli_dir.clone(),
        // Converted Brain-Score inputs are kept beside the scores, so the run can be checked.
        data_dir: Some(args.out.join("brainscore_inputs")),
    };
    let benchmarks = registry::build_all(&args.benchmarks, &opts)?;
    let load = LoadOptions {
        device: args.device.clone(),
        size: args.size,
        layers: args.layers.clone(),
    };
    let models: Vec<Model> = args
        .models
        .iter()
        .zip(model_names(&args.models))
        .map(|(d, n)| Model::load(d, n, &load))
        .collect::<brainlike_score::Result<_>>()?;
    for w in models.iter().flat_map(|m| &m.warnings) {
        eprintln!("warning: {w}");
    }

    let mut ctx = Context::new(args.chunk);
    let mut results: Vec<BenchmarkScore> = Vec::new();
    let total = benchmarks.len() * models.len();
    let start = std::time::Instant::now();
    for b in &benchmarks {
        for m in &models {
            let t0 = std::time::Instant::now();
            let done = results.len();
            let eta = if done == 0 {
                String::new()
            } else {
                let left = start.elapsed().mul_f64((total - done) as f64 / done as f64);
                format!(", eta {}", brainlike_core::train::resume::clock(left))
            };
            eprintln!(
                "[{}/{total}] scoring {} on {}{eta}",
                done + 1,
                m.name,
                b.id()
            );
            let s = b
                .score(m, &mut ctx)
                .with_context(|| format!("{}: {}", m.name, b.id()))?;
            eprintln!(
                "{}: {} scored in {:.1} s",
                m.name,
                b.id(),
                t0.elapsed().as_secs_f64()
            );
            for w in &s.warnings {
                eprintln!("warning: {w}");
            }
            results.push(s);
        }
    }

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let scores: Vec<Score> = results.iter().flat_map(|s| s.csv_rows()).collect();
    write_scores_csv(&scores, args.out.join("scores.csv"))?;
    let rows: Vec<Row> = results
        .iter()
        .flat_map(|s| {
            s.csv_rows().into_iter().zip(&s.rows).map(|(score, r)| Row {
                score,
                details: &r.details,
            })
        })
        .collect();
    let runs = results
        .iter()
        .map(|s| -> Result<serde_json::Value> {
            let mut v = serde_json::to_value(s)?;
            if let Some(o) = v.as_object_mut() {
                o.remove("rows");
            }
            Ok(v)
        })
        .collect::<Result<Vec<_>>>()?;
    let json = json!({
        "producer": format!("brainlike {}", env!("CARGO_PKG_VERSION")),
        "models": models.iter().map(|m| json!({
            "name": m.name,
            "run_dir": m.dir.as_ref().map(|d| d.display().to_string()),
            "arch": m.arch(),
            "device": m.device_name,
            "input_size": m.size,
            "layers": m.layers.iter().map(|l| l.name()).collect::<Vec<_>>(),
            "seed": m.config.seed,
            "teacher": {
                "ratio": m.config.teacher.ratio,
                "pairs": m.config.teacher.pairs,
                "holdout_fraction": m.config.teacher.holdout_fraction,
                "split_seed": m.config.teacher.split_seed,
            },
        })).collect::<Vec<_>>(),
        "preprocessing": models.iter().map(|m| (m.name.clone(), preprocessing_note(m.size))).collect::<BTreeMap<_, _>>(),
        "features": FEATURES_NOTE,
        "benchmarks": benchmarks.iter().map(|b| b.describe()).collect::<Vec<_>>(),
        "results": runs,
        "scores": &rows,
    });
    brainlike_core::fsutil::write_atomic(
        &args.out.join("scores.json"),
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;

    // Layer profiles: benchmarks with more than one layer per model.
    let mut first = true;
    let mut plots = Vec::new();
    for b in &benchmarks {
        let sel: Vec<Score> = scores
            .iter()
            .filter(|s| s.id == b.id() && s.layer.is_some())
            .cloned()
            .collect();
        let layers: std::collections::HashSet<&str> =
            sel.iter().filter_map(|s| s.layer.as_deref()).collect();
        if layers.len() < 2 {
            continue;
        }
        let stem = if first {
            "layer_profile".to_string()
        } else {
            format!("layer_profile_{}", sanitize(b.id()))
        };
        first = false;
        for ext in ["png", "svg"] {
            let p = args.out.join(format!("{stem}.{ext}"));
            plot_layer_profile(&sel, &p, &format!("{}: {}", b.id(), b.quantity()))?;
            plots.push(p);
        }
    }

    print_tables(&benchmarks, &results, &models);
    println!(
        "wrote {}, {}{}",
        args.out.join("scores.csv").display(),
        args.out.join("scores.json").display(),
        plots
            .iter()
            .map(|p| format!(", {}", p.display()))
            .collect::<String>()
    );
    Ok(ExitCode::SUCCESS)
}

fn layer_name(l: &Option<String>) -> String {
    l.clone().unwrap_or_else(|| "committed".into())
}

fn print_tables(benchmarks: &[Box<dyn Benchmark>], results: &[BenchmarkScore], models: &[Model]) {
    for b in benchmarks {
        let sel: Vec<&BenchmarkScore> = results.iter().filter(|s| s.id == b.id()).collect();
        let rsa = sel
            .iter()
            .flat_map(|s| &s.rows)
            .any(|r| matches!(r.details, Details::Rsa(_)));
        if rsa {
            print_rsa(b.id(), &sel);
        } else {
            print_table(b.id(), &sel, models);
        }
    }
}

/// ρ with its bootstrap interval.
fn rho_cell(p: &brainlike_score::federer2019_v1_rsa::PairScore) -> String {
    match &p.bootstrap {
        Some(b) => format!("{:.4} [{:.3}, {:.3}]", p.spearman, b.ci_low, b.ci_high),
        None => format!("{:.4}", p.spearman),
    }
}

fn print_rsa(id: &str, sel: &[&BenchmarkScore]) {
    println!("\n{id} — Spearman rho [95% bootstrap CI]; no ceiling");
    for s in sel {
        if let Some(sp) = &s.split {
            let n = |f: fn(&brainlike_score::federer2019_v1_rsa::RsaDetails) -> usize| {
                s.rows
                    .iter()
                    .find_map(|r| match &r.details {
                        Details::Rsa(d) => Some(f(d)),
                        _ => None,
                    })
                    .unwrap_or(0)
            };
            println!(
                "{}: held-out split {} (seed {}, {} of {} stimuli, hash {}): {} held-out pairs, {} in-sample pairs{}",
                s.model,
                sp.holdout_fraction,
                sp.split_seed,
                sp.heldout_stimuli,
                sp.heldout_stimuli + sp.teacher_stimuli,
                sp.heldout_hash,
                n(|d| d.heldout.n_pairs),
                n(|d| d.in_sample.n_pairs),
                if sp.heldout_overlaps_training {
                    " (held-out pairs were in this run's training: in-sample)"
                } else {
                    ""
                }
            );
        }
        println!(
            "{:<12} {:>24} {:>24} {:>24} {:>24}",
            "layer", "held-out", "in-sample", "untrained (held-out)", "untrained (in-sample)"
        );
        for r in &s.rows {
            if let Details::Rsa(d) = &r.details {
                println!(
                    "{:<12} {:>24} {:>24} {:>24} {:>24}",
                    layer_name(&r.layer),
                    rho_cell(&d.heldout),
                    rho_cell(&d.in_sample),
                    rho_cell(&d.floor),
                    rho_cell(&d.floor_in_sample)
                );
            }
        }
        let best = s
            .rows
            .iter()
            .filter(|r| r.raw.is_finite())
            .max_by(|a, b| a.raw.total_cmp(&b.raw));
        if let Some(r) = best {
            println!(
                "most V1-like layer of {}: {} (held-out rho = {:.4})",
                s.model,
                r.layer.as_deref().unwrap_or("?"),
                r.raw
            );
        }
    }
}

fn print_table(id: &str, sel: &[&BenchmarkScore], models: &[Model]) {
    let mut layers: Vec<String> = Vec::new();
    for r in sel.iter().flat_map(|s| &s.rows) {
        let l = layer_name(&r.layer);
        if !layers.contains(&l) {
            layers.push(l);
        }
    }
    println!("\n{id} — raw r (ceiled)");
    let w = models
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(8)
        .max(22);
    print!("{:<12}", "layer");
    for m in models {
        print!(" {:>w$}", m.name);
    }
    println!();
    for l in &layers {
        print!("{l:<12}");
        for m in models {
            let cell = sel
                .iter()
                .filter(|s| s.model == m.name)
                .flat_map(|s| &s.rows)
                .find(|r| layer_name(&r.layer) == *l)
                .map(|r| match r.ceiled {
                    Some(c) => format!("{:.4} ({c:.4})", r.raw),
                    None => format!("{:.4}", r.raw),
                })
                .unwrap_or_default();
            print!(" {cell:>w$}");
        }
        println!();
    }
}

/// Refuses flag values that would panic or exhaust the machine, naming the flag.
fn validate(args: &ScoreArgs) -> Result<()> {
    use brainlike_core::config::{MAX_INPUT_SIZE, max_threads};
    if args.assembly.is_some() && args.benchmarks.is_empty() {
        anyhow::bail!(
            "--assembly: say which benchmark scores it: --benchmark FreemanZiemba2013.V1-pls, \
             FreemanZiemba2013.V2-pls or Rajalingham2018-i2n"
        );
    }
    if let Some(size) = args.size
        && !(1..=MAX_INPUT_SIZE).contains(&size)
    {
        anyhow::bail!("--size must be between 1 and {MAX_INPUT_SIZE}, got {size}");
    }
    if let Some(t) = args.threads
        && t > max_threads()
    {
        anyhow::bail!(
            "--threads must be at most {} (4 × this machine's cores), got {t}",
            max_threads()
        );
    }
    for (flag, v, min) in [
        ("--chunk", args.chunk, 1),
        ("--pls-components", args.pls_components, 1),
        ("--readout-folds", args.readout_folds, 2),
    ] {
        if v < min {
            anyhow::bail!("{flag} must be at least {min}, got {v}");
        }
    }
    if !(args.readout_c.is_finite() && args.readout_c > 0.0) {
        anyhow::bail!(
            "--readout-c must be a finite number > 0, got {}",
            args.readout_c
        );
    }
    Ok(())
}
