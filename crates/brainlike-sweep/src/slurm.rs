//! The Slurm executor: one job array over the incomplete runs.
//!
//! `SWEEP_DIR/slurm/sweep.sbatch` holds `#SBATCH --array=<indices>%<max_parallel>` where
//! the array indices are the plan indices of the runs to do (`0-(n-1)` when none is
//! complete yet; a list such as `2,5-7` otherwise), so each task runs
//! `<exe> sweep EXPERIMENT --sweep-dir SWEEP_DIR --task-index $SLURM_ARRAY_TASK_ID`,
//! i.e. run `plan.json[$SLURM_ARRAY_TASK_ID]`, under the same lock and completion rules
//! as a local sweep. Submission uses `sbatch --parsable` (and `--wait` on request); job
//! ids are appended to `SWEEP_DIR/slurm/jobs.json`. Task output goes to
//! `SWEEP_DIR/slurm/%A_%a.out`. Tasks start in the directory the sweep was submitted
//! from (relative data paths of the trainer keep working).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::experiment::SlurmConfig;
use crate::runner::shell_quote;

/// What the array needs to know.
#[derive(Debug, Clone)]
pub struct ArrayJob {
    /// Job name (`brainlike-<experiment name>`).
    pub name: String,
    /// Absolute sweep directory.
    pub sweep_dir: PathBuf,
    /// Absolute experiment file.
    pub experiment: PathBuf,
    /// Absolute `brainlike` executable.
    pub exe: PathBuf,
    /// Plan indices of the runs to do.
    pub indices: Vec<usize>,
    /// `--cpus-per-task`, also each run's thread count.
    pub cpus_per_task: usize,
    /// Array throttle.
    pub max_parallel: Option<usize>,
    /// Partition, time, memory, extra arguments.
    pub config: SlurmConfig,
}

/// `0-3,5,7-9` (+ `%N`): indices compressed into ranges.
pub fn array_spec(indices: &[usize], max_parallel: Option<usize>) -> String {
    let mut sorted = indices.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1] == sorted[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            sorted[i].to_string()
        } else {
            format!("{}-{}", sorted[i], sorted[j])
        });
        i = j + 1;
    }
    let mut s = parts.join(",");
    if let Some(m) = max_parallel {
        s.push_str(&format!("%{m}"));
    }
    s
}

impl ArrayJob {
    /// The batch script text.
    pub fn script(&self) -> String {
        let d = |p: &Path| shell_quote(&p.to_string_lossy());
        let mut s = String::from("#!/bin/bash\n");
        s += &format!("#SBATCH --job-name={}\n", self.name);
        s += &format!(
            "#SBATCH --array={}\n",
            array_spec(&self.indices, self.max_parallel)
        );
        s += &format!("#SBATCH --cpus-per-task={}\n", self.cpus_per_task);
        s += &format!(
            "#SBATCH --output={}\n",
            self.sweep_dir.join("slurm").join("%A_%a.out").display()
        );
        if let Some(p) = &self.config.partition {
            s += &format!("#SBATCH --partition={p}\n");
        }
        if let Some(t) = &self.config.time {
            s += &format!("#SBATCH --time={t}\n");
        }
        if let Some(m) = &self.config.mem {
            s += &format!("#SBATCH --mem={m}\n");
        }
        for a in &self.config.sbatch_args {
            s += &format!("#SBATCH {a}\n");
        }
        s += "#\n# Written by `brainlike sweep`: one array task per incomplete run; the array index\n";
        s += "# is the run's index in plan.json. Rerunning the sweep resubmits what is left.\n";
        s += "set -eu\n";
        s += &format!(
            "export RAYON_NUM_THREADS={c} OMP_NUM_THREADS={c}\n",
            c = self.cpus_per_task
        );
        s += &format!(
            "exec {} sweep {} --sweep-dir {} --task-index \"$SLURM_ARRAY_TASK_ID\" --threads {}\n",
            d(&self.exe),
            d(&self.experiment),
            d(&self.sweep_dir),
            self.cpus_per_task
        );
        s
    }

    /// Writes `SWEEP_DIR/slurm/sweep.sbatch`; returns its path.
    pub fn write(&self) -> anyhow::Result<PathBuf> {
        let path = self.sweep_dir.join("slurm").join("sweep.sbatch");
        brainlike_run::write_atomic(&path, self.script().as_bytes())?;
        Ok(path)
    }
}

/// One submission, as recorded in `jobs.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Slurm job id.
    pub job_id: String,
    /// Unix time of submission.
    pub submitted_at: u64,
    /// Plan indices of its tasks.
    pub runs: Vec<usize>,
}

