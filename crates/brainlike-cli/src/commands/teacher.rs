//! `brainlike teacher build`: a teacher pair file (V1 or one of the paper's controls) from
//! firing rates, in the format the trainer reads (`teacher.pairs = "FILE.tsv"`).
//!
//! * `--kind v1`: cosine-distance RDM of each session's responses, averaged over sessions.
//! * `--kind v1_shuffled`: the same after permuting, independently for every neuron, which
//!   stimulus each response belongs to (seeded).
//! * `--kind gaussian_v1_stats` / `gaussian_non_v1_stats`: 39-dimensional Gaussian vectors per
//!   stimulus with V1's statistics (μ = 0.495, σ = 0.582) or μ = 5 (seeded); `--rates` only
//!   gives the number of stimuli (or pass `--stimuli N`).
//!
//! Pairs: `--pairs N` distinct pairs `a < b` sampled uniformly without replacement (seeded;
//! default 20,000, the pack's size, or every pair when fewer exist) or `--all`. Stimuli never
//! shown in any session (all-NaN rows) are left out of the sampling. `--seed` seeds both the
//! control's randomness and the pair sampling. The file is re-read with the trainer's pair
//! parser before the command reports success.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use brainlike_stats::teacher::{
    PairSelection, TeacherKind, read_rates_npy, select_pairs, teacher_rdm, write_pairs_tsv,
};
use clap::{Args, Subcommand};

/// The pack's number of pairs per set.
pub const DEFAULT_PAIRS: usize = 20_000;

/// Teacher commands.
#[derive(Subcommand, Debug)]
pub enum TeacherCommand {
    /// Build a pair TSV (image_a, image_b, cosine_distance) from firing rates.
    Build(BuildArgs),
}

/// Arguments of `brainlike teacher build`.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// Firing rates, .npy stimuli x neurons (one session) or sessions x stimuli x neurons
    /// (NaN-padded neurons and all-NaN rows for stimuli a session did not show).
    #[arg(long)]
    pub rates: Option<PathBuf>,
    /// v1, v1_shuffled, gaussian_v1_stats or gaussian_non_v1_stats.
    #[arg(long)]
    pub kind: String,
    /// Number of stimuli for the Gaussian controls when no --rates are given.
    #[arg(long)]
    pub stimuli: Option<usize>,
    /// Number of pairs sampled without replacement (default 20,000, or all when fewer exist).
    #[arg(long, conflicts_with = "all")]
    pub pairs: Option<usize>,
    /// Write every pair a < b.
    #[arg(long)]
    pub all: bool,
    /// Seed of the control's randomness and of the pair sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output pair TSV.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `brainlike teacher`.
pub fn run(cmd: TeacherCommand) -> Result<ExitCode> {
    match cmd {
        TeacherCommand::Build(a) => build(a),
    }
}

fn build(a: BuildArgs) -> Result<ExitCode> {
    let kind = TeacherKind::from_name(&a.kind).ok_or_else(|| {
        anyhow!(
            "--kind {:?}: expected one of {}",
            a.kind,
            TeacherKind::ALL.map(|k| k.name()).join(", ")
        )
    })?;
    let sessions = match &a.rates {
        Some(p) => read_rates_npy(p)?,
        None => Vec::new(),
    };
    let n_stimuli = match (sessions.first(), a.stimuli) {
        (Some(s), Some(n)) if n != s.rows() => bail!(
            "--stimuli {n} disagrees with the {} stimuli in {}",
            s.rows(),
            a.rates.as_deref().unwrap_or(Path::new("")).display()
        ),
        (Some(s), _) => s.rows(),
        (None, Some(n)) => n,
        (None, None) => bail!("--rates FILE.npy is needed (or --stimuli N for a Gaussian control)"),
    };
    if matches!(kind, TeacherKind::V1 | TeacherKind::V1Shuffled) && sessions.is_empty() {
        bail!("--kind {} needs --rates FILE.npy", kind.name());
    }
    if n_stimuli < 2 {
        bail!("need at least 2 stimuli, got {n_stimuli}");
    }
    let rdm = teacher_rdm(kind, &sessions, n_stimuli, a.seed)?;

    // Stimuli with a defined distance to some other stimulus (shown in some session).
    let shown: Vec<usize> = (0..n_stimuli)
        .filter(|&i| (0..n_stimuli).any(|j| j != i && rdm.get(i, j).is_finite()))
        .collect();
    let total = shown.len() * shown.len().saturating_sub(1) / 2;
    let selection = if a.all {
        PairSelection::All
    } else {
        PairSelection::Sample {
            n: a.pairs.unwrap_or(DEFAULT_PAIRS.min(total)),
            seed: a.seed,
        }
    };
    let mut pairs: Vec<(usize, usize)> = select_pairs(shown.len(), selection)
        .with_context(|| format!("{} stimuli with responses", shown.len()))?
        .into_iter()
        .map(|(x, y)| (shown[x], shown[y]))
        .collect();
    let before = pairs.len();
    pairs.retain(|&(x, y)| rdm.get(x, y).is_finite());
    if pairs.len() < before {
        eprintln!(
            "note: {} sampled pairs were never shown in the same session and were dropped",
            before - pairs.len()
        );
    }
    if pairs.is_empty() {
        bail!("no pair with a defined distance");
    }
    write_pairs_tsv(&a.out, &rdm, &pairs)?;

    // Round trip through the trainer's reader.
    let bytes = std::fs::read(&a.out).with_context(|| format!("{}", a.out.display()))?;
    let parsed = brainlike_core::data::teacher::parse_pairs(&a.out, &bytes, n_stimuli)?;
    let d: Vec<f64> = parsed.iter().map(|p| f64::from(p.distance)).collect();
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    let (lo, hi) = d
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    println!(
        "{}: {} ({}), {} stimuli ({} with responses), {} session(s), {} pairs; cosine distance mean {mean:.4}, range [{lo:.4}, {hi:.4}]; seed {}",
        a.out.display(),
        kind.name(),
        kind.label(),
        n_stimuli,
        shown.len(),
        sessions.len(),
        parsed.len(),
        a.seed
    );
    Ok(ExitCode::SUCCESS)
}
