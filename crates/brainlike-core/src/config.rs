//! Run configuration: typed serde structs with explicit defaults, read from TOML plus
//! `key=value` overrides, validated once, and written next to every result (`config.toml`).
//!
//! Defaults follow Federer et al. (2019), §2.3–2.4: SGD with a static learning rate of 0.01,
//! batch 128, 100 epochs, the V1 teacher on the V1 block for the first 10 epochs with a constant
//! ratio r = 0.1 between the teacher term and the cross-entropy.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use crate::models::{Arch, Tap};
use crate::train::optim::{OptimizerKind, ScheduleKind};

/// Everything that defines one training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// One seed controls data order, initialisation, dropout and teacher-pair sampling.
    pub seed: u64,
    /// Backend: `auto` (the fastest compiled in and present), `flex`, `tch`, `tch-cuda`.
    pub device: String,
    /// Run directory (config, metrics, checkpoints, weights, summary).
    pub out_dir: PathBuf,
    /// CPU threads for the backend; 0 = all cores.
    pub threads: usize,
    /// Data set and preprocessing.
    pub data: DataConfig,
    /// Architecture.
    pub model: ModelConfig,
    /// Optimiser and schedule.
    pub optim: OptimConfig,
    /// The classification loss.
    pub loss: LossConfig,
    /// The neural teacher (representational-similarity term).
    pub teacher: TeacherConfig,
    /// Checkpointing.
    pub checkpoint: CheckpointConfig,
    /// Per-sample augmentation (`[[augment.ops]]`, albumentations-style ops, each with its
    /// probability; none by default). See `brainlike_augment`.
    #[serde(default, skip_serializing_if = "augment_is_empty")]
    pub augment: brainlike_augment::AugmentConfig,
    /// Batch-level CutMix or Foreground-CutMix (`[mix] kind = "cutmix"`); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<brainlike_augment::MixConfig>,
    /// Adversarial training (`[adversarial] method = "pgd"`); clean by default.
    #[serde(default)]
    pub adversarial: crate::train::transform::AdversarialConfig,
    /// Weight averaging during training (SWA or EMA; `train::average`).
    #[serde(default)]
    pub averaging: AveragingConfig,
}

fn augment_is_empty(a: &brainlike_augment::AugmentConfig) -> bool {
    a.ops.is_empty() && a.random_resized_crop.is_none()
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            device: "auto".into(),
            out_dir: PathBuf::from("runs/cornet_z-v1-teacher"),
            threads: 0,
            data: DataConfig::default(),
            model: ModelConfig::default(),
            optim: OptimConfig::default(),
            loss: LossConfig::default(),
            teacher: TeacherConfig::default(),
            checkpoint: CheckpointConfig::default(),
            augment: brainlike_augment::AugmentConfig::default(),
            mix: None,
            adversarial: crate::train::transform::AdversarialConfig::default(),
            averaging: AveragingConfig::default(),
        }
    }
}

/// Which running average of the weights training keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AveragingKind {
    /// None.
    #[default]
    None,
    /// Stochastic weight averaging (Izmailov et al. 2018): the uniform mean of the weights at
    /// the end of every epoch from `start_epoch`, trained meanwhile at `swa_lr`.
    Swa,
    /// Exponential moving average after every step (timm's `ModelEmaV2`):
    /// `avg = decay·avg + (1 − decay)·weights`.
    Ema,
}

/// Weight averaging during training. The average is checkpointed with the run and resumed; at
/// the end its BatchNorm statistics are recomputed on training data (`train::bn_stats`), it is
/// evaluated, and it becomes the run's `weights.safetensors` (the last weights are kept as
/// `weights_last.safetensors`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AveragingConfig {
    /// `none`, `swa` or `ema`.
    pub kind: AveragingKind,
    /// SWA: the first epoch whose end enters the average (1-based).
    pub start_epoch: usize,
    /// SWA: the learning rate from `start_epoch` on (0 = keep the schedule's).
    pub swa_lr: f64,
    /// SWA: epochs of cosine annealing from the scheduled rate to `swa_lr` (0 = switch at once;
    /// PyTorch's `SWALR` default is 10).
    pub anneal_epochs: usize,
    /// EMA: the decay per step (timm's default 0.9998).
    pub ema_decay: f64,
    /// Training images for recomputing BatchNorm statistics at the end (0 = every training
    /// image the run uses); no effect on models without BatchNorm.
    pub bn_images: usize,
}

impl Default for AveragingConfig {
    fn default() -> Self {
        Self {
            kind: AveragingKind::None,
            start_epoch: 1,
            swa_lr: 0.0,
            anneal_epochs: 0,
            ema_decay: 0.9998,
            bn_images: 0,
        }
    }
}

/// CIFAR-100 location and preprocessing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// Folder holding `cifar-100-binary.tar.gz` or `cifar-100-binary/`; empty = `$BRAINLIKE_DATA`,
    /// else `./data`.
    pub dir: PathBuf,
    /// Never download: fail with the places looked at when the data is missing.
    pub offline: bool,
    /// Network input size (square): 32 (CIFAR's own) or 227 (the paper's AlexNet-style input).
    pub input_size: usize,
    /// Use only the first N training images (0 = all 50,000); for quick runs and tests.
    pub train_limit: usize,
    /// Use only the first N test images (0 = all 10,000).
    pub test_limit: usize,
    /// Centre evaluation images by the training mean too (true by default). The paper (§2.4)
    /// says "the held-out testing images were not preprocessed"; taken literally (false) the
    /// test images are shifted by the mean (~0.48) against what the network was trained on.
    /// Measured once (smoke settings, seed 0, r = 0, 8 epochs): centred test loss 4.46 and
    /// accuracy 2.9%, uncentred 5.51 and 1.1%. The literal reading stays available.
    pub center_eval: bool,
    /// Fraction of training labels corrupted (class counts kept), §3.5; 0 = none.
    pub label_corruption: f64,
    /// `cifar100` (the official binary archive in `dir`) or `image_folder` (`dir/train/<class>/`
    /// and `dir/val/<class>/` with JPEG/PNG images, torchvision's ImageFolder layout).
    pub format: DataFormat,
    /// Image folders: leave out (and count) files that cannot be read instead of stopping.
    pub skip_bad_images: bool,
    /// Evaluation input side (0 = `input_size`): FixRes (Touvron et al. 2019) tests at a
    /// higher resolution than it trains at; timm's `test_input_size`.
    pub test_input_size: usize,
    /// Evaluation crop fraction: resize to `test side / test_crop`, keep the centre square
    /// (timm's `crop_pct`; 1 = resize only).
    pub test_crop: f64,
}

