//! BatchNorm2d with PyTorch's semantics (`nn.BatchNorm2d`, momentum 0.1, eps 1e-5: what
//! torchvision's ResNet and timm's EfficientNet use).
//!
//! - training ([`super::mode::training`]): normalise with the batch mean and the *biased* batch
//!   variance; update `running_mean` and `running_var` with momentum 0.1, the latter with the
//!   *unbiased* variance (`n / (n − 1)` times the biased one, `n` = batch × h × w); count
//!   `num_batches_tracked`.
//! - evaluation: normalise with the running statistics, update nothing; gradients still reach
//!   `weight` and `bias` (the teacher's pass in [`super::mode::eval_scope`]).
//!
//! - frozen (`training` flag off, as Burn's [`Module::freeze_group`] sets it for the frozen part
//!   of a fine-tuned network; timm's `FrozenBatchNorm2d`): evaluation behaviour on every
//!   device: running statistics, never updated.
//! - recomputation ([`super::mode::cumulative_statistics`], as
//!   `torch.optim.swa_utils.update_bn`): the running statistics become the plain average of the
//!   batches' statistics (momentum `1/(k+1)` for the k-th batch; the first batch restarts
//!   `num_batches_tracked` at 1).
//!
//! Burn's own `BatchNorm` differs: it updates `running_var` with the biased variance, has no
//! `num_batches_tracked`, and names its parameters `gamma`/`beta`.

use burn::module::{Flag, Module, Param, RunningState};
use burn::tensor::{Device, Tensor};

/// PyTorch's default momentum.
pub const MOMENTUM: f64 = 0.1;
/// PyTorch's default epsilon.
pub const EPS: f64 = 1e-5;

/// Batch normalisation over `[batch, channels, h, w]`.
#[derive(Module, Debug)]
pub struct BatchNorm2d {
    /// Scale γ, `[channels]` (starts at 1).
    pub weight: Param<Tensor<1>>,
    /// Shift β, `[channels]` (starts at 0).
    pub bias: Param<Tensor<1>>,
    /// Running mean, `[channels]`.
    pub running_mean: RunningState<Tensor<1>>,
    /// Running (unbiased) variance, `[channels]`.
    pub running_var: RunningState<Tensor<1>>,
    /// Training batches seen, `[1]` (PyTorch: an int64 scalar; converted on load and save).
    pub num_batches_tracked: RunningState<Tensor<1>>,
    /// Whether the layer may train (off: frozen, running statistics used and kept). A runtime
    /// flag, not saved in weight files or checkpoints.
    pub training: Param<Flag>,
    /// Momentum of the running statistics.
    pub momentum: f64,
    /// Added to the variance.
    pub eps: f64,
}

impl BatchNorm2d {
    /// A fresh layer over `channels` channels (γ = 1, β = 0, mean 0, variance 1).
    pub fn new(channels: usize, device: &Device) -> Self {
        let param = |t: Tensor<1>| {
            Param::from_tensor(if device.is_autodiff() {
                t.require_grad()
            } else {
                t
            })
        };
        Self {
            weight: param(Tensor::ones([channels], device)),
            bias: param(Tensor::zeros([channels], device)),
            running_mean: RunningState::new(Tensor::zeros([channels], device)),
            running_var: RunningState::new(Tensor::ones([channels], device)),
            num_batches_tracked: RunningState::new(Tensor::zeros([1], device)),
            training: Param::from_bool(true),
            momentum: MOMENTUM,
            eps: EPS,
        }
    }

    /// # Shapes
    /// - input and output `[batch, channels, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let device = x.device();
        if !self.trains(&device) {
            return burn::tensor::module::batch_norm(
                x,
                self.weight.val(),
                self.bias.val(),
                self.running_mean.value().to_device(&device),
                self.running_var.value().to_device(&device),
                self.eps,
            );
        }
        let [b, _, h, w] = x.dims();
        let (output, batch_mean, batch_var) =
            batch_norm_train(x, self.weight.val(), self.bias.val(), self.eps);
        self.update_statistics(b * h * w, batch_mean, batch_var);
        output
    }

    /// Whether a forward pass on `device` normalises with the batch statistics (and updates the
    /// running ones): training mode on an autodiff device, layer not frozen.
    pub fn trains(&self, device: &Device) -> bool {
        super::mode::training(device) && self.training.is_enabled()
    }

    /// Folds the statistics of one training batch (`n` values per channel; mean and *biased*
    /// variance) into the running ones and counts the batch.
    pub fn update_statistics(&self, n: usize, batch_mean: Tensor<1>, batch_var: Tensor<1>) {
        let device = batch_mean.device();
        let n = n as f64;
        let cumulative = super::mode::statistics_momentum();
        let m = cumulative.unwrap_or(self.momentum);
        let unbiased = batch_var.detach().mul_scalar(n / (n - 1.0).max(1.0));
        let mean = self.running_mean.value_sync().to_device(&device);
        let var = self.running_var.value_sync().to_device(&device);
        let count = self.num_batches_tracked.value_sync().to_device(&device);
        set(
            &self.running_mean,
            mean.mul_scalar(1.0 - m) + batch_mean.detach().mul_scalar(m),
        );
        set(
            &self.running_var,
            var.mul_scalar(1.0 - m) + unbiased.mul_scalar(m),
        );
        let count = if cumulative == Some(1.0) {
            count.zeros_like()
        } else {
            count
        };
        set(&self.num_batches_tracked, count.add_scalar(1.0));
    }
}

