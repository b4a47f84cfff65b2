//! Resumption: a killed sweep continues where it stopped, complete runs are not rerun,
//! interrupted runs resume from their checkpoint, no run is started twice concurrently,
//! failures are recorded and retried, and an edited experiment is refused rather than mixed.
//!
//! The trainer is `fake_train` (src/bin/fake_train.rs), which follows `brainlike train`'s
//! run-directory contract and logs each attempt in `attempts.txt`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use brainlike_sweep::state::{self, RunLock};
use brainlike_sweep::{PlannedRun, RunStatus, Runner, SweepArgs, SweepError, collect, run_sweep};

const FAKE: &str = env!("CARGO_BIN_EXE_fake_train");
const EPOCHS: u64 = 4;

fn write_experiment(dir: &Path, extra: &str) -> PathBuf {
    let p = dir.join("exp.toml");
    std::fs::write(
        &p,
        format!(
            "name = \"resume\"\nseeds = 2\n[set]\noptim.epochs = {EPOCHS}\n[axes]\n\
             teacher.ratio = [0.0, 0.1, 1.0]\n{extra}"
        ),
    )
    .unwrap();
    p
}

fn sweep_cmd(exp: &Path, sweep_dir: &Path, epoch_ms: u64) -> Command {
    let mut c = Command::new(FAKE);
    c.arg("sweep")
        .arg(exp)
        .arg("--sweep-dir")
        .arg(sweep_dir)
        .args(["--concurrency", "2", "--threads", "1"])
        .env("FAKE_TRAIN_EPOCH_MS", epoch_ms.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn run_dirs(sweep_dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(sweep_dir.join("runs"))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn attempts(run_dir: &Path) -> String {
    std::fs::read_to_string(run_dir.join("attempts.txt")).unwrap_or_default()
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill(args: &[&str]) {
    let st = Command::new("kill").args(args).status().unwrap();
    assert!(st.success(), "kill {args:?}");
}

/// Exit code and everything the process printed (stdout, then stderr).
fn finish(child: Child) -> (i32, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The summary lines (`sweep DIR: N planned...`) of a sweep's output.
fn summary_lines(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.starts_with("sweep ") && l.contains(" planned"))
        .collect()
}

/// The sweep printed one summary, and its counts add up to the runs planned.
fn one_summary_that_adds_up(out: &str) -> String {
    let lines = summary_lines(out);
    assert_eq!(lines.len(), 1, "one summary expected:\n{out}");
    let (head, tail) = lines[0].split_once(" planned").unwrap();
    let planned: usize = head.rsplit(' ').next().unwrap().parse().unwrap();
    let parts: usize = tail[1..]
        .split(';')
        .next()
        .unwrap()
        .split(',')
        .map(|p| {
            p.split_whitespace()
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(planned, parts, "counts do not add up: {}", lines[0]);
    lines[0].to_string()
}

/// Every run complete, each trained to the last epoch exactly once, one successful attempt.
fn check_all_complete_once(sweep_dir: &Path, n: usize) {
    let dirs = run_dirs(sweep_dir);
    assert_eq!(dirs.len(), n);
    for d in &dirs {
        assert!(
            d.join("summary.json").is_file(),
            "{} incomplete",
            d.display()
        );
        let a = attempts(d);
        assert_eq!(a.matches("end ").count(), 1, "{}: {a}", d.display());
        assert!(!a.contains("refused"), "{}: {a}", d.display());
        let metrics = std::fs::read_to_string(d.join("metrics.csv")).unwrap();
        let epochs: Vec<u64> = metrics
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(epochs, (1..=EPOCHS).collect::<Vec<_>>(), "{}", d.display());
        assert!(
            !d.join(state::LOCK_FILE).exists(),
            "{}: lock left",
            d.display()
        );
    }
}

#[test]
fn killed_sweep_resumes_without_rerunning_or_double_counting() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write_experiment(tmp.path(), "");
    let sd = tmp.path().join("sweep");

    // 6 runs x 4 epochs x 150 ms, 2 at a time. Kill the whole process group (as Ctrl-C or
    // scancel would) once some runs are complete and others are mid-way.
    let mut cmd = sweep_cmd(&exp, &sd, 150);
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd.spawn().unwrap();
    let pgid = child.id();
    wait_until(
        "two complete runs and one mid-way",
        Duration::from_secs(30),
        || {
            let dirs = run_dirs(&sd);
            let done = dirs
                .iter()
                .filter(|d| d.join("summary.json").exists())
                .count();
            let mid = dirs
                .iter()
                .filter(|d| d.join("checkpoint.json").exists() && !d.join("summary.json").exists())
                .count();
            done >= 2 && mid >= 1
        },
    );
    kill(&["-KILL", "--", &format!("-{pgid}")]);
    let (code, _) = finish(child);
    assert_ne!(code, 0);

    let before: Vec<(PathBuf, String)> = run_dirs(&sd)
        .into_iter()
        .filter(|d| d.join("summary.json").exists())
        .map(|d| {
            let a = attempts(&d);
            (d, a)
        })
        .collect();
    let interrupted: Vec<PathBuf> = run_dirs(&sd)
        .into_iter()
        .filter(|d| d.join("checkpoint.json").exists() && !d.join("summary.json").exists())
        .collect();
    assert!(before.len() >= 2 && !interrupted.is_empty());
    for d in &interrupted {
        // The killed sweep's lock is stale: the run reads as interrupted, not running, once
        // the kernel has finished delivering SIGKILL to every process of the group (which
        // takes a moment on a loaded machine).
        wait_until(
            "killed trainers to be gone",
            Duration::from_secs(20),
            || !matches!(state::run_status(d), RunStatus::Running { .. }),
        );
        assert_eq!(
            state::run_status(d),
            RunStatus::Interrupted,
            "{}",
            d.display()
        );
    }

    // Rerun: completes the rest.
    let (code, err) = finish(sweep_cmd(&exp, &sd, 20).spawn().unwrap());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("resuming"), "{err}");
    assert!(
        err.contains(&format!("{} already complete", before.len())),
        "{err}"
    );
    check_all_complete_once(&sd, 6);
    // Complete runs were not touched; interrupted ones resumed from their checkpoint.
    for (d, a) in &before {
        assert_eq!(&attempts(d), a, "{} was rerun", d.display());
    }
    for d in &interrupted {
        assert!(attempts(d).contains("resume"), "{}", d.display());
    }

    // A third run does nothing.
    let (code, err) = finish(sweep_cmd(&exp, &sd, 20).spawn().unwrap());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("6 already complete"), "{err}");

    let c = collect(&sd).unwrap();
    assert_eq!(c.complete(), 6);
    let csv = std::fs::read_to_string(sd.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7, "{csv}");
    assert!(
        csv.lines().next().unwrap().contains("final.test_acc"),
        "{csv}"
    );
}

#[test]
fn orphaned_trainers_are_not_started_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write_experiment(tmp.path(), "");
    let sd = tmp.path().join("sweep");

    // Kill only the sweep process: its two trainer children keep running as orphans.
    let child = sweep_cmd(&exp, &sd, 400).spawn().unwrap();
    wait_until(
        "two trainers with a checkpoint",
        Duration::from_secs(30),
        || {
            run_dirs(&sd)
                .iter()
                .filter(|d| d.join("checkpoint.json").exists())
                .count()
                >= 2
        },
    );
    kill(&["-KILL", &child.id().to_string()]);
    let _ = finish(child);

    // A new sweep started now leaves those two alone, runs the rest, waits for the
    // orphans and ends with the whole plan complete: exit 0.
    let (code, err) = finish(sweep_cmd(&exp, &sd, 20).spawn().unwrap());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("waiting for 2 runs"), "{err}");
    assert!(
        one_summary_that_adds_up(&err).contains("2 completed elsewhere"),
        "{err}"
    );
    check_all_complete_once(&sd, 6);

    // A last sweep has nothing left to run twice.
    let (code, err) = finish(sweep_cmd(&exp, &sd, 20).spawn().unwrap());
    assert_eq!(code, 0, "{err}");
    check_all_complete_once(&sd, 6);
}

#[test]
fn failures_do_not_stop_others_and_are_retried() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write_experiment(
        tmp.path(),
        "[[include]]\nteacher.ratio = 0.5\nfake.fail_once = true\n",
    );
    let sd = tmp.path().join("sweep");
    let (code, err) = finish(sweep_cmd(&exp, &sd, 10).spawn().unwrap());
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("6 completed now") && err.contains("2 failed"),
        "{err}"
    );
    let c = collect(&sd).unwrap();
    assert_eq!((c.complete(), c.failed()), (6, 2));
    let csv = std::fs::read_to_string(sd.join("results.csv")).unwrap();
    assert_eq!(csv.matches(",failed,").count(), 2, "{csv}");

    // `--status` prints one summary whose counts add up.
    let (code, out) = finish(sweep_cmd(&exp, &sd, 10).arg("--status").spawn().unwrap());
    assert_eq!(code, 1, "failed runs make --status exit 1\n{out}");
    let line = one_summary_that_adds_up(&out);
    assert!(
        line.contains("6 complete") && line.contains("2 failed"),
        "{out}"
    );

    let (code, err) = finish(sweep_cmd(&exp, &sd, 10).spawn().unwrap());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 completed now, 6 already complete"), "{err}");
    one_summary_that_adds_up(&err);
    check_all_complete_once(&sd, 8);
}