/// Where training and test images come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataFormat {
    /// CIFAR-100, official binary layout.
    Cifar100,
    /// `dir/train/<class>/*` and `dir/val/<class>/*`.
    ImageFolder,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::new(),
            offline: false,
            input_size: 32,
            train_limit: 0,
            test_limit: 0,
            center_eval: true,
            label_corruption: 0.0,
            format: DataFormat::Cifar100,
            skip_bad_images: false,
            test_input_size: 0,
            test_crop: 1.0,
        }
    }
}

/// Network architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// A registered model (`brainlike models` lists them): `cornet_z`, `vgg16`, ...
    pub arch: Arch,
    /// Classifier head: `fc4096` (the paper's FC 4096-4096-classes with dropout) or `decoder`
    /// (CORnet's average-pool + linear).
    pub head: Head,
    /// Local response normalisation after each convolution, as in the authors' code.
    pub lrn: bool,
    /// Dropout probability (drop, not retain) in the FC head; the paper retains 0.5.
    pub dropout: f64,
    /// Start from these weights instead of the seeded initialisation: a safetensors file with
    /// PyTorch names (a torchvision/timm `state_dict`, or a run's `weights.safetensors`); a
    /// different class count replaces the classifier. Relative to the working directory.
    /// `brainlike train --init` overrides it.
    pub init: PathBuf,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            arch: Arch::parse("cornet_z").expect("cornet_z is registered"),
            head: Head::Fc4096,
            lrn: false,
            dropout: 0.5,
            init: PathBuf::new(),
        }
    }
}

/// Classifier heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Head {
    /// FC 4096 → 4096 → classes with dropout (the paper's).
    Fc4096,
    /// Global average pool + linear (CORnet's decoder).
    Decoder,
}

/// Optimiser, schedule and frozen parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimConfig {
    /// `sgd` (the paper's), `adam` or `adamw`.
    pub optimizer: OptimizerKind,
    /// Peak learning rate (the schedule scales it).
    pub lr: f64,
    /// SGD momentum (0 = plain SGD, the paper's).
    pub momentum: f64,
    /// SGD momentum dampening (PyTorch's default 0).
    pub dampening: f64,
    /// Nesterov momentum (SGD).
    pub nesterov: bool,
    /// Weight decay: L2 added to the gradient (sgd, adam), decoupled (adamw).
    pub weight_decay: f64,
    /// Adam/AdamW betas.
    pub betas: [f64; 2],
    /// Adam/AdamW epsilon.
    pub eps: f64,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Number of epochs.
    pub epochs: usize,
    /// Learning-rate schedule.
    pub schedule: ScheduleConfig,
    /// Parameter path prefixes not to train (`features.CornetZ.v1`, `head`; as in the weights
    /// file).
    pub freeze: Vec<String>,
    /// Freeze every layer up to and including this tap's block (`v1`, `layer2`, `blocks.3`).
    pub freeze_up_to: String,
    /// Freeze the first fraction of the network's layers (modules holding parameters, in
    /// forward order; 0 = none; the paper's "freeze half": 0.5).
    pub freeze_fraction: f64,
    /// Train only the parameters under these prefixes, freeze the rest (FixRes fine-tuning:
    /// `["head", "features.ResNet50.layer4.2.bn3"]`).
    pub train_only: Vec<String>,
}

/// The learning-rate schedule (see `train::optim`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// `constant` (the paper's), `step` or `cosine`.
    pub kind: ScheduleKind,
    /// Epochs of linear warm-up from 0 (fractions allowed).
    pub warmup_epochs: f64,
    /// `step`: multiply by `gamma` every this many epochs.
    pub step_epochs: usize,
    /// `step`: the factor.
    pub gamma: f64,
    /// `cosine`: the final learning rate.
    pub min_lr: f64,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            kind: ScheduleKind::Constant,
            warmup_epochs: 0.0,
            step_epochs: 30,
            gamma: 0.1,
            min_lr: 0.0,
        }
    }
}

/// The classification loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LossConfig {
    /// Label smoothing ε (PyTorch's definition); 0 = none (the paper's).
    pub label_smoothing: f64,
}

impl Default for LossConfig {
    fn default() -> Self {
        Self {
            label_smoothing: 0.0,
        }
    }
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            optimizer: OptimizerKind::Sgd,
            lr: 0.01,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            betas: [0.9, 0.999],
            eps: 1e-8,
            batch_size: 128,
            epochs: 100,
            schedule: ScheduleConfig::default(),
            freeze: Vec::new(),
            freeze_up_to: String::new(),
            freeze_fraction: 0.0,
            train_only: Vec::new(),
        }
    }
}

/// How λ is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LambdaMode {
    /// λ = r · CE / teacher-term every step (detached): the paper's constant ratio.
    Ratio,
    /// λ fixed for the whole run (appendix A.1): `static_lambda`, or if that is 0 the first
    /// step's r·CE/T.
    Static,
}

/// Per-pair penalty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Penalty {
    /// (d_model − d_V1)², the paper's Eq. 1.
    Squared,
    /// |d_model − d_V1|, as in the authors' released code.
    Absolute,
}

/// For how many epochs the teacher is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeacherEpochs {
    /// The first N epochs.
    First(usize),
    /// Every epoch.
    All,
}

impl TeacherEpochs {
    /// Whether the teacher is on in `epoch` (1-based).
    pub fn active(self, epoch: usize) -> bool {
        match self {
            TeacherEpochs::First(n) => epoch <= n,
            TeacherEpochs::All => true,
        }
    }
}

impl fmt::Display for TeacherEpochs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TeacherEpochs::First(1) => f.write_str("on for the first epoch"),
            TeacherEpochs::First(n) => write!(f, "on for the first {n} epochs"),
            TeacherEpochs::All => f.write_str("on for every epoch"),
        }
    }
}

