//! A model to score: a run directory's configuration and trained network, the layers to read
//! out and the input size, and its untrained twin (the floor of the V1 score).

use std::path::{Path, PathBuf};

use brainlike_core::TrainConfig;
use brainlike_core::data::cifar100::NUM_FINE;
use brainlike_core::extract::{Activations, Layer, extract};
use brainlike_core::models::Network;
use brainlike_core::train::export::load_run;
use brainlike_core::train::trainer::{derive_seed, im2col_threshold, stream};

use crate::error::{Error, Result};

/// How to load a run for scoring.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Backend (`None`: the run's own).
    pub device: Option<String>,
    /// Input side length (`None`: the run's `data.input_size`).
    pub size: Option<usize>,
    /// Layers to score by name (`v1`, ..., `conv3`, `penultimate`); empty = every tap.
    pub layers: Vec<String>,
}

/// A loaded model.
pub struct Model {
    /// Name in score rows (one line per model in a layer profile).
    pub name: String,
    /// Run directory, if it came from one.
    pub dir: Option<PathBuf>,
    /// The run's resolved configuration.
    pub config: TrainConfig,
    /// The trained network.
    pub net: Network,
    /// Backend name; the device is resolved from it where needed.
    pub device_name: String,
    /// Input side length the stimuli are resized to.
    pub size: usize,
    /// Layers scored.
    pub layers: Vec<Layer>,
    /// Caveats found while loading (e.g. a size other than the training size).
    pub warnings: Vec<String>,
}

impl Model {
    /// Loads the run in `dir` (`config.toml`, `weights.safetensors`).
    pub fn load(dir: &Path, name: impl Into<String>, opts: &LoadOptions) -> Result<Self> {
        let name = name.into();
        let cfg_path = dir.join("config.toml");
        let text = std::fs::read_to_string(&cfg_path).map_err(|e| Error::Model {
            model: dir.display().to_string(),
            msg: format!("{}: not a run directory ({e})", cfg_path.display()),
        })?;
        let cfg: TrainConfig = toml::from_str(&text).map_err(|e| Error::Model {
            model: dir.display().to_string(),
            msg: format!("{}: {e}", cfg_path.display()),
        })?;
        let (device_name, device) =
            brainlike_core::device::resolve(opts.device.as_deref().unwrap_or(&cfg.device))?;
        let (config, net) = load_run(dir, &device)?;
        let layers = parse_layers(&opts.layers, &net).map_err(|msg| Error::Model {
            model: name.clone(),
            msg,
        })?;
        let size = opts.size.unwrap_or(config.data.input_size);
        let mut warnings = Vec::new();
        if size != config.data.input_size && layers.contains(&Layer::Penultimate) {
            warnings.push(format!(
                "{}: trained at {0}x{0}, scored at {size}x{size}; the penultimate layer of an FC head needs the training size",
                config.data.input_size
            ));
        }
        Ok(Self {
            name,
            dir: Some(dir.to_path_buf()),
            config,
            net,
            device_name,
            size,
            layers,
            warnings,
        })
    }

    /// A model from parts (tests, in-memory networks): every tap, the configuration's input
    /// size.
    pub fn from_parts(
        name: impl Into<String>,
        config: TrainConfig,
        net: Network,
        device_name: impl Into<String>,
    ) -> Self {
        let layers = net.taps().into_iter().map(Layer::Tap).collect();
        Self {
            name: name.into(),
            dir: None,
            size: config.data.input_size,
            config,
            net,
            device_name: device_name.into(),
            layers,
            warnings: Vec::new(),
        }
    }

    /// Architecture name (`CornetZ`, `Vgg16`).
    pub fn arch(&self) -> String {
        format!("{:?}", self.config.model.arch)
    }

    /// Activations of the trained network at `layers` for `n` images of side `size`
    /// (`pixels`: NCHW), `chunk` images per forward pass.
    pub fn extract(
        &self,
        pixels: &[f32],
        n: usize,
        size: usize,
        layers: &[Layer],
        chunk: usize,
    ) -> Result<Vec<Activations>> {
        self.extract_with(&self.net, pixels, n, size, layers, chunk)
    }

    /// Like [`Model::extract`], for another network on this model's device.
    pub fn extract_with(
        &self,
        net: &Network,
        pixels: &[f32],
        n: usize,
        size: usize,
        layers: &[Layer],
        chunk: usize,
    ) -> Result<Vec<Activations>> {
        let (_, device) = brainlike_core::device::resolve(&self.device_name)?;
        Ok(extract(net, pixels, n, size, layers, chunk, &device)?)
    }

    /// The same architecture freshly initialised as the trainer initialises it from the
    /// run's seed (its weights before the first step, on this backend): the floor a score
    /// must be read against.
    pub fn untrained(&self) -> Result<Network> {
        let (name, device) = brainlike_core::device::resolve(&self.device_name)?;
        device.seed(derive_seed(self.config.seed, &[stream::INIT]));
        Ok(Network::new(
            &self.config.model,
            self.config.data.input_size,
            NUM_FINE,
            im2col_threshold(&name),
            &device,
        ))
    }
}

/// Layers by name; empty = every tap. The error lists the model's layers.
pub fn parse_layers(names: &[String], net: &Network) -> std::result::Result<Vec<Layer>, String> {
    let taps = net.taps();
    if names.is_empty() {
        return Ok(taps.into_iter().map(Layer::Tap).collect());
    }
    names
        .iter()
        .map(|n| {
            let n = n.trim();
            if n == "penultimate" {
                return Ok(Layer::Penultimate);
            }
            taps.iter()
                .find(|t| t.name() == n)
                .map(|&t| Layer::Tap(t))
                .ok_or_else(|| {
                    format!(
                        "--layers: this model has no layer {n:?}; it has {}, penultimate",
                        taps.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
                    )
                })
        })
        .collect()
}

/// Names for models given by run directory: the folder name, the whole path where two
/// folder names agree, numbered when the same directory is given twice.
pub fn model_names(dirs: &[PathBuf]) -> Vec<String> {
    let short: Vec<String> = dirs
        .iter()
        .map(|d| {
            d.file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| d.display().to_string())
        })
        .collect();
    let mut names: Vec<String> = Vec::with_capacity(dirs.len());
    for (s, d) in short.iter().zip(dirs) {
        let base = if short.iter().filter(|x| *x == s).count() > 1 {
            d.display().to_string()
        } else {
            s.clone()
        };
        let mut name = base.clone();
        let mut k = 2;
        while names.contains(&name) {
            name = format!("{base} ({k})");
            k += 1;
        }
        names.push(name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let dirs: Vec<PathBuf> = ["a/run", "b/run", "c/other", "c/other"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(
            model_names(&dirs),
            ["a/run", "b/run", "c/other", "c/other (2)"]
        );
    }
}
