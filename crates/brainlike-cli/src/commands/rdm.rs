//! `brainlike rdm FEATURES.npy --method M --out RDM.npy`: the representational
//! dissimilarity matrix of your own features (rsatoolbox 0.3.2 / scipy definitions,
//! see `brainlike_metrics::rdm::RdmMethod`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use brainlike_metrics::io::{read_features_npy, write_npy_f64};
use brainlike_metrics::{RdmMethod, calc_rdm};
use clap::Args;

/// Arguments of `brainlike rdm`.
#[derive(Args, Debug)]
pub struct RdmArgs {
    /// Features .npy (float32 or float64), stimuli x units; dimensions after the first are
    /// flattened (C order).
    pub features: PathBuf,
    /// correlation (1 − Pearson r between stimulus rows), cosine (1 − cosine), euclidean,
    /// sqeuclidean (squared distance) or mean-sqeuclidean (squared distance / number of
    /// units: what rsatoolbox calls "euclidean", rsatoolbox issue #179).
    #[arg(long)]
    pub method: RdmMethod,
    /// Output .npy: the square n x n float64 RDM (zero diagonal).
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `brainlike rdm`.
pub fn run(a: RdmArgs) -> Result<ExitCode> {
    let x = read_features_npy(&a.features)?;
    let rdm = calc_rdm(x.view(), a.method)?;
    let n = rdm.n_conditions();
    if let Some(k) = rdm.condensed().iter().position(|v| !v.is_finite()) {
        let (i, j) = brainlike_metrics::rdm::condensed_pair(n, k);
        bail!(
            "{}: {} distance between stimuli {i} and {j} is undefined (a row with {})",
            a.features.display(),
            a.method.name(),
            if a.method == RdmMethod::Correlation {
                "zero variance"
            } else {
                "zero norm"
            }
        );
    }
    write_npy_f64(&a.out, rdm.square().view())
        .with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "{}: {n} x {n} {} RDM of {}",
        a.out.display(),
        a.method.name(),
        a.features.display()
    );
    Ok(ExitCode::SUCCESS)
}