impl Serialize for TeacherEpochs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            TeacherEpochs::First(n) => s.serialize_u64(*n as u64),
            TeacherEpochs::All => s.serialize_str("all"),
        }
    }
}

impl<'de> Deserialize<'de> for TeacherEpochs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(TeacherEpochs::First(n as usize)),
            Raw::S(s) if s == "all" => Ok(TeacherEpochs::All),
            Raw::S(s) => s.parse::<usize>().map(TeacherEpochs::First).map_err(|_| {
                serde::de::Error::custom(format!(
                    "teacher.epochs must be a number of epochs or \"all\", got {s:?}"
                ))
            }),
        }
    }
}

/// The representational-similarity teacher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TeacherConfig {
    /// Ratio r of the teacher term to the cross-entropy (λ mode `ratio`); 0 = no teacher and no
    /// extra forward pass.
    pub ratio: f64,
    /// λ mode: `ratio` (the paper's) or `static`.
    pub lambda_mode: LambdaMode,
    /// λ when `lambda_mode = "static"`; 0 = fix λ at the first composite step's r·CE/T
    /// ("init r", appendix A.1).
    pub static_lambda: f64,
    /// Pair set: `v1`, `v1_shuffled`, `gaussian_v1_stats`, `gaussian_non_v1_stats`, or a path
    /// to a TSV with columns `image_a, image_b, cosine_distance`.
    pub pairs: String,
    /// Folder of a teacher pack (`stimuli/`, `pairs/`); empty = the pack built into the binary.
    pub pack_dir: PathBuf,
    /// Tapped layer: one of the model's taps (`v1`, `v2`, `v4`, `it` for CORnet-Z; `conv1` ..
    /// `conv13` for VGG-16, the paper's `conv3`).
    pub layer: Tap,
    /// Epochs with the teacher on: a number or `"all"`.
    pub epochs: TeacherEpochs,
    /// Teacher pairs sampled per step.
    pub pairs_per_step: usize,
    /// `squared` (paper) or `absolute` (authors' code).
    pub penalty: Penalty,
    /// Alternate CE-only and composite steps, as the authors' code does.
    pub alternate_steps: bool,
    /// Normalise the teacher's stimuli like the training images (false: they enter the network
    /// as pixels in [0, 1], uncentred — the paper's literal reading, and the default). A
    /// result-deciding choice: recorded in every run and score.
    pub center_stimuli: bool,
    /// Fraction of the pack's stimuli held out of the teacher, in [0, 1): the stimuli are
    /// split (seeded by `split_seed`, see `data::teacher::StimulusSplit`) into a teacher set,
    /// whose pairs alone train, and a held-out set, whose pairs score V1 similarity on
    /// stimuli the network never saw through the teacher. 0 = train on every pair.
    /// New configurations ([`TrainConfig::default`], [`TrainConfig::load`]) default to
    /// [`DEFAULT_HOLDOUT_FRACTION`]; a `config.toml` without this key was written before the
    /// split existed, by a run that trained on every pair, and reads as 0.
    #[serde(default = "holdout_fraction_of_old_runs")]
    pub holdout_fraction: f64,
    /// Seed of the stimulus split (independent of `seed`, so runs of every seed share one
    /// held-out set).
    pub split_seed: u64,
}

/// `teacher.holdout_fraction` of a new configuration.
pub const DEFAULT_HOLDOUT_FRACTION: f64 = 0.2;

/// `teacher.holdout_fraction` of a `config.toml` written before the key existed.
fn holdout_fraction_of_old_runs() -> f64 {
    0.0
}

impl Default for TeacherConfig {
    fn default() -> Self {
        Self {
            ratio: 0.1,
            lambda_mode: LambdaMode::Ratio,
            static_lambda: 0.0,
            pairs: "v1".into(),
            pack_dir: PathBuf::new(),
            layer: crate::models::cornet_z::V1,
            epochs: TeacherEpochs::First(10),
            pairs_per_step: 50,
            penalty: Penalty::Squared,
            alternate_steps: false,
            center_stimuli: false,
            holdout_fraction: DEFAULT_HOLDOUT_FRACTION,
            split_seed: 0,
        }
    }
}

impl TeacherConfig {
    /// Whether any teacher term is computed at all.
    pub fn enabled(&self) -> bool {
        match self.lambda_mode {
            LambdaMode::Ratio => self.ratio > 0.0,
            LambdaMode::Static => self.static_lambda > 0.0 || self.ratio > 0.0,
        }
    }
}

/// Checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckpointConfig {
    /// Keep the newest K epoch checkpoints (0 = keep all).
    pub keep: usize,
    /// Minimum minutes between epoch-end checkpoints: 0 (the default) writes one after every
    /// epoch; otherwise an epoch-end checkpoint is skipped until this many minutes have passed
    /// since the last one (the final epoch's is always written).
    pub every_minutes: f64,
    /// Also checkpoint inside an epoch, after every N minibatches (0 = off, the default).
    pub every_steps: usize,
    /// Also checkpoint inside an epoch, once this many minutes have passed since the last
    /// checkpoint (0 = off, the default): a kill loses at most about this much training.
    ///
    /// With either mid-epoch key on, the backend's random generator (dropout, drop path) is
    /// re-seeded at every minibatch after an epoch's first from (seed, epoch, minibatch)
    /// instead of only at the epoch's start,
    /// so that a run resumed mid-epoch continues bit for bit. Models without dropout or drop
    /// path train identically with or without mid-epoch checkpoints; with dropout the masks
    /// differ (not their distribution). Only the newest mid-epoch checkpoint is kept, as
    /// `checkpoints/epoch-EEEE-batch-BBBBBB/`, and removed once its epoch's end is saved.
    pub within_epoch_minutes: f64,
}

impl CheckpointConfig {
    /// Whether checkpoints are also written inside epochs.
    pub fn within_epoch(&self) -> bool {
        self.every_steps > 0 || self.within_epoch_minutes > 0.0
    }
}

impl Default for CheckpointConfig {
    fn default() -> Self {
        Self {
            keep: 2,
            every_minutes: 0.0,
            every_steps: 0,
            within_epoch_minutes: 0.0,
        }
    }
}

impl TrainConfig {
    /// Reads `file` (if any), applies `key=value` overrides (dotted keys, TOML values; a bare
    /// word is a string), and validates. Unknown keys are errors naming the key.
    pub fn load(file: Option<&Path>, sets: &[String]) -> Result<Self> {
        Self::load_inner(file, sets, true)
    }