#[test]
fn the_summary_is_printed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write_experiment(tmp.path(), "");
    let sd = tmp.path().join("sweep");
    let (code, out) = finish(sweep_cmd(&exp, &sd, 10).spawn().unwrap());
    assert_eq!(code, 0, "{out}");
    assert!(one_summary_that_adds_up(&out).contains("6 completed now"));
    // Work already done: exit 0, one summary.
    let (code, out) = finish(sweep_cmd(&exp, &sd, 10).spawn().unwrap());
    assert_eq!(code, 0, "{out}");
    assert!(one_summary_that_adds_up(&out).contains("6 already complete"));
}

#[test]
fn two_sweeps_on_one_dir_both_finish_and_exit_0() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write_experiment(tmp.path(), "");
    let sd = tmp.path().join("sweep");
    let a = sweep_cmd(&exp, &sd, 150).spawn().unwrap();
    let b = sweep_cmd(&exp, &sd, 150).spawn().unwrap();
    let (ca, oa) = finish(a);
    let (cb, ob) = finish(b);
    assert_eq!((ca, cb), (0, 0), "\n--- a:\n{oa}\n--- b:\n{ob}");
    one_summary_that_adds_up(&oa);
    one_summary_that_adds_up(&ob);
    check_all_complete_once(&sd, 6);
}

