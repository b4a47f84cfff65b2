//! What a run directory says about its run, and the per-run lock.
//!
//! A run is complete iff `summary.json` exists (the trainer writes it last, atomically).
//! A sweep process owns a run while it holds `runs/<id>/sweep.lock`: the file is created
//! exclusively, names the owner's host, pid and process start time, and is also held with
//! an OS file lock while the run executes. A process runner records the trainer's pid next
//! to it (`sweep.child.lock`), so a trainer orphaned by a killed sweep still counts as
//! running. A lock is stale when it was written on this host and none of its processes is
//! alive; stale locks are removed on the next attempt. Locks from other hosts are never
//! broken automatically (the error names the host and file, to be removed by hand).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::error::SweepError;

/// Written last by the trainer; its presence means the run is complete.
pub const SUMMARY_FILE: &str = "summary.json";
/// The sweep's lock file inside a run directory.
pub const LOCK_FILE: &str = "sweep.lock";
/// The trainer child's pid record (process runner).
pub const CHILD_LOCK_FILE: &str = "sweep.child.lock";
/// The last failure of a run, removed when it starts again.
pub const FAILED_FILE: &str = "sweep-failed.json";
/// Trainer output written by the process runner.
pub const LOG_FILE: &str = "log.txt";

/// Files the sweep itself writes into a run directory (not trainer state).
const BOOKKEEPING: &[&str] = &[LOCK_FILE, CHILD_LOCK_FILE, FAILED_FILE, LOG_FILE];

/// The state of one run, read from its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    /// `summary.json` exists.
    Complete,
    /// A live process holds the run's lock.
    Running {
        /// Who: `pid N on host H since T`.
        holder: String,
    },
    /// The last attempt failed; the message is its error.
    Failed {
        /// Why.
        message: String,
    },
    /// Trainer state exists but no summary, no failure record and no live owner: the run
    /// was interrupted (killed sweep, node failure) and resumes from its checkpoint.
    Interrupted,
    /// Never started.
    Pending,
}

impl RunStatus {
    /// A short word for tables: complete, running, failed, interrupted, pending.
    pub fn word(&self) -> &'static str {
        match self {
            RunStatus::Complete => "complete",
            RunStatus::Running { .. } => "running",
            RunStatus::Failed { .. } => "failed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Pending => "pending",
        }
    }
}

/// The failure record `sweep-failed.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailureRecord {
    /// The error, with its causes.
    pub error: String,
    /// Host that ran it.
    pub host: String,
    /// Unix time of the failure.
    pub at: u64,
}

/// Reads the status of the run in `run_dir`.
pub fn run_status(run_dir: &Path) -> RunStatus {
    if run_dir.join(SUMMARY_FILE).is_file() {
        return RunStatus::Complete;
    }
    if let Some(holder) = live_holder(run_dir) {
        return RunStatus::Running {
            holder: holder.describe(),
        };
    }
    if let Ok(text) = std::fs::read_to_string(run_dir.join(FAILED_FILE)) {
        let message = serde_json::from_str::<FailureRecord>(&text)
            .map(|r| r.error)
            .unwrap_or(text);
        return RunStatus::Failed { message };
    }
    if has_trainer_state(run_dir) {
        RunStatus::Interrupted
    } else {
        RunStatus::Pending
    }
}

/// True when the run directory holds anything the trainer wrote (config, metrics,
/// checkpoints): the next attempt passes `--resume`.
pub fn has_trainer_state(run_dir: &Path) -> bool {
    let Ok(rd) = std::fs::read_dir(run_dir) else {
        return false;
    };
    rd.flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        !BOOKKEEPING.contains(&name.as_ref()) && !name.starts_with('.')
    })
}

/// Records a failure (best effort; the run's status becomes [`RunStatus::Failed`]).
pub fn record_failure(run_dir: &Path, error: &anyhow::Error) {
    let rec = FailureRecord {
        error: format!("{error:#}"),
        host: hostname(),
        at: now(),
    };
    if let Ok(text) = serde_json::to_string_pretty(&rec) {
        let _ = crate::plan::write_atomic(&run_dir.join(FAILED_FILE), text.as_bytes());
    }
}

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// The process's start time (Linux clock ticks since boot), to tell a reused pid.
    pub start_time: Option<u64>,
    /// Unix time the lock was taken.
    pub since: u64,
}

