//! The training loop of Federer et al. (2019) §2.3–2.4: SGD on CIFAR-100 with the composite
//! loss, the teacher on for the first N epochs, evaluation after every epoch, a checkpoint per
//! epoch, resumable bit-for-bit on the same device.
//!
//! Reproducibility: every random stream is derived from the one seed and the epoch number
//! (data order, teacher-pair sampling, and the backend RNG that drives dropout is re-seeded at
//! the start of every epoch), so a run resumed from the checkpoint after epoch e continues
//! exactly as the uninterrupted run would have.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::checkpoint::{self, CheckpointState};
use super::eval::{self, Evaluation};
use super::loss;
use super::metrics::{self, EpochMetrics, Summary};
use crate::config::{LambdaMode, Tap, TeacherConfig, TrainConfig};
use crate::data::batch::Batcher;
use crate::data::cifar100::{Cifar100, NUM_FINE};
use crate::data::{PairSet, Stimuli};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::models::Network;

/// Data a run needs, decoded once and shareable between runs of a sweep.
#[derive(Clone)]
pub struct Resources {
    /// CIFAR-100.
    pub cifar: Arc<Cifar100>,
    /// Teacher stimuli at the run's input size (None when the teacher is off).
    pub stimuli: Option<Arc<Stimuli>>,
    /// Teacher pairs (None when the teacher is off).
    pub pairs: Option<Arc<PairSet>>,
    /// Training labels after label corruption (None = the data set's own).
    pub train_labels: Option<Arc<Vec<u8>>>,
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
mod stream {
    pub const INIT: u64 = 1;
    pub const ORDER: u64 = 2;
    pub const PAIRS: u64 = 3;
    pub const DROPOUT: u64 = 4;
}

/// Teacher stimuli on the device and the pair set.
pub struct TeacherData {
    /// `[stimuli, 3, s, s]`.
    pub stimuli: Tensor<4>,
    /// Pairs.
    pub pairs: Arc<PairSet>,
}

/// One step's teacher input: the unique stimuli of the sampled pairs, the pairs as positions
/// in that list, and the teacher distances.
pub struct TeacherBatch {
    /// `[unique, 3, s, s]`.
    pub stimuli: Tensor<4>,
    /// Positions of each pair's first stimulus.
    pub a: Tensor<1, Int>,
    /// Positions of each pair's second stimulus.
    pub b: Tensor<1, Int>,
    /// Teacher cosine distances, `[pairs]`.
    pub distance: Tensor<1>,
}

impl TeacherData {
    /// Uploads the stimuli to `device`.
    pub fn new(stimuli: &Stimuli, pairs: Arc<PairSet>, device: &Device) -> Self {
        let t = Tensor::<4>::from_data(
            TensorData::new(
                stimuli.pixels.clone(),
                [stimuli.count, 3, stimuli.size, stimuli.size],
            ),
            device,
        );
        Self { stimuli: t, pairs }
    }

