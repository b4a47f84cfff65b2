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

pub mod bootstrap;
pub mod compare;
pub mod pairs;
pub mod whiten;

use crate::error::{Error, Result};
use crate::linalg::{Real, col_means, gram, to_f64};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Dissimilarity measure used to build an RDM.
///
/// Names (`name()`, `FromStr`) are the `brainlike rdm --method` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RdmMethod {
    /// `correlation`: `d(i,j) = 1 − r(x_i, x_j)`, `r` the Pearson
    /// correlation between the two stimulus patterns across units.
    /// Computed as: centre each row, scale it to unit norm, `1 − Xn Xnᵀ`.
    /// As rsatoolbox 0.3.2 `calc_rdm(method="correlation")`.
    /// Rows with zero variance give NaN entries (as rsatoolbox).
    Correlation,
    /// `cosine`: `d(i,j) = 1 − x_i·x_j / (‖x_i‖ ‖x_j‖)` (no centring), clamped
    /// to `[0, 2]` against round-off. Not a method of rsatoolbox 0.3.2's
    /// `calc_rdm`; it equals `scipy.spatial.distance.pdist(X, "cosine")` except
    /// for an all-zero row: it has no direction, and its distance to every
    /// other stimulus (another all-zero row included) is 1, orthogonal (scipy
    /// gives NaN). The workspace's one cosine RDM: the teacher builder
    /// (`brainlike_stats::teacher`) and the scorer both use it. A row holding a
    /// NaN gives NaN entries.
    Cosine,
    /// `euclidean`: plain Euclidean distance `d(i,j) = ‖x_i − x_j‖₂`
    /// (`scipy.spatial.distance.pdist(X, "euclidean")`).
    Euclidean,
    /// `sqeuclidean`: squared Euclidean distance `d(i,j) = ‖x_i − x_j‖²`
    /// (`scipy.spatial.distance.pdist(X, "sqeuclidean")`).
    SqEuclidean,
    /// `mean-sqeuclidean`: the squared Euclidean distance divided by the
    /// number of units, `d(i,j) = ‖x_i − x_j‖² / p`. This is what rsatoolbox
    /// 0.3.2 calls `"euclidean"` (`calc_rdm(method="euclidean")`; the name is
    /// misleading, rsatoolbox issue #179 "squared vs non-squared distances").
    SquaredEuclideanPerChannel,
}

impl RdmMethod {
    /// Every method, in the order `brainlike rdm --help` lists them.
    pub const ALL: [RdmMethod; 5] = [
        RdmMethod::Correlation,
        RdmMethod::Cosine,
        RdmMethod::Euclidean,
        RdmMethod::SqEuclidean,
        RdmMethod::SquaredEuclideanPerChannel,
    ];

    /// Name (`correlation`, `cosine`, `euclidean`, `sqeuclidean`, `mean-sqeuclidean`).
    pub fn name(&self) -> &'static str {
        match self {
            RdmMethod::Correlation => "correlation",
            RdmMethod::Cosine => "cosine",
            RdmMethod::Euclidean => "euclidean",
            RdmMethod::SqEuclidean => "sqeuclidean",
            RdmMethod::SquaredEuclideanPerChannel => "mean-sqeuclidean",
        }
    }
}

impl std::str::FromStr for RdmMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if let Some(m) = RdmMethod::ALL.into_iter().find(|m| m.name() == s) {
            return Ok(m);
        }
        Ok(match s {
            "plain_euclidean" => RdmMethod::Euclidean,
            "sq_euclidean" => RdmMethod::SqEuclidean,
            "sq_euclidean_per_channel" | "rsatoolbox_euclidean" => {
                RdmMethod::SquaredEuclideanPerChannel
            }
            other => {
                return Err(Error::Invalid(format!(
                    "unknown RDM method {other:?} (one of: {})",
                    RdmMethod::ALL.map(|m| m.name()).join(", ")
                )));
            }
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

/// The pair `(i, j)`, `i < j`, at position `k` of the condensed vector of an
/// `n`-condition RDM (inverse of [`condensed_index`]).
pub fn condensed_pair(n: usize, k: usize) -> (usize, usize) {
    let (mut i, mut k) = (0, k);
    while k >= n - 1 - i {
        k -= n - 1 - i;
        i += 1;
    }
    (i, i + 1 + k)
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

/// Scale each row to unit norm. Rows of zero norm become NaN (numpy's 0/0,
/// rsatoolbox's correlation RDM) or, with `zero_rows_orthogonal`, stay zero so
/// that their cosine with every row is 0 (the cosine convention, see
/// [`RdmMethod::Cosine`]). Rows holding a NaN stay NaN.
pub(crate) fn normalise_rows(x: &mut Array2<f64>, zero_rows_orthogonal: bool) {
    for mut row in x.axis_iter_mut(Axis(0)) {
        let nrm = row.dot(&row).sqrt();
        if nrm == 0.0 && zero_rows_orthogonal {
            continue;
        }
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
            let cosine = method == RdmMethod::Cosine;
            normalise_rows(&mut x, cosine);
            let g = gram(x.view());
            if cosine {
                triu_map(&g, |_, _, gij| (1.0 - gij).clamp(0.0, 2.0))
            } else {
                triu_map(&g, |_, _, gij| 1.0 - gij)
            }
        }
        RdmMethod::Euclidean | RdmMethod::SqEuclidean | RdmMethod::SquaredEuclideanPerChannel => {
            // distances are invariant to centring the columns; centring
            // reduces cancellation in s_i + s_j − 2 G_ij
            let cm = col_means(x.view());
            x -= &cm;
            let g = gram(x.view());
            let d: Vec<f64> = (0..n).map(|i| g[[i, i]]).collect();
            let sq = |i: usize, j: usize, gij: f64| (d[i] + d[j] - 2.0 * gij).max(0.0);
            let pf = p as f64;
            match method {
                RdmMethod::Euclidean => triu_map(&g, |i, j, gij| sq(i, j, gij).sqrt()),
                RdmMethod::SqEuclidean => triu_map(&g, sq),
                _ => triu_map(&g, |i, j, gij| sq(i, j, gij) / pf),
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
    fn cosine_zero_row_is_orthogonal_correlation_constant_row_is_nan() {
        let x = ndarray::arr2(&[[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [0.0, 0.0], [0.0, 0.0]]);
        let d = calc_rdm(x.view(), RdmMethod::Cosine).unwrap();
        assert_eq!(d.get(0, 1), 1.0);
        assert!((d.get(0, 2) - (1.0 - 0.5f64.sqrt())).abs() < 1e-15);
        for i in 0..3 {
            assert_eq!(d.get(i, 3), 1.0);
        }
        assert_eq!(d.get(3, 4), 1.0);
        let y = ndarray::arr2(&[[1.0, 2.0, 3.0], [2.0, 2.0, 2.0], [3.0, 1.0, 2.0]]);
        let c = calc_rdm(y.view(), RdmMethod::Correlation).unwrap();
        assert!(c.get(0, 1).is_nan() && !c.get(0, 2).is_nan());
    }

    #[test]
    fn condensed_order() {
        let n = 5;
        let mut k = 0;
        for i in 0..n {
            for j in i + 1..n {
                assert_eq!(condensed_index(n, i, j), k);
                assert_eq!(condensed_pair(n, k), (i, j));
                k += 1;
            }
        }
    }
}