impl LockHolder {
    /// This process.
    pub fn me() -> LockHolder {
        let pid = std::process::id();
        LockHolder {
            host: hostname(),
            pid,
            start_time: process_start_time(pid),
            since: now(),
        }
    }

    /// A process of this host by pid (e.g. a spawned trainer).
    pub fn local_pid(pid: u32) -> LockHolder {
        LockHolder {
            host: hostname(),
            pid,
            start_time: process_start_time(pid),
            since: now(),
        }
    }

    /// `pid N on host H since T`.
    pub fn describe(&self) -> String {
        format!(
            "pid {} on host {} since unix time {}",
            self.pid, self.host, self.since
        )
    }

    /// Whether the process may be alive: on another host, always (we cannot tell).
    pub fn maybe_alive(&self) -> bool {
        if self.host != hostname() {
            return true;
        }
        pid_alive(self.pid, self.start_time)
    }
}

/// The live owner of the run's lock, if any (a lock whose processes are all dead on this
/// host is stale and reported as no owner).
pub fn live_holder(run_dir: &Path) -> Option<LockHolder> {
    let text = std::fs::read_to_string(run_dir.join(LOCK_FILE)).ok()?;
    let Ok(holder) = serde_json::from_str::<LockHolder>(&text) else {
        // Being written right now, or garbage: fresh files count as held.
        return fresh(&run_dir.join(LOCK_FILE)).then(|| LockHolder {
            host: "?".into(),
            pid: 0,
            start_time: None,
            since: now(),
        });
    };
    if holder.maybe_alive() {
        return Some(holder);
    }
    let child = std::fs::read_to_string(run_dir.join(CHILD_LOCK_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<LockHolder>(&t).ok());
    match child {
        Some(c) if c.maybe_alive() => Some(c),
        _ => None,
    }
}

/// Removes the lock files of a complete run whose owners are gone (a sweep killed while
/// its orphaned trainer finished the run). Returns whether anything was removed.
pub fn clear_stale_lock(run_dir: &Path) -> bool {
    let lock = run_dir.join(LOCK_FILE);
    if !run_dir.join(SUMMARY_FILE).is_file() || !lock.exists() || live_holder(run_dir).is_some() {
        return false;
    }
    let _ = std::fs::remove_file(run_dir.join(CHILD_LOCK_FILE));
    std::fs::remove_file(lock).is_ok()
}

fn fresh(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|t| t.elapsed().unwrap_or_default() < Duration::from_secs(10))
        .unwrap_or(false)
}

/// An acquired run lock; released (file removed) on drop.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    file: File,
}

