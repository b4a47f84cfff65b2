//! Error type of the crate.
//!
//! Every variant that comes from reading a file names the file, the line or record
//! where the problem was found (when there is one) and what was expected there.

use std::path::PathBuf;

/// Errors raised by `brainlike-stats`.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// An I/O operation on `path` failed.
    #[error("{path}: {op}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What was being done (e.g. "reading", "creating", "renaming").
        op: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A record of a file does not have the expected form.
    #[error("{path}: {location}: expected {expected}, found {found}")]
    Parse {
        /// The file concerned.
        path: PathBuf,
        /// Where in the file: "line 3", "record 2", "key `teacher.ratio`", "header".
        location: String,
        /// What the reader expected there.
        expected: String,
        /// What it found instead.
        found: String,
    },
    /// An argument does not satisfy the function's preconditions.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// An error of the math crate (e.g. reading a `.npy`; it names the file).
    #[error(transparent)]
    Metrics(#[from] brainlike_metrics::Error),
    /// A run-directory file could not be read or written (brainlike-run).
    #[error(transparent)]
    Run(#[from] brainlike_run::RunError),
    /// Drawing a figure failed.
    #[error("{path}: drawing figure: {message}")]
    Plot {
        /// The figure file being written.
        path: PathBuf,
        /// The backend's message.
        message: String,
    },
}

impl StatsError {
    /// Shorthand for an [`StatsError::Io`] error.
    pub fn io(path: impl Into<PathBuf>, op: &'static str, source: std::io::Error) -> Self {
        StatsError::Io {
            path: path.into(),
            op,
            source,
        }
    }

    /// Shorthand for a [`StatsError::Parse`] error.
    pub fn parse(
        path: impl Into<PathBuf>,
        location: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        StatsError::Parse {
            path: path.into(),
            location: location.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}

/// Result alias of the crate.
pub type Result<T, E = StatsError> = std::result::Result<T, E>;
