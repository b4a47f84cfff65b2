//! Frozen parameter groups: parameters whose module path starts with one of the configured
//! prefixes (`features.CornetZ.v1`, as in the weights file) are not trained: their gradients are
//! dropped before the optimiser step, so neither the update nor weight decay nor momentum
//! touches them.

use std::collections::HashSet;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use crate::error::{Error, Result};
use crate::models::Network;

/// The parameters not to train.
#[derive(Debug, Clone, Default)]
pub struct Frozen {
    ids: Vec<(ParamId, usize)>,
    /// Paths of the frozen parameters (for logs and tests).
    pub paths: Vec<String>,
}

struct Collect<'a> {
    prefixes: &'a [String],
    path: Vec<String>,
    found: Vec<(ParamId, usize, String)>,
    seen: HashSet<usize>,
}

impl Collect<'_> {
    fn visit<const D: usize>(&mut self, id: ParamId) {
        let path = self.path.join(".");
        for (i, p) in self.prefixes.iter().enumerate() {
            if path == *p || path.starts_with(&format!("{p}.")) {
                self.seen.insert(i);
                self.found.push((id, D, path));
                return;
            }
        }
    }
}

impl ModuleVisitor for Collect<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.visit::<D>(param.id);
    }
}

impl Frozen {
    /// The parameters of `model` under any of `prefixes`; a prefix that matches nothing is an
    /// error naming it.
    pub fn new(model: &Network, prefixes: &[String]) -> Result<Self> {
        if prefixes.is_empty() {
            return Ok(Self::default());
        }
        let mut c = Collect {
            prefixes,
            path: Vec::new(),
            found: Vec::new(),
            seen: HashSet::new(),
        };
        model.visit(&mut c);
        for (i, p) in prefixes.iter().enumerate() {
            if !c.seen.contains(&i) {
                return Err(Error::Config {
                    origin: "optim.freeze".into(),
                    msg: format!(
                        "no parameter of this model lies under {p:?} (paths look like \"features.CornetZ.v1\", \"head\")"
                    ),
                });
            }
        }
        Ok(Self {
            ids: c.found.iter().map(|(id, d, _)| (*id, *d)).collect(),
            paths: c.found.into_iter().map(|(_, _, p)| p).collect(),
        })
    }

    /// Whether nothing is frozen.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Removes the frozen parameters' gradients.
    pub fn drop_gradients(&self, grads: &mut GradientsParams) {
        for &(id, d) in &self.ids {
            match d {
                1 => drop(grads.remove::<1>(id)),
                2 => drop(grads.remove::<2>(id)),
                3 => drop(grads.remove::<3>(id)),
                4 => drop(grads.remove::<4>(id)),
                _ => unreachable!("parameters have 1 to 4 dimensions"),
            }
        }
    }
}
