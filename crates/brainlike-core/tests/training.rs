//! End-to-end training on a small slice of the real CIFAR-100 and the real V1 teacher:
//! both loss terms fall, gradients of the teacher term reach exactly the layers up to the
//! tap, and a resumed run ends bit-equal to an uninterrupted one.
//!
//! The data is read from `$BRAINLIKE_TEST_DATA`, else `../shared/data` next to the checkout
//! (the official binary archive; no network).

use std::path::PathBuf;
use std::sync::Arc;

use brainlike_core::TrainConfig;
use brainlike_core::config::Head;
use brainlike_core::data::Cifar100;
use brainlike_core::models::cornet_z;
use brainlike_core::train::metrics::read_csv;
use brainlike_core::train::{TrainOptions, load_resources_with, train};

fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("BRAINLIKE_TEST_DATA") {
        return PathBuf::from(d);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        root.join("cifar-100-binary.tar.gz").is_file() || root.join("cifar-100-binary").is_dir(),
        "CIFAR-100 test data not found at {} (set BRAINLIKE_TEST_DATA to a folder holding cifar-100-binary.tar.gz)",
        root.display()
    );
    root
}

/// The backend's random generator (dropout) is process-wide: tests that train take turns.
fn lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The tensors of a safetensors file by name (the header's key order is not canonical).
fn tensors(path: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let b = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&b[8..8 + n]).unwrap();
    let data = &b[8 + n..];
    header
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(k, v)| {
            let o = &v["data_offsets"];
            let (s, e) = (
                o[0].as_u64().unwrap() as usize,
                o[1].as_u64().unwrap() as usize,
            );
            (k.clone(), data[s..e].to_vec())
        })
        .collect()
}

fn cifar() -> Arc<Cifar100> {
    static CACHE: std::sync::OnceLock<Arc<Cifar100>> = std::sync::OnceLock::new();
    CACHE
        .get_or_init(|| Arc::new(Cifar100::load(&data_dir()).expect("CIFAR-100 reads")))
        .clone()
}

fn small_config(out: PathBuf) -> TrainConfig {
    TrainConfig::load(
        None,
        &[
            "device=\"flex\"".into(),
            "data.train_limit=256".into(),
            "data.test_limit=200".into(),
            "optim.batch_size=64".into(),
            "optim.epochs=3".into(),
            "teacher.ratio=0.1".into(),
            "teacher.epochs=\"all\"".into(),
            format!("out_dir={}", toml::Value::String(out.display().to_string())),
        ],
    )
    .unwrap()
}

#[test]
fn real_cifar_reads_with_expected_structure() {
    let _guard = lock();
    let c = cifar();
    assert_eq!(c.train.len(), 50_000);
    assert_eq!(c.test.len(), 10_000);
    assert_eq!(c.fine_names.len(), 100);
    assert_eq!(c.fine_names[0], "apple");
    assert_eq!(c.coarse_names.len(), 20);
    // 500 training images per fine class.
    let mut counts = [0usize; 100];
    for &f in &c.train.fine {
        counts[f as usize] += 1;
    }
    assert!(counts.iter().all(|&n| n == 500));
    let m = c.train.global_mean();
    assert!(m > 0.4 && m < 0.55, "{m}");
}

#[test]
fn both_loss_terms_fall_on_real_data() {
    let _guard = lock();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path().join("run"));
    // The paper's lr; r = 1 so that the teacher's pull is visible within a few epochs.
    cfg.optim.epochs = 4;
    cfg.optim.batch_size = 32;
    cfg.data.train_limit = 512;
    cfg.teacher.ratio = 1.0;
    cfg.model.head = Head::Decoder;
    let res = load_resources_with(&cfg, cifar()).unwrap();
    let s = train(&cfg, &res, &TrainOptions::default()).unwrap();
    assert_eq!(s.epochs, 4);
    let rows = read_csv(&dir.path().join("run/metrics.csv")).unwrap();
    assert_eq!(rows.len(), 4);
    let (first, last) = (&rows[0], &rows[3]);
    assert!(
        last.train_loss < first.train_loss - 0.02,
        "CE {} -> {}",
        first.train_loss,
        last.train_loss
    );
    assert!(
        last.teacher_loss < first.teacher_loss,
        "teacher {} -> {}",
        first.teacher_loss,
        last.teacher_loss
    );
    assert!(rows.iter().all(|r| r.lambda > 0.0 && r.lambda.is_finite()));
    // The λ controller keeps λ·T ≈ r·CE on average (ratio of means, so loosely).
    let ratio = first.lambda * first.teacher_loss / first.train_loss;
    assert!(ratio > 0.5 && ratio < 2.0, "{ratio}");
    for f in [
        "config.toml",
        "metrics.csv",
        "summary.json",
        "weights.safetensors",
        "analysis/activation_variance.json",
    ] {
        assert!(dir.path().join("run").join(f).is_file(), "{f}");
    }
    // Re-reading the written configuration gives the same configuration.
    let text = std::fs::read_to_string(dir.path().join("run/config.toml")).unwrap();
    let back: TrainConfig = toml::from_str(&text).unwrap();
    assert_eq!(back.teacher, cfg.teacher);
}

