//! Every registered model: forward and backward at its default input size (ImageNet models at
//! 64 px, their full-size pass being too slow for CI on two cores), every tap's shape
//! (batch first, finite values), logits of the right width, and a gradient reaching the first
//! tap's parameters. A model added to the registry is tested here without further edits.

use brainlike_core::config::{Head, ModelConfig};
use brainlike_core::models::{Arch, MODELS, Network};
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Distribution, Tensor};

/// Sums |gradient| over the parameters whose path starts with `prefix`.
struct GradUnder<'a> {
    prefix: &'a str,
    path: Vec<String>,
    grads: &'a burn::tensor::Gradients,
    total: f64,
    params: usize,
}

impl ModuleVisitor for GradUnder<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.path.join(".").starts_with(self.prefix) {
            self.params += 1;
            if let Some(g) = param.val().grad(self.grads) {
                self.total += g.abs().sum().into_scalar::<f64>();
            }
        }
    }
}

#[test]
fn every_registered_model_runs_forward_and_backward_with_every_tap() {
    let device = Device::default().autodiff();
    assert!(!MODELS.is_empty());
    for spec in MODELS {
        // Full-size ResNet-50 / EfficientNet-B1 passes at 224/240 px take minutes on two
        // cores: 64 px still has a 2x2 last map and runs every layer.
        let size = spec.default_input_size.min(spec.min_input_size.max(64));
        for head in [Head::Decoder, Head::Fc4096] {
            let cfg = ModelConfig {
                arch: Arch::parse(spec.name).unwrap(),
                head,
                ..ModelConfig::default()
            };
            let net = Network::new(&cfg, size, 10, 4, &device);
            let x = Tensor::<4>::random([2, 3, size, size], Distribution::Default, &device);
            let taps = net.taps();
            assert_eq!(taps.len(), spec.taps.len(), "{}", spec.name);
            let (acts, pen) = net.read_out(x.clone(), &taps, true);
            for (t, a) in taps.iter().zip(&acts) {
                let d = a.dims();
                assert_eq!(d[0], 2, "{} {t}: batch first", spec.name);
                assert!(d[1] > 0 && d[2] > 0 && d[3] > 0, "{} {t}: {d:?}", spec.name);
                let single = net.activations(x.clone(), *t);
                assert_eq!(
                    single.dims(),
                    d,
                    "{} {t}: read_out vs activations",
                    spec.name
                );
                assert!(
                    a.clone().abs().sum().into_scalar::<f64>().is_finite(),
                    "{} {t}: non-finite",
                    spec.name
                );
            }
            assert_eq!(pen.unwrap().dims()[0], 2);
            let logits = net.forward(x);
            assert_eq!(logits.dims(), [2, 10], "{} {head:?}", spec.name);
            let grads = logits.powi_scalar(2).mean().backward();
            let first = &spec.taps[0];
            let mut v = GradUnder {
                prefix: first.module,
                path: Vec::new(),
                grads: &grads,
                total: 0.0,
                params: 0,
            };
            net.visit(&mut v);
            assert!(
                v.params > 0,
                "{}: no parameter under {}",
                spec.name,
                first.module
            );
            assert!(
                v.total > 0.0 && v.total.is_finite(),
                "{}: no gradient reaches {} ({})",
                spec.name,
                first.name,
                v.total
            );
        }
    }
}

#[test]
fn every_tap_is_listed_once_and_the_teacher_tap_exists() {
    for spec in MODELS {
        let mut names: Vec<&str> = spec.taps.iter().map(|t| t.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), spec.taps.len(), "{}: duplicate tap", spec.name);
        assert!(
            spec.tap(spec.default_teacher_tap).is_some(),
            "{}",
            spec.name
        );
    }
}
