//! The training loop: epochs of [`Step`]s over a [`Dataset`], evaluation after every epoch, a
//! checkpoint per epoch, resumable bit-for-bit on the same device. What a step does is decided
//! by the parts [`build_step`] makes from the configuration (objectives, input transforms,
//! after-step hooks, frozen groups); the optimiser and schedule come from [`super::optim`].
//!
//! Reproducibility: every random stream is derived from the one seed and the epoch number
//! (data order, teacher-pair sampling, and the backend RNG that drives dropout is re-seeded at
//! the start of every epoch), so a run resumed from the checkpoint after epoch e continues
//! exactly as the uninterrupted run would have. Mid-epoch checkpoints
//! (`checkpoint.every_steps`, `checkpoint.within_epoch_minutes`) also record where the
//! teacher's pair stream stands and the epoch's running sums, and re-seed the backend RNG at
//! every minibatch, so a resume inside an epoch is exact as well.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::average::{Averager, swa_learning_rate};
use super::checkpoint::{self, CheckpointState, WithinEpoch};
use super::eval::{self, Evaluation};
use super::freeze::Frozen;
use super::metrics::{self, EpochMetrics, Summary};
use super::objective::{CrossEntropy, Teacher, TeacherData};
use super::optim::{build_optimizer, learning_rate};
use super::step::{Objective, Step};
use crate::config::TrainConfig;
use crate::data::batch::{Batcher, HostBatch, Preprocess};
use crate::data::cifar100::{Cifar100, NUM_FINE};
use crate::data::dataset::{Cifar100Split, Dataset, Part};
use crate::data::{PairSet, Stimuli};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::models::{Network, Tap};

/// Data a run needs, decoded once and shareable between runs of a sweep.
#[derive(Clone)]
pub struct Resources {
    /// Training images (labels possibly corrupted, §3.5).
    pub train: Arc<dyn Dataset>,
    /// Test images.
    pub test: Arc<dyn Dataset>,
    /// Where the data came from (for logs and records).
    pub source: String,
    /// Teacher stimuli at the run's input size (None when the teacher is off).
    pub stimuli: Option<Arc<Stimuli>>,
    /// Teacher pairs (None when the teacher is off).
    pub pairs: Option<Arc<PairSet>>,
}

/// How a run is driven.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Continue from the newest checkpoint in `out_dir`.
    pub resume: bool,
    /// Show a progress bar.
    pub progress: bool,
    /// Stop after this many epochs of this invocation (tests of resumption); None = all.
    pub stop_after: Option<usize>,
    /// Start from these weights instead of the seeded initialisation (`--weights`): a
    /// safetensors file as [`super::export::load_safetensors`] reads it (a PyTorch
    /// `state_dict` for ResNet-50 / EfficientNet-B1). Its path is written to
    /// `init_weights.txt` in the run directory.
    pub weights: Option<std::path::PathBuf>,
    /// Print one line per epoch to stderr (for logs: no terminal, no bar).
    pub log_lines: bool,
    /// Stop after this many minibatches of this invocation, after the mid-epoch checkpoint
    /// due at that point, if any (tests of mid-epoch resumption); None = no such stop.
    pub stop_after_batches: Option<usize>,
}

/// The backend's kernel choice for [`crate::models::Conv`]: im2col for layers with at most
/// this many output pixels on `flex`; Burn's conv2d everywhere on LibTorch.
pub fn im2col_threshold(device_name: &str) -> usize {
    if device_name == "flex" { 4 } else { 0 }
}

