//! Neural data files.
//!
//! * responses: `.npy`, float32 or float64, shape `stimuli x neurons x
//!   repetitions` (a 2-D `stimuli x neurons` array is read as one repetition;
//!   missing repetitions may be NaN), C or Fortran order;
//! * stimulus list: text, one stimulus id per line (blank lines ignored), in
//!   the row order of the `.npy`;
//! * optional stratification labels: text, one label per line, same order.

use crate::ceiling::mean_over_repetitions;
use crate::error::{Error, Result};
use ndarray::{Array2, Array3, ArrayD, IxDyn, ShapeBuilder};
use npyz::{DType, NpyFile, Order, TypeChar};
use std::path::Path;

/// Read a float32/float64 `.npy` of any rank as f64.
pub fn read_npy_f64(path: impl AsRef<Path>) -> Result<ArrayD<f64>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let npy = NpyFile::new(&bytes[..])
        .map_err(|e| Error::format(path, "a .npy file", format!("unreadable header ({e})")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let order = npy.order();
    let size = match npy.dtype() {
        DType::Plain(ts) if ts.type_char() == TypeChar::Float => ts.size_field(),
        other => {
            return Err(Error::format(
                path,
                "dtype float32 or float64",
                other.descr().to_string(),
            ));
        }
    };
    let data: Vec<f64> = match size {
        4 => npy
            .into_vec::<f32>()
            .map_err(|e| Error::format(path, "float32 data", e.to_string()))?
            .into_iter()
            .map(f64::from)
            .collect(),
        8 => npy
            .into_vec::<f64>()
            .map_err(|e| Error::format(path, "float64 data", e.to_string()))?,
        s => {
            return Err(Error::format(
                path,
                "dtype float32 or float64",
                format!("float of {s} bytes"),
            ));
        }
    };
    let dim = IxDyn(&shape);
    let arr = match order {
        Order::C => ArrayD::from_shape_vec(dim, data),
        Order::Fortran => ArrayD::from_shape_vec(dim.f(), data),
    }
    .map_err(|e| Error::format(path, "data matching the header shape", e.to_string()))?;
    Ok(arr.as_standard_layout().into_owned())
}

/// Read neural responses `stimuli x neurons x repetitions` (2-D: one repetition).
pub fn read_neural_npy(path: impl AsRef<Path>) -> Result<Array3<f64>> {
    let path = path.as_ref();
    let a = read_npy_f64(path)?;
    let shape = a.shape().to_vec();
    let a = match shape.len() {
        2 => a.into_shape_with_order(IxDyn(&[shape[0], shape[1], 1])),
        3 => Ok(a),
        _ => {
            return Err(Error::format(
                path,
                "a 3-D array stimuli x neurons x repetitions (or 2-D stimuli x neurons)",
                format!("shape {shape:?}"),
            ));
        }
    };
    a.and_then(|a| a.into_dimensionality())
        .map_err(|e| Error::format(path, "a 3-D array", e.to_string()))
}

/// Read a text file with one id per line (blank lines skipped, whitespace trimmed).
pub fn read_id_list(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// Neural recordings with their stimulus ids and optional strata.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuralData {
    /// Responses, stimuli x neurons x repetitions.
    pub responses: Array3<f64>,
    /// Stimulus id of each row.
    pub stimulus_ids: Vec<String>,
    /// Optional stratification label of each stimulus (e.g. object category).
    pub strata: Option<Vec<String>>,
}

impl NeuralData {
    /// Load responses (`.npy`), stimulus list and optional strata file; checks
    /// that the counts agree and names the offending file otherwise.
    pub fn load(
        responses: impl AsRef<Path>,
        stimuli: impl AsRef<Path>,
        strata: Option<&Path>,
    ) -> Result<Self> {
        let r = read_neural_npy(responses.as_ref())?;
        let n = r.dim().0;
        let ids = read_id_list(stimuli.as_ref())?;
        if ids.len() != n {
            return Err(Error::format(
                stimuli.as_ref(),
                format!(
                    "{n} stimulus ids (rows of {})",
                    responses.as_ref().display()
                ),
                format!("{} ids", ids.len()),
            ));
        }
        let strata = match strata {
            None => None,
            Some(p) => {
                let s = read_id_list(p)?;
                if s.len() != n {
                    return Err(Error::format(
                        p,
                        format!("{n} labels, one per stimulus"),
                        format!("{} labels", s.len()),
                    ));
                }
                Some(s)
            }
        };
        Ok(NeuralData {
            responses: r,
            stimulus_ids: ids,
            strata,
        })
    }

    /// Repetition-averaged responses (stimuli x neurons), NaNs skipped.
    pub fn mean_responses(&self) -> Array2<f64> {
        let r: Vec<usize> = (0..self.responses.dim().2).collect();
        mean_over_repetitions(self.responses.view(), &r)
    }
}
