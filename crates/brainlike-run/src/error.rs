//! Errors a person can act on: each names the file, the place in it and what was expected.

use std::path::{Path, PathBuf};

/// An error reading or writing a run directory.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Reading or writing a file failed.
    #[error("{path}: {what}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done (`writing`, `renaming into place`, ...).
        what: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// A file does not have the expected layout or content.
    #[error("{path}: {place}: expected {expected}, found {found}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Line, column, key or record.
        place: String,
        /// What was expected.
        expected: String,
        /// What was there.
        found: String,
    },
    /// Another process holds the run directory's writer lock.
    #[error(
        "{dir}: the run directory is being written by {holder} (lock file {lock}); wait for it \
         to finish or stop that process"
    )]
    Locked {
        /// The run directory.
        dir: PathBuf,
        /// `pid N on host H` of the holder.
        holder: String,
        /// The holder's pid, when it could be read.
        pid: Option<u32>,
        /// The lock file.
        lock: PathBuf,
    },
}

impl RunError {
    /// An I/O error on `path` while doing `what`.
    pub fn io(path: &Path, what: &'static str, source: std::io::Error) -> Self {
        RunError::Io {
            path: path.to_path_buf(),
            what,
            source,
        }
    }

    /// A format error.
    pub fn format(
        path: &Path,
        place: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        RunError::Format {
            path: path.to_path_buf(),
            place: place.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}

/// Result with [`RunError`].
pub type Result<T> = std::result::Result<T, RunError>;
