//! Speed and agreement vs the references (rsatoolbox 0.3.2, scikit-learn).
//!
//! `cargo run --release -p brainlike-metrics --example bench_metrics`
//! runs `python3 bench/metrics/peer.py` (when python3 and the packages are
//! available), which writes shared inputs and reference outputs as `.npy` and
//! prints its timings; then times our implementation on the same data and
//! prints both, the ratio and the max abs difference of the results.
//! Set `BENCH_DIR` to reuse a directory written earlier (peer is then skipped
//! if `peer.json` exists there).

use brainlike_metrics::io::read_npy_f64;
use brainlike_metrics::linalg::columnwise_pearson;
use brainlike_metrics::pls::PlsRegression;
use brainlike_metrics::{RdmMethod, calc_rdm, stats};
use ndarray::{Array2, Axis, Ix1, Ix2};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn best_of<R>(k: usize, mut f: impl FnMut() -> R) -> (f64, R) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..k {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.unwrap())
}

fn npy2(dir: &Path, name: &str) -> Array2<f64> {
    read_npy_f64(dir.join(name))
        .unwrap()
        .into_dimensionality::<Ix2>()
        .unwrap()
}

fn max_abs_diff<'a>(a: impl Iterator<Item = &'a f64>, b: impl Iterator<Item = &'a f64>) -> f64 {
    a.zip(b).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
}

fn main() -> anyhow::Result<()> {
    let dir =
        PathBuf::from(std::env::var("BENCH_DIR").unwrap_or("/tmp/brainlike-bench-metrics".into()));
    std::fs::create_dir_all(&dir)?;
    let peer_json = dir.join("peer.json");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/metrics/peer.py");
    if !peer_json.exists() {
        eprintln!(
            "running peer: python3 {} --out {}",
            root.display(),
            dir.display()
        );
        let out = Command::new("python3")
            .arg(&root)
            .arg("--out")
            .arg(&dir)
            .output()?;
        if !out.status.success() {
            anyhow::bail!("peer failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::fs::write(&peer_json, &out.stdout)?;
    }
    let peer: serde_json::Value = serde_json::from_slice(&std::fs::read(&peer_json)?)?;
    let peer_t = |k: &str| peer[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "threads: rayon {} | peer versions {}",
        rayon::current_num_threads(),
        peer["versions"]
    );
    println!(
        "{:<44} {:>10} {:>10} {:>8} {:>12}",
        "task", "ours [s]", "theirs [s]", "ratio", "max|diff|"
    );

    // ---- RDMs on 1000 x 10000 (f32 on disk, fed as f32)
    let x = npy2(&dir, "rdm_X.npy").mapv(|v| v as f32);
    for (m, key, reff, label) in [
        (
            RdmMethod::Correlation,
            "rdm_correlation_s",
            "rdm_correlation.npy",
            "RDM correlation vs rsatoolbox",
        ),
        (
            RdmMethod::SquaredEuclideanPerChannel,
            "rdm_sq_euclidean_per_channel_s",
            "rdm_sq_euclidean_per_channel.npy",
            "RDM sq-euclid/p vs rsatoolbox 'euclidean'",
        ),
        (
            RdmMethod::Cosine,
            "rdm_cosine_scipy_s",
            "rdm_cosine.npy",
            "RDM cosine vs scipy pdist",
        ),
    ] {
        let (t, rdm) = best_of(3, || calc_rdm(x.view(), m).unwrap());
        let want = read_npy_f64(dir.join(reff))?.into_dimensionality::<Ix1>()?;
        let d = max_abs_diff(rdm.condensed().iter(), want.iter());
        let th = peer_t(key);
        println!(
            "{label:<44} {t:>10.3} {th:>10.3} {:>8.2} {d:>12.2e}",
            th / t
        );
    }

    // ---- PLS(25), 10 splits of 2000 x 1000 -> 100
    let f = npy2(&dir, "pls_X.npy");
    let y = npy2(&dir, "pls_Y.npy");
    let tr = npy2(&dir, "pls_train_idx.npy");
    let te = npy2(&dir, "pls_test_idx.npy");
    let splits: Vec<(Vec<usize>, Vec<usize>)> = tr
        .axis_iter(Axis(0))
        .zip(te.axis_iter(Axis(0)))
        .map(|(a, b)| {
            (
                a.iter().map(|&v| v as usize).collect(),
                b.iter().map(|&v| v as usize).collect(),
            )
        })
        .collect();
    let pls = PlsRegression::new(25);
    let run = |parallel: bool| {
        let one = |(trn, tst): &(Vec<usize>, Vec<usize>)| {
            let m = pls
                .fit(f.select(Axis(0), trn).view(), y.select(Axis(0), trn).view())
                .unwrap();
            let p = m.predict(f.select(Axis(0), tst).view()).unwrap();
            let r = stats::nanmedian(&columnwise_pearson(p.view(), y.select(Axis(0), tst).view()));
            (p, r)
        };
        if parallel {
            splits.par_iter().map(one).collect::<Vec<_>>()
        } else {
            splits.iter().map(one).collect()
        }
    };
    let want = npy2(&dir, "pls_pred.npy");
    let th = peer_t("pls_10splits_s");
    for (parallel, label) in [
        (false, "PLS(25) 10 splits, 1 thread"),
        (true, "PLS(25) 10 splits, rayon over splits"),
    ] {
        let (t, out) = best_of(1, || run(parallel));
        let preds: Vec<f64> = out.iter().flat_map(|(p, _)| p.iter().copied()).collect();
        let d = max_abs_diff(preds.iter(), want.iter());
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        println!(
            "{label:<44} {t:>10.3} {th:>10.3} {:>8.2} {d:>12.2e}  (rel {:.1e})",
            th / t,
            d / scale
        );
        let ours: Vec<f64> = out.iter().map(|(_, r)| *r).collect();
        let theirs: Vec<f64> = peer["pls_median_r_per_split"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        if !parallel {
            println!(
                "  median r per split, max|diff| = {:.2e} (mean ours {:.4}, theirs {:.4})",
                max_abs_diff(ours.iter(), theirs.iter()),
                stats::mean(&ours),
                stats::mean(&theirs)
            );
        }
    }
    Ok(())
}
