//! [`RunDir`]: one run directory, opened to read or created to write.

use std::path::{Path, PathBuf};

use crate::checkpoints::{checkpoint_dir, list_checkpoints};
use crate::config::RunConfig;
use crate::error::{Result, RunError};
use crate::lock::WriterLock;
use crate::metrics::{EpochRow, read_metrics, write_metrics};
use crate::status::{RunStatus, run_status};
use crate::summary::{Summary, read_json, read_summary, write_summary};
use crate::{CONFIG_FILE, METRICS_FILE, SUMMARY_FILE, atomic};

/// A run directory. [`RunDir::open`] reads an existing one; [`RunDir::create`] makes it
/// (if needed), takes its writer lock for the value's life and removes temporary files
/// left by killed writers.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    lock: Option<WriterLock>,
}

impl RunDir {
    /// An existing run directory, to read (no lock is taken).
    pub fn open(path: impl Into<PathBuf>) -> Result<RunDir> {
        let path = path.into();
        if !path.is_dir() {
            return Err(RunError::io(
                &path,
                "opening run directory",
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
            ));
        }
        Ok(RunDir { path, lock: None })
    }

    /// The run directory at `path`, created if needed, as its only writer: fails with
    /// [`RunError::Locked`] (naming the holder's pid) while another writer holds it.
    pub fn create(path: impl Into<PathBuf>) -> Result<RunDir> {
        let path = path.into();
        let lock = WriterLock::acquire(&path)?;
        atomic::sweep_stale_temps(&path)?;
        Ok(RunDir {
            path,
            lock: Some(lock),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this value holds the writer lock.
    pub fn is_writer(&self) -> bool {
        self.lock.is_some()
    }

    /// A path inside the directory.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path.join(rel)
    }

    /// Reads `config.toml`.
    pub fn config(&self) -> Result<RunConfig> {
        RunConfig::read(&self.join(CONFIG_FILE))
    }

    /// Writes `config.toml` (must parse as TOML), atomically.
    pub fn write_config(&self, text: &str) -> Result<()> {
        RunConfig::write(&self.join(CONFIG_FILE), text)
    }

    /// Reads `metrics.csv`; no file reads as no rows.
    pub fn metrics(&self) -> Result<Vec<EpochRow>> {
        let p = self.join(METRICS_FILE);
        if !p.exists() {
            return Ok(Vec::new());
        }
        read_metrics(&p)
    }

    /// Writes `metrics.csv`, atomically.
    pub fn write_metrics(&self, rows: &[EpochRow]) -> Result<()> {
        write_metrics(&self.join(METRICS_FILE), rows)
    }

    /// Whether `summary.json` exists.
    pub fn is_complete(&self) -> bool {
        self.join(SUMMARY_FILE).is_file()
    }

    /// Reads `summary.json` as the trainer's [`Summary`].
    pub fn summary(&self) -> Result<Summary> {
        read_summary(&self.join(SUMMARY_FILE))
    }

    /// Reads `summary.json` as any JSON (e.g. for tables of every field).
    pub fn summary_json(&self) -> Result<serde_json::Value> {
        read_json(&self.join(SUMMARY_FILE))
    }

    /// Writes `summary.json`, atomically: the run is complete from then on.
    pub fn write_summary(&self, summary: &Summary) -> Result<()> {
        write_summary(&self.join(SUMMARY_FILE), summary)
    }

    /// Writes any file of the run directory atomically (`rel` may name a subfolder).
    pub fn write_file(&self, rel: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
        atomic::write_atomic(&self.join(rel), bytes)
    }

    /// Complete checkpoints, by epoch.
    pub fn checkpoints(&self) -> Vec<(usize, PathBuf)> {
        list_checkpoints(&self.path)
    }

    /// The folder of the checkpoint after `epoch`.
    pub fn checkpoint_dir(&self, epoch: usize) -> PathBuf {
        checkpoint_dir(&self.path, epoch)
    }

    /// The run's status (its own writer lock counts as running only for other values).
    pub fn status(&self) -> RunStatus {
        run_status(&self.path, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_locks_sweeps_and_reads_back() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("run");
        std::fs::create_dir_all(&path).unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = path.join(format!(".metrics.csv.tmp-{dead}"));
        std::fs::write(&stale, "half").unwrap();

        let run = RunDir::create(&path).unwrap();
        assert!(run.is_writer() && !stale.exists());
        let err = RunDir::create(&path).unwrap_err();
        assert!(matches!(err, RunError::Locked { .. }), "{err}");
        assert_eq!(run.status().word(), "running");

        run.write_config("seed = 4\n[teacher]\nratio = 0.1\n")
            .unwrap();
        assert!(run.write_config("seed = = 4").is_err());
        assert_eq!(run.config().unwrap().seed(), Some(4));
        assert!(run.metrics().unwrap().is_empty());
        let row = EpochRow {
            epoch: 1,
            train_loss: 4.0,
            train_acc: 0.01,
            test_loss: 4.1,
            test_acc: 0.02,
            test_coarse_acc: 0.1,
            superclass_error_frac: 0.2,
            teacher_loss: 0.0,
            lambda: 0.0,
            seconds: 1.5,
            images_per_sec: 100.0,
        };
        run.write_metrics(std::slice::from_ref(&row)).unwrap();
        assert_eq!(run.metrics().unwrap(), vec![row]);
        assert!(!run.is_complete());
        drop(run);

        let read = RunDir::open(&path).unwrap();
        assert!(!read.is_writer());
        assert_eq!(read.status(), RunStatus::Interrupted);
        assert!(RunDir::open(tmp.path().join("absent")).is_err());
    }
}
