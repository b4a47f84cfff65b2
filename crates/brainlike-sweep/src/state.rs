//! What a run directory says about its run, and the per-run lock.
//!
//! The statuses and the run-directory files are brainlike-run's ([`RunStatus`]); this
//! module adds the sweep's own lock. A run is complete iff `summary.json` exists (the
//! trainer writes it last, atomically).
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
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::error::SweepError;

pub use brainlike_run::process::{hostname, now, pid_alive, process_start_time};
pub use brainlike_run::status::{FailureRecord, RunStatus, has_trainer_state};
pub use brainlike_run::{
    FAILURE_FILE as FAILED_FILE, LOG_FILE, SUMMARY_FILE, SWEEP_CHILD_LOCK_FILE as CHILD_LOCK_FILE,
    SWEEP_LOCK_FILE as LOCK_FILE,
};

/// Reads the status of the run in `run_dir` (a live owner of its sweep lock, or of its
/// writer lock, makes it running).
pub fn run_status(run_dir: &Path) -> RunStatus {
    if run_dir.join(SUMMARY_FILE).is_file() {
        return RunStatus::Complete;
    }
    brainlike_run::run_status(run_dir, live_holder(run_dir).map(|h| h.describe()))
}

/// Records a failure; the run's status becomes [`RunStatus::Failed`]. Returns the error
/// when the record cannot be written (a full disk): the caller still counts the run as
/// failed and says that the record is missing.
pub fn record_failure(run_dir: &Path, error: &anyhow::Error) -> anyhow::Result<()> {
    brainlike_run::record_failure(run_dir, &format!("{error:#}")).with_context(|| {
        format!(
            "cannot record the failure of {} (is the disk full?)",
            run_dir.display()
        )
    })
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
    Ok(brainlike_run::write_atomic(
        &run_dir.join(CHILD_LOCK_FILE),
        text.as_bytes(),
    )?)
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

#[cfg(test)]
mod tests {
    use super::*;

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
