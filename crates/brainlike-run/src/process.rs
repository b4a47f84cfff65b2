//! Who is alive: process ids, their start times and the host name, for locks and temporary
//! files left by killed processes.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// This machine's short host name.
pub fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| {
            std::process::Command::new("hostname")
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        })
        .unwrap_or_else(|| "localhost".into());
    name.trim()
        .split('.')
        .next()
        .unwrap_or("localhost")
        .to_string()
}

/// Start time of a process (field 22 of `/proc/<pid>/stat`), where `/proc` exists.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    // Fields after the command name start at field 3 (state); start time is field 22.
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether process `pid` of this host is alive (not a zombie) and, when known, started at
/// `start_time` (a different start time means the pid was reused).
pub fn pid_alive(pid: u32, start_time: Option<u64>) -> bool {
    if pid == 0 {
        return false;
    }
    if Path::new("/proc/self/stat").exists() {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        let Some(close) = stat.rfind(')') else {
            return false;
        };
        let mut fields = stat[close + 1..].split_whitespace();
        if matches!(fields.next(), Some("Z") | Some("X")) {
            return false;
        }
        match (
            start_time,
            fields.nth(18).and_then(|s| s.parse::<u64>().ok()),
        ) {
            (Some(want), Some(got)) => want == got,
            _ => true,
        }
    } else {
        std::process::Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        let me = std::process::id();
        assert!(pid_alive(me, process_start_time(me)));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!pid_alive(pid, None));
        if let Some(t) = process_start_time(me) {
            assert!(!pid_alive(me, Some(t + 1)));
        }
    }
}
