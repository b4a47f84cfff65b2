//! Atomic file writes: a kill at any moment leaves either the old file or the new one, never a
//! truncated one. The one implementation is brainlike-run's ([`brainlike_run::write_atomic`]);
//! this wrapper only converts its error into the library's.

use std::path::Path;

use crate::error::Result;

/// Writes `bytes` to `path` atomically, creating parent folders (see
/// [`brainlike_run::write_atomic`]: no temporary file is left behind on error).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(brainlike_run::write_atomic(path, bytes)?)
}
