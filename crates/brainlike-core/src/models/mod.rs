//! Models: one file per architecture, a registry ([`registry`]) that knows them all, one
//! convolution type and the shared classifier heads.
//!
//! [`Network`] is a registered feature stack ([`Features`]) plus a classifier head. Every
//! read-out goes through [`Features::forward_taps`]: the stack hands each named tap's output
//! to a visitor, so one code path serves training, the teacher, extraction and scoring.

pub mod conv;
pub mod cornet_z;
pub mod efficientnet_b1;
pub mod head;
pub mod layers;
pub mod registry;
pub mod resnet50;
pub mod vgg16;
pub mod weights;

use burn::module::Module;
use burn::tensor::{Device, Tensor};

pub use conv::Conv;
pub use cornet_z::CornetZ;
pub use efficientnet_b1::EfficientNetB1;
pub use head::ClassifierHead;
pub use registry::{
    Arch, Backbone, Depth, Features, MODELS, ModelSpec, Normalization, Tap, TapSpec,
};
pub use resnet50::ResNet50;
pub use vgg16::Vgg16;

use crate::config::{Head, ModelConfig};

/// A registered model: features and head.
#[derive(Module, Debug)]
pub struct Network {
    /// Feature stack.
    pub features: Features,
    /// Classifier head.
    pub head: ClassifierHead,
}

/// Output of a forward pass with extra stimuli read out at a tap.
pub struct TapForward {
    /// Class scores of the batch, `[batch, classes]`.
    pub logits: Tensor<2>,
    /// Flattened tap activations of the extra stimuli, `[stimuli, features]`.
    pub tap: Option<Tensor<2>>,
}

impl Network {
    /// Builds the model for `input_size` x `input_size` RGB input and `classes` outputs.
    /// `im2col` is the [`Conv`] output-pixel threshold (0 = always Burn's conv2d).
    pub fn new(
        cfg: &ModelConfig,
        input_size: usize,
        classes: usize,
        im2col: usize,
        device: &Device,
    ) -> Self {
        let features = Features::build(cfg.arch, cfg, input_size, im2col, device);
        let (channels, side) = Features::output_shape(cfg.arch, input_size);
        let head = match cfg.head {
            Head::Fc4096 => {
                ClassifierHead::fc(channels * side * side, classes, cfg.dropout, device)
            }
            Head::Decoder => ClassifierHead::decoder(channels, classes, device),
        };
        Self { features, head }
    }