#[test]
fn no_teacher_means_no_teacher_figures() {
    let _guard = lock();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path().join("run"));
    cfg.teacher.ratio = 0.0;
    cfg.optim.epochs = 1;
    let res = load_resources_with(&cfg, cifar()).unwrap();
    assert!(res.stimuli.is_none());
    train(&cfg, &res, &TrainOptions::default()).unwrap();
    let rows = read_csv(&dir.path().join("run/metrics.csv")).unwrap();
    assert_eq!(rows[0].teacher_loss, 0.0);
    assert_eq!(rows[0].lambda, 0.0);
}

#[test]
fn existing_run_is_not_overwritten() {
    let _guard = lock();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path().join("run"));
    cfg.optim.epochs = 1;
    cfg.data.train_limit = 64;
    let res = load_resources_with(&cfg, cifar()).unwrap();
    train(&cfg, &res, &TrainOptions::default()).unwrap();
    let before = std::fs::read(dir.path().join("run/weights.safetensors")).unwrap();
    let err = train(&cfg, &res, &TrainOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("--resume"), "{err}");
    assert_eq!(
        std::fs::read(dir.path().join("run/weights.safetensors")).unwrap(),
        before
    );
}

fn resume_matches(extra: &[&str]) -> (tempfile::TempDir, TrainConfig) {
    let _guard = lock();
    let dir = tempfile::tempdir().unwrap();
    let mut a = small_config(dir.path().join("a"));
    for set in extra {
        let mut t = toml::Table::new();
        brainlike_core::config::apply_set(&mut t, set).unwrap();
        let merged = {
            let mut base = toml::Value::try_from(&a).unwrap();
            merge(&mut base, toml::Value::Table(t));
            base
        };
        a = merged.try_into().unwrap();
    }
    let res = load_resources_with(&a, cifar()).unwrap();
    train(&a, &res, &TrainOptions::default()).unwrap();

    let mut b = a.clone();
    b.out_dir = dir.path().join("b");
    let stopped = train(
        &b,
        &res,
        &TrainOptions {
            stop_after: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(stopped.epochs, 1);
    assert!(!b.out_dir.join("summary.json").exists());
    train(
        &b,
        &res,
        &TrainOptions {
            resume: true,
            ..Default::default()
        },
    )
    .unwrap();

    let wa = tensors(&a.out_dir.join("weights.safetensors"));
    let wb = tensors(&b.out_dir.join("weights.safetensors"));
    assert_eq!(wa.len(), 14);
    assert!(
        wa == wb,
        "resumed weights differ from the uninterrupted run's"
    );
    let ra = read_csv(&a.out_dir.join("metrics.csv")).unwrap();
    let rb = read_csv(&b.out_dir.join("metrics.csv")).unwrap();
    assert_eq!(ra.len(), rb.len());
    for (x, y) in ra.iter().zip(&rb) {
        assert_eq!(
            (
                x.train_loss,
                x.test_loss,
                x.test_acc,
                x.teacher_loss,
                x.lambda
            ),
            (
                y.train_loss,
                y.test_loss,
                y.test_acc,
                y.teacher_loss,
                y.lambda
            )
        );
    }
    (dir, a)
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

#[test]
fn resume_is_bit_equal_plain_sgd_with_dropout_and_teacher() {
    resume_matches(&[]);
}

#[test]
fn resume_is_bit_equal_with_momentum_and_static_lambda() {
    resume_matches(&[
        "optim.momentum=0.9",
        "teacher.lambda_mode=\"static\"",
        "teacher.layer=\"v2\"",
    ]);
}

#[test]
fn teacher_gradient_reaches_exactly_the_layers_up_to_the_tap() {
    let _guard = lock();
    use brainlike_core::config::ModelConfig;
    use brainlike_core::data::{PackSource, Stimuli};
    use brainlike_core::models::{Features, Network};
    use brainlike_core::train::loss::{pair_cosine_distances, teacher_term};
    use burn::tensor::{Device, Int, Tensor, TensorData};

    let device = Device::flex().autodiff();
    let stim = Stimuli::load(&PackSource::Builtin, 32).unwrap();
    let x = Tensor::<4>::from_data(
        TensorData::new(stim.pixels[..6 * 3 * 32 * 32].to_vec(), [6, 3, 32, 32]),
        &device,
    );
    let a = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 2], [3]), &device);
    let b = Tensor::<1, Int>::from_data(TensorData::new(vec![3i64, 4, 5], [3]), &device);
    let target = Tensor::<1>::from_data(TensorData::new(vec![0.9f32, 0.9, 0.9], [3]), &device);
    let net = Network::new(&ModelConfig::default(), 32, 100, 4, &device);
    for (tap, reached) in [
        (cornet_z::V1, [true, false, false, false]),
        (cornet_z::V4, [true, true, true, false]),
    ] {
        let acts = net.activations(x.clone(), tap).flatten::<2>(1, 3);
        let term = teacher_term(
            pair_cosine_distances(acts, a.clone(), b.clone()),
            target.clone(),
            brainlike_core::config::Penalty::Squared,
        );
        let grads = term.backward();
        let Features::CornetZ(z) = &net.features else {
            unreachable!()
        };
        for ((area, block), want) in z.blocks().iter().zip(reached) {
            let g = block.conv.conv.weight.val().grad(&grads);
            let norm = g.map(|g| g.abs().sum().into_scalar::<f64>()).unwrap_or(0.0);
            assert_eq!(norm > 0.0, want, "tap {tap}: gradient at {area} = {norm}");
        }
    }
}

