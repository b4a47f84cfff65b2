//! Resuming and extending a run: which configuration a resumed run may carry, the progress
//! line printed per epoch when no terminal shows a bar, and the run's provenance record.

use std::path::Path;
use std::time::Duration;

use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;

use super::metrics::EpochMetrics;

/// Keys a resumed run may change: where the run directory and the data are (a run may be moved),
/// how many threads run it and how often it is checkpointed, not what is computed; `optim.epochs` is checked on its own (only
/// larger), and mid-epoch checkpoints may not be switched on or off (that changes how dropout
/// is seeded).
pub const MAY_DIFFER: &[&str] = &[
    "out_dir",
    "threads",
    "optim.epochs",
    "data.dir",
    "data.offline",
    "checkpoint.keep",
    "checkpoint.every_minutes",
    "checkpoint.every_steps",
    "checkpoint.within_epoch_minutes",
];

/// Checks that `new` may resume the run in `out` written with `old`, after `done` epochs
/// (`complete`: the run finished). Only [`MAY_DIFFER`] may differ, `optim.epochs` only upwards;
/// a finished run is extended only by a larger `optim.epochs`.
pub fn check_resume(
    old: &TrainConfig,
    new: &TrainConfig,
    done: usize,
    complete: bool,
    out: &Path,
) -> Result<()> {
    let bad = |msg: String| {
        Err(Error::Config {
            origin: out.display().to_string(),
            msg,
        })
    };
    let diffs: Vec<String> = differing_keys(old, new)
        .into_iter()
        .filter(|(k, _, _)| !MAY_DIFFER.contains(&k.as_str()))
        .map(|(k, a, b)| format!("{k}: the run has {a}, now {b}"))
        .collect();
    if !diffs.is_empty() {
        return bad(format!(
            "--resume with a different configuration than the run's own ({}); only \
             optim.epochs (to train longer), threads, data.dir, data.offline and the checkpoint.* \
             intervals may differ: resume with \
             `brainlike train --resume {}`",
            diffs.join("; "),
            out.display()
        ));
    }
    if old.checkpoint.within_epoch() != new.checkpoint.within_epoch() {
        let on = |c: &TrainConfig| {
            if c.checkpoint.within_epoch() {
                "on"
            } else {
                "off"
            }
        };
        return bad(format!(
            "mid-epoch checkpoints (checkpoint.every_steps, checkpoint.within_epoch_minutes) \
             were {} in this run and would be {} now: switching them changes how dropout is \
             seeded, so a resumed run must keep them {}",
            on(old),
            on(new),
            on(old)
        ));
    }
    let epochs = new.optim.epochs;
    if epochs < done {
        return bad(format!(
            "optim.epochs = {epochs} but the run has already trained {done} epochs; only a \
             larger optim.epochs may differ"
        ));
    }
    if complete && epochs <= old.optim.epochs {
        return bad(format!(
            "this run is already complete ({} epochs); to train it longer pass \
             `--resume {} --set optim.epochs=N` with N > {}",
            old.optim.epochs,
            out.display(),
            old.optim.epochs
        ));
    }
    Ok(())
}

/// `(key, old, new)` for every leaf key whose value differs (dotted keys, flattened as the
/// run directory's reader flattens `config.toml`).
pub fn differing_keys(old: &TrainConfig, new: &TrainConfig) -> Vec<(String, String, String)> {
    let flat = |c: &TrainConfig| {
        brainlike_run::flatten_toml(&toml::Value::try_from(c).expect("serialisable"))
    };
    let (a, b) = (flat(old), flat(new));
    a.into_iter()
        .filter_map(|(k, x)| match b.get(&k) {
            Some(y) if *y == x => None,
            y => Some((k, x, y.cloned().unwrap_or_default())),
        })
        .collect()
}

/// `1:02:03` or `4:05`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The run's remaining time from the epochs of this invocation so far.
pub fn run_eta(elapsed: Duration, epochs_done_here: usize, epochs_left: usize) -> Duration {
    if epochs_done_here == 0 {
        return Duration::ZERO;
    }
    elapsed.mul_f64(epochs_left as f64 / epochs_done_here as f64)
}

/// One line per epoch, for logs (no terminal): losses, accuracies, teacher term, λ, images/s,
/// elapsed time and the run's ETA.
pub fn epoch_line(
    r: &EpochMetrics,
    epochs: usize,
    teacher_on: bool,
    elapsed: Duration,
    eta: Duration,
) -> String {
    let teacher = if teacher_on {
        format!(" | teacher {:.4} λ {:.4}", r.teacher_loss, r.lambda)
    } else {
        String::new()
    };
    format!(
        "epoch {}/{epochs} | train loss {:.4} acc {:.2}% | test loss {:.4} acc {:.2}%{teacher} | \
         {:.0} img/s | elapsed {} eta {}",
        r.epoch,
        r.train_loss,
        r.train_acc * 100.0,
        r.test_loss,
        r.test_acc * 100.0,
        r.images_per_sec,
        clock(elapsed),
        clock(eta),
    )
}

/// Writes `provenance.json` beside `config.toml`: where the data came from (the resolved data
/// set, whether `data.dir`, `$BRAINLIKE_DATA` or `./data` named it) and the producer.
pub fn write_provenance(out: &Path, data_source: &str) -> Result<()> {
    let json = serde_json::json!({
        "data_source": data_source,
        "data_dir_env": std::env::var("BRAINLIKE_DATA").ok(),
        "producer": format!("brainlike {}", env!("CARGO_PKG_VERSION")),
    });
    write_atomic(
        &out.join("provenance.json"),
        serde_json::to_string_pretty(&json)
            .expect("json")
            .as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_longer_run_may_differ() {
        let old = TrainConfig::default();
        let out = Path::new("runs/x");
        assert!(check_resume(&old, &old, 3, false, out).is_ok());
        let mut longer = old.clone();
        longer.optim.epochs = 200;
        assert!(check_resume(&old, &longer, 100, true, out).is_ok());
        let e = check_resume(&old, &old, 100, true, out).unwrap_err();
        assert!(e.to_string().contains("already complete"), "{e}");
        let mut other = old.clone();
        other.optim.lr = 0.5;
        let e = check_resume(&old, &other, 3, false, out).unwrap_err();
        assert!(
            e.to_string()
                .contains("optim.lr: the run has 0.01, now 0.5"),
            "{e}"
        );
        let mut shorter = old.clone();
        shorter.optim.epochs = 2;
        assert!(check_resume(&old, &shorter, 3, false, out).is_err());
        // A moved run directory and other checkpoint intervals are harmless...
        let mut moved = old.clone();
        moved.out_dir = "/elsewhere/x".into();
        moved.checkpoint.keep = 0;
        moved.checkpoint.every_minutes = 30.0;
        assert!(check_resume(&old, &moved, 3, false, out).is_ok());
        let mut mid = old.clone();
        mid.checkpoint.every_steps = 100;
        let mut mid2 = mid.clone();
        mid2.checkpoint.every_steps = 0;
        mid2.checkpoint.within_epoch_minutes = 10.0;
        assert!(check_resume(&mid, &mid2, 3, false, out).is_ok());
        // ...but switching mid-epoch checkpoints on or off changes how dropout is seeded.
        let e = check_resume(&old, &mid, 3, false, out).unwrap_err();
        assert!(
            e.to_string()
                .contains("were off in this run and would be on"),
            "{e}"
        );
        assert_eq!(clock(Duration::from_secs(3723)), "1:02:03");
        assert_eq!(clock(Duration::from_secs(65)), "1:05");
    }
}