    /// The registry entry of this model.
    pub fn spec(&self) -> &'static ModelSpec {
        self.features.spec()
    }

    /// Number of classes the head scores.
    pub fn classes(&self) -> usize {
        match &self.head {
            ClassifierHead::Fc(h) => h.fc3.weight.dims()[1],
            ClassifierHead::Decoder(h) => h.linear.weight.dims()[1],
        }
    }

    /// The taps this model offers, in depth order.
    pub fn taps(&self) -> Vec<Tap> {
        self.spec()
            .taps
            .iter()
            .map(|t| Tap::from_static(t.name))
            .collect()
    }

    /// Class scores.
    ///
    /// # Shapes
    /// - input `[batch, 3, s, s]`; output `[batch, classes]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let h = self.features.forward_taps(x, None, &mut |_, h| h);
        self.head.forward(h)
    }

    /// Runs the batch and extra stimuli in one pass: `extra` is concatenated to `x`, split off
    /// at `tap` (its activations flattened and returned), and only `x` continues to the head.
    /// Only for models without batch statistics ([`ModelSpec::batch_stats`]): otherwise the
    /// stimuli would enter the batch's statistics.
    pub fn forward_with_tap(&self, x: Tensor<4>, extra: Option<Tensor<4>>, tap: Tap) -> TapForward {
        let n = x.dims()[0];
        let m = extra.as_ref().map(|e| e.dims()[0]).unwrap_or(0);
        let mut tap_out = None;
        let input = match extra {
            Some(e) => Tensor::cat(vec![x, e], 0), // [n + m, 3, s, s]
            None => x,
        };
        let h = self.features.forward_taps(input, None, &mut |area, h| {
            if m == 0 || area != tap {
                return h;
            }
            let [_, c, hh, ww] = h.dims();
            tap_out = Some(
                h.clone()
                    .slice([n..n + m, 0..c, 0..hh, 0..ww])
                    .flatten::<2>(1, 3),
            );
            h.slice([0..n, 0..c, 0..hh, 0..ww])
        });
        TapForward {
            logits: self.head.forward(h),
            tap: tap_out,
        }
    }

    /// Activations at `tap` (the block output), running the stack only as deep as needed.
    pub fn activations(&self, x: Tensor<4>, tap: Tap) -> Tensor<4> {
        let mut out = None;
        self.features.forward_taps(x, Some(tap), &mut |area, h| {
            if area == tap {
                out = Some(h.clone());
            }
            h
        });
        out.unwrap_or_else(|| panic!("{} has no tap {tap}", self.spec().name))
    }

    /// [`Network::activations`] in evaluation mode on any device: BatchNorm normalises with its
    /// running statistics and does not update them, drop path is off; gradients still reach
    /// the weights. The training step reads the V1 teacher's stimuli out this way on models
    /// with batch statistics, so that no batch statistics see them.
    pub fn activations_eval(&self, x: Tensor<4>, tap: Tap) -> Tensor<4> {
        layers::mode::eval_scope(|| self.activations(x, tap))
    }

    /// Activations at several taps (and the penultimate features when `penultimate`), running
    /// the stack once and only as deep as needed; in the order of `taps`.
    pub fn read_out(
        &self,
        x: Tensor<4>,
        taps: &[Tap],
        penultimate: bool,
    ) -> (Vec<Tensor<4>>, Option<Tensor<2>>) {
        let deepest = self.taps().into_iter().rev().find(|t| taps.contains(t));
        let stop = if penultimate { None } else { deepest };
        let (acts, h) = self.taps_and_top(x, taps, stop);
        (acts, penultimate.then(|| self.head.penultimate(h)))
    }

    /// The activations at `taps` (in the order given) and the last map computed, running the
    /// stack up to `stop` (None: to the end).
    fn taps_and_top(
        &self,
        x: Tensor<4>,
        taps: &[Tap],
        stop: Option<Tap>,
    ) -> (Vec<Tensor<4>>, Tensor<4>) {
        let mut got: Vec<(Tap, Tensor<4>)> = Vec::with_capacity(taps.len());
        let h = self.features.forward_taps(x, stop, &mut |area, h| {
            if taps.contains(&area) {
                got.push((area, h.clone()));
            }
            h
        });
        let acts = taps
            .iter()
            .map(|t| {
                got.iter()
                    .find(|(g, _)| g == t)
                    .map(|(_, a)| a.clone())
                    .unwrap_or_else(|| panic!("{} has no tap {t}", self.spec().name))
            })
            .collect();
        (acts, h)
    }

    /// [`Network::read_out`] plus the class scores, in one pass through the stack: the
    /// activations at `taps`, the penultimate features when asked, and the logits.
    pub fn read_out_logits(
        &self,
        x: Tensor<4>,
        taps: &[Tap],
        penultimate: bool,
    ) -> (Vec<Tensor<4>>, Option<Tensor<2>>, Tensor<2>) {
        let (acts, h) = self.taps_and_top(x, taps, None);
        let pen = penultimate.then(|| self.head.penultimate(h.clone()));
        (acts, pen, self.head.forward(h))
    }

    /// Penultimate features (input of the last linear layer).
    pub fn penultimate(&self, x: Tensor<4>) -> Tensor<2> {
        let h = self.features.forward_taps(x, None, &mut |_, h| h);
        self.head.penultimate(h)
    }
}

