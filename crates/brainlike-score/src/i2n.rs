//! `custom.behavior-i2n`: behavioural consistency with 2AFC trials you supply.
//!
//! Penultimate features, explicit read-out (z-scored, multinomial logistic regression,
//! Brain-Score's `C = 1e-3`, out-of-fold probabilities from stratified k-fold), Brain-Score's
//! i2n consistency with its trial split-half ceiling.
//!
//! Rajalingham, Issa, Bashivan, Kar, Schmidt & DiCarlo (2018), "Large-scale, high-resolution
//! comparison of the core visual object recognition behavior of humans, monkeys, and
//! state-of-the-art deep artificial neural networks", *J. Neurosci.* 38(33).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use brainlike_core::extract::{Activations, Layer};
use brainlike_metrics::ceiling::CeilingFormula;
use brainlike_metrics::i2n::{
    I2nConfig, Trial, cross_validated_probabilities, i2n_score, read_trials_csv,
};
use brainlike_metrics::logistic::LogisticRegression;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Benchmark;
use crate::context::{Context, images_in_order, stem};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::score::{BenchmarkScore, Details, LayerScore};

/// Version of this benchmark's definition.
pub const VERSION: &str = "1";

/// The benchmark id.
pub const ID: &str = "custom.behavior-i2n";

/// Trials with the images and classes they name.
#[derive(Debug, Clone)]
pub struct I2nInputs {
    /// Trials (image ids without extension).
    pub trials: Vec<Trial>,
    /// Images with trials, in the folder's order.
    pub ids: Vec<String>,
    /// Class names, sorted.
    pub classes: Vec<String>,
    /// True class of each image (index into `classes`).
    pub truth: Vec<usize>,
}

impl I2nInputs {
    /// Checks `trials` (read from `path`) against the images of a folder (`folder_ids`).
    pub fn new(path: &Path, trials: Vec<Trial>, folder_ids: &[String]) -> Result<Self> {
        let bad = |msg: String| Error::Input {
            id: path.display().to_string(),
            msg,
        };
        if trials.is_empty() {
            return Err(bad("no trials".into()));
        }
        let mut true_of: HashMap<String, String> = HashMap::new();
        for t in &trials {
            let id = stem(&t.image_id).to_string();
            match true_of.get(&id) {
                Some(l) if *l != t.true_label => {
                    return Err(bad(format!(
                        "image {:?} has two true labels, {l:?} and {:?}",
                        t.image_id, t.true_label
                    )));
                }
                _ => {
                    true_of.insert(id, t.true_label.clone());
                }
            }
        }
        let mut classes: Vec<String> = true_of.values().cloned().collect();
        classes.sort();
        classes.dedup();
        if let Some(t) = trials
            .iter()
            .find(|t| classes.binary_search(&t.distractor_label).is_err())
        {
            return Err(bad(format!(
                "distractor class {:?} is the true class of no image (i2n needs images of every class)",
                t.distractor_label
            )));
        }
        let ids: Vec<String> = folder_ids
            .iter()
            .filter(|i| true_of.contains_key(i.as_str()))
            .cloned()
            .collect();
        if ids.len() != true_of.len() {
            let missing = true_of.keys().find(|k| !folder_ids.contains(k)).cloned();
            return Err(bad(format!(
                "trial image {:?} has no image in the image folder",
                missing.unwrap_or_default()
            )));
        }
        let truth = ids
            .iter()
            .map(|i| {
                classes
                    .binary_search(&true_of[i])
                    .map_err(|_| bad(format!("no class for image {i:?}")))
            })
            .collect::<Result<_>>()?;
        let trials = trials
            .into_iter()
            .map(|mut t| {
                t.image_id = stem(&t.image_id).to_string();
                t
            })
            .collect();
        Ok(Self {
            trials,
            ids,
            classes,
            truth,
        })
    }
}

/// Settings of the read-out and the consistency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct I2nSettings {
    /// Ceiling formula.
    pub formula: CeilingFormula,
    /// Inverse L2 strength of the logistic read-out.
    pub readout_c: f64,
    /// Folds of the cross-validated read-out.
    pub folds: usize,
    /// Seed of the folds and of the trial halves.
    pub seed: u64,
}

