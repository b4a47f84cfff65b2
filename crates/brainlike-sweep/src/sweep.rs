//! `brainlike sweep`: arguments and the entry point the CLI calls.
//!
//! ```ignore
//! // in the brainlike CLI
//! #[derive(clap::Subcommand)]
//! enum Cmd { Train(TrainArgs), Sweep(brainlike_sweep::SweepArgs) }
//! // ...
//! Cmd::Sweep(args) => {
//!     let runner = InProcessRunner::new(/* shared decoded data */);
//!     let exe = std::env::current_exe()?;
//!     // Runs the sweep, prints its summary once, returns the exit status.
//!     return Ok(ExitCode::from(brainlike_sweep::sweep_main(&args, &runner, &exe)?));
//! }
//! ```

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::collect::Collection;
use crate::error::SweepError;
use crate::experiment::{ExecutorKind, Experiment};
use crate::local::{self, Executed, LocalReport};
use crate::plan::{Plan, PlannedRun};
use crate::runner::Runner;
use crate::slurm::{self, ArrayJob, Submission};
use crate::state::{self, RunStatus};

/// Run every configuration of an experiment file (a grid over `brainlike train`
/// overrides x seeds), skipping complete runs and resuming interrupted ones.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SweepArgs {
    /// Experiment file (TOML), e.g. experiments/fig2_ratio.toml.
    pub experiment: PathBuf,
    /// Sweep directory [default: sweeps/<name>].
    #[arg(long, value_name = "DIR")]
    pub sweep_dir: Option<PathBuf>,
    /// Where runs execute [default: the file's [executor] kind, else local].
    #[arg(long, value_enum)]
    pub executor: Option<ExecutorKind>,
    /// Runs at once (local), or the Slurm array throttle %N [default: 1 / none].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Threads per run (local), or --cpus-per-task (Slurm) [default: cores / concurrency].
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Run only run INDEX of SWEEP_DIR/plan.json (what each Slurm array task does).
    #[arg(long, value_name = "INDEX")]
    pub task_index: Option<usize>,
    /// Print the plan (and the Slurm script) without running or writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Slurm: wait for the job array to finish, then collect.
    #[arg(long)]
    pub wait: bool,
    /// Print the status of every run and write SWEEP_DIR/results.csv; run nothing.
    #[arg(long)]
    pub status: bool,
}

/// What a sweep did. Every planned run is in at most one of the id lists.
#[derive(Debug, Clone, Default)]
pub struct SweepOutcome {
    /// The sweep directory.
    pub sweep_dir: PathBuf,
    /// Runs in the plan.
    pub planned: usize,
    /// Ids run to completion by this call (with Slurm `--wait`: by the array).
    pub completed: Vec<String>,
    /// Ids already complete before this call.
    pub skipped: Vec<String>,
    /// Ids another process (on this host) completed while this call waited for it.
    pub elsewhere: Vec<String>,
    /// (id, error) of runs that failed.
    pub failed: Vec<(String, String)>,
    /// (id, holder) of runs left to another live process that this call could not wait
    /// for (on another host).
    pub busy: Vec<(String, String)>,
    /// Ids submitted to Slurm and not waited for.
    pub submitted: Vec<String>,
    /// The Slurm submission, if any.
    pub submission: Option<Submission>,
    /// Status of every run after the call (absent for dry runs and single tasks); runs that
    /// failed in this call read as failed even where their failure record could not be
    /// written.
    pub collection: Option<Collection>,
    /// `--status`: nothing ran; the summary is the collection's.
    pub status_only: bool,
}

