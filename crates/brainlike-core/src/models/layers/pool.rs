//! Global average pooling (`nn.AdaptiveAvgPool2d(1)`).

use burn::tensor::Tensor;

/// Mean over the spatial axes.
///
/// # Shapes
/// - input `[batch, c, h, w]`; output `[batch, c, 1, 1]`
pub fn global_avg_pool(x: Tensor<4>) -> Tensor<4> {
    x.mean_dim(3).mean_dim(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

    #[test]
    fn equals_adaptive_pool() {
        let device = Device::default();
        let x = Tensor::<4>::random([2, 3, 5, 7], Distribution::Default, &device);
        let a = burn::tensor::module::adaptive_avg_pool2d(x.clone(), [1, 1]);
        let d = (global_avg_pool(x) - a).abs().max().into_scalar::<f32>();
        assert!(d < 1e-6);
    }
}
