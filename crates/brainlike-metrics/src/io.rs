//! Neural data files.
//!
//! * responses: `.npy`, float32 or float64, shape `stimuli x neurons x
//!   repetitions` (a 2-D `stimuli x neurons` array is read as one repetition;
//!   missing repetitions may be NaN), C or Fortran order;
//! * stimulus list: text, one stimulus id per line (blank lines ignored), in
//!   the row order of the `.npy`;
//! * optional stratification labels: text, one label per line, same order;
//! * features: `.npy`, float32 or float64, `stimuli x units` (more dimensions are
//!   flattened after the first, C order), [`read_features_npy`];
//! * RDMs: `.npy`, a square `n x n` matrix (or its condensed upper triangle),
//!   [`read_rdm_npy`];
//! * cross-validation splits: text, [`read_splits`].
//!
//! The readers for scoring your own features ([`read_features_npy`],
//! [`read_rdm_npy`], [`read_neural_npy`]) reject NaN/inf values and fewer than
//! [`MIN_STIMULI`] stimuli, naming the file.

use crate::ceiling::mean_over_repetitions;
use crate::error::{Error, Result};
use crate::rdm::Rdm;
use ndarray::{Array2, Array3, ArrayD, Dimension, Ix2, IxDyn, ShapeBuilder};
use npyz::{DType, NpyFile, Order, TypeChar, WriterBuilder};
use std::path::Path;

