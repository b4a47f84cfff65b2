//! `brainlike score --model RUN_DIR [--model RUN_DIR2 ...]`: brain-likeness of trained models
//! at every layer.
//!
//! Benchmarks (ids `<dataset>.<region>-<metric>`):
//!
//! * `Federer2019.V1-rsa` (default): the model's cosine distances (`1 − cos`) between the
//!   flattened layer activations of the two stimuli of every teacher pair, compared with the
//!   monkey-V1 cosine distances of the built-in pack (the trainer's own pairs and stimulus
//!   preprocessing). Main score: Spearman ρ with average ranks for ties (rsatoolbox
//!   `spearman`); Pearson r and a seeded paired bootstrap over stimuli (percentile 95 % CI)
//!   in the JSON. There is no noise ceiling for a pair list (one distance per pair, no
//!   repetitions): the row says so (`formula = none`, no ceiling, ceiled = raw).
//!   `--pairs v1_shuffled|gaussian_v1_stats|gaussian_non_v1_stats|FILE.tsv` scores against a
//!   control instead (id `Federer2019.<set>-rsa`, or `custom.<file stem>-rsa`).
//! * `custom.<REGION>-pls` (with `--neural FILE.npy --stimuli FILE.txt --images DIR
//!   [--strata FILE]`): Brain-Score neural predictivity: layers wider than 1,000 features
//!   reduced by PCA (see `brainlike_core::extract`), PLS with 25 components, 10 shuffle splits
//!   of 90 % / 10 % (stratified with `--strata`), Pearson r per neuron on held-out stimuli,
//!   median over neurons, mean over splits; split-half noise ceiling over repetitions
//!   (Spearman–Brown), ceiled with `--ceiling r/c` (default) or `r^2/c`. One row per layer and
//!   a committed row (no layer): the layer with the best held-out score.
//! * `custom.behavior-i2n` (with `--behavior trials.csv --images DIR`): penultimate features,
//!   explicit read-out (z-scored, multinomial logistic regression `C = 1e-3`, out-of-fold
//!   probabilities from stratified k-fold), Brain-Score's i2n consistency with its trial
//!   split-half ceiling.
//!
//! Outputs in `--out` (default `./scores`): `scores.csv`, `scores.json` (rows plus details,
//! models, input size and preprocessing), `layer_profile.png` / `.svg` (score vs layer, one
//! line per model, for the first benchmark with per-layer rows; other such benchmarks get
//! `layer_profile_<id>.png` / `.svg`).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use brainlike_core::data::teacher::{PAIR_SETS, PackSource, PairSet, Stimuli, load_pairs};
use brainlike_core::extract::{
    Activations, BRAIN_SCORE_PCA, Layer, extract, load_image_folder, pca_reduce,
};
use brainlike_core::models::Network;
use brainlike_core::train::export::load_run;
use brainlike_metrics::ceiling::{CeilingFormula, ceil_score, split_half_ceiling};
use brainlike_metrics::i2n::{
    I2nConfig, cross_validated_probabilities, i2n_score, read_trials_csv,
};
use brainlike_metrics::io::NeuralData;
use brainlike_metrics::logistic::LogisticRegression;
use brainlike_metrics::pls::PlsRegression;
use brainlike_metrics::predictivity::{CrossValidation, layer_commitment, neural_predictivity};
use brainlike_metrics::scores::{Score, plot_layer_profile, write_scores_csv};
use brainlike_metrics::{CompareMethod, compare_vectors, pair_cosine_distances, stats};
use clap::Args;
use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

/// Version of the benchmarks as implemented here (bump when a definition changes).
pub const BENCHMARK_VERSION: &str = "1";

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
}

/// A benchmark to run.
#[derive(Debug, Clone, PartialEq)]
enum Benchmark {
    Rsa { id: String, pairs: String },
    Pls { id: String },
    I2n { id: String },
}

impl Benchmark {
    fn id(&self) -> &str {
        match self {
            Benchmark::Rsa { id, .. } | Benchmark::Pls { id } | Benchmark::I2n { id } => id,
        }
    }
}