impl SweepOutcome {
    /// No run failed and none was left to another process.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty()
            && self.busy.is_empty()
            && self
                .submission
                .as_ref()
                .is_none_or(|s| s.wait_ok != Some(false))
    }

    /// 0 on success, 1 otherwise (the CLI's exit status).
    pub fn exit_code(&self) -> u8 {
        if self.is_success() { 0 } else { 1 }
    }

    /// `(what, how many)` for the summary line; the counts add up to [`Self::planned`]
    /// (runs in none of the lists are counted by their status in the collection).
    pub fn counts(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = vec![
            ("completed now".into(), self.completed.len()),
            ("already complete".into(), self.skipped.len()),
            ("failed".into(), self.failed.len()),
        ];
        let optional = [
            ("completed elsewhere", self.elsewhere.len()),
            ("running elsewhere", self.busy.len()),
            ("submitted", self.submitted.len()),
        ];
        out.extend(
            optional
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(w, n)| (w.to_string(), n)),
        );
        let seen: HashSet<&str> = self
            .completed
            .iter()
            .chain(&self.skipped)
            .chain(&self.elsewhere)
            .chain(&self.submitted)
            .map(String::as_str)
            .chain(self.failed.iter().map(|(id, _)| id.as_str()))
            .chain(self.busy.iter().map(|(id, _)| id.as_str()))
            .collect();
        let mut rest = self.planned.saturating_sub(seen.len());
        if let Some(c) = &self.collection {
            for word in RunStatus::WORDS {
                let n = c
                    .runs
                    .iter()
                    .filter(|r| !seen.contains(r.entry.id.as_str()) && r.status.word() == word)
                    .count();
                if n > 0 {
                    out.push((word.to_string(), n));
                    rest = rest.saturating_sub(n);
                }
            }
        }
        if rest > 0 {
            out.push(("not started".into(), rest));
        }
        out
    }
}

impl fmt::Display for SweepOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.status_only
            && let Some(c) = &self.collection
        {
            return write!(f, "{}", c.to_string().trim_end());
        }
        let counts: Vec<String> = self
            .counts()
            .iter()
            .map(|(w, n)| format!("{n} {w}"))
            .collect();
        write!(
            f,
            "sweep {}: {} planned: {}",
            self.sweep_dir.display(),
            self.planned,
            counts.join(", ")
        )?;
        if let Some(s) = &self.submission {
            write!(f, "; Slurm job {} ({} tasks)", s.job_id, s.tasks)?;
            if s.wait_ok.is_none() {
                write!(f, " submitted")?;
            }
        }
        for (id, e) in &self.failed {
            write!(f, "\n  failed: {id}: {}", e.lines().next().unwrap_or(""))?;
        }
        for (id, h) in &self.busy {
            write!(f, "\n  running elsewhere: {id}: {h}")?;
        }
        Ok(())
    }
}

/// `brainlike sweep`: [`run_sweep`], then its summary printed once on stdout (progress goes
/// to stderr as it happens). Returns the exit status: 0 when every run of the plan is
/// complete or was submitted, 1 when a run failed or is left to a process on another host.
pub fn sweep_main(args: &SweepArgs, runner: &dyn Runner, exe: &Path) -> anyhow::Result<u8> {
    let outcome = run_sweep(args, runner, exe)?;
    if !args.dry_run {
        println!("{outcome}");
    }
    Ok(outcome.exit_code())
}

