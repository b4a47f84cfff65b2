//! Pair-list comparison: a teacher given as a list of
//! `(image_a, image_b, distance)` pairs (e.g. the project's V1 teacher, cosine
//! distances over 956 stimuli) instead of a full RDM.
//!
//! File format read by [`PairList::read_csv`]: a CSV with a header and three
//! columns `image_a,image_b,distance`; images are either 0-based row indices
//! into the feature matrix or stimulus ids resolved through a given id list.

use super::compare::{CompareMethod, compare_vectors};
use crate::error::{Error, Result};
use crate::linalg::{Real, to_f64};
use ndarray::ArrayView2;
use std::collections::HashMap;
use std::path::Path;

/// A list of condition pairs with a teacher distance per pair.
#[derive(Debug, Clone, PartialEq)]
pub struct PairList {
    /// `(row_a, row_b)` indices into the feature matrix.
    pub pairs: Vec<(usize, usize)>,
    /// Teacher distance for each pair.
    pub distances: Vec<f64>,
}

impl PairList {
    /// Build from triples `(a, b, distance)`.
    pub fn from_triples(t: &[(usize, usize, f64)]) -> Self {
        PairList {
            pairs: t.iter().map(|&(a, b, _)| (a, b)).collect(),
            distances: t.iter().map(|&(_, _, d)| d).collect(),
        }
    }

    /// Read `image_a,image_b,distance` CSV (with header). With `ids`, image
    /// columns are looked up by stimulus id; without, parsed as 0-based indices.
    pub fn read_csv(path: impl AsRef<Path>, ids: Option<&[String]>) -> Result<Self> {
        let path = path.as_ref();
        let lookup: Option<HashMap<&str, usize>> = ids.map(|ids| {
            ids.iter()
                .enumerate()
                .map(|(i, s)| (s.as_str(), i))
                .collect()
        });
        let mut rdr = csv::Reader::from_path(path).map_err(|e| Error::Csv {
            path: path.into(),
            source: e,
        })?;
        let mut out = PairList {
            pairs: vec![],
            distances: vec![],
        };
        for (line, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| Error::Csv {
                path: path.into(),
                source: e,
            })?;
            if rec.len() < 3 {
                return Err(Error::format(
                    path,
                    "3 columns image_a,image_b,distance",
                    format!("{} columns on data line {}", rec.len(), line + 1),
                ));
            }
            let resolve = |s: &str| -> Result<usize> {
                let s = s.trim();
                match &lookup {
                    Some(m) => m.get(s).copied().ok_or_else(|| {
                        Error::format(path, "a stimulus id from the id list", format!("{s:?}"))
                    }),
                    None => s
                        .parse()
                        .map_err(|_| Error::format(path, "a 0-based row index", format!("{s:?}"))),
                }
            };
            let a = resolve(&rec[0])?;
            let b = resolve(&rec[1])?;
            let d: f64 = rec[2].trim().parse().map_err(|_| {
                Error::format(
                    path,
                    "a number in column distance",
                    format!("{:?}", &rec[2]),
                )
            })?;
            out.pairs.push((a, b));
            out.distances.push(d);
        }
        Ok(out)
    }
}

/// Cosine distance `1 − cos(x_a, x_b)` for each pair, from a feature matrix
/// (conditions x channels), as [`super::RdmMethod::Cosine`] (clamped to
/// `[0, 2]`; an all-zero row is at distance 1 from every other row). Rows are
/// normalised once, then one dot product per pair.
pub fn pair_cosine_distances<T: Real>(
    features: ArrayView2<'_, T>,
    pairs: &[(usize, usize)],
) -> Result<Vec<f64>> {
    let n = features.nrows();
    if let Some(&(a, b)) = pairs.iter().find(|&&(a, b)| a >= n || b >= n) {
        return Err(Error::Invalid(format!(
            "pair ({a}, {b}) out of range for {n} feature rows"
        )));
    }
    let mut x = to_f64(features);
    super::normalise_rows(&mut x, true);
    Ok(pairs
        .iter()
        .map(|&(a, b)| (1.0 - x.row(a).dot(&x.row(b))).clamp(0.0, 2.0))
        .collect())
}

/// Compare model distances on the teacher's pairs with the teacher's distances
/// (Spearman / Pearson / Kendall … over the pair list).
pub fn compare_pair_distances(
    model: &[f64],
    teacher: &PairList,
    method: CompareMethod,
) -> Result<f64> {
    compare_vectors(model, &teacher.distances, method)
}

/// Convenience: cosine distances of `features` on the teacher's pairs, compared
/// to the teacher's distances with `method`.
pub fn compare_features_to_pairs<T: Real>(
    features: ArrayView2<'_, T>,
    teacher: &PairList,
    method: CompareMethod,
) -> Result<f64> {
    let d = pair_cosine_distances(features, &teacher.pairs)?;
    compare_pair_distances(&d, teacher, method)
}
