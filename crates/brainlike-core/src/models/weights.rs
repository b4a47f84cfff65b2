//! Weights in and out under PyTorch's names, for models that follow a PyTorch reference
//! implementation ([`Backbone::TORCH_CLASSIFIER`](super::Backbone::TORCH_CLASSIFIER) set:
//! ResNet-50 as torchvision, EfficientNet-B1 as timm).
//!
//! A file written by `safetensors.torch.save_file(model.state_dict(), FILE)` loads without
//! renaming by hand, BatchNorm buffers included; [`save_torch`] writes the same layout, so
//! `model.load_state_dict(safetensors.torch.load_file(FILE))` takes it back. The name of a
//! parameter is its Burn path with the stack's prefix removed (`features.ResNet50.`) and the
//! model's own [`Backbone::torch_name`](super::Backbone::torch_name) applied; the `decoder`
//! head's linear layer is the model's classifier (`fc`, `classifier`). Linear weights are
//! transposed (Burn `[in, out]`, PyTorch `[out, in]`); `num_batches_tracked` is an int64 scalar
//! in PyTorch and a `[1]` float buffer here.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::Network;
use crate::error::{Error, Result};

/// Where a parameter of the network lives in a PyTorch `state_dict`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TorchKey {
    /// The `state_dict` name.
    pub name: String,
    /// Stored transposed (a linear weight).
    pub transpose: bool,
}

/// The PyTorch name of the parameter at Burn path `path` of `net`, when `net` follows a
/// PyTorch reference implementation.
pub fn torch_key(net: &Network, path: &str) -> Option<TorchKey> {
    let classifier = net.features.torch_classifier()?;
    if let Some(rest) = path.strip_prefix("features.") {
        let (variant, _) = net.features.torch_name("");
        let rest = rest.strip_prefix(variant)?.strip_prefix('.')?;
        let (_, name) = net.features.torch_name(rest);
        return Some(TorchKey {
            name,
            transpose: false,
        });
    }
    match path {
        "head.Decoder.linear.weight" => Some(TorchKey {
            name: format!("{classifier}.weight"),
            transpose: true,
        }),
        "head.Decoder.linear.bias" => Some(TorchKey {
            name: format!("{classifier}.bias"),
            transpose: false,
        }),
        // The FC head as torchvision's VGG/AlexNet classifier: Linear, ReLU, Dropout, Linear,
        // ReLU, Dropout, Linear.
        p if p.starts_with("head.Fc.fc") => {
            let rest = &p["head.Fc.fc".len()..];
            let (n, tail) = rest.split_once('.')?;
            let index = match n {
                "1" => 0,
                "2" => 3,
                "3" => 6,
                _ => return None,
            };
            Some(TorchKey {
                name: format!("classifier.{index}.{tail}"),
                transpose: tail == "weight",
            })
        }
        // Other heads keep their Burn paths.
        p => Some(TorchKey {
            name: p.to_string(),
            transpose: p.ends_with(".weight") && p.starts_with("head."),
        }),
    }
}

/// A tensor read from a file: shape as stored, values as f32.
struct FileTensor {
    shape: Vec<usize>,
    values: Vec<f32>,
}

fn read_file(path: &Path) -> Result<BTreeMap<String, FileTensor>> {
    if !path.is_file() {
        return Err(Error::Missing(format!(
            "{}: no such weights file",
            path.display()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::format(path, "header", format!("a safetensors file ({e})")))?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        let data = view.data();
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect(),
            Dtype::F64 => data
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32)
                .collect(),
            Dtype::I64 => data
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f32)
                .collect(),
            d => {
                return Err(Error::format(
                    path,
                    name,
                    format!("float32, float64 or int64 values, found {d:?}"),
                ));
            }
        };
        out.insert(
            name,
            FileTensor {
                shape: view.shape().to_vec(),
                values,
            },
        );
    }
    Ok(out)
}

/// Path-tracking helper shared by the loader and the saver.
#[derive(Default)]
struct PathStack(Vec<String>);

impl PathStack {
    fn join(&self) -> String {
        self.0.join(".")
    }
}

