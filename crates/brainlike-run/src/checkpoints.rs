//! The checkpoint folders: `checkpoints/epoch-NNNN/` after epoch NNNN, and
//! `checkpoints/epoch-NNNN-batch-BBBBBB/` inside epoch NNNN after its first BBBBBB minibatches
//! (mid-epoch checkpoints). What a checkpoint holds is the trainer's business; a folder counts
//! once its `state.json` exists (written last).

use std::path::{Path, PathBuf};

/// The folder of all checkpoints inside a run directory.
pub const CHECKPOINTS_DIR: &str = "checkpoints";
/// Written last into a checkpoint folder: the folder is complete iff it exists.
pub const CHECKPOINT_STATE_FILE: &str = "state.json";

/// Folder of the checkpoint after `epoch`: `RUN_DIR/checkpoints/epoch-NNNN`.
pub fn checkpoint_dir(run_dir: &Path, epoch: usize) -> PathBuf {
    run_dir
        .join(CHECKPOINTS_DIR)
        .join(format!("epoch-{epoch:04}"))
}

/// Folder of the mid-epoch checkpoint inside `epoch` after its first `batches` minibatches:
/// `RUN_DIR/checkpoints/epoch-NNNN-batch-BBBBBB`.
pub fn within_epoch_dir(run_dir: &Path, epoch: usize, batches: usize) -> PathBuf {
    run_dir
        .join(CHECKPOINTS_DIR)
        .join(format!("epoch-{epoch:04}-batch-{batches:06}"))
}

/// `(epoch, batches)` of a mid-epoch checkpoint folder named `epoch-EEEE-batch-BBBBBB`.
fn within_epoch_key(name: &str) -> Option<(usize, usize)> {
    let (epoch, batches) = name.strip_prefix("epoch-")?.split_once("-batch-")?;
    Some((epoch.parse().ok()?, batches.parse().ok()?))
}

/// Complete mid-epoch checkpoints as `((epoch, batches), folder)`, oldest first.
pub fn list_within_epoch(run_dir: &Path) -> Vec<((usize, usize), PathBuf)> {
    let Ok(entries) = std::fs::read_dir(run_dir.join(CHECKPOINTS_DIR)) else {
        return Vec::new();
    };
    let mut v: Vec<((usize, usize), PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let key = within_epoch_key(&e.file_name().to_string_lossy())?;
            e.path()
                .join(CHECKPOINT_STATE_FILE)
                .is_file()
                .then(|| (key, e.path()))
        })
        .collect();
    v.sort();
    v
}

/// Removes mid-epoch checkpoint folders (complete or not) of epochs up to `done_epoch` and,
/// when `newest` = `(epoch, batches)` was just written, every other one (older ones, and newer
/// ones left by a run that was resumed from an earlier checkpoint). Best effort.
pub fn prune_within_epoch(run_dir: &Path, done_epoch: usize, newest: Option<(usize, usize)>) {
    let Ok(entries) = std::fs::read_dir(run_dir.join(CHECKPOINTS_DIR)) else {
        return;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let Some((epoch, batches)) = within_epoch_key(&e.file_name().to_string_lossy()) else {
            continue;
        };
        if epoch <= done_epoch || newest.is_some_and(|n| (epoch, batches) != n) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Complete checkpoints (folders `epoch-N` with `state.json`), sorted by epoch.
pub fn list_checkpoints(run_dir: &Path) -> Vec<(usize, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(run_dir.join(CHECKPOINTS_DIR)) else {
        return Vec::new();
    };
    let mut v: Vec<(usize, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let epoch = name.strip_prefix("epoch-")?.parse().ok()?;
            e.path()
                .join(CHECKPOINT_STATE_FILE)
                .is_file()
                .then(|| (epoch, e.path()))
        })
        .collect();
    v.sort();
    v
}

/// The newest complete checkpoint.
pub fn latest_checkpoint(run_dir: &Path) -> Option<(usize, PathBuf)> {
    list_checkpoints(run_dir).pop()
}

/// Removes all but the newest `keep` complete checkpoints (0 keeps all), never the one of
/// epoch `current`. Best effort: a folder that cannot be removed stays.
pub fn prune_checkpoints(run_dir: &Path, keep: usize, current: usize) {
    if keep == 0 {
        return;
    }
    let all = list_checkpoints(run_dir);
    let n = all.len();
    for (epoch, path) in all.into_iter().take(n.saturating_sub(keep)) {
        if epoch != current {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_complete_checkpoints_in_epoch_order_and_prunes() {
        let dir = tempfile::tempdir().unwrap();
        for e in [10, 2, 3, 1] {
            let d = checkpoint_dir(dir.path(), e);
            std::fs::create_dir_all(&d).unwrap();
            if e != 3 {
                std::fs::write(d.join(CHECKPOINT_STATE_FILE), "{}").unwrap();
            }
        }
        std::fs::create_dir_all(dir.path().join("checkpoints/other")).unwrap();
        // Mid-epoch checkpoints are listed on their own.
        for (e, b) in [(11, 40), (11, 20), (12, 5)] {
            let d = within_epoch_dir(dir.path(), e, b);
            std::fs::create_dir_all(&d).unwrap();
            if b != 5 {
                std::fs::write(d.join(CHECKPOINT_STATE_FILE), "{}").unwrap();
            }
        }
        let within: Vec<(usize, usize)> =
            list_within_epoch(dir.path()).iter().map(|c| c.0).collect();
        assert_eq!(within, [(11, 20), (11, 40)]);
        prune_within_epoch(dir.path(), 10, None);
        assert_eq!(list_within_epoch(dir.path()).len(), 2);
        prune_within_epoch(dir.path(), 11, None);
        assert!(list_within_epoch(dir.path()).is_empty());
        assert!(within_epoch_dir(dir.path(), 12, 5).is_dir());
        for (e, b) in [(12, 2), (12, 9)] {
            let d = within_epoch_dir(dir.path(), e, b);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(CHECKPOINT_STATE_FILE), "{}").unwrap();
        }
        prune_within_epoch(dir.path(), 11, Some((12, 2)));
        let within: Vec<(usize, usize)> =
            list_within_epoch(dir.path()).iter().map(|c| c.0).collect();
        assert_eq!(within, [(12, 2)]);
        assert!(!within_epoch_dir(dir.path(), 12, 5).exists());
        let epochs: Vec<usize> = list_checkpoints(dir.path()).iter().map(|c| c.0).collect();
        assert_eq!(epochs, [1, 2, 10]);
        assert_eq!(
            checkpoint_dir(dir.path(), 2).file_name().unwrap(),
            "epoch-0002"
        );
        assert_eq!(latest_checkpoint(dir.path()).unwrap().0, 10);
        prune_checkpoints(dir.path(), 1, 10);
        let epochs: Vec<usize> = list_checkpoints(dir.path()).iter().map(|c| c.0).collect();
        assert_eq!(epochs, [10]);
        assert!(list_checkpoints(&dir.path().join("none")).is_empty());
    }
}