/// Runs a sweep as `args` say; see the crate docs for the sweep directory layout.
///
/// - `runner` executes single runs on this machine (local executor and Slurm tasks).
/// - `exe` is the `brainlike` executable the Slurm tasks call (`<exe> sweep ...`).
///
/// Returns `Err` for bad input (experiment file, changed plan, Slurm submission); run
/// failures are reported in the outcome (see [`SweepOutcome::exit_code`]).
pub fn run_sweep(
    args: &SweepArgs,
    runner: &dyn Runner,
    exe: &Path,
) -> anyhow::Result<SweepOutcome> {
    let exp = Experiment::load(&args.experiment)?;
    let plan = Plan::expand(&exp)?;
    let sweep_dir = std::path::absolute(
        args.sweep_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("sweeps").join(&exp.name)),
    )?;
    let plan_path = sweep_dir.join("plan.json");

    if args.status {
        let c = final_collection(&sweep_dir, &[])?;
        return Ok(SweepOutcome {
            sweep_dir,
            planned: c.runs.len(),
            failed: failed_of(&c),
            collection: Some(c),
            status_only: true,
            ..Default::default()
        });
    }

    if let Some(index) = args.task_index {
        return run_task(&exp, &plan, &sweep_dir, index, args.threads, runner);
    }

    let old = if plan_path.is_file() {
        Some(Plan::load(&plan_path)?)
    } else {
        None
    };
    if let Some(old) = &old {
        check_plan(&plan_path, &sweep_dir, old, &plan)?;
    }
    check_base(&exp, &sweep_dir, &plan)?;

    let kind = args
        .executor
        .or(exp.executor.kind)
        .unwrap_or(ExecutorKind::Local);
    let concurrency = args
        .concurrency
        .or(exp.executor.concurrency)
        .unwrap_or(1)
        .max(1);

    let runs: Vec<PlannedRun> = plan
        .runs
        .iter()
        .map(|e| plan.planned_run(&sweep_dir, e))
        .collect();
    // Before the sweep dir is prepared (a new sweep, a dry run) its copy of the base config
    // does not exist yet: check against the experiment's own (check_base made sure they match
    // when the copy exists).
    let copied = sweep_dir.join("base.toml").is_file();
    for r in &runs {
        let mut r = r.clone();
        if !copied {
            r.base.clone_from(&exp.base);
        }
        runner
            .check(&r)
            .with_context(|| format!("{}: run `{}`", exp.path.display(), r.id))?;
    }

    if args.dry_run {
        print_plan(&exp, &plan, &runs, &sweep_dir);
        if kind == ExecutorKind::Slurm {
            let job = array_job(args, &exp, &sweep_dir, exe, todo_indices(&runs))?;
            println!(
                "\n# {} would be:",
                sweep_dir.join("slurm/sweep.sbatch").display()
            );
            print!("{}", job.script());
        }
        return Ok(SweepOutcome {
            sweep_dir,
            planned: runs.len(),
            ..Default::default()
        });
    }

    prepare_dir(&exp, &sweep_dir, &plan, old.as_ref())?;

    match kind {
        ExecutorKind::Local => {
            let threads = args
                .threads
                .or(exp.executor.threads_per_run)
                .unwrap_or_else(|| (local::available_cores() / concurrency).max(1));
            let mut report = local::run_local(&runs, runner, concurrency, threads);
            let elsewhere = wait_for_others(&runs, runner, concurrency, threads, &mut report);
            let c = final_collection(&sweep_dir, &report.failed)?;
            Ok(SweepOutcome {
                sweep_dir,
                planned: runs.len(),
                completed: report.completed,
                skipped: report.skipped,
                elsewhere,
                failed: report.failed,
                busy: report.busy,
                collection: Some(c),
                ..Default::default()
            })
        }
        ExecutorKind::Slurm => {
            let skipped: Vec<String> = runs
                .iter()
                .filter(|r| state::run_status(&r.out_dir) == RunStatus::Complete)
                .map(|r| {
                    state::clear_stale_lock(&r.out_dir);
                    r.id.clone()
                })
                .collect();
            let mut busy = Vec::new();
            for r in &runs {
                if let RunStatus::Running { holder } = state::run_status(&r.out_dir) {
                    busy.push((r.id.clone(), holder));
                }
            }
            let todo = todo_indices(&runs);
            if todo.is_empty() {
                eprintln!("sweep: nothing to submit");
                let c = final_collection(&sweep_dir, &[])?;
                return Ok(SweepOutcome {
                    sweep_dir,
                    planned: runs.len(),
                    skipped,
                    busy,
                    collection: Some(c),
                    ..Default::default()
                });
            }
            let active = slurm::active_jobs(&sweep_dir)?;
            if !active.is_empty() {
                anyhow::bail!(
                    "{}: Slurm job(s) {} of this sweep are still queued or running (squeue); \
                     wait for them or scancel them before submitting again",
                    sweep_dir.join("slurm/jobs.json").display(),
                    active.join(", ")
                );
            }
            let job = array_job(args, &exp, &sweep_dir, exe, todo.clone())?;
            let submission = slurm::submit(&job, args.wait)?;
            let mut outcome = SweepOutcome {
                sweep_dir: sweep_dir.clone(),
                planned: runs.len(),
                skipped,
                busy,
                submission: Some(submission),
                ..Default::default()
            };
            if !args.wait {
                outcome.submitted = todo.iter().map(|&i| runs[i].id.clone()).collect();
            } else {
                let c = final_collection(&sweep_dir, &[])?;
                for i in &todo {
                    let r = &c.runs[*i];
                    match &r.status {
                        RunStatus::Complete => outcome.completed.push(r.entry.id.clone()),
                        RunStatus::Failed { message } => {
                            outcome.failed.push((r.entry.id.clone(), message.clone()))
                        }
                        other => outcome.failed.push((
                            r.entry.id.clone(),
                            format!(
                                "{} after the job ended; see {}",
                                other.word(),
                                sweep_dir.join("slurm").display()
                            ),
                        )),
                    }
                }
                outcome.collection = Some(c);
            }
            Ok(outcome)
        }
    }
}

