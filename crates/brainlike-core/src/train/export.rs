//! Final weights as safetensors that PyTorch loads: Burn's `[in, out]` linear weights are
//! transposed to PyTorch's `[out, in]` (BurnToPyTorchAdapter); names are the module paths
//! (`features.v1.conv.conv.weight`, `head.fc1.weight`, ...).

use std::path::Path;

use burn_store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::models::Network;

/// The metadata written with a run's weights: the model, its preprocessing (what a PyTorch
/// user must apply to images: `(x/255 − mean) / std` per channel at `input_size`), the
/// data it was trained on (`data_source`: the resolved data set), the producer.
pub fn metadata(
    cfg: &crate::TrainConfig,
    pre: &crate::data::batch::Preprocess,
    data_source: &str,
) -> Vec<(String, String)> {
    vec![
        ("model".into(), cfg.model.arch.name().into()),
        (
            "head".into(),
            format!("{:?}", cfg.model.head).to_lowercase(),
        ),
        (
            "preprocessing".into(),
            serde_json::to_string(pre).expect("preprocessing serialises"),
        ),
        ("data_source".into(), data_source.into()),
        (
            "eval_input_size".into(),
            match cfg.data.test_input_size {
                0 => cfg.data.input_size,
                s => s,
            }
            .to_string(),
        ),
        ("eval_crop_fraction".into(), cfg.data.test_crop.to_string()),
        ("producer".into(), "brainlike".into()),
    ]
}

/// Writes `model`'s parameters to `path` (atomically) with `meta` in the file's metadata.
///
/// Models that follow a PyTorch reference implementation (ResNet-50, EfficientNet-B1) are
/// written under the reference's `state_dict` names instead ([`crate::models::weights`]).
pub fn save_safetensors(model: &Network, path: &Path, meta: &[(String, String)]) -> Result<()> {
    if model.features.torch_classifier().is_some() {
        return crate::models::weights::save_torch(model, path, meta);
    }
    let mut store = SafetensorsStore::from_bytes(None).with_to_adapter(BurnToPyTorchAdapter);
    for (k, v) in meta {
        store = store.metadata(k, v);
    }
    model
        .save_into(&mut store)
        .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    write_atomic(path, &canonical_header(bytes.to_vec()))
}

