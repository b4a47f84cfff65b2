//! Cross-entropy with hard or soft targets, optional label smoothing and per-sample weights.
//!
//! With hard labels, no smoothing and uniform weights it is exactly the first paper's
//! `−mean log softmax(logits)[y]` (the same operations, so the same bits). Soft targets `q`
//! (per-class weights summing to 1, e.g. from CutMix) give `−mean Σ_c q_c log p_c`; label
//! smoothing ε mixes the targets with the uniform distribution as PyTorch's
//! `CrossEntropyLoss(label_smoothing=ε)` does: `q' = (1 − ε) q + ε / classes`. Per-sample weights
//! `w` give `Σ_i w_i ℓ_i / Σ_i w_i`.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

use crate::train::step::{Objective, StepView, Targets, Term};

/// The classification term.
#[derive(Debug, Clone)]
pub struct CrossEntropy {
    /// Label smoothing ε in [0, 1).
    pub label_smoothing: f64,
}

impl Objective for CrossEntropy {
    fn name(&self) -> &'static str {
        "ce"
    }

    fn loss(&mut self, view: &StepView) -> Term {
        let value = cross_entropy_with(
            view.logits.clone(),
            &view.batch.targets,
            view.batch.weights.clone(),
            self.label_smoothing,
        );
        Term {
            name: "ce",
            value,
            logs: Vec::new(),
        }
    }
}

/// Mean cross-entropy of `logits` `[batch, classes]` against hard `targets` `[batch]`; `[1]`.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let [n, _] = logits.dims();
    let logp = log_softmax(logits, 1); // [batch, classes]
    let picked = logp.gather(1, targets.reshape([n, 1])); // [batch, 1]
    picked.mean().neg()
}

/// Cross-entropy against hard or soft targets with label smoothing and sample weights; `[1]`.
pub fn cross_entropy_with(
    logits: Tensor<2>,
    targets: &Targets,
    weights: Option<Tensor<1>>,
    label_smoothing: f64,
) -> Tensor<1> {
    if let (Targets::Hard(y), None, 0.0) = (targets, &weights, label_smoothing) {
        return cross_entropy(logits, y.clone());
    }
    let [n, classes] = logits.dims();
    let q: Tensor<2> = match targets {
        Targets::Hard(y) => y.clone().one_hot::<2>(classes).float(), // [batch, classes]
        Targets::Soft(q) => q.clone(),
    };
    let q = if label_smoothing > 0.0 {
        q * (1.0 - label_smoothing) + label_smoothing / classes as f64
    } else {
        q
    };
    let logp = log_softmax(logits, 1); // [batch, classes]
    let per_sample = (q * logp).sum_dim(1).reshape([n]).neg(); // [batch]
    match weights {
        None => per_sample.mean(),
        Some(w) => (per_sample * w.clone()).sum() / w.sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn logits(d: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(
                vec![0.3f32, -1.2, 2.0, 0.0, 0.5, 0.1, -0.7, 1.1, 0.9],
                [3, 3],
            ),
            d,
        )
    }

    fn labels(d: &Device) -> Tensor<1, Int> {
        Tensor::from_data(TensorData::new(vec![2i64, 0, 1], [3]), d)
    }

    fn scalar(t: Tensor<1>) -> f64 {
        t.into_scalar::<f64>()
    }

    #[test]
    fn one_hot_soft_targets_equal_hard_labels() {
        let d = Device::default();
        let hard = scalar(cross_entropy(logits(&d), labels(&d)));
        let onehot = Tensor::<2>::from_data(
            TensorData::new(vec![0.0f32, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0], [3, 3]),
            &d,
        );
        let soft = scalar(cross_entropy_with(
            logits(&d),
            &Targets::Soft(onehot),
            None,
            0.0,
        ));
        assert!((hard - soft).abs() < 1e-6, "{hard} vs {soft}");
        // Uniform weights change nothing; weights (0, 1, 0) pick sample 1.
        let w = |v: Vec<f32>| Some(Tensor::<1>::from_data(TensorData::new(v, [3]), &d));
        let uni = scalar(cross_entropy_with(
            logits(&d),
            &Targets::Hard(labels(&d)),
            w(vec![2.0, 2.0, 2.0]),
            0.0,
        ));
        assert!((hard - uni).abs() < 1e-6);
        let one = scalar(cross_entropy_with(
            logits(&d),
            &Targets::Hard(labels(&d)),
            w(vec![0.0, 1.0, 0.0]),
            0.0,
        ));
        // sample 1: logits (0, 0.5, 0.1), label 0
        let lse = (1f64 + 0.5f64.exp() + 0.1f64.exp()).ln();
        assert!((one - lse).abs() < 1e-6, "{one} vs {lse}");
    }

    #[test]
    fn label_smoothing_matches_pytorch_definition() {
        // PyTorch: (1 − ε)·CE(y) + ε·mean_c(−log p_c)
        let d = Device::default();
        let eps = 0.1;
        let got = scalar(cross_entropy_with(
            logits(&d),
            &Targets::Hard(labels(&d)),
            None,
            eps,
        ));
        let rows = [[0.3f64, -1.2, 2.0], [0.0, 0.5, 0.1], [-0.7, 1.1, 0.9]];
        let ys = [2usize, 0, 1];
        let mut want = 0.0;
        for (r, &y) in rows.iter().zip(&ys) {
            let lse = r.iter().map(|v| v.exp()).sum::<f64>().ln();
            let nll = lse - r[y];
            let uniform = r.iter().map(|v| lse - v).sum::<f64>() / 3.0;
            want += (1.0 - eps) * nll + eps * uniform;
        }
        want /= 3.0;
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
}