/// One Slurm array task: run `plan.json[index]`.
fn run_task(
    exp: &Experiment,
    fresh: &Plan,
    sweep_dir: &Path,
    index: usize,
    threads: Option<usize>,
    runner: &dyn Runner,
) -> anyhow::Result<SweepOutcome> {
    let plan_path = sweep_dir.join("plan.json");
    let plan = Plan::load(&plan_path).with_context(|| {
        format!(
            "--task-index needs the plan of a prepared sweep in {}",
            sweep_dir.display()
        )
    })?;
    let entry = plan.runs.get(index).with_context(|| {
        format!(
            "{}: --task-index {index} but the plan has {} runs",
            plan_path.display(),
            plan.runs.len()
        )
    })?;
    match fresh.get(&entry.id) {
        Some(now) if now.overrides == entry.overrides => {}
        Some(now) => return Err(plan_changed(&plan_path, sweep_dir, &entry.overrides, now).into()),
        None => anyhow::bail!(
            "{}: run `{}` of {} is no longer produced by {}; the experiment file changed after \
             submission",
            plan_path.display(),
            entry.id,
            plan_path.display(),
            exp.path.display()
        ),
    }
    let run = plan.planned_run(sweep_dir, entry);
    runner.check(&run)?;
    let threads = threads
        .or_else(|| {
            std::env::var("SLURM_CPUS_PER_TASK")
                .ok()
                .and_then(|s| s.parse().ok())
        })
        .unwrap_or_else(local::available_cores)
        .max(1);
    eprintln!(
        "sweep task {index}: {} with {threads} threads ({})",
        run.id,
        if state::has_trainer_state(&run.out_dir) {
            "resume"
        } else {
            "start"
        }
    );
    let mut outcome = SweepOutcome {
        sweep_dir: sweep_dir.to_path_buf(),
        planned: 1,
        ..Default::default()
    };
    match local::execute_one(&run, runner, threads) {
        Executed::Skipped => outcome.skipped.push(run.id),
        Executed::Completed => outcome.completed.push(run.id),
        Executed::Busy(h) => outcome.busy.push((run.id, h)),
        Executed::Failed(e) => outcome.failed.push((run.id, e)),
    }
    Ok(outcome)
}

/// Runs that other live processes of this host own (another sweep, an orphaned trainer):
/// waits for them to end, then runs what they left unfinished, so that a sweep ends with
/// its whole plan done. Returns the ids the others completed; runs owned from another host
/// (whose liveness cannot be seen from here) stay in `report.busy`.
fn wait_for_others(
    runs: &[PlannedRun],
    runner: &dyn Runner,
    concurrency: usize,
    threads: usize,
    report: &mut LocalReport,
) -> Vec<String> {
    let here = state::hostname();
    let held_here = |r: &PlannedRun| state::live_holder(&r.out_dir).is_some_and(|h| h.host == here);
    let mut elsewhere = Vec::new();
    let mut remote = Vec::new();
    loop {
        let mut waiting: Vec<&PlannedRun> = Vec::new();
        for (id, holder) in std::mem::take(&mut report.busy) {
            match runs.iter().find(|r| r.id == id) {
                Some(r) if state::live_holder(&r.out_dir).is_none_or(|h| h.host == here) => {
                    waiting.push(r)
                }
                _ => remote.push((id, holder)),
            }
        }
        if waiting.is_empty() {
            break;
        }
        eprintln!(
            "sweep: waiting for {} run{} being run by other processes on this host",
            waiting.len(),
            if waiting.len() == 1 { "" } else { "s" }
        );
        while waiting.iter().any(|r| held_here(r)) {
            std::thread::sleep(Duration::from_millis(200));
        }
        let mut again = Vec::new();
        for r in waiting {
            if r.out_dir.join(state::SUMMARY_FILE).is_file() {
                // An orphaned trainer leaves the lock of its killed sweep behind.
                state::clear_stale_lock(&r.out_dir);
                elsewhere.push(r.id.clone());
            } else {
                again.push(r.clone());
            }
        }
        if again.is_empty() {
            continue;
        }
        let more = local::run_local(&again, runner, concurrency, threads);
        report.completed.extend(more.completed);
        elsewhere.extend(more.skipped);
        report.failed.extend(more.failed);
        report.busy.extend(more.busy);
    }
    report.busy = remote;
    elsewhere
}

