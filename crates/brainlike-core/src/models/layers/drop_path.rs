//! Stochastic depth ("drop path", Huang et al. 2016) as timm's `DropPath`: in training each
//! sample's residual branch is zeroed with probability `rate` and the kept ones are scaled by
//! `1 / (1 − rate)`; identity in evaluation and at rate 0.

use burn::module::Module;
use burn::tensor::{Distribution, Tensor};

/// Drop path on a residual branch.
#[derive(Module, Debug)]
pub struct DropPath {
    /// Probability of dropping a sample's branch.
    pub rate: f64,
}

impl DropPath {
    /// # Shapes
    /// - input and output `[batch, c, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        if self.rate <= 0.0 || !super::mode::training(&x.device()) {
            return x;
        }
        let keep = 1.0 - self.rate;
        let b = x.dims()[0];
        let mask = Tensor::<4>::random([b, 1, 1, 1], Distribution::Bernoulli(keep), &x.device());
        x * mask.div_scalar(keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn identity_in_eval_and_per_sample_in_training() {
        let x = Tensor::<4>::ones([64, 2, 2, 2], &Device::default());
        let dp = DropPath { rate: 0.5 };
        let y = dp.forward(x.clone());
        assert_eq!(y.sum().into_scalar::<f32>(), 512.0);
        let ad = Device::default().autodiff();
        let y = dp.forward(Tensor::<4>::ones([64, 2, 2, 2], &ad));
        let v = y.into_data().try_into_vec::<f32>().unwrap();
        for s in v.chunks(8) {
            assert!(s.iter().all(|&e| e == s[0]) && (s[0] == 0.0 || s[0] == 2.0));
        }
        assert!(
            super::super::mode::eval_scope(|| dp.forward(x.clone()))
                .equal(x)
                .all()
                .into_scalar::<bool>()
        );
    }
}