/// Replaces every parameter of the network with the file's tensor of the same PyTorch name,
/// recording what does not fit.
struct Loader<'a> {
    net: &'a Network,
    file: &'a BTreeMap<String, FileTensor>,
    path: PathStack,
    used: Vec<String>,
    missing: Vec<String>,
    mismatched: Vec<String>,
    /// Names kept at the model's values (and not reported as unexpected in the file).
    skip: &'a [String],
}

impl ModuleMapper for Loader<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.0.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.0.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.path.join();
        let Some(key) = torch_key(self.net, &path) else {
            return param;
        };
        if self.skip.contains(&key.name) {
            self.used.push(key.name);
            return param;
        }
        let Some(ft) = self.file.get(&key.name) else {
            self.missing.push(key.name);
            return param;
        };
        self.used.push(key.name.clone());
        let ours = param.val().dims().to_vec();
        let mut theirs = if ft.shape.is_empty() {
            vec![1]
        } else {
            ft.shape.clone()
        };
        if key.transpose {
            theirs.reverse();
        }
        if ours != theirs {
            self.mismatched.push(format!(
                "{} (file {:?}, model {:?}{})",
                key.name,
                ft.shape,
                if key.transpose {
                    ours.iter().rev().copied().collect::<Vec<_>>()
                } else {
                    ours.clone()
                },
                if key.transpose {
                    ", PyTorch layout"
                } else {
                    ""
                }
            ));
            return param;
        }
        let values = ft.values.clone();
        param.map(|t| {
            let device = t.device();
            let grad = t.is_require_grad();
            let new = if key.transpose {
                let mut shape = ours.clone();
                shape.reverse();
                Tensor::<D>::from_data(TensorData::new(values, shape), &device).transpose()
            } else {
                Tensor::<D>::from_data(TensorData::new(values, ours), &device)
            };
            if grad { new.require_grad() } else { new }
        })
    }
}

/// Loads a PyTorch `state_dict` file (safetensors) into `model`, which must follow a PyTorch
/// reference implementation. Every tensor must fit: otherwise the error lists the missing,
/// unexpected and mismatched tensors and `model` is unchanged.
pub fn load_torch(model: &mut Network, path: &Path) -> Result<()> {
    let file = read_file(path)?;
    load_torch_skipping(model, path, &file, &[])
}

/// Like [`load_torch`], for starting a training run from another task's weights: when the
/// file's classifier has another class count than `model`, the classifier keeps its fresh
/// initialisation and the returned note says so (`None`: everything loaded).
pub fn load_torch_for_init(model: &mut Network, path: &Path) -> Result<Option<String>> {
    let file = read_file(path)?;
    let mut skip = Vec::new();
    let mut note = None;
    for p in [
        "head.Decoder.linear.weight",
        "head.Fc.fc3.weight",
        "head.Decoder.linear.bias",
        "head.Fc.fc3.bias",
    ] {
        let Some(key) = torch_key(model, p) else {
            continue;
        };
        let Some(ft) = file.get(&key.name) else {
            continue;
        };
        let ours = model.classes();
        // PyTorch layout: weight [classes, in], bias [classes].
        let theirs = ft.shape.first().copied().unwrap_or(0);
        if theirs != ours {
            if note.is_none() {
                note = Some(format!(
                    "{}: the classifier ({}) has {theirs} classes, this run {ours}: it is \
                     replaced by a freshly initialised one; every other tensor is loaded",
                    path.display(),
                    key.name
                        .trim_end_matches(".weight")
                        .trim_end_matches(".bias")
                ));
            }
            skip.push(key.name);
        }
    }
    load_torch_skipping(model, path, &file, &skip)?;
    Ok(note)
}