/// The status of every run after a call: read from the run directories, with this call's
/// failures overlaid (their records may be missing: a full disk). Writes `results.csv`,
/// with a warning when it cannot.
fn final_collection(sweep_dir: &Path, failed: &[(String, String)]) -> anyhow::Result<Collection> {
    let mut c = Collection::read(sweep_dir)?;
    for r in &mut c.runs {
        if let Some((_, message)) = failed.iter().find(|(id, _)| *id == r.entry.id)
            && r.status != RunStatus::Complete
        {
            r.status = RunStatus::Failed {
                message: message.clone(),
            };
        }
    }
    if let Err(e) = c.write_csv(&sweep_dir.join("results.csv")) {
        eprintln!("warning: {e:#}");
    }
    Ok(c)
}

fn failed_of(c: &Collection) -> Vec<(String, String)> {
    c.runs
        .iter()
        .filter_map(|r| match &r.status {
            RunStatus::Failed { message } => Some((r.entry.id.clone(), message.clone())),
            _ => None,
        })
        .collect()
}

/// Plan indices of runs that are neither complete nor owned by a live process.
fn todo_indices(runs: &[PlannedRun]) -> Vec<usize> {
    runs.iter()
        .filter(|r| {
            !matches!(
                state::run_status(&r.out_dir),
                RunStatus::Complete | RunStatus::Running { .. }
            )
        })
        .map(|r| r.index)
        .collect()
}

fn array_job(
    args: &SweepArgs,
    exp: &Experiment,
    sweep_dir: &Path,
    exe: &Path,
    indices: Vec<usize>,
) -> anyhow::Result<ArrayJob> {
    let cfg = &exp.executor.slurm;
    Ok(ArrayJob {
        name: format!("brainlike-{}", exp.name),
        sweep_dir: sweep_dir.to_path_buf(),
        experiment: std::path::absolute(&exp.path)?,
        exe: std::path::absolute(exe)?,
        indices,
        cpus_per_task: args
            .threads
            .or(cfg.cpus_per_task)
            .or(exp.executor.threads_per_run)
            .unwrap_or(1)
            .max(1),
        max_parallel: args
            .concurrency
            .or(cfg.max_parallel)
            .or(exp.executor.concurrency),
        config: cfg.clone(),
    })
}

fn run_started(dir: &Path) -> bool {
    dir.join(state::SUMMARY_FILE).is_file() || state::has_trainer_state(dir)
}

fn plan_changed(
    plan_path: &Path,
    sweep_dir: &Path,
    old: &[crate::plan::Override],
    new: &crate::plan::PlanEntry,
) -> SweepError {
    let find = |v: &[crate::plan::Override], k: &str| {
        v.iter()
            .find(|o| o.key == k)
            .map(|o| o.value_literal())
            .unwrap_or_else(|| "<absent>".into())
    };
    let mut keys: Vec<&str> = old
        .iter()
        .chain(&new.overrides)
        .map(|o| o.key.as_str())
        .collect();
    keys.sort();
    keys.dedup();
    let key = keys
        .into_iter()
        .find(|k| find(old, k) != find(&new.overrides, k))
        .unwrap_or("?")
        .to_string();
    SweepError::PlanChanged {
        plan: plan_path.to_path_buf(),
        id: new.id.clone(),
        run_dir: sweep_dir.join("runs").join(&new.id),
        old: find(old, &key),
        new: find(&new.overrides, &key),
        key,
    }
}

