//! `custom.<region>-pls`: Brain-Score neural predictivity on recordings you supply.
//!
//! Layers wider than 1,000 features are reduced by PCA (see [`brainlike_core::extract`]),
//! PLS with 25 components, 10 shuffle splits of 90 % / 10 % (stratified when strata are
//! given; ChaCha8, Brain-Score's fixed seed 1), Pearson r per neuron on held-out stimuli,
//! median over neurons, mean over splits; split-half noise ceiling over repetitions
//! (Spearman–Brown), ceiled with `r/c` (default) or `r^2/c`. One row per layer and a
//! committed row (no layer): the layer with the best held-out score.
//!
//! Schrimpf et al. (2018), "Brain-Score: Which artificial neural network for object
//! recognition is most brain-like?", bioRxiv 407007.

use std::collections::BTreeMap;
use std::path::PathBuf;

use brainlike_core::extract::{Activations, pca_reduce};
use brainlike_metrics::ceiling::{CeilingFormula, ceil_score, split_half_ceiling};
use brainlike_metrics::io::NeuralData;
use brainlike_metrics::pls::PlsRegression;
use brainlike_metrics::predictivity::{CrossValidation, layer_commitment, neural_predictivity};
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Benchmark;
use crate::context::{Context, images_in_order};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::score::{BenchmarkScore, Details, LayerScore};

/// Version of this benchmark's definition.
pub const VERSION: &str = "1";

/// Seed of Brain-Score's shuffle splits.
pub const CV_SEED: u64 = 1;

/// Neural responses with their mean over repetitions and split-half ceiling.
#[derive(Debug, Clone)]
pub struct PlsInputs {
    /// Responses, stimulus ids, strata.
    pub data: NeuralData,
    /// Mean over repetitions, stimuli x neurons.
    pub mean: Array2<f64>,
    /// Ceiling and its per-split values (`None` with one repetition).
    pub ceiling: Option<(f64, Vec<f64>)>,
}

impl PlsInputs {
    /// Means and a split-half ceiling (10 splits seeded with `seed`) of `data`.
    pub fn new(data: NeuralData, seed: u64) -> Result<Self> {
        let mean = data.mean_responses();
        let ceiling = if data.responses.dim().2 >= 2 {
            let c = split_half_ceiling(data.responses.view(), 10, seed)?;
            Some((c.ceiling, c.per_split))
        } else {
            None
        };
        Ok(Self {
            data,
            mean,
            ceiling,
        })
    }
}

/// Settings of the PLS fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlsSettings {
    /// Ceiling formula.
    pub formula: CeilingFormula,
    /// PLS components (capped at the training stimuli and features).
    pub components: usize,
    /// PCA components for wider layers; 0 = no PCA.
    pub pca: usize,
    /// Seed of the PCA.
    pub seed: u64,
}

/// The PLS benchmark on one set of recordings.
#[derive(Debug, Clone)]
pub struct Pls {
    id: String,
    inputs: PlsInputs,
    images: PathBuf,
    files: Value,
    settings: PlsSettings,
    ceiling_seed: u64,
}

impl Pls {
    /// Loads `neural` (.npy stimuli x neurons [x repetitions]), `stimuli` (ids, one a line),
    /// optional `strata`, with the images in `images`.
    pub fn new(
        id: &str,
        neural: PathBuf,
        stimuli: PathBuf,
        strata: Option<PathBuf>,
        images: PathBuf,
        settings: PlsSettings,
    ) -> Result<Self> {
        let data = NeuralData::load(&neural, &stimuli, strata.as_deref())?;
        let inputs = PlsInputs::new(data, settings.seed)?;
        let files = json!({
            "neural": neural.display().to_string(),
            "stimuli": stimuli.display().to_string(),
            "strata": strata.as_ref().map(|p| p.display().to_string()),
            "images": images.display().to_string(),
        });
        Ok(Self {
            id: id.to_string(),
            inputs,
            images,
            files,
            settings,
            ceiling_seed: settings.seed,
        })
    }
}