/// Mixes the seed with stream ids into a new seed (SplitMix64).
pub fn derive_seed(seed: u64, parts: &[u64]) -> u64 {
    let mut z = seed;
    for &p in parts {
        z = z
            .wrapping_add(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(p.wrapping_mul(0xBF58_476D_1CE4_E5B9));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

/// Stream ids for [`derive_seed`].
pub mod stream {
    /// Weight initialisation.
    pub const INIT: u64 = 1;
    /// Data order per epoch.
    pub const ORDER: u64 = 2;
    /// Teacher pairs per epoch.
    pub const PAIRS: u64 = 3;
    /// Backend RNG (dropout) per epoch.
    pub const DROPOUT: u64 = 4;
    /// Label corruption.
    pub const LABELS: u64 = 5;
    /// Adversarial random starts per step ([`crate::train::transform::STREAM`]).
    pub const ADVERSARIAL: u64 = crate::train::transform::STREAM;
    /// Augmentation: per-sample and per-batch (mix) seeds.
    pub const AUGMENT: u64 = 7;
    /// Backend RNG while BatchNorm statistics of a weight average are recomputed.
    pub const AVERAGING: u64 = 8;
}

/// Batches prepared ahead of the training step by the data thread.
pub const PREFETCH_BATCHES: usize = 2;

/// The run's tap for the teacher and the analyses.
pub fn teacher_tap(cfg: &TrainConfig) -> Tap {
    cfg.teacher.layer
}

/// The parts of the training step for `cfg`: cross-entropy, the teacher when enabled (on
/// `stimuli` and `pairs`), frozen groups. `pre` is the run's input preprocessing (for
/// `teacher.center_stimuli`).
pub fn build_step(
    cfg: &TrainConfig,
    stimuli: Option<&Stimuli>,
    pairs: Option<&Arc<PairSet>>,
    model: &Network,
    pre: &Preprocess,
    device: &Device,
) -> Result<Step> {
    let mut objectives: Vec<Box<dyn Objective>> = vec![Box::new(CrossEntropy {
        label_smoothing: cfg.loss.label_smoothing,
    })];
    if cfg.teacher.enabled() {
        let (Some(s), Some(p)) = (stimuli, pairs) else {
            return Err(Error::Other(
                "teacher enabled but no teacher data loaded".into(),
            ));
        };
        let pixels = if cfg.teacher.center_stimuli {
            let plane = s.size * s.size;
            s.pixels
                .chunks_exact(plane)
                .enumerate()
                .flat_map(|(k, ch)| {
                    let c = k % 3;
                    ch.iter().map(move |&v| (v - pre.mean[c]) / pre.std[c])
                })
                .collect()
        } else {
            s.pixels.clone()
        };
        let data = TeacherData::new(pixels, s.count, s.size, p.clone(), device);
        objectives.push(Box::new(Teacher::new(
            cfg.teacher.clone(),
            data,
            teacher_tap(cfg),
            cfg.seed,
        )));
    }
    let mut transforms: Vec<Box<dyn super::step::InputTransform>> = Vec::new();
    if cfg.adversarial.method != super::transform::Method::None {
        transforms.push(super::transform::build(&cfg.adversarial, pre, cfg.seed)?);
    }
    Ok(Step {
        objectives,
        transforms,
        hooks: Vec::new(),
        frozen: Frozen::from_config(model, &cfg.optim)?,
    })
}

/// Device-side sums over an epoch's steps: no host synchronisation per step.
struct EpochSums {
    ce: Tensor<1>,
    correct: Tensor<1>,
    teacher_term: Tensor<1>,
    lambda: Tensor<1>,
    teacher_steps: usize,
    /// Step passes (minibatches times replays).
    runs: usize,
    /// Sums of `adv_clean_loss` and `adv_attack_loss`.
    adv: [Tensor<1>; 2],
    /// Steps that logged each.
    adv_steps: [usize; 2],
}

impl EpochSums {
    /// The sums as host numbers, for a mid-epoch checkpoint (f32 values: exact as f64).
    fn save(&self) -> (BTreeMap<String, f64>, BTreeMap<String, usize>) {
        let v = |t: &Tensor<1>| t.clone().into_scalar::<f64>();
        let sums = BTreeMap::from([
            ("ce".to_string(), v(&self.ce)),
            ("correct".to_string(), v(&self.correct)),
            ("teacher_term".to_string(), v(&self.teacher_term)),
            ("lambda".to_string(), v(&self.lambda)),
            ("adv_clean".to_string(), v(&self.adv[0])),
            ("adv_attack".to_string(), v(&self.adv[1])),
        ]);
        let counts = BTreeMap::from([
            ("teacher_steps".to_string(), self.teacher_steps),
            ("runs".to_string(), self.runs),
            ("adv_clean_steps".to_string(), self.adv_steps[0]),
            ("adv_attack_steps".to_string(), self.adv_steps[1]),
        ]);
        (sums, counts)
    }

    /// The sums [`EpochSums::save`] wrote.
    fn restore(w: &WithinEpoch, device: &Device) -> Self {
        let t = |k: &str| {
            let v = w.sums.get(k).copied().unwrap_or(0.0) as f32;
            Tensor::<1>::from_floats([v], device)
        };
        let c = |k: &str| w.counts.get(k).copied().unwrap_or(0);
        Self {
            ce: t("ce"),
            correct: t("correct"),
            teacher_term: t("teacher_term"),
            lambda: t("lambda"),
            teacher_steps: c("teacher_steps"),
            runs: c("runs"),
            adv: [t("adv_clean"), t("adv_attack")],
            adv_steps: [c("adv_clean_steps"), c("adv_attack_steps")],
        }
    }

    fn new(device: &Device) -> Self {
        let zeros = || Tensor::<1>::zeros([1], device);
        Self {
            ce: zeros(),
            correct: zeros(),
            teacher_term: zeros(),
            lambda: zeros(),
            teacher_steps: 0,
            runs: 0,
            adv: [zeros(), zeros()],
            adv_steps: [0, 0],
        }
    }
}

/// Adds epoch `epoch`'s row to `adversarial.csv` (training loss on the adversarial batches,
/// the clean-batch loss and the attack's last loss, means over the epoch's steps), replacing
/// rows of this and later epochs (a resumed run writes them again).
fn adversarial_row(
    out: &Path,
    epoch: usize,
    adv_train_loss: f64,
    clean: Option<f64>,
    attack: Option<f64>,
) -> Result<()> {
    let path = out.join("adversarial.csv");
    let header = "epoch,train_loss_adversarial,clean_loss,attack_loss";
    let mut lines: Vec<String> = match std::fs::read_to_string(&path) {
        Ok(text) => text
            .lines()
            .skip(1)
            .filter(|l| {
                l.split(',')
                    .next()
                    .and_then(|e| e.parse::<usize>().ok())
                    .is_some_and(|e| e < epoch)
            })
            .map(String::from)
            .collect(),
        Err(_) => Vec::new(),
    };
    let f = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    lines.push(format!(
        "{epoch},{adv_train_loss},{},{}",
        f(clean),
        f(attack)
    ));
    write_atomic(
        &path,
        format!("{header}\n{}\n", lines.join("\n")).as_bytes(),
    )
}

/// Trains one run as configured; writes the run directory and returns its summary.
pub fn train(cfg: &TrainConfig, res: &Resources, opts: &TrainOptions) -> Result<Summary> {
    let (device_name, base_device) = crate::device::resolve(&cfg.device)?;
    let device = base_device.clone().autodiff();
    let out = cfg.out_dir.as_path();
    // The writer lock, held for the whole run: a second `train` on this directory is refused
    // with the holder's pid; temporary files of killed writers are swept.
    let _writer = brainlike_run::RunDir::create(out)?;
    let config_text = prepare_run_dir(cfg, &device_name, opts.resume)?;
    super::resume::write_provenance(out, &res.source)?;

    let train_set = &*res.train;
    let n_train = limit(cfg.data.train_limit, train_set.len());
    let n_test = limit(cfg.data.test_limit, res.test.len());
    let pre = run_preprocess(cfg, train_set);
    let batcher = Batcher::new(pre);
    let eval_batcher = eval_batcher(cfg, &pre);

    // Initialisation from the seed.
    device.seed(derive_seed(cfg.seed, &[stream::INIT]));
    let im2col = im2col_threshold(&device_name);
    let classes = train_set.classes().len();
    let mut model = Network::new(&cfg.model, cfg.data.input_size, classes, im2col, &device);
    let init = opts
        .weights
        .clone()
        .or_else(|| (!cfg.model.init.as_os_str().is_empty()).then(|| cfg.model.init.clone()));
    if let Some(w) = &init {
        let note = super::export::load_init(&mut model, w)?;
        if let Some(note) = &note {
            eprintln!("note: {note}");
        }
        let abs = std::fs::canonicalize(w).unwrap_or_else(|_| w.clone());
        let mut text = format!("{}\n", abs.display());
        if let Some(note) = note {
            text.push_str(&format!("{note}\n"));
        }
        crate::fsutil::write_atomic(&out.join("init_weights.txt"), text.as_bytes())?;
    }
    let mut optim = build_optimizer(&cfg.optim);
    let mut step = build_step(
        cfg,
        res.stimuli.as_deref(),
        res.pairs.as_ref(),
        &model,
        &pre,
        &device,
    )?;

    let replays = step
        .transforms
        .iter()
        .map(|t| t.replays())
        .max()
        .unwrap_or(1)
        .max(1);
    let batch_size = cfg.optim.batch_size;
    let steps_per_epoch = n_train.div_ceil(batch_size);
    if let Some(a) = Averager::new(&cfg.averaging, (steps_per_epoch * replays) as u64) {
        step.hooks.push(Box::new(a));
    }

    let mut rows: Vec<EpochMetrics> = Vec::new();
    let mut start_epoch = 1;
    let mut steps: u64 = 0;
    // Training seconds of earlier invocations (summary.json counts them all).
    let mut seconds_before = 0.0;
    // A mid-epoch checkpoint: where in its epoch training continues.
    let mut within: Option<WithinEpoch> = None;
    if opts.resume && checkpoint::any(out) {
        let mut loaded =
            checkpoint::load_latest(out, model, optim)?.expect("a complete checkpoint is listed");
        for h in &mut step.hooks {
            let template = Network::new(
                &cfg.model,
                cfg.data.input_size,
                classes,
                im2col,
                &base_device,
            );
            let net = loaded.extra(h.name(), template)?;
            h.restore(net, loaded.state.hooks.get(h.name()));
        }
        let state = loaded.state;
        seconds_before = state.seconds_so_far();
        model = loaded.model;
        optim = loaded.optim;
        for obj in &mut step.objectives {
            if let Some(s) = state.objective_state(obj.name()) {
                obj.restore(&s);
            }
        }
        rows = state.rows;
        steps = state.steps;
        start_epoch = state.epoch + 1;
        within = state.within;
    }
    // Frozen layers: no gradients, BatchNorm on its running statistics.
    model = step.frozen.apply(model);

    let augmenter = crate::data::augment::Augmenter::new(
        &cfg.augment,
        cfg.mix.as_ref(),
        derive_seed(cfg.seed, &[stream::AUGMENT]),
    )?
    .map(|a| Arc::new(a.for_classes(classes)));
    // SWA anneals from the rate scheduled at its first minibatch.
    let lr_at_swa_start = learning_rate(
        &cfg.optim,
        ((cfg.averaging.start_epoch.max(1) - 1) * steps_per_epoch) as u64,
        steps_per_epoch,
    );
    let run_start = Instant::now();
    let (start_steps, mut last_checkpoint) = (steps, Instant::now());
    let mid_epoch = cfg.checkpoint.within_epoch();
    // The summary of an invocation that stopped early on request (resumable, not complete).
    let incomplete = |rows: &[EpochMetrics]| {
        summary(
            &device_name,
            rows,
            seconds_before + run_start.elapsed().as_secs_f64(),
            None,
            vec![],
        )
    };
    for epoch in start_epoch..=cfg.optim.epochs {
        if opts.stop_after.is_some_and(|k| epoch - start_epoch >= k) {
            break;
        }
        // Resuming inside this epoch (the first of this invocation): skip the minibatches the
        // checkpoint has trained.
        let resumed = within.take();
        let skip = resumed.as_ref().map_or(0, |w| w.batches);
        let (epoch_secs_before, train_secs_before) = resumed
            .as_ref()
            .map_or((0.0, 0.0), |w| (w.epoch_seconds, w.train_seconds));
        let t0 = Instant::now();
        device.seed(derive_seed(cfg.seed, &[stream::DROPOUT, epoch as u64]));
        let mut order: Vec<usize> = (0..n_train).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(derive_seed(
            cfg.seed,
            &[stream::ORDER, epoch as u64],
        )));
        for obj in &mut step.objectives {
            obj.start_epoch(epoch);
        }

        let bar = progress_bar(
            opts.progress,
            steps_per_epoch as u64,
            epoch,
            cfg.optim.epochs,
        );
        if let Some(bar) = &bar {
            bar.set_position(skip as u64);
        }
        let mut sums = match &resumed {
            Some(w) => EpochSums::restore(w, &base_device),
            None => EpochSums::new(&base_device),
        };
        let train_t0 = Instant::now();
        // The data on a thread of its own, through a bounded queue: the next batches are
        // decoded, augmented and normalised (on rayon's workers) while this one trains. The
        // values are those of preparing each batch in line.
        let chunks: Vec<Vec<usize>> = order.chunks(batch_size).map(<[usize]>::to_vec).collect();
        let n_chunks = chunks.len();
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<HostBatch>>(PREFETCH_BATCHES);
        let producer = {
            let (data, batcher, augmenter) =
                (res.train.clone(), batcher.clone(), augmenter.clone());
            let first_step = steps - (skip * replays) as u64;
            std::thread::spawn(move || {
                for (i, c) in chunks.iter().enumerate().skip(skip) {
                    let at = first_step + (i * replays) as u64;
                    let host = match augmenter.as_deref() {
                        Some(a) => a.host(&batcher, &*data, c, epoch, at),
                        None => Ok(batcher.host(&*data, c)),
                    };
                    if tx.send(host).is_err() {
                        return; // the training loop stopped
                    }
                }
            })
        };
        for i in skip..n_chunks {
            if mid_epoch && i > 0 {
                // Mid-epoch checkpoints: the backend RNG (dropout) restarts every minibatch.
                // The first minibatch keeps the epoch's seed: Burn initialises parameters
                // lazily, at their first use in the first step, from that seed.
                device.seed(derive_seed(
                    cfg.seed,
                    &[stream::DROPOUT, epoch as u64, i as u64],
                ));
            }
            let host = rx.recv().map_err(|_| {
                Error::Other("the data thread stopped (a panic above names the cause)".into())
            })??;
            let batch = batcher.upload(host, &device);
            // The schedule counts minibatches (free training replays each one).
            let minibatch = ((epoch - 1) * steps_per_epoch + i) as u64;
            let lr = swa_learning_rate(
                &cfg.averaging,
                learning_rate(&cfg.optim, minibatch, steps_per_epoch),
                lr_at_swa_start,
                minibatch,
                steps_per_epoch as u64,
            );
            for _ in 0..replays {
                let (m, stats) = step.run(model, &mut optim, batch.clone(), lr, epoch, steps);
                model = m;
                sums.ce = sums.ce + stats.ce;
                sums.correct = sums.correct + stats.correct;
                sums.runs += 1;
                let log = |name: &str| {
                    stats
                        .logs
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, t)| t.clone())
                };
                if let (Some(t), Some(l)) = (log("teacher_term"), log("lambda")) {
                    sums.teacher_term = sums.teacher_term + t;
                    sums.lambda = sums.lambda + l;
                    sums.teacher_steps += 1;
                }
                for (k, name) in ["adv_clean_loss", "adv_attack_loss"].iter().enumerate() {
                    if let Some(v) = log(name) {
                        sums.adv[k] = sums.adv[k].clone() + v;
                        sums.adv_steps[k] += 1;
                    }
                }
                steps += 1;
            }
            if let Some(bar) = &bar {
                bar.inc(1);
                if i % 20 == 19 || i + 1 == steps_per_epoch {
                    let seen = ((i + 1) * batch_size).min(n_train) as f64;
                    let loss = sums.ce.clone().into_scalar::<f64>() / (i + 1) as f64;
                    let acc = sums.correct.clone().into_scalar::<f64>() / seen;
                    let left = (cfg.optim.epochs - epoch + 1) * steps_per_epoch - (i + 1);
                    let eta = super::resume::run_eta(
                        run_start.elapsed(),
                        (steps - start_steps) as usize,
                        left,
                    );
                    bar.set_message(format!(
                        "loss {loss:.3} acc {:.1}% | run eta {}",
                        acc * 100.0,
                        super::resume::clock(eta)
                    ));
                }
            }
            let done = i + 1;
            let due = mid_epoch
                && done < n_chunks
                && ((cfg.checkpoint.every_steps > 0 && done % cfg.checkpoint.every_steps == 0)
                    || (cfg.checkpoint.within_epoch_minutes > 0.0
                        && last_checkpoint.elapsed().as_secs_f64()
                            >= cfg.checkpoint.within_epoch_minutes * 60.0));
            if due {
                last_checkpoint = Instant::now();
                let (s, c) = sums.save();
                let w = WithinEpoch {
                    batches: done,
                    sums: s,
                    counts: c,
                    train_seconds: train_secs_before + train_t0.elapsed().as_secs_f64(),
                    epoch_seconds: epoch_secs_before + t0.elapsed().as_secs_f64(),
                };
                write_checkpoint(
                    cfg,
                    &model,
                    &optim,
                    &step,
                    CheckpointState::new(epoch - 1, rows.clone(), steps, BTreeMap::new()).with_run(
                        seconds_before + run_start.elapsed().as_secs_f64(),
                        config_text.clone(),
                    ),
                    Some(w),
                )?;
            }
            let batches_here = (steps - start_steps) as usize / replays;
            if opts.stop_after_batches.is_some_and(|k| batches_here >= k) && done < n_chunks {
                drop(rx);
                let _ = producer.join();
                return Ok(incomplete(&rows));
            }
        }
        drop(rx);
        producer
            .join()
            .map_err(|_| Error::Other("the data thread panicked".into()))?;
        let train_secs = train_secs_before + train_t0.elapsed().as_secs_f64();
        let train_loss = sums.ce.into_scalar::<f64>() / sums.runs.max(1) as f64;
        let train_acc = sums.correct.into_scalar::<f64>() / (n_train * replays).max(1) as f64;
        if cfg.adversarial.method != super::transform::Method::None {
            let mean = |k: usize| {
                (sums.adv_steps[k] > 0)
                    .then(|| sums.adv[k].clone().into_scalar::<f64>() / sums.adv_steps[k] as f64)
            };
            adversarial_row(out, epoch, train_loss, mean(0), mean(1))?;
        }
        let teacher_on = sums.teacher_steps > 0;
        let (teacher_loss, lambda) = if sums.teacher_steps > 0 {
            let k = sums.teacher_steps as f64;
            (
                sums.teacher_term.into_scalar::<f64>() / k,
                sums.lambda.into_scalar::<f64>() / k,
            )
        } else {
            (0.0, 0.0)
        };
        if !(train_loss.is_finite() && teacher_loss.is_finite() && lambda.is_finite()) {
            return Err(Error::Other(format!(
                "diverged: the mean training loss of epoch {epoch} (steps {}..{steps}) is \
                 {train_loss} (teacher term {teacher_loss}); the last good checkpoint {} is \
                 kept; try a smaller optim.lr",
                steps - steps_per_epoch as u64 + 1,
                match checkpoint::list(out).iter().map(|(e, _)| *e).max() {
                    Some(e) => format!("(epoch {e}) in {}", out.join("checkpoints").display()),
                    None => "(none: the first epoch diverged)".into(),
                }
            )));
        }
        if let Some(bar) = &bar {
            bar.set_message("evaluating");
        }
        let ev: Evaluation = eval::evaluate(
            &model.valid(),
            &*res.test,
            n_test,
            &eval_batcher,
            &base_device,
        );
        if let Some(bar) = bar {
            bar.finish_with_message(format!(
                "loss {train_loss:.3} acc {:.1}% | test {:.1}%",
                train_acc * 100.0,
                ev.acc * 100.0
            ));
        }
        rows.push(EpochMetrics {
            epoch,
            train_loss,
            train_acc,
            test_loss: ev.loss,
            test_acc: ev.acc,
            test_coarse_acc: ev.coarse_acc,
            superclass_error_frac: ev.superclass_error_frac,
            teacher_loss,
            lambda,
            seconds: epoch_secs_before + t0.elapsed().as_secs_f64(),
            images_per_sec: n_train as f64 / train_secs,
        });
        metrics::write_csv(&out.join("metrics.csv"), &rows)?;
        if opts.log_lines {
            let done_here = epoch + 1 - start_epoch;
            let elapsed = run_start.elapsed();
            let eta = super::resume::run_eta(elapsed, done_here, cfg.optim.epochs - epoch);
            let line = super::resume::epoch_line(
                rows.last().expect("pushed"),
                cfg.optim.epochs,
                teacher_on,
                elapsed,
                eta,
            );
            eprintln!("{line}");
        }
        // checkpoint.every_minutes: skip epoch-end checkpoints until the interval has passed;
        // the last epoch of this invocation is always saved.
        let every = cfg.checkpoint.every_minutes;
        let last_here = epoch == cfg.optim.epochs
            || opts
                .stop_after
                .is_some_and(|k| epoch + 1 - start_epoch >= k);
        if every > 0.0 && !last_here && last_checkpoint.elapsed().as_secs_f64() < every * 60.0 {
            continue;
        }
        last_checkpoint = Instant::now();
        write_checkpoint(
            cfg,
            &model,
            &optim,
            &step,
            CheckpointState::new(epoch, rows.clone(), steps, BTreeMap::new()).with_run(
                seconds_before + run_start.elapsed().as_secs_f64(),
                config_text.clone(),
            ),
            None,
        )?;
    }

    if rows.len() < cfg.optim.epochs {
        // Stopped early on request: the run is resumable and not complete.
        return Ok(incomplete(&rows));
    }
    // With weight averaging, the average (its BatchNorm statistics recomputed) is the result.
    let averaged = match step.hooks.iter().find(|h| h.network().is_some()) {
        Some(h) => Some(finish_average(
            cfg,
            h.network().expect("found").clone(),
            h.state(),
            &model,
            res,
            n_train,
            &batcher,
            &eval_batcher,
            &pre,
            &device,
            &base_device,
            &rows,
        )?),
        None => None,
    };
    let (final_model, averaged_acc) = match averaged {
        Some((m, acc)) => (m, Some(acc)),
        None => (model.valid(), None),
    };
    finish(
        cfg,
        &device_name,
        &final_model,
        res,
        &rows,
        &pre,
        &eval_batcher,
        &base_device,
        seconds_before + run_start.elapsed().as_secs_f64(),
        averaged_acc,
    )
}

