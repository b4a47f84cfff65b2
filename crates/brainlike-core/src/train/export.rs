//! Final weights as safetensors that PyTorch loads: Burn's `[in, out]` linear weights are
//! transposed to PyTorch's `[out, in]` (BurnToPyTorchAdapter); names are the module paths
//! (`features.v1.conv.conv.weight`, `head.fc1.weight`, ...).

use std::path::Path;

use burn_store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::models::Network;

/// Writes `model`'s parameters to `path` (atomically).
pub fn save_safetensors(model: &Network, path: &Path) -> Result<()> {
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(BurnToPyTorchAdapter)
        .metadata("producer", "brainlike");
    model
        .save_into(&mut store)
        .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    write_atomic(path, &bytes)
}

/// Reads weights written by [`save_safetensors`] (or by PyTorch with the same names) into
/// `model`.
pub fn load_safetensors(model: &mut Network, path: &Path) -> Result<()> {
    use burn_store::PyTorchToBurnAdapter;
    if !path.is_file() {
        return Err(Error::Missing(format!(
            "{}: no such weights file",
            path.display()
        )));
    }
    let mut store = SafetensorsStore::from_file(path).with_from_adapter(PyTorchToBurnAdapter);
    model.load_from(&mut store).map_err(|e| {
        Error::format(
            path,
            "tensors",
            format!("the parameters of this model ({e})"),
        )
    })?;
    Ok(())
}

/// A finished run: its resolved configuration and trained model on `device`.
pub fn load_run(
    run_dir: &Path,
    device: &burn::tensor::Device,
) -> Result<(crate::TrainConfig, Network)> {
    let cfg_path = run_dir.join("config.toml");
    let text = std::fs::read_to_string(&cfg_path).map_err(|e| Error::io(&cfg_path, e))?;
    let cfg: crate::TrainConfig = toml::from_str(&text).map_err(|e| Error::Config {
        origin: cfg_path.display().to_string(),
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
