//! Where a training step's time goes, by layer kind.
//!
//! Method: the model is walked once with a one-image probe, recording every layer call in
//! forward order with its input shape (convolutions split into dense `k`x`k`, pointwise 1x1 and
//! depthwise; BatchNorm; activations; pooling; squeeze-excitation as one unit; the linear
//! classifier; residual additions). Each distinct call (same layer kind, parameters' shapes
//! and input shape) is then run alone on the autodiff device at the bench's batch: its forward
//! pass (training mode, graph recorded) and its backward pass (`y.backward()`: gradients for
//! the input and the layer's parameters) are timed separately, one warm-up then the minimum of
//! two timed runs, and multiplied by how often the call occurs. The sum of all parts is set
//! against the measured full step: the rest is the loss, the optimiser update, graph
//! bookkeeping and whatever a layer costs more in the network than alone (cache effects).
//!
//! Only `resnet50` and `efficientnet_b1` are walked.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Tensor};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::models::efficientnet_b1::Block;
use crate::models::layers::activation::silu;
use crate::models::layers::pool::global_avg_pool;
use crate::models::layers::{BatchNorm2d, SqueezeExcite, conv_forward};
use crate::models::{ClassifierHead, Features, Network};

/// A layer kind of the split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `k`x`k` convolution, `k > 1`, one group.
    ConvDense,
    /// 1x1 convolution, one group.
    ConvPointwise,
    /// Depthwise or grouped convolution.
    ConvDepthwise,
    /// BatchNorm2d (training mode: batch statistics, running-statistics update).
    BatchNorm,
    /// ReLU, SiLU.
    Activation,
    /// Max-pool, global average pool.
    Pool,
    /// Squeeze-excitation (pool, two 1x1 convolutions, SiLU, sigmoid, gate).
    SqueezeExcite,
    /// The classifier's linear layer.
    Linear,
    /// Residual additions.
    ResidualAdd,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::ConvDense => "conv kxk dense",
            Kind::ConvPointwise => "conv 1x1",
            Kind::ConvDepthwise => "conv depthwise",
            Kind::BatchNorm => "batchnorm",
            Kind::Activation => "activation",
            Kind::Pool => "pooling",
            Kind::SqueezeExcite => "squeeze-excite",
            Kind::Linear => "linear",
            Kind::ResidualAdd => "residual add",
        }
    }
}

type LayerFn = Box<dyn Fn(Tensor<4>) -> Tensor<4>>;

struct Call {
    kind: Kind,
    key: String,
    dims: [usize; 4],
    run: LayerFn,
}

/// Records layer calls while pushing a probe through them.
struct Tracer {
    x: Tensor<4>,
    calls: Vec<Call>,
}

impl Tracer {
    fn op(&mut self, kind: Kind, what: String, f: impl Fn(Tensor<4>) -> Tensor<4> + 'static) {
        let dims = self.x.dims();
        self.x = f(self.x.clone());
        self.calls.push(Call {
            kind,
            key: format!("{} {what} in {:?}", kind.label(), &dims[1..]),
            dims,
            run: Box::new(f),
        });
    }

    fn conv(&mut self, c: &Conv2d) {
        let [o, i, k, _] = c.weight.dims();
        let kind = if c.groups > 1 {
            Kind::ConvDepthwise
        } else if k == 1 {
            Kind::ConvPointwise
        } else {
            Kind::ConvDense
        };
        let what = format!("{o}x{i}x{k}x{k}/{} g{}", c.stride[0], c.groups);
        let c = c.clone();
        self.op(kind, what, move |x| conv_forward(&c, x));
    }

    fn bn(&mut self, b: &BatchNorm2d) {
        let b = b.clone();
        self.op(Kind::BatchNorm, String::new(), move |x| b.forward(x));
    }

    fn relu(&mut self) {
        self.op(Kind::Activation, "relu".into(), relu);
    }

    fn silu(&mut self) {
        self.op(Kind::Activation, "silu".into(), silu);
    }

    fn maxpool(&mut self, p: &MaxPool2d) {
        let p = p.clone();
        self.op(Kind::Pool, "max 3x3/2".into(), move |x| p.forward(x));
    }

    fn se(&mut self, s: &SqueezeExcite) {
        let s = s.clone();
        self.op(Kind::SqueezeExcite, String::new(), move |x| s.forward(x));
    }

