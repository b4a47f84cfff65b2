//! `Federer2019.V1-rsa` (and `Federer2019.<pair set>-rsa`, `custom.<file>-rsa`): V1
//! similarity of a network's representations on the monkey-V1 teacher's stimuli.
//!
//! Federer, Xu, Fyshe & Zylberberg (2019/2020), "Improved object recognition using neural
//! networks trained to mimic the brain's statistical properties", *Neural Networks* 131.
//!
//! For every teacher pair the model's cosine distance (`1 − cos`) between the flattened
//! layer activations of the two stimuli is compared with the monkey-V1 cosine distance:
//! Spearman ρ with average ranks for ties (rsatoolbox `spearman`), Pearson r beside it, and a
//! seeded paired bootstrap over stimuli (percentile 95 % CI). There is no noise ceiling for a
//! pair list (one distance per pair, no repetitions): `formula = none`, ceiled = raw.
//!
//! **Held-out split** (version 2). The pack's stimuli are split by stimulus (the run's
//! `teacher.holdout_fraction` and `teacher.split_seed`, see
//! [`brainlike_core::data::teacher::StimulusSplit`]); the trainer's teacher sees only pairs
//! with both stimuli in the teacher set. The main figure (`raw`) is ρ on the *held-out*
//! pairs (both stimuli held out); the *in-sample* pairs (both in the teacher set) and the
//! *floor* — the same architecture freshly initialised from the run's seed, on both pair
//! subsets — stand beside it, each with its bootstrap CI. A run trained on every pair
//! (`holdout_fraction = 0`, or a `config.toml` from before the split) is scored on the
//! default split with a warning: its held-out pairs were in its training set.

use std::collections::BTreeMap;

use brainlike_core::TrainConfig;
use brainlike_core::config::DEFAULT_HOLDOUT_FRACTION;
use brainlike_core::data::teacher::{PAIR_SETS, PackSource, PairSet, StimulusSplit};
use brainlike_core::extract::Activations;
use brainlike_metrics::{CompareMethod, compare_vectors, pair_cosine_distances, stats};
use ndarray::ArrayView2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Benchmark;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::score::{BenchmarkScore, Details, LayerScore};

/// Version of this benchmark's definition: 2 = main figure on held-out pairs, ChaCha8
/// bootstrap (1 = every pair, in-sample).
pub const VERSION: &str = "2";

/// Citation of the teacher data and the method.
pub const CITATION: &str = "Federer C, Xu H, Fyshe A, Zylberberg J (2020). Improved object recognition using neural networks trained to mimic the brain's statistical properties. Neural Networks 131:103-114.";

/// The benchmark id for a pair set name or file: `Federer2019.V1-rsa` for `v1`,
/// `Federer2019.<set>-rsa` for a shipped control, `custom.<file stem>-rsa` for a file.
pub fn rsa_id(pairs: &str) -> String {
    if pairs == "v1" {
        "Federer2019.V1-rsa".into()
    } else if PAIR_SETS.contains(&pairs) {
        format!("Federer2019.{pairs}-rsa")
    } else {
        let stem = std::path::Path::new(pairs)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("pairs");
        format!("custom.{stem}-rsa")
    }
}

/// The V1 RSA benchmark on one pair set.
#[derive(Debug, Clone)]
pub struct Federer2019Rsa {
    id: String,
    pairs: String,
    pack: PackSource,
    bootstrap: usize,
    seed: u64,
}

impl Federer2019Rsa {
    /// Scores against `pairs` (a set of `pack` or a TSV) with `bootstrap` resamples seeded
    /// by `seed` (0 resamples = no CI).
    pub fn new(pairs: &str, pack: PackSource, bootstrap: usize, seed: u64) -> Self {
        Self {
            id: rsa_id(pairs),
            pairs: pairs.to_string(),
            pack,
            bootstrap,
            seed,
        }
    }
}

