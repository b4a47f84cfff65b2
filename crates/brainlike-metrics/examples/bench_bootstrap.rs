//! Stimulus bootstrap of an RDM comparison: ours vs rsatoolbox 0.3.2, same RDMs.
//!
//! `cargo run --release -p brainlike-metrics --example bench_bootstrap [-- METHOD RESAMPLES]`
//! runs `python3 bench/metrics/bootstrap_peer.py` (unless `$BENCH_DIR/peer.json` exists;
//! default dir `/tmp/brainlike-bench-bootstrap`; `PEER_RESAMPLES` sets the peer's count,
//! default RESAMPLES), which writes two 1000-stimulus correlation RDMs and times
//! rsatoolbox's bootstrap on them; then times ours on the same RDMs: the default
//! (parallel; weighted route for cosine/pearson/spearman/rho-a), the same on one thread,
//! and the resampling route on one thread (extrapolated from 20 resamples), and prints
//! them side by side with both intervals (the draws differ: numpy vs ChaCha8).

use brainlike_metrics::io::read_rdm_npy;
use brainlike_metrics::rdm::bootstrap::{bootstrap_draws, compare_resampled};
use brainlike_metrics::{CompareMethod, bootstrap_compare};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let method: CompareMethod = args.first().map_or("spearman", |s| s.as_str()).parse()?;
    let resamples: usize = args.get(1).map_or(Ok(1000), |s| s.parse())?;
    let peer_resamples: usize = std::env::var("PEER_RESAMPLES")
        .ok()
        .map_or(Ok(resamples), |s| s.parse())?;
    let dir = PathBuf::from(
        std::env::var("BENCH_DIR").unwrap_or("/tmp/brainlike-bench-bootstrap".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let peer_json = dir.join("peer.json");
    if !peer_json.exists() {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/metrics/bootstrap_peer.py");
        eprintln!(
            "running peer: python3 {} ({peer_resamples} resamples)",
            script.display()
        );
        let out = Command::new("python3")
            .arg(&script)
            .args(["--out", dir.to_str().unwrap()])
            .args(["--resamples", &peer_resamples.to_string()])
            .args(["--method", method.rsatoolbox_name()])
            .output()?;
        if !out.status.success() {
            anyhow::bail!("peer failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::fs::write(&peer_json, &out.stdout)?;
    }
    let peer: serde_json::Value = serde_json::from_slice(&std::fs::read(&peer_json)?)?;
    let a = read_rdm_npy(dir.join("rdm_a.npy"))?;
    let b = read_rdm_npy(dir.join("rdm_b.npy"))?;
    let n = a.n_conditions();

    let t = Instant::now();
    let par = bootstrap_compare(&a, &b, method, resamples, 0.95, 0)?;
    let t_par = t.elapsed().as_secs_f64();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let t = Instant::now();
    let one = pool.install(|| bootstrap_compare(&a, &b, method, resamples, 0.95, 0))?;
    let t_one = t.elapsed().as_secs_f64();
    assert_eq!(par, one, "results must not depend on the number of threads");
    let k = 20.min(resamples);
    let t = Instant::now();
    for idx in bootstrap_draws(n, k, 0) {
        compare_resampled(&a, &b, &idx, method)?;
    }
    let t_slow = t.elapsed().as_secs_f64() / k as f64 * resamples as f64;

    let peer_n = peer["resamples"].as_f64().unwrap_or(f64::NAN);
    let peer_s = peer["bootstrap_s"].as_f64().unwrap_or(f64::NAN);
    let peer_full = peer_s / peer_n * resamples as f64;
    println!(
        "bootstrap of {} on {n} stimuli, {resamples} resamples; rayon threads {}; peer {}",
        method.name(),
        rayon::current_num_threads(),
        peer["versions"]
    );
    println!(
        "{:<52} {:>10} {:>9} {:>9} {:>9}",
        "", "seconds", "value", "ci_low", "ci_high"
    );
    let row = |label: &str, s: f64, v: f64, lo: f64, hi: f64| {
        println!("{label:<52} {s:>10.2} {v:>9.5} {lo:>9.5} {hi:>9.5}");
    };
    row(
        "brainlike-metrics (parallel)",
        t_par,
        par.point,
        par.ci_low,
        par.ci_high,
    );
    row(
        "brainlike-metrics (1 thread)",
        t_one,
        one.point,
        one.ci_low,
        one.ci_high,
    );
    println!(
        "{:<52} {t_slow:>10.2}",
        format!("resampling route, 1 thread (from {k} resamples)")
    );
    let f = |k: &str| peer[k].as_f64().unwrap_or(f64::NAN);
    row(
        &format!("rsatoolbox 0.3.2 ({peer_n} resamples: {peer_s:.1} s)"),
        peer_full,
        f("value"),
        f("ci_low"),
        f("ci_high"),
    );
    println!("speed-up vs rsatoolbox: {:.0}x", peer_full / t_par);
    Ok(())
}
