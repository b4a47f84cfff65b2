//! Write the report of a sweep directory: `cargo run --example report -- SWEEP OUT`.

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(sweep), Some(out)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: report SWEEP_DIR OUT_DIR");
    };
    let s = brainlike_stats::report::write_report(sweep.as_ref(), out.as_ref())?;
    println!(
        "{}: {} runs ({} finished), {} configurations, {} figure files",
        s.report_path.display(),
        s.n_runs,
        s.n_finished,
        s.configurations.len(),
        s.figures.len()
    );
    Ok(())
}
