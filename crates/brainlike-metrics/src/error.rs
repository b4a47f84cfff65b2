//! Error type of the crate.

use std::path::PathBuf;

/// Errors returned by `brainlike-metrics`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Two inputs that must agree in size do not.
    #[error("shape mismatch: {what}: expected {expected}, got {got}")]
    Shape {
        /// What was being checked.
        what: String,
        /// The expected size.
        expected: String,
        /// The size found.
        got: String,
    },
    /// An argument is outside its valid range.
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file was read but its content is not what was expected.
    #[error("{path}: expected {expected}, found {found}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What the file should contain.
        expected: String,
        /// What it contains.
        found: String,
    },
    /// CSV (de)serialisation error.
    #[error("{path}: CSV error: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: csv::Error,
    },
    /// JSON serialisation error.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn shape(
        what: impl Into<String>,
        expected: impl ToString,
        got: impl ToString,
    ) -> Self {
        Error::Shape {
            what: what.into(),
            expected: expected.to_string(),
            got: got.to_string(),
        }
    }
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn format(
        path: impl Into<PathBuf>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Error::Format {
            path: path.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}