/// Details of the row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct I2nDetails {
    /// What is computed.
    pub metric: String,
    /// The read-out.
    pub readout: String,
    /// Trial split-half ceiling per repetition.
    pub ceiling_per_split: Vec<f64>,
    /// Images.
    pub images: usize,
    /// Classes.
    pub classes: usize,
    /// Trials.
    pub trials: usize,
}

/// The i2n row of penultimate features `acts` (rows in the order of `inputs.ids`).
pub fn score_features(
    acts: &Activations,
    inputs: &I2nInputs,
    settings: &I2nSettings,
) -> Result<LayerScore> {
    let view =
        ArrayView2::from_shape((acts.n, acts.dim), &acts.features).map_err(|e| Error::Input {
            id: ID.into(),
            msg: format!("activations: {e}"),
        })?;
    let classifier = LogisticRegression {
        c: settings.readout_c,
        ..LogisticRegression::default()
    };
    let probs = cross_validated_probabilities(
        view,
        &inputs.truth,
        inputs.classes.len(),
        &classifier,
        settings.folds,
        settings.seed,
    )?;
    let cfg = I2nConfig {
        formula: settings.formula,
        seed: settings.seed,
        ..I2nConfig::default()
    };
    let r = i2n_score(
        probs.view(),
        &inputs.ids,
        &inputs.classes,
        &inputs.truth,
        &inputs.trials,
        &cfg,
    )?;
    if !r.raw.is_finite() || !r.ceiling.is_finite() {
        return Err(Error::Undefined {
            id: ID.into(),
            msg: format!(
                "i2n is undefined (raw {}, ceiling {}): fewer than 3 (image, distractor) combinations have trials in both random trial halves; more trials per image and distractor are needed",
                r.raw, r.ceiling
            ),
        });
    }
    Ok(LayerScore {
        layer: Some(Layer::Penultimate.name().into()),
        raw: r.raw,
        ceiling: Some(r.ceiling),
        ceiled: Some(r.ceiled),
        formula: r.formula,
        per_split: r.per_split,
        details: Details::I2n(I2nDetails {
            metric: "i2n (Rajalingham 2018 / Brain-Score): Pearson r of model and half-trial normalised d'".into(),
            readout: format!(
                "z-scored penultimate features ({} dims), multinomial logistic regression C = {}, out-of-fold probabilities from {}-fold stratified CV",
                acts.dim, settings.readout_c, settings.folds
            ),
            ceiling_per_split: r.ceiling_per_split,
            images: inputs.ids.len(),
            classes: inputs.classes.len(),
            trials: inputs.trials.len(),
        }),
    })
}

/// The i2n benchmark on one trial file.
#[derive(Debug)]
pub struct I2n {
    id: String,
    behavior: PathBuf,
    images: PathBuf,
    trials: Vec<Trial>,
    settings: I2nSettings,
    inputs: OnceLock<I2nInputs>,
}

impl I2n {
    /// Reads the trials of `behavior` (CSV `image_id,true_label,distractor_label,
    /// choice_label[,subject]`); images in `images`.
    pub fn new(behavior: PathBuf, images: PathBuf, settings: I2nSettings) -> Result<Self> {
        let trials = read_trials_csv(&behavior)?;
        Ok(Self {
            id: ID.into(),
            behavior,
            images,
            trials,
            settings,
            inputs: OnceLock::new(),
        })
    }

    /// The same benchmark under another id (a published data set's, e.g.
    /// `Rajalingham2018-i2n`).
    pub fn with_id(mut self, id: &str) -> Self {
        self.id = id.to_string();
        self
    }
}

impl Benchmark for I2n {
    fn id(&self) -> &str {
        &self.id
    }

    fn version(&self) -> &str {
        VERSION
    }

