//! End-to-end tests of `brainlike score` and `brainlike teacher build` through the real
//! binary, on an untrained CORnet-Z saved as a run directory (no CIFAR-100 needed).

use std::path::Path;
use std::process::Command;

use brainlike_core::TrainConfig;
use brainlike_core::config::{Head, ModelConfig};
use brainlike_core::models::Network;
use brainlike_core::train::export::save_safetensors;
use npyz::WriterBuilder;

const BIN: &str = env!("CARGO_BIN_EXE_brainlike");

/// A run directory with `config.toml` and `weights.safetensors` of an untrained model
/// (decoder head: small and fast).
fn make_run(dir: &Path, seed: u64) {
    std::fs::create_dir_all(dir).unwrap();
    let cfg = TrainConfig {
        seed,
        device: "flex".into(),
        out_dir: dir.to_path_buf(),
        model: ModelConfig {
            head: Head::Decoder,
            ..ModelConfig::default()
        },
        ..TrainConfig::default()
    };
    let (_, device) = brainlike_core::device::resolve("flex").unwrap();
    let net = Network::new(
        &cfg.model,
        cfg.data.input_size,
        brainlike_core::data::cifar100::NUM_FINE,
        0,
        &device,
    );
    save_safetensors(&net, &dir.join("weights.safetensors"), &[]).unwrap();
    std::fs::write(dir.join("config.toml"), cfg.to_toml()).unwrap();
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    // No field written by `score` contains a comma or a quote.
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,model,layer,raw,ceiling,ceiled,formula,benchmark_version,per_split"
    );
    lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[test]