/// Loads the tensors `file` (read from `path`) into `model`, keeping `skip` as they are.
fn load_torch_skipping(
    model: &mut Network,
    path: &Path,
    file: &BTreeMap<String, FileTensor>,
    skip: &[String],
) -> Result<()> {
    if model.features.torch_classifier().is_none() {
        return Err(Error::Other(format!(
            "{}: model {} has no PyTorch names (its weights use Burn's paths)",
            path.display(),
            model.spec().name
        )));
    }
    let net = model.clone();
    let mut loader = Loader {
        net: &net,
        file,
        path: PathStack::default(),
        used: Vec::new(),
        missing: Vec::new(),
        mismatched: Vec::new(),
        skip,
    };
    let loaded = model.clone().map(&mut loader);
    let unexpected: Vec<&String> = file.keys().filter(|k| !loader.used.contains(k)).collect();
    if !loader.missing.is_empty() || !unexpected.is_empty() || !loader.mismatched.is_empty() {
        // At most 8 names per list: a file of another model can hold hundreds.
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else if v.len() > 8 {
                format!("{}, ... ({} more)", v[..8].join(", "), v.len() - 8)
            } else {
                v.join(", ")
            }
        };
        let unexpected: Vec<String> = unexpected.into_iter().cloned().collect();
        return Err(Error::format(
            path,
            "tensors",
            format!(
                "the state_dict of {} (PyTorch names), found weights of another model: {} of \
                 the model's tensors missing, {} unexpected tensors, {} mismatched shapes; \
                 missing: {}; unexpected: {}; mismatched shapes: {}",
                model.spec().name,
                loader.missing.len(),
                unexpected.len(),
                loader.mismatched.len(),
                list(&loader.missing),
                list(&unexpected),
                list(&loader.mismatched),
            ),
        ));
    }
    *model = loaded;
    Ok(())
}

/// Collects every parameter under its PyTorch name, in PyTorch layout.
struct Collector<'a> {
    net: &'a Network,
    path: PathStack,
    out: Vec<(String, Vec<usize>, Dtype, Vec<u8>)>,
}

impl ModuleVisitor for Collector<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.0.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.0.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let path = self.path.join();
        let Some(key) = torch_key(self.net, &path) else {
            return;
        };
        let t = param.val();
        let t = if key.transpose { t.transpose() } else { t };
        let shape = t.dims().to_vec();
        let values = t
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32 values");
        if key.name.ends_with("num_batches_tracked") && shape == [1] {
            let bytes = (values[0].round() as i64).to_le_bytes().to_vec();
            self.out.push((key.name, vec![], Dtype::I64, bytes));
        } else {
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            self.out.push((key.name, shape, Dtype::F32, bytes));
        }
    }
}

/// The model's `state_dict` under PyTorch names as safetensors bytes, with `meta` as the
/// file's metadata.
pub fn torch_bytes(model: &Network, meta: &[(String, String)]) -> Result<Vec<u8>> {
    let mut c = Collector {
        net: model,
        path: PathStack::default(),
        out: Vec::new(),
    };
    model.visit(&mut c);
    let views: Vec<(String, TensorView)> = c
        .out
        .iter()
        .map(|(n, s, d, b)| {
            TensorView::new(*d, s.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(|e| Error::Other(format!("{n}: {e}")))
        })
        .collect::<Result<_>>()?;
    let meta: HashMap<String, String> = meta.iter().cloned().collect();
    safetensors::serialize(views, Some(meta)).map_err(|e| Error::Other(e.to_string()))
}

/// Writes the model's `state_dict` under PyTorch names to `path` (atomically; the header's
/// keys sorted, so the same model and metadata always give the same bytes).
pub fn save_torch(model: &Network, path: &Path, meta: &[(String, String)]) -> Result<()> {
    let bytes = crate::train::export::canonical_header(torch_bytes(model, meta)?);
    crate::fsutil::write_atomic(path, &bytes)
}

/// The class count of the classifier stored in the weights file at `path`, for a network
/// shaped like `net` (its PyTorch names, or Burn's paths in older brainlike files); `None`
/// when the file holds no classifier this model would read.
pub fn file_classes(net: &Network, path: &Path) -> Result<Option<usize>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| Error::format(path, "header", format!("a safetensors file ({e})")))?;
    let tensors = meta.tensors();
    for p in ["head.Decoder.linear.weight", "head.Fc.fc3.weight"] {
        let names = [torch_key(net, p).map(|k| k.name), Some(p.to_string())];
        for name in names.into_iter().flatten() {
            if let Some(info) = tensors.get(&name) {
                // PyTorch layout `[classes, in]` (brainlike files transposed likewise).
                return Ok(info.shape.first().copied());
            }
        }
    }
    Ok(None)
}