/// Writes the checkpoint `state` (its objectives' and hooks' states and networks added from
/// `step`; `within` for a mid-epoch one).
fn write_checkpoint(
    cfg: &TrainConfig,
    model: &Network,
    optim: &burn::optim::ModuleOptimizer,
    step: &Step,
    mut state: CheckpointState,
    within: Option<WithinEpoch>,
) -> Result<()> {
    state.objectives = step
        .objectives
        .iter()
        .filter_map(|o| o.state().map(|s| (o.name().to_string(), s)))
        .collect();
    state.hooks = step
        .hooks
        .iter()
        .filter_map(|h| h.state().map(|s| (h.name().to_string(), s)))
        .collect();
    state.within = within;
    let extra: Vec<(&str, &Network)> = step
        .hooks
        .iter()
        .filter_map(|h| h.network().map(|n| (h.name(), n)))
        .collect();
    checkpoint::save(
        &cfg.out_dir,
        model,
        optim,
        &extra,
        &state,
        cfg.checkpoint.keep,
    )
}

/// The end of a run with weight averaging: the average's BatchNorm statistics recomputed on
/// the first `averaging.bn_images` training images (training preprocessing, no augmentation),
/// its test accuracy, the last weights kept as `weights_last.safetensors` and both accuracies
/// in `averaging.json`. Returns the average (evaluation mode) and its test accuracy.
#[allow(clippy::too_many_arguments)]
fn finish_average(
    cfg: &TrainConfig,
    avg: Network,
    state: Option<serde_json::Value>,
    last: &Network,
    res: &Resources,
    n_train: usize,
    batcher: &Batcher,
    eval_batcher: &Batcher,
    pre: &Preprocess,
    device: &Device,
    base_device: &Device,
    rows: &[EpochMetrics],
) -> Result<(Network, f64)> {
    let out = cfg.out_dir.as_path();
    let recompute = avg.spec().batch_stats;
    let n_bn = limit(cfg.averaging.bn_images, n_train);
    let avg = if recompute {
        device.seed(derive_seed(cfg.seed, &[stream::AVERAGING]));
        let idx: Vec<usize> = (0..n_bn).collect();
        super::bn_stats::recompute(
            avg,
            &*res.train,
            &idx,
            cfg.optim.batch_size,
            batcher,
            device,
        )
    } else {
        avg
    };
    let n_test = limit(cfg.data.test_limit, res.test.len());
    let ev = eval::evaluate(&avg, &*res.test, n_test, eval_batcher, base_device);
    super::export::save_safetensors(
        &last.valid(),
        &out.join("weights_last.safetensors"),
        &super::export::metadata(cfg, pre, &res.source),
    )?;
    let record = serde_json::json!({
        "kind": cfg.averaging.kind,
        "averaged": state.as_ref().and_then(|s| s.get("count")).cloned(),
        "batch_norm_recomputed": recompute,
        "batch_norm_images": if recompute { n_bn } else { 0 },
        "test_acc_last": rows.last().map(|r| r.test_acc),
        "test_acc_averaged": ev.acc,
        "test_loss_averaged": ev.loss,
        "test_images": n_test,
    });
    write_atomic(
        &out.join("averaging.json"),
        serde_json::to_string_pretty(&record)
            .expect("json")
            .as_bytes(),
    )?;
    Ok((avg, ev.acc))
}