fn rsa_id(pairs: &str) -> String {
    if pairs == "v1" {
        "Federer2019.V1-rsa".into()
    } else if PAIR_SETS.contains(&pairs) {
        format!("Federer2019.{pairs}-rsa")
    } else {
        let stem = Path::new(pairs)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("pairs");
        format!("custom.{stem}-rsa")
    }
}

fn parse_benchmarks(args: &ScoreArgs) -> Result<Vec<Benchmark>> {
    let mut names = args.benchmarks.clone();
    if names.is_empty() {
        names.push(rsa_id(&args.pairs));
        if args.neural.is_some() {
            names.push(format!("custom.{}-pls", args.region));
        }
        if args.behavior.is_some() {
            names.push("custom.behavior-i2n".into());
        }
    }
    let mut out = Vec::new();
    for name in names {
        let b = if let Some(region) = name
            .strip_prefix("Federer2019.")
            .and_then(|s| s.strip_suffix("-rsa"))
        {
            let pairs = if region == "V1" {
                args.pairs.clone()
            } else if PAIR_SETS.contains(&region) {
                region.to_string()
            } else {
                bail!(
                    "unknown benchmark {name:?}: Federer2019.<set>-rsa takes V1 or a pair set ({})",
                    PAIR_SETS.join(", ")
                );
            };
            Benchmark::Rsa {
                id: rsa_id(&pairs),
                pairs,
            }
        } else if name.starts_with("custom.") && name.ends_with("-rsa") {
            Benchmark::Rsa {
                id: name.clone(),
                pairs: args.pairs.clone(),
            }
        } else if name == "custom.behavior-i2n" {
            if args.behavior.is_none() || args.images.is_none() {
                bail!("{name} needs --behavior trials.csv and --images DIR");
            }
            Benchmark::I2n { id: name.clone() }
        } else if name.starts_with("custom.") && name.ends_with("-pls") {
            if args.neural.is_none() || args.stimuli.is_none() || args.images.is_none() {
                bail!("{name} needs --neural FILE.npy, --stimuli FILE.txt and --images DIR");
            }
            Benchmark::Pls { id: name.clone() }
        } else {
            bail!(
                "unknown benchmark {name:?}; known: Federer2019.V1-rsa, Federer2019.<pair set>-rsa, custom.<REGION>-pls, custom.behavior-i2n"
            );
        };
        if !out.contains(&b) {
            out.push(b);
        }
    }
    Ok(out)
}

/// A score row with its details, as written to `scores.json`.
#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    score: Score,
    details: Value,
}

/// A loaded model.
struct Model {
    name: String,
    dir: PathBuf,
    net: Network,
    /// Backend name; the device is re-resolved from it where needed (the CLI does not
    /// name Burn's types).
    device_name: String,
    size: usize,
    layers: Vec<Layer>,
    arch: String,
}

fn parse_layers(names: &[String], net: &Network) -> Result<Vec<Layer>> {
    let taps = net.taps();
    if names.is_empty() {
        return Ok(taps.into_iter().map(Layer::Tap).collect());
    }
    names
        .iter()
        .map(|n| {
            let n = n.trim();
            if n == "penultimate" {
                return Ok(Layer::Penultimate);
            }
            taps.iter()
                .find(|t| t.name() == n)
                .map(|&t| Layer::Tap(t))
                .ok_or_else(|| {
                    anyhow!(
                        "--layers: this model has no layer {n:?}; it has {}, penultimate",
                        taps.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
                    )
                })
        })
        .collect()
}

fn model_names(dirs: &[PathBuf]) -> Vec<String> {
    let short: Vec<String> = dirs
        .iter()
        .map(|d| {
            d.file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| d.display().to_string())
        })
        .collect();
    let mut names: Vec<String> = Vec::with_capacity(dirs.len());
    for (s, d) in short.iter().zip(dirs) {
        let base = if short.iter().filter(|x| *x == s).count() > 1 {
            d.display().to_string()
        } else {
            s.clone()
        };
        // The same directory given twice: number the repeats.
        let mut name = base.clone();
        let mut k = 2;
        while names.contains(&name) {
            name = format!("{base} ({k})");
            k += 1;
        }
        names.push(name);
    }
    names
}

