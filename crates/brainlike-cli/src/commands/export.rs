//! `brainlike export brainscore`: a Brain-Score vision (2.x) model plugin from a run or a
//! weights file, ready to test locally with brainscore-vision and to submit.
//!
//! The plugin folder holds:
//!
//! | file | what |
//! |---|---|
//! | `__init__.py` | `model_registry[ID] = lambda: ModelCommitment(identifier=ID, activations_model=get_model(ID), layers=get_layers(ID), region_layer_map={...})` |
//! | `model.py` | the network in PyTorch (torchvision's `resnet50` / `vgg16`, timm's `efficientnet_b1`, or CORnet-Z written out with the official CORnet module names), `weights.safetensors` loaded with `load_state_dict(strict=True)`, the recorded preprocessing, Brain-Score's `PytorchWrapper`, and the layers: the model's taps under their PyTorch module names, then the read-out layer |
//! | `weights.safetensors` | the weights, copied byte for byte (our files already use PyTorch's `state_dict` names) |
//! | `region_layer_map/ID.json` | the same region → layer map, where Brain-Score's `ModelCommitment` also looks |
//! | `requirements.txt`, `setup.py` | torch, torchvision, safetensors (and timm for EfficientNet) |
//! | `test.py` | pytest checks Brain-Score's CI runs: identifier, strict weights, map names layers |
//! | `README.md` | how to test and submit, what was committed and why |
//! | `brainlike_export.json` | provenance: source, taps and their module names, region map and reasons |
//!
//! The layer committed to each region (V1, V2, V4, IT) is, with `--scores scores.csv` from
//! `brainlike score`, the tap with the best score (ceiled if present) on a benchmark of that
//! region; otherwise (and for a region the file does not score) a rule on the registry's
//! [`Depth`]: a tap named after the region (CORnet-Z), else V1 → the last early tap, V2 → the
//! first middle tap, V4 → the last middle tap, IT → the first late tap.
//!
//! Preprocessing (mean, std, input side, interpolation and an optional `crop_fraction`) comes
//! from the weights file's `preprocessing` metadata, which training writes
//! (`brainlike_core::train::export::metadata`); without it, from the registry's fixed
//! per-channel normalisation, and a model normalised by its training mean is refused.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use brainlike_core::config::Head;
use brainlike_core::models::registry::{Depth, ModelSpec};
use brainlike_core::models::{Arch, Normalization};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

/// `brainlike export`.
#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// A Brain-Score vision model plugin (folder with __init__.py, model.py, weights,
    /// region-layer map, test.py, README.md) to test locally and submit.
    Brainscore(BrainscoreArgs),
}

/// `brainlike export brainscore`.
#[derive(Args, Debug)]
pub struct BrainscoreArgs {
    /// A registered model (`brainlike models`), with `--weights`.
    #[arg(long, conflicts_with = "run", requires = "weights")]
    pub model: Option<String>,
    /// Weights for `--model` with PyTorch `state_dict` names (a run's weights.safetensors,
    /// or `safetensors.torch.save_file(model.state_dict(), FILE)`).
    #[arg(long, value_name = "FILE.safetensors", requires = "model")]
    pub weights: Option<PathBuf>,
    /// A brainlike run directory (its config.toml and weights.safetensors).
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Plugin folder to write (must not exist, or be empty).
    #[arg(long)]
    pub out: PathBuf,
    /// Brain-Score model identifier (default: `brainlike_<model>_<run or weights name>`).
    #[arg(long)]
    pub identifier: Option<String>,
    /// `scores.csv` from `brainlike score` on this model: commit the best-scoring layer per
    /// region instead of the depth rule.
    #[arg(long, value_name = "scores.csv")]
    pub scores: Option<PathBuf>,
    /// CORnet-Z with local response normalisation (a run records it in its config; for
    /// `--weights` say so here: the weights file cannot tell).
    #[arg(long)]
    pub lrn: bool,
}

/// Runs `brainlike export ...`.
pub fn run(cmd: ExportCommand) -> Result<ExitCode> {
    match cmd {
        ExportCommand::Brainscore(a) => brainscore(a),
    }
}

