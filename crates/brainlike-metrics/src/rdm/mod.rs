//! Representational dissimilarity matrices (RDMs), as rsatoolbox 0.3.2
//! `rsatoolbox.rdm.calc_rdm` computes them, plus comparisons
//! ([`compare`]) and pair-list utilities ([`pairs`]).
//!
//! All methods work from one Gram matrix `G = X Xᵀ` of the (possibly
//! centred / normalised) feature matrix `X` (conditions x channels); no Rust
//! loop over condition pairs is used to build an RDM. Computation is in f64.
//!
//! The condensed vector is the upper triangle without diagonal in row-major
//! order (`(0,1), (0,2), …, (0,n-1), (1,2), …`), as rsatoolbox's
//! `_extract_triu_` / `RDMs.get_vectors()` and `scipy.spatial.distance.squareform`.

pub mod compare;
pub mod pairs;

use crate::error::{Error, Result};
use crate::linalg::{Real, col_means, gram, to_f64};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Dissimilarity measure used to build an RDM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RdmMethod {
    /// Correlation distance `d(i,j) = 1 − r(x_i, x_j)`, `r` the Pearson
    /// correlation between the two condition patterns across channels.
    /// Computed as: centre each row, scale it to unit norm, `1 − Xn Xnᵀ`.
    /// As rsatoolbox 0.3.2 `calc_rdm(method="correlation")`.
    /// Rows with zero variance give NaN entries (as rsatoolbox).
    Correlation,
    /// Cosine distance `d(i,j) = 1 − x_i·x_j / (‖x_i‖ ‖x_j‖)` (no centring).
    /// Not a method of rsatoolbox 0.3.2's `calc_rdm`; it equals
    /// `scipy.spatial.distance.pdist(X, "cosine")`. Zero rows give NaN.
    Cosine,
    /// Plain Euclidean distance `d(i,j) = ‖x_i − x_j‖₂`
    /// (`scipy.spatial.distance.pdist(X, "euclidean")`).
    Euclidean,
    /// rsatoolbox's `"euclidean"`: the **squared** Euclidean distance divided by
    /// the number of channels, `d(i,j) = ‖x_i − x_j‖² / p`.
    /// As rsatoolbox 0.3.2 `calc_rdm(method="euclidean")`
    /// (`(s_i + s_j − 2 G_ij) / p`; we clamp tiny negative round-off to 0).
    SquaredEuclideanPerChannel,
}

impl RdmMethod {
    /// Short name (`correlation`, `cosine`, `euclidean`, `sq_euclidean_per_channel`).
    pub fn name(&self) -> &'static str {
        match self {
            RdmMethod::Correlation => "correlation",
            RdmMethod::Cosine => "cosine",
            RdmMethod::Euclidean => "euclidean",
            RdmMethod::SquaredEuclideanPerChannel => "sq_euclidean_per_channel",
        }
    }
}

impl std::str::FromStr for RdmMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "correlation" => RdmMethod::Correlation,
            "cosine" => RdmMethod::Cosine,
            "euclidean" | "plain_euclidean" => RdmMethod::Euclidean,
            "sq_euclidean_per_channel" | "rsatoolbox_euclidean" => {
                RdmMethod::SquaredEuclideanPerChannel
            }
            other => return Err(Error::Invalid(format!("unknown RDM method {other:?}"))),
        })
    }
}

/// A representational dissimilarity matrix over `n` conditions, stored as the
/// condensed upper triangle (rsatoolbox order). Symmetric with zero diagonal
/// by construction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rdm {
    n: usize,
    condensed: Vec<f64>,
    /// The measure that produced it, if known.
    pub method: Option<RdmMethod>,
}

/// Index of pair `(i, j)`, `i < j`, in the condensed vector of an `n`-condition RDM.
#[inline]
pub fn condensed_index(n: usize, i: usize, j: usize) -> usize {
    debug_assert!(i < j && j < n);
    n * i - i * (i + 1) / 2 + (j - i - 1)
}

impl Rdm {
    /// Build from a condensed vector of length `n (n − 1) / 2`.
    pub fn from_condensed(n: usize, condensed: Vec<f64>) -> Result<Self> {
        let want = n * n.saturating_sub(1) / 2;
        if condensed.len() != want {
            return Err(Error::shape("condensed RDM length", want, condensed.len()));
        }
        Ok(Rdm {
            n,
            condensed,
            method: None,
        })
    }

    /// Build from a square matrix (upper triangle is used; must be square).
    pub fn from_square(m: ArrayView2<'_, f64>) -> Result<Self> {
        let n = m.nrows();
        if m.ncols() != n {
            return Err(Error::shape(
                "square RDM",
                format!("{n}x{n}"),
                format!("{n}x{}", m.ncols()),
            ));
        }
        let mut v = Vec::with_capacity(n * n.saturating_sub(1) / 2);
        for i in 0..n {
            for j in i + 1..n {
                v.push(m[[i, j]]);
            }
        }
        Rdm::from_condensed(n, v)
    }