    fn quantity(&self) -> &'static str {
        "i2n"
    }

    fn describe(&self) -> Value {
        json!({
            "id": self.id, "version": VERSION,
            "behavior": self.behavior.display().to_string(),
            "images": self.images.display().to_string(),
            "formula": self.settings.formula.name(),
        })
    }

    fn score(&self, model: &Model, ctx: &mut Context) -> Result<BenchmarkScore> {
        let folder = ctx.image_folder(&self.images, model.size)?;
        let inputs = match self.inputs.get() {
            Some(i) => i,
            None => {
                let i = I2nInputs::new(&self.behavior, self.trials.clone(), &folder.0)?;
                self.inputs.get_or_init(|| i)
            }
        };
        let px = images_in_order(&folder, &self.images, &inputs.ids, model.size, &self.id)?;
        let acts = model.extract(
            &px,
            inputs.ids.len(),
            model.size,
            &[Layer::Penultimate],
            ctx.chunk,
        )?;
        let row = score_features(&acts[0], inputs, &self.settings)?;
        Ok(BenchmarkScore {
            id: self.id.clone(),
            model: model.name.clone(),
            version: VERSION.into(),
            rows: vec![row],
            seeds: BTreeMap::from([
                ("readout_folds".to_string(), self.settings.seed),
                ("trial_halves".to_string(), self.settings.seed),
            ]),
            split: None,
            warnings: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(image: &str, t: &str, d: &str, c: &str) -> Trial {
        Trial {
            image_id: image.into(),
            true_label: t.into(),
            distractor_label: d.into(),
            choice_label: c.into(),
            subject: None,
        }
    }

    /// 30 images in 3 classes; features separate the classes; every image against both other
    /// classes, 20 trials each.
    fn synthetic(trials_per: usize) -> (Activations, I2nInputs) {
        let classes = ["a", "b", "c"];
        let n = 30;
        let ids: Vec<String> = (0..n).map(|i| format!("img{i:02}")).collect();
        let mut st = 5u64;
        let mut rnd = move || {
            st = st.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (st >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut trials = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let t = classes[i % 3];
            for d in classes.iter().filter(|&&d| d != t) {
                for _ in 0..trials_per {
                    let c = if rnd() < 0.1 + 0.02 * (i / 3) as f64 {
                        d
                    } else {
                        t
                    };
                    trials.push(trial(&format!("{id}.png"), t, d, c));
                }
            }
        }
        let features: Vec<f32> = (0..n)
            .flat_map(|i| {
                let mut f = [0.0f32; 4];
                f[i % 3] = 1.0 + (i / 3) as f32 * 0.05;
                f[3] = rnd() as f32;
                f
            })
            .collect();
        let acts = Activations {
            layer: Layer::Penultimate,
            n,
            dim: 4,
            features,
        };
        let inputs = I2nInputs::new(Path::new("trials.csv"), trials, &ids).unwrap();
        (acts, inputs)
    }

    #[test]
    fn scores_a_synthetic_readout() {
        let (acts, inputs) = synthetic(20);
        assert_eq!(inputs.classes, ["a", "b", "c"]);
        assert_eq!(inputs.trials[0].image_id, "img00", "extension dropped");
        let settings = I2nSettings {
            formula: CeilingFormula::RatioR,
            readout_c: 1e-3,
            folds: 3,
            seed: 0,
        };
        let row = score_features(&acts, &inputs, &settings).unwrap();
        assert!(row.raw.is_finite() && (-1.0..=1.0).contains(&row.raw));
        assert_eq!(row.per_split.len(), 2);
        assert_eq!(row.layer.as_deref(), Some("penultimate"));
        assert_eq!(score_features(&acts, &inputs, &settings).unwrap(), row);
    }

    #[test]
    fn too_few_trials_are_an_error_not_a_panic() {
        // One trial per (image, distractor): trial halves miss combinations.
        let (acts, mut inputs) = synthetic(1);
        inputs.trials.truncate(4);
        let settings = I2nSettings {
            formula: CeilingFormula::RatioR,
            readout_c: 1e-3,
            folds: 3,
            seed: 0,
        };
        let err = score_features(&acts, &inputs, &settings).unwrap_err();
        assert!(matches!(err, Error::Undefined { .. }), "{err}");
    }

    #[test]
    fn bad_trial_files_are_named() {
        let ids = vec!["x".to_string()];
        let err = I2nInputs::new(Path::new("t.csv"), vec![trial("y", "a", "a", "a")], &ids)
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.csv") && err.contains("\"y\""), "{err}");
        let err = I2nInputs::new(Path::new("t.csv"), vec![trial("x", "a", "b", "a")], &ids)
            .unwrap_err()
            .to_string();
        assert!(err.contains("distractor class \"b\""), "{err}");
    }
}
