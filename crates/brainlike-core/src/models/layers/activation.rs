//! Activations of the EfficientNet family: SiLU (swish, `x · sigmoid(x)`) and the sigmoid
//! gate of squeeze-excitation, as PyTorch's `nn.SiLU` / `nn.Sigmoid`.

use burn::tensor::Tensor;

/// SiLU: `x · sigmoid(x)` (LibTorch's `silu` and its backward pass on a LibTorch autodiff
/// device, see [`super::libtorch`]).
pub fn silu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "tch")]
    if let Some(y) = super::libtorch::silu(&x) {
        return y;
    }
    burn::tensor::activation::silu(x)
}

/// Logistic sigmoid `1 / (1 + e^(−x))`.
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    burn::tensor::activation::sigmoid(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn values() {
        let device = Device::default();
        let x = Tensor::<1>::from_floats([-2.0, 0.0, 1.5], &device);
        let s = sigmoid(x.clone())
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let y = silu(x).into_data().try_into_vec::<f32>().unwrap();
        for (i, v) in [-2.0f32, 0.0, 1.5].into_iter().enumerate() {
            let sig = 1.0 / (1.0 + (-v).exp());
            assert!((s[i] - sig).abs() < 1e-6);
            assert!((y[i] - v * sig).abs() < 1e-6);
        }
    }
}