fn load_model(dir: &Path, name: String, args: &ScoreArgs) -> Result<Model> {
    let cfg_path = dir.join("config.toml");
    let text = std::fs::read_to_string(&cfg_path)
        .with_context(|| format!("{}: not a run directory", cfg_path.display()))?;
    let cfg: brainlike_core::TrainConfig =
        toml::from_str(&text).with_context(|| format!("{}", cfg_path.display()))?;
    let (device_name, device) =
        brainlike_core::device::resolve(args.device.as_deref().unwrap_or(&cfg.device))?;
    let (cfg, net) = load_run(dir, &device)?;
    let layers = parse_layers(&args.layers, &net)?;
    let size = args.size.unwrap_or(cfg.data.input_size);
    if size != cfg.data.input_size && layers.contains(&Layer::Penultimate) {
        eprintln!(
            "warning: {}: trained at {0}x{0}, scored at {size}x{size}; the penultimate layer of an FC head needs the training size",
            cfg.data.input_size
        );
    }
    Ok(Model {
        name,
        dir: dir.to_path_buf(),
        net,
        device_name,
        size,
        layers,
        arch: format!("{:?}", cfg.model.arch),
    })
}

fn view(a: &Activations) -> Result<ArrayView2<'_, f32>> {
    ArrayView2::from_shape((a.n, a.dim), &a.features)
        .map_err(|e| anyhow!("{} activations: {e}", a.layer))
}

/// Deterministic SplitMix64 stream for the bootstrap (no extra dependency).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize % n.max(1)
    }
}

/// Bootstrap over stimuli of the Spearman correlation between model and teacher distances on
/// a pair list: the stimuli that occur in the pairs are drawn with replacement (seeded; the
/// same draws for every layer and model, so differences are paired), each pair enters with
/// weight `count(a) · count(b)` (rsatoolbox's `subsample_pattern` applied to a pair list),
/// and ρ is recomputed. Returns the finite bootstrap values.
fn bootstrap_pairs(
    model: &[f64],
    teacher: &[f64],
    pairs: &[(usize, usize)],
    reps: usize,
    seed: u64,
) -> Vec<f64> {
    let mut stim: Vec<usize> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    stim.sort_unstable();
    stim.dedup();
    let max = stim.last().copied().unwrap_or(0) + 1;
    (0..reps)
        .into_par_iter()
        .filter_map(|r| {
            let mut rng = SplitMix(seed ^ (r as u64).wrapping_mul(0xA076_1D64_78BD_642F));
            let mut count = vec![0u32; max];
            for _ in 0..stim.len() {
                count[stim[rng.below(stim.len())]] += 1;
            }
            let (mut m, mut t) = (
                Vec::with_capacity(pairs.len()),
                Vec::with_capacity(pairs.len()),
            );
            for (k, &(a, b)) in pairs.iter().enumerate() {
                for _ in 0..count[a] * count[b] {
                    m.push(model[k]);
                    t.push(teacher[k]);
                }
            }
            compare_vectors(&m, &t, CompareMethod::Spearman)
                .ok()
                .filter(|v| v.is_finite())
        })
        .collect()
}