/// What evaluating a trained run needs: its test set, the preprocessing it was trained with
/// and the evaluation batcher, and how many test images (`data.test_limit`) it uses.
pub struct EvalSet {
    /// The training images (for recomputing BatchNorm statistics).
    pub train: Arc<dyn Dataset>,
    /// Training images the run used (`data.train_limit`).
    pub n_train: usize,
    /// The test images (CIFAR-100's test split or the image folder's `val/`).
    pub test: Arc<dyn Dataset>,
    /// The run's preprocessing.
    pub pre: Preprocess,
    /// The evaluation batcher.
    pub batcher: Batcher,
    /// Test images used.
    pub n: usize,
}

/// The [`EvalSet`] of the run configured by `cfg`, its data read from `data_dir` when given
/// (else the run's `data.dir`). No teacher data is loaded.
pub fn eval_set(cfg: &TrainConfig, data_dir: Option<&Path>) -> Result<EvalSet> {
    let mut c = cfg.clone();
    if let Some(d) = data_dir {
        c.data.dir = d.to_path_buf();
    }
    c.teacher.ratio = 0.0;
    c.teacher.static_lambda = 0.0;
    c.data.label_corruption = 0.0;
    let res = load_resources(&c)?;
    let pre = run_preprocess(cfg, &*res.train);
    let batcher = eval_batcher(cfg, &pre);
    let n = limit(cfg.data.test_limit, res.test.len());
    Ok(EvalSet {
        n_train: limit(cfg.data.train_limit, res.train.len()),
        train: res.train,
        test: res.test,
        pre,
        batcher,
        n,
    })
}