    /// `x + skip`, timed as `x + x` (same shapes, same work).
    fn add(&mut self, skip: Tensor<4>) {
        let dims = self.x.dims();
        self.calls.push(Call {
            kind: Kind::ResidualAdd,
            key: format!("residual add in {:?}", &dims[1..]),
            dims,
            run: Box::new(|x| x.clone() + x),
        });
        self.x = self.x.clone() + skip;
    }

    /// Runs `f` on a side branch starting at the current value; returns the branch's output
    /// and restores the main path.
    fn branch(&mut self, f: impl FnOnce(&mut Tracer)) -> Tensor<4> {
        let saved = self.x.clone();
        f(self);
        std::mem::replace(&mut self.x, saved)
    }
}

fn trace(model: &Network, probe: Tensor<4>) -> Result<Vec<Call>> {
    let mut t = Tracer {
        x: probe,
        calls: Vec::new(),
    };
    match &model.features {
        Features::ResNet50(m) => {
            t.conv(&m.conv1);
            t.bn(&m.bn1);
            t.relu();
            t.maxpool(&m.maxpool);
            for blk in m
                .layer1
                .iter()
                .chain(&m.layer2)
                .chain(&m.layer3)
                .chain(&m.layer4)
            {
                let skip = match &blk.downsample {
                    Some(d) => t.branch(|t| {
                        t.conv(&d.conv);
                        t.bn(&d.bn);
                    }),
                    None => t.x.clone(),
                };
                t.conv(&blk.conv1);
                t.bn(&blk.bn1);
                t.relu();
                t.conv(&blk.conv2);
                t.bn(&blk.bn2);
                t.relu();
                t.conv(&blk.conv3);
                t.bn(&blk.bn3);
                t.add(skip);
                t.relu();
            }
        }
        Features::EfficientNetB1(m) => {
            t.conv(&m.conv_stem);
            t.bn(&m.bn1);
            t.silu();
            for blk in m.blocks.iter().flatten() {
                let skip = t.x.clone();
                let has_skip = match blk {
                    Block::Ds(b) => {
                        t.conv(&b.conv_dw);
                        t.bn(&b.bn1);
                        t.silu();
                        t.se(&b.se);
                        t.conv(&b.conv_pw);
                        t.bn(&b.bn2);
                        b.has_skip
                    }
                    Block::Ir(b) => {
                        t.conv(&b.conv_pw);
                        t.bn(&b.bn1);
                        t.silu();
                        t.conv(&b.conv_dw);
                        t.bn(&b.bn2);
                        t.silu();
                        t.se(&b.se);
                        t.conv(&b.conv_pwl);
                        t.bn(&b.bn3);
                        b.has_skip
                    }
                };
                if has_skip {
                    t.add(skip);
                }
            }
            t.conv(&m.conv_head);
            t.bn(&m.bn2);
            t.silu();
        }
        _ => {
            return Err(Error::Other(format!(
                "--profile walks resnet50 and efficientnet_b1, not {}",
                model.spec().name
            )));
        }
    }
    t.op(Kind::Pool, "global average".into(), global_avg_pool);
    let ClassifierHead::Decoder(h) = &model.head else {
        return Err(Error::Other("--profile expects the decoder head".into()));
    };
    let lin = h.linear.clone();
    t.op(Kind::Linear, "classifier".into(), move |x| {
        let [b, c, _, _] = x.dims();
        let y = lin.forward(x.reshape([b, c])); // [b, classes]
        let k = y.dims()[1];
        y.reshape([b, k, 1, 1])
    });
    Ok(t.calls)
}

/// Seconds of one layer kind, per training step.
#[derive(Debug, Clone, Serialize)]
pub struct KindTime {
    /// The kind.
    pub kind: Kind,
    /// Calls per step.
    pub calls: usize,
    /// Forward seconds per step.
    pub forward: f64,
    /// Backward seconds per step.
    pub backward: f64,
}

/// The split of one model's step.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    /// Per kind, in [`Kind`] order.
    pub kinds: Vec<KindTime>,
    /// Distinct calls timed.
    pub distinct: usize,
}

fn read_one(y: &Tensor<4>) {
    let _: f32 = y.clone().slice([0..1, 0..1, 0..1, 0..1]).into_scalar();
}

