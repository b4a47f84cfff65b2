//! `brainlike predict FEATURES.npy NEURAL.npy`: cross-validated PLS predictivity of neural
//! responses from your own features (Brain-Score's neural predictivity), with a split-half
//! noise ceiling when NEURAL has repetitions.
//!
//! * PLS: NIPALS as scikit-learn's `PLSRegression(n_components, scale=False)`, fitted on
//!   the training stimuli against the repetition-averaged responses.
//! * Score: Pearson r per neuron on the held-out stimuli, median over neurons per split,
//!   mean over splits (`median_r`).
//! * Splits: `--cv kfold:K` (scikit-learn `KFold(K, shuffle=False)`: contiguous folds,
//!   the first n % K one larger; the default is kfold:10), `--cv shuffle:N:TRAIN:SEED`
//!   (Brain-Score's default scheme, 10 splits of 90 %, stratified by `--strata`), or
//!   `--splits FILE`: one split per line listing its held-out 0-based stimulus indices
//!   (separated by spaces or commas; `#` comments and blank lines skipped), training on all
//!   other stimuli.
//! * Ceiling (NEURAL stimuli x neurons x repetitions, >= 2 repetitions): per neuron, the
//!   mean of the first floor(r/2) repetitions against the mean of the rest, Pearson r over
//!   all stimuli, Spearman–Brown `2r / (1 + r)`. `--ceiling split-half` (default):
//!   `ceiled = median_r / median_ceiling`; `--ceiling median-of-ratios`:
//!   `ceiled = median over neurons of r_i / c_i` (`r_i` averaged over splits).
//!
//! Output (stdout): `key value` lines (`median_r`, and with repetitions `median_ceiling`,
//! `ceiled`); with `--json` one object with `per_neuron_r` (per split, per neuron),
//! `per_split_median_r`, `median_r`, `sem_r`, `per_neuron_ceiling`, `median_ceiling`,
//! `ceiled` (null without repetitions), `ceiling`, `formula`, `version` and the inputs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use brainlike_metrics::ceiling::{CeilingMode, mean_over_repetitions, split_half_per_neuron};
use brainlike_metrics::io::{
    read_features_npy, read_id_list, read_neural_npy_checked, read_splits,
};
use brainlike_metrics::pls::PlsRegression;
use brainlike_metrics::predictivity::{CrossValidation, CvScheme, neural_predictivity};
use brainlike_metrics::stats;
use clap::Args;

/// Version of the predict output and formulas, written into `--json`.
pub const PREDICT_VERSION: &str = "brainlike-predict/1";

/// Arguments of `brainlike predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    /// Features .npy (float32/float64), stimuli x units (dimensions after the first are
    /// flattened).
    pub features: PathBuf,
    /// Neural responses .npy, stimuli x neurons or stimuli x neurons x repetitions, rows in
    /// the order of FEATURES.
    pub neural: PathBuf,
    /// PLS components.
    #[arg(long, default_value_t = 25)]
    pub components: usize,
    /// Cross-validation: kfold:K or shuffle:N:TRAIN:SEED (e.g. shuffle:10:0.9:1).
    #[arg(long, default_value = "kfold:10", conflicts_with = "splits")]
    pub cv: String,
    /// Splits file: one split per line, its held-out 0-based stimulus indices.
    #[arg(long)]
    pub splits: Option<PathBuf>,
    /// Stratification labels, one per line per stimulus (for --cv shuffle only).
    #[arg(long)]
    pub strata: Option<PathBuf>,
    /// split-half (median_r / median ceiling) or median-of-ratios (median of r_i / c_i).
    #[arg(long, default_value = "split-half")]
    pub ceiling: CeilingMode,
    /// Print one JSON object instead of `key value` lines.
    #[arg(long)]
    pub json: bool,
}

/// Runs `brainlike predict`.
pub fn run(a: PredictArgs) -> Result<ExitCode> {
    let x = read_features_npy(&a.features)?;
    let neural = read_neural_npy_checked(&a.neural)?;
    let (n, n_neurons, n_reps) = neural.dim();
    if x.nrows() != n {
        bail!(
            "{} has {} stimuli (rows) but {} has {n}: the rows must be the same stimuli",
            a.features.display(),
            x.nrows(),
            a.neural.display()
        );
    }
    let strata = match &a.strata {
        None => None,
        Some(p) => {
            let s = read_id_list(p)?;
            if s.len() != n {
                bail!(
                    "{}: {} labels, expected one per stimulus ({n})",
                    p.display(),
                    s.len()
                );
            }
            Some(s)
        }
    };
    let (cv, cv_name) = match &a.splits {
        Some(p) => {
            if strata.is_some() {
                bail!("--strata applies to --cv shuffle only, not to --splits");
            }
            let test = read_splits(p, n)?;
            let cv = CrossValidation {
                scheme: CvScheme::Given { test },
                seed: 0,
                stratify: None,
            };
            (cv, format!("splits:{}", p.display()))
        }
        None => (CrossValidation::parse(&a.cv, strata)?, a.cv.clone()),
    };
    let reps: Vec<usize> = (0..n_reps).collect();
    let y = mean_over_repetitions(neural.view(), &reps);
    let pred = neural_predictivity(x.view(), y.view(), &PlsRegression::new(a.components), &cv)
        .with_context(|| format!("--components {}, --cv {cv_name}", a.components))?;
    let ceiling = if n_reps >= 2 {
        Some(split_half_per_neuron(neural.view())?)
    } else {
        None
    };
    let median_ceiling = ceiling.as_ref().map(|c| stats::nanmedian(c));
    let ceiled = ceiling
        .as_ref()
        .map(|c| a.ceiling.ceil(&pred.per_neuron, c));
    if a.json {
        let v = serde_json::json!({
            "version": PREDICT_VERSION,
            "features": a.features.display().to_string(),
            "neural": a.neural.display().to_string(),
            "n_stimuli": n,
            "n_units": x.ncols(),
            "n_neurons": n_neurons,
            "n_repetitions": n_reps,
            "components": a.components,
            "cv": cv_name,
            "n_splits": pred.per_neuron.len(),
            "per_neuron_r": pred.per_neuron,
            "per_split_median_r": pred.per_split,
            "median_r": pred.mean,
            "sem_r": pred.sem,
            "ceiling": ceiling.as_ref().map(|_| a.ceiling.name()),
            "per_neuron_ceiling": ceiling,
            "median_ceiling": median_ceiling,
            "ceiled": ceiled,
            "formula": ceiling.as_ref().map(|_| a.ceiling.formula()),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("median_r {}", pred.mean);
        if let (Some(c), Some(s)) = (median_ceiling, ceiled) {
            println!("median_ceiling {c}");
            println!("ceiled {s}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