fn limit(k: usize, len: usize) -> usize {
    if k > 0 { k.min(len) } else { len }
}

/// The batcher for evaluation images: the training preprocessing, or none at all when
/// `data.center_eval = false` (the paper's literal "test images were not preprocessed").
pub fn eval_batcher(cfg: &TrainConfig, pre: &Preprocess) -> Batcher {
    let b = if cfg.data.center_eval {
        Batcher::new(*pre)
    } else {
        Batcher::new(Preprocess::identity(pre.input_size))
    };
    let size = match cfg.data.test_input_size {
        0 => cfg.data.input_size,
        s => s,
    };
    if size == cfg.data.input_size && cfg.data.test_crop >= 1.0 {
        b
    } else {
        b.at_size(size, cfg.data.test_crop)
    }
}

/// The preprocessing a run used, recomputed from its configuration and data.
pub fn run_preprocess(cfg: &TrainConfig, train: &dyn Dataset) -> Preprocess {
    let n = limit(cfg.data.train_limit, train.len());
    Preprocess::resolve(
        cfg.model.arch.spec().normalization,
        train,
        n,
        cfg.data.input_size,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    cfg: &TrainConfig,
    device_name: &str,
    model: &Network,
    res: &Resources,
    rows: &[EpochMetrics],
    pre: &Preprocess,
    eval_batcher: &Batcher,
    device: &Device,
    seconds: f64,
    averaged: Option<f64>,
) -> Result<Summary> {
    let out = cfg.out_dir.as_path();
    super::export::save_safetensors(
        model,
        &out.join("weights.safetensors"),
        &super::export::metadata(cfg, pre, &res.source),
    )?;
    let n_test = limit(cfg.data.test_limit, res.test.len());
    let tap = teacher_tap(cfg);
    let variance = eval::activation_variance(model, &*res.test, n_test, eval_batcher, tap, device);
    write_atomic(
        &out.join("analysis").join("activation_variance.json"),
        serde_json::to_string_pretty(&serde_json::json!({ "layer": tap.name(), "mean_unit_variance": variance, "images": n_test }))
            .expect("json")
            .as_bytes(),
    )?;
    let n_tsne = n_test.min(TSNE_IMAGES);
    let tsne_path = out.join("analysis").join("tsne.csv");
    if n_tsne >= TSNE_MIN_IMAGES {
        tsne_of_tap(
            model,
            &*res.test,
            n_tsne,
            eval_batcher,
            tap,
            device,
            cfg.seed,
            &tsne_path,
        )?;
    } else {
        // A resumed or extended run must not keep an embedding of other weights.
        let _ = std::fs::remove_file(&tsne_path);
        eprintln!(
            "note: t-SNE skipped: {n_tsne} test images, it needs at least {TSNE_MIN_IMAGES} \
             (PCA to 50 dimensions, perplexity 30)"
        );
    }
    let mut files: Vec<String> = vec![
        "config.toml".into(),
        "metrics.csv".into(),
        "weights.safetensors".into(),
        "analysis/activation_variance.json".into(),
    ];
    if n_tsne >= TSNE_MIN_IMAGES {
        files.push("analysis/tsne.csv".into());
    }
    files.push("checkpoints/".into());
    files.push("summary.json".into());
    if averaged.is_some() {
        files.push("weights_last.safetensors".into());
        files.push("averaging.json".into());
    }
    let mut s = summary(device_name, rows, seconds, Some(variance), files);
    s.averaged_test_acc = averaged;
    write_atomic(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&s).expect("json").as_bytes(),
    )?;
    Ok(s)
}

