//! Errors of the scoring library: values, never panics.

/// What can go wrong while building or running a benchmark.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No registered benchmark has this id.
    #[error("unknown benchmark {id:?}; known: {}", .known.join(", "))]
    UnknownBenchmark {
        /// The id asked for.
        id: String,
        /// The id patterns of the registry.
        known: Vec<String>,
    },
    /// A benchmark needs an input that was not given.
    #[error("{id} needs {needs}")]
    MissingInput {
        /// The benchmark.
        id: String,
        /// What to give it (flags / files).
        needs: String,
    },
    /// An input was given but does not fit (names the file or record).
    #[error("{id}: {msg}")]
    Input {
        /// The benchmark (or input) concerned.
        id: String,
        /// What is wrong.
        msg: String,
    },
    /// A model cannot be scored as asked (no such layer, not a run directory).
    #[error("{model}: {msg}")]
    Model {
        /// The model (run directory or name).
        model: String,
        /// What is wrong.
        msg: String,
    },
    /// The score is not defined for these inputs (too few trials, constant distances).
    #[error("{id}: {msg}")]
    Undefined {
        /// The benchmark.
        id: String,
        /// Why.
        msg: String,
    },
    /// From the models, data and extraction crate.
    #[error(transparent)]
    Core(#[from] brainlike_core::Error),
    /// From the math crate.
    #[error(transparent)]
    Metrics(#[from] brainlike_metrics::Error),
}

/// Result with the scoring library's error.
pub type Result<T> = std::result::Result<T, Error>;