#[test]
fn teacher_term_alone_is_minimised_through_the_shared_pass() {
    use brainlike_core::config::{ModelConfig, Penalty};
    use brainlike_core::data::teacher::load_pairs;
    use brainlike_core::data::{PackSource, Stimuli};
    use brainlike_core::models::Network;
    use brainlike_core::train::loss::{pair_cosine_distances, teacher_term};
    use brainlike_core::train::objective::TeacherData;
    use burn::optim::{GradientsParams, SgdConfig};
    use burn::tensor::{Device, Tensor};
    use rand::SeedableRng;

    let _guard = lock();
    let device = Device::flex().autodiff();
    let stim = Stimuli::load(&PackSource::Builtin, 32).unwrap();
    let pairs = Arc::new(load_pairs(&PackSource::Builtin, "v1", stim.count).unwrap());
    let teacher = TeacherData::new(stim.pixels.clone(), stim.count, stim.size, pairs, &device);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let fixed = teacher.sample(200, &mut rng, &device);
    device.seed(3);
    let mut model = Network::new(&ModelConfig::default(), 32, 100, 4, &device);
    let mut optim = SgdConfig::new().init();
    let x = Tensor::<4>::zeros([2, 3, 32, 32], &device);
    let measure = |m: &Network| {
        let out = m.forward_with_tap(x.clone(), Some(fixed.stimuli.clone()), cornet_z::V1);
        let d = pair_cosine_distances(out.tap.unwrap(), fixed.a.clone(), fixed.b.clone());
        teacher_term(d, fixed.distance.clone(), Penalty::Squared).into_scalar::<f64>()
    };
    let before = measure(&model);
    for _ in 0..40 {
        let tb = teacher.sample(50, &mut rng, &device);
        let out = model.forward_with_tap(x.clone(), Some(tb.stimuli.clone()), cornet_z::V1);
        let d = pair_cosine_distances(out.tap.unwrap(), tb.a.clone(), tb.b.clone());
        let term = teacher_term(d, tb.distance.clone(), Penalty::Squared);
        let grads = GradientsParams::from_grads(term.backward(), &model);
        model = optim.step(0.005, model, grads);
    }
    let after = measure(&model);
    assert!(
        after < 0.85 * before,
        "teacher term on 200 held pairs: {before} -> {after}"
    );
}