/// An in-process runner, as the CLI provides.
struct InProcess {
    calls: std::sync::Mutex<Vec<(String, bool, usize)>>,
}

impl Runner for InProcess {
    fn run(&self, run: &PlannedRun, threads: usize) -> anyhow::Result<()> {
        self.calls
            .lock()
            .unwrap()
            .push((run.id.clone(), run.resume, threads));
        let sets = run.set_args(threads);
        assert!(sets.iter().any(|s| s.starts_with("out_dir=")));
        assert!(sets.contains(&format!("threads={threads}")));
        std::fs::write(run.out_dir.join("summary.json"), "{\"ok\": true}")?;
        Ok(())
    }

    fn check(&self, run: &PlannedRun) -> anyhow::Result<()> {
        match run.overrides.iter().find(|o| o.key.starts_with("typo")) {
            Some(o) => anyhow::bail!("unknown config key `{}`", o.key),
            None => Ok(()),
        }
    }
}

/// A runner on a full disk: every run fails, and so does writing its failure record.
struct FullDisk;

impl Runner for FullDisk {
    fn run(&self, run: &PlannedRun, _threads: usize) -> anyhow::Result<()> {
        if run.seed == 0 {
            // Some trainer state made it to disk before the disk filled up.
            std::fs::write(run.out_dir.join("config.toml"), "seed = 0\n")?;
        }
        // The failure record cannot be written where a folder stands in its way.
        std::fs::create_dir_all(run.out_dir.join(state::FAILED_FILE).join("x"))?;
        anyhow::bail!("No space left on device (os error 28)")
    }
}