    /// Like [`TrainConfig::load`] for a run's own `config.toml` (resuming it): a key the file
    /// lacks keeps the meaning it had when the run was written (`teacher.holdout_fraction`
    /// reads as 0), as [`crate::train::export::load_run`] reads it.
    pub fn load_run_config(file: &Path, sets: &[String]) -> Result<Self> {
        Self::load_inner(Some(file), sets, false)
    }

    fn load_inner(file: Option<&Path>, sets: &[String], new_run: bool) -> Result<Self> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
                toml::from_str::<toml::Table>(&text).map_err(|e| Error::Config {
                    origin: path.display().to_string(),
                    msg: e.to_string(),
                })?
            }
            None => toml::Table::new(),
        };
        // A configuration loaded here is a new run's: a missing teacher.holdout_fraction takes
        // the new default, not the old runs' 0 (see `TeacherConfig::holdout_fraction`).
        if new_run
            && let Some(t) = table
                .entry("teacher")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
        {
            t.entry("holdout_fraction")
                .or_insert(toml::Value::Float(DEFAULT_HOLDOUT_FRACTION));
        }
        for set in sets {
            apply_set(&mut table, set)?;
        }
        let origin = match file {
            Some(p) => p.display().to_string(),
            None => "built-in defaults".to_string(),
        };
        check_number_types(&table).map_err(|msg| Error::Config {
            origin: format!("{origin} with --set overrides"),
            msg,
        })?;
        let config: TrainConfig =
            TrainConfig::deserialize(toml::Value::Table(table)).map_err(|e| Error::Config {
                origin: format!("{origin} with --set overrides"),
                msg: e.to_string(),
            })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks ranges and combinations that serde cannot.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| {
            Err(Error::Config {
                origin: "configuration".into(),
                msg,
            })
        };
        self.adversarial.validate()?;
        if self.adversarial.steps > 1000 {
            return bad(format!(
                "adversarial.steps must be at most 1000 (each step is a forward and backward \
                 pass), got {}",
                self.adversarial.steps
            ));
        }
        if self.adversarial.replays > 100 {
            return bad(format!(
                "adversarial.replays must be at most 100, got {}",
                self.adversarial.replays
            ));
        }
        if self.adversarial.eps > 1e4 {
            return bad(format!(
                "adversarial.eps must be at most 1e4 (an L2 radius past every image's norm), got {}",
                self.adversarial.eps
            ));
        }
        crate::data::augment::Augmenter::new(&self.augment, self.mix.as_ref(), 0)?;
        if self.optim.batch_size == 0 {
            return bad("optim.batch_size must be at least 1".into());
        }
        if !self.optim.lr.is_finite() || self.optim.lr <= 0.0 {
            return bad(format!(
                "optim.lr must be a finite number > 0, got {}",
                self.optim.lr
            ));
        }
        if self.optim.epochs == 0 {
            return bad("optim.epochs must be at least 1 (0 would write untrained weights)".into());
        }
        if self.optim.epochs > MAX_EPOCHS {
            return bad(format!(
                "optim.epochs must be at most {MAX_EPOCHS}, got {}",
                self.optim.epochs
            ));
        }
        if self.data.input_size > MAX_INPUT_SIZE {
            return bad(format!(
                "data.input_size must be at most {MAX_INPUT_SIZE} (the paper uses 227), got {}: \
                 one {0}×{0} image alone is {1} in float32, a batch of {2} about {3} of \
                 activations",
                self.data.input_size,
                human_bytes(3 * self.data.input_size.saturating_pow(2) as u128 * 4),
                self.optim.batch_size,
                human_bytes(self.batch_memory_estimate()),
            ));
        }
        if self.batch_memory_estimate() > MAX_BATCH_BYTES {
            return bad(format!(
                "optim.batch_size = {} at data.input_size = {} needs about {} of activations \
                 per step (limit {}); use a smaller batch",
                self.optim.batch_size,
                self.data.input_size,
                human_bytes(self.batch_memory_estimate()),
                human_bytes(MAX_BATCH_BYTES),
            ));
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if self.threads > max_threads() {
            return bad(format!(
                "threads must be at most {} (4 × the {cores} cores here; 0 = all cores), got {}",
                max_threads(),
                self.threads
            ));
        }
        for (key, v) in [
            ("teacher.ratio", self.teacher.ratio),
            ("teacher.static_lambda", self.teacher.static_lambda),
        ] {
            if !v.is_finite() || v < 0.0 {
                return bad(format!("{key} must be a finite number >= 0, got {v}"));
            }
        }
        if self.teacher.pairs_per_step > MAX_PAIRS_PER_STEP {
            return bad(format!(
                "teacher.pairs_per_step must be at most {MAX_PAIRS_PER_STEP}, got {}",
                self.teacher.pairs_per_step
            ));
        }
        if let TeacherEpochs::First(n) = self.teacher.epochs
            && n > MAX_EPOCHS
        {
            return bad(format!(
                "teacher.epochs must be at most {MAX_EPOCHS} or \"all\", got {n}"
            ));
        }
        if self.optim.schedule.step_epochs == 0 {
            return bad("optim.schedule.step_epochs must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.optim.momentum)
            || !(0.0..=1.0).contains(&self.optim.dampening)
        {
            return bad(format!(
                "optim.momentum and optim.dampening must be in [0, 1], got {} and {}",
                self.optim.momentum, self.optim.dampening
            ));
        }
        if !self.checkpoint.every_minutes.is_finite() || self.checkpoint.every_minutes < 0.0 {
            return bad(format!(
                "checkpoint.every_minutes must be a finite number >= 0, got {}",
                self.checkpoint.every_minutes
            ));
        }
        let m = self.checkpoint.within_epoch_minutes;
        if !m.is_finite() || m < 0.0 {
            return bad(format!(
                "checkpoint.within_epoch_minutes must be a finite number >= 0, got {m}"
            ));
        }
        if self.checkpoint.within_epoch()
            && self.adversarial.method == crate::train::transform::Method::Free
        {
            return bad(
                "checkpoint.every_steps / checkpoint.within_epoch_minutes cannot be used with \
                 adversarial.method = \"free\": its perturbation carries from minibatch to \
                 minibatch and is not checkpointed; use epoch-end checkpoints \
                 (checkpoint.every_minutes)"
                    .into(),
            );
        }
        let a = &self.averaging;
        if a.start_epoch < 1 || a.start_epoch > self.optim.epochs {
            return bad(format!(
                "averaging.start_epoch must be an epoch of the run (1..={}), got {}",
                self.optim.epochs, a.start_epoch
            ));
        }
        if !a.swa_lr.is_finite() || a.swa_lr < 0.0 {
            return bad(format!(
                "averaging.swa_lr must be a finite number >= 0, got {}",
                a.swa_lr
            ));
        }
        if a.anneal_epochs > self.optim.epochs {
            return bad(format!(
                "averaging.anneal_epochs must be at most optim.epochs ({}), got {}",
                self.optim.epochs, a.anneal_epochs
            ));
        }
        if !(0.0..1.0).contains(&a.ema_decay) {
            return bad(format!(
                "averaging.ema_decay must be in [0, 1), got {}",
                a.ema_decay
            ));
        }
        if !(0.0..=1.0).contains(&self.optim.freeze_fraction) {
            return bad(format!(
                "optim.freeze_fraction must be in [0, 1], got {}",
                self.optim.freeze_fraction
            ));
        }
        if !self.optim.freeze_up_to.is_empty()
            && self
                .model
                .arch
                .spec()
                .tap(&self.optim.freeze_up_to)
                .is_none()
        {
            return bad(format!(
                "optim.freeze_up_to: {} has no tap {:?}; its taps: {}",
                self.model.arch.spec().name,
                self.optim.freeze_up_to,
                self.model.arch.spec().tap_names()
            ));
        }
        if !(0.0..1.0).contains(&self.model.dropout) {
            return bad(format!(
                "model.dropout must be in [0, 1), got {}",
                self.model.dropout
            ));
        }
        if !(0.0..=1.0).contains(&self.data.label_corruption) {
            return bad(format!(
                "data.label_corruption must be in [0, 1], got {}",
                self.data.label_corruption
            ));
        }
        if self.data.test_input_size > MAX_INPUT_SIZE
            || (self.data.test_input_size > 0 && self.data.test_input_size < 32)
        {
            return bad(format!(
                "data.test_input_size must be 0 (= data.input_size) or in 32..={MAX_INPUT_SIZE}, got {}",
                self.data.test_input_size
            ));
        }
        if !(self.data.test_crop > 0.0 && self.data.test_crop <= 1.0) {
            return bad(format!(
                "data.test_crop must be in (0, 1], got {}",
                self.data.test_crop
            ));
        }
        if self.data.input_size < 32 {
            return bad(format!(
                "data.input_size must be at least 32, got {}",
                self.data.input_size
            ));
        }
        if self.teacher.enabled() && self.teacher.pairs_per_step == 0 {
            return bad("teacher.pairs_per_step must be at least 1".into());
        }
        let h = self.teacher.holdout_fraction;
        if !(0.0..1.0).contains(&h) {
            return bad(format!(
                "teacher.holdout_fraction must be in [0, 1) (0 = train on every pair), got {h}"
            ));
        }
        let spec = self.model.arch.spec();
        if spec.tap(self.teacher.layer.name()).is_none() {
            return bad(format!(
                "teacher.layer = {:?} does not exist in model.arch = {:?} (its layers: {})",
                self.teacher.layer.name(),
                spec.name,
                spec.tap_names()
            ));
        }
        if self.data.input_size < spec.min_input_size {
            return bad(format!(
                "data.input_size must be at least {} for {}, got {}",
                spec.min_input_size, spec.name, self.data.input_size
            ));
        }
        if !(0.0..1.0).contains(&self.loss.label_smoothing) {
            return bad(format!(
                "loss.label_smoothing must be in [0, 1), got {}",
                self.loss.label_smoothing
            ));
        }
        let o = &self.optim;
        for (key, v) in [
            ("optim.momentum", o.momentum),
            ("optim.dampening", o.dampening),
            ("optim.weight_decay", o.weight_decay),
            ("optim.eps", o.eps),
            ("optim.schedule.warmup_epochs", o.schedule.warmup_epochs),
            ("optim.schedule.min_lr", o.schedule.min_lr),
        ] {
            if !v.is_finite() || v < 0.0 {
                return bad(format!("{key} must be a finite number >= 0, got {v}"));
            }
        }
        if !(0.0..1.0).contains(&o.betas[0]) || !(0.0..1.0).contains(&o.betas[1]) {
            return bad(format!("optim.betas must be in [0, 1), got {:?}", o.betas));
        }
        if !(o.schedule.gamma > 0.0 && o.schedule.gamma.is_finite()) {
            return bad(format!(
                "optim.schedule.gamma must be positive, got {}",
                o.schedule.gamma
            ));
        }
        if o.nesterov && (o.momentum == 0.0 || o.dampening != 0.0) {
            return bad(
                "optim.nesterov needs optim.momentum > 0 and optim.dampening = 0 (as PyTorch)"
                    .into(),
            );
        }
        Ok(())
    }

    /// A rough upper estimate of one training step's activation memory (bytes): about 40
    /// float32 values per input pixel per image (forward activations and their gradients).
    pub fn batch_memory_estimate(&self) -> u128 {
        let s = self.data.input_size as u128;
        self.optim.batch_size as u128 * s * s * 40 * 4
    }

    /// The resolved configuration as TOML, every default spelled out.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a TrainConfig always serialises")
    }
}