/// Reads `SWEEP_DIR/slurm/jobs.json` (empty if absent).
pub fn load_jobs(sweep_dir: &Path) -> anyhow::Result<Vec<JobRecord>> {
    let path = sweep_dir.join("slurm").join("jobs.json");
    match std::fs::read_to_string(&path) {
        Ok(t) => {
            serde_json::from_str(&t).with_context(|| format!("{}: bad job list", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn record_job(sweep_dir: &Path, rec: JobRecord) -> anyhow::Result<()> {
    let mut jobs = load_jobs(sweep_dir)?;
    jobs.push(rec);
    let text = serde_json::to_string_pretty(&jobs)? + "\n";
    Ok(brainlike_run::write_atomic(
        &sweep_dir.join("slurm").join("jobs.json"),
        text.as_bytes(),
    )?)
}

/// Jobs of this sweep that `squeue` still lists (pending or running).
pub fn active_jobs(sweep_dir: &Path) -> anyhow::Result<Vec<String>> {
    let jobs = load_jobs(sweep_dir)?;
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = jobs.iter().map(|j| j.job_id.as_str()).collect();
    let out = Command::new("squeue")
        .args(["-h", "-o", "%A %F", "-j", &ids.join(",")])
        .output();
    let Ok(out) = out else {
        return Ok(Vec::new()); // no squeue here: cannot tell
    };
    // squeue exits non-zero when none of the ids is known any more.
    let text = String::from_utf8_lossy(&out.stdout);
    let mut active: Vec<String> = text
        .split_whitespace()
        .filter(|w| ids.contains(w))
        .map(str::to_string)
        .collect();
    active.sort();
    active.dedup();
    Ok(active)
}

/// A finished or started submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// Slurm job id.
    pub job_id: String,
    /// The batch script.
    pub script: PathBuf,
    /// Number of array tasks.
    pub tasks: usize,
    /// With `--wait`: whether `sbatch` reported every task successful.
    pub wait_ok: Option<bool>,
}

/// Writes the script, submits it with `sbatch --parsable` (`--wait` if asked), records
/// the job id, and (with `wait`) blocks until the whole array has finished.
pub fn submit(job: &ArrayJob, wait: bool) -> anyhow::Result<Submission> {
    let script = job.write()?;
    let mut cmd = Command::new("sbatch");
    cmd.arg("--parsable");
    if wait {
        cmd.arg("--wait");
    }
    cmd.arg(&script)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .context("cannot run sbatch (is Slurm installed and on PATH?)")?;
    let stdout = child.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().transpose()?.unwrap_or_default();
    let job_id = first.split(';').next().unwrap_or("").trim().to_string();
    if !job_id.is_empty() {
        record_job(
            &job.sweep_dir,
            JobRecord {
                job_id: job_id.clone(),
                submitted_at: crate::state::now(),
                runs: job.indices.clone(),
            },
        )?;
        eprintln!(
            "sweep: submitted job {job_id} ({} tasks): {}",
            job.indices.len(),
            script.display()
        );
    }
    for _ in lines {}
    let status = child.wait()?;
    if job_id.is_empty() {
        anyhow::bail!(
            "sbatch printed no job id ({status}); script {}",
            script.display()
        );
    }
    if !wait && !status.success() {
        anyhow::bail!("sbatch failed ({status}); script {}", script.display());
    }
    Ok(Submission {
        job_id,
        script,
        tasks: job.indices.len(),
        wait_ok: wait.then(|| status.success()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_spec_compresses_ranges() {
        assert_eq!(array_spec(&[0, 1, 2, 3], None), "0-3");
        assert_eq!(array_spec(&[0, 1, 2, 3], Some(2)), "0-3%2");
        assert_eq!(array_spec(&[7, 2, 5, 6, 9], None), "2,5-7,9");
        assert_eq!(array_spec(&[4], Some(1)), "4%1");
    }

    #[test]
    fn script_has_the_array_and_the_task_command() {
        let job = ArrayJob {
            name: "brainlike-x".into(),
            sweep_dir: "/s/sweeps/x".into(),
            experiment: "/s/experiments/x.toml".into(),
            exe: "/opt/my bin/brainlike".into(),
            indices: vec![0, 1, 2],
            cpus_per_task: 8,
            max_parallel: Some(2),
            config: SlurmConfig {
                partition: Some("cpu".into()),
                mem: Some("16G".into()),
                sbatch_args: vec!["--gres=gpu:1".into()],
                ..Default::default()
            },
        };
        let s = job.script();
        for line in [
            "#SBATCH --array=0-2%2\n",
            "#SBATCH --cpus-per-task=8\n",
            "#SBATCH --output=/s/sweeps/x/slurm/%A_%a.out\n",
            "#SBATCH --partition=cpu\n",
            "#SBATCH --mem=16G\n",
            "#SBATCH --gres=gpu:1\n",
            "export RAYON_NUM_THREADS=8 OMP_NUM_THREADS=8\n",
            "exec '/opt/my bin/brainlike' sweep /s/experiments/x.toml --sweep-dir /s/sweeps/x \
             --task-index \"$SLURM_ARRAY_TASK_ID\" --threads 8\n",
        ] {
            assert!(s.contains(line), "missing {line:?} in\n{s}");
        }
        assert!(!s.contains("--time"), "unset options are left out");
    }
}
