//! Prints the model's cosine distances on the V1 teacher pairs against the teacher's, for a
//! run directory (or an untrained model): mean, SD, correlation, and the teacher term per 50
//! pairs. `cargo run --release -p brainlike-core --example teacher_probe -- [RUN_DIR]`
use brainlike_core::config::{ModelConfig, Penalty};
use brainlike_core::data::teacher::load_pairs;
use brainlike_core::data::{PackSource, Stimuli};
use brainlike_core::models::Network;
use brainlike_core::models::cornet_z;
use brainlike_core::train::loss::{pair_cosine_distances, teacher_term};
use burn::tensor::{Device, Int, Tensor, TensorData};

fn main() {
    let device = Device::flex();
    let (model, tap) = match std::env::args().nth(1) {
        Some(dir) => {
            let (cfg, m) = brainlike_core::train::export::load_run(dir.as_ref(), &device).unwrap();
            (m, cfg.teacher.layer)
        }
        None => (
            Network::new(&ModelConfig::default(), 32, 100, 0, &device),
            cornet_z::V1,
        ),
    };
    let stim = Stimuli::load(&PackSource::Builtin, 32).unwrap();
    let pairs = load_pairs(&PackSource::Builtin, "v1", stim.count).unwrap();
    let x = Tensor::<4>::from_data(
        TensorData::new(stim.pixels.clone(), [stim.count, 3, 32, 32]),
        &device,
    );
    let acts = model.activations(x, tap).flatten::<2>(1, 3);
    let n = 2000;
    let a: Vec<i64> = pairs.pairs[..n].iter().map(|p| p.a as i64).collect();
    let b: Vec<i64> = pairs.pairs[..n].iter().map(|p| p.b as i64).collect();
    let t: Vec<f32> = pairs.pairs[..n].iter().map(|p| p.distance).collect();
    let dm = pair_cosine_distances(
        acts,
        Tensor::<1, Int>::from_data(TensorData::new(a, [n]), &device),
        Tensor::<1, Int>::from_data(TensorData::new(b, [n]), &device),
    );
    let target = Tensor::<1>::from_data(TensorData::new(t.clone(), [n]), &device);
    let term =
        teacher_term(dm.clone(), target, Penalty::Squared).into_scalar::<f64>() * 50.0 / n as f64;
    let d: Vec<f32> = dm.into_data().try_into_vec::<f32>().unwrap();
    let mean = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
    let (md, mt) = (mean(&d), mean(&t));
    let cov: f64 = d
        .iter()
        .zip(&t)
        .map(|(&x, &y)| (x as f64 - md) * (y as f64 - mt))
        .sum();
    let vd: f64 = d.iter().map(|&x| (x as f64 - md).powi(2)).sum();
    let vt: f64 = t.iter().map(|&y| (y as f64 - mt).powi(2)).sum();
    println!(
        "model d: mean {md:.4} sd {:.4}; V1 d: mean {mt:.4}; pearson {:.4}; teacher term per 50 pairs {term:.4}",
        (vd / n as f64).sqrt(),
        cov / (vd * vt).sqrt()
    );
}