/// Refuses an edited experiment whose runs would differ from runs that already have
/// results under the same id.
fn check_plan(plan_path: &Path, sweep_dir: &Path, old: &Plan, new: &Plan) -> anyhow::Result<()> {
    for n in &new.runs {
        if let Some(o) = old.get(&n.id)
            && o.overrides != n.overrides
            && run_started(&sweep_dir.join("runs").join(&n.id))
        {
            return Err(plan_changed(plan_path, sweep_dir, &o.overrides, n).into());
        }
    }
    let gone = old.runs.iter().filter(|o| new.get(&o.id).is_none()).count();
    if gone > 0 {
        eprintln!(
            "note: {gone} runs of the previous plan are no longer in {}; their directories \
             are kept but not collected",
            plan_path.display()
        );
    }
    Ok(())
}

/// Refuses a changed base config once runs have used the sweep's copy of it.
fn check_base(exp: &Experiment, sweep_dir: &Path, plan: &Plan) -> anyhow::Result<()> {
    let copy = sweep_dir.join("base.toml");
    let want = match &exp.base {
        Some(b) => Some(
            std::fs::read(b).with_context(|| format!("cannot read base config {}", b.display()))?,
        ),
        None => None,
    };
    let have = std::fs::read(&copy).ok();
    if want == have {
        return Ok(());
    }
    let started = plan
        .runs
        .iter()
        .any(|e| run_started(&sweep_dir.join("runs").join(&e.id)));
    if started {
        anyhow::bail!(
            "{}: base = {} differs from {}, the base config this sweep's runs used; restore \
             it or run into a new --sweep-dir",
            exp.path.display(),
            exp.base
                .as_ref()
                .map(|b| b.display().to_string())
                .unwrap_or_else(|| "<none: built-in defaults>".into()),
            if have.is_some() {
                copy.display().to_string()
            } else {
                "the built-in defaults".into()
            }
        );
    }
    Ok(())
}

fn prepare_dir(
    exp: &Experiment,
    sweep_dir: &Path,
    plan: &Plan,
    old: Option<&Plan>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(sweep_dir.join("runs"))
        .with_context(|| format!("cannot create {}", sweep_dir.display()))?;
    brainlike_run::write_atomic(&sweep_dir.join("experiment.toml"), exp.text.as_bytes())?;
    match &exp.base {
        Some(b) => std::fs::copy(b, sweep_dir.join("base.toml"))
            .map(|_| ())
            .with_context(|| format!("cannot copy {} into {}", b.display(), sweep_dir.display()))?,
        None => {
            let _ = std::fs::remove_file(sweep_dir.join("base.toml"));
        }
    }
    if old != Some(plan) {
        plan.save(&sweep_dir.join("plan.json"))?;
    }
    Ok(())
}

fn print_plan(exp: &Experiment, plan: &Plan, runs: &[PlannedRun], sweep_dir: &Path) {
    println!(
        "# {} ({}): {} runs = {} seeds x {} configurations; sweep dir {}",
        exp.name,
        exp.path.display(),
        runs.len(),
        exp.seeds.len(),
        runs.len() / exp.seeds.len().max(1),
        sweep_dir.display()
    );
    if let Some(b) = &exp.base {
        println!("# base config: {}", b.display());
    }
    println!("{:>5}  {:<11}  run id", "index", "status");
    for r in runs {
        println!(
            "{:>5}  {:<11}  {}",
            r.index,
            state::run_status(&r.out_dir).word(),
            r.id
        );
    }
    if let Some(first) = plan.runs.first() {
        println!("\n# overrides of run {} ({}):", first.index, first.id);
        for o in &first.overrides {
            println!("#   --set {}", o.to_arg());
        }
    }
}