fn rsa_rows(
    model: &Model,
    id: &str,
    set: &PairSet,
    stimuli: &Stimuli,
    args: &ScoreArgs,
) -> Result<Vec<Row>> {
    let acts = extract(
        &model.net,
        &stimuli.pixels,
        stimuli.count,
        stimuli.size,
        &model.layers,
        args.chunk,
        &brainlike_core::device::resolve(&model.device_name)?.1,
    )?;
    let pairs: Vec<(usize, usize)> = set
        .pairs
        .iter()
        .map(|p| (p.a as usize, p.b as usize))
        .collect();
    let teacher: Vec<f64> = set.pairs.iter().map(|p| f64::from(p.distance)).collect();
    let mut rows = Vec::new();
    for a in &acts {
        let d = pair_cosine_distances(view(a)?, &pairs)?;
        let nan = d.iter().filter(|v| v.is_nan()).count();
        let rho = compare_vectors(&d, &teacher, CompareMethod::Spearman)?;
        let r = compare_vectors(&d, &teacher, CompareMethod::Pearson)?;
        let boot = if args.bootstrap > 0 {
            let s = bootstrap_pairs(&d, &teacher, &pairs, args.bootstrap, args.seed);
            json!({
                "resamples": args.bootstrap,
                "finite": s.len(),
                "level": 0.95,
                "mean": stats::mean(&s),
                "se": stats::std(&s, 1),
                "ci_low": stats::percentile(&s, 2.5),
                "ci_high": stats::percentile(&s, 97.5),
                "seed": args.seed,
                "method": "stimuli drawn with replacement, pair weight count(a)*count(b), paired across layers and models",
            })
        } else {
            Value::Null
        };
        rows.push(Row {
            score: Score {
                id: id.to_string(),
                model: model.name.clone(),
                layer: Some(a.layer.name().to_string()),
                raw: rho,
                ceiling: None,
                ceiled: Some(rho),
                formula: "none".into(),
                benchmark_version: BENCHMARK_VERSION.into(),
                per_split: vec![],
            },
            details: json!({
                "metric": "spearman (average ranks for ties) of model vs teacher cosine distances",
                "spearman": rho,
                "pearson": r,
                "pairs": set.name,
                "n_pairs": pairs.len(),
                "n_pairs_undefined": nan,
                "features": a.dim,
                "bootstrap": boot,
                "ceiling": "none: no noise ceiling exists for the teacher's pair list (one distance per pair, no repetitions); ceiled = raw",
            }),
        });
    }
    Ok(rows)
}

/// Stimulus-id lookup tolerant of extensions (`0001`, `0001.png`).
fn stem(id: &str) -> &str {
    let p = Path::new(id);
    match (p.file_stem().and_then(|s| s.to_str()), p.extension()) {
        (Some(s), Some(e))
            if matches!(
                e.to_string_lossy().to_ascii_lowercase().as_str(),
                "png" | "jpg" | "jpeg"
            ) =>
        {
            s
        }
        _ => id,
    }
}

/// Pixels of the images named by `ids` (in that order), from a folder read at `size`.
fn images_in_order(
    folder: &(Vec<String>, Vec<f32>),
    dir: &Path,
    ids: &[String],
    size: usize,
) -> Result<Vec<f32>> {
    let index: HashMap<&str, usize> = folder
        .0
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let per = 3 * size * size;
    let mut px = Vec::with_capacity(ids.len() * per);
    for id in ids {
        let i = *index.get(stem(id)).ok_or_else(|| {
            anyhow!(
                "stimulus {id:?} has no image in {} ({} images there)",
                dir.display(),
                folder.0.len()
            )
        })?;
        px.extend_from_slice(&folder.1[i * per..(i + 1) * per]);
    }
    Ok(px)
}

struct PlsInputs {
    data: NeuralData,
    mean: ndarray::Array2<f64>,
    ceiling: Option<(f64, Vec<f64>)>,
}

