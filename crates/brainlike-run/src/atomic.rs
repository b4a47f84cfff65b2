//! Atomic file writes: a kill at any moment leaves either the old file or the new one, never
//! a truncated one. The bytes go to `.NAME.tmp-PID-SEQ` in the same folder, are fsynced, and
//! the temporary file is renamed over `NAME`; on any error the temporary file is removed.
//! A process killed between the two leaves its temporary file behind:
//! [`sweep_stale_temps`] removes those whose process is gone.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Result, RunError};
use crate::process::pid_alive;

/// Marker between the file name and the pid in a temporary file's name.
const TMP_MARK: &str = ".tmp-";

/// The temporary file `write_atomic` uses for `path` in this process: `.NAME.tmp-PID-SEQ`
/// (SEQ tells apart two threads writing the same file).
fn temp_path(dir: &Path, name: &str) -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}{TMP_MARK}{}-{seq}", std::process::id()))
}

/// The pid in a temporary file's name `.NAME.tmp-PID` or `.NAME.tmp-PID-SEQ`, if it is one.
pub fn temp_owner(file_name: &str) -> Option<u32> {
    if !file_name.starts_with('.') {
        return None;
    }
    let at = file_name.rfind(TMP_MARK)?;
    let rest = &file_name[at + TMP_MARK.len()..];
    let pid = rest.split('-').next()?;
    let tail_ok = rest[pid.len()..]
        .strip_prefix('-')
        .is_none_or(|seq| !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()));
    if !tail_ok || at < 2 {
        return None;
    }
    pid.parse().ok()
}

/// Writes `bytes` to `path` atomically, creating parent folders. On error no temporary file
/// is left behind and `path` is unchanged.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, "creating folder", e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            RunError::io(
                path,
                "writing",
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"),
            )
        })?;
    let tmp = temp_path(dir, &name);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| RunError::io(&tmp, "creating temporary file", e))?;
        f.write_all(bytes)
            .map_err(|e| RunError::io(&tmp, "writing", e))?;
        f.sync_all().map_err(|e| RunError::io(&tmp, "syncing", e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| RunError::io(path, "renaming into place", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else {
        sync_dir(dir);
    }
    result
}

/// Makes a rename durable (best effort; not every platform can open a folder).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Removes the temporary files of [`write_atomic`] under `dir` (recursively) whose process
/// is no longer alive on this host; returns what was removed. Temporary files of this
/// process and of live processes are kept. Call it while holding the folder's writer lock
/// (see [`crate::WriterLock`]): another host's live writer would look dead from here.
pub fn sweep_stale_temps(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    sweep_into(dir, &mut removed)?;
    removed.sort();
    Ok(removed)
}

fn sweep_into(dir: &Path, removed: &mut Vec<PathBuf>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(RunError::io(dir, "listing", e)),
    };
    let me = std::process::id();
    for entry in entries {
        let entry = entry.map_err(|e| RunError::io(dir, "listing", e))?;
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            sweep_into(&path, removed)?;
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = temp_owner(&name) else {
            continue;
        };
        if pid == me || pid_alive(pid, None) {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => removed.push(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(RunError::io(&path, "removing stale temporary file", e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_content_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(names(p.parent().unwrap()), ["b.txt"]);
    }

    #[test]
    fn a_failed_write_leaves_no_temp_and_the_target_unchanged() {
        // The target is a non-empty folder: the rename fails after the temporary file is
        // written (a read-only folder would not stop root, who runs some CI).
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("summary.json");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), "x").unwrap();
        let err = write_atomic(&target, b"{}").unwrap_err();
        assert!(err.to_string().contains("renaming into place"), "{err}");
        assert_eq!(names(dir.path()), ["summary.json"]);
        assert_eq!(names(&target), ["inside"]);

        // The parent is a file: nothing can be created at all.
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        assert!(write_atomic(&file.join("x.csv"), b"1").is_err());
        assert_eq!(names(dir.path()), ["plain", "summary.json"]);
    }

    #[test]
    fn temp_names_carry_the_pid() {
        assert_eq!(temp_owner(".metrics.csv.tmp-123"), Some(123));
        assert_eq!(temp_owner(".metrics.csv.tmp-123-7"), Some(123));
        assert_eq!(temp_owner(".a.tmp-b.tmp-9-0"), Some(9));
        assert_eq!(temp_owner("metrics.csv.tmp-123"), None);
        assert_eq!(temp_owner(".metrics.csv.tmp-"), None);
        assert_eq!(temp_owner(".metrics.csv.tmp-12x"), None);
        assert_eq!(temp_owner(".metrics.csv.tmp-12-"), None);
        assert_eq!(temp_owner(".tmp-12"), None);
        let t = temp_path(Path::new("d"), "x.json");
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(temp_owner(&name), Some(std::process::id()));
    }

    #[test]
    fn stale_temps_of_dead_processes_are_swept_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let me = std::process::id();
        let sub = dir.path().join("checkpoints/epoch-0001");
        std::fs::create_dir_all(&sub).unwrap();
        let files = [
            dir.path().join(format!(".metrics.csv.tmp-{dead}")),
            sub.join(format!(".model.bpk.tmp-{dead}-3")),
            dir.path().join(format!(".summary.json.tmp-{me}-0")),
            dir.path().join(".config.toml.tmp-1"), // init: alive
            dir.path().join("metrics.csv"),
            dir.path().join(format!("notes.tmp-{dead}")),
        ];
        for f in &files {
            std::fs::write(f, "x").unwrap();
        }
        let removed = sweep_stale_temps(dir.path()).unwrap();
        let mut want = vec![files[0].clone(), files[1].clone()];
        want.sort();
        assert_eq!(removed, want);
        for f in &files[2..] {
            assert!(f.exists(), "{} removed", f.display());
        }
        assert!(
            sweep_stale_temps(&dir.path().join("absent"))
                .unwrap()
                .is_empty()
        );
    }
}