/// The largest `optim.epochs` (and numeric `teacher.epochs`) accepted.
pub const MAX_EPOCHS: usize = 100_000;
/// The largest `data.input_size` accepted (the paper's is 227).
pub const MAX_INPUT_SIZE: usize = 1024;
/// The largest accepted [`TrainConfig::batch_memory_estimate`]: 64 GiB.
pub const MAX_BATCH_BYTES: u128 = 64 << 30;
/// The largest `teacher.pairs_per_step` accepted.
pub const MAX_PAIRS_PER_STEP: usize = 1 << 20;

/// The largest `threads` (or `--threads`) accepted: 4 × the cores of this machine.
pub fn max_threads() -> usize {
    4 * std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `bytes` as `4.8 GB`-style text.
pub fn human_bytes(bytes: u128) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{bytes} bytes")
    }
}

/// Checks every numeric key of `table` against the type of its default before serde sees it,
/// so a wrong value names its key: a negative or fractional count (`optim.epochs = -1`), a
/// string where a number belongs (`optim.lr = "fast"`).
fn check_number_types(table: &toml::Table) -> std::result::Result<(), String> {
    let defaults = toml::Value::try_from(TrainConfig::default()).expect("serialisable");
    fn walk(prefix: &str, t: &toml::Table, d: &toml::Value) -> std::result::Result<(), String> {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            let Some(dv) = d.get(k) else { continue };
            match (dv, v) {
                (toml::Value::Table(_), toml::Value::Table(sub)) => walk(&key, sub, dv)?,
                (toml::Value::Integer(_), toml::Value::Integer(i)) if *i < 0 => {
                    let extra = if key == "teacher.epochs" {
                        " (or \"all\")"
                    } else {
                        ""
                    };
                    return Err(format!("{key} must be a whole number >= 0{extra}, got {i}"));
                }
                (toml::Value::Integer(_), toml::Value::String(s))
                    if key == "teacher.epochs" && s != "all" && s.parse::<usize>().is_err() =>
                {
                    return Err(format!(
                        "teacher.epochs must be a whole number of epochs >= 0 or \"all\", got {s:?}"
                    ));
                }
                (toml::Value::Integer(_), toml::Value::String(_)) if key == "teacher.epochs" => {}
                (toml::Value::Integer(_), other) if !other.is_integer() => {
                    return Err(format!("{key} must be a whole number >= 0, got {other}"));
                }
                (toml::Value::Float(_), other) if !other.is_float() && !other.is_integer() => {
                    return Err(format!("{key} must be a number, got {other}"));
                }
                _ => {}
            }
        }
        Ok(())
    }
    walk("", table, &defaults)
}