/// Details of one layer's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlsDetails {
    /// What is computed.
    pub metric: String,
    /// Standard error over splits.
    pub sem: f64,
    /// PLS components used.
    pub pls_components: usize,
    /// Features of the layer before PCA.
    pub features: usize,
    /// PCA components, if PCA ran.
    pub pca_components: Option<usize>,
    /// Cross-validation scheme.
    pub cv: String,
    /// Stimuli.
    pub stimuli: usize,
    /// Neurons.
    pub neurons: usize,
    /// Split-half ceiling per split.
    pub ceiling_per_split: Option<Vec<f64>>,
}

/// Details of the committed row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommittedDetails {
    /// The layer chosen.
    pub committed_layer: String,
    /// How it was chosen.
    pub selection: String,
    /// Every `(layer, score)` compared.
    pub table: Vec<(String, f64)>,
}

/// Rows of `acts` (one activation set per layer, stimuli in the order of `inputs`): one per
/// layer and the committed row.
pub fn score_layers(
    acts: Vec<Activations>,
    inputs: &PlsInputs,
    settings: &PlsSettings,
) -> Result<Vec<LayerScore>> {
    let n = inputs.data.stimulus_ids.len();
    let cv = CrossValidation::brain_score(inputs.data.strata.clone());
    // Brain-Score's shuffle split trains on floor(0.9 n) stimuli.
    let n_train = (0.9 * n as f64).floor() as usize;
    let mut rows = Vec::new();
    let mut table = Vec::new();
    for a in acts {
        let (layer, full_dim) = (a.layer, a.dim);
        let (a, pca) = pca_reduce(a, settings.pca, settings.seed)?;
        let k = settings.components.min(n_train).min(a.dim).max(1);
        let view = ArrayView2::from_shape((a.n, a.dim), &a.features).map_err(|e| Error::Input {
            id: layer.to_string(),
            msg: format!("activations: {e}"),
        })?;
        let pred = neural_predictivity(view, inputs.mean.view(), &PlsRegression::new(k), &cv)
            .map_err(|e| Error::Input {
                id: format!("PLS at {layer}"),
                msg: e.to_string(),
            })?;
        let (ceiling, ceiled, formula) = match &inputs.ceiling {
            Some((c, _)) => {
                let s = ceil_score(&pred.per_split, *c, settings.formula);
                (Some(*c), Some(s.ceiled), s.formula)
            }
            None => (None, None, "none".to_string()),
        };
        table.push((layer.name().to_string(), ceiled.unwrap_or(pred.mean)));
        rows.push(LayerScore {
            layer: Some(layer.name().to_string()),
            raw: pred.mean,
            ceiling,
            ceiled,
            formula,
            per_split: pred.per_split.clone(),
            details: Details::Pls(PlsDetails {
                metric: "PLS regression, median over neurons of held-out Pearson r, mean over splits".into(),
                sem: pred.sem,
                pls_components: k,
                features: full_dim,
                pca_components: pca.then_some(a.dim),
                cv: format!("10 shuffle splits, 90% train / 10% test (ChaCha8, seed {CV_SEED}), stratified when strata are given"),
                stimuli: n,
                neurons: inputs.mean.ncols(),
                ceiling_per_split: inputs.ceiling.as_ref().map(|c| c.1.clone()),
            }),
        });
    }
    let commit = layer_commitment(&table)?;
    let best = rows
        .iter()
        .find(|r| r.layer.as_deref() == Some(commit.best_layer.as_str()))
        .cloned()
        .ok_or_else(|| Error::Undefined {
            id: "pls".into(),
            msg: format!("committed layer {} not scored", commit.best_layer),
        })?;
    rows.push(LayerScore {
        layer: None,
        details: Details::Committed(CommittedDetails {
            committed_layer: commit.best_layer,
            selection: "the layer with the highest cross-validated (held-out) score; the same splits select and report it, so the committed score is optimistic by the choice among layers".into(),
            table: commit.table,
        }),
        ..best
    });
    Ok(rows)
}

impl Benchmark for Pls {
    fn id(&self) -> &str {
        &self.id
    }

    fn version(&self) -> &str {
        VERSION
    }