/// The brain regions Brain-Score commits layers to, in hierarchy order.
pub const REGIONS: [&str; 4] = ["V1", "V2", "V4", "IT"];

/// The preprocessing written into `model.py`.
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocessing {
    /// Channel means subtracted from pixels in [0, 1].
    pub mean: [f64; 3],
    /// Channel standard deviations divided by.
    pub std: [f64; 3],
    /// Network input side.
    pub input_size: usize,
    /// Resize filter (`bilinear`, `bicubic`, `nearest`).
    pub interpolation: String,
    /// Fraction of the resized image kept by a centre crop (1: resize the whole image).
    pub crop_fraction: f64,
}

/// What the weights file says about itself.
#[derive(Debug)]
struct WeightsInfo {
    /// Tensor name → shape.
    shapes: BTreeMap<String, Vec<usize>>,
    /// `__metadata__`.
    meta: BTreeMap<String, String>,
}

/// Reads only the safetensors header of `path` (8 bytes of length, then JSON).
fn read_header(path: &Path) -> Result<WeightsInfo> {
    let mut f = std::fs::File::open(path)
        .with_context(|| format!("{}: cannot open the weights file", path.display()))?;
    let mut len = [0u8; 8];
    f.read_exact(&mut len).with_context(|| {
        format!(
            "{}: not a safetensors file (shorter than 8 bytes)",
            path.display()
        )
    })?;
    let n = u64::from_le_bytes(len);
    if n > 100 << 20 {
        bail!(
            "{}: not a safetensors file (header length {n} bytes)",
            path.display()
        );
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header)
        .with_context(|| format!("{}: the safetensors header is truncated", path.display()))?;
    let v: Value = serde_json::from_slice(&header).with_context(|| {
        format!(
            "{}: the safetensors header is not JSON (not a safetensors file?)",
            path.display()
        )
    })?;
    let Value::Object(map) = v else {
        bail!(
            "{}: the safetensors header is not a JSON object",
            path.display()
        );
    };
    let mut info = WeightsInfo {
        shapes: BTreeMap::new(),
        meta: BTreeMap::new(),
    };
    for (k, v) in map {
        if k == "__metadata__" {
            if let Value::Object(m) = v {
                for (mk, mv) in m {
                    info.meta
                        .insert(mk, mv.as_str().unwrap_or_default().to_string());
                }
            }
            continue;
        }
        let shape = v["shape"]
            .as_array()
            .ok_or_else(|| anyhow!("{}: tensor {k:?} has no shape", path.display()))?
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| anyhow!("{}: tensor {k:?} has a malformed shape", path.display()))?;
        info.shapes.insert(k, shape);
    }
    Ok(info)
}

/// Tensors that name a model's parameters under PyTorch's names (a sample, not all).
fn required_tensors(arch: &str) -> &'static [&'static str] {
    match arch {
        "cornet_z" => &[
            "V1.conv.weight",
            "V2.conv.weight",
            "V4.conv.weight",
            "IT.conv.weight",
        ],
        "resnet50" => &["conv1.weight", "bn1.running_var", "layer4.2.conv3.weight"],
        "efficientnet_b1" => &[
            "conv_stem.weight",
            "blocks.6.1.conv_pwl.weight",
            "bn2.weight",
        ],
        "vgg16" => &["features.0.weight", "features.28.weight"],
        _ => &[],
    }
}

/// The PyTorch module whose output is tap `tap` of model `arch`.
pub fn torch_layer(arch: &str, tap: &str) -> Option<String> {
    match arch {
        // v1 → V1: the block's `output` (after the max-pool).
        "cornet_z" => Some(tap.to_uppercase()),
        "resnet50" => Some(tap.to_string()),
        // stageN → blocks.(N-1); conv_head's tap is after BatchNorm and SiLU: timm's `bn2`
        // (BatchNormAct2d).
        "efficientnet_b1" => {
            if tap == "conv_head" {
                return Some("bn2".into());
            }
            let n: usize = tap.strip_prefix("stage")?.parse().ok()?;
            Some(format!("blocks.{}", n.checked_sub(1)?))
        }
        // convK is after its ReLU: torchvision numbers conv, ReLU, ..., max-pool in one
        // `features` sequence.
        "vgg16" => {
            let k: usize = tap.strip_prefix("conv")?.parse().ok()?;
            let mut index = 0;
            let mut conv = 0;
            for &c in brainlike_core::models::vgg16::LAYOUT.iter() {
                if c > 0 {
                    conv += 1;
                    if conv == k {
                        return Some(format!("features.{}", index + 1));
                    }
                    index += 2;
                } else {
                    index += 1;
                }
            }
            None
        }
        _ => None,
    }
}