/// Every configuration key with its meaning (shown by `brainlike train --help`; a test checks
/// that it covers every key of the resolved configuration).
pub const KEY_DOCS: &[(&str, &str)] = &[
    (
        "seed",
        "one seed for data order, initialisation, dropout and teacher pairs",
    ),
    (
        "device",
        "auto | flex | tch | tch-cuda (auto: fastest compiled in and present)",
    ),
    ("out_dir", "run directory"),
    ("threads", "CPU threads, 0 = all cores"),
    (
        "data.dir",
        "folder with cifar-100-binary.tar.gz or cifar-100-binary/; empty: $BRAINLIKE_DATA, else ./data",
    ),
    ("data.offline", "never download CIFAR-100"),
    ("data.input_size", "input side: 32, or 227 as in the paper"),
    (
        "data.train_limit",
        "use the first N training images (0 = all)",
    ),
    ("data.test_limit", "use the first N test images (0 = all)"),
    (
        "data.center_eval",
        "centre test images by the training mean too (paper: false)",
    ),
    (
        "data.label_corruption",
        "fraction of training labels corrupted, class counts kept",
    ),
    (
        "model.arch",
        "a registered model: cornet_z | vgg16 (brainlike models)",
    ),
    (
        "model.head",
        "fc4096 (paper) | decoder (CORnet's avg-pool + linear)",
    ),
    (
        "model.lrn",
        "local response normalisation after each conv (authors' code)",
    ),
    (
        "model.dropout",
        "drop probability in the FC head (paper: retain 0.5)",
    ),
    ("optim.optimizer", "sgd (paper) | adam | adamw"),
    ("optim.lr", "learning rate (peak, scaled by the schedule)"),
    ("optim.momentum", "SGD momentum (paper: 0)"),
    ("optim.dampening", "SGD momentum dampening (PyTorch: 0)"),
    ("optim.nesterov", "SGD Nesterov momentum"),
    (
        "optim.weight_decay",
        "weight decay: L2 (sgd, adam), decoupled (adamw)",
    ),
    ("optim.betas", "Adam/AdamW betas"),
    ("optim.eps", "Adam/AdamW epsilon"),
    (
        "optim.batch_size",
        "mini-batch size (paper: 128 CORnet-Z, 256 VGG-16)",
    ),
    ("optim.epochs", "epochs (paper: 100 CORnet-Z, 250 VGG-16)"),
    ("optim.schedule.kind", "constant (paper) | step | cosine"),
    (
        "optim.schedule.warmup_epochs",
        "epochs of linear warm-up from 0",
    ),
    ("optim.schedule.step_epochs", "step: decay every N epochs"),
    ("optim.schedule.gamma", "step: decay factor"),
    ("optim.schedule.min_lr", "cosine: final learning rate"),
    (
        "optim.freeze",
        "parameter path prefixes not trained, e.g. [\"features.CornetZ.v1\"]; frozen BatchNorm layers keep their running statistics",
    ),
    (
        "averaging.kind",
        "weight averaging during training: none | swa | ema",
    ),
    (
        "averaging.start_epoch",
        "swa: first epoch whose end enters the average",
    ),
    (
        "averaging.swa_lr",
        "swa: learning rate from start_epoch on (0 = keep the schedule)",
    ),
    (
        "averaging.anneal_epochs",
        "swa: epochs of cosine annealing to swa_lr (0 = at once)",
    ),
    ("averaging.ema_decay", "ema: decay per step (timm: 0.9998)"),
    (
        "averaging.bn_images",
        "training images for recomputing BatchNorm statistics of the average (0 = all)",
    ),
    (
        "optim.freeze_up_to",
        "freeze every layer up to and including this tap (\"v1\", \"layer2\"); \"\" = none",
    ),
    (
        "optim.freeze_fraction",
        "freeze the first fraction of the layers in forward order (paper: 0.5); 0 = none",
    ),
    (
        "optim.train_only",
        "train only these parameter path prefixes, freeze the rest (FixRes: [\"head\", last BatchNorm])",
    ),
    (
        "loss.label_smoothing",
        "label smoothing (PyTorch's definition; paper: 0)",
    ),
    (
        "teacher.ratio",
        "r: teacher term / cross-entropy; 0 = no teacher",
    ),
    (
        "teacher.lambda_mode",
        "ratio (λ = r·CE/T every step) | static",
    ),
    (
        "teacher.static_lambda",
        "λ in static mode; 0 = fixed at the first step's r·CE/T",
    ),
    (
        "teacher.pairs",
        "v1 | v1_shuffled | gaussian_v1_stats | gaussian_non_v1_stats | path to a TSV",
    ),
    ("teacher.pack_dir", "teacher pack folder; empty = built in"),
    (
        "teacher.layer",
        "tapped layer: v1 | v2 | v4 | it (CORnet-Z), conv1..conv13 (VGG-16; paper conv3)",
    ),
    (
        "teacher.epochs",
        "teacher on for the first N epochs, or \"all\"",
    ),
    ("teacher.pairs_per_step", "teacher pairs per step"),
    (
        "teacher.penalty",
        "squared (paper) | absolute (authors' code)",
    ),
    (
        "teacher.alternate_steps",
        "alternate CE-only and composite steps (authors' code)",
    ),
    (
        "teacher.center_stimuli",
        "normalise the stimuli like training images (paper: false, uncentred)",
    ),
    (
        "teacher.holdout_fraction",
        "fraction of teacher stimuli held out of training, for a held-out V1 score (0 = none; a config.toml without it: 0)",
    ),
    (
        "teacher.split_seed",
        "seed of the split of teacher stimuli into teacher and held-out sets",
    ),
    (
        "checkpoint.keep",
        "keep the newest K epoch checkpoints (0 = all)",
    ),
    (
        "checkpoint.every_minutes",
        "minutes between (epoch-end) checkpoints; 0 = after every epoch",
    ),
    (
        "checkpoint.every_steps",
        "also checkpoint inside epochs every N minibatches (0 = off; re-seeds dropout per minibatch)",
    ),
    (
        "checkpoint.within_epoch_minutes",
        "also checkpoint inside epochs when this many minutes have passed (0 = off; re-seeds dropout per minibatch)",
    ),
    (
        "adversarial.method",
        "adversarial training: none | pgd | fgsm_rs | free",
    ),
    ("adversarial.norm", "threat model: linf | l2"),
    (
        "adversarial.eps",
        "radius of the perturbation ball, pixel units (images in [0, 1]; 8/255 = 0.0314)",
    ),
    ("adversarial.steps", "PGD steps"),
    ("adversarial.replays", "free training: minibatch replays m"),
    (
        "adversarial.random_start",
        "PGD: start uniformly at random in the ε-ball",
    ),
    (
        "adversarial.loss",
        "loss the attack ascends: cross_entropy | margin",
    ),
    (
        "adversarial.log_clean_loss",
        "log the clean-batch loss per epoch (one extra forward pass)",
    ),
    (
        "data.format",
        "cifar100 | image_folder (data.dir/train/<class>/, data.dir/val/<class>/)",
    ),
    (
        "data.skip_bad_images",
        "image folders: leave out (and count) unreadable files instead of stopping",
    ),
    (
        "data.test_input_size",
        "evaluation input side (FixRes: test above the training size); 0 = data.input_size",
    ),
    (
        "data.test_crop",
        "evaluation crop fraction: resize to side / crop, keep the centre (timm crop_pct); 1 = none",
    ),
    (
        "model.init",
        "start from these weights (safetensors, PyTorch names; a run's weights.safetensors); \"\" = seeded initialisation",
    ),
    (
        "augment.random_resized_crop",
        "train-time RandomResizedCrop + flip from each image's full-resolution source \
         (image folders: the decoded file; CIFAR-100: the stored 32x32), before \
         [[augment.ops]]: { scale = [0.08, 1.0], ratio = [0.75, 1.3333], hflip = true }; \
         evaluation stays resize + centre crop",
    ),
];