/// Trainable parameters of model `cfg` at `input_size` with `classes` outputs (built on the
/// CPU and dropped; BatchNorm running statistics are buffers, not counted). The `fc4096` head
/// is counted, not built: on ResNet-50 at 224 px its first layer alone has 411M weights.
pub fn parameter_count(cfg: &ModelConfig, input_size: usize, classes: usize) -> usize {
    if cfg.head == Head::Fc4096 {
        let (c, side) = Features::output_shape(cfg.arch, input_size);
        let decoder = ModelConfig {
            head: Head::Decoder,
            ..cfg.clone()
        };
        let fc = |i: usize, o: usize| i * o + o;
        return parameter_count(&decoder, input_size, classes) - fc(c, classes)
            + fc(c * side * side, 4096)
            + fc(4096, 4096)
            + fc(4096, classes);
    }
    struct Count(usize, Vec<String>);
    impl burn::module::ModuleVisitor for Count {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.1.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.1.pop();
        }
        fn visit_float<const D: usize>(&mut self, p: &burn::module::Param<Tensor<D>>) {
            let buffer = matches!(
                self.1.last().map(String::as_str),
                Some("running_mean" | "running_var" | "num_batches_tracked")
            );
            if !buffer {
                self.0 += p.shape().num_elements();
            }
        }
    }
    let mut count = Count(0, Vec::new());
    Network::new(cfg, input_size, classes, 0, &Device::default()).visit(&mut count);
    count.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn cfg(arch: &str, head: Head) -> ModelConfig {
        ModelConfig {
            arch: Arch::parse(arch).unwrap(),
            head,
            ..ModelConfig::default()
        }
    }

    #[test]
    fn cornet_z_shapes_both_heads_both_sizes() {
        let device = Device::default();
        for size in [32usize, 227] {
            for head in [Head::Fc4096, Head::Decoder] {
                if size == 227 && head == Head::Fc4096 {
                    // 512*8*8 -> 4096 FC: checked by output_shape below, too big for a unit test.
                    assert_eq!(CornetZ::output_shape(227), (512, 8));
                    continue;
                }
                let net = Network::new(&cfg("cornet_z", head), size, 100, 4, &device);
                let x = Tensor::<4>::random([2, 3, size, size], Distribution::Default, &device);
                assert_eq!(net.forward(x.clone()).dims(), [2, 100]);
                let expect = if size == 32 {
                    [
                        [2, 64, 8, 8],
                        [2, 128, 4, 4],
                        [2, 256, 2, 2],
                        [2, 512, 1, 1],
                    ]
                } else {
                    [
                        [2, 64, 57, 57],
                        [2, 128, 29, 29],
                        [2, 256, 15, 15],
                        [2, 512, 8, 8],
                    ]
                };
                for (tap, dims) in net.taps().into_iter().zip(expect) {
                    assert_eq!(
                        net.activations(x.clone(), tap).dims(),
                        dims,
                        "{tap} at {size}"
                    );
                }
            }
        }
    }

    #[test]
    fn shared_pass_equals_separate_passes() {
        let device = Device::default();
        let net = Network::new(&cfg("cornet_z", Head::Decoder), 32, 10, 4, &device);
        let x = Tensor::<4>::random([3, 3, 32, 32], Distribution::Default, &device);
        let e = Tensor::<4>::random([2, 3, 32, 32], Distribution::Default, &device);
        for tap in net.taps() {
            let out = net.forward_with_tap(x.clone(), Some(e.clone()), tap);
            let logits = net.forward(x.clone());
            let acts = net.activations(e.clone(), tap).flatten::<2>(1, 3);
            assert!((out.logits - logits).abs().max().into_scalar::<f32>() < 1e-5);
            assert!((out.tap.unwrap() - acts).abs().max().into_scalar::<f32>() < 1e-5);
        }
    }

    #[test]
    fn parameter_counts() {
        // torchvision's resnet50 (1000 classes): 25,557,032; timm's efficientnet_b1: 7,794,184.
        assert_eq!(
            parameter_count(&cfg("resnet50", Head::Decoder), 224, 1000),
            25_557_032
        );
        assert_eq!(
            parameter_count(&cfg("efficientnet_b1", Head::Decoder), 240, 1000),
            7_794_184
        );
        // The counted fc4096 head agrees with a built one.
        let built = Network::new(
            &cfg("cornet_z", Head::Fc4096),
            32,
            100,
            0,
            &Device::default(),
        );
        assert_eq!(
            parameter_count(&cfg("cornet_z", Head::Fc4096), 32, 100),
            built.num_params()
        );
    }

    #[test]
    fn read_out_equals_single_taps() {
        let device = Device::default();
        let net = Network::new(&cfg("cornet_z", Head::Decoder), 32, 10, 4, &device);
        let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Default, &device);
        let taps = net.taps();
        let (acts, pen) = net.read_out(x.clone(), &[taps[2], taps[0]], true);
        assert_eq!(acts[0].dims(), [2, 256, 2, 2]);
        assert_eq!(acts[1].dims(), [2, 64, 8, 8]);
        let d = (acts[1].clone() - net.activations(x.clone(), taps[0]))
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(d < 1e-6);
        assert_eq!(pen.unwrap().dims(), [2, 512]);
    }
}