#[test]
fn failures_count_as_failed_when_their_records_cannot_be_written() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = tmp.path().join("exp.toml");
    std::fs::write(
        &exp,
        "name = \"full\"\nseeds = 2\n[axes]\nteacher.ratio = [0.0, 0.1]\n",
    )
    .unwrap();
    let sd = tmp.path().join("sweep");
    // results.csv cannot be written either.
    std::fs::create_dir_all(sd.join("results.csv").join("x")).unwrap();
    let out = run_sweep(&args(&exp, &sd), &FullDisk, Path::new(FAKE)).unwrap();
    assert_eq!((out.failed.len(), out.exit_code()), (4, 1));
    let c = out.collection.as_ref().unwrap();
    assert_eq!(c.failed(), 4, "{c}");
    let line = out.to_string();
    assert!(
        line.contains("4 planned: 0 completed now, 0 already complete, 4 failed"),
        "{line}"
    );
    assert!(
        !line.contains("pending") && !line.contains("interrupted"),
        "{line}"
    );
    assert!(
        out.failed
            .iter()
            .all(|(_, e)| e.contains("cannot record the failure")),
        "{:?}",
        out.failed
    );
}

#[test]
fn temporary_files_of_killed_writers_are_swept_before_a_run_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = tmp.path().join("exp.toml");
    std::fs::write(&exp, "name = \"t\"\nseeds = 1\n").unwrap();
    let sd = tmp.path().join("sweep");
    let run_dir = sd.join("runs").join("seed=0");
    std::fs::create_dir_all(run_dir.join("checkpoints/epoch-0001")).unwrap();
    let mut dead = Command::new("true").spawn().unwrap();
    let pid = dead.id();
    dead.wait().unwrap();
    let stale = [
        run_dir.join(format!(".metrics.csv.tmp-{pid}")),
        run_dir.join(format!("checkpoints/epoch-0001/.model.bpk.tmp-{pid}-2")),
    ];
    for f in &stale {
        std::fs::write(f, "half").unwrap();
    }
    let runner = InProcess {
        calls: Default::default(),
    };
    let out = run_sweep(&args(&exp, &sd), &runner, Path::new(FAKE)).unwrap();
    assert_eq!(out.completed.len(), 1);
    for f in &stale {
        assert!(!f.exists(), "{} left", f.display());
    }
}

fn args(exp: &Path, sd: &Path) -> SweepArgs {
    SweepArgs {
        experiment: exp.to_path_buf(),
        sweep_dir: Some(sd.to_path_buf()),
        concurrency: Some(3),
        threads: Some(2),
        ..Default::default()
    }
}

#[test]
fn in_process_runner_and_plan_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write_experiment(tmp.path(), "");
    let sd = tmp.path().join("sweep");
    let runner = InProcess {
        calls: Default::default(),
    };
    let exe = Path::new(FAKE);

    let dry = run_sweep(
        &SweepArgs {
            dry_run: true,
            ..args(&exp, &sd)
        },
        &runner,
        exe,
    )
    .unwrap();
    assert_eq!(dry.planned, 6);
    assert!(!sd.exists(), "a dry run writes nothing");

    let out = run_sweep(&args(&exp, &sd), &runner, exe).unwrap();
    assert_eq!((out.completed.len(), out.exit_code()), (6, 0));
    assert!(sd.join("plan.json").is_file() && sd.join("experiment.toml").is_file());
    let calls = runner.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 6);
    assert!(calls.iter().all(|(_, resume, t)| !resume && *t == 2));

    // More seeds: only the new runs execute.
    std::fs::write(
        &exp,
        std::fs::read_to_string(&exp)
            .unwrap()
            .replace("seeds = 2", "seeds = 3"),
    )
    .unwrap();
    let out = run_sweep(&args(&exp, &sd), &runner, exe).unwrap();
    assert_eq!((out.completed.len(), out.skipped.len()), (3, 6));

    // A changed fixed value would mix configurations under the same ids: refused.
    std::fs::write(
        &exp,
        std::fs::read_to_string(&exp)
            .unwrap()
            .replace("optim.epochs = 4", "optim.epochs = 5"),
    )
    .unwrap();
    let err = run_sweep(&args(&exp, &sd), &runner, exe).unwrap_err();
    match err.downcast_ref::<SweepError>() {
        Some(SweepError::PlanChanged { key, old, new, .. }) => {
            assert_eq!(
                (key.as_str(), old.as_str(), new.as_str()),
                ("optim.epochs", "4", "5")
            );
        }
        _ => panic!("expected PlanChanged, got {err:#}"),
    }

    // The runner's check rejects a bad key before anything runs.
    std::fs::write(&exp, "name = \"x\"\nseeds = 1\n[set]\ntypo.key = 1\n").unwrap();
    let err = run_sweep(&args(&exp, &tmp.path().join("other")), &runner, exe).unwrap_err();
    assert!(
        format!("{err:#}").contains("unknown config key `typo.key`"),
        "{err:#}"
    );
}