/// Flips `n` bytes in the middle of `path` (the length is unchanged).
fn damage(path: &std::path::Path, n: usize) {
    let mut b = std::fs::read(path).unwrap();
    let mid = b.len() / 2;
    for x in &mut b[mid..mid + n] {
        *x = !*x;
    }
    std::fs::write(path, b).unwrap();
}

#[test]
fn damaged_newest_checkpoint_falls_back_and_still_ends_bit_equal() {
    let _guard = lock();
    let dir = tempfile::tempdir().unwrap();
    let mut a = small_config(dir.path().join("a"));
    a.data.train_limit = 128;
    a.data.test_limit = 50;
    a.checkpoint.keep = 0;
    let res = load_resources_with(&a, cifar()).unwrap();
    train(&a, &res, &TrainOptions::default()).unwrap();

    let mut b = a.clone();
    b.out_dir = dir.path().join("b");
    let stopped = train(
        &b,
        &res,
        &TrainOptions {
            stop_after: Some(2),
            ..Default::default()
        },
    )
    .unwrap();
    let ckpt = b.out_dir.join("checkpoints/epoch-0002");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ckpt.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["sha256"]["model.bpk"].as_str().unwrap().len(), 64);
    assert!(
        state["config"]
            .as_str()
            .unwrap()
            .contains("train_limit = 128")
    );
    damage(&ckpt.join("model.bpk"), 1000);
    let resumed = train(
        &b,
        &res,
        &TrainOptions {
            resume: true,
            ..Default::default()
        },
    )
    .unwrap();
    // Epoch 2 was trained again from epoch 1's checkpoint: same tensors as uninterrupted.
    assert!(
        tensors(&a.out_dir.join("weights.safetensors"))
            == tensors(&b.out_dir.join("weights.safetensors")),
        "run resumed from the older checkpoint differs from the uninterrupted run"
    );
    let (ra, rb) = (
        read_csv(&a.out_dir.join("metrics.csv")).unwrap(),
        read_csv(&b.out_dir.join("metrics.csv")).unwrap(),
    );
    assert_eq!(ra.len(), 3);
    assert_eq!(rb.len(), 3);
    for (x, y) in ra.iter().zip(&rb) {
        assert_eq!((x.train_loss, x.test_acc), (y.train_loss, y.test_acc));
    }
    // summary.json counts the seconds of both invocations.
    assert!(
        resumed.seconds > stopped.seconds,
        "summary seconds {} do not include the first invocation's {}",
        resumed.seconds,
        stopped.seconds
    );
}

