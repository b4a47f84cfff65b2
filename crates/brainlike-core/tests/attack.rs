//! Adversarial attacks and adversarial-training transforms.
//!
//! - torchattacks agreement: `tests/fixtures/attack/make_fixture.py` (torch 2.9.0,
//!   torchattacks 3.5.1) saves a narrow CORnet-Z (channels 8, 16, 16, 32, decoder head) under
//!   brainlike's names, 4 images in [0, 1] and the images torchattacks' `PGD` (L∞),
//!   `PGDL2` (both `random_start=False`) and `FGSM` made for the model wrapped with the
//!   CIFAR-100 normalisation. Here the images enter normalised, as in training, and the attack
//!   works in pixel space around the same mean/std; its images must match torchattacks' and
//!   the predictions on them must be equal.
//! - Invariants (random images, seeded): every perturbation stays in its ε-ball and in [0, 1];
//!   PGD raises the loss above the clean loss and above a random perturbation of the same
//!   size; ε = 0 makes every transform the identity and training bit-identical to clean
//!   training; the attack's own gradients do not leak into the step; seeded random starts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use brainlike_core::attack::{
    self, AttackLoss, AttackMode, AttackSpec, Norm, PixelSpace, ball::l2_norms,
};
use brainlike_core::config::{Head, ModelConfig};
use brainlike_core::data::batch::Preprocess;
use brainlike_core::models::cornet_z::{Block, CornetZ};
use brainlike_core::models::{Arch, ClassifierHead, Conv, Features, Network};
use brainlike_core::train::freeze::Frozen;
use brainlike_core::train::objective::CrossEntropy;
use brainlike_core::train::transform::{self, AdversarialConfig, Method};
use brainlike_core::train::{Batch, InputTransform, Step};
use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::PaddingConfig2d;
use burn::nn::pool::MaxPool2dConfig;
use burn::optim::SgdConfig;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use safetensors::{Dtype, SafeTensors};

/// CIFAR-100 mean/std, as in `make_fixture.py`.
const MEAN: [f32; 3] = [0.5071, 0.4865, 0.4409];
const STD: [f32; 3] = [0.2673, 0.2564, 0.2762];

/// Max |ours − torchattacks| over the pixels of the adversarial images.
const TOL: f32 = 1e-5;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/attack")
        .join(name)
}

fn pre() -> Preprocess {
    Preprocess {
        mean: MEAN,
        std: STD,
        ..Preprocess::identity(32)
    }
}

type Io = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

fn read_io() -> Io {
    let bytes = std::fs::read(fixture("attack_io.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, v)| {
            let vals: Vec<f32> = match v.dtype() {
                Dtype::F32 => v
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
                Dtype::I64 => v
                    .data()
                    .chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f32)
                    .collect(),
                d => panic!("attack_io.safetensors: {name}: unexpected dtype {d:?}"),
            };
            (name, (v.shape().to_vec(), vals))
        })
        .collect()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

fn ints(t: Tensor<1, Int>) -> Vec<i64> {
    t.into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap()
}