#[test]
fn locks_exclude_live_owners_and_break_stale_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let lock = RunLock::acquire(&dir, "run").unwrap();
    let err = RunLock::acquire(&dir, "run").unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<SweepError>(),
            Some(SweepError::Locked { .. })
        ),
        "{err:#}"
    );
    assert!(matches!(state::run_status(&dir), RunStatus::Running { .. }));
    drop(lock);
    assert!(!dir.join(state::LOCK_FILE).exists());

    // A lock left by a dead process of this host is stale.
    let mut dead = Command::new("true").spawn().unwrap();
    let pid = dead.id();
    dead.wait().unwrap();
    let holder = state::LockHolder {
        host: state::hostname(),
        pid,
        start_time: None,
        since: 0,
    };
    std::fs::write(
        dir.join(state::LOCK_FILE),
        serde_json::to_string(&holder).unwrap(),
    )
    .unwrap();
    assert_eq!(state::run_status(&dir), RunStatus::Pending);
    let _lock = RunLock::acquire(&dir, "run").unwrap();

    // A lock from another host is never broken automatically.
    let dir2 = tmp.path().join("run2");
    std::fs::create_dir_all(&dir2).unwrap();
    let other = state::LockHolder {
        host: "some-other-node".into(),
        pid: 1,
        start_time: None,
        since: 0,
    };
    std::fs::write(
        dir2.join(state::LOCK_FILE),
        serde_json::to_string(&other).unwrap(),
    )
    .unwrap();
    let err = RunLock::acquire(&dir2, "run2").unwrap_err();
    assert!(format!("{err}").contains("some-other-node"), "{err}");
}

#[test]
fn base_config_is_copied_and_pinned() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("configs")).unwrap();
    std::fs::write(tmp.path().join("configs/base.toml"), "lr = 0.01\n").unwrap();
    let exp = tmp.path().join("exp.toml");
    std::fs::write(
        &exp,
        "name = \"b\"\nbase = \"configs/base.toml\"\nseeds = 2\n",
    )
    .unwrap();
    let sd = tmp.path().join("sweep");
    let runner = InProcess {
        calls: Default::default(),
    };
    let out = run_sweep(&args(&exp, &sd), &runner, Path::new(FAKE)).unwrap();
    assert_eq!(out.completed.len(), 2);
    assert_eq!(
        std::fs::read_to_string(sd.join("base.toml")).unwrap(),
        "lr = 0.01\n"
    );
    // The process runner passes the sweep's copy.
    let plan = brainlike_sweep::Plan::load(&sd.join("plan.json")).unwrap();
    let run = plan.planned_run(&sd, &plan.runs[0]);
    assert_eq!(run.base.as_deref(), Some(sd.join("base.toml").as_path()));
    let cmd = brainlike_sweep::ProcessRunner::new(FAKE).command_args(&run, 3);
    let cmd: Vec<String> = cmd
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        cmd[..3],
        [
            "train".to_string(),
            "--config".into(),
            sd.join("base.toml").display().to_string()
        ]
    );
    assert!(cmd.ends_with(&["--set".into(), "threads=3".into()]));

    // Editing the base after runs used it is refused.
    std::fs::write(tmp.path().join("configs/base.toml"), "lr = 0.1\n").unwrap();
    let err = run_sweep(&args(&exp, &sd), &runner, Path::new(FAKE)).unwrap_err();
    assert!(format!("{err:#}").contains("differs from"), "{err:#}");
}