/// The stimulus split a score used, as recorded in `scores.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitRecord {
    /// Fraction of the stimuli held out.
    pub holdout_fraction: f64,
    /// Seed of the split.
    pub split_seed: u64,
    /// The run's own `teacher.holdout_fraction` (0: it trained on every pair).
    pub run_holdout_fraction: f64,
    /// Whether the run's teacher trained on the held-out pairs (so the held-out figure is
    /// in-sample too).
    pub heldout_overlaps_training: bool,
    /// Number of held-out stimuli.
    pub heldout_stimuli: usize,
    /// Number of teacher-set stimuli.
    pub teacher_stimuli: usize,
    /// FNV-1a hash of the held-out ids ([`StimulusSplit::heldout_hash`]).
    pub heldout_hash: String,
    /// The held-out stimulus ids (pack numbers), ascending.
    pub heldout_ids: Vec<u32>,
}

/// The split to score a run with: its own, or — for a run that trained on every pair — the
/// default fraction with its split seed, flagged as overlapping training when its teacher
/// was on.
pub fn scoring_split(cfg: &TrainConfig, num_stimuli: usize) -> (StimulusSplit, SplitRecord) {
    let own = cfg.teacher.holdout_fraction;
    let fraction = if own > 0.0 {
        own
    } else {
        DEFAULT_HOLDOUT_FRACTION
    };
    let split = StimulusSplit::new(num_stimuli, fraction, cfg.teacher.split_seed);
    let record = SplitRecord {
        holdout_fraction: fraction,
        split_seed: cfg.teacher.split_seed,
        run_holdout_fraction: own,
        heldout_overlaps_training: own == 0.0 && cfg.teacher.enabled(),
        heldout_stimuli: split.heldout.len(),
        teacher_stimuli: split.teacher.len(),
        heldout_hash: split.heldout_hash(),
        heldout_ids: split.heldout.clone(),
    };
    (split, record)
}

/// A percentile bootstrap of ρ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bootstrap {
    /// Resamples drawn.
    pub resamples: usize,
    /// Resamples with a finite ρ (the rest are dropped).
    pub finite: usize,
    /// Confidence level of the interval.
    pub level: f64,
    /// Mean of the bootstrap values.
    pub mean: f64,
    /// Standard deviation (ddof = 1) of the bootstrap values.
    pub se: f64,
    /// 2.5th percentile.
    pub ci_low: f64,
    /// 97.5th percentile.
    pub ci_high: f64,
    /// Seed (ChaCha8, stream = resample number).
    pub seed: u64,
    /// How resamples are drawn.
    pub method: String,
}

/// ρ on one subset of pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairScore {
    /// Spearman ρ of model vs teacher distances.
    pub spearman: f64,
    /// Pearson r.
    pub pearson: f64,
    /// Pairs compared.
    pub n_pairs: usize,
    /// Pairs whose model distance is undefined (a zero activation vector).
    pub n_pairs_undefined: usize,
    /// Distinct stimuli in those pairs.
    pub n_stimuli: usize,
    /// Bootstrap over those stimuli (`None` with 0 resamples).
    pub bootstrap: Option<Bootstrap>,
}

/// Details of one layer's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RsaDetails {
    /// What is computed.
    pub metric: String,
    /// Pair set name or file.
    pub pairs: String,
    /// Which pairs the main figure uses.
    pub subset: String,
    /// The main figure: held-out pairs (both stimuli held out of the teacher).
    #[serde(flatten)]
    pub heldout: PairScore,
    /// Teacher-set pairs (both stimuli in the teacher set; what the teacher trained on).
    pub in_sample: PairScore,
    /// Untrained network (same architecture, initialised from the run's seed), held-out pairs.
    pub floor: PairScore,
    /// Untrained network, teacher-set pairs.
    pub floor_in_sample: PairScore,
    /// Flattened features of the layer.
    pub features: usize,
    /// Why there is no ceiling.
    pub ceiling: String,
}

