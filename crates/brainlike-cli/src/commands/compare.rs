//! `brainlike compare RDM_A.npy RDM_B.npy --method M [--bootstrap N --seed S] [--json]`:
//! compare two RDMs on their upper triangles (rsatoolbox 0.3.2 `rdm.compare`
//! definitions, ties as documented in `brainlike_metrics::rdm::compare`), optionally with
//! a stimulus bootstrap and its percentile 95 % interval.
//!
//! Output (stdout): `VALUE`, or `VALUE CI_LOW CI_HIGH` with `--bootstrap`; with `--json`
//! one object `{"method", "value"}` plus `ci_low`, `ci_high`, `bootstrap`, `seed`,
//! `level`, `se`, `valid_resamples` with `--bootstrap`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use brainlike_metrics::io::read_rdm_npy;
use brainlike_metrics::{CompareMethod, bootstrap_compare, compare};
use clap::Args;

/// Arguments of `brainlike compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// First RDM .npy: square n x n (symmetric; the diagonal is ignored) or the condensed
    /// upper triangle.
    pub rdm_a: PathBuf,
    /// Second RDM .npy, over the same n stimuli in the same order.
    pub rdm_b: PathBuf,
    /// spearman, rho-a, tau-a, kendall (tau-b), pearson, cosine, corr-cov or cosine-cov
    /// (rsatoolbox 0.3.2 definitions; -cov: whitened with the RDM covariance of i.i.d.
    /// pattern noise).
    #[arg(long)]
    pub method: CompareMethod,
    /// Stimulus bootstrap with this many resamples (drawn with replacement; pairs of a
    /// repeated stimulus with itself are dropped, as rsatoolbox); adds a percentile 95 %
    /// interval.
    #[arg(long)]
    pub bootstrap: Option<usize>,
    /// Seed of the bootstrap draws.
    #[arg(long, default_value_t = 0, requires = "bootstrap")]
    pub seed: u64,
    /// Print one JSON object instead of plain numbers.
    #[arg(long)]
    pub json: bool,
}

/// Runs `brainlike compare`.
pub fn run(a: CompareArgs) -> Result<ExitCode> {
    let ra = read_rdm_npy(&a.rdm_a)?;
    let rb = read_rdm_npy(&a.rdm_b)?;
    if ra.n_conditions() != rb.n_conditions() {
        bail!(
            "{} has {} stimuli but {} has {}: the RDMs must be over the same stimuli",
            a.rdm_a.display(),
            ra.n_conditions(),
            a.rdm_b.display(),
            rb.n_conditions()
        );
    }
    let method = a.method;
    match a.bootstrap {
        None => {
            let value = compare(&ra, &rb, method)?;
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({ "method": method.name(), "value": value })
                );
            } else {
                println!("{value}");
            }
        }
        Some(n) => {
            if n < 2 {
                bail!("--bootstrap {n}: need at least 2 resamples");
            }
            let b = bootstrap_compare(&ra, &rb, method, n, 0.95, a.seed)?;
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "method": method.name(),
                        "value": b.point,
                        "ci_low": b.ci_low,
                        "ci_high": b.ci_high,
                        "level": b.level,
                        "se": b.se,
                        "bootstrap": n,
                        "valid_resamples": b.samples.len(),
                        "seed": a.seed,
                    })
                );
            } else {
                println!("{} {} {}", b.point, b.ci_low, b.ci_high);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
