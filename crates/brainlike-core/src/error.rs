//! Errors a person can act on: which file, which record or line, what was expected.

use std::path::{Path, PathBuf};

/// Errors of the brainlike library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A data file does not have the expected layout or content.
    #[error("{path}: {location}: {expected}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Record, line or entry.
        location: String,
        /// What was expected and what was found.
        expected: String,
    },
    /// A configuration key or value is wrong.
    #[error("{origin}: {msg}")]
    Config {
        /// Where the configuration came from.
        origin: String,
        /// What is wrong.
        msg: String,
    },
    /// Data is missing and may not be downloaded.
    #[error("{0}")]
    Missing(String),
    /// Anything else (backend, download).
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A format error.
    pub fn format(path: &Path, location: impl Into<String>, expected: impl Into<String>) -> Self {
        Error::Format {
            path: path.to_path_buf(),
            location: location.into(),
            expected: expected.into(),
        }
    }
}

impl From<brainlike_run::RunError> for Error {
    fn from(e: brainlike_run::RunError) -> Self {
        match e {
            brainlike_run::RunError::Io { path, source, .. } => Error::Io { path, source },
            brainlike_run::RunError::Format {
                path,
                place,
                expected,
                found,
            } => Error::Format {
                path,
                location: place,
                expected: format!("expected {expected}, found {found}"),
            },
            other => Error::Other(other.to_string()),
        }
    }
}

/// Result with the library's error.
pub type Result<T> = std::result::Result<T, Error>;
