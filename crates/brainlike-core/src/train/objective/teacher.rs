//! The neural teacher of Federer et al. (2019), Eq. 1, as an objective:
//!
//! `λ · Σ_k (d_model(a_k, b_k) − d_V1(a_k, b_k))²`
//!
//! over `pairs_per_step` teacher pairs sampled per step, with `d_model = 1 − cos` of the
//! flattened activations of the tapped layer for the two stimuli. λ policies: re-set every step
//! so that the term is the ratio r of the cross-entropy (`λ = r·CE/T`, detached), or static
//! (appendix A.1: a given λ, or the first step's r·CE/T frozen). The term needs the
//! cross-entropy computed before it (the first objective). The stimuli of the sampled pairs are
//! this objective's [`Probe`]: the step runs them through the model up to the tap.

use std::sync::Arc;

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::{LambdaMode, TeacherConfig};
use crate::data::PairSet;
use crate::models::Tap;
use crate::train::loss;
use crate::train::step::{Objective, Probe, StepView, Term};
use crate::train::{derive_seed, stream};

/// Teacher stimuli on the device and the pair set.
pub struct TeacherData {
    /// `[stimuli, 3, s, s]`, as they enter the network.
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
    /// Uploads the stimuli (`count` images of `3 x size x size`) to `device`.
    pub fn new(
        pixels: Vec<f32>,
        count: usize,
        size: usize,
        pairs: Arc<PairSet>,
        device: &Device,
    ) -> Self {
        let t = Tensor::<4>::from_data(TensorData::new(pixels, [count, 3, size, size]), device);
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

fn ints(v: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

/// The teacher term with its λ policy.
pub struct Teacher {
    cfg: TeacherConfig,
    data: TeacherData,
    tap: Tap,
    seed: u64,
    rng: ChaCha8Rng,
    /// The epoch `rng` was derived for (0 before the first).
    epoch: usize,
    /// A pair-stream position to continue from when `epoch` starts (a mid-epoch resume).
    resume_at: Option<(usize, u128)>,
    pending: Option<TeacherBatch>,
    /// λ of the static mode, once known.
    fixed_lambda: Option<f64>,
}

impl Teacher {
    /// The teacher of `cfg` on `data`, read out at `tap`; `seed` is the run's seed (the pair
    /// stream of epoch e is derived from it).
    pub fn new(cfg: TeacherConfig, data: TeacherData, tap: Tap, seed: u64) -> Self {
        Self {
            cfg,
            data,
            tap,
            seed,
            rng: ChaCha8Rng::seed_from_u64(0),
            epoch: 0,
            resume_at: None,
            pending: None,
            fixed_lambda: None,
        }
    }
}

impl Objective for Teacher {
    fn name(&self) -> &'static str {
        "teacher"
    }

    fn start_epoch(&mut self, epoch: usize) {
        self.rng =
            ChaCha8Rng::seed_from_u64(derive_seed(self.seed, &[stream::PAIRS, epoch as u64]));
        self.epoch = epoch;
        if let Some((e, pos)) = self.resume_at.take()
            && e == epoch
        {
            self.rng.set_word_pos(pos);
        }
    }

    fn active(&self, epoch: usize, step: u64) -> bool {
        self.cfg.epochs.active(epoch) && (!self.cfg.alternate_steps || step % 2 == 1)
    }

    fn probe(&mut self, device: &Device) -> Option<Probe> {
        let tb = self
            .data
            .sample(self.cfg.pairs_per_step, &mut self.rng, device);
        let stimuli = tb.stimuli.clone();
        self.pending = Some(tb);
        Some(Probe {
            stimuli,
            tap: self.tap,
        })
    }

    fn loss(&mut self, view: &StepView) -> Term {
        let tb = self.pending.take().expect("probe() ran before loss()");
        let acts = view.probe.clone().expect("the step read out the probe");
        let ce = &view
            .earlier
            .first()
            .expect("the teacher follows the cross-entropy")
            .value;
        let dm = loss::pair_cosine_distances(acts, tb.a, tb.b);
        let term = loss::teacher_term(dm, tb.distance, self.cfg.penalty);
        let cfg = &self.cfg;
        let lam = match (cfg.lambda_mode, self.fixed_lambda) {
            (LambdaMode::Static, Some(v)) => ce.clone().detach().zeros_like() + v,
            (LambdaMode::Static, None) if cfg.static_lambda > 0.0 => {
                self.fixed_lambda = Some(cfg.static_lambda);
                ce.clone().detach().zeros_like() + cfg.static_lambda
            }
            (LambdaMode::Static, None) => {
                // "init r": λ fixed at the first step's r·CE/T (appendix A.1).
                let l = loss::lambda(cfg, ce, &term);
                self.fixed_lambda = Some(l.clone().into_scalar::<f64>());
                l
            }
            (LambdaMode::Ratio, _) => loss::lambda(cfg, ce, &term),
        };
        Term {
            name: "teacher",
            value: lam.clone() * term.clone(),
            logs: vec![
                ("teacher_term", term.detach().inner()),
                ("lambda", lam.detach().inner()),
            ],
        }
    }

    /// λ of the static mode, and where the pair stream of the current epoch stands (used by a
    /// resume inside that epoch; a resume at an epoch end starts the next epoch's stream).
    fn state(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({
            "fixed_lambda": self.fixed_lambda,
            "pairs_epoch": self.epoch,
            "pairs_word_pos": self.rng.get_word_pos().to_string(),
        }))
    }

    fn restore(&mut self, state: &serde_json::Value) {
        self.fixed_lambda = state.get("fixed_lambda").and_then(|v| v.as_f64());
        let epoch = state.get("pairs_epoch").and_then(|v| v.as_u64());
        let pos = state
            .get("pairs_word_pos")
            .and_then(|v| v.as_str())
            .and_then(|p| p.parse::<u128>().ok());
        self.resume_at = epoch.zip(pos).map(|(e, p)| (e as usize, p));
    }
}
