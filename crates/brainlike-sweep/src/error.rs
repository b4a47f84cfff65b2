//! Errors a person can act on: each names the file, the key and what was expected.

use std::path::PathBuf;

/// A user-facing sweep error. Most functions return `anyhow::Result`; these are the
/// variants worth matching on (tests and the CLI's exit code for bad input).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The experiment file is malformed or names an unknown key.
    #[error("{file}: {key}: {expected}")]
    Invalid {
        /// The experiment file.
        file: PathBuf,
        /// The offending key (dotted), or a section name.
        key: String,
        /// What was expected, and what was found.
        expected: String,
    },
    /// A run that already has results would get different overrides from the edited
    /// experiment file: refusing rather than mixing two configurations under one id.
    #[error(
        "{plan}: run `{id}` already has results in {run_dir} made with {key} = {old}, but the \
         experiment file now gives {key} = {new}; restore the experiment file, or run it into \
         a new --sweep-dir"
    )]
    PlanChanged {
        /// The existing plan.json.
        plan: PathBuf,
        /// The run id.
        id: String,
        /// Its run directory.
        run_dir: PathBuf,
        /// The dotted key that differs.
        key: String,
        /// The value in plan.json (`<absent>` if none).
        old: String,
        /// The value from the experiment file now (`<absent>` if none).
        new: String,
    },
    /// The run is owned by another live sweep process.
    #[error("run `{id}` is being run by {holder} (lock file {lock})")]
    Locked {
        /// The run id.
        id: String,
        /// `pid N on host H since T`.
        holder: String,
        /// The lock file.
        lock: PathBuf,
    },
}

impl SweepError {
    /// Shorthand for [`SweepError::Invalid`].
    pub fn invalid(
        file: impl Into<PathBuf>,
        key: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        SweepError::Invalid {
            file: file.into(),
            key: key.into(),
            expected: expected.into(),
        }
    }
}
