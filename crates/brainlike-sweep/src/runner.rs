//! Executing one run: the [`Runner`] trait and the [`ProcessRunner`].

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::Context;

use crate::plan::PlannedRun;
use crate::state::{self, LOG_FILE};

/// Runs one training to completion (or error). Implementations must write
/// `run.out_dir/summary.json` last, only on success, and resume from the latest checkpoint
/// in `run.out_dir` when `run.resume` is true.
///
/// The CLI implements this in-process (so runs of one sweep share decoded data):
/// build the config from `run.base` (or the built-in defaults) plus
/// [`PlannedRun::all_overrides`]`(threads)` and call the trainer. Runs may execute
/// concurrently from several threads, hence `Sync`.
pub trait Runner: Sync {
    /// Runs `run` with `threads` worker threads.
    fn run(&self, run: &PlannedRun, threads: usize) -> anyhow::Result<()>;

    /// Checks a run's overrides before anything starts (e.g. against the trainer's config
    /// schema), so a typo fails the whole sweep up front. Default: accept.
    fn check(&self, run: &PlannedRun) -> anyhow::Result<()> {
        let _ = run;
        Ok(())
    }
}

/// Runs each training as a child process:
/// `<exe> train [--config BASE] --set k=v ... --set out_dir=DIR --set threads=T [--resume]`
/// with `RAYON_NUM_THREADS=T` and `OMP_NUM_THREADS=T`, stdout and stderr appended to
/// `runs/<id>/log.txt`.
#[derive(Debug, Clone)]
pub struct ProcessRunner {
    /// The `brainlike` executable.
    pub exe: PathBuf,
    /// Arguments placed before `train`'s own (default: `["train"]`).
    pub subcommand: Vec<OsString>,
    /// Extra environment variables for the child.
    pub env: Vec<(OsString, OsString)>,
}

impl ProcessRunner {
    /// A runner for `<exe> train ...`.
    pub fn new(exe: impl Into<PathBuf>) -> Self {
        ProcessRunner {
            exe: exe.into(),
            subcommand: vec!["train".into()],
            env: Vec::new(),
        }
    }

    /// The command line for `run` (without environment), for logs and dry runs.
    pub fn command_args(&self, run: &PlannedRun, threads: usize) -> Vec<OsString> {
        let mut args = self.subcommand.clone();
        if let Some(base) = &run.base {
            args.push("--config".into());
            args.push(base.clone().into_os_string());
        }
        for s in run.set_args(threads) {
            args.push("--set".into());
            args.push(s.into());
        }
        if run.resume {
            args.push("--resume".into());
        }
        args
    }
}

impl Runner for ProcessRunner {
    fn run(&self, run: &PlannedRun, threads: usize) -> anyhow::Result<()> {
        std::fs::create_dir_all(&run.out_dir)
            .with_context(|| format!("cannot create {}", run.out_dir.display()))?;
        let log_path = run.out_dir.join(LOG_FILE);
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        let args = self.command_args(run, threads);
        let shown: Vec<String> = args
            .iter()
            .map(|a| shell_quote(&a.to_string_lossy()))
            .collect();
        writeln!(
            log,
            "=== brainlike sweep: {} on {} at unix time {}\n=== {} {}",
            if run.resume { "resume" } else { "start" },
            state::hostname(),
            state::now(),
            shell_quote(&self.exe.to_string_lossy()),
            shown.join(" ")
        )?;
        log.flush()?;
        let t = threads.to_string();
        let mut cmd = Command::new(&self.exe);
        cmd.args(&args)
            .env("RAYON_NUM_THREADS", &t)
            .env("OMP_NUM_THREADS", &t)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", self.exe.display()))?;
        state::record_child(&run.out_dir, child.id())?;
        let status = child.wait()?;
        writeln!(log, "=== exit: {status}")?;
        if !status.success() {
            anyhow::bail!(
                "{} exited with {status}; see {}",
                self.exe.display(),
                log_path.display()
            );
        }
        if !run.out_dir.join(state::SUMMARY_FILE).is_file() {
            anyhow::bail!(
                "{} exited successfully but wrote no {} in {}; see {}",
                self.exe.display(),
                state::SUMMARY_FILE,
                run.out_dir.display(),
                log_path.display()
            );
        }
        Ok(())
    }
}

/// Quotes a string for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=,:+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