/// Test images embedded by t-SNE (the paper's Fig. 3 uses 1,280).
pub const TSNE_IMAGES: usize = 1280;
/// Fewest test images t-SNE runs on (its PCA keeps 50 dimensions; perplexity 30 needs more
/// than 31 points); a run with fewer skips it and says so.
pub const TSNE_MIN_IMAGES: usize = 50;

/// t-SNE (brainlike-stats, exact, perplexity 30) of the tapped layer's activations for the
/// first `n` test images, written as `x,y,label,coarse_label`.
#[allow(clippy::too_many_arguments)]
fn tsne_of_tap(
    model: &Network,
    data: &dyn Dataset,
    n: usize,
    batcher: &Batcher,
    tap: Tap,
    device: &Device,
    seed: u64,
    path: &Path,
) -> Result<()> {
    let idx: Vec<usize> = (0..n).collect();
    let mut rows: Vec<f64> = Vec::new();
    let mut dim = 0;
    for chunk in idx.chunks(super::eval::EVAL_BATCH) {
        let (x, _) = batcher.batch(data, chunk, device);
        let a = model.activations(x, tap).flatten::<2>(1, 3);
        dim = a.dims()[1];
        rows.extend(
            a.into_data()
                .convert::<f64>()
                .try_into_vec::<f64>()
                .map_err(|e| Error::Other(format!("{e:?}")))?,
        );
    }
    let m = brainlike_stats::Matrix::new(n, dim, rows).map_err(|e| Error::Other(e.to_string()))?;
    let opts = brainlike_stats::tsne::TsneOptions {
        seed,
        ..Default::default()
    };
    let r =
        brainlike_stats::tsne::tsne(&m, &opts).map_err(|e| Error::Other(format!("t-SNE: {e}")))?;
    let mut text = String::from("x,y,label,coarse_label\n");
    for i in 0..n {
        text.push_str(&format!(
            "{},{},{},{}\n",
            r.embedding.get(i, 0),
            r.embedding.get(i, 1),
            data.label(i),
            data.superclass(i)
                .map(|c| c.to_string())
                .unwrap_or_default()
        ));
    }
    write_atomic(path, text.as_bytes())
}

