//! Recomputing BatchNorm running statistics on training data, as
//! `torch.optim.swa_utils.update_bn` does after weight averaging (Izmailov et al. 2018): the
//! running mean and variance of every trainable BatchNorm layer become the plain average, over
//! the batches, of each batch's mean and unbiased variance (momentum `1/(k+1)` for batch `k`);
//! `num_batches_tracked` counts the batches. Frozen layers keep theirs (timm's frozen
//! BatchNorm is not a `_BatchNorm`, which `update_bn` skips). Weights are not changed.
//!
//! Averaged weights need this: the mean of several networks' running statistics is not the
//! statistics of the averaged network's activations.

use burn::module::Module;
use burn::tensor::Device;

use crate::data::batch::Batcher;
use crate::data::dataset::Dataset;
use crate::models::Network;
use crate::models::layers::mode::cumulative_statistics;

/// `model` with its BatchNorm statistics recomputed over `indices` of `data` in batches of
/// `batch_size` (a forward pass in training mode per batch, no backward). `device` is the
/// training (autodiff) device; the model is returned in evaluation mode (`valid()`). Layers other than BatchNorm are in
/// training mode as in `update_bn` (drop path draws from the device's RNG).
pub fn recompute(
    model: Network,
    data: &dyn Dataset,
    indices: &[usize],
    batch_size: usize,
    batcher: &Batcher,
    device: &Device,
) -> Network {
    let model = if model.devices().first().is_some_and(|d| d.is_autodiff()) {
        model
    } else {
        model.train()
    };
    for (k, chunk) in indices.chunks(batch_size.max(1)).enumerate() {
        let (x, _) = batcher.batch(data, chunk, device);
        cumulative_statistics(k, || drop(model.forward(x)));
    }
    model.valid()
}
