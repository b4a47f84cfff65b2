//! Report generator for a sweep directory: tables and figures in the forms of the
//! paper (Fig. 2a/b test accuracy, Fig. 3 t-SNE and §3.2 activation variance, Fig. 4
//! teacher types, Table 1 / Fig. 5 superclass errors, Fig. 6 label corruption).
//!
//! Layout read: `SWEEP/runs/<run_id>/` with `config.toml`, `metrics.csv`,
//! `summary.json` (finished runs only), optional `analysis/activation_variance.json`
//! and `analysis/tsne.csv` (see [`load`]).
//!
//! **Configurations.** Each `config.toml` is flattened to dotted keys. A key whose
//! value differs between runs is a configuration axis, except keys ignored by
//! [`is_ignored_key`] (`seed`, `*_seed`, `out_dir`, `*_dir`, `dir`, `device`,
//! `threads`, `run_id`, `name`: bookkeeping that varies without changing the
//! experiment). Runs with equal values on all axes form a configuration; their seeds
//! are the replicates.
//!
//! **Statistics.** Final values are the last `metrics.csv` row of each *finished* run
//! (partial runs appear only in the per-epoch curves, with the number of runs per
//! epoch shrinking where they stop). Tables give mean ± SEM over seeds. Each
//! configuration with `teacher.ratio` > 0 is compared with its control: the finished
//! runs with `teacher.ratio` = 0 and the same values on every non-`teacher.*` axis
//! (e.g. the same label-corruption fraction), pooled. The test is a one-tailed Welch
//! t-test (configuration > control), the paper's `*` p < .05 and `**` p < .001, with
//! the power note of [`crate::ttest`].
//!
//! Figures are written to `OUT/figures/` as PNG and SVG and embedded in
//! `OUT/report.md`; `OUT/report.json` holds the [`ReportSummary`].

mod figures;
mod groups;
pub mod layer_profile;
pub mod load;
mod markdown;
pub mod plot;
mod robustness;

use crate::error::{Result, StatsError};
use crate::summary::Summary;
use crate::ttest::TTestOutcome;
use load::RunRecord;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Config key of the teacher weighting ratio r.
pub const RATIO_KEY: &str = "teacher.ratio";
/// Config key of the teacher pair file (teacher type).
pub const PAIRS_KEY: &str = "teacher.pairs";
/// Config key of the label-corruption fraction p.
pub const CORRUPTION_KEY: &str = "data.label_corruption";

/// Whether a flattened config key is bookkeeping rather than a configuration axis
/// (see the module documentation).
pub fn is_ignored_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    matches!(
        last,
        "seed" | "out_dir" | "dir" | "device" | "threads" | "run_id" | "name"
    ) || last.ends_with("_seed")
        || last.ends_with("_dir")
}

/// One configuration (a set of seeds) of the sweep.
#[derive(Debug, Clone, Serialize)]
pub struct Configuration {
    /// Values of the sweep's axes.
    pub axes: BTreeMap<String, String>,
    /// `axis=value, ...` (or "all runs" when the sweep has no axis).
    pub label: String,
    /// `teacher.ratio`, when the runs have it.
    pub ratio: Option<f64>,
    /// All run ids of the configuration.
    pub run_ids: Vec<String>,
    /// Finished runs.
    pub n_finished: usize,
    /// Partial runs (some epochs, no summary).
    pub n_partial: usize,
    /// Runs without epochs or unreadable.
    pub n_missing: usize,
    /// Final test accuracy over finished runs (fraction).
    pub final_test_acc: Summary,
    /// Final training accuracy over finished runs (fraction).
    pub final_train_acc: Summary,
    /// Final fraction of errors within the true superclass over finished runs.
    pub final_superclass_error_frac: Summary,
    /// Final generalization gap `test_loss − train_loss` over finished runs.
    pub final_loss_gap: Summary,
    /// Activation variance of the tapped layer over runs that have it.
    pub activation_variance: Summary,
    /// Label of the r = 0 control, when this configuration is compared to one.
    pub control: Option<String>,
    /// Test accuracy vs control (one-tailed Welch, greater).
    pub acc_vs_control: Option<TTestOutcome>,
    /// Superclass-error fraction vs control (one-tailed Welch, greater).
    pub superclass_vs_control: Option<TTestOutcome>,
}

/// What [`write_report`] produced.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSummary {
    /// The Markdown report.
    pub report_path: PathBuf,
    /// Run directories found.
    pub n_runs: usize,
    /// Finished runs.
    pub n_finished: usize,
    /// Partial runs.
    pub n_partial: usize,
    /// Runs without any finished epoch.
    pub n_missing: usize,
    /// Unreadable runs.
    pub n_invalid: usize,
    /// Configuration axes (flattened keys).
    pub axes: Vec<String>,
    /// Configurations in table order.
    pub configurations: Vec<Configuration>,
    /// `(run_id, status)` of every run that is not finished.
    pub unfinished: Vec<(String, String)>,
    /// Figure files written (PNG and SVG).
    pub figures: Vec<PathBuf>,
}

/// Read the sweep at `sweep_dir` and write `report.md`, `report.json` and the figures
/// (`figures/*.png`, `figures/*.svg`) under `out_dir` (created if needed).
pub fn write_report(sweep_dir: &Path, out_dir: &Path) -> Result<ReportSummary> {
    let runs = load::load_runs(sweep_dir)?;
    let fig_dir = out_dir.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(|e| StatsError::io(&fig_dir, "creating", e))?;
    let (axes, groups) = groups::configurations(&runs)?;
    let mut positive: Vec<f64> = groups
        .iter()
        .filter_map(|g| g.cfg.ratio)
        .filter(|&r| r > 0.0)
        .collect();
    positive.sort_by(f64::total_cmp);
    positive.dedup();
    let figures = figures::draw_all(&figures::Context {
        fig_dir: &fig_dir,
        groups: &groups,
        positive: &positive,
        axes: &axes,
    })?;

    let count = |f: &dyn Fn(&RunRecord) -> bool| runs.iter().filter(|r| f(r)).count();
    let unfinished: Vec<(String, String)> = runs
        .iter()
        .filter(|r| !r.is_finished())
        .map(|r| {
            let epochs = r.last().map_or(String::new(), |m| {
                format!(
                    ", {} epochs written, last epoch {}",
                    r.metrics.len(),
                    m.epoch
                )
            });
            (r.run_id.clone(), format!("{}{epochs}", r.describe()))
        })
        .collect();
    let summary = ReportSummary {
        report_path: out_dir.join("report.md"),
        n_runs: runs.len(),
        n_finished: count(&RunRecord::is_finished),
        n_partial: count(&RunRecord::is_partial),
        n_missing: count(&RunRecord::is_missing),
        n_invalid: count(&RunRecord::is_invalid),
        axes: axes.clone(),
        configurations: groups.iter().map(|g| g.cfg.clone()).collect(),
        unfinished,
        figures: figures.iter().flat_map(|f| f.2.clone()).collect(),
    };

    let mut md = markdown::markdown(sweep_dir, out_dir, &summary, &figures);
    if let Some(section) = robustness::section(&groups) {
        md.push('\n');
        md.push_str(&section);
    }
    brainlike_run::write_atomic(&summary.report_path, md.as_bytes())?;
    let json = serde_json::to_string_pretty(&summary)
        .map_err(|e| StatsError::InvalidArgument(format!("serialising the summary: {e}")))?;
    brainlike_run::write_atomic(&out_dir.join("report.json"), json.as_bytes())?;
    Ok(summary)
}