fn summary(
    device: &str,
    rows: &[EpochMetrics],
    seconds: f64,
    variance: Option<f64>,
    files: Vec<String>,
) -> Summary {
    let last = rows.last();
    Summary {
        device: device.to_string(),
        epochs: rows.len(),
        final_test_acc: last.map(|r| r.test_acc).unwrap_or(0.0),
        best_test_acc: rows.iter().map(|r| r.test_acc).fold(0.0, f64::max),
        final_test_coarse_acc: last.map(|r| r.test_coarse_acc).unwrap_or(0.0),
        final_superclass_error_frac: last.map(|r| r.superclass_error_frac).unwrap_or(0.0),
        final_generalization_gap: last.map(|r| r.test_loss - r.train_loss).unwrap_or(0.0),
        seconds,
        images_per_sec: if rows.is_empty() {
            0.0
        } else {
            rows.iter().map(|r| r.images_per_sec).sum::<f64>() / rows.len() as f64
        },
        tap_activation_variance: variance,
        files,
        averaged_test_acc: None,
    }
}

/// Creates the run directory and writes `config.toml` (returning its text); refuses to
/// overwrite a run unless resuming one with the same configuration. The configuration a
/// resumed run is checked against is the run's `config.toml` or, when that is gone, the one
/// recorded in its newest intact checkpoint.
fn prepare_run_dir(cfg: &TrainConfig, device_name: &str, resume: bool) -> Result<String> {
    let out = cfg.out_dir.as_path();
    let config_path = out.join("config.toml");
    let mut resolved = cfg.clone();
    resolved.device = device_name.to_string();
    let text = resolved.to_toml();
    let has_checkpoint = checkpoint::any(out);
    let old = if config_path.is_file() {
        let old = std::fs::read_to_string(&config_path).map_err(|e| Error::io(&config_path, e))?;
        let started = has_checkpoint
            || out.join("metrics.csv").is_file()
            || out.join("summary.json").is_file();
        if !resume && !started {
            // A run that failed before its first checkpoint (bad weights file, bad freeze
            // prefix, a kill in epoch 1): nothing to lose, so a new start replaces it.
            eprintln!(
                "note: {} holds a run that stopped before its first checkpoint; starting it again",
                out.display()
            );
            None
        } else if !resume {
            return Err(Error::Config {
                origin: out.display().to_string(),
                msg: format!(
                    "a run already exists here; continue it with `brainlike train --resume {}`, \
                     or choose another out_dir",
                    out.display()
                ),
            });
        } else {
            Some((old, config_path.display().to_string()))
        }
    } else if resume && has_checkpoint {
        let v = checkpoint::latest_intact(out)?.expect("a checkpoint is listed");
        match v.state.config {
            Some(c) => Some((
                c,
                format!(
                    "{} (config.toml is missing: the configuration recorded in the checkpoint)",
                    v.dir.join("state.json").display()
                ),
            )),
            None => {
                return Err(Error::Config {
                    origin: out.display().to_string(),
                    msg: format!(
                        "config.toml is missing and the checkpoint {} predates recorded \
                         configurations: restore config.toml to resume",
                        v.dir.display()
                    ),
                });
            }
        }
    } else {
        None
    };
    if let Some((old, origin)) = old {
        let old: TrainConfig = toml::from_str(&old).map_err(|e| Error::Config {
            origin: origin.clone(),
            msg: format!("the recorded configuration cannot be read: {e}"),
        })?;
        let done = checkpoint::list(out)
            .iter()
            .map(|(e, _)| *e)
            .max()
            .unwrap_or(0);
        let complete = out.join("summary.json").is_file();
        super::resume::check_resume(&old, &resolved, done, complete, out).map_err(|e| match e {
            Error::Config { origin: o, msg } => Error::Config {
                origin: o,
                msg: format!("{msg} [the run's configuration: {origin}]"),
            },
            e => e,
        })?;
        if complete {
            // Extending a finished run: it is incomplete again until the new last epoch.
            let summary = out.join("summary.json");
            std::fs::remove_file(&summary).map_err(|e| Error::io(&summary, e))?;
        }
    }
    write_atomic(&config_path, text.as_bytes())?;
    Ok(text)
}

