//! Evaluation on the test set: loss, fine and superclass accuracy, the superclass-error
//! fraction (Table 1), and the mean per-unit activation variance of a layer (§3.2).

use burn::tensor::{Device, Tensor};

use super::objective::cross_entropy;
use crate::data::batch::Batcher;
use crate::data::dataset::Dataset;
use crate::models::{Network, Tap};

/// Evaluation batch size.
pub const EVAL_BATCH: usize = 500;

/// Test-set figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy.
    pub loss: f64,
    /// Fine accuracy.
    pub acc: f64,
    /// Accuracy of the superclass implied by the predicted fine class.
    pub coarse_acc: f64,
    /// Of the errors, the fraction within the true superclass.
    pub superclass_error_frac: f64,
}

/// Evaluates `model` (no autodiff) on the first `n` images of `data`. Without superclasses the
/// superclass figures are 0.
pub fn evaluate(
    model: &Network,
    data: &dyn Dataset,
    n: usize,
    batcher: &Batcher,
    device: &Device,
) -> Evaluation {
    let idx: Vec<usize> = (0..n).collect();
    let (mut loss, mut correct, mut coarse_correct, mut errors, mut within) =
        (0.0, 0usize, 0usize, 0usize, 0usize);
    for chunk in idx.chunks(EVAL_BATCH) {
        let (x, y) = batcher.batch(data, chunk, device);
        let logits = model.forward(x);
        loss += cross_entropy(logits.clone(), y).into_scalar::<f64>() * chunk.len() as f64;
        let pred: Vec<i64> = logits
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .expect("i64 predictions");
        for (&i, &p) in chunk.iter().zip(&pred) {
            let (t, p) = (data.label(i), p as usize);
            let same_super = match (data.superclass_of_class(p), data.superclass(i)) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            };
            if p == t {
                correct += 1;
            } else {
                errors += 1;
                within += same_super as usize;
            }
            coarse_correct += same_super as usize;
        }
    }
    let n = n.max(1) as f64;
    Evaluation {
        loss: loss / n,
        acc: correct as f64 / n,
        coarse_acc: coarse_correct as f64 / n,
        superclass_error_frac: if errors == 0 {
            0.0
        } else {
            within as f64 / errors as f64
        },
    }
}

/// Mean over units of the variance of each unit's activation across the first `n` images
/// (a unit = one channel at one position of the tapped layer's output).
pub fn activation_variance(
    model: &Network,
    data: &dyn Dataset,
    n: usize,
    batcher: &Batcher,
    tap: Tap,
    device: &Device,
) -> f64 {
    let idx: Vec<usize> = (0..n).collect();
    let mut sum: Option<Tensor<1>> = None;
    let mut sumsq: Option<Tensor<1>> = None;
    for chunk in idx.chunks(EVAL_BATCH) {
        let (x, _) = batcher.batch(data, chunk, device);
        let a = model.activations(x, tap).flatten::<2>(1, 3); // [batch, units]
        let s = a.clone().sum_dim(0).squeeze_dim::<1>(0);
        let q = (a.clone() * a).sum_dim(0).squeeze_dim::<1>(0);
        sum = Some(match sum {
            Some(t) => t + s,
            None => s,
        });
        sumsq = Some(match sumsq {
            Some(t) => t + q,
            None => q,
        });
    }
    let (Some(sum), Some(sumsq)) = (sum, sumsq) else {
        return 0.0;
    };
    let s: Vec<f64> = sum
        .into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .expect("f64");
    let q: Vec<f64> = sumsq
        .into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .expect("f64");
    let nf = n as f64;
    let var: f64 = s
        .iter()
        .zip(&q)
        .map(|(s, q)| (q / nf - (s / nf).powi(2)).max(0.0) * nf / (nf - 1.0).max(1.0))
        .sum();
    var / s.len().max(1) as f64
}