/// Documented keys that have no default (optional tables, absent unless configured).
#[cfg(test)]
const OPTIONAL_KEYS: &[&str] = &["augment.random_resized_crop"];

/// `KEY_DOCS` with each key's default, as help text.
pub fn keys_help() -> String {
    let defaults = toml::Value::try_from(TrainConfig::default()).expect("serialisable");
    let mut out = String::from("Configuration keys (--set key=value; defaults in brackets):\n");
    for (key, doc) in KEY_DOCS {
        let v = key
            .split('.')
            .try_fold(&defaults, |v, part| v.get(part))
            .map_or_else(|| "none".to_string(), |v| v.to_string());
        out.push_str(&format!("  {key:<26} {doc} [{v}]\n"));
    }
    out
}

/// Applies one `a.b.c=value` override to a TOML table.
pub fn apply_set(table: &mut toml::Table, set: &str) -> Result<()> {
    let (key, raw) = set.split_once('=').ok_or_else(|| Error::Config {
        origin: format!("--set {set}"),
        msg: "expected key=value".into(),
    })?;
    let key = key.trim();
    let value = parse_value(raw.trim());
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(Error::Config {
            origin: format!("--set {set}"),
            msg: format!("bad key {key:?}"),
        });
    }
    let mut cur = table;
    for part in &parts[..parts.len() - 1] {
        let entry = cur
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry.as_table_mut().ok_or_else(|| Error::Config {
            origin: format!("--set {set}"),
            msg: format!("{part:?} is a value, not a section"),
        })?;
    }
    cur.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