    /// Samples `k` distinct pairs (uniformly, without replacement within the step).
    pub fn sample(&self, k: usize, rng: &mut ChaCha8Rng, device: &Device) -> TeacherBatch {
        let pairs = &self.pairs.pairs;
        let k = k.min(pairs.len());
        let chosen = rand::seq::index::sample(rng, pairs.len(), k);
        let mut unique: Vec<i64> = Vec::with_capacity(2 * k);
        let pos = |s: u32, unique: &mut Vec<i64>| -> i64 {
            match unique.iter().position(|&u| u == s as i64) {
                Some(p) => p as i64,
                None => {
                    unique.push(s as i64);
                    unique.len() as i64 - 1
                }
            }
        };
        let (mut a, mut b, mut d) = (
            Vec::with_capacity(k),
            Vec::with_capacity(k),
            Vec::with_capacity(k),
        );
        for i in chosen.iter() {
            let p = pairs[i];
            a.push(pos(p.a, &mut unique));
            b.push(pos(p.b, &mut unique));
            d.push(p.distance);
        }
        let n = d.len();
        TeacherBatch {
            stimuli: self.stimuli.clone().select(0, ints(unique, device)),
            a: ints(a, device),
            b: ints(b, device),
            distance: Tensor::from_data(TensorData::new(d, [n]), device),
        }
    }
}

/// Device-side figures of one step (no host synchronisation).
pub struct StepStats {
    /// Cross-entropy, `[1]`.
    pub ce: Tensor<1>,
    /// Correct predictions, `[1]`.
    pub correct: Tensor<1>,
    /// Teacher term, when on.
    pub teacher_term: Option<Tensor<1>>,
    /// λ, when the teacher is on.
    pub lambda: Option<Tensor<1>>,
}

/// One SGD step on the composite loss. With a teacher batch, its stimuli share the forward
/// pass with the batch up to the tapped layer. `fixed_lambda` holds the frozen λ of the
/// static mode once known.
#[allow(clippy::too_many_arguments)]
pub fn train_step(
    model: Network,
    optim: &mut ModuleOptimizer,
    x: Tensor<4>,
    y: Tensor<1, Int>,
    teacher: Option<&TeacherBatch>,
    cfg: &TeacherConfig,
    fixed_lambda: &mut Option<f64>,
    lr: f64,
) -> (Network, StepStats) {
    let n = x.dims()[0];
    let (logits, total, ce, term, lam) = match teacher {
        Some(tb) => {
            let out = model.forward_with_tap(x, Some(tb.stimuli.clone()), cfg.layer);
            let ce = loss::cross_entropy(out.logits.clone(), y.clone());
            let acts = out.tap.expect("tap requested");
            let dm = loss::pair_cosine_distances(acts, tb.a.clone(), tb.b.clone());
            let term = loss::teacher_term(dm, tb.distance.clone(), cfg.penalty);
            let lam = match (cfg.lambda_mode, *fixed_lambda) {
                (LambdaMode::Static, Some(v)) => ce.clone().detach().zeros_like() + v,
                (LambdaMode::Static, None) if cfg.static_lambda > 0.0 => {
                    *fixed_lambda = Some(cfg.static_lambda);
                    ce.clone().detach().zeros_like() + cfg.static_lambda
                }
                (LambdaMode::Static, None) => {
                    // "init r": λ fixed at the first step's r·CE/T (appendix A.1).
                    let l = loss::lambda(cfg, &ce, &term);
                    *fixed_lambda = Some(l.clone().into_scalar::<f64>());
                    l
                }
                (LambdaMode::Ratio, _) => loss::lambda(cfg, &ce, &term),
            };
            let total = ce.clone() + lam.clone() * term.clone();
            (out.logits, total, ce, Some(term), Some(lam))
        }
        None => {
            let logits = model.forward(x);
            let ce = loss::cross_entropy(logits.clone(), y.clone());
            (logits, ce.clone(), ce, None, None)
        }
    };
    let pred = logits.detach().inner().argmax(1).reshape([n]);
    let correct = pred.equal(y.inner()).int().sum().float();
    let grads = GradientsParams::from_grads(total.backward(), &model);
    let model = optim.step(lr, model, grads);
    let stats = StepStats {
        ce: ce.detach().inner(),
        correct,
        teacher_term: term.map(|t| t.detach().inner()),
        lambda: lam.map(|l| l.detach().inner()),
    };
    (model, stats)
}

fn ints(v: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

/// Trains one run as configured; writes the run directory and returns its summary.
pub fn train(cfg: &TrainConfig, res: &Resources, opts: &TrainOptions) -> Result<Summary> {
    let (device_name, base_device) = crate::device::resolve(&cfg.device)?;
    let device = base_device.clone().autodiff();
    let out = cfg.out_dir.as_path();
    prepare_run_dir(cfg, &device_name, opts.resume)?;

    let cifar = &res.cifar;
    let train_split = &cifar.train;
    let train_labels: &[u8] = res
        .train_labels
        .as_deref()
        .map(|v| v.as_slice())
        .unwrap_or(&train_split.fine);
    let n_train = if cfg.data.train_limit > 0 {
        cfg.data.train_limit.min(train_split.len())
    } else {
        train_split.len()
    };
    let n_test = if cfg.data.test_limit > 0 {
        cfg.data.test_limit.min(cifar.test.len())
    } else {
        cifar.test.len()
    };
    let mean = train_split.global_mean_first(n_train) as f32;
    let batcher = Batcher {
        center: mean,
        input_size: cfg.data.input_size,
    };
    let eval_batcher = Batcher {
        center: if cfg.data.center_eval { mean } else { 0.0 },
        input_size: cfg.data.input_size,
    };

    // Initialisation from the seed.
    device.seed(derive_seed(cfg.seed, &[stream::INIT]));
    let im2col = im2col_threshold(&device_name);
    let mut model = Network::new(&cfg.model, cfg.data.input_size, NUM_FINE, im2col, &device);
    let mut sgd = SgdConfig::new();
    if cfg.optim.momentum > 0.0 {
        sgd = sgd.with_momentum(Some(
            MomentumConfig::new().with_momentum(cfg.optim.momentum),
        ));
    }
    if cfg.optim.weight_decay > 0.0 {
        sgd = sgd.with_weight_decay(Some(WeightDecayConfig::new(cfg.optim.weight_decay as f32)));
    }
    let mut optim: ModuleOptimizer = sgd.init();

    let mut rows: Vec<EpochMetrics> = Vec::new();
    let mut start_epoch = 1;
    let mut steps: u64 = 0;
    let mut fixed_lambda: Option<f64> = None;
    if opts.resume && !checkpoint::list(out).is_empty() {
        let (m, o, state) = checkpoint::load_latest(out, model, optim, &device)?
            .expect("a complete checkpoint is listed");
        model = m;
        optim = o;
        rows = state.rows;
        steps = state.steps;
        fixed_lambda = state.fixed_lambda;
        start_epoch = state.epoch + 1;
    }

    let teacher = match (&res.stimuli, &res.pairs) {
        (Some(s), Some(p)) if cfg.teacher.enabled() => {
            Some(TeacherData::new(s, p.clone(), &device))
        }
        _ if cfg.teacher.enabled() => {
            return Err(Error::Other(
                "teacher enabled but no teacher data loaded".into(),
            ));
        }
        _ => None,
    };

    let batch_size = cfg.optim.batch_size;
    let steps_per_epoch = n_train.div_ceil(batch_size);
    let run_start = Instant::now();
    for epoch in start_epoch..=cfg.optim.epochs {
        if opts.stop_after.is_some_and(|k| epoch - start_epoch >= k) {
            break;
        }
        let t0 = Instant::now();
        device.seed(derive_seed(cfg.seed, &[stream::DROPOUT, epoch as u64]));
        let mut order: Vec<usize> = (0..n_train).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(derive_seed(
            cfg.seed,
            &[stream::ORDER, epoch as u64],
        )));
        let mut pair_rng =
            ChaCha8Rng::seed_from_u64(derive_seed(cfg.seed, &[stream::PAIRS, epoch as u64]));
        let teacher_on = teacher.is_some() && cfg.teacher.epochs.active(epoch);

        let bar = progress_bar(
            opts.progress,
            steps_per_epoch as u64,
            epoch,
            cfg.optim.epochs,
        );
        // Device-side accumulators: no host synchronisation per step.
        let zeros = || Tensor::<1>::zeros([1], &base_device);
        let (mut ce_sum, mut correct_sum, mut t_sum, mut lam_sum) =
            (zeros(), zeros(), zeros(), zeros());
        let mut teacher_steps = 0usize;
        let train_t0 = Instant::now();
        for (i, chunk) in order.chunks(batch_size).enumerate() {
            let (x, y) = batcher.batch(train_split, chunk, train_labels, &device);
            let composite = teacher_on && (!cfg.teacher.alternate_steps || steps % 2 == 1);
            let teacher_batch = match (&teacher, composite) {
                (Some(t), true) => {
                    Some(t.sample(cfg.teacher.pairs_per_step, &mut pair_rng, &device))
                }
                _ => None,
            };
            let (m, stats) = train_step(
                model,
                &mut optim,
                x,
                y,
                teacher_batch.as_ref(),
                &cfg.teacher,
                &mut fixed_lambda,
                cfg.optim.lr,
            );
            model = m;
            ce_sum = ce_sum + stats.ce;
            correct_sum = correct_sum + stats.correct;
            if let (Some(t), Some(l)) = (stats.teacher_term, stats.lambda) {
                t_sum = t_sum + t;
                lam_sum = lam_sum + l;
                teacher_steps += 1;
            }
            steps += 1;
            if let Some(bar) = &bar {
                bar.inc(1);
                if i % 20 == 19 || i + 1 == steps_per_epoch {
                    let seen = ((i + 1) * batch_size).min(n_train) as f64;
                    let loss = ce_sum.clone().into_scalar::<f64>() / (i + 1) as f64;
                    let acc = correct_sum.clone().into_scalar::<f64>() / seen;
                    bar.set_message(format!("loss {loss:.3} acc {:.1}%", acc * 100.0));
                }
            }
        }
        let train_secs = train_t0.elapsed().as_secs_f64();
        let train_loss = ce_sum.into_scalar::<f64>() / steps_per_epoch.max(1) as f64;
        let train_acc = correct_sum.into_scalar::<f64>() / n_train.max(1) as f64;
        let (teacher_loss, lambda) = if teacher_steps > 0 {
            (
                t_sum.into_scalar::<f64>() / teacher_steps as f64,
                lam_sum.into_scalar::<f64>() / teacher_steps as f64,
            )
        } else {
            (0.0, 0.0)
        };
        if let Some(bar) = &bar {
            bar.set_message("evaluating");
        }
        let ev: Evaluation = eval::evaluate(
            &model.valid(),
            &cifar.test,
            n_test,
            &cifar.fine_to_coarse,
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
            seconds: t0.elapsed().as_secs_f64(),
            images_per_sec: n_train as f64 / train_secs,
        });
        metrics::write_csv(&out.join("metrics.csv"), &rows)?;
        checkpoint::save(
            out,
            &model,
            &optim,
            &CheckpointState {
                epoch,
                rows: rows.clone(),
                steps,
                fixed_lambda,
            },
            cfg.checkpoint.keep,
        )?;
    }