/// The read-out layer for behavioural benchmarks (the penultimate representation).
fn readout_layer(arch: &str, head: Head) -> &'static str {
    match (arch, head) {
        ("cornet_z", Head::Decoder) => "decoder.avgpool",
        ("cornet_z", Head::Fc4096) | ("vgg16", _) => "classifier.4",
        ("resnet50", _) => "avgpool",
        _ => "global_pool",
    }
}

/// The head a weights file carries, its class count and (FC head) its input width.
fn head_of(arch: &str, info: &WeightsInfo, path: &Path) -> Result<(Head, usize, Option<usize>)> {
    let classifier = match arch {
        "cornet_z" => "decoder.linear",
        "resnet50" => "fc",
        _ => "classifier",
    };
    let two_d = |name: &str| info.shapes.get(name).filter(|s| s.len() == 2);
    if arch != "vgg16"
        && let Some(s) = two_d(&format!("{classifier}.weight"))
    {
        return Ok((Head::Decoder, s[0], None));
    }
    if matches!(arch, "cornet_z" | "vgg16")
        && let (Some(first), Some(last)) =
            (two_d("classifier.0.weight"), two_d("classifier.6.weight"))
    {
        return Ok((Head::Fc4096, last[0], Some(first[1])));
    }
    let want = match arch {
        "cornet_z" => "decoder.linear.weight (decoder head) or classifier.0/6.weight (fc4096 head)",
        "vgg16" => "classifier.0/6.weight (the fc4096 head; torchvision's VGG has no decoder)",
        "resnet50" => {
            "fc.weight (the decoder head; the fc4096 head has no torchvision counterpart)"
        }
        _ => "classifier.weight (the decoder head; the fc4096 head has no timm counterpart)",
    };
    bail!(
        "{}: no classifier a PyTorch {arch} can load: expected {want}",
        path.display()
    )
}

/// Preprocessing from the file's `preprocessing` metadata, else the registry's.
fn preprocessing(spec: &ModelSpec, info: &WeightsInfo, path: &Path) -> Result<Preprocessing> {
    if let Some(text) = info.meta.get("preprocessing") {
        let v: Value = serde_json::from_str(text)
            .with_context(|| format!("{}: metadata `preprocessing` is not JSON", path.display()))?;
        let three = |k: &str| -> Result<[f64; 3]> {
            let a = v[k].as_array().filter(|a| a.len() == 3).ok_or_else(|| {
                anyhow!(
                    "{}: metadata `preprocessing.{k}` should be 3 numbers, found {}",
                    path.display(),
                    v[k]
                )
            })?;
            let mut out = [0.0; 3];
            for (o, x) in out.iter_mut().zip(a) {
                *o = x.as_f64().ok_or_else(|| {
                    anyhow!("{}: metadata `preprocessing.{k}` holds {x}", path.display())
                })?;
            }
            Ok(out)
        };
        // The evaluation size and crop a run recorded (`data.test_input_size`, FixRes) win
        // over the training size.
        let eval_size = info
            .meta
            .get("eval_input_size")
            .and_then(|t| t.parse::<u64>().ok());
        let input_size = eval_size.or(v["input_size"].as_u64()).ok_or_else(|| {
            anyhow!(
                "{}: metadata `preprocessing.input_size` should be a positive integer",
                path.display()
            )
        })? as usize;
        let crop_fraction = info
            .meta
            .get("eval_crop_fraction")
            .and_then(|t| t.parse::<f64>().ok())
            .or(v.get("crop_fraction").and_then(Value::as_f64))
            .unwrap_or(1.0);
        if !(crop_fraction > 0.0 && crop_fraction <= 1.0) {
            bail!(
                "{}: metadata `preprocessing.crop_fraction` should be in (0, 1], found {crop_fraction}",
                path.display()
            );
        }
        return Ok(Preprocessing {
            mean: three("mean")?,
            std: three("std")?,
            input_size,
            interpolation: v["interpolation"]
                .as_str()
                .unwrap_or("bilinear")
                .to_string(),
            crop_fraction,
        });
    }
    match spec.normalization {
        Normalization::PerChannel { mean, std } => Ok(Preprocessing {
            mean: mean.map(f64::from),
            std: std.map(f64::from),
            input_size: spec.default_input_size,
            interpolation: "bilinear".into(),
            crop_fraction: 1.0,
        }),
        Normalization::TrainingMean => bail!(
            "{}: no `preprocessing` metadata, and {} is normalised by its training images' \
             mean, which only the training run knows; export from the run (--run) or from \
             weights written by `brainlike train`",
            path.display(),
            spec.name
        ),
    }
}

