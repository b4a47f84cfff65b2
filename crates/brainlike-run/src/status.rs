//! Where a run stands, read from its directory, and the failure record.
//!
//! - **complete**: `summary.json` exists (the trainer writes it last, atomically);
//! - **running**: a live process holds the run (its writer lock, or a sweep's lock on it,
//!   which the caller passes in);
//! - **failed**: the last attempt left a failure record (`sweep-failed.json`);
//! - **interrupted**: trainer state exists (config, metrics, checkpoints) but none of the
//!   above: the next attempt resumes;
//! - **pending**: nothing yet.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::Result;
use crate::lock::writer_holder;
use crate::process::{hostname, now};
use crate::{FAILURE_FILE, LOG_FILE, SUMMARY_FILE, SWEEP_CHILD_LOCK_FILE, SWEEP_LOCK_FILE};

/// Files that record who runs a run and how it went, rather than training state.
pub const BOOKKEEPING: &[&str] = &[
    SWEEP_LOCK_FILE,
    SWEEP_CHILD_LOCK_FILE,
    FAILURE_FILE,
    LOG_FILE,
];

/// The state of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum RunStatus {
    /// Never started.
    Pending,
    /// A live process holds the run.
    Running {
        /// Who: `pid N on host H since T`.
        holder: String,
    },
    /// Trainer state but no summary, no failure record and no live owner: the run was
    /// interrupted (killed, node failure) and resumes from its checkpoint.
    Interrupted,
    /// `summary.json` exists.
    Complete,
    /// The last attempt failed.
    Failed {
        /// Its error.
        message: String,
    },
}

impl RunStatus {
    /// Every status word, in the order tables list them.
    pub const WORDS: [&'static str; 5] =
        ["complete", "running", "failed", "interrupted", "pending"];

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

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunStatus::Running { holder } => write!(f, "running ({holder})"),
            RunStatus::Failed { message } => {
                write!(f, "failed: {}", message.lines().next().unwrap_or(""))
            }
            other => f.write_str(other.word()),
        }
    }
}

/// The status of the run in `run_dir`; `holder` is a live owner the caller knows of (a
/// sweep's lock), checked after the run's own writer lock.
pub fn run_status(run_dir: &Path, holder: Option<String>) -> RunStatus {
    if run_dir.join(SUMMARY_FILE).is_file() {
        return RunStatus::Complete;
    }
    if let Some(holder) = writer_holder(run_dir).map(|h| h.describe()).or(holder) {
        return RunStatus::Running { holder };
    }
    if let Some(message) = read_failure(run_dir) {
        return RunStatus::Failed { message };
    }
    if has_trainer_state(run_dir) {
        RunStatus::Interrupted
    } else {
        RunStatus::Pending
    }
}

/// True when the run directory holds anything the trainer wrote (config, metrics,
/// checkpoints): the next attempt resumes. Dot files and [`BOOKKEEPING`] do not count.
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

/// The failure record `sweep-failed.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRecord {
    /// The error, with its causes.
    pub error: String,
    /// Host that ran it.
    pub host: String,
    /// Unix time of the failure.
    pub at: u64,
}

/// Records a failure of the run in `run_dir` (its status becomes failed). Returns the
/// error when the record cannot be written (a full disk): the caller must still count the
/// run as failed.
pub fn record_failure(run_dir: &Path, error: &str) -> Result<()> {
    let rec = FailureRecord {
        error: error.to_string(),
        host: hostname(),
        at: now(),
    };
    let text = serde_json::to_string_pretty(&rec).expect("a failure record serialises");
    write_atomic(&run_dir.join(FAILURE_FILE), text.as_bytes())
}

/// The error of the last failure, if a record exists.
pub fn read_failure(run_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(run_dir.join(FAILURE_FILE)).ok()?;
    Some(
        serde_json::from_str::<FailureRecord>(&text)
            .map(|r| r.error)
            .unwrap_or(text),
    )
}

/// Removes the failure record (a new attempt starts).
pub fn clear_failure(run_dir: &Path) {
    let _ = std::fs::remove_file(run_dir.join(FAILURE_FILE));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WriterLock;

    #[test]
    fn status_follows_the_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        assert_eq!(run_status(p, None), RunStatus::Pending);
        std::fs::write(p.join(LOG_FILE), "x").unwrap();
        assert_eq!(run_status(p, None), RunStatus::Pending);
        assert_eq!(
            run_status(p, Some("pid 1".into())),
            RunStatus::Running {
                holder: "pid 1".into()
            }
        );
        std::fs::write(p.join("config.toml"), "").unwrap();
        assert_eq!(run_status(p, None), RunStatus::Interrupted);
        record_failure(p, "boom\ncause").unwrap();
        assert_eq!(
            run_status(p, None),
            RunStatus::Failed {
                message: "boom\ncause".into()
            }
        );
        assert!(!has_trainer_state(&p.join("absent")));
        {
            let _w = WriterLock::acquire(p).unwrap();
            assert_eq!(run_status(p, None).word(), "running");
        }
        clear_failure(p);
        assert_eq!(run_status(p, None), RunStatus::Interrupted);
        std::fs::write(p.join(SUMMARY_FILE), "{}").unwrap();
        assert_eq!(run_status(p, None), RunStatus::Complete);
        assert_eq!(RunStatus::Complete.to_string(), "complete");
    }
}