fn pls_rows(
    model: &Model,
    id: &str,
    inputs: &PlsInputs,
    pixels: &[f32],
    formula: CeilingFormula,
    args: &ScoreArgs,
) -> Result<Vec<Row>> {
    let n = inputs.data.stimulus_ids.len();
    let acts = extract(
        &model.net,
        pixels,
        n,
        model.size,
        &model.layers,
        args.chunk,
        &brainlike_core::device::resolve(&model.device_name)?.1,
    )?;
    let cv = CrossValidation::brain_score(inputs.data.strata.clone());
    // Brain-Score's shuffle split trains on floor(0.9 n) stimuli.
    let n_train = (0.9 * n as f64).floor() as usize;
    let mut rows = Vec::new();
    let mut table = Vec::new();
    for a in acts {
        let (layer, full_dim) = (a.layer, a.dim);
        let (a, pca) = pca_reduce(a, args.pca, args.seed)?;
        let k = args.pls_components.min(n_train).min(a.dim).max(1);
        let pred = neural_predictivity(view(&a)?, inputs.mean.view(), &PlsRegression::new(k), &cv)
            .with_context(|| format!("{}: PLS at {layer}", model.name))?;
        let (ceiling, ceiled, formula_name) = match &inputs.ceiling {
            Some((c, _)) => {
                let s = ceil_score(&pred.per_split, *c, formula);
                (Some(*c), Some(s.ceiled), s.formula)
            }
            None => (None, None, "none".to_string()),
        };
        table.push((layer.name().to_string(), ceiled.unwrap_or(pred.mean)));
        rows.push(Row {
            score: Score {
                id: id.to_string(),
                model: model.name.clone(),
                layer: Some(layer.name().to_string()),
                raw: pred.mean,
                ceiling,
                ceiled,
                formula: formula_name,
                benchmark_version: BENCHMARK_VERSION.into(),
                per_split: pred.per_split.clone(),
            },
            details: json!({
                "metric": "PLS regression, median over neurons of held-out Pearson r, mean over splits",
                "sem": pred.sem,
                "pls_components": k,
                "features": full_dim,
                "pca_components": if pca { Some(a.dim) } else { None },
                "cv": "10 shuffle splits, 90% train / 10% test (ChaCha8, seed 1), stratified when --strata is given",
                "stimuli": n,
                "neurons": inputs.mean.ncols(),
                "ceiling_per_split": inputs.ceiling.as_ref().map(|c| c.1.clone()),
            }),
        });
    }
    let commit = layer_commitment(&table)?;
    let best = rows
        .iter()
        .find(|r| r.score.layer.as_deref() == Some(commit.best_layer.as_str()))
        .map(|r| r.score.clone())
        .ok_or_else(|| anyhow!("committed layer {} not scored", commit.best_layer))?;
    rows.push(Row {
        score: Score { layer: None, ..best },
        details: json!({
            "committed_layer": commit.best_layer,
            "selection": "the layer with the highest cross-validated (held-out) score; the same splits select and report it, so the committed score is optimistic by the choice among layers",
            "table": commit.table,
        }),
    });
    Ok(rows)
}

struct I2nInputs {
    trials: Vec<brainlike_metrics::i2n::Trial>,
    ids: Vec<String>,
    classes: Vec<String>,
    truth: Vec<usize>,
}

fn i2n_inputs(path: &Path, folder_ids: &[String]) -> Result<I2nInputs> {
    let trials = read_trials_csv(path)?;
    if trials.is_empty() {
        bail!("{}: no trials", path.display());
    }
    let mut true_of: HashMap<String, String> = HashMap::new();
    for t in &trials {
        let id = stem(&t.image_id).to_string();
        match true_of.get(&id) {
            Some(l) if *l != t.true_label => bail!(
                "{}: image {:?} has two true labels, {l:?} and {:?}",
                path.display(),
                t.image_id,
                t.true_label
            ),
            _ => {
                true_of.insert(id, t.true_label.clone());
            }
        }
    }
    let mut classes: Vec<String> = true_of.values().cloned().collect();
    classes.sort();
    classes.dedup();
    if let Some(t) = trials
        .iter()
        .find(|t| classes.binary_search(&t.distractor_label).is_err())
    {
        bail!(
            "{}: distractor class {:?} is the true class of no image (i2n needs images of every class)",
            path.display(),
            t.distractor_label
        );
    }
    let ids: Vec<String> = folder_ids
        .iter()
        .filter(|i| true_of.contains_key(i.as_str()))
        .cloned()
        .collect();
    if ids.len() != true_of.len() {
        let missing = true_of.keys().find(|k| !folder_ids.contains(k)).cloned();
        bail!(
            "{}: trial image {:?} has no image in --images",
            path.display(),
            missing.unwrap_or_default()
        );
    }
    let truth = ids
        .iter()
        .map(|i| {
            classes
                .binary_search(&true_of[i])
                .expect("class of a trial image")
        })
        .collect();
    let trials = trials
        .into_iter()
        .map(|mut t| {
            t.image_id = stem(&t.image_id).to_string();
            t
        })
        .collect();
    Ok(I2nInputs {
        trials,
        ids,
        classes,
        truth,
    })
}