/// A TOML value from the command line: `0.1` → float, `10` → integer, `true` → bool, `"x"` or a
/// bare word → string.
fn parse_value(raw: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => t.remove("v").expect("parsed key v"),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_toml() {
        let c = TrainConfig::default();
        let text = c.to_toml();
        let back: TrainConfig = toml::from_str(&text).unwrap();
        assert_eq!(c, back);
        assert!(text.contains("pairs_per_step = 50"));
    }

    #[test]
    fn every_key_is_documented() {
        fn keys(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
            match v {
                toml::Value::Table(t) => {
                    for (k, v) in t {
                        let p = if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        };
                        keys(&p, v, out);
                    }
                }
                _ => out.push(prefix.to_string()),
            }
        }
        let mut all = Vec::new();
        keys(
            "",
            &toml::Value::try_from(TrainConfig::default()).unwrap(),
            &mut all,
        );
        for k in &all {
            assert!(KEY_DOCS.iter().any(|(d, _)| d == k), "undocumented key {k}");
        }
        assert_eq!(all.len() + OPTIONAL_KEYS.len(), KEY_DOCS.len());
        for k in OPTIONAL_KEYS {
            assert!(!all.iter().any(|a| a == k), "{k} has a default");
        }
        assert!(keys_help().contains("teacher.ratio"));
    }

    #[test]
    fn overrides_are_typed() {
        let c = TrainConfig::load(
            None,
            &[
                "teacher.ratio=0.5".into(),
                "teacher.epochs=all".into(),
                "teacher.layer=v4".into(),
                "optim.epochs=3".into(),
                "seed=7".into(),
            ],
        )
        .unwrap();
        assert_eq!(c.teacher.ratio, 0.5);
        assert_eq!(c.teacher.epochs, TeacherEpochs::All);
        assert_eq!(c.teacher.layer.name(), "v4");
        assert_eq!(c.optim.epochs, 3);
        assert_eq!(c.seed, 7);
    }

    #[test]
    fn misspelled_key_is_named() {
        let err = TrainConfig::load(None, &["teacher.ratoi=0.5".into()]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("ratoi"), "{msg}");
        let err = TrainConfig::load(None, &["optimm.lr=0.5".into()]).unwrap_err();
        assert!(err.to_string().contains("optimm"), "{err}");
    }

    #[test]
    fn holdout_defaults_new_runs_to_a_split_and_old_configs_to_none() {
        assert_eq!(
            TrainConfig::default().teacher.holdout_fraction,
            DEFAULT_HOLDOUT_FRACTION
        );
        let loaded = TrainConfig::load(None, &[]).unwrap();
        assert_eq!(loaded, TrainConfig::default());
        // A run's config.toml from before the split: every key but the new ones.
        let mut old = toml::Value::try_from(TrainConfig::default()).unwrap();
        let t = old["teacher"].as_table_mut().unwrap();
        t.remove("holdout_fraction");
        t.remove("split_seed");
        let old: TrainConfig = toml::from_str(&toml::to_string(&old).unwrap()).unwrap();
        assert_eq!(old.teacher.holdout_fraction, 0.0);
        assert_eq!(old.teacher.split_seed, 0);
        let set = TrainConfig::load(None, &["teacher.holdout_fraction=0".into()]).unwrap();
        assert_eq!(set.teacher.holdout_fraction, 0.0);
        assert!(TrainConfig::load(None, &["teacher.holdout_fraction=1.0".into()]).is_err());
        assert!(TrainConfig::load(None, &["teacher.holdout_fraction=-0.1".into()]).is_err());
    }

    #[test]
    fn invalid_combinations_fail() {
        assert!(TrainConfig::load(None, &["teacher.layer=conv3".into()]).is_err());
        assert!(TrainConfig::load(None, &["teacher.layer=v7".into()]).is_err());
        assert!(TrainConfig::load(None, &["model.arch=resnet9000".into()]).is_err());
        assert!(
            TrainConfig::load(
                None,
                &["model.arch=vgg16".into(), "teacher.layer=conv3".into()]
            )
            .is_ok()
        );
        assert!(TrainConfig::load(None, &["optim.momentum=-1".into()]).is_err());
        assert!(TrainConfig::load(None, &["optim.nesterov=true".into()]).is_err());
        assert!(TrainConfig::load(None, &["model.dropout=1.0".into()]).is_err());
        assert!(TrainConfig::load(None, &["teacher.epochs=ten".into()]).is_err());
    }

    /// Every numeric key fed NaN, ±inf, 0, a negative and a huge value: a named error or an
    /// accept listed here, never a panic.
    #[test]
    fn every_numeric_key_is_range_checked() {
        let defaults = toml::Value::try_from(TrainConfig::default()).unwrap();
        // Huge values accepted on purpose: seeds, "0 = all" limits capped to the data set,
        // counts without a cost, and rates whose effect shows in training (a diverging run stops).
        let huge_ok = [
            "seed",
            "data.train_limit",
            "data.test_limit",
            "optim.lr",
            "optim.weight_decay",
            "optim.eps",
            "optim.schedule.warmup_epochs",
            "optim.schedule.step_epochs",
            "optim.schedule.gamma",
            "optim.schedule.min_lr",
            "teacher.ratio",
            "teacher.static_lambda",
            "teacher.split_seed",
            "checkpoint.keep",
            "checkpoint.every_minutes",
            "checkpoint.every_steps",
            "checkpoint.within_epoch_minutes",
            "averaging.bn_images",
            "averaging.swa_lr",
        ];
        let mut checked = 0;
        for (key, _) in KEY_DOCS {
            if OPTIONAL_KEYS.contains(key) {
                continue;
            }
            let mut d = &defaults;
            for part in key.split('.') {
                d = &d[part];
            }
            if !(d.is_integer() || d.is_float()) {
                continue;
            }
            checked += 1;
            for value in ["nan", "inf", "-inf", "0", "-1", "1e30", "99999999999"] {
                let r = TrainConfig::load(None, &[format!("{key}={value}")]);
                if let Err(e) = &r {
                    let msg = e.to_string();
                    assert!(
                        msg.contains(key),
                        "{key}={value}: error does not name the key: {msg}"
                    );
                }
                let must_fail = matches!(value, "nan" | "inf" | "-inf" | "-1")
                    || (value == "1e30" && d.is_integer())
                    || (matches!(value, "1e30" | "99999999999") && !huge_ok.contains(key));
                assert!(!must_fail || r.is_err(), "{key}={value} accepted");
            }
        }
        assert!(checked >= 25, "{checked}");
        for (set, needle) in [
            ("optim.epochs=0", "optim.epochs must be at least 1"),
            ("data.input_size=20000", "GB"),
            ("threads=100000", "threads must be at most"),
            (
                "teacher.epochs=-1",
                "teacher.epochs must be a whole number >= 0",
            ),
            ("teacher.ratio=nan", "teacher.ratio must be a finite number"),
            ("optim.lr=inf", "optim.lr must be a finite number"),
        ] {
            let msg = TrainConfig::load(None, &[set.into()])
                .unwrap_err()
                .to_string();
            assert!(msg.contains(needle), "{set}: {msg}");
        }
        assert!(TrainConfig::load(None, &["teacher.epochs=all".into()]).is_ok());
        assert!(TrainConfig::load(None, &["teacher.epochs=0".into()]).is_ok());
    }
}