    /// Number of conditions.
    pub fn n_conditions(&self) -> usize {
        self.n
    }

    /// The condensed upper-triangle vector.
    pub fn condensed(&self) -> &[f64] {
        &self.condensed
    }

    /// Dissimilarity between conditions `i` and `j` (0 when `i == j`).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        match i.cmp(&j) {
            std::cmp::Ordering::Equal => 0.0,
            std::cmp::Ordering::Less => self.condensed[condensed_index(self.n, i, j)],
            std::cmp::Ordering::Greater => self.condensed[condensed_index(self.n, j, i)],
        }
    }

    /// Square symmetric form with zero diagonal.
    pub fn square(&self) -> Array2<f64> {
        let n = self.n;
        let mut m = Array2::zeros((n, n));
        let mut k = 0;
        for i in 0..n {
            for j in i + 1..n {
                m[[i, j]] = self.condensed[k];
                m[[j, i]] = self.condensed[k];
                k += 1;
            }
        }
        m
    }

    /// RDM restricted to (and reordered by) the given conditions; pairs of a
    /// repeated condition with itself are NaN (rsatoolbox `subsample_pattern`,
    /// which sets the diagonal to NaN before indexing).
    pub fn subsample(&self, idx: &[usize]) -> Rdm {
        let m = idx.len();
        let mut v = Vec::with_capacity(m * m.saturating_sub(1) / 2);
        for a in 0..m {
            for b in a + 1..m {
                let (i, j) = (idx[a], idx[b]);
                v.push(if i == j { f64::NAN } else { self.get(i, j) });
            }
        }
        Rdm {
            n: m,
            condensed: v,
            method: self.method,
        }
    }
}

/// Upper triangle of a symmetric matrix in rsatoolbox order, mapped by `f`.
fn triu_map(g: &Array2<f64>, f: impl Fn(usize, usize, f64) -> f64) -> Vec<f64> {
    let n = g.nrows();
    let mut v = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        let row = g.row(i);
        for j in i + 1..n {
            v.push(f(i, j, row[j]));
        }
    }
    v
}

/// Scale each row to unit norm (rows of zero norm become NaN, as numpy's 0/0).
fn normalise_rows(x: &mut Array2<f64>) {
    for mut row in x.axis_iter_mut(Axis(0)) {
        let nrm = row.dot(&row).sqrt();
        row.mapv_inplace(|v| v / nrm);
    }
}

/// Compute an RDM from a feature matrix (conditions x channels, f32 or f64).
///
/// See [`RdmMethod`] for the formulas. One Gram matrix product is used.
pub fn calc_rdm<T: Real>(features: ArrayView2<'_, T>, method: RdmMethod) -> Result<Rdm> {
    let (n, p) = features.dim();
    if n < 2 || p == 0 {
        return Err(Error::Invalid(format!(
            "calc_rdm needs at least 2 conditions and 1 channel, got {n}x{p}"
        )));
    }
    let mut x = to_f64(features);
    let v = match method {
        RdmMethod::Correlation | RdmMethod::Cosine => {
            if method == RdmMethod::Correlation {
                let m: Array1<f64> = x.mean_axis(Axis(1)).expect("p > 0");
                x -= &m.insert_axis(Axis(1));
            }
            normalise_rows(&mut x);
            let g = gram(x.view());
            triu_map(&g, |_, _, gij| 1.0 - gij)
        }
        RdmMethod::Euclidean | RdmMethod::SquaredEuclideanPerChannel => {
            // distances are invariant to centring the columns; centring
            // reduces cancellation in s_i + s_j − 2 G_ij
            let cm = col_means(x.view());
            x -= &cm;
            let g = gram(x.view());
            let d: Vec<f64> = (0..n).map(|i| g[[i, i]]).collect();
            let pf = p as f64;
            if method == RdmMethod::Euclidean {
                triu_map(&g, |i, j, gij| (d[i] + d[j] - 2.0 * gij).max(0.0).sqrt())
            } else {
                triu_map(&g, |i, j, gij| (d[i] + d[j] - 2.0 * gij).max(0.0) / pf)
            }
        }
    };
    let mut rdm = Rdm::from_condensed(n, v)?;
    rdm.method = Some(method);
    Ok(rdm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condensed_order() {
        let n = 5;
        let mut k = 0;
        for i in 0..n {
            for j in i + 1..n {
                assert_eq!(condensed_index(n, i, j), k);
                k += 1;
            }
        }
    }
}