/// One region's committed layer and the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Commitment {
    /// Our tap name.
    pub tap: String,
    /// Why this tap.
    pub why: String,
}

/// The depth rule: a tap named after the region, else V1 → last early, V2 → first middle,
/// V4 → last middle, IT → first late (falling back to neighbours when a depth is empty).
pub fn depth_rule(spec: &ModelSpec, region: &str) -> Commitment {
    if let Some(t) = spec
        .taps
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(region))
    {
        return Commitment {
            tap: t.name.into(),
            why: format!("the tap named after {region}"),
        };
    }
    let of = |d: Depth| spec.taps.iter().filter(move |t| t.depth == d);
    let (pick, why) = match region {
        "V1" => (of(Depth::Early).next_back(), "the last early tap"),
        "V2" => (of(Depth::Middle).next(), "the first middle tap"),
        "V4" => (of(Depth::Middle).next_back(), "the last middle tap"),
        _ => (of(Depth::Late).next(), "the first late tap"),
    };
    let index = REGIONS.iter().position(|r| *r == region).unwrap_or(3);
    let fallback = &spec.taps[(index * spec.taps.len() / REGIONS.len()).min(spec.taps.len() - 1)];
    match pick {
        Some(t) => Commitment {
            tap: t.name.into(),
            why: format!("{why} (registry depth)"),
        },
        None => Commitment {
            tap: fallback.name.into(),
            why: "the tap at the region's share of the depth (no tap of the usual depth)".into(),
        },
    }
}

/// The region of a benchmark id `<dataset>.<region>-<metric>`, if it is one of [`REGIONS`].
fn region_of(id: &str) -> Option<&'static str> {
    let (_, rest) = id.split_once('.')?;
    let (region, _) = rest.rsplit_once('-')?;
    REGIONS
        .iter()
        .copied()
        .find(|r| r.eq_ignore_ascii_case(region))
}

