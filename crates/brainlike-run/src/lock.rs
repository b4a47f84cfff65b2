//! The run directory's writer lock: an advisory OS lock (`flock`) on `RUN_DIR/.writer.lock`,
//! held for the writer's life. The file names the holder (pid and host) so that a second
//! writer's error says who holds it. The OS drops the lock when the holder exits, however it
//! exits, so a killed writer never leaves a stale lock.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, RunError};
use crate::process::{hostname, now};

/// The lock file inside a run directory (a dot file: not trainer state).
pub const WRITER_LOCK_FILE: &str = ".writer.lock";

/// Who holds a writer lock, as written into the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// Unix time the lock was taken.
    pub since: u64,
}

impl LockInfo {
    /// `pid N on host H since unix time T`.
    pub fn describe(&self) -> String {
        format!(
            "pid {} on host {} since unix time {}",
            self.pid, self.host, self.since
        )
    }
}

/// A held writer lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct WriterLock {
    file: File,
    path: PathBuf,
}

impl WriterLock {
    /// Takes the writer lock of `dir` (created if needed) without waiting; a directory held
    /// by another writer (another process, or another handle in this one) gives
    /// [`RunError::Locked`] naming the holder's pid.
    pub fn acquire(dir: &Path) -> Result<WriterLock> {
        std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, "creating folder", e))?;
        let path = dir.join(WRITER_LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| RunError::io(&path, "opening lock file", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let info = read_info(&mut file);
                return Err(RunError::Locked {
                    dir: dir.to_path_buf(),
                    holder: info
                        .as_ref()
                        .map(LockInfo::describe)
                        .unwrap_or_else(|| "another process (its pid is not written yet)".into()),
                    pid: info.map(|i| i.pid),
                    lock: path,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(RunError::io(&path, "locking", e));
            }
        }
        let info = LockInfo {
            pid: std::process::id(),
            host: hostname(),
            since: now(),
        };
        let text = serde_json::to_string(&info).expect("lock info serialises");
        (|| {
            file.set_len(0)?;
            file.rewind()?;
            file.write_all(text.as_bytes())?;
            file.sync_all()
        })()
        .map_err(|e| RunError::io(&path, "writing lock file", e))?;
        Ok(WriterLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// The live holder of `dir`'s writer lock, if any (probes the OS lock; never blocks).
pub fn writer_holder(dir: &Path) -> Option<LockInfo> {
    let path = dir.join(WRITER_LOCK_FILE);
    let mut file = File::open(&path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(std::fs::TryLockError::WouldBlock) => Some(read_info(&mut file).unwrap_or(LockInfo {
            pid: 0,
            host: "?".into(),
            since: now(),
        })),
        Err(std::fs::TryLockError::Error(_)) => None,
    }
}

fn read_info(file: &mut File) -> Option<LockInfo> {
    let mut s = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut s).ok()?;
    serde_json::from_str(&s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        let lock = WriterLock::acquire(&run).unwrap();
        let err = WriterLock::acquire(&run).unwrap_err();
        match &err {
            RunError::Locked { pid, holder, .. } => {
                assert_eq!(*pid, Some(std::process::id()));
                assert!(holder.contains(&format!("pid {}", std::process::id())));
            }
            other => panic!("expected Locked, got {other}"),
        }
        assert!(
            err.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert_eq!(writer_holder(&run).map(|i| i.pid), Some(std::process::id()));
        drop(lock);
        assert_eq!(writer_holder(&run), None);
        let _again = WriterLock::acquire(&run).unwrap();
    }

    #[test]
    fn a_lock_held_by_another_process_names_it() {
        // A child process takes the lock and waits; this process must be refused with the
        // child's pid. `flock` is the shell's way to take the same lock.
        let has_flock = std::process::Command::new("flock")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_flock {
            eprintln!("skipped: no flock(1) on this machine");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join(WRITER_LOCK_FILE);
        std::fs::write(&lock, "").unwrap();
        let mut child = std::process::Command::new("flock")
            .arg(&lock)
            .args(["sh", "-c"])
            .arg(format!(
                "printf '{{\"pid\":%d,\"host\":\"h\",\"since\":0}}' $$ > '{}'; exec sleep 30",
                lock.display()
            ))
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        let holder = loop {
            if let Some(h) = writer_holder(dir.path()).filter(|h| h.pid != 0) {
                break h;
            }
            assert!(t0.elapsed().as_secs() < 20, "child never took the lock");
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let err = WriterLock::acquire(dir.path()).unwrap_err();
        // The lock belongs to flock(1) and to the command it runs (sleep, pid `holder.pid`).
        let _ = std::process::Command::new("kill")
            .args(["-9", &holder.pid.to_string()])
            .status();
        let _ = child.kill();
        let _ = child.wait();
        match err {
            RunError::Locked { pid, .. } => assert_eq!(pid, Some(holder.pid)),
            other => panic!("expected Locked, got {other}"),
        }
        // The killed holder's lock is gone with it.
        let t0 = std::time::Instant::now();
        while WriterLock::acquire(dir.path()).is_err() {
            assert!(
                t0.elapsed().as_secs() < 20,
                "lock not released by a killed holder"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