/// The same safetensors file with its JSON header's keys in sorted order (burn-store keeps its
/// metadata in a hash map, so two identical runs wrote files that differed by SHA-256). Only the
/// header is rewritten, padded with spaces to its old length, so the tensor offsets still hold.
pub fn canonical_header(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.len() < 8 {
        return bytes;
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let Some(raw) = bytes.get(8..8 + n) else {
        return bytes;
    };
    // serde_json's map is ordered by key: parsing and writing back sorts every object.
    let Ok(header) = serde_json::from_slice::<serde_json::Value>(raw) else {
        return bytes;
    };
    let Ok(mut text) = serde_json::to_vec(&header) else {
        return bytes;
    };
    if text.len() > n {
        return bytes;
    }
    text.resize(n, b' ');
    bytes[8..8 + n].copy_from_slice(&text);
    bytes
}

/// Reads weights written by [`save_safetensors`] (or by PyTorch with the same names) into
/// `model`. Models that follow a PyTorch reference implementation read the reference's
/// `state_dict` names (`safetensors.torch.save_file(model.state_dict(), FILE)`).
pub fn load_safetensors(model: &mut Network, path: &Path) -> Result<()> {
    if model.features.torch_classifier().is_some() && !burn_paths(path) {
        return crate::models::weights::load_torch(model, path);
    }
    use burn_store::PyTorchToBurnAdapter;
    if !path.is_file() {
        return Err(Error::Missing(format!(
            "{}: no such weights file",
            path.display()
        )));
    }
    let mut store = SafetensorsStore::from_file(path)
        .with_from_adapter(PyTorchToBurnAdapter)
        .allow_partial(true);
    let r = model.load_from(&mut store).map_err(|e| {
        // Burn's own message lists every tensor; its first line says what went wrong.
        let e = e.to_string();
        let first = e.lines().next().unwrap_or_default();
        Error::format(
            path,
            "tensors",
            format!("the parameters of this model ({first})"),
        )
    })?;
    if r.missing.is_empty() && r.unused.is_empty() && r.errors.is_empty() {
        return Ok(());
    }
    let first = |names: Vec<String>| {
        let mut s = names.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        if names.len() > 3 {
            s.push_str(", ...");
        }
        s
    };
    let mut parts = Vec::new();
    if !r.missing.is_empty() {
        let n = r.missing.len();
        let names = r.missing.into_iter().map(|(p, _)| p).collect();
        parts.push(format!(
            "{n} of the model's tensors missing ({})",
            first(names)
        ));
    }
    if !r.unused.is_empty() {
        let n = r.unused.len();
        parts.push(format!("{n} unexpected tensors ({})", first(r.unused)));
    }
    if !r.errors.is_empty() {
        let n = r.errors.len();
        let errs = r.errors.iter().map(|e| e.to_string()).collect();
        parts.push(format!("{n} mismatched ({})", first(errs)));
    }
    Err(Error::format(
        path,
        "tensors",
        format!(
            "weights of another model than this run's config.toml describes: {}",
            parts.join("; ")
        ),
    ))
}

/// Loads starting weights for a training run (`brainlike train --init FILE`): as
/// [`load_safetensors`], except that a classifier with another class count than the model's
/// keeps its fresh initialisation; the returned note says so.
pub fn load_init(model: &mut Network, path: &Path) -> Result<Option<String>> {
    if model.features.torch_classifier().is_some() && !burn_paths(path) {
        return crate::models::weights::load_torch_for_init(model, path);
    }
    load_safetensors(model, path).map(|()| None)
}

/// Whether the file at `path` names its tensors by Burn module paths (`features.CornetZ.v1...`:
/// CORnet-Z and VGG-16 weights written before they took PyTorch names), read from its header.
fn burn_paths(path: &Path) -> bool {
    // Only the header: 8 bytes of length, then the JSON naming every tensor.
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut len = [0u8; 8];
    if f.read_exact(&mut len).is_err() {
        return false;
    }
    let mut header = vec![0u8; (u64::from_le_bytes(len) as usize).min(100 << 20)];
    if f.read_exact(&mut header).is_err() {
        return false;
    }
    let Ok(serde_json::Value::Object(names)) = serde_json::from_slice(&header) else {
        return false;
    };
    names.keys().any(|k| {
        k.strip_prefix("features.")
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c.is_ascii_uppercase())
    })
}

/// A finished run: its resolved configuration and trained model on `device`.
pub fn load_run(
    run_dir: &Path,
    device: &burn::tensor::Device,
) -> Result<(crate::TrainConfig, Network)> {
    let run_cfg = brainlike_run::RunDir::open(run_dir)?.config()?;
    let cfg: crate::TrainConfig = toml::from_str(run_cfg.text()).map_err(|e| Error::Config {
        origin: run_cfg.path().display().to_string(),
        msg: e.to_string(),
    })?;
    let mut model = Network::new(
        &cfg.model,
        cfg.data.input_size,
        crate::data::cifar100::NUM_FINE,
        0,
        device,
    );
    load_safetensors(&mut model, &run_dir.join("weights.safetensors"))?;
    Ok((cfg, model))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelConfig;
    use burn::tensor::Device;

    #[test]
    fn two_saves_of_one_model_are_byte_identical_and_keep_their_metadata() {
        let device = Device::default();
        let net = Network::new(&ModelConfig::default(), 32, 10, 0, &device);
        let dir = tempfile::tempdir().unwrap();
        let meta: Vec<(String, String)> = (0..12)
            .map(|i| (format!("key{i}"), format!("value{i}")))
            .collect();
        let (a, b) = (
            dir.path().join("a.safetensors"),
            dir.path().join("b.safetensors"),
        );
        save_safetensors(&net, &a, &meta).unwrap();
        save_safetensors(&net, &b, &meta).unwrap();
        let (ba, bb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(ba, bb);
        let mut back = Network::new(&ModelConfig::default(), 32, 10, 0, &device);
        load_safetensors(&mut back, &a).unwrap();
        let n = u64::from_le_bytes(ba[..8].try_into().unwrap()) as usize;
        let h: serde_json::Value = serde_json::from_slice(&ba[8..8 + n]).unwrap();
        assert_eq!(h["__metadata__"]["key7"], "value7");
    }
}