fn block(c_in: usize, c_out: usize, k: usize, s: usize, device: &Device) -> Block {
    Block {
        conv: Conv::new(c_in, c_out, k, s, k / 2, 0, device),
        lrn: None,
        pool: MaxPool2dConfig::new([3, 3])
            .with_strides([2, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(),
    }
}

/// The fixture's narrow CORnet-Z with its weights.
fn narrow_net(device: &Device) -> Network {
    let c = [8, 16, 16, 32];
    let mut net = Network {
        features: Features::CornetZ(CornetZ {
            v1: block(3, c[0], 7, 2, device),
            v2: block(c[0], c[1], 3, 1, device),
            v4: block(c[1], c[2], 3, 1, device),
            it: block(c[2], c[3], 3, 1, device),
        }),
        head: ClassifierHead::decoder(c[3], 10, device),
    };
    brainlike_core::train::export::load_safetensors(
        &mut net,
        &fixture("cornet_narrow.safetensors"),
    )
    .unwrap();
    net
}

/// The registered CORnet-Z (decoder head) at 32 px, seeded.
fn cornet(device: &Device) -> Network {
    device.seed(7);
    let cfg = ModelConfig {
        arch: Arch::parse("cornet_z").unwrap(),
        head: Head::Decoder,
        ..ModelConfig::default()
    };
    Network::new(&cfg, 32, 10, 0, device)
}

fn tensor4(io: &Io, name: &str, device: &Device) -> Tensor<4> {
    let (s, v) = &io[name];
    Tensor::from_data(TensorData::new(v.clone(), s.clone()), device)
}

fn labels(io: &Io, name: &str, device: &Device) -> Tensor<1, Int> {
    let (s, v) = &io[name];
    let v: Vec<i64> = v.iter().map(|&f| f as i64).collect();
    Tensor::from_data(TensorData::new(v, s.clone()), device)
}

/// Runs `spec` on the fixture's images and compares with torchattacks' `name` images.
fn agree(name: &str, spec: &AttackSpec) {
    let device = Device::default().autodiff();
    let net = narrow_net(&device);
    let io = read_io();
    let space = PixelSpace::new(&pre());
    let x = tensor4(&io, "x", &device);
    let y = labels(&io, "y", &device);

    // The model itself first: the same logits.
    let logits = values(net.forward(space.normalise(x.clone())));
    let theirs = &io["logits"].1;
    let e = logits
        .iter()
        .zip(theirs)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    println!("{name}: clean logits max |diff| {e:.2e}");
    assert!(e < 1e-4, "{name}: clean logits differ by {e:.2e}");

    let normalised = space.normalise(x); // as a batch holds them
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let adv = attack::pgd(&net, normalised, y, spec, &space, &mut rng);
    let ours = values(space.to_pixels(adv.images.clone()));
    let theirs = &io[name].1;
    let (mut worst, mut over) = (0f32, 0usize);
    for (a, b) in ours.iter().zip(theirs) {
        let d = (a - b).abs();
        worst = worst.max(d);
        over += (d > TOL) as usize;
    }
    println!(
        "{name}: adversarial images max |ours - torchattacks| {worst:.2e} ({over} pixels over {TOL:.0e})"
    );
    assert!(
        worst <= TOL,
        "{name}: {over} of {} pixels differ from torchattacks by more than {TOL:.0e} (max {worst:.2e})",
        ours.len()
    );
    let n = ours.len() / (3 * 32 * 32);
    let pred = net.forward(adv.images).argmax(1).reshape([n]);
    let theirs: Vec<i64> = io[&format!("{name}_pred")]
        .1
        .iter()
        .map(|&f| f as i64)
        .collect();
    assert_eq!(
        ints(pred),
        theirs,
        "{name}: predictions on the adversarial images"
    );
}

#[test]
fn pgd_linf_agrees_with_torchattacks() {
    agree(
        "pgd",
        &AttackSpec::pgd(Norm::Linf, 8.0 / 255.0, 10, 2.0 / 255.0, false),
    );
}

#[test]
fn pgd_l2_agrees_with_torchattacks() {
    agree("pgdl2", &AttackSpec::pgd(Norm::L2, 0.5, 10, 0.1, false));
}

#[test]
fn fgsm_agrees_with_torchattacks() {
    agree("fgsm", &AttackSpec::fgsm(8.0 / 255.0));
    // The FGSM entry point is the same attack.
    let device = Device::default().autodiff();
    let net = narrow_net(&device);
    let io = read_io();
    let space = PixelSpace::new(&pre());
    let x = space.normalise(tensor4(&io, "x", &device));
    let y = labels(&io, "y", &device);
    let a = attack::fgsm(
        &net,
        x.clone(),
        y.clone(),
        8.0 / 255.0,
        AttackLoss::CrossEntropy,
        AttackMode::Eval,
        &space,
    );
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let b = attack::pgd(&net, x, y, &AttackSpec::fgsm(8.0 / 255.0), &space, &mut rng);
    assert_eq!(values(a.images), values(b.images));
}

/// Random images in [0, 1] (some at the borders), normalised, and labels.
fn random_batch(device: &Device, n: usize) -> (Tensor<4>, Tensor<1, Int>) {
    let p = Tensor::<4>::random([n, 3, 32, 32], Distribution::Uniform(-0.2, 1.2), device)
        .clamp(0.0, 1.0);
    let x = PixelSpace::new(&pre()).normalise(p);
    let y = Tensor::<1, Int>::from_data(
        TensorData::new((0..n as i64).map(|i| (i * 3) % 10).collect::<Vec<_>>(), [n]),
        device,
    );
    (x, y)
}

/// Checks that `adv` (normalised) lies in the ε-ball around `x` (normalised) and in [0, 1].
fn check_ball(what: &str, x: Tensor<4>, adv: Tensor<4>, norm: Norm, eps: f64) {
    let space = PixelSpace::new(&pre());
    let (px, pa) = (space.to_pixels(x.inner()), space.to_pixels(adv.inner()));
    // Round trip through the normalisation: a few ulps.
    let slack = 1e-6;
    let pav = values(pa.clone());
    let (lo, hi) = pav
        .iter()
        .fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    assert!(
        lo >= -slack && hi <= 1.0 + slack,
        "{what}: pixels outside [0, 1]: [{lo}, {hi}]"
    );
    let delta = pa - px;
    match norm {
        Norm::Linf => {
            let m = values(delta.abs().max());
            println!("{what}: max |δ| {:.6} (ε {eps:.6})", m[0]);
            assert!(
                m[0] as f64 <= eps + slack as f64,
                "{what}: ‖δ‖∞ = {} > ε = {eps}",
                m[0]
            );
            assert!(
                m[0] as f64 > 0.5 * eps,
                "{what}: the attack hardly moved (‖δ‖∞ = {})",
                m[0]
            );
        }
        Norm::L2 => {
            let norms = values(l2_norms(delta));
            let m = norms.iter().fold(0f32, |a, &b| a.max(b));
            println!("{what}: max ‖δ‖₂ {m:.6} (ε {eps:.6})");
            assert!(
                m as f64 <= eps * (1.0 + 1e-5) + slack as f64,
                "{what}: ‖δ‖₂ = {m} > ε = {eps}"
            );
            assert!(
                m as f64 > 0.5 * eps,
                "{what}: the attack hardly moved (‖δ‖₂ = {m})"
            );
        }
    }
}

#[test]
fn perturbations_stay_in_the_ball_and_the_pixel_range() {
    let device = Device::default().autodiff();
    device.seed(3);
    let net = narrow_net(&device);
    let space = PixelSpace::new(&pre());
    let (x, y) = random_batch(&device, 6);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for (norm, eps, alpha) in [
        (Norm::Linf, 8.0 / 255.0, 2.0 / 255.0),
        (Norm::Linf, 0.3, 0.1),
        (Norm::L2, 0.5, 0.2),
        (Norm::L2, 3.0, 1.0),
    ] {
        for random_start in [false, true] {
            let spec = AttackSpec::pgd(norm, eps, 5, alpha, random_start);
            let adv = attack::pgd(&net, x.clone(), y.clone(), &spec, &space, &mut rng);
            let what = format!("pgd {norm:?} ε={eps} random_start={random_start}");
            check_ball(&what, x.clone(), adv.images, norm, eps);
        }
        // The random start alone.
        let px = space.to_pixels(x.clone().inner());
        let start = attack::ball::random_start(px.clone(), norm, eps, &mut rng);
        check_ball(
            &format!("random start {norm:?} ε={eps}"),
            x.clone(),
            space.normalise(start),
            norm,
            eps,
        );
    }
    // The training transforms.
    let batch = Batch::hard(x.clone(), y.clone());
    for method in [Method::Pgd, Method::FgsmRs, Method::Free] {
        let cfg = AdversarialConfig {
            method,
            ..AdversarialConfig::default()
        };
        let mut t = transform::build(&cfg, &pre(), 1).unwrap();
        t.start_step(1, 0);
        let out = t.apply(&net, batch.clone());
        if method == Method::Free {
            // δ starts at zero; one backward pass moves it.
            assert_eq!(values(out.images.clone()), values(x.clone()));
            let g = Tensor::<4>::random([6, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
            t.after_backward(g.inner());
            t.start_step(1, 1);
            let out = t.apply(&net, batch.clone());
            check_ball(
                "free after one replay",
                x.clone(),
                out.images,
                Norm::Linf,
                cfg.eps,
            );
        } else {
            check_ball(
                &format!("{method:?} transform"),
                x.clone(),
                out.images,
                Norm::Linf,
                cfg.eps,
            );
        }
    }
}

fn loss(net: &Network, x: Tensor<4>, y: Tensor<1, Int>) -> f32 {
    let logits = net.forward(x);
    values(attack::attack_loss(AttackLoss::CrossEntropy, logits, y))[0]
}

#[test]
fn pgd_raises_the_loss_above_clean_and_random_perturbations() {
    let device = Device::default().autodiff();
    device.seed(11);
    let net = narrow_net(&device);
    let space = PixelSpace::new(&pre());
    let (x, y) = random_batch(&device, 8);
    let px = space.to_pixels(x.clone().inner());
    let clean = loss(&net, x.clone(), y.clone());
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for (norm, eps, alpha) in [
        (Norm::Linf, 4.0 / 255.0, 1.0 / 255.0),
        (Norm::L2, 0.25, 0.08),
    ] {
        let spec = AttackSpec::pgd(norm, eps, 7, alpha, true);
        let adv = attack::pgd(&net, x.clone(), y.clone(), &spec, &space, &mut rng);
        let adv_loss = loss(&net, adv.images.clone(), y.clone());
        // A random perturbation of the same size: random signs (L∞), a random direction of
        // norm ε (L2), clamped to [0, 1].
        let noise =
            Tensor::<4>::random([8, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device).inner();
        let delta = match norm {
            Norm::Linf => noise.sign() * eps,
            Norm::L2 => noise.clone() / l2_norms(noise) * eps,
        };
        let random = space.normalise((px.clone() + delta).clamp(0.0, 1.0));
        let random_loss = loss(&net, random, y.clone());
        println!("{norm:?} ε={eps}: clean {clean:.4}, random {random_loss:.4}, PGD {adv_loss:.4}");
        assert!(
            adv_loss > clean + 0.1 && adv_loss > random_loss + 0.1,
            "{norm:?}: PGD loss {adv_loss} is not above clean {clean} and random {random_loss}"
        );
    }
}

/// All parameter values of a model, in visiting order.
struct Values(Vec<Vec<f32>>);

impl ModuleVisitor for Values {
    fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
        self.0.push(values(p.val()));
    }
}

fn params(m: &Network) -> Vec<Vec<f32>> {
    let mut v = Values(Vec::new());
    m.visit(&mut v);
    v.0
}

fn step_with(transforms: Vec<Box<dyn InputTransform>>) -> Step {
    Step {
        objectives: vec![Box::new(CrossEntropy {
            label_smoothing: 0.0,
        })],
        transforms,
        hooks: Vec::new(),
        frozen: Frozen::default(),
    }
}

/// SGD steps of `model` on `batches`; the parameters after them. (The model is built once
/// per test and cloned: the device's random generator is shared with tests running alongside.)
fn train(
    model: &Network,
    transforms: Vec<Box<dyn InputTransform>>,
    batches: &[Batch],
) -> Vec<Vec<f32>> {
    let mut model = model.clone();
    let mut optim = SgdConfig::new().init();
    let mut step = step_with(transforms);
    for (i, b) in batches.iter().enumerate() {
        let (m, _) = step.run(model, &mut optim, b.clone(), 0.05, 1, i as u64);
        model = m;
    }
    params(&model)
}

#[test]
fn eps_zero_is_clean_training_bit_for_bit() {
    let device = Device::default().autodiff();
    device.seed(21);
    let batches: Vec<Batch> = (0..2)
        .map(|_| {
            let (x, y) = random_batch(&device, 4);
            Batch::hard(x, y)
        })
        .collect();
    let net = cornet(&device);
    let clean = train(&net, Vec::new(), &batches);
    assert!(
        train(&net, Vec::new(), &batches) == clean,
        "clean training is not reproducible"
    );
    for method in [Method::Pgd, Method::FgsmRs, Method::Free] {
        let cfg = AdversarialConfig {
            method,
            eps: 0.0,
            ..AdversarialConfig::default()
        };
        let mut t = transform::build(&cfg, &pre(), 4).unwrap();
        assert_eq!(t.replays(), 1, "{method:?}: ε = 0 replays once");
        assert!(
            !t.wants_input_grad(),
            "{method:?}: ε = 0 asks for no input gradient"
        );
        t.start_step(1, 0);
        let out = t.apply(&net, batches[0].clone());
        assert_eq!(
            values(out.images),
            values(batches[0].images.clone()),
            "{method:?}: images"
        );
        let trained = train(
            &net,
            vec![transform::build(&cfg, &pre(), 4).unwrap()],
            &batches,
        );
        assert!(
            trained == clean,
            "{method:?}: ε = 0 training differs from clean training"
        );
    }
}

#[test]
fn the_attack_does_not_leak_into_the_step() {
    // A PGD step equals a clean step on the images the transform makes: the attack's own
    // backward passes leave no gradient behind.
    let device = Device::default().autodiff();
    device.seed(31);
    let (x, y) = random_batch(&device, 4);
    let batch = Batch::hard(x, y);
    let cfg = AdversarialConfig {
        method: Method::Pgd,
        steps: 3,
        ..AdversarialConfig::default()
    };
    let net = cornet(&device);
    let adv_trained = train(
        &net,
        vec![transform::build(&cfg, &pre(), 2).unwrap()],
        std::slice::from_ref(&batch),
    );
    let mut t = transform::build(&cfg, &pre(), 2).unwrap();
    t.start_step(1, 0);
    let adv = t.apply(&net, batch.clone());
    assert!(values(adv.images.clone()) != values(batch.images.clone()));
    let logs = t.logs();
    let names: Vec<&str> = logs.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["adv_clean_loss", "adv_attack_loss"]);
    let clean_on_adv = train(&net, Vec::new(), &[adv]);
    assert!(
        adv_trained == clean_on_adv,
        "the attack changed the training step"
    );
}

#[test]
fn free_training_updates_delta_from_the_steps_own_gradient() {
    let device = Device::default().autodiff();
    device.seed(41);
    let (x, y) = random_batch(&device, 4);
    let batch = Batch::hard(x.clone(), y);
    let cfg = AdversarialConfig {
        method: Method::Free,
        replays: 3,
        ..AdversarialConfig::default()
    };
    let mut step = step_with(vec![transform::build(&cfg, &pre(), 0).unwrap()]);
    assert_eq!(step.transforms[0].replays(), 3);
    let mut model = cornet(&device);
    let mut optim = SgdConfig::new().init();
    let mut seen = Vec::new();
    for r in 0..3u64 {
        let (m, stats) = step.run(model, &mut optim, batch.clone(), 0.01, 1, r);
        model = m;
        seen.push(values(stats.ce)[0]);
        assert!(stats.logs.iter().any(|(n, _)| *n == "adv_clean_loss"));
    }
    // After three replays δ has moved by ε·sign(g) at least once: the next batch differs from
    // the clean one and stays in the ball.
    let t = &mut step.transforms[0];
    t.start_step(1, 3);
    let out = t.apply(&model, batch.clone());
    check_ball(
        "free after 3 replays",
        x.clone(),
        out.images,
        Norm::Linf,
        cfg.eps,
    );
    // A new epoch starts from δ = 0.
    t.start_step(2, 4);
    let out = t.apply(&model, batch);
    assert_eq!(values(out.images), values(x));
    println!("free replays: ce {seen:?}");
}

#[test]
fn random_starts_follow_seed_epoch_and_step() {
    let device = Device::default().autodiff();
    device.seed(51);
    let net = narrow_net(&device);
    let (x, y) = random_batch(&device, 2);
    let batch = Batch::hard(x, y);
    let cfg = AdversarialConfig {
        method: Method::FgsmRs,
        ..AdversarialConfig::default()
    };
    let run = |seed: u64, epoch: usize, step: u64| {
        let mut t = transform::build(&cfg, &pre(), seed).unwrap();
        t.start_step(epoch, step);
        values(t.apply(&net, batch.clone()).images)
    };
    let a = run(1, 2, 7);
    assert_eq!(a, run(1, 2, 7), "same (seed, epoch, step), same images");
    assert!(a != run(1, 2, 8), "another step, another start");
    assert!(a != run(1, 3, 7), "another epoch, another start");
    assert!(a != run(2, 2, 7), "another seed, another start");
}

#[test]
fn config_errors_name_the_key() {
    let err = |toml_text: &str| -> String {
        match toml::from_str::<AdversarialConfig>(toml_text) {
            Err(e) => e.to_string(),
            Ok(cfg) => match transform::build(&cfg, &pre(), 0) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("accepted: {toml_text}"),
            },
        }
    };
    assert!(err("method = \"pgd\"\nepss = 0.1").contains("epss"));
    assert!(err("method = \"free\"\nnorm = \"l2\"").contains("adversarial.norm"));
    assert!(err("method = \"pgd\"\neps = -0.1").contains("adversarial.eps"));
    assert!(err("method = \"pgd\"\nsteps = 0").contains("adversarial.steps"));
    assert!(err("method = \"free\"\nreplays = 0").contains("adversarial.replays"));
    assert!(err("method = \"free\"\nattack_mode = \"eval\"").contains("adversarial.attack_mode"));
    assert!(err("method = \"pgd\"\nstep_size = -1.0").contains("adversarial.step_size"));
    // The resolved configuration round-trips through TOML (unset options stay unset).
    for cfg in [
        AdversarialConfig::default(),
        AdversarialConfig {
            method: Method::Pgd,
            norm: Norm::L2,
            step_size: Some(0.1),
            attack_mode: Some(AttackMode::Train),
            loss: AttackLoss::Margin,
            ..AdversarialConfig::default()
        },
    ] {
        let text = toml::to_string(&cfg).unwrap();
        assert_eq!(
            toml::from_str::<AdversarialConfig>(&text).unwrap(),
            cfg,
            "{text}"
        );
    }
    let ok: AdversarialConfig = toml::from_str("method = \"fgsm_rs\"\neps = 0.0313725").unwrap();
    let spec = ok.attack();
    assert_eq!((spec.steps, spec.random_start), (1, true));
    assert!((spec.step_size - 1.25 * 0.0313725).abs() < 1e-12);
    assert_eq!(spec.mode, AttackMode::Train);
}

#[test]
fn robust_batch_matches_the_attack_and_counts_correct() {
    let device = Device::default().autodiff();
    let net = narrow_net(&device);
    let io = read_io();
    let space = PixelSpace::new(&pre());
    let x = space.normalise(tensor4(&io, "x", &device));
    let y = labels(&io, "y", &device);
    let spec = AttackSpec::pgd(Norm::Linf, 8.0 / 255.0, 10, 2.0 / 255.0, false);
    let r = attack::robust_batch(&net, x, y.clone(), &spec, &pre(), 0);
    let theirs: Vec<i64> = io["pgd_pred"].1.iter().map(|&f| f as i64).collect();
    assert_eq!(ints(r.predictions), theirs);
    let correct = theirs
        .iter()
        .zip(ints(y))
        .filter(|(a, b)| **a == *b)
        .count();
    assert_eq!(values(r.correct)[0] as usize, correct);
}

/// Cost of one adversarial-training step relative to a clean step: CORnet-Z (the default
/// FC-4096 head, 100 classes) at 32 px, batch 128 of random images, SGD; prints images/s.
/// Not a timed assertion: run it by hand.
///
/// `cargo test --release -j 1 -p brainlike-core --test attack -- --ignored --nocapture step_cost`
#[test]
#[ignore]
fn step_cost() {
    use std::time::Instant;
    let device = Device::default().autodiff();
    device.seed(1);
    let model = Network::new(&ModelConfig::default(), 32, 100, 4, &device);
    let (x, _) = random_batch(&device, 128);
    let y = Tensor::<1, Int>::from_data(
        TensorData::new((0..128i64).map(|i| i % 100).collect::<Vec<_>>(), [128]),
        &device,
    );
    let batch = Batch::hard(x, y);
    let methods = [Method::None, Method::Pgd, Method::FgsmRs, Method::Free];
    let mut steps: Vec<Step> = methods
        .iter()
        .map(|&method| {
            let cfg = AdversarialConfig {
                method,
                ..AdversarialConfig::default()
            };
            step_with(vec![transform::build(&cfg, &pre(), 0).unwrap()])
        })
        .collect();
    // Rounds interleave the methods (the machine may be shared); the fastest round counts.
    // Each round: one warm-up step, then two timed ones, each waiting for its loss.
    let mut best = [f64::MAX; 4];
    for _round in 0..3 {
        for (k, step) in steps.iter_mut().enumerate() {
            let mut optim = SgdConfig::new().init();
            let (mut m, s) = step.run(model.clone(), &mut optim, batch.clone(), 0.01, 1, 0);
            let _ = values(s.ce);
            let t0 = Instant::now();
            for i in 0..2u64 {
                let (mm, s) = step.run(m, &mut optim, batch.clone(), 0.01, 1, 1 + i);
                m = mm;
                let _ = values(s.ce);
            }
            best[k] = best[k].min(t0.elapsed().as_secs_f64() / 2.0);
        }
    }
    for (k, method) in methods.iter().enumerate() {
        let cfg = AdversarialConfig {
            method: *method,
            ..AdversarialConfig::default()
        };
        println!(
            "{method:?} (attack steps {}, replays {}): {:.0} img/s per optimiser step, \
             {:.2}x the clean step's time",
            match method {
                Method::None => 0,
                _ => cfg.attack().steps,
            },
            steps[k].transforms[0].replays(),
            128.0 / best[k],
            best[k] / best[0]
        );
    }
}

#[test]
fn eval_mode_attacks_see_no_dropout() {
    // The FC-4096 head has dropout 0.5: in evaluation mode two attacks of the same images are
    // identical (no masks drawn); in training mode they differ.
    let device = Device::default().autodiff();
    device.seed(61);
    let cfg = ModelConfig {
        arch: Arch::parse("cornet_z").unwrap(),
        head: Head::Fc4096,
        ..ModelConfig::default()
    };
    let net = Network::new(&cfg, 32, 10, 0, &device);
    let (x, y) = random_batch(&device, 2);
    let space = PixelSpace::new(&pre());
    let run = |mode: AttackMode| {
        let spec = AttackSpec {
            mode,
            ..AttackSpec::pgd(Norm::L2, 0.5, 2, 0.2, false)
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        values(attack::pgd(&net, x.clone(), y.clone(), &spec, &space, &mut rng).images)
    };
    assert_eq!(run(AttackMode::Eval), run(AttackMode::Eval));
    assert!(run(AttackMode::Train) != run(AttackMode::Train));
}

#[test]
fn free_delta_follows_the_sign_of_the_steps_input_gradient() {
    // First replay: δ = 0, so the step trains on the clean images and its backward pass gives
    // g = ∇ CE at the clean images for the model before the update; then δ = ε·sign(g). The
    // second replay must train on clamp(x + ε·sign(g), 0, 1).
    let device = Device::default().autodiff();
    device.seed(71);
    let net = cornet(&device);
    let (x, y) = random_batch(&device, 4);
    let batch = Batch::hard(x.clone(), y.clone());
    let space = PixelSpace::new(&pre());
    let eps = 8.0 / 255.0;
    let px = space.to_pixels(x.clone().inner());
    let (g, _) = attack::input_gradient(
        &net,
        px.clone(),
        y.clone(),
        &space,
        AttackLoss::CrossEntropy,
        AttackMode::Train,
    );
    let expected = values((px.clone() + g.sign() * eps).clamp(0.0, 1.0));

    let cfg = AdversarialConfig {
        method: Method::Free,
        eps,
        replays: 2,
        log_clean_loss: false,
        ..AdversarialConfig::default()
    };
    let mut step = step_with(vec![transform::build(&cfg, &pre(), 0).unwrap()]);
    let mut optim = SgdConfig::new().init();
    let (model, _) = step.run(net, &mut optim, batch.clone(), 0.01, 1, 0);
    let t = &mut step.transforms[0];
    t.start_step(1, 1);
    let second = space.to_pixels(t.apply(&model, batch).images.inner());
    let ours = values(second);
    let (mut worst, mut off) = (0f32, 0usize);
    for (a, b) in ours.iter().zip(&expected) {
        let d = (a - b).abs();
        worst = worst.max(d);
        off += (d > 1e-5) as usize;
    }
    println!("free δ vs ε·sign(∇): max |diff| {worst:.2e}, {off} pixels off");
    assert_eq!(
        off, 0,
        "{off} pixels differ from clamp(x + ε·sign(g)) (max {worst:.2e})"
    );
}
