//! The local executor: N runs at once, T threads each, on this machine.
//!
//! Defaults: N = 1 and T = all cores (`std::thread::available_parallelism`); with only N
//! given, T = max(1, cores / N). Runs are started in plan order. A failed run does not stop
//! the others; it is recorded in its `sweep-failed.json` and counted in the outcome.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::SweepError;
use crate::plan::PlannedRun;
use crate::runner::Runner;
use crate::state::{self, RunLock, RunStatus};

/// What happened to one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executed {
    /// Already complete: not run again.
    Skipped,
    /// Ran to completion now.
    Completed,
    /// Another live process owns it.
    Busy(String),
    /// Failed with this error.
    Failed(String),
}

/// Runs one run under its lock: skips it if complete, resumes it if interrupted, records
/// a failure. This is what a Slurm array task does, too.
pub fn execute_one(run: &PlannedRun, runner: &dyn Runner, threads: usize) -> Executed {
    if state::run_status(&run.out_dir) == RunStatus::Complete {
        return Executed::Skipped;
    }
    let lock = match RunLock::acquire(&run.out_dir, &run.id) {
        Ok(l) => l,
        Err(e) => {
            return match e.downcast_ref::<SweepError>() {
                Some(SweepError::Locked { holder, .. }) => Executed::Busy(holder.clone()),
                _ => Executed::Failed(format!("{e:#}")),
            };
        }
    };
    // Look again under the lock: another process may have finished it meanwhile.
    if run.out_dir.join(state::SUMMARY_FILE).is_file() {
        return Executed::Skipped;
    }
    brainlike_run::status::clear_failure(&run.out_dir);
    // Under the lock no other sweep's trainer writes here: half-written files of killed
    // writers can go.
    if let Err(e) = brainlike_run::sweep_stale_temps(&run.out_dir) {
        eprintln!("warning: {e}");
    }
    let mut run = run.clone();
    run.resume = state::has_trainer_state(&run.out_dir);
    let result = runner.run(&run, threads).and_then(|()| {
        if run.out_dir.join(state::SUMMARY_FILE).is_file() {
            Ok(())
        } else {
            anyhow::bail!(
                "the run returned without writing {}",
                run.out_dir.join(state::SUMMARY_FILE).display()
            )
        }
    });
    let out = match result {
        Ok(()) => Executed::Completed,
        Err(e) => match state::record_failure(&run.out_dir, &e) {
            Ok(()) => Executed::Failed(format!("{e:#}")),
            Err(rec) => {
                // Still failed: the summary counts it from this value, not from the disk.
                eprintln!("warning: {rec:#}");
                Executed::Failed(format!("{e:#} (and {rec:#})"))
            }
        },
    };
    drop(lock);
    out
}

/// Counts of a local execution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalReport {
    /// Ids run to completion now.
    pub completed: Vec<String>,
    /// Ids already complete.
    pub skipped: Vec<String>,
    /// (id, error) of failed runs.
    pub failed: Vec<(String, String)>,
    /// (id, holder) of runs owned by another live process.
    pub busy: Vec<(String, String)>,
}

/// All cores, as the default thread budget.
pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Runs `runs` with at most `concurrency` at once and `threads` threads each, printing
/// progress lines to stderr.
pub fn run_local(
    runs: &[PlannedRun],
    runner: &dyn Runner,
    concurrency: usize,
    threads: usize,
) -> LocalReport {
    let total = runs.len();
    let mut initial = LocalReport::default();
    let mut todo = VecDeque::new();
    for (i, run) in runs.iter().enumerate() {
        if state::run_status(&run.out_dir) == RunStatus::Complete {
            state::clear_stale_lock(&run.out_dir);
            initial.skipped.push(run.id.clone());
        } else {
            todo.push_back((i, run));
        }
    }
    let workers = concurrency.clamp(1, todo.len().max(1));
    eprintln!(
        "sweep: {total} runs ({} already complete, skipped); {} to do, {workers} at a time x \
         {threads} thread{}",
        initial.skipped.len(),
        todo.len(),
        if threads == 1 { "" } else { "s" }
    );
    let queue: Mutex<VecDeque<(usize, &PlannedRun)>> = Mutex::new(todo);
    let report = Mutex::new(initial);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let Some((i, run)) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    let tag = format!("[{}/{total}] {}", i + 1, run.id);
                    let resume = state::has_trainer_state(&run.out_dir);
                    eprintln!("{tag}: {}", if resume { "resuming" } else { "starting" });
                    let t0 = Instant::now();
                    let outcome = execute_one(run, runner, threads);
                    let secs = t0.elapsed().as_secs_f64();
                    let mut r = report.lock().unwrap();
                    match outcome {
                        Executed::Skipped => {
                            eprintln!("{tag}: complete, skipped");
                            r.skipped.push(run.id.clone());
                        }
                        Executed::Completed => {
                            eprintln!("{tag}: done in {secs:.1} s");
                            r.completed.push(run.id.clone());
                        }
                        Executed::Busy(h) => {
                            eprintln!("{tag}: being run by {h}, left alone");
                            r.busy.push((run.id.clone(), h));
                        }
                        Executed::Failed(e) => {
                            eprintln!("{tag}: FAILED after {secs:.1} s: {e}");
                            r.failed.push((run.id.clone(), e));
                        }
                    }
                }
            });
        }
    });
    report.into_inner().unwrap()
}
