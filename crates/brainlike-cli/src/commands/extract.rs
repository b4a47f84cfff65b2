//! `brainlike extract`: activations of a model at chosen layers for a set of images, one
//! float32 `.npy` per layer (stimuli x features, flattened in `C x H x W` order), streamed.
//!
//! Memory is bounded by one chunk: images are decoded (or read from `--inputs`) a chunk at a
//! time, the chunk runs the network once, and each layer's rows are appended to its file
//! before the next chunk. The files are written beside their final names and renamed when
//! complete, so an interrupted extraction leaves no truncated `.npy` behind.
//!
//! Output folder: `<layer>.npy` per layer (`logits.npy` for the class scores), `stimuli.txt`
//! (one id per row, in row order: the image file stems, or `0..N-1` for `--inputs`), and
//! `extract.json` (model, weights, size, preprocessing, layers and their shapes).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use brainlike_core::burn::tensor::{Device, Tensor, TensorData};
use brainlike_core::config::{Head, ModelConfig};
use brainlike_core::models::{Arch, Network, Normalization, Tap};
use clap::Args;

/// `brainlike extract`.
#[derive(Args, Debug)]
pub struct ExtractArgs {
    /// A registered model (`brainlike models`), with `--weights`.
    #[arg(long, conflicts_with = "run")]
    pub model: Option<String>,
    /// A brainlike run directory (its config and weights) instead of `--model`/`--weights`.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Weights for `--model`: a PyTorch `state_dict` saved with safetensors (torchvision,
    /// timm, official CORnet names) or a brainlike weights file. Without it the model is
    /// freshly initialised (seed 0).
    #[arg(long, value_name = "FILE.safetensors")]
    pub weights: Option<PathBuf>,
    /// Classifier head of `--model`: `decoder` (average pool + linear: ResNet, EfficientNet,
    /// CORnet) or `fc4096` (VGG's classifier). Default: `fc4096` for vgg16, else `decoder`.
    #[arg(long)]
    pub head: Option<String>,
    /// Classes of `--model` without weights (with weights: read from the file).
    #[arg(long, default_value_t = 1000)]
    pub classes: usize,
    /// A folder of PNG/JPEG images (sorted by file name), resized to `--size` and normalised
    /// as the model expects.
    #[arg(long, conflicts_with = "inputs")]
    pub images: Option<PathBuf>,
    /// An `N x 3 x H x W` float32 `.npy` already normalised for the model (H = W).
    #[arg(long)]
    pub inputs: Option<PathBuf>,
    /// Layers: tap names (`brainlike models`), `penultimate`, `logits`, or `all`.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub layers: Vec<String>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Input side for `--images` (default: the run's, or the model's default).
    #[arg(long)]
    pub size: Option<usize>,
    /// Images per forward pass (bounds memory).
    #[arg(long, default_value_t = 32)]
    pub chunk: usize,
    /// Backend (`flex`, `tch`, `cuda`, ...); default `flex`, or the run's.
    #[arg(long)]
    pub device: Option<String>,
    /// CPU threads for the backend (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// What to read out.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Out {
    Tap(Tap),
    Penultimate,
    Logits,
}

impl Out {
    fn name(self) -> &'static str {
        match self {
            Out::Tap(t) => t.name(),
            Out::Penultimate => "penultimate",
            Out::Logits => "logits",
        }
    }
}

/// A float32 `.npy` written row by row: the header once the row width is known, then the
/// rows; renamed to its final name by [`NpyRows::finish`].
struct NpyRows {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<BufWriter<File>>,
    rows: usize,
    written: usize,
    dim: usize,
}

impl NpyRows {
    fn new(path: PathBuf, rows: usize) -> Self {
        let name = path.file_name().expect("a file name").to_string_lossy();
        let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        Self {
            path,
            tmp,
            file: None,
            rows,
            written: 0,
            dim: 0,
        }
    }