#[test]
fn lost_config_is_taken_from_the_checkpoint_and_damage_everywhere_is_an_error() {
    let _guard = lock();
    let dir = tempfile::tempdir().unwrap();
    let mut a = small_config(dir.path().join("c"));
    a.data.train_limit = 64;
    a.data.test_limit = 50;
    let res = load_resources_with(&a, cifar()).unwrap();
    let resume = TrainOptions {
        resume: true,
        ..Default::default()
    };
    train(
        &a,
        &res,
        &TrainOptions {
            stop_after: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    std::fs::remove_file(a.out_dir.join("config.toml")).unwrap();
    let mut other = a.clone();
    other.seed = 99;
    let err = train(&other, &res, &resume).unwrap_err().to_string();
    assert!(
        err.contains("seed") && err.contains("config.toml is missing"),
        "{err}"
    );
    assert!(
        !a.out_dir.join("metrics.csv").exists()
            || read_csv(&a.out_dir.join("metrics.csv")).unwrap().len() == 1
    );

    damage(&a.out_dir.join("checkpoints/epoch-0001/optim.bpk"), 10);
    let err = train(&a, &res, &resume).unwrap_err().to_string();
    assert!(
        err.contains("no intact checkpoint")
            && err.contains("SHA-256")
            && err.contains("optim.bpk"),
        "{err}"
    );
}

#[test]
fn resume_is_bit_equal_with_cutmix_augmentation_and_fgsm_rs() {
    resume_matches(&[
        "mix.kind=\"cutmix\"",
        "adversarial.method=\"fgsm_rs\"",
        "adversarial.eps=0.0156863",
    ]);
}

#[test]
fn swa_resumes_bit_equal_and_its_weights_are_the_mean_of_the_averaged_epochs() {
    use brainlike_core::models::Network;
    use brainlike_core::train::average::{average, checkpoint_model};
    // SWA from epoch 2 of 3 at a constant rate of its own: the run is stopped after epoch 1
    // and resumed (before the average starts) in `resume_matches`; here a second run stops
    // after epoch 2, inside the average, and resumes.
    let (dir, a) = resume_matches(&[
        "averaging.kind=\"swa\"",
        "averaging.start_epoch=2",
        "averaging.swa_lr=0.005",
    ]);
    let mut c = a.clone();
    c.out_dir = dir.path().join("c");
    let res = load_resources_with(&c, cifar()).unwrap();
    {
        let _guard = lock();
        let opts = |resume, stop_after| TrainOptions {
            resume,
            stop_after,
            ..Default::default()
        };
        train(&c, &res, &opts(false, Some(2))).unwrap();
        let ck = c.out_dir.join("checkpoints/epoch-0002");
        assert!(
            ck.join("averaging.bpk").is_file(),
            "the average is checkpointed"
        );
        train(&c, &res, &opts(true, None)).unwrap();
    }
    assert!(
        tensors(&a.out_dir.join("weights.safetensors"))
            == tensors(&c.out_dir.join("weights.safetensors")),
        "resumed inside the average: weights differ"
    );
    // CORnet-Z has no BatchNorm: the result is the plain mean of epochs 2 and 3.
    let template = || {
        Network::new(
            &a.model,
            a.data.input_size,
            100,
            4,
            &burn::tensor::Device::default(),
        )
    };
    let mean = average(&[
        checkpoint_model(&a.out_dir, 2, template()).unwrap(),
        checkpoint_model(&a.out_dir, 3, template()).unwrap(),
    ])
    .unwrap();
    let mut want = template();
    brainlike_core::models::weights::load_torch(&mut want, &a.out_dir.join("weights.safetensors"))
        .unwrap();
    let flat = |n: &Network| -> Vec<f32> {
        brainlike_core::models::weights::torch_bytes(n, &[])
            .map(|b| {
                let t = safetensors::SafeTensors::deserialize(&b).unwrap();
                let mut names: Vec<String> = t.names().into_iter().map(String::from).collect();
                names.sort();
                names
                    .iter()
                    .flat_map(|k| {
                        t.tensor(k)
                            .unwrap()
                            .data()
                            .chunks_exact(4)
                            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                            .collect::<Vec<_>>()
                    })
                    .collect()
            })
            .unwrap()
    };
    let (got, want_mean) = (flat(&want), flat(&mean));
    assert_eq!(got.len(), want_mean.len());
    for (x, y) in got.iter().zip(&want_mean) {
        assert!((x - y).abs() <= 1e-6 * (1.0 + y.abs()), "{x} vs {y}");
    }
    let last = tensors(&a.out_dir.join("weights_last.safetensors"));
    assert!(last != tensors(&a.out_dir.join("weights.safetensors")));
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.out_dir.join("averaging.json")).unwrap()).unwrap();
    assert_eq!(rec["averaged"], 2);
    assert_eq!(rec["batch_norm_recomputed"], false);
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.out_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["averaged_test_acc"], rec["test_acc_averaged"]);
}

#[test]
fn ema_resumes_bit_equal() {
    resume_matches(&["averaging.kind=\"ema\"", "averaging.ema_decay=0.9"]);
}

fn metrics_match(a: &std::path::Path, b: &std::path::Path) {
    let (ra, rb) = (
        read_csv(&a.join("metrics.csv")).unwrap(),
        read_csv(&b.join("metrics.csv")).unwrap(),
    );
    assert_eq!(ra.len(), rb.len());
    for (x, y) in ra.iter().zip(&rb) {
        assert_eq!(
            (
                x.train_loss,
                x.train_acc,
                x.test_loss,
                x.test_acc,
                x.teacher_loss,
                x.lambda
            ),
            (
                y.train_loss,
                y.train_acc,
                y.test_loss,
                y.test_acc,
                y.teacher_loss,
                y.lambda
            ),
            "epoch {}",
            x.epoch
        );
    }
}