    if rows.len() < cfg.optim.epochs {
        // Stopped early on request: the run is resumable and not complete.
        return Ok(summary(
            &device_name,
            &rows,
            run_start.elapsed().as_secs_f64(),
            None,
            vec![],
        ));
    }
    finish(
        cfg,
        &device_name,
        &model.valid(),
        res,
        &rows,
        &eval_batcher,
        &base_device,
        run_start.elapsed().as_secs_f64(),
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    cfg: &TrainConfig,
    device_name: &str,
    model: &Network,
    res: &Resources,
    rows: &[EpochMetrics],
    eval_batcher: &Batcher,
    device: &Device,
    seconds: f64,
) -> Result<Summary> {
    let out = cfg.out_dir.as_path();
    super::export::save_safetensors(model, &out.join("weights.safetensors"))?;
    let n_test = if cfg.data.test_limit > 0 {
        cfg.data.test_limit.min(res.cifar.test.len())
    } else {
        res.cifar.test.len()
    };
    let variance = eval::activation_variance(
        model,
        &res.cifar.test,
        n_test,
        eval_batcher,
        tap_of(cfg),
        device,
    );
    write_atomic(
        &out.join("analysis").join("activation_variance.json"),
        serde_json::to_string_pretty(&serde_json::json!({ "layer": tap_of(cfg).name(), "mean_unit_variance": variance, "images": n_test }))
            .expect("json")
            .as_bytes(),
    )?;
    tsne_of_tap(
        model,
        &res.cifar.test,
        n_test.min(TSNE_IMAGES),
        eval_batcher,
        tap_of(cfg),
        device,
        cfg.seed,
        &out.join("analysis").join("tsne.csv"),
    )?;
    let files = vec![
        "config.toml".into(),
        "metrics.csv".into(),
        "weights.safetensors".into(),
        "analysis/activation_variance.json".into(),
        "analysis/tsne.csv".into(),
        "checkpoints/".into(),
        "summary.json".into(),
    ];
    let s = summary(device_name, rows, seconds, Some(variance), files);
    write_atomic(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&s).expect("json").as_bytes(),
    )?;
    Ok(s)
}

