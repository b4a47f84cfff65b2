//! Errors of the augmentation crate: every message names the configuration key (or input)
//! and what was expected.

/// Everything that can go wrong building or running an augmentation.
#[derive(Debug, thiserror::Error)]
pub enum AugmentError {
    /// A configuration value is out of its range (`key` is the full path, e.g.
    /// `augment.ops[2].p`).
    #[error("invalid value for `{key}`: {value} ({expected})")]
    InvalidValue {
        /// Path of the offending key.
        key: String,
        /// The value as written.
        value: String,
        /// What the key accepts.
        expected: String,
    },
    /// Image buffers whose length or shape does not match what the caller said.
    #[error("bad image {what}: {detail}")]
    BadImage {
        /// Which image (e.g. `batch[3]`).
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// Writing the preview failed.
    #[error("cannot write preview `{path}`: {detail}")]
    Preview {
        /// The output path.
        path: String,
        /// The drawing or I/O error.
        detail: String,
    },
}

/// Result with [`AugmentError`].
pub type Result<T> = std::result::Result<T, AugmentError>;

/// Checks that `value` is finite and within `[lo, hi]`, naming `key` otherwise.
pub(crate) fn check_range(key: &str, value: f64, lo: f64, hi: f64) -> Result<()> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(())
    } else {
        Err(AugmentError::InvalidValue {
            key: key.to_string(),
            value: format!("{value}"),
            expected: format!("a finite number in [{lo}, {hi}]"),
        })
    }
}

/// Checks a `[lo, hi]` pair: both within `[min, max]` and `lo <= hi`.
pub(crate) fn check_pair(key: &str, pair: [f64; 2], min: f64, max: f64) -> Result<()> {
    check_range(&format!("{key}[0]"), pair[0], min, max)?;
    check_range(&format!("{key}[1]"), pair[1], min, max)?;
    if pair[0] > pair[1] {
        return Err(AugmentError::InvalidValue {
            key: key.to_string(),
            value: format!("[{}, {}]", pair[0], pair[1]),
            expected: "a range [low, high] with low <= high".to_string(),
        });
    }
    Ok(())
}
