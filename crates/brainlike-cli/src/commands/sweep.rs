//! `brainlike sweep EXPERIMENT`: the grid runs in this process (CIFAR-100 and the teacher
//! stimuli decoded once, each run on its own thread pool), or as a Slurm job array whose tasks
//! call `brainlike sweep --task-index`.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use brainlike_core::TrainConfig;
use brainlike_core::data::cifar100::{Cifar100, resolve_data_dir};
use brainlike_core::data::{PackSource, Stimuli};
use brainlike_core::train::{Resources, TrainOptions, load_resources_shared, train};
use brainlike_sweep::{PlannedRun, Runner, SweepArgs, sweep_main};

/// Trains runs in this process, sharing decoded data between them.
#[derive(Default)]
pub struct InProcessRunner {
    cifar: Mutex<HashMap<std::path::PathBuf, Arc<Cifar100>>>,
    stimuli: Mutex<HashMap<(std::path::PathBuf, usize), Arc<Stimuli>>>,
}

impl InProcessRunner {
    fn config(run: &PlannedRun, threads: usize) -> Result<TrainConfig> {
        Ok(TrainConfig::load(
            run.base.as_deref(),
            &run.set_args(threads),
        )?)
    }

    fn resources(&self, cfg: &TrainConfig) -> Result<Resources> {
        let dir = resolve_data_dir(&cfg.data.dir);
        let cifar = {
            let mut cache = self.cifar.lock().expect("cache lock");
            match cache.get(&dir) {
                Some(c) => c.clone(),
                None => {
                    let c = Arc::new(brainlike_core::data::fetch::load_or_fetch(
                        &dir,
                        cfg.data.offline,
                    )?);
                    cache.insert(dir.clone(), c.clone());
                    c
                }
            }
        };
        // Decode the teacher stimuli once per (pack, input size); the pairs are small.
        let stimuli = if cfg.teacher.enabled() {
            let key = (cfg.teacher.pack_dir.clone(), cfg.data.input_size);
            let mut cache = self.stimuli.lock().expect("cache lock");
            Some(match cache.get(&key) {
                Some(s) => s.clone(),
                None => {
                    let s = Arc::new(Stimuli::load(&PackSource::from_dir(&key.0), key.1)?);
                    cache.insert(key, s.clone());
                    s
                }
            })
        } else {
            None
        };
        Ok(load_resources_shared(cfg, cifar, stimuli)?)
    }
}

impl Runner for InProcessRunner {
    fn run(&self, run: &PlannedRun, threads: usize) -> anyhow::Result<()> {
        let cfg = Self::config(run, threads)?;
        let res = self.resources(&cfg)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build()
            .context("thread pool")?;
        let opts = TrainOptions {
            resume: run.resume,
            progress: false,
            stop_after: None,
            weights: None,
            log_lines: false,
            ..Default::default()
        };
        let s = pool
            .install(|| train(&cfg, &res, &opts))
            .with_context(|| format!("run {}", run.id))?;
        eprintln!(
            "{}: test acc {:.4} after {} epochs",
            run.id, s.final_test_acc, s.epochs
        );
        Ok(())
    }

    fn check(&self, run: &PlannedRun) -> anyhow::Result<()> {
        Self::config(run, 1).map(|_| ())
    }
}

/// Runs `brainlike sweep`.
pub fn run(args: SweepArgs) -> Result<ExitCode> {
    let exe = std::env::current_exe().context("locating the brainlike executable")?;
    let runner = InProcessRunner::default();
    Ok(ExitCode::from(sweep_main(&args, &runner, &exe)?))
}
