//! Training or evaluation behaviour of a forward pass.
//!
//! Burn decides it from the device: a pass on an autodiff device trains, `model.valid()`
//! evaluates. The training step also needs a pass that evaluates (BatchNorm with running
//! statistics, no update; drop path off) while gradients still flow to the weights: the V1
//! teacher's stimuli must not enter or change the batch statistics. [`eval_scope`] gives that:
//! every layer of this folder evaluates inside it, on any device.

use std::cell::Cell;

use burn::tensor::Device;

thread_local! {
    static EVAL: Cell<bool> = const { Cell::new(false) };
    static MOMENTUM: Cell<Option<f64>> = const { Cell::new(None) };
}

/// The momentum BatchNorm layers use for their running statistics inside
/// [`cumulative_statistics`] (None: each layer's own).
pub fn statistics_momentum() -> Option<f64> {
    MOMENTUM.with(|m| m.get())
}

/// Runs `f` (the forward pass of the `k`-th batch, from 0, of a statistics recomputation) with
/// every training BatchNorm layer's momentum at `1 / (k + 1)`: after batches 0..=k the running
/// statistics are the plain mean of the batches' statistics, whatever they were before (the
/// definition of `torch.optim.swa_utils.update_bn`, momentum `None`).
pub fn cumulative_statistics<R>(k: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<f64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            MOMENTUM.with(|m| m.set(self.0));
        }
    }
    let _restore = Restore(MOMENTUM.with(|m| m.replace(Some(1.0 / (k as f64 + 1.0)))));
    f()
}

/// Whether a forward pass on `device` trains (autodiff device, outside [`eval_scope`]).
pub fn training(device: &Device) -> bool {
    device.is_autodiff() && !EVAL.with(|e| e.get())
}

/// Runs `f` with every layer in evaluation mode (restored afterwards, also on panic).
pub fn eval_scope<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            EVAL.with(|e| e.set(self.0));
        }
    }
    let _restore = Restore(EVAL.with(|e| e.replace(true)));
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_switches_and_restores() {
        let ad = Device::default().autodiff();
        assert!(training(&ad));
        assert!(!training(&Device::default()));
        eval_scope(|| {
            assert!(!training(&ad));
            eval_scope(|| assert!(!training(&ad)));
            assert!(!training(&ad));
        });
        assert!(training(&ad));
    }
}