/// Test images embedded by t-SNE (the paper's Fig. 3 uses 1,280).
pub const TSNE_IMAGES: usize = 1280;

/// t-SNE (brainlike-stats, exact, perplexity 30) of the tapped layer's activations for the
/// first `n` test images, written as `x,y,label,coarse_label`.
#[allow(clippy::too_many_arguments)]
fn tsne_of_tap(
    model: &Network,
    split: &crate::data::Split,
    n: usize,
    batcher: &Batcher,
    tap: Tap,
    device: &Device,
    seed: u64,
    path: &Path,
) -> Result<()> {
    if n < 10 {
        return Ok(());
    }
    let idx: Vec<usize> = (0..n).collect();
    let mut rows: Vec<f64> = Vec::new();
    let mut dim = 0;
    for chunk in idx.chunks(super::eval::EVAL_BATCH) {
        let (x, _) = batcher.batch(split, chunk, &split.fine, device);
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
            split.fine[i],
            split.coarse[i]
        ));
    }
    write_atomic(path, text.as_bytes())
}

fn tap_of(cfg: &TrainConfig) -> Tap {
    cfg.teacher.layer
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
    }
}

/// Creates the run directory and writes `config.toml`; refuses to overwrite a run unless
/// resuming one with the same configuration.
fn prepare_run_dir(cfg: &TrainConfig, device_name: &str, resume: bool) -> Result<()> {
    let out = cfg.out_dir.as_path();
    let config_path = out.join("config.toml");
    let mut resolved = cfg.clone();
    resolved.device = device_name.to_string();
    let text = resolved.to_toml();
    if config_path.is_file() {
        let old = std::fs::read_to_string(&config_path).map_err(|e| Error::io(&config_path, e))?;
        if !resume {
            return Err(Error::Config {
                origin: out.display().to_string(),
                msg: "a run already exists here; pass --resume to continue it, or choose another out_dir".into(),
            });
        }
        let strip = |t: &str| -> Option<TrainConfig> {
            let mut c: TrainConfig = toml::from_str(t).ok()?;
            c.threads = 0;
            Some(c)
        };
        if strip(&old) != strip(&text) {
            return Err(Error::Config {
                origin: config_path.display().to_string(),
                msg: "--resume with a different configuration than the run's own; resume with the same settings (see this file)".into(),
            });
        }
        if out.join("summary.json").is_file() {
            return Err(Error::Config {
                origin: out.display().to_string(),
                msg: "this run is already complete".into(),
            });
        }
    }
    write_atomic(&config_path, text.as_bytes())?;
    Ok(())
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
    let dir = crate::data::cifar100::resolve_data_dir(&cfg.data.dir);
    let cifar = Arc::new(crate::data::fetch::load_or_fetch(&dir, cfg.data.offline)?);
    load_resources_with(cfg, cifar)
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
    let (stimuli, pairs) = if cfg.teacher.enabled() {
        let src = crate::data::PackSource::from_dir(&cfg.teacher.pack_dir);
        let stimuli = match stimuli {
            Some(s) => s,
            None => Arc::new(Stimuli::load(&src, cfg.data.input_size)?),
        };
        let pairs = crate::data::teacher::load_pairs(&src, &cfg.teacher.pairs, stimuli.count)?;
        (Some(stimuli), Some(Arc::new(pairs)))
    } else {
        (None, None)
    };
    let train_labels = if cfg.data.label_corruption > 0.0 {
        let seed = derive_seed(cfg.seed, &[5]);
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
        Some(Arc::new(c.labels))
    } else {
        None
    };
    Ok(Resources {
        cifar,
        stimuli,
        pairs,
        train_labels,
    })
}

/// Whether `dir` holds a finished run.
pub fn is_complete(dir: &Path) -> bool {
    dir.join("summary.json").is_file()
}