impl RunLock {
    /// Takes the lock of the run in `run_dir` (creating the directory), or reports the
    /// live holder as [`SweepError::Locked`]. Stale locks on this host are broken.
    pub fn acquire(run_dir: &Path, id: &str) -> anyhow::Result<RunLock> {
        std::fs::create_dir_all(run_dir)
            .with_context(|| format!("cannot create run directory {}", run_dir.display()))?;
        let path = run_dir.join(LOCK_FILE);
        for _attempt in 0..20 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    // Blocking: a stealer may hold the OS lock for a moment while it reads
                    // this (still empty) file.
                    file.lock()
                        .with_context(|| format!("cannot lock {}", path.display()))?;
                    let text = serde_json::to_string(&LockHolder::me())?;
                    file.write_all(text.as_bytes())?;
                    file.sync_all()?;
                    let _ = std::fs::remove_file(run_dir.join(CHILD_LOCK_FILE));
                    return Ok(RunLock { path, file });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if let Some(holder) = Self::try_break(&path)? {
                        return Err(SweepError::Locked {
                            id: id.to_string(),
                            holder: holder.describe(),
                            lock: path,
                        }
                        .into());
                    }
                    // Broken or vanished: try to create it again.
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot create {}", path.display()));
                }
            }
        }
        anyhow::bail!("could not take the lock {} (contended)", path.display())
    }

    /// Inspects an existing lock; removes it when stale. Returns its live holder if any.
    fn try_break(path: &Path) -> anyhow::Result<Option<LockHolder>> {
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                // A live owner holds the OS lock.
                let holder = read_holder(&mut file).unwrap_or_else(|| LockHolder {
                    host: "?".into(),
                    pid: 0,
                    start_time: None,
                    since: now(),
                });
                return Ok(Some(holder));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        let holder = read_holder(&mut file);
        let run_dir = path.parent().unwrap_or(Path::new("."));
        match holder {
            None if fresh(path) => {
                // Just created, owner about to write it: let go and look again.
                drop(file);
                std::thread::sleep(Duration::from_millis(50));
                Ok(None)
            }
            Some(h) if h.maybe_alive() => Ok(Some(h)),
            _ => {
                if let Some(child) = std::fs::read_to_string(run_dir.join(CHILD_LOCK_FILE))
                    .ok()
                    .and_then(|t| serde_json::from_str::<LockHolder>(&t).ok())
                    && child.maybe_alive()
                {
                    return Ok(Some(child));
                }
                // Stale. Remove it only if the path still names the file we locked.
                if same_file(&file, path) {
                    std::fs::remove_file(path)
                        .with_context(|| format!("cannot remove stale lock {}", path.display()))?;
                    let _ = std::fs::remove_file(run_dir.join(CHILD_LOCK_FILE));
                    eprintln!("note: removed stale lock {}", path.display());
                }
                Ok(None)
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let _ = std::fs::remove_file(dir.join(CHILD_LOCK_FILE));
        if same_file(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
        let _ = self.file.unlock();
    }
}

/// Records a trainer process started for the run in `run_dir` (see the module docs).
pub fn record_child(run_dir: &Path, pid: u32) -> anyhow::Result<()> {
    let text = serde_json::to_string(&LockHolder::local_pid(pid))?;
    crate::plan::write_atomic(&run_dir.join(CHILD_LOCK_FILE), text.as_bytes())
}

fn read_holder(file: &mut File) -> Option<LockHolder> {
    let mut s = String::new();
    file.read_to_string(&mut s).ok()?;
    serde_json::from_str(&s).ok()
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// Unix time in seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// This machine's short host name.
pub fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| {
            std::process::Command::new("hostname")
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        })
        .unwrap_or_else(|| "localhost".into());
    name.trim()
        .split('.')
        .next()
        .unwrap_or("localhost")
        .to_string()
}

/// Start time of a process (field 22 of `/proc/<pid>/stat`), where `/proc` exists.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    // Fields after the command name start at field 3 (state); start time is field 22.
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether process `pid` is alive (not a zombie) and, when known, started at `start_time`.
pub fn pid_alive(pid: u32, start_time: Option<u64>) -> bool {
    if pid == 0 {
        return false;
    }
    if Path::new("/proc/self/stat").exists() {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        let Some(close) = stat.rfind(')') else {
            return false;
        };
        let mut fields = stat[close + 1..].split_whitespace();
        if matches!(fields.next(), Some("Z") | Some("X")) {
            return false;
        }
        match (
            start_time,
            fields.nth(18).and_then(|s| s.parse::<u64>().ok()),
        ) {
            (Some(want), Some(got)) => want == got,
            _ => true,
        }
    } else {
        std::process::Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        let me = LockHolder::me();
        assert!(me.maybe_alive());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!pid_alive(pid, None));
        // A recorded start time that differs means the pid was reused.
        if let Some(t) = me.start_time {
            assert!(!pid_alive(me.pid, Some(t + 1)));
        }
    }

    #[test]
    fn bookkeeping_files_are_not_trainer_state() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(LOG_FILE), "x").unwrap();
        std::fs::write(d.path().join(FAILED_FILE), "{}").unwrap();
        assert!(!has_trainer_state(d.path()));
        std::fs::write(d.path().join("checkpoint-3.mpk"), "x").unwrap();
        assert!(has_trainer_state(d.path()));
    }
}
