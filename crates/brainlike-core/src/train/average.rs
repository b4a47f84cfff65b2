//! Weight averaging (Riedel 2022, Table 1 "WA"; Izmailov et al. 2018): the uniform mean of
//! several networks of one architecture, parameter by parameter, and the models of a run's
//! checkpoints to average.
//!
//! Every float parameter and buffer is averaged, BatchNorm running statistics included (their
//! mean is what averaged weights are evaluated with until the statistics are recomputed on
//! training data, which this module does not do yet: for models with batch statistics,
//! recompute them before trusting an evaluation; CORnet-Z and VGG-16 have none).

use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Bytes, Tensor, TensorData};
use burn_store::{BurnpackStore, ModuleSnapshot};

use super::checkpoint;
use crate::error::{Error, Result};
use crate::models::Network;

/// Collects every float parameter's values, in visiting order.
struct Collect(Vec<(Vec<usize>, Vec<f64>)>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let v = t
            .into_data()
            .convert::<f64>()
            .try_into_vec::<f64>()
            .expect("float values");
        self.0.push((shape, v));
    }
}

/// Replaces every float parameter, in visiting order, by the given values.
struct Replace {
    values: std::vec::IntoIter<(Vec<usize>, Vec<f64>)>,
}

impl ModuleMapper for Replace {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (shape, v) = self.values.next().expect("one value per parameter");
        param.map(|t| {
            let device = t.device();
            let grad = t.is_require_grad();
            let data = TensorData::new(
                v.iter().map(|&x| x as f32).collect::<Vec<f32>>(),
                shape.clone(),
            );
            let new = Tensor::<D>::from_data(data, &device);
            if grad { new.require_grad() } else { new }
        })
    }
}

fn params(net: &Network) -> Vec<(Vec<usize>, Vec<f64>)> {
    let mut c = Collect(Vec::new());
    net.visit(&mut c);
    c.0
}

/// The parameter-wise mean of `nets` (same architecture), accumulated in f64 and rounded to
/// f32 once. Errors when the networks' parameters differ in number or shape.
pub fn average(nets: &[Network]) -> Result<Network> {
    let Some(first) = nets.first() else {
        return Err(Error::Other("averaging needs at least one network".into()));
    };
    let mut sum = params(first);
    for (k, net) in nets.iter().enumerate().skip(1) {
        let p = params(net);
        if p.len() != sum.len() || p.iter().zip(&sum).any(|(a, b)| a.0 != b.0) {
            return Err(Error::Other(format!(
                "network {k} has other parameters than network 0: not the same architecture"
            )));
        }
        for ((_, acc), (_, v)) in sum.iter_mut().zip(p) {
            for (a, x) in acc.iter_mut().zip(v) {
                *a += x;
            }
        }
    }
    let n = nets.len() as f64;
    for (_, acc) in &mut sum {
        for a in acc.iter_mut() {
            *a /= n;
        }
    }
    Ok(first.clone().map(&mut Replace {
        values: sum.into_iter(),
    }))
}

/// The model of the checkpoint after `epoch` of the run in `run_dir`, loaded into `template`
/// (checked against the checkpoint's SHA-256). The error lists the epochs that have
/// checkpoints when `epoch` has none.
pub fn checkpoint_model(run_dir: &Path, epoch: usize, template: Network) -> Result<Network> {
    let all = checkpoint::list(run_dir);
    let Some((_, dir)) = all.iter().find(|(e, _)| *e == epoch) else {
        return Err(Error::Missing(format!(
            "{}: no checkpoint of epoch {epoch} (there are: {}); keep them all with \
             checkpoint.keep = 0",
            run_dir.display(),
            all.iter()
                .map(|(e, _)| e.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    checkpoint::verify(dir)?;
    let path = dir.join(checkpoint::MODEL_FILE);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes)));
    let mut model = template;
    model
        .load_from(&mut store)
        .map_err(|e| Error::format(&path, "whole file", format!("weights of this model ({e})")))?;
    Ok(model)
}