fn progress_bar(
    show: bool,
    len: u64,
    epoch: usize,
    epochs: usize,
) -> Option<indicatif::ProgressBar> {
    if !show {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "epoch {epoch:>3}/{epochs} {{bar:30}} {{pos}}/{{len}} {{per_sec}} eta {{eta}} {{msg}}"
        ))
        .expect("valid template"),
    );
    Some(bar)
}

/// Loads everything a configuration needs.
pub fn load_resources(cfg: &TrainConfig) -> Result<Resources> {
    if cfg.data.format == crate::config::DataFormat::ImageFolder {
        return load_image_folders(cfg);
    }
    let dir = crate::data::cifar100::resolve_data_dir(&cfg.data.dir);
    let cifar = Arc::new(crate::data::fetch::load_or_fetch(&dir, cfg.data.offline)?);
    load_resources_with(cfg, cifar)
}

/// The teacher's stimuli (decoded at the input size, or `stimuli` when given) and its
/// training pairs (those within the teacher part of the stimulus split); `None` without a
/// teacher.
#[allow(clippy::type_complexity)]
fn teacher_resources(
    cfg: &TrainConfig,
    stimuli: Option<Arc<Stimuli>>,
) -> Result<(Option<Arc<Stimuli>>, Option<Arc<PairSet>>)> {
    Ok(if cfg.teacher.enabled() {
        let src = crate::data::PackSource::from_dir(&cfg.teacher.pack_dir);
        let stimuli = match stimuli {
            Some(s) => s,
            None => Arc::new(Stimuli::load(&src, cfg.data.input_size)?),
        };
        let pairs = crate::data::teacher::load_pairs(&src, &cfg.teacher.pairs, stimuli.count)?;
        let (fraction, seed) = (cfg.teacher.holdout_fraction, cfg.teacher.split_seed);
        let split = crate::data::teacher::StimulusSplit::new(stimuli.count, fraction, seed);
        let pairs = pairs.within(&split.teacher)?;
        (Some(stimuli), Some(Arc::new(pairs)))
    } else {
        (None, None)
    })
}

/// `data.dir/train` and `data.dir/val` as image folders, with the teacher data of `cfg`.
fn load_image_folders(cfg: &TrainConfig) -> Result<Resources> {
    use crate::data::image_folder::ImageFolder;
    let bad = |msg: String| Error::Config {
        origin: "data".into(),
        msg,
    };
    if cfg.data.dir.as_os_str().is_empty() {
        return Err(bad(
            "data.format = \"image_folder\" needs data.dir (a folder with train/ and val/)".into(),
        ));
    }
    if cfg.data.label_corruption > 0.0 {
        return Err(bad(
            "data.label_corruption is implemented for CIFAR-100 only".into(),
        ));
    }
    let size = cfg.data.input_size;
    let skip = cfg.data.skip_bad_images;
    let train = ImageFolder::open(&cfg.data.dir.join("train"), size, skip)?;
    let test = ImageFolder::open(&cfg.data.dir.join("val"), size, skip)?;
    if train.classes() != test.classes() {
        return Err(bad(format!(
            "{}: train/ has {} classes and val/ {}; they must name the same classes",
            cfg.data.dir.display(),
            train.classes().len(),
            test.classes().len()
        )));
    }
    for (part, f) in [("train", &train), ("val", &test)] {
        if !f.skipped.is_empty() {
            eprintln!(
                "warning: {part}: left out {} unreadable images (first: {}: {})",
                f.skipped.len(),
                f.skipped[0].0.display(),
                f.skipped[0].1
            );
        }
    }
    let (stimuli, pairs) = teacher_resources(cfg, None)?;
    Ok(Resources {
        train: Arc::new(train),
        test: Arc::new(test),
        source: cfg.data.dir.display().to_string(),
        stimuli,
        pairs,
    })
}

/// Loads the teacher data for `cfg`, reusing an already decoded CIFAR-100.
pub fn load_resources_with(cfg: &TrainConfig, cifar: Arc<Cifar100>) -> Result<Resources> {
    load_resources_shared(cfg, cifar, None)
}

/// Like [`load_resources_with`], reusing teacher stimuli already decoded for this pack and
/// input size (sweeps decode them once per process).
pub fn load_resources_shared(
    cfg: &TrainConfig,
    cifar: Arc<Cifar100>,
    stimuli: Option<Arc<Stimuli>>,
) -> Result<Resources> {
    let (stimuli, pairs) = teacher_resources(cfg, stimuli)?;
    let mut train = Cifar100Split::new(cifar.clone(), Part::Train);
    if cfg.data.label_corruption > 0.0 {
        let seed = derive_seed(cfg.seed, &[stream::LABELS]);
        let c = brainlike_stats::label_noise::corrupt_labels(
            &cifar.train.fine,
            NUM_FINE,
            cfg.data.label_corruption,
            seed,
        )
        .map_err(|e| Error::Config {
            origin: "data.label_corruption".into(),
            msg: e.to_string(),
        })?;
        train = train.with_labels(Arc::new(c.labels));
    }
    Ok(Resources {
        train: Arc::new(train),
        test: Arc::new(Cifar100Split::new(cifar.clone(), Part::Test)),
        source: cifar.source.display().to_string(),
        stimuli,
        pairs,
    })
}

/// Whether `dir` holds a finished run.
pub fn is_complete(dir: &Path) -> bool {
    dir.join("summary.json").is_file()
}