/// Mid-epoch checkpoints (`checkpoint.every_steps`): a run stopped inside an epoch, resumed,
/// stopped again inside the same epoch and resumed ends bit-equal to an uninterrupted run
/// (dropout, the teacher's pair stream, EMA and the epoch's running sums all continue exactly);
/// a damaged mid-epoch checkpoint falls back to the epoch-end one and still ends bit-equal.
#[test]
fn mid_epoch_resume_is_bit_equal_with_dropout_teacher_and_ema() {
    let _guard = lock();
    let dir = tempfile::tempdir().unwrap();
    let mut a = small_config(dir.path().join("a"));
    a.checkpoint.every_steps = 1;
    a.averaging.kind = brainlike_core::config::AveragingKind::Ema;
    a.averaging.ema_decay = 0.9;
    assert_eq!(a.model.head, Head::Fc4096, "the head with dropout");
    let res = load_resources_with(&a, cifar()).unwrap();
    train(&a, &res, &TrainOptions::default()).unwrap();
    // 256 images in minibatches of 64: 4 per epoch; nothing mid-epoch is left at the end.
    let ckpts = a.out_dir.join("checkpoints");
    let names = |d: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&ckpts), ["epoch-0002", "epoch-0003"]);

    let mut b = a.clone();
    b.out_dir = dir.path().join("b");
    let stop = |k: usize, resume: bool| {
        train(
            &b,
            &res,
            &TrainOptions {
                resume,
                stop_after_batches: Some(k),
                ..Default::default()
            },
        )
        .unwrap()
    };
    // Epoch 1 (4 minibatches) and 2 of epoch 2.
    assert_eq!(stop(6, false).epochs, 1);
    let bckpts = b.out_dir.join("checkpoints");
    assert_eq!(names(&bckpts), ["epoch-0001", "epoch-0002-batch-000002"]);
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(bckpts.join("epoch-0002-batch-000002/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["epoch"], 1);
    assert_eq!(state["steps"], 6);
    assert_eq!(state["within"]["batches"], 2);
    // One more minibatch: the older mid-epoch checkpoint is replaced.
    assert_eq!(stop(1, true).epochs, 1);
    assert_eq!(names(&bckpts), ["epoch-0001", "epoch-0002-batch-000003"]);
    train(
        &b,
        &res,
        &TrainOptions {
            resume: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(names(&bckpts), ["epoch-0002", "epoch-0003"]);
    assert!(
        tensors(&a.out_dir.join("weights.safetensors"))
            == tensors(&b.out_dir.join("weights.safetensors")),
        "a run resumed twice inside epoch 2 differs from the uninterrupted run"
    );
    metrics_match(&a.out_dir, &b.out_dir);

    // A damaged mid-epoch checkpoint: resumed from the end of epoch 1 instead, still equal.
    let mut c = a.clone();
    c.out_dir = dir.path().join("c");
    train(
        &c,
        &res,
        &TrainOptions {
            stop_after_batches: Some(7),
            ..Default::default()
        },
    )
    .unwrap();
    damage(
        &c.out_dir
            .join("checkpoints/epoch-0002-batch-000003/model.bpk"),
        1000,
    );
    train(
        &c,
        &res,
        &TrainOptions {
            resume: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        tensors(&a.out_dir.join("weights.safetensors"))
            == tensors(&c.out_dir.join("weights.safetensors")),
        "a run resumed past a damaged mid-epoch checkpoint differs from the uninterrupted run"
    );
    metrics_match(&a.out_dir, &c.out_dir);
}

/// Without dropout (CORnet's decoder head), mid-epoch checkpoints change nothing: the same
/// weights and metrics as a run that checkpoints at epoch ends only.
#[test]
fn mid_epoch_checkpoints_change_nothing_without_dropout() {
    let _guard = lock();
    let dir = tempfile::tempdir().unwrap();
    let mut a = small_config(dir.path().join("a"));
    a.model.head = Head::Decoder;
    a.optim.epochs = 2;
    let res = load_resources_with(&a, cifar()).unwrap();
    train(&a, &res, &TrainOptions::default()).unwrap();
    let mut b = a.clone();
    b.out_dir = dir.path().join("b");
    b.checkpoint.every_steps = 2;
    train(&b, &res, &TrainOptions::default()).unwrap();
    assert!(
        tensors(&a.out_dir.join("weights.safetensors"))
            == tensors(&b.out_dir.join("weights.safetensors")),
        "mid-epoch checkpoints changed the weights of a model without dropout"
    );
    metrics_match(&a.out_dir, &b.out_dir);
}