    fn header(rows: usize, dim: usize) -> Vec<u8> {
        let dict =
            format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}");
        // magic (6) + version (2) + length (2) + dict + padding + '\n', a multiple of 64.
        let unpadded = 10 + dict.len() + 1;
        let pad = unpadded.div_ceil(64) * 64 - unpadded;
        let mut h = b"\x93NUMPY\x01\x00".to_vec();
        h.extend(((dict.len() + pad + 1) as u16).to_le_bytes());
        h.extend(dict.as_bytes());
        h.extend(std::iter::repeat_n(b' ', pad));
        h.push(b'\n');
        h
    }

    fn append(&mut self, values: &[f32], dim: usize) -> Result<()> {
        if self.file.is_none() {
            let f = File::create(&self.tmp)
                .with_context(|| format!("creating {}", self.tmp.display()))?;
            let mut w = BufWriter::with_capacity(1 << 20, f);
            w.write_all(&Self::header(self.rows, dim))?;
            self.file = Some(w);
            self.dim = dim;
        }
        let w = self.file.as_mut().expect("opened");
        let mut buf = Vec::with_capacity(values.len() * 4);
        for v in values {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        w.write_all(&buf)
            .with_context(|| format!("writing {}", self.tmp.display()))?;
        self.written += values.len() / dim.max(1);
        Ok(())
    }

    fn finish(mut self) -> Result<(PathBuf, usize)> {
        let w = self.file.take().expect("at least one chunk");
        let f = w
            .into_inner()
            .map_err(|e| anyhow!("{}: {e}", self.tmp.display()))?;
        f.sync_all()?;
        if self.written != self.rows {
            bail!(
                "{}: wrote {} rows, expected {}",
                self.path.display(),
                self.written,
                self.rows
            );
        }
        std::fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("renaming to {}", self.path.display()))?;
        Ok((self.path.clone(), self.dim))
    }
}

impl Drop for NpyRows {
    fn drop(&mut self) {
        if self.file.is_some() || self.tmp.exists() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// The model, its input side and preprocessing (mean, std per channel on pixels in [0, 1]).
struct Loaded {
    net: Network,
    name: String,
    size: usize,
    mean: [f32; 3],
    std: [f32; 3],
    preprocessing_known: bool,
}

/// `(mean, std)` recorded in a brainlike weights file's metadata (`preprocessing`).
fn recorded_preprocessing(path: &Path) -> Option<([f32; 3], [f32; 3], usize)> {
    let bytes = std::fs::read(path).ok()?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).ok()?;
    let text = meta.metadata().as_ref()?.get("preprocessing")?.clone();
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let three = |k: &str| -> Option<[f32; 3]> {
        let a = v[k].as_array()?;
        Some([
            a.first()?.as_f64()? as f32,
            a.get(1)?.as_f64()? as f32,
            a.get(2)?.as_f64()? as f32,
        ])
    };
    Some((
        three("mean")?,
        three("std")?,
        v["input_size"].as_u64()? as usize,
    ))
}

fn load(args: &ExtractArgs, device: &Device) -> Result<Loaded> {
    if let Some(run) = &args.run {
        let (cfg, net) = brainlike_core::train::export::load_run(run, device)?;
        let w = run.join("weights.safetensors");
        let (mean, std, size, known) = match recorded_preprocessing(&w) {
            Some((m, s, size)) => (m, s, size, true),
            None => ([0.0; 3], [1.0; 3], cfg.data.input_size, false),
        };
        return Ok(Loaded {
            net,
            name: cfg.model.arch.name().to_string(),
            size: args.size.unwrap_or(size),
            mean,
            std,
            preprocessing_known: known,
        });
    }
    let name = args
        .model
        .as_deref()
        .ok_or_else(|| anyhow!("give --model NAME (with --weights) or --run RUN_DIR"))?;
    let arch = Arch::parse(name).ok_or_else(|| {
        anyhow!("--model: no model {name:?} is registered (`brainlike models` lists them)")
    })?;
    let head = match args.head.as_deref() {
        Some("decoder") => Head::Decoder,
        Some("fc4096") => Head::Fc4096,
        Some(h) => bail!("--head must be decoder or fc4096, got {h:?}"),
        None if arch.name() == "vgg16" => Head::Fc4096,
        None => Head::Decoder,
    };
    let spec = arch.spec();
    let size = args.size.unwrap_or(spec.default_input_size);
    let cfg = ModelConfig {
        arch,
        head,
        ..ModelConfig::default()
    };
    let mut classes = args.classes;
    if let Some(w) = &args.weights {
        let probe = Network::new(&cfg, size, 1, 0, device);
        if let Some(c) = brainlike_core::models::weights::file_classes(&probe, w)? {
            classes = c;
        }
    }
    device.seed(0);
    let mut net = Network::new(&cfg, size, classes, 0, device);
    let recorded = match &args.weights {
        Some(w) => {
            brainlike_core::train::export::load_safetensors(&mut net, w)?;
            recorded_preprocessing(w)
        }
        None => None,
    };
    let (mean, std, known) = match (recorded, spec.normalization) {
        (Some((m, s, _)), _) => (m, s, true),
        (None, Normalization::PerChannel { mean, std }) => (mean, std, true),
        (None, Normalization::TrainingMean) => ([0.0; 3], [1.0; 3], false),
    };
    Ok(Loaded {
        net,
        name: spec.name.to_string(),
        size,
        mean,
        std,
        preprocessing_known: known,
    })
}

fn parse_outputs(names: &[String], net: &Network) -> Result<Vec<Out>> {
    let taps = net.taps();
    let mut out = Vec::new();
    for n in names {
        match n.trim() {
            "all" => {
                out.extend(taps.iter().map(|&t| Out::Tap(t)));
                out.extend([Out::Penultimate, Out::Logits]);
            }
            "penultimate" => out.push(Out::Penultimate),
            "logits" => out.push(Out::Logits),
            n => out.push(Out::Tap(taps.iter().copied().find(|t| t.name() == n).ok_or_else(
                || {
                    anyhow!(
                        "--layers: this model has no layer {n:?}; it has {}, penultimate, logits, all",
                        taps.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
                    )
                },
            )?)),
        }
    }
    let mut seen = Vec::new();
    out.retain(|o| {
        let new = !seen.contains(o);
        seen.push(*o);
        new
    });
    Ok(out)
}

/// A source of normalised input chunks.
enum Source {
    Images {
        files: Vec<PathBuf>,
        next: usize,
    },
    Npy {
        path: PathBuf,
        values: Box<dyn Iterator<Item = std::io::Result<f32>>>,
        n: usize,
        next: usize,
    },
}

impl Source {
    fn len(&self) -> usize {
        match self {
            Source::Images { files, .. } => files.len(),
            Source::Npy { n, .. } => *n,
        }
    }