/// ρ of model vs teacher distances on `set`, bootstrapped over its stimuli.
pub fn pair_score(
    acts: &Activations,
    set: &PairSet,
    bootstrap: usize,
    seed: u64,
) -> Result<PairScore> {
    let view =
        ArrayView2::from_shape((acts.n, acts.dim), &acts.features).map_err(|e| Error::Input {
            id: acts.layer.to_string(),
            msg: format!("activations: {e}"),
        })?;
    let pairs: Vec<(usize, usize)> = set
        .pairs
        .iter()
        .map(|p| (p.a as usize, p.b as usize))
        .collect();
    let teacher: Vec<f64> = set.pairs.iter().map(|p| f64::from(p.distance)).collect();
    let d = pair_cosine_distances(view, &pairs)?;
    let spearman = compare_vectors(&d, &teacher, CompareMethod::Spearman)?;
    let pearson = compare_vectors(&d, &teacher, CompareMethod::Pearson)?;
    let mut stim: Vec<usize> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    stim.sort_unstable();
    stim.dedup();
    let boot = (bootstrap > 0).then(|| {
        let s = bootstrap_pairs(&d, &teacher, &pairs, &stim, bootstrap, seed);
        Bootstrap {
            resamples: bootstrap,
            finite: s.len(),
            level: 0.95,
            mean: stats::mean(&s),
            se: stats::std(&s, 1),
            ci_low: stats::percentile(&s, 2.5),
            ci_high: stats::percentile(&s, 97.5),
            seed,
            method: "stimuli of these pairs drawn with replacement, pair weight count(a)*count(b), paired across layers and models".into(),
        }
    });
    Ok(PairScore {
        spearman,
        pearson,
        n_pairs: pairs.len(),
        n_pairs_undefined: d.iter().filter(|v| v.is_nan()).count(),
        n_stimuli: stim.len(),
        bootstrap: boot,
    })
}

/// Bootstrap over stimuli of the Spearman correlation between model and teacher distances on
/// a pair list: the stimuli `stim` that occur in the pairs are drawn with replacement
/// (ChaCha8 seeded with `seed`, stream = resample number: the same draws for every layer and
/// model, so differences are paired), each pair enters with weight `count(a) · count(b)`
/// (rsatoolbox's `subsample_pattern` applied to a pair list), and ρ is recomputed. Returns
/// the finite values.
fn bootstrap_pairs(
    model: &[f64],
    teacher: &[f64],
    pairs: &[(usize, usize)],
    stim: &[usize],
    reps: usize,
    seed: u64,
) -> Vec<f64> {
    let max = stim.last().copied().unwrap_or(0) + 1;
    (0..reps)
        .into_par_iter()
        .filter_map(|r| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(r as u64);
            let mut count = vec![0u32; max];
            for _ in 0..stim.len() {
                count[stim[rng.random_range(0..stim.len())]] += 1;
            }
            let (mut m, mut t) = (Vec::new(), Vec::new());
            for (k, &(a, b)) in pairs.iter().enumerate() {
                for _ in 0..count[a] * count[b] {
                    m.push(model[k]);
                    t.push(teacher[k]);
                }
            }
            compare_vectors(&m, &t, CompareMethod::Spearman)
                .ok()
                .filter(|v| v.is_finite())
        })
        .collect()
}

/// One row per layer: `trained[i]` and `untrained[i]` are the same layer of the trained
/// network and of its untrained twin; `raw` is ρ on the held-out pairs.
pub fn score_layers(
    trained: &[Activations],
    untrained: &[Activations],
    set: &PairSet,
    split: &StimulusSplit,
    bootstrap: usize,
    seed: u64,
) -> Result<Vec<LayerScore>> {
    let held = set.within(&split.heldout)?;
    let inside = set.within(&split.teacher)?;
    trained
        .iter()
        .zip(untrained)
        .map(|(a, f)| -> Result<LayerScore> {
            let heldout = pair_score(a, &held, bootstrap, seed)?;
            let rho = heldout.spearman;
            Ok(LayerScore {
                layer: Some(a.layer.name().to_string()),
                raw: rho,
                ceiling: None,
                ceiled: Some(rho),
                formula: "none".into(),
                per_split: vec![],
                details: Details::Rsa(Box::new(RsaDetails {
                    metric: "spearman (average ranks for ties) of model vs teacher cosine distances".into(),
                    pairs: set.name.clone(),
                    subset: "held-out: pairs whose two stimuli are both held out of the teacher (see split)".into(),
                    heldout,
                    in_sample: pair_score(a, &inside, bootstrap, seed)?,
                    floor: pair_score(f, &held, bootstrap, seed)?,
                    floor_in_sample: pair_score(f, &inside, bootstrap, seed)?,
                    features: a.dim,
                    ceiling: "none: no noise ceiling exists for the teacher's pair list (one distance per pair, no repetitions); ceiled = raw".into(),
                })),
            })
        })
        .collect()
}