fn i2n_rows(
    model: &Model,
    id: &str,
    inputs: &I2nInputs,
    pixels: &[f32],
    formula: CeilingFormula,
    args: &ScoreArgs,
) -> Result<Vec<Row>> {
    let acts = extract(
        &model.net,
        pixels,
        inputs.ids.len(),
        model.size,
        &[Layer::Penultimate],
        args.chunk,
        &brainlike_core::device::resolve(&model.device_name)?.1,
    )?;
    let a = &acts[0];
    let classifier = LogisticRegression {
        c: args.readout_c,
        ..LogisticRegression::default()
    };
    let probs = cross_validated_probabilities(
        view(a)?,
        &inputs.truth,
        inputs.classes.len(),
        &classifier,
        args.readout_folds,
        args.seed,
    )?;
    let cfg = I2nConfig {
        formula,
        seed: args.seed,
        ..I2nConfig::default()
    };
    // brainlike-metrics' d' calls statrs' inverse CDF, which panics on NaN: a trial half in
    // which some (image, distractor) was never offered. Turn that into an error.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        i2n_score(
            probs.view(),
            &inputs.ids,
            &inputs.classes,
            &inputs.truth,
            &inputs.trials,
            &cfg,
        )
    }))
    .map_err(|_| {
        anyhow!(
            "{id}: i2n failed: some (image, distractor) combination has no trial in one of the random trial halves (d' of a NaN rate); more trials per image and distractor are needed"
        )
    })??;
    Ok(vec![Row {
        score: Score {
            id: id.to_string(),
            model: model.name.clone(),
            layer: Some(Layer::Penultimate.name().into()),
            raw: r.raw,
            ceiling: Some(r.ceiling),
            ceiled: Some(r.ceiled),
            formula: r.formula.clone(),
            benchmark_version: BENCHMARK_VERSION.into(),
            per_split: r.per_split.clone(),
        },
        details: json!({
            "metric": "i2n (Rajalingham 2018 / Brain-Score): Pearson r of model and half-trial normalised d'",
            "readout": format!("z-scored penultimate features ({} dims), multinomial logistic regression C = {}, out-of-fold probabilities from {}-fold stratified CV", a.dim, args.readout_c, args.readout_folds),
            "ceiling_per_split": r.ceiling_per_split,
            "images": inputs.ids.len(),
            "classes": inputs.classes.len(),
            "trials": inputs.trials.len(),
        }),
    }])
}