    /// The next `m` inputs, normalised, `m * 3 * size * size` values.
    fn chunk(&mut self, m: usize, l: &Loaded) -> Result<Vec<f32>> {
        let plane = l.size * l.size;
        match self {
            Source::Images { files, next } => {
                let mut px = Vec::with_capacity(m * 3 * plane);
                for p in &files[*next..*next + m] {
                    let bytes =
                        std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
                    let img = brainlike_core::data::image::decode_chw(p, &bytes, l.size)?;
                    for (c, ch) in img.chunks_exact(plane).enumerate() {
                        px.extend(ch.iter().map(|v| (v - l.mean[c]) / l.std[c]));
                    }
                }
                *next += m;
                Ok(px)
            }
            Source::Npy {
                path, values, next, ..
            } => {
                let want = m * 3 * plane;
                let px: Vec<f32> = values
                    .by_ref()
                    .take(want)
                    .collect::<std::io::Result<_>>()
                    .with_context(|| {
                        format!("{}: reading rows {}..{}", path.display(), *next, *next + m)
                    })?;
                if px.len() != want {
                    bail!(
                        "{}: the file ends inside row {} (truncated)",
                        path.display(),
                        *next + px.len() / (3 * plane)
                    );
                }
                *next += m;
                Ok(px)
            }
        }
    }
}

/// Opens `--images` or `--inputs`; returns the source, the stimulus ids and the input side.
fn open_source(args: &ExtractArgs, size: usize) -> Result<(Source, Vec<String>, usize)> {
    if let Some(dir) = &args.images {
        let files = brainlike_core::extract::list_images(dir)?;
        let ids = files
            .iter()
            .map(|p| {
                p.file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        return Ok((Source::Images { files, next: 0 }, ids, size));
    }
    let Some(path) = &args.inputs else {
        bail!("give --images DIR or --inputs X.npy");
    };
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let npy = npyz::NpyFile::new(std::io::BufReader::new(f))
        .with_context(|| format!("{}: not a .npy file", path.display()))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    if npy.order() != npyz::Order::C {
        bail!(
            "{}: expected a C-ordered array, found Fortran order",
            path.display()
        );
    }
    if shape.len() != 4 || shape[1] != 3 || shape[2] != shape[3] || shape[0] == 0 {
        bail!(
            "{}: expected shape N x 3 x S x S (normalised images), found {shape:?}",
            path.display()
        );
    }
    let n = shape[0];
    let dtype = npy.dtype();
    let values = npy.data::<f32>().map_err(|e| {
        anyhow!(
            "{}: expected float32 values (numpy '<f4'), found {dtype:?} ({e})",
            path.display()
        )
    })?;
    let values: Box<dyn Iterator<Item = std::io::Result<f32>>> = Box::new(values);
    let ids = (0..n).map(|i| i.to_string()).collect();
    Ok((
        Source::Npy {
            path: path.clone(),
            values,
            n,
            next: 0,
        },
        ids,
        shape[2],
    ))
}

fn to_host(t: Tensor<2>) -> Result<(Vec<f32>, usize)> {
    let dim = t.dims()[1];
    let v = t
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| anyhow!("reading activations back from the device: {e:?}"))?;
    Ok((v, dim))
}

/// Runs `brainlike extract`.
pub fn run(args: ExtractArgs) -> Result<ExitCode> {
    if args.chunk == 0 {
        bail!("--chunk must be at least 1");
    }
    if let Some(t) = args.threads {
        brainlike_core::device::set_threads(t);
    }
    let device_name = args.device.clone().unwrap_or_else(|| "flex".into());
    let (_, device) = brainlike_core::device::resolve(&device_name)?;
    let mut loaded = load(&args, &device)?;
    let (mut source, ids, size) = open_source(&args, loaded.size)?;
    if args.inputs.is_some() {
        loaded.size = size;
    } else if !loaded.preprocessing_known {
        eprintln!(
            "warning: no preprocessing recorded for {} (it normalises by its training mean): \
             images are fed as pixels in [0, 1]; pass --run, brainlike weights, or --inputs \
             with normalised arrays",
            loaded.name
        );
    }
    let outs = parse_outputs(&args.layers, &loaded.net)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let n = source.len();
    let taps: Vec<Tap> = outs
        .iter()
        .filter_map(|o| match o {
            Out::Tap(t) => Some(*t),
            _ => None,
        })
        .collect();
    let want_pen = outs.contains(&Out::Penultimate);
    let mut writers: Vec<NpyRows> = outs
        .iter()
        .map(|o| NpyRows::new(args.out.join(format!("{}.npy", o.name())), n))
        .collect();
    let t0 = std::time::Instant::now();
    let mut done = 0;
    while done < n {
        let m = args.chunk.min(n - done);
        let px = source.chunk(m, &loaded)?;
        let x = Tensor::<4>::from_data(TensorData::new(px, [m, 3, size, size]), &device);
        let (acts, pen, logits) = loaded.net.read_out_logits(x, &taps, want_pen);
        let mut acts = acts.into_iter();
        for (o, w) in outs.iter().zip(&mut writers) {
            let t = match o {
                Out::Tap(_) => acts.next().expect("one per tap").flatten::<2>(1, 3),
                Out::Penultimate => pen.clone().expect("asked for"),
                Out::Logits => logits.clone(),
            };
            let (v, dim) = to_host(t)?;
            w.append(&v, dim)?;
        }
        done += m;
        eprintln!(
            "extract: {done}/{n} stimuli, {:.1} images/s",
            done as f64 / t0.elapsed().as_secs_f64()
        );
    }
    let mut layers = Vec::new();
    for (o, w) in outs.iter().zip(writers) {
        let (path, dim) = w.finish()?;
        layers.push(serde_json::json!({ "layer": o.name(), "file": path.file_name().map(|f| f.to_string_lossy().into_owned()), "shape": [n, dim] }));
    }
    brainlike_run::write_atomic(
        &args.out.join("stimuli.txt"),
        (ids.join("\n") + "\n").as_bytes(),
    )?;
    let record = serde_json::json!({
        "model": loaded.name,
        "run": args.run,
        "weights": args.weights,
        "input_size": size,
        "preprocessing": if args.inputs.is_some() {
            serde_json::json!("given: --inputs were already normalised")
        } else {
            serde_json::json!({ "mean": loaded.mean, "std": loaded.std, "resize": "triangle filter to input_size x input_size", "pixels": "[0, 1]", "recorded": loaded.preprocessing_known })
        },
        "stimuli": n,
        "layers": layers,
    });
    brainlike_run::write_atomic(
        &args.out.join("extract.json"),
        serde_json::to_string_pretty(&record)?.as_bytes(),
    )?;
    println!(
        "wrote {} layer(s) for {n} stimuli to {} in {:.1} s",
        outs.len(),
        args.out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