/// Normalises with the batch statistics: the output, the batch mean and the biased batch
/// variance. LibTorch's `native_batch_norm` and its backward pass on a LibTorch autodiff
/// device ([`super::libtorch`]), Burn's `batch_norm_train` elsewhere.
fn batch_norm_train(
    x: Tensor<4>,
    weight: Tensor<1>,
    bias: Tensor<1>,
    eps: f64,
) -> (Tensor<4>, Tensor<1>, Tensor<1>) {
    #[cfg(feature = "tch")]
    if let Some(out) = super::libtorch::batch_norm_train(&x, &weight, &bias, eps) {
        return out;
    }
    let out = burn::tensor::module::batch_norm_train(x, weight, bias, eps);
    (out.output, out.mean, out.variance)
}

/// Replaces the state's value now. Burn's `RunningState::update` only queues a per-thread
/// value that `value_sync` (or `valid()`) folds in; a visitor reading the module (the saver)
/// would otherwise see the old statistics.
fn set(state: &RunningState<Tensor<1>>, value: Tensor<1>) {
    state.update(value.detach());
    let _ = state.value_sync();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::layers::mode::eval_scope;

    fn vec1(t: Tensor<1>) -> Vec<f32> {
        t.into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap()
    }

    /// PyTorch's definition computed by hand for `torch.nn.BatchNorm2d(2)` in train mode on
    /// `torch.arange(16.).reshape(2, 2, 2, 2) ** 1.5` (channel 0 of both images). The
    /// fixtures of `tests/nets.rs` compare whole networks with PyTorch itself.
    #[test]
    fn train_step_matches_pytorch_by_hand() {
        let device = Device::default().autodiff();
        let bn = BatchNorm2d::new(2, &device);
        let data: Vec<f32> = (0..16).map(|i| (i as f32).powf(1.5)).collect();
        let x = Tensor::<1>::from_floats(data.as_slice(), &device).reshape([2, 2, 2, 2]);
        let y = bn.forward(x);
        // Channel 0 holds elements 0..4 and 8..12.
        let c0: Vec<f64> = [0, 1, 2, 3, 8, 9, 10, 11]
            .iter()
            .map(|&i| (i as f64).powf(1.5))
            .collect();
        let mean = c0.iter().sum::<f64>() / 8.0;
        let var_b = c0.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 8.0;
        let var_u = var_b * 8.0 / 7.0;
        let rm = vec1(bn.running_mean.value());
        let rv = vec1(bn.running_var.value());
        assert!((rm[0] as f64 - 0.1 * mean).abs() < 1e-4);
        assert!((rv[0] as f64 - (0.9 + 0.1 * var_u)).abs() < 1e-3 * var_u);
        assert_eq!(vec1(bn.num_batches_tracked.value()), vec![1.0]);
        let y00 = y.slice([0..1, 0..1, 0..1, 0..1]).into_scalar::<f32>() as f64;
        assert!((y00 - (0.0 - mean) / (var_b + EPS).sqrt()).abs() < 1e-4);
    }

    #[test]
    fn eval_scope_uses_running_statistics_keeps_them_and_passes_gradients() {
        let device = Device::default().autodiff();
        let bn = BatchNorm2d::new(3, &device);
        let x = Tensor::<4>::random([4, 3, 2, 2], burn::tensor::Distribution::Default, &device);
        let y = eval_scope(|| bn.forward(x.clone()));
        // Fresh statistics (0, 1): identity up to eps.
        let d = (y.clone() - x.clone() / (1.0 + EPS).sqrt())
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(d < 1e-6);
        assert_eq!(vec1(bn.num_batches_tracked.value()), vec![0.0]);
        assert_eq!(vec1(bn.running_mean.value()), vec![0.0; 3]);
        let grads = y.sum().backward();
        assert!(bn.weight.val().grad(&grads).is_some());
        // Outside the scope the same device trains again.
        bn.forward(x);
        assert_eq!(vec1(bn.num_batches_tracked.value()), vec![1.0]);
    }
}