/// The best tap per region from `brainlike score`'s `scores.csv` (columns `id`, `layer`,
/// `raw`, `ceiled`, ...): per region the row with the largest ceiled (else raw) value among
/// rows whose layer is a tap of `spec`.
pub fn best_from_scores(spec: &ModelSpec, path: &Path) -> Result<BTreeMap<String, Commitment>> {
    let mut r = csv::Reader::from_path(path)
        .with_context(|| format!("{}: cannot read the scores file", path.display()))?;
    let headers = r
        .headers()
        .with_context(|| format!("{}: no header row", path.display()))?
        .clone();
    let col = |name: &str| -> Result<usize> {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            anyhow!(
                "{}: no `{name}` column; expected brainlike score's scores.csv (id, model, \
                 layer, raw, ceiling, ceiled, ...)",
                path.display()
            )
        })
    };
    let (c_id, c_layer, c_raw, c_ceiled) = (col("id")?, col("layer")?, col("raw")?, col("ceiled")?);
    // Several models' rows (`brainlike score --model A --model B`) must not mix.
    let c_model = headers.iter().position(|h| h == "model");
    let mut models: Vec<String> = Vec::new();
    let mut best: BTreeMap<String, (f64, String, String)> = BTreeMap::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: record {}", path.display(), i + 2))?;
        let (id, layer) = (&rec[c_id], &rec[c_layer]);
        let Some(region) = region_of(id) else {
            continue;
        };
        if !spec.taps.iter().any(|t| t.name == layer) {
            continue;
        }
        let number = |s: &str| -> Result<Option<f64>> {
            if s.is_empty() {
                return Ok(None);
            }
            s.parse::<f64>()
                .map(Some)
                .map_err(|_| anyhow!("{}: line {}: {s:?} is not a number", path.display(), i + 2))
        };
        let Some(value) = number(&rec[c_ceiled])?.or(number(&rec[c_raw])?) else {
            continue;
        };
        if value.is_nan() {
            continue;
        }
        if let Some(m) = c_model.map(|c| rec[c].to_string())
            && !models.contains(&m)
        {
            models.push(m);
        }
        let better = best.get(region).is_none_or(|(v, _, _)| value > *v);
        if better {
            best.insert(
                region.to_string(),
                (value, layer.to_string(), id.to_string()),
            );
        }
    }
    if models.len() > 1 {
        bail!(
            "{}: holds scores of several models ({}); keep the rows of the exported model only",
            path.display(),
            models.join(", ")
        );
    }
    if best.is_empty() {
        bail!(
            "{}: no per-layer scores of a V1, V2, V4 or IT benchmark at the layers of {} ({})",
            path.display(),
            spec.name,
            spec.tap_names()
        );
    }
    Ok(best
        .into_iter()
        .map(|(region, (v, tap, id))| {
            (
                region,
                Commitment {
                    tap,
                    why: format!("best score on {id} ({v:.4}, {})", path.display()),
                },
            )
        })
        .collect())
}

/// A Python identifier-like name: lowercase ASCII letters, digits and `_`.
fn sanitise(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    while out.contains("__") {
        out = out.replace("__", "_");
    }
    out.trim_matches('_').to_string()
}

fn py_list(v: &[f64; 3]) -> String {
    format!(
        "[{}, {}, {}]",
        py_float(v[0]),
        py_float(v[1]),
        py_float(v[2])
    )
}

/// A float as Python reads it back exactly (shortest round-trip form, always with a dot).
fn py_float(x: f64) -> String {
    let s = format!("{x:?}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

fn py_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    debug_assert!(!out.contains("{{"), "unfilled placeholder in {out}");
    out
}

const T_INIT: &str = include_str!("export_templates/__init__.py");
const T_MODEL: &str = include_str!("export_templates/model.py");
const T_TEST: &str = include_str!("export_templates/test.py");
const T_README: &str = include_str!("export_templates/README.md");
const T_SETUP: &str = include_str!("export_templates/setup.py");

fn build_template(arch: &str) -> &'static str {
    match arch {
        "cornet_z" => include_str!("export_templates/build_cornet_z.py"),
        "resnet50" => include_str!("export_templates/build_resnet50.py"),
        "efficientnet_b1" => include_str!("export_templates/build_efficientnet_b1.py"),
        _ => include_str!("export_templates/build_vgg16.py"),
    }
}

fn definition(arch: &str) -> &'static str {
    match arch {
        "cornet_z" => "CORnet-Z with the official CORnet module names, defined in model.py",
        "resnet50" => "torchvision.models.resnet50(weights=None)",
        "efficientnet_b1" => "timm.create_model('efficientnet_b1', pretrained=False)",
        _ => "torchvision.models.vgg16(weights=None), classifier sized for the input",
    }
}