impl Benchmark for Federer2019Rsa {
    fn id(&self) -> &str {
        &self.id
    }

    fn version(&self) -> &str {
        VERSION
    }

    fn quantity(&self) -> &'static str {
        "Spearman rho, model vs teacher cosine distances, held-out pairs"
    }

    fn describe(&self) -> Value {
        json!({
            "id": self.id, "version": VERSION, "pairs": self.pairs,
            "stimuli": "teacher pack stimuli (956 grayscale 227x227 PNG)",
            "pack": match &self.pack { PackSource::Builtin => "built-in".to_string(), PackSource::Dir(d) => d.display().to_string() },
            "ceiling": "none",
            "main": "held-out pairs (both stimuli held out of the teacher by the run's split); in-sample pairs and the untrained floor beside it",
            "citation": CITATION,
        })
    }

    fn score(&self, model: &Model, ctx: &mut Context) -> Result<BenchmarkScore> {
        let stimuli = ctx.teacher_stimuli(&self.pack, model.size)?;
        let set = ctx.pair_set(&self.pack, &self.pairs, stimuli.count)?;
        let (split, record) = scoring_split(&model.config, stimuli.count);
        let n = stimuli.count;
        let trained = model.extract(&stimuli.pixels, n, stimuli.size, &model.layers, ctx.chunk)?;
        let twin = model.untrained()?;
        let untrained = model.extract_with(
            &twin,
            &stimuli.pixels,
            n,
            stimuli.size,
            &model.layers,
            ctx.chunk,
        )?;
        let rows = score_layers(
            &trained,
            &untrained,
            &set,
            &split,
            self.bootstrap,
            self.seed,
        )
        .map_err(|e| Error::Input {
            id: self.id.clone(),
            msg: e.to_string(),
        })?;
        let mut warnings = Vec::new();
        if record.heldout_overlaps_training {
            warnings.push(format!(
                "{}: {}: the run trained its teacher on every pair (teacher.holdout_fraction = 0, or a config.toml from before the split), so its \"held-out\" pairs (default split {} , seed {}) were in its training set: every figure of this run is in-sample",
                self.id, model.name, record.holdout_fraction, record.split_seed
            ));
        }
        let seeds = BTreeMap::from([
            ("bootstrap".to_string(), self.seed),
            ("split".to_string(), record.split_seed),
            ("floor_init".to_string(), model.config.seed),
        ]);
        Ok(BenchmarkScore {
            id: self.id.clone(),
            model: model.name.clone(),
            version: VERSION.into(),
            rows,
            seeds,
            split: Some(record),
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use brainlike_core::data::teacher::Pair;
    use brainlike_core::extract::Layer;

    /// `n` stimuli on a circle: stimulus `i` at angle `i * 0.1` (2-d features), and every
    /// pair with its true cosine distance (so a model with these features scores ρ = 1).
    fn circle(n: usize) -> (Activations, PairSet) {
        let features: Vec<f32> = (0..n)
            .flat_map(|i| {
                let t = i as f32 * 0.1;
                [t.cos(), t.sin()]
            })
            .collect();
        let mut pairs = Vec::new();
        for a in 0..n as u32 {
            for b in a + 1..n as u32 {
                let dt = (b - a) as f32 * 0.1;
                pairs.push(Pair {
                    a,
                    b,
                    distance: 1.0 - dt.cos(),
                });
            }
        }
        let acts = Activations {
            layer: Layer::Tap(brainlike_core::models::cornet_z::V1),
            n,
            dim: 2,
            features,
        };
        (
            acts,
            PairSet {
                name: "circle".into(),
                pairs,
            },
        )
    }

    #[test]
    fn held_out_rows_use_only_held_out_pairs() {
        let n = 30;
        let (acts, set) = circle(n);
        let split = StimulusSplit::new(n, 0.3, 4);
        // The floor: random features.
        let mut st = 1u64;
        let noise = Activations {
            features: (0..n * 2)
                .map(|_| {
                    st = st.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (st >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                })
                .collect(),
            ..acts.clone()
        };
        let one = std::slice::from_ref(&acts);
        let rows = score_layers(one, &[noise], &set, &split, 50, 0).unwrap();
        assert_eq!(rows.len(), 1);
        let Details::Rsa(d) = &rows[0].details else {
            panic!("RSA details")
        };
        let k = split.heldout.len();
        assert_eq!(k, 9);
        assert_eq!(d.heldout.n_pairs, k * (k - 1) / 2, "both stimuli held out");
        assert_eq!(d.heldout.n_stimuli, k);
        let t = split.teacher.len();
        assert_eq!(d.in_sample.n_pairs, t * (t - 1) / 2);
        // ρ ≈ 1 (f32 rounding breaks the ties between pairs of equal angle).
        assert!(rows[0].raw > 0.99, "{}", rows[0].raw);
        assert_eq!(rows[0].raw, d.heldout.spearman);
        assert_eq!(rows[0].ceiled, Some(rows[0].raw));
        assert!(d.floor.spearman < 0.9, "{}", d.floor.spearman);
        let b = d.heldout.bootstrap.as_ref().unwrap();
        assert!(b.ci_low <= b.ci_high);

        // Corrupting a teacher distance of an in-sample pair leaves the held-out figure alone;
        // corrupting one of a held-out pair changes it.
        let in_teacher = |s: u32| split.teacher.binary_search(&s).is_ok();
        let mut bad = set.clone();
        let i = bad
            .pairs
            .iter()
            .position(|p| in_teacher(p.a) && in_teacher(p.b))
            .unwrap();
        bad.pairs[i].distance = 5.0;
        let again = score_layers(one, one, &bad, &split, 0, 0).unwrap();
        assert_eq!(again[0].raw, rows[0].raw);
        let j = bad
            .pairs
            .iter()
            .position(|p| !in_teacher(p.a) && !in_teacher(p.b))
            .unwrap();
        bad.pairs[j].distance = 5.0;
        let moved = score_layers(one, one, &bad, &split, 0, 0).unwrap();
        assert!(moved[0].raw < rows[0].raw);
    }

    #[test]
    fn bootstrap_is_seeded() {
        let (acts, set) = circle(20);
        let a = pair_score(&acts, &set, 30, 7).unwrap().bootstrap.unwrap();
        let b = pair_score(&acts, &set, 30, 7).unwrap().bootstrap.unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn old_runs_are_scored_on_the_default_split_with_a_flag() {
        let mut cfg = TrainConfig::default();
        let (split, rec) = scoring_split(&cfg, 956);
        assert_eq!(rec.holdout_fraction, DEFAULT_HOLDOUT_FRACTION);
        assert!(!rec.heldout_overlaps_training);
        assert_eq!(rec.heldout_ids, split.heldout);
        cfg.teacher.holdout_fraction = 0.0;
        let (old, rec) = scoring_split(&cfg, 956);
        assert_eq!(old, split, "the default split");
        assert!(rec.heldout_overlaps_training);
        cfg.teacher.ratio = 0.0;
        assert!(
            !scoring_split(&cfg, 956).1.heldout_overlaps_training,
            "no teacher"
        );
    }

    #[test]
    fn ids_name_the_pair_set() {
        assert_eq!(rsa_id("v1"), "Federer2019.V1-rsa");
        assert_eq!(rsa_id("v1_shuffled"), "Federer2019.v1_shuffled-rsa");
        assert_eq!(rsa_id("/x/my_pairs.tsv"), "custom.my_pairs-rsa");
    }
}