fn preprocessing_note(size: usize) -> String {
    format!(
        "RGB (grayscale replicated to 3 channels), resized to {size}x{size} with a triangle filter, pixels in [0, 1], not centred (as the trainer presents the teacher's stimuli)"
    )
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
    let benchmarks = parse_benchmarks(&args)?;
    let formula: CeilingFormula = args
        .ceiling
        .parse()
        .map_err(|e| anyhow!("--ceiling: {e}"))?;
    let names = model_names(&args.models);
    let models: Vec<Model> = args
        .models
        .iter()
        .zip(names)
        .map(|(d, n)| load_model(d, n, &args))
        .collect::<Result<_>>()?;
    let pack = PackSource::from_dir(args.pack_dir.as_deref().unwrap_or(Path::new("")));

    // Inputs shared by all models, loaded once (images once per input size).
    let pls = match (&args.neural, &args.stimuli) {
        (Some(neural), Some(stim))
            if benchmarks
                .iter()
                .any(|b| matches!(b, Benchmark::Pls { .. })) =>
        {
            let data = NeuralData::load(neural, stim, args.strata.as_deref())?;
            let mean = data.mean_responses();
            let ceiling = if data.responses.dim().2 >= 2 {
                let c = split_half_ceiling(data.responses.view(), 10, args.seed)?;
                Some((c.ceiling, c.per_split))
            } else {
                eprintln!(
                    "note: {}: one repetition, no split-half ceiling; PLS rows are not ceiled",
                    neural.display()
                );
                None
            };
            Some(PlsInputs {
                data,
                mean,
                ceiling,
            })
        }
        _ => None,
    };
    let mut folders: HashMap<usize, (Vec<String>, Vec<f32>)> = HashMap::new();
    let mut teacher_stimuli: HashMap<usize, Stimuli> = HashMap::new();
    let mut pair_sets: HashMap<String, PairSet> = HashMap::new();
    let i2n = match &args.behavior {
        Some(path)
            if benchmarks
                .iter()
                .any(|b| matches!(b, Benchmark::I2n { .. })) =>
        {
            let dir = args.images.as_ref().expect("checked with the benchmarks");
            let size = models[0].size;
            let folder = load_image_folder(dir, size)?;
            let inputs = i2n_inputs(path, &folder.0)?;
            folders.insert(size, folder);
            Some(inputs)
        }
        _ => None,
    };

    let mut rows: Vec<Row> = Vec::new();
    for b in &benchmarks {
        for m in &models {
            let t0 = std::time::Instant::now();
            let new = match b {
                Benchmark::Rsa { id, pairs } => {
                    if let Entry::Vacant(e) = teacher_stimuli.entry(m.size) {
                        e.insert(Stimuli::load(&pack, m.size)?);
                    }
                    let stimuli = &teacher_stimuli[&m.size];
                    if let Entry::Vacant(e) = pair_sets.entry(pairs.clone()) {
                        e.insert(load_pairs(&pack, pairs, stimuli.count)?);
                    }
                    rsa_rows(m, id, &pair_sets[pairs], stimuli, &args)?
                }
                Benchmark::Pls { id } => {
                    let inputs = pls.as_ref().expect("checked with the benchmarks");
                    let dir = args.images.as_ref().expect("checked with the benchmarks");
                    if let Entry::Vacant(e) = folders.entry(m.size) {
                        e.insert(load_image_folder(dir, m.size)?);
                    }
                    let px =
                        images_in_order(&folders[&m.size], dir, &inputs.data.stimulus_ids, m.size)?;
                    pls_rows(m, id, inputs, &px, formula, &args)?
                }
                Benchmark::I2n { id } => {
                    let inputs = i2n.as_ref().expect("checked with the benchmarks");
                    let dir = args.images.as_ref().expect("checked with the benchmarks");
                    if let Entry::Vacant(e) = folders.entry(m.size) {
                        e.insert(load_image_folder(dir, m.size)?);
                    }
                    let px = images_in_order(&folders[&m.size], dir, &inputs.ids, m.size)?;
                    i2n_rows(m, id, inputs, &px, formula, &args)?
                }
            };
            eprintln!(
                "{}: {} scored in {:.1} s",
                m.name,
                b.id(),
                t0.elapsed().as_secs_f64()
            );
            rows.extend(new);
        }
    }

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let scores: Vec<Score> = rows.iter().map(|r| r.score.clone()).collect();
    write_scores_csv(&scores, args.out.join("scores.csv"))?;
    let json = json!({
        "producer": format!("brainlike {}", env!("CARGO_PKG_VERSION")),
        "models": models.iter().map(|m| json!({
            "name": m.name,
            "run_dir": m.dir.display().to_string(),
            "arch": m.arch,
            "device": m.device_name,
            "input_size": m.size,
            "layers": m.layers.iter().map(|l| l.name()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "preprocessing": models.iter().map(|m| (m.name.clone(), preprocessing_note(m.size))).collect::<std::collections::BTreeMap<_, _>>(),
        "features": "block outputs (after ReLU and max-pool) flattened C x H x W; penultimate = input of the last linear layer",
        "benchmarks": benchmarks.iter().map(|b| match b {
            Benchmark::Rsa { id, pairs } => json!({
                "id": id, "version": BENCHMARK_VERSION, "pairs": pairs,
                "stimuli": "teacher pack stimuli (956 grayscale 227x227 PNG)",
                "pack": args.pack_dir.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "built-in".into()),
                "ceiling": "none",
            }),
            Benchmark::Pls { id } => json!({
                "id": id, "version": BENCHMARK_VERSION,
                "neural": args.neural.as_ref().map(|p| p.display().to_string()),
                "stimuli": args.stimuli.as_ref().map(|p| p.display().to_string()),
                "strata": args.strata.as_ref().map(|p| p.display().to_string()),
                "images": args.images.as_ref().map(|p| p.display().to_string()),
                "pca": args.pca,
                "ceiling": pls.as_ref().and_then(|p| p.ceiling.as_ref().map(|c| c.0)),
                "formula": formula.name(),
            }),
            Benchmark::I2n { id } => json!({
                "id": id, "version": BENCHMARK_VERSION,
                "behavior": args.behavior.as_ref().map(|p| p.display().to_string()),
                "images": args.images.as_ref().map(|p| p.display().to_string()),
                "formula": formula.name(),
            }),
        }).collect::<Vec<_>>(),
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
        let what = match b {
            Benchmark::Rsa { .. } => "Spearman rho, model vs teacher cosine distances",
            Benchmark::Pls { .. } => "PLS predictivity (ceiled if a ceiling exists)",
            Benchmark::I2n { .. } => "i2n",
        };
        for ext in ["png", "svg"] {
            let p = args.out.join(format!("{stem}.{ext}"));
            plot_layer_profile(&sel, &p, &format!("{}: {what}", b.id()))?;
            plots.push(p);
        }
    }

    print_tables(&benchmarks, &rows, &models);
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

fn print_tables(benchmarks: &[Benchmark], rows: &[Row], models: &[Model]) {
    for b in benchmarks {
        let sel: Vec<&Row> = rows.iter().filter(|r| r.score.id == b.id()).collect();
        let mut layers: Vec<String> = Vec::new();
        for r in &sel {
            let l = r.score.layer.clone().unwrap_or_else(|| "committed".into());
            if !layers.contains(&l) {
                layers.push(l);
            }
        }
        let what = match b {
            Benchmark::Rsa { .. } => "Spearman rho [95% bootstrap CI]; no ceiling",
            Benchmark::Pls { .. } => "raw r (ceiled)",
            Benchmark::I2n { .. } => "raw r (ceiled)",
        };
        println!("\n{} — {what}", b.id());
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
                    .find(|r| {
                        r.score.model == m.name
                            && r.score.layer.clone().unwrap_or_else(|| "committed".into()) == *l
                    })
                    .map(|r| cell(b, r))
                    .unwrap_or_default();
                print!(" {cell:>w$}");
            }
            println!();
        }
        if let Benchmark::Rsa { .. } = b {
            for m in models {
                let best = sel
                    .iter()
                    .filter(|r| r.score.model == m.name && r.score.raw.is_finite())
                    .max_by(|a, b| a.score.raw.total_cmp(&b.score.raw));
                if let Some(r) = best {
                    println!(
                        "most V1-like layer of {}: {} (rho = {:.4})",
                        m.name,
                        r.score.layer.as_deref().unwrap_or("?"),
                        r.score.raw
                    );
                }
            }
        }
    }
}

fn cell(b: &Benchmark, r: &Row) -> String {
    match b {
        Benchmark::Rsa { .. } => {
            let ci = &r.details["bootstrap"];
            match (ci["ci_low"].as_f64(), ci["ci_high"].as_f64()) {
                (Some(lo), Some(hi)) => format!("{:.4} [{lo:.3}, {hi:.3}]", r.score.raw),
                _ => format!("{:.4}", r.score.raw),
            }
        }
        _ => match r.score.ceiled {
            Some(c) => format!("{:.4} ({c:.4})", r.score.raw),
            None => format!("{:.4}", r.score.raw),
        },
    }
}
