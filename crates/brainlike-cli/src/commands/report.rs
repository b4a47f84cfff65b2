//! `brainlike report SWEEP_DIR`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

/// Write figures and a Markdown report for a sweep.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Sweep directory (holds runs/<id>/).
    pub sweep_dir: PathBuf,
    /// Output folder (default: SWEEP_DIR/report).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `brainlike report`.
pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let out = args.out.unwrap_or_else(|| args.sweep_dir.join("report"));
    let s = brainlike_stats::report::write_report(&args.sweep_dir, &out)?;
    for (id, status) in &s.unfinished {
        eprintln!("warning: run {id}: {status}");
    }
    if s.n_invalid > 0 {
        eprintln!(
            "warning: {} of {} runs not used (unreadable or repeats); see {}",
            s.n_invalid,
            s.n_runs,
            s.report_path.display()
        );
    }
    println!(
        "{}: {} configurations, {} figures -> {}",
        args.sweep_dir.display(),
        s.configurations.len(),
        s.figures.len(),
        out.join("report.md").display()
    );
    Ok(ExitCode::SUCCESS)
}