    fn quantity(&self) -> &'static str {
        "PLS predictivity (ceiled if a ceiling exists)"
    }

    fn describe(&self) -> Value {
        let mut v = json!({
            "id": self.id, "version": VERSION,
            "pca": self.settings.pca,
            "ceiling": self.inputs.ceiling.as_ref().map(|c| c.0),
            "formula": self.settings.formula.name(),
        });
        if let (Some(o), Some(f)) = (v.as_object_mut(), self.files.as_object()) {
            o.extend(f.clone());
        }
        v
    }

    fn score(&self, model: &Model, ctx: &mut Context) -> Result<BenchmarkScore> {
        let ids = &self.inputs.data.stimulus_ids;
        let folder = ctx.image_folder(&self.images, model.size)?;
        let px = images_in_order(&folder, &self.images, ids, model.size, &self.id)?;
        let acts = model.extract(&px, ids.len(), model.size, &model.layers, ctx.chunk)?;
        let rows = score_layers(acts, &self.inputs, &self.settings).map_err(|e| Error::Model {
            model: model.name.clone(),
            msg: e.to_string(),
        })?;
        let mut warnings = Vec::new();
        if self.inputs.ceiling.is_none() {
            warnings.push(format!(
                "{}: one repetition per stimulus, no split-half ceiling; rows are not ceiled",
                self.id
            ));
        }
        Ok(BenchmarkScore {
            id: self.id.clone(),
            model: model.name.clone(),
            version: VERSION.into(),
            rows,
            seeds: BTreeMap::from([
                ("cv_splits".to_string(), CV_SEED),
                ("ceiling_split_halves".to_string(), self.ceiling_seed),
                ("pca".to_string(), self.settings.seed),
            ]),
            split: None,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use brainlike_core::extract::Layer;
    use ndarray::Array3;

    #[test]
    fn a_layer_carrying_the_signal_wins_the_commitment() {
        // 40 stimuli in 4 classes, 3 neurons x 2 repetitions driven by the class.
        let n = 40;
        let mut st = 9u64;
        let mut noise = move || {
            st = st.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (st >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let class = |i: usize| (i % 4) as f64;
        let responses = Array3::from_shape_fn((n, 3, 2), |(i, j, _)| {
            class(i) * (j as f64 + 1.0) + 0.1 * noise()
        });
        let data = NeuralData {
            responses,
            stimulus_ids: (0..n).map(|i| format!("s{i}")).collect(),
            strata: Some((0..n).map(|i| format!("c{}", i % 4)).collect()),
        };
        let inputs = PlsInputs::new(data, 0).unwrap();
        assert!(inputs.ceiling.as_ref().unwrap().0 > 0.9);
        let layer = |tap, f: &dyn Fn(usize, usize) -> f32| Activations {
            layer: Layer::Tap(tap),
            n,
            dim: 5,
            features: (0..n * 5).map(|k| f(k / 5, k % 5)).collect(),
        };
        let good = layer(brainlike_core::models::cornet_z::V4, &|i, d| {
            class(i) as f32 * (d as f32 + 1.0) + 0.01 * d as f32
        });
        let mut st2 = 3u64;
        let bad_vals: Vec<f32> = (0..n * 5)
            .map(|_| {
                st2 = st2.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (st2 >> 40) as f32 / (1u64 << 24) as f32
            })
            .collect();
        let bad = layer(brainlike_core::models::cornet_z::V1, &|i, d| {
            bad_vals[i * 5 + d]
        });
        let settings = PlsSettings {
            formula: CeilingFormula::RatioR,
            components: 2,
            pca: 0,
            seed: 0,
        };
        let rows = score_layers(vec![bad, good], &inputs, &settings).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].per_split.len(), 10);
        assert!(rows[1].raw > 0.9, "{}", rows[1].raw);
        assert!(rows[0].raw < rows[1].raw);
        assert_eq!(rows[2].layer, None);
        let Details::Committed(c) = &rows[2].details else {
            panic!("committed details")
        };
        assert_eq!(c.committed_layer, "v4");
        assert_eq!(rows[2].raw, rows[1].raw);
    }
}