fn brainscore(a: BrainscoreArgs) -> Result<ExitCode> {
    // Which model, which weights, which head options.
    let (arch, weights, lrn, source_name) = match (&a.run, &a.model, &a.weights) {
        (Some(run), _, _) => {
            let run_cfg = brainlike_run::RunDir::open(run)?.config()?;
            let cfg: brainlike_core::TrainConfig =
                toml::from_str(run_cfg.text()).with_context(|| {
                    format!("{}: not a brainlike run config", run_cfg.path().display())
                })?;
            let name = run
                .canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "run".into());
            (
                cfg.model.arch,
                run.join("weights.safetensors"),
                cfg.model.lrn || a.lrn,
                name,
            )
        }
        (None, Some(model), Some(w)) => {
            let arch = Arch::parse(model).ok_or_else(|| {
                anyhow!("--model: no model {model:?} is registered (`brainlike models` lists them)")
            })?;
            let stem = w
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "weights".into());
            (arch, w.clone(), a.lrn, stem)
        }
        _ => bail!("give --run RUN_DIR, or --model NAME with --weights FILE.safetensors"),
    };
    let spec = arch.spec();
    let name = spec.name;
    if !weights.is_file() {
        bail!("{}: no such weights file", weights.display());
    }
    let info = read_header(&weights)?;
    if let Some(m) = info.meta.get("model")
        && m != name
    {
        bail!(
            "{}: the file's metadata says it holds weights of {m:?}, not {name:?}",
            weights.display()
        );
    }
    if info
        .shapes
        .keys()
        .any(|k| k.starts_with("features.") && k[9..].starts_with(|c: char| c.is_ascii_uppercase()))
    {
        bail!(
            "{}: tensors are named by Burn module paths (`features.<Model>...`, a file written \
             before brainlike used PyTorch names); load and save it with a current brainlike \
             (e.g. `brainlike train --init FILE` for one epoch) first",
            weights.display()
        );
    }
    let missing: Vec<&str> = required_tensors(name)
        .iter()
        .copied()
        .filter(|t| !info.shapes.contains_key(*t))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{}: not {name} weights under PyTorch's state_dict names: missing {}",
            weights.display(),
            missing.join(", ")
        );
    }
    let (head, classes, fc_in) = head_of(name, &info, &weights)?;
    let pre = preprocessing(spec, &info, &weights)?;
    let interpolation_enum = match pre.interpolation.as_str() {
        "bilinear" | "triangle" => "BILINEAR",
        "bicubic" => "BICUBIC",
        "nearest" => "NEAREST",
        other => bail!(
            "{}: metadata `preprocessing.interpolation` is {other:?}; expected bilinear, bicubic or nearest",
            weights.display()
        ),
    };

    // Layers and the region commitment.
    let layers: Vec<(String, String)> = spec
        .taps
        .iter()
        .map(|t| {
            let torch = torch_layer(name, t.name).expect("every registered tap has a module");
            (t.name.to_string(), torch)
        })
        .collect();
    let readout = readout_layer(name, head);
    let from_scores = match &a.scores {
        Some(p) => best_from_scores(spec, p)?,
        None => BTreeMap::new(),
    };
    let commit: Vec<(&str, Commitment)> = REGIONS
        .iter()
        .map(|r| {
            let c = from_scores
                .get(*r)
                .cloned()
                .unwrap_or_else(|| depth_rule(spec, r));
            (*r, c)
        })
        .collect();
    let torch_of = |tap: &str| -> String {
        layers
            .iter()
            .find(|(t, _)| t == tap)
            .map(|(_, m)| m.clone())
            .expect("commitments name taps")
    };

    let identifier = match &a.identifier {
        Some(id) => {
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            {
                bail!("--identifier {id:?}: use letters, digits, `_`, `-` and `.` only");
            }
            id.clone()
        }
        None => format!("brainlike_{name}_{}", sanitise(&source_name)),
    };

    // The folder.
    if a.out.exists()
        && std::fs::read_dir(&a.out)
            .with_context(|| format!("{}: not a folder", a.out.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{}: exists and is not empty; give a new folder for the plugin",
            a.out.display()
        );
    }
    std::fs::create_dir_all(a.out.join("region_layer_map"))
        .with_context(|| format!("creating {}", a.out.display()))?;

    let head_name = match head {
        Head::Decoder => "decoder",
        Head::Fc4096 => "fc4096",
    };
    let region_map_py = format!(
        "{{{}}}",
        commit
            .iter()
            .map(|(r, c)| format!("{}: {}", py_str(r), py_str(&torch_of(&c.tap))))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let region_source = if a.scores.is_some() {
        "best-scoring layer per region from brainlike score, else the registry's depth rule"
    } else {
        "the registry's depth rule for brainlike's taps"
    };
    let mut all_layers: Vec<(String, String)> = layers.clone();
    all_layers.push(("penultimate".into(), readout.to_string()));
    let layers_py = format!(
        "[\n{}\n]",
        all_layers
            .iter()
            .map(|(t, m)| format!("    ({}, {}),", py_str(t), py_str(m)))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let resize = if pre.crop_fraction < 1.0 {
        format!(
            "shorter side resized to {} then centre-cropped (crop fraction {})",
            (pre.input_size as f64 / pre.crop_fraction).round(),
            pre.crop_fraction
        )
    } else {
        "the whole image resized".to_string()
    };
    let mut requirements = vec!["torch", "torchvision", "safetensors", "numpy"];
    if name == "efficientnet_b1" {
        requirements.push("timm");
    }
    let values: Vec<(&str, String)> = vec![
        ("IDENTIFIER", identifier.clone()),
        ("MODEL", name.to_string()),
        ("DEFINITION", definition(name).to_string()),
        ("INPUT_SIZE", pre.input_size.to_string()),
        ("MEAN", py_list(&pre.mean)),
        ("STD", py_list(&pre.std)),
        ("CROP_FRACTION", py_float(pre.crop_fraction)),
        ("INTERPOLATION", pre.interpolation.clone()),
        ("INTERPOLATION_ENUM", interpolation_enum.to_string()),
        ("RESIZE", resize),
        ("CLASSES", classes.to_string()),
        ("HEAD", head_name.to_string()),
        ("LRN", if lrn { "True" } else { "False" }.to_string()),
        ("FC_IN", fc_in.map_or("None".into(), |n| n.to_string())),
        ("LAYERS", layers_py),
        ("READOUT", readout.to_string()),
        ("REGION_LAYER_MAP", region_map_py),
        ("REGION_SOURCE", region_source.to_string()),
        ("BIBTEX", spec.citation.replace('"', "'")),
        ("SOURCE", weights.display().to_string()),
        (
            "REQUIREMENTS_PY",
            requirements
                .iter()
                .map(|r| py_str(r))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "LAYER_TABLE",
            layers
                .iter()
                .map(|(t, m)| format!("`{t}` = `{m}`"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "REGION_SOURCE_SENTENCE",
            if a.scores.is_some() {
                "Each region's layer is the one that scored best on a benchmark of that region in \
                 the given `scores.csv` (`brainlike score`); a region the file does not score \
                 follows the depth rule."
            } else {
                "Each region's layer follows brainlike's registry: a layer named after the \
                 region, else V1 = the last early layer, V2 = the first middle one, V4 = the \
                 last middle one, IT = the first late one. Pass `--scores scores.csv` from \
                 `brainlike score` to commit the best-scoring layers instead."
            }
            .to_string(),
        ),
        (
            "REGION_ROWS",
            commit
                .iter()
                .map(|(r, c)| format!("| {r} | `{}` (`{}`) | {} |", torch_of(&c.tap), c.tap, c.why))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    ];
    let model_py = T_MODEL.replace("{{BUILD}}", build_template(name));
    let files: Vec<(PathBuf, String)> = vec![
        (a.out.join("__init__.py"), fill(T_INIT, &values)),
        (a.out.join("model.py"), fill(&model_py, &values)),
        (a.out.join("test.py"), fill(T_TEST, &values)),
        (a.out.join("README.md"), fill(T_README, &values)),
        (a.out.join("setup.py"), fill(T_SETUP, &values)),
        (
            a.out.join("requirements.txt"),
            requirements.join("\n") + "\n",
        ),
        (
            a.out
                .join("region_layer_map")
                .join(format!("{identifier}.json")),
            serde_json::to_string_pretty(
                &commit
                    .iter()
                    .map(|(r, c)| (r.to_string(), torch_of(&c.tap)))
                    .collect::<BTreeMap<_, _>>(),
            )? + "\n",
        ),
        (
            a.out.join("brainlike_export.json"),
            serde_json::to_string_pretty(&json!({
                "identifier": identifier,
                "model": name,
                "head": head_name,
                "lrn": lrn,
                "classes": classes,
                "source_weights": weights.display().to_string(),
                "preprocessing": {
                    "mean": pre.mean, "std": pre.std, "input_size": pre.input_size,
                    "interpolation": pre.interpolation, "crop_fraction": pre.crop_fraction,
                },
                "layers": layers.iter().map(|(t, m)| json!({"tap": t, "module": m})).collect::<Vec<_>>(),
                "readout_layer": readout,
                "region_layer_map": commit.iter().map(|(r, c)| (r.to_string(), json!({"tap": c.tap, "module": torch_of(&c.tap), "why": c.why}))).collect::<serde_json::Map<_, _>>(),
            }))? + "\n",
        ),
    ];
    for (path, text) in &files {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let dst = a.out.join("weights.safetensors");
    std::fs::copy(&weights, &dst)
        .with_context(|| format!("copying {} to {}", weights.display(), dst.display()))?;

    println!(
        "wrote Brain-Score plugin {identifier} to {}",
        a.out.display()
    );
    println!(
        "  model {name} ({head_name} head, {classes} classes), input {} px",
        pre.input_size
    );
    for (r, c) in &commit {
        println!("  {r:<3} -> {} ({}): {}", torch_of(&c.tap), c.tap, c.why);
    }
    println!("  test it: see {}", a.out.join("README.md").display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_map_to_pytorch_module_names() {
        assert_eq!(torch_layer("cornet_z", "it").as_deref(), Some("IT"));
        assert_eq!(torch_layer("resnet50", "layer3").as_deref(), Some("layer3"));
        assert_eq!(
            torch_layer("efficientnet_b1", "stage1").as_deref(),
            Some("blocks.0")
        );
        assert_eq!(
            torch_layer("efficientnet_b1", "conv_head").as_deref(),
            Some("bn2")
        );
        // torchvision vgg16.features: 0 conv, 1 ReLU, 2 conv, 3 ReLU, 4 pool, 5 conv, ...
        assert_eq!(torch_layer("vgg16", "conv1").as_deref(), Some("features.1"));
        assert_eq!(torch_layer("vgg16", "conv3").as_deref(), Some("features.6"));
        assert_eq!(
            torch_layer("vgg16", "conv13").as_deref(),
            Some("features.29")
        );
    }

    #[test]
    fn depth_rule_commits_one_tap_per_region() {
        let r50 = Arch::parse("resnet50").unwrap().spec();
        let got: Vec<String> = REGIONS.iter().map(|r| depth_rule(r50, r).tap).collect();
        assert_eq!(got, ["layer1", "layer2", "layer3", "layer4"]);
        let cz = Arch::parse("cornet_z").unwrap().spec();
        let got: Vec<String> = REGIONS.iter().map(|r| depth_rule(cz, r).tap).collect();
        assert_eq!(got, ["v1", "v2", "v4", "it"]);
        let b1 = Arch::parse("efficientnet_b1").unwrap().spec();
        let got: Vec<String> = REGIONS.iter().map(|r| depth_rule(b1, r).tap).collect();
        assert_eq!(got, ["stage2", "stage3", "stage5", "stage6"]);
    }

    #[test]
    fn benchmark_ids_name_their_region() {
        assert_eq!(region_of("FreemanZiemba2013.V1-pls"), Some("V1"));
        assert_eq!(region_of("custom.it-pls"), Some("IT"));
        assert_eq!(region_of("Rajalingham2018-i2n"), None);
        assert_eq!(region_of("custom.behavior-i2n"), None);
    }

    #[test]
    fn python_floats_round_trip() {
        assert_eq!(py_float(1.0), "1.0");
        assert_eq!(py_float(0.485f32 as f64), format!("{:?}", 0.485f32 as f64));
        assert_eq!(sanitise("Run-03 (best)"), "run_03_best");
    }
}