fn score_v1_rsa_every_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = tmp.path().join("untrained");
    make_run(&run_dir, 0);
    let out = tmp.path().join("scores");
    let (ok, stdout, stderr) = run(&[
        "score",
        "--model",
        run_dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--bootstrap",
        "100",
    ]);
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let rows = csv_rows(&out.join("scores.csv"));
    assert_eq!(rows.len(), 4, "{rows:?}");
    let layers: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(layers, ["v1", "v2", "v4", "it"]);
    for r in &rows {
        assert_eq!(r[0], "Federer2019.V1-rsa");
        assert_eq!(r[1], "untrained");
        let raw: f64 = r[3].parse().unwrap();
        assert!(raw.is_finite() && (-1.0..=1.0).contains(&raw), "{r:?}");
        assert_eq!(r[4], "", "no ceiling for a pair list");
        assert_eq!(r[5].parse::<f64>().unwrap(), raw, "ceiled = raw");
        assert_eq!(r[6], "none");
    }
    assert!(out.join("layer_profile.png").is_file());
    assert!(out.join("layer_profile.svg").is_file());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("scores.json")).unwrap()).unwrap();
    assert_eq!(json["models"][0]["input_size"], 32);
    assert!(
        json["preprocessing"]["untrained"]
            .as_str()
            .unwrap()
            .contains("32x32")
    );
    let s = &json["scores"][0];
    assert_eq!(s["id"], "Federer2019.V1-rsa");
    assert!(s["details"]["pearson"].as_f64().unwrap().is_finite());
    let ci = &s["details"]["bootstrap"];
    let (lo, hi) = (
        ci["ci_low"].as_f64().unwrap(),
        ci["ci_high"].as_f64().unwrap(),
    );
    assert!(lo <= hi, "{ci}");
    assert!(
        stdout.contains("most V1-like layer of untrained"),
        "{stdout}"
    );
    // The main figure is on held-out pairs; the in-sample pairs and the untrained floor are
    // beside it, and the split is recorded.
    let split = &json["results"][0]["split"];
    assert_eq!(split["holdout_fraction"], 0.2);
    assert_eq!(split["heldout_stimuli"], 191);
    assert_eq!(split["heldout_ids"].as_array().unwrap().len(), 191);
    assert_eq!(split["heldout_overlaps_training"], false);
    let d = &s["details"];
    assert_eq!(d["spearman"].as_f64().unwrap(), s["raw"].as_f64().unwrap());
    let (held, inside) = (
        d["n_pairs"].as_u64().unwrap(),
        d["in_sample"]["n_pairs"].as_u64().unwrap(),
    );
    assert!(
        held > 400 && held < inside && inside < 20_000,
        "{held} {inside}"
    );
    // (This run's weights are not the trainer's seeded initialisation, so its floor differs.)
    assert!(d["floor"]["spearman"].as_f64().unwrap().is_finite());
    assert!(d["floor_in_sample"]["bootstrap"]["ci_low"].is_number());

    // A run from before the split (no holdout keys, teacher on) trained on every pair: scored
    // on the default split, flagged and warned about.
    let old = tmp.path().join("old");
    make_run(&old, 0);
    let text = std::fs::read_to_string(old.join("config.toml")).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("holdout_fraction") && !l.starts_with("split_seed"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(old.join("config.toml"), text).unwrap();
    let out_old = tmp.path().join("scores_old");
    let (ok, stdout, stderr) = run(&[
        "score",
        "--model",
        old.to_str().unwrap(),
        "--layers",
        "v1",
        "--bootstrap",
        "0",
        "--out",
        out_old.to_str().unwrap(),
    ]);
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains("warning") && stderr.contains("in-sample"),
        "{stderr}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_old.join("scores.json")).unwrap()).unwrap();
    let split = &json["results"][0]["split"];
    assert_eq!(split["run_holdout_fraction"], 0.0);
    assert_eq!(split["heldout_overlaps_training"], true);
    assert_eq!(json["models"][0]["teacher"]["holdout_fraction"], 0.0);

    // A control pair set and a layer subset; two models.
    let run2 = tmp.path().join("other");
    make_run(&run2, 1);
    let out2 = tmp.path().join("scores2");
    let (ok, stdout, stderr) = run(&[
        "score",
        "--model",
        run_dir.to_str().unwrap(),
        "--model",
        run2.to_str().unwrap(),
        "--pairs",
        "v1_shuffled",
        "--layers",
        "v1,it",
        "--bootstrap",
        "0",
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let rows = csv_rows(&out2.join("scores.csv"));
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r[0] == "Federer2019.v1_shuffled-rsa"));

    // Errors a person can act on.
    let (ok, _, stderr) = run(&[
        "score",
        "--model",
        run_dir.to_str().unwrap(),
        "--layers",
        "conv3",
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert!(!ok && stderr.contains("conv3"), "{stderr}");
    let (ok, _, stderr) = run(&[
        "score",
        "--model",
        tmp.path().join("missing").to_str().unwrap(),
    ]);
    assert!(!ok && stderr.contains("config.toml"), "{stderr}");
}

/// Deterministic pseudo-random numbers in [0, 1).
fn lcg(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

fn write_npy(path: &Path, shape: &[u64], data: &[f64]) {
    let mut buf = vec![];
    {
        let mut w = npyz::WriteOptions::<f64>::new()
            .default_dtype()
            .writer(&mut buf)
            .shape(shape)
            .begin_nd()
            .unwrap();
        w.extend(data.iter().copied()).unwrap();
        w.finish().unwrap();
    }
    std::fs::write(path, buf).unwrap();
}

#[test]
fn score_custom_pls_and_i2n() {
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = tmp.path().join("m");
    make_run(&run_dir, 2);
    // 30 images in 3 classes, each a colour-coded noise image.
    let images = tmp.path().join("images");
    std::fs::create_dir_all(&images).unwrap();
    let mut st = 7u64;
    let n = 30;
    let mut ids = Vec::new();
    for i in 0..n {
        let class = i % 3;
        let img = image::RgbImage::from_fn(32, 32, |_, _| {
            let mut px = [0u8; 3];
            for (c, p) in px.iter_mut().enumerate() {
                let base = if c == class { 160.0 } else { 40.0 };
                *p = (base + 90.0 * lcg(&mut st)) as u8;
            }
            image::Rgb(px)
        });
        let id = format!("img{i:02}");
        img.save(images.join(format!("{id}.png"))).unwrap();
        ids.push(id);
    }
    // Neural data: 30 stimuli x 5 neurons x 4 repetitions, class signal + noise.
    let (neurons, reps) = (5usize, 4usize);
    let mut data = Vec::with_capacity(n * neurons * reps);
    for i in 0..n {
        for j in 0..neurons {
            let signal = ((i % 3) as f64 - 1.0) * (j as f64 + 1.0);
            for _ in 0..reps {
                data.push(signal + 0.5 * lcg(&mut st));
            }
        }
    }
    let neural = tmp.path().join("neural.npy");
    write_npy(&neural, &[n as u64, neurons as u64, reps as u64], &data);
    let stimuli = tmp.path().join("stimuli.txt");
    // Ids with extensions are accepted too.
    std::fs::write(
        &stimuli,
        ids.iter().map(|i| format!("{i}.png\n")).collect::<String>(),
    )
    .unwrap();
    let strata = tmp.path().join("strata.txt");
    std::fs::write(
        &strata,
        (0..n).map(|i| format!("c{}\n", i % 3)).collect::<String>(),
    )
    .unwrap();
    // 2AFC trials: every image against both other classes, 20 trials each (so that both
    // random trial halves offer every combination).
    let classes = ["red", "green", "blue"];
    let mut trials = String::from("image_id,true_label,distractor_label,choice_label\n");
    for (i, id) in ids.iter().enumerate() {
        let t = classes[i % 3];
        for d in classes.iter().filter(|&&d| d != t) {
            for k in 0..20 {
                let choice = if lcg(&mut st) < 0.1 + 0.01 * k as f64 {
                    d
                } else {
                    t
                };
                trials.push_str(&format!("{id},{t},{d},{choice}\n"));
            }
        }
    }
    let behavior = tmp.path().join("trials.csv");
    std::fs::write(&behavior, trials).unwrap();

    let out = tmp.path().join("scores");
    let (ok, stdout, stderr) = run(&[
        "score",
        "--model",
        run_dir.to_str().unwrap(),
        "--benchmark",
        "custom.IT-pls",
        "--benchmark",
        "custom.behavior-i2n",
        "--neural",
        neural.to_str().unwrap(),
        "--stimuli",
        stimuli.to_str().unwrap(),
        "--strata",
        strata.to_str().unwrap(),
        "--images",
        images.to_str().unwrap(),
        "--behavior",
        behavior.to_str().unwrap(),
        "--layers",
        "v1,it",
        "--ceiling",
        "r^2/c",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let rows = csv_rows(&out.join("scores.csv"));
    // PLS: v1, it, committed; i2n: penultimate.
    assert_eq!(rows.len(), 4, "{rows:?}");
    for r in &rows[..3] {
        assert_eq!(r[0], "custom.IT-pls");
        assert_eq!(r[6], "r^2/c");
        assert!(r[3].parse::<f64>().unwrap().is_finite(), "{r:?}");
        let c: f64 = r[4].parse().unwrap();
        assert!(c > 0.5, "class-driven responses are reliable: {c}");
        assert_eq!(r[8].split(';').count(), 10, "10 splits");
    }
    assert_eq!(rows[2][2], "", "committed row has no layer");
    assert_eq!(rows[3][0], "custom.behavior-i2n");
    assert_eq!(rows[3][2], "penultimate");
    assert!(
        rows[3][3].parse::<f64>().unwrap().is_finite(),
        "{:?}",
        rows[3]
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("scores.json")).unwrap()).unwrap();
    let committed = &json["scores"][2]["details"];
    assert_eq!(committed["table"].as_array().unwrap().len(), 2);
    assert!(out.join("layer_profile.png").is_file());
}

#[test]
fn teacher_build_round_trips_through_the_trainer_reader() {
    let tmp = tempfile::tempdir().unwrap();
    let (sessions, stimuli, neurons) = (2usize, 30usize, 8usize);
    let mut st = 3u64;
    let data: Vec<f64> = (0..sessions * stimuli * neurons)
        .map(|_| 10.0 * lcg(&mut st))
        .collect();
    let rates = tmp.path().join("rates.npy");
    write_npy(
        &rates,
        &[sessions as u64, stimuli as u64, neurons as u64],
        &data,
    );
    let expected = brainlike_stats::teacher::teacher_rdm(
        brainlike_stats::teacher::TeacherKind::V1,
        &brainlike_stats::teacher::read_rates_npy(&rates).unwrap(),
        stimuli,
        0,
    )
    .unwrap();

    let out = tmp.path().join("v1.tsv");
    let (ok, stdout, stderr) = run(&[
        "teacher",
        "build",
        "--rates",
        rates.to_str().unwrap(),
        "--kind",
        "v1",
        "--pairs",
        "50",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let bytes = std::fs::read(&out).unwrap();
    let pairs = brainlike_core::data::teacher::parse_pairs(&out, &bytes, stimuli).unwrap();
    assert_eq!(pairs.len(), 50);
    for p in &pairs {
        assert!(p.a < p.b);
        let want = expected.get(p.a as usize, p.b as usize);
        assert!(
            (f64::from(p.distance) - want).abs() < 1e-6,
            "{p:?} vs {want}"
        );
    }
    // Same seed, same file.
    let out_again = tmp.path().join("v1_again.tsv");
    let (ok, ..) = run(&[
        "teacher",
        "build",
        "--rates",
        rates.to_str().unwrap(),
        "--kind",
        "v1",
        "--pairs",
        "50",
        "--seed",
        "3",
        "--out",
        out_again.to_str().unwrap(),
    ]);
    assert!(ok);
    assert_eq!(std::fs::read(&out_again).unwrap(), bytes);

    // Every pair, a control, and a Gaussian control without rates.
    for (kind, extra) in [
        ("v1_shuffled", vec!["--rates", rates.to_str().unwrap()]),
        ("gaussian_v1_stats", vec!["--stimuli", "30"]),
        (
            "gaussian_non_v1_stats",
            vec!["--rates", rates.to_str().unwrap()],
        ),
    ] {
        let out = tmp.path().join(format!("{kind}.tsv"));
        let mut args = vec!["teacher", "build", "--kind", kind, "--all", "--out"];
        args.push(out.to_str().unwrap());
        args.extend(extra);
        let (ok, stdout, stderr) = run(&args);
        assert!(ok, "{kind}: stdout:\n{stdout}\nstderr:\n{stderr}");
        let bytes = std::fs::read(&out).unwrap();
        let pairs = brainlike_core::data::teacher::parse_pairs(&out, &bytes, stimuli).unwrap();
        assert_eq!(pairs.len(), stimuli * (stimuli - 1) / 2, "{kind}");
    }

    // The trainer accepts the file by path.
    let set = brainlike_core::data::teacher::load_pairs(
        &brainlike_core::data::teacher::PackSource::Builtin,
        out.to_str().unwrap(),
        956,
    )
    .unwrap();
    assert_eq!(set.pairs.len(), 50);

    // Errors.
    let (ok, _, stderr) = run(&[
        "teacher",
        "build",
        "--kind",
        "v2",
        "--rates",
        rates.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok && stderr.contains("gaussian_v1_stats"), "{stderr}");
    let (ok, _, stderr) = run(&[
        "teacher",
        "build",
        "--kind",
        "v1",
        "--stimuli",
        "30",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok && stderr.contains("--rates"), "{stderr}");
}
