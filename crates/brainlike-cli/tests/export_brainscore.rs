//! `brainlike export brainscore` through the real binary: the plugin's files, its layer
//! commitment (depth rule and best scores), the copied weights under PyTorch's names, the
//! FC-head variant, clear errors; and, when Python with brainscore-vision is at hand,
//! Brain-Score's own activation extraction on the plugin against `brainlike extract`.

use std::path::{Path, PathBuf};
use std::process::Command;

use brainlike_core::burn::tensor::Device;
use brainlike_core::config::{Head, ModelConfig};
use brainlike_core::models::{Arch, Network};
use brainlike_core::train::export::save_safetensors;

const BIN: &str = env!("CARGO_BIN_EXE_brainlike");

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

/// An untrained CORnet-Z with `head`, 10 classes, saved with a recorded preprocessing.
fn weights(dir: &Path, head: Head) -> PathBuf {
    let device = Device::default();
    device.seed(7);
    let cfg = ModelConfig {
        arch: Arch::parse("cornet_z").unwrap(),
        head,
        ..ModelConfig::default()
    };
    let net = Network::new(&cfg, 32, 10, 0, &device);
    let pre = r#"{"mean":[0.48,0.46,0.41],"std":[0.23,0.22,0.25],"input_size":32,"interpolation":"bilinear"}"#;
    let path = dir.join(format!("cz_{head:?}.safetensors").to_lowercase());
    save_safetensors(
        &net,
        &path,
        &[
            ("model".into(), "cornet_z".into()),
            ("preprocessing".into(), pre.into()),
        ],
    )
    .unwrap();
    path
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Tensor names and shapes in a safetensors header.
fn header(p: &Path) -> serde_json::Map<String, serde_json::Value> {
    let bytes = std::fs::read(p).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let serde_json::Value::Object(m) = serde_json::from_slice(&bytes[8..8 + n]).unwrap() else {
        panic!("header")
    };
    m
}

#[test]
fn cornet_plugin_has_its_files_layers_and_weights() {
    let dir = tempfile::tempdir().unwrap();
    let w = weights(dir.path(), Head::Decoder);
    let out = dir.path().join("plugin");
    let (ok, log) = run(&[
        "export",
        "brainscore",
        "--model",
        "cornet_z",
        "--weights",
        w.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--identifier",
        "cz_test",
    ]);
    assert!(ok, "{log}");
    for f in [
        "__init__.py",
        "model.py",
        "test.py",
        "README.md",
        "setup.py",
        "requirements.txt",
        "weights.safetensors",
        "brainlike_export.json",
        "region_layer_map/cz_test.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing; {log}");
    }
    // Registration and commitment.
    let init = read(&out.join("__init__.py"));
    assert!(
        init.contains("model_registry['cz_test'] = lambda: ModelCommitment("),
        "{init}"
    );
    assert!(
        init.contains(r#"REGION_LAYER_MAP = {"V1": "V1", "V2": "V2", "V4": "V4", "IT": "IT"}"#),
        "{init}"
    );
    let map: serde_json::Value =
        serde_json::from_str(&read(&out.join("region_layer_map/cz_test.json"))).unwrap();
    assert_eq!(
        map,
        serde_json::json!({"V1": "V1", "V2": "V2", "V4": "V4", "IT": "IT"})
    );
    // The model definition, preprocessing and layers.
    let model = read(&out.join("model.py"));
    assert!(!model.contains("{{"), "unfilled placeholder in model.py");
    assert!(model.contains("self.V1 = Block(3, 64, kernel_size=7, stride=2, lrn=lrn)"));
    assert!(
        model.contains("head='decoder', lrn=False, fc_in=None"),
        "{model}"
    );
    assert!(model.contains("INPUT_SIZE = 32"));
    // The metadata's numbers, as written there.
    assert!(model.contains("MEAN = [0.48, 0.46, 0.41]"), "{model}");
    assert!(model.contains("STD = [0.23, 0.22, 0.25]"), "{model}");
    assert!(model.contains("CLASSES = 10"));
    assert!(model.contains("load_state_dict(load_file(WEIGHTS), strict=True)"));
    assert!(
        model.contains(r#"("penultimate", "decoder.avgpool"),"#),
        "{model}"
    );
    assert!(model.contains(r#"("it", "IT"),"#));
    // The weights: copied byte for byte, official CORnet names.
    assert_eq!(
        std::fs::read(&w).unwrap(),
        std::fs::read(out.join("weights.safetensors")).unwrap()
    );
    let h = header(&out.join("weights.safetensors"));
    let mut names: Vec<&String> = h.keys().filter(|k| *k != "__metadata__").collect();
    names.sort();
    assert_eq!(
        names,
        [
            "IT.conv.bias",
            "IT.conv.weight",
            "V1.conv.bias",
            "V1.conv.weight",
            "V2.conv.bias",
            "V2.conv.weight",
            "V4.conv.bias",
            "V4.conv.weight",
            "decoder.linear.bias",
            "decoder.linear.weight"
        ]
    );
    assert_eq!(
        h["decoder.linear.weight"]["shape"],
        serde_json::json!([10, 512])
    );
    let req = read(&out.join("requirements.txt"));
    assert!(req.contains("torch") && req.contains("safetensors") && !req.contains("timm"));
    let readme = read(&out.join("README.md"));
    assert!(readme.contains("python -m pytest brainscore_vision/models/cz_test/test.py"));
    assert!(
        readme.contains("| IT | `IT` (`it`) | the tap named after IT |"),
        "{readme}"
    );
}

#[test]
fn scores_choose_the_committed_layers() {
    let dir = tempfile::tempdir().unwrap();
    let w = weights(dir.path(), Head::Decoder);
    let scores = dir.path().join("scores.csv");
    // IT is best predicted by v4; V1 by v2; the committed row (no layer) and rows of other
    // benchmarks and of non-tap layers are ignored; V2 and V4 are not scored (depth rule).
    std::fs::write(
        &scores,
        "id,model,layer,raw,ceiling,ceiled,formula,benchmark_version,per_split\n\
         custom.IT-pls,r,v1,0.1,0.8,0.125,r/c,1,\n\
         custom.IT-pls,r,v4,0.5,0.8,0.625,r/c,1,\n\
         custom.IT-pls,r,it,0.4,0.8,0.5,r/c,1,\n\
         custom.IT-pls,r,,0.5,0.8,0.9,r/c,1,\n\
         custom.IT-pls,r,penultimate,0.9,0.8,0.99,r/c,1,\n\
         Federer2019.V1-rsa,r,v1,0.2,,,none,2,\n\
         Federer2019.V1-rsa,r,v2,0.3,,,none,2,\n\
         custom.behavior-i2n,r,penultimate,0.9,,,,1,\n",
    )
    .unwrap();
    let out = dir.path().join("plugin");
    let (ok, log) = run(&[
        "export",
        "brainscore",
        "--model",
        "cornet_z",
        "--weights",
        w.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--scores",
        scores.to_str().unwrap(),
    ]);
    assert!(ok, "{log}");
    let id = "brainlike_cornet_z_cz_decoder";
    let map: serde_json::Value =
        serde_json::from_str(&read(&out.join(format!("region_layer_map/{id}.json")))).unwrap();
    assert_eq!(
        map,
        serde_json::json!({"V1": "V2", "V2": "V2", "V4": "V4", "IT": "V4"})
    );
    let export: serde_json::Value =
        serde_json::from_str(&read(&out.join("brainlike_export.json"))).unwrap();
    let why = export["region_layer_map"]["IT"]["why"].as_str().unwrap();
    assert!(why.contains("best score on custom.IT-pls (0.6250"), "{why}");
    assert!(
        export["region_layer_map"]["V4"]["why"]
            .as_str()
            .unwrap()
            .contains("tap named after V4")
    );
}

#[test]
fn fc_head_plugin_builds_the_fc_classifier() {
    let dir = tempfile::tempdir().unwrap();
    let w = weights(dir.path(), Head::Fc4096);
    let out = dir.path().join("plugin");
    let (ok, log) = run(&[
        "export",
        "brainscore",
        "--model",
        "cornet_z",
        "--weights",
        w.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--lrn",
    ]);
    assert!(ok, "{log}");
    let model = read(&out.join("model.py"));
    // At 32 px IT is 512 x 1 x 1.
    assert!(
        model.contains("head='fc4096', lrn=True, fc_in=512"),
        "{model}"
    );
    assert!(model.contains(r#"("penultimate", "classifier.4"),"#));
    let h = header(&out.join("weights.safetensors"));
    assert_eq!(
        h["classifier.6.weight"]["shape"],
        serde_json::json!([10, 4096])
    );
}

#[test]
fn clear_errors_for_wrong_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let w = weights(dir.path(), Head::Decoder);
    let out = dir.path().join("plugin");
    // Weights of another model.
    let (ok, log) = run(&[
        "export",
        "brainscore",
        "--model",
        "resnet50",
        "--weights",
        w.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        log.contains("cz_decoder.safetensors") && log.contains("not \"resnet50\""),
        "{log}"
    );
    // Not a weights file.
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"0123456789abcdef").unwrap();
    let (ok, log) = run(&[
        "export",
        "brainscore",
        "--model",
        "cornet_z",
        "--weights",
        junk.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        log.contains("junk.safetensors") && log.contains("safetensors"),
        "{log}"
    );
    // A non-empty output folder is not overwritten.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let (ok, log) = run(&[
        "export",
        "brainscore",
        "--model",
        "cornet_z",
        "--weights",
        w.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(log.contains("not empty"), "{log}");
    assert_eq!(read(&out.join("keep.txt")), "mine");
    // A scores file without usable rows.
    let scores = dir.path().join("s.csv");
    std::fs::write(
        &scores,
        "id,model,layer,raw,ceiling,ceiled\ncustom.behavior-i2n,r,penultimate,0.5,,\n",
    )
    .unwrap();
    let (ok, log) = run(&[
        "export",
        "brainscore",
        "--model",
        "cornet_z",
        "--weights",
        w.to_str().unwrap(),
        "--out",
        dir.path().join("p2").to_str().unwrap(),
        "--scores",
        scores.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        log.contains("s.csv") && log.contains("no per-layer scores"),
        "{log}"
    );
    // Scores of two models do not mix.
    std::fs::write(
        &scores,
        "id,model,layer,raw,ceiling,ceiled\ncustom.IT-pls,a,v4,0.5,,\ncustom.IT-pls,b,it,0.6,,\n",
    )
    .unwrap();
    let (ok, log) = run(&[
        "export",
        "brainscore",
        "--model",
        "cornet_z",
        "--weights",
        w.to_str().unwrap(),
        "--out",
        dir.path().join("p3").to_str().unwrap(),
        "--scores",
        scores.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(log.contains("several models (a, b)"), "{log}");
}

/// Python with brainscore-vision, torch and safetensors: `$BRAINLIKE_PYTHON` (then it must
/// work) or `python3` (skipped when it lacks them).
fn python() -> Option<String> {
    let explicit = std::env::var("BRAINLIKE_PYTHON").ok();
    let py = explicit.clone().unwrap_or_else(|| "python3".into());
    let probe = Command::new(&py)
        .args([
            "-c",
            "import brainscore_vision, torch, safetensors, torchvision",
        ])
        .output();
    match probe {
        Ok(o) if o.status.success() => Some(py),
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
                    .to_string(),
                Err(e) => e.to_string(),
            };
            assert!(
                explicit.is_none(),
                "BRAINLIKE_PYTHON={py} cannot import brainscore_vision, torch, safetensors: {why}"
            );
            None
        }
    }
}

#[test]
fn plugin_activations_match_brainlike_extract() {
    let Some(py) = python() else {
        eprintln!(
            "skipped: python3 cannot import brainscore_vision (run tests/brainscore/run_check.sh, \
             or set BRAINLIKE_PYTHON to a Python that has brainscore-vision)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Images at the model's input side (32 px), so neither side resizes: Brain-Score's PIL
    // bilinear and brainlike's triangle filter differ slightly when they do.
    let images = dir.path().join("images");
    std::fs::create_dir_all(&images).unwrap();
    for k in 0..4u32 {
        let img = image::RgbImage::from_fn(32, 32, |x, y| {
            image::Rgb([
                ((x * 7 + k * 50) % 256) as u8,
                ((y * 5 + x * k) % 256) as u8,
                ((x * y + 3 * k) % 256) as u8,
            ])
        });
        img.save(images.join(format!("img{k}.png"))).unwrap();
    }
    // A run with LRN (no parameters: only the run's config says so).
    let lrn_run = dir.path().join("lrn_run");
    std::fs::create_dir_all(&lrn_run).unwrap();
    let cfg = brainlike_core::TrainConfig {
        out_dir: lrn_run.clone(),
        model: ModelConfig {
            head: Head::Decoder,
            lrn: true,
            ..ModelConfig::default()
        },
        ..brainlike_core::TrainConfig::default()
    };
    std::fs::write(lrn_run.join("config.toml"), cfg.to_toml()).unwrap();
    let device = Device::default();
    device.seed(3);
    let net = Network::new(&cfg.model, 32, 100, 0, &device);
    let pre = r#"{"mean":[0.5,0.45,0.4],"std":[0.25,0.25,0.25],"input_size":32,"interpolation":"bilinear"}"#;
    save_safetensors(
        &net,
        &lrn_run.join("weights.safetensors"),
        &[("preprocessing".into(), pre.into())],
    )
    .unwrap();
    for (head, name) in [
        (Some(Head::Decoder), "decoder"),
        (Some(Head::Fc4096), "fc4096"),
        (None, "lrn_run"),
    ] {
        let source: Vec<String> = match head {
            Some(h) => {
                let w = weights(dir.path(), h);
                let w = w.to_str().unwrap().to_string();
                vec!["--model".into(), "cornet_z".into(), "--weights".into(), w]
            }
            None => vec!["--run".into(), lrn_run.to_str().unwrap().into()],
        };
        let source: Vec<&str> = source.iter().map(String::as_str).collect();
        let plugin = dir.path().join(format!("plugin_{name}"));
        let id = format!("cz_check_{name}");
        let mut args = vec!["export", "brainscore"];
        args.extend(&source);
        args.extend(["--out", plugin.to_str().unwrap(), "--identifier", &id]);
        let (ok, log) = run(&args);
        assert!(ok, "{log}");
        let ex = dir.path().join(format!("extract_{name}"));
        let mut args = vec!["extract"];
        args.extend(&source);
        if head.is_some() {
            args.extend(["--head", name]);
        }
        args.extend(["--images", images.to_str().unwrap()]);
        args.extend([
            "--layers",
            "v1,v2,v4,it,penultimate",
            "--out",
            ex.to_str().unwrap(),
        ]);
        let (ok, log) = run(&args);
        assert!(ok, "{log}");
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/brainscore/check_plugin.py");
        let out = Command::new(&py)
            .arg(&script)
            .args([
                "--plugin",
                plugin.to_str().unwrap(),
                "--images",
                images.to_str().unwrap(),
            ])
            .args(["--extract", ex.to_str().unwrap(), "--tol", "1e-4"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        println!("{name}:\n{text}");
        assert!(
            out.status.success(),
            "check_plugin.py failed ({name}):\n{text}"
        );
        assert!(text.contains("OK: worst relative difference"), "{text}");
        assert!(
            text.contains("penultimate"),
            "the read-out layer was compared: {text}"
        );
    }
}

#[test]
fn a_run_directory_exports_with_its_config() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run-07");
    std::fs::create_dir_all(&run_dir).unwrap();
    let cfg = brainlike_core::TrainConfig {
        out_dir: run_dir.clone(),
        model: ModelConfig {
            head: Head::Decoder,
            lrn: true,
            ..ModelConfig::default()
        },
        ..brainlike_core::TrainConfig::default()
    };
    let device = Device::default();
    let net = Network::new(&cfg.model, 32, 100, 0, &device);
    std::fs::write(run_dir.join("config.toml"), cfg.to_toml()).unwrap();
    // Without recorded preprocessing a CORnet-Z (normalised by its training mean) is refused.
    save_safetensors(&net, &run_dir.join("weights.safetensors"), &[]).unwrap();
    let out = dir.path().join("plugin");
    let (ok, log) = run(&[
        "export",
        "brainscore",
        "--run",
        run_dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        log.contains("weights.safetensors") && log.contains("training images' mean"),
        "{log}"
    );
    let pre = r#"{"mean":[0.47,0.47,0.47],"std":[1.0,1.0,1.0],"input_size":32,"interpolation":"bilinear"}"#;
    save_safetensors(
        &net,
        &run_dir.join("weights.safetensors"),
        &[("preprocessing".into(), pre.into())],
    )
    .unwrap();
    let (ok, log) = run(&[
        "export",
        "brainscore",
        "--run",
        run_dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{log}");
    let model = read(&out.join("model.py"));
    assert!(
        model.contains("IDENTIFIER = 'brainlike_cornet_z_run_07'"),
        "{model}"
    );
    assert!(
        model.contains("head='decoder', lrn=True, fc_in=None"),
        "{model}"
    );
    assert!(model.contains("CLASSES = 100"));
}