/// Read a numeric `.npy` of any rank as f64 (standard layout): float32/float64,
/// and integers of 1–8 bytes (signed or unsigned; 64-bit values beyond 2⁵³ are
/// rounded); C or Fortran order. The workspace's one `.npy` reader.
pub fn read_npy_f64(path: impl AsRef<Path>) -> Result<ArrayD<f64>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let npy = NpyFile::new(&bytes[..])
        .map_err(|e| Error::format(path, "a .npy file", format!("unreadable header ({e})")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let order = npy.order();
    let descr = npy.dtype().descr();
    let ts = match npy.dtype() {
        DType::Plain(ts) => ts,
        _ => {
            return Err(Error::format(
                path,
                "a plain numeric dtype (f4, f8, i1-i8, u1-u8)",
                descr,
            ));
        }
    };
    let bad = |e: std::io::Error| Error::format(path, format!("{descr} data"), e.to_string());
    fn conv<T: Into<f64>>(v: Vec<T>) -> Vec<f64> {
        v.into_iter().map(Into::into).collect()
    }
    let data: Vec<f64> = match (ts.type_char(), ts.size_field()) {
        (TypeChar::Float, 8) => npy.into_vec::<f64>().map_err(bad)?,
        (TypeChar::Float, 4) => conv(npy.into_vec::<f32>().map_err(bad)?),
        (TypeChar::Int, 1) => conv(npy.into_vec::<i8>().map_err(bad)?),
        (TypeChar::Int, 2) => conv(npy.into_vec::<i16>().map_err(bad)?),
        (TypeChar::Int, 4) => conv(npy.into_vec::<i32>().map_err(bad)?),
        (TypeChar::Int, 8) => npy
            .into_vec::<i64>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        (TypeChar::Uint, 1) => conv(npy.into_vec::<u8>().map_err(bad)?),
        (TypeChar::Uint, 2) => conv(npy.into_vec::<u16>().map_err(bad)?),
        (TypeChar::Uint, 4) => conv(npy.into_vec::<u32>().map_err(bad)?),
        (TypeChar::Uint, 8) => npy
            .into_vec::<u64>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        _ => {
            return Err(Error::format(
                path,
                "dtype float32 or float64 (or an integer type)",
                descr,
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

/// Fewest stimuli the scoring readers accept (an RDM over 2 stimuli has one
/// entry; correlations need 3 points).
pub const MIN_STIMULI: usize = 3;

/// Error naming the file and the position of the first NaN/inf value.
fn ensure_finite(path: &Path, a: &ArrayD<f64>) -> Result<()> {
    if let Some((pos, v)) = a.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::format(
            path,
            "finite values",
            format!("{v} at index {:?}", pos.slice()),
        ));
    }
    Ok(())
}

fn ensure_stimuli(path: &Path, n: usize) -> Result<()> {
    if n < MIN_STIMULI {
        return Err(Error::format(
            path,
            format!("at least {MIN_STIMULI} stimuli (rows)"),
            format!("{n}"),
        ));
    }
    Ok(())
}

/// Read features `stimuli x units` (float32/float64; dimensions after the first
/// are flattened in C order). Rejects 0-/1-D arrays, zero units, NaN/inf and
/// fewer than [`MIN_STIMULI`] stimuli.
pub fn read_features_npy(path: impl AsRef<Path>) -> Result<Array2<f64>> {
    let path = path.as_ref();
    let a = read_npy_f64(path)?;
    let shape = a.shape().to_vec();
    if shape.len() < 2 {
        return Err(Error::format(
            path,
            "a 2-D (or higher) array stimuli x units",
            format!("shape {shape:?}"),
        ));
    }
    let (n, p) = (shape[0], shape[1..].iter().product::<usize>());
    if p == 0 {
        return Err(Error::format(
            path,
            "at least one unit",
            format!("shape {shape:?}"),
        ));
    }
    ensure_stimuli(path, n)?;
    ensure_finite(path, &a)?;
    a.into_shape_with_order(IxDyn(&[n, p]))
        .and_then(|a| a.into_dimensionality::<Ix2>())
        .map_err(|e| Error::format(path, "a stimuli x units array", e.to_string()))
}

/// Read an RDM: a square `n x n` matrix (the upper triangle above the diagonal
/// is used; the matrix must be symmetric and the diagonal is ignored) or a 1-D
/// condensed upper triangle of length `n (n − 1) / 2`. Rejects NaN/inf entries
/// and fewer than [`MIN_STIMULI`] stimuli.
pub fn read_rdm_npy(path: impl AsRef<Path>) -> Result<Rdm> {
    let path = path.as_ref();
    let a = read_npy_f64(path)?;
    let shape = a.shape().to_vec();
    let rdm = match shape.len() {
        1 => {
            let n = crate::rdm::compare::n_conditions_of(shape[0]).map_err(|_| {
                Error::format(
                    path,
                    "a square RDM or a condensed upper triangle of length n (n - 1) / 2",
                    format!("shape {shape:?}"),
                )
            })?;
            Rdm::from_condensed(n, a.iter().copied().collect())?
        }
        2 if shape[0] == shape[1] => {
            let m = a.into_dimensionality::<Ix2>().expect("2-D checked above");
            let n = shape[0];
            for i in 0..n {
                for j in i + 1..n {
                    let (x, y) = (m[[i, j]], m[[j, i]]);
                    if (x - y).abs() > 1e-9 * (1.0 + x.abs().max(y.abs())) {
                        return Err(Error::format(
                            path,
                            "a symmetric RDM",
                            format!("[{i}, {j}] = {x} but [{j}, {i}] = {y}"),
                        ));
                    }
                }
            }
            Rdm::from_square(m.view())?
        }
        _ => {
            return Err(Error::format(
                path,
                "a square n x n RDM (or a 1-D condensed upper triangle)",
                format!("shape {shape:?}"),
            ));
        }
    };
    ensure_stimuli(path, rdm.n_conditions())?;
    if let Some(k) = rdm.condensed().iter().position(|v| !v.is_finite()) {
        let (i, j) = crate::rdm::condensed_pair(rdm.n_conditions(), k);
        return Err(Error::format(
            path,
            "finite dissimilarities",
            format!("{} at [{i}, {j}]", rdm.condensed()[k]),
        ));
    }
    Ok(rdm)
}

/// Read cross-validation splits: one split per line, the 0-based indices of its
/// held-out (test) stimuli separated by spaces, tabs or commas; the training
/// stimuli are all the others. Blank lines and lines starting with `#` are
/// skipped. Every index must be below `n`, appear once per line, and leave at
/// least 2 test and 2 training stimuli.
pub fn read_splits(path: impl AsRef<Path>, n: usize) -> Result<Vec<Vec<usize>>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut splits = vec![];
    for (lineno, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |found: String| {
            Error::format(
                path,
                format!(
                    "held-out stimulus indices 0..{n} on line {}, each once, >= 2 held out and >= 2 left to train",
                    lineno + 1
                ),
                found,
            )
        };
        let mut test = vec![];
        for tok in line.split(|c: char| c == ',' || c.is_whitespace()) {
            if tok.is_empty() {
                continue;
            }
            let i: usize = tok.parse().map_err(|_| bad(format!("{tok:?}")))?;
            if i >= n {
                return Err(bad(format!("index {i}")));
            }
            test.push(i);
        }
        let mut sorted = test.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != test.len() {
            return Err(bad("a repeated index".into()));
        }
        if test.len() < 2 || n - test.len() < 2 {
            return Err(bad(format!("{} held out of {n}", test.len())));
        }
        splits.push(sorted);
    }
    if splits.is_empty() {
        return Err(Error::format(path, "at least one split line", "none"));
    }
    Ok(splits)
}

/// Read neural responses `stimuli x neurons x repetitions` (2-D: one
/// repetition) for scoring: as [`read_neural_npy`], and rejects NaN/inf values
/// and fewer than [`MIN_STIMULI`] stimuli.
pub fn read_neural_npy_checked(path: impl AsRef<Path>) -> Result<Array3<f64>> {
    let path = path.as_ref();
    let a = read_neural_npy(path)?;
    ensure_stimuli(path, a.dim().0)?;
    if a.dim().1 == 0 || a.dim().2 == 0 {
        return Err(Error::format(
            path,
            "at least one neuron and one repetition",
            format!("shape {:?}", a.shape()),
        ));
    }
    ensure_finite(path, &a.clone().into_dyn())?;
    Ok(a)
}

/// Write `data` (C order, `shape`) as a float64 `.npy`.
pub fn write_npy(path: impl AsRef<Path>, shape: &[u64], data: &[f64]) -> Result<()> {
    let path = path.as_ref();
    let want: u64 = shape.iter().product();
    if want != data.len() as u64 {
        return Err(Error::shape("npy data for the shape", want, data.len()));
    }
    let mut buf = vec![];
    {
        let mut w = npyz::WriteOptions::<f64>::new()
            .default_dtype()
            .writer(&mut buf)
            .shape(shape)
            .begin_nd()
            .map_err(|e| Error::io(path, e))?;
        w.extend(data.iter().copied())
            .map_err(|e| Error::io(path, e))?;
        w.finish().map_err(|e| Error::io(path, e))?;
    }
    std::fs::write(path, buf).map_err(|e| Error::io(path, e))
}

/// Write a float64 matrix as a C-order `.npy`.
pub fn write_npy_f64(path: impl AsRef<Path>, m: ndarray::ArrayView2<'_, f64>) -> Result<()> {
    let data: Vec<f64> = m.iter().copied().collect();
    write_npy(path, &[m.nrows() as u64, m.ncols() as u64], &data)
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