/// Seconds of one forward and one backward pass of `run` on a fresh random input of `dims`
/// (requiring its gradient) on the autodiff `device`; the forward is synchronised by reading
/// one element of its output.
pub fn time_forward_backward(
    dims: [usize; 4],
    device: &Device,
    run: impl Fn(Tensor<4>) -> Tensor<4>,
) -> (f64, f64) {
    let x = Tensor::<4>::random(dims, Distribution::Default, device).require_grad();
    let t0 = Instant::now();
    let y = run(x);
    read_one(&y);
    let forward = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let grads = y.backward();
    let backward = t0.elapsed().as_secs_f64();
    drop(grads);
    (forward, backward)
}

/// Times every distinct layer call of `model` (built on the autodiff `device`) at `batch`.
pub fn profile(model: &Network, batch: usize, size: usize, device: &Device) -> Result<Profile> {
    let probe = Tensor::<4>::random([1, 3, size, size], Distribution::Default, device);
    let calls = trace(model, probe)?;
    let mut groups: BTreeMap<&str, (usize, &Call)> = BTreeMap::new();
    for c in &calls {
        groups.entry(c.key.as_str()).or_insert((0, c)).0 += 1;
    }
    let mut per_kind: BTreeMap<Kind, KindTime> = BTreeMap::new();
    for (n, call) in groups.values() {
        let [_, c, h, w] = call.dims;
        let (mut fwd, mut bwd) = (f64::INFINITY, f64::INFINITY);
        for rep in 0..3 {
            let (f, b) = time_forward_backward([batch, c, h, w], device, |x| (call.run)(x));
            if rep > 0 {
                fwd = fwd.min(f);
                bwd = bwd.min(b);
            }
        }
        let e = per_kind.entry(call.kind).or_insert(KindTime {
            kind: call.kind,
            calls: 0,
            forward: 0.0,
            backward: 0.0,
        });
        e.calls += n;
        e.forward += *n as f64 * fwd;
        e.backward += *n as f64 * bwd;
    }
    Ok(Profile {
        kinds: per_kind.into_values().collect(),
        distinct: groups.len(),
    })
}

impl Profile {
    /// A table of the split against the measured step time `step_secs`.
    pub fn table(&self, step_secs: f64) -> String {
        let mut s = String::new();
        let (f, b): (f64, f64) = self
            .kinds
            .iter()
            .fold((0.0, 0.0), |(f, b), k| (f + k.forward, b + k.backward));
        let _ = writeln!(
            s,
            "{:<16} {:>6} {:>10} {:>10} {:>10} {:>7}",
            "kind", "calls", "fwd s", "bwd s", "total s", "share"
        );
        for k in &self.kinds {
            let t = k.forward + k.backward;
            let _ = writeln!(
                s,
                "{:<16} {:>6} {:>10.3} {:>10.3} {:>10.3} {:>6.1}%",
                k.kind.label(),
                k.calls,
                k.forward,
                k.backward,
                t,
                100.0 * t / step_secs
            );
        }
        let _ = writeln!(
            s,
            "{:<16} {:>6} {:>10.3} {:>10.3} {:>10.3} {:>6.1}%",
            "sum of layers",
            self.kinds.iter().map(|k| k.calls).sum::<usize>(),
            f,
            b,
            f + b,
            100.0 * (f + b) / step_secs
        );
        let _ = writeln!(
            s,
            "{:<16} {:>6} {:>10} {:>10} {:>10.3} {:>6.1}%",
            "measured step", "", "", "", step_secs, 100.0
        );
        let _ = writeln!(
            s,
            "method: each of the {} distinct layer calls (kind, parameter and input shapes) run \
             alone at the bench batch on the autodiff device, forward (training mode) and \
             backward (input and parameter gradients) timed separately, min of 2 after 1 \
             warm-up, times its number of calls; share = of the measured full step. The rest \
             of the step is the loss, the optimiser update, graph bookkeeping and in-network \
             cache effects.",
            self.distinct
        );
        s
    }
}

/// [`profile`] of the bench's model (`cfg.arch` at `cfg.size`, decoder head, 1000 classes) on
/// backend `device_name`.
pub fn run_profile(device_name: &str, cfg: &super::BenchConfig) -> Result<Profile> {
    let (name, base) = crate::device::resolve(device_name)?;
    let device = base.autodiff();
    device.seed(0);
    let (_, model) = super::imagenet_model(cfg, &name, &device);
    profile(&model, cfg.batch, cfg.size, &device)
}
