//! Teacher construction: cosine-distance RDMs of V1 firing rates and the paper's
//! control teachers (paper §2.2 "Representational Similarity Matrices", §2.5 "Control
//! Experiments with Randomly Generated RSMs", §3.3, appendix A.3).
//!
//! * **RDM.** For one session with responses `X` (stimuli × neurons), the distance of
//!   stimuli `i` and `j` is `1 − cos(x_i, x_j)`, computed from the Gram matrix
//!   `G = X Xᵀ` as `1 − G_ij / √(G_ii G_jj)`, by `brainlike_metrics`' cosine RDM (the
//!   one used to score models too). A stimulus whose population vector is all
//!   zeros has no direction: its distance to every other stimulus is defined as 1
//!   (orthogonal). Session RDMs are averaged entry-wise ([`mean_rdm`]); the paper
//!   averages the similarity matrices, which is the same thing since distance =
//!   1 − similarity.
//! * **Missing values.** In a `.npy` of sessions × stimuli × neurons, sessions with
//!   fewer neurons may be padded with NaN: neuron columns that are NaN for every
//!   stimulus are dropped; a stimulus whose row is all NaN was not shown in that session
//!   and its RDM entries are NaN, skipped by [`mean_rdm`]. Any other NaN is an error.
//! * **V1 shuffled** ([`shuffle_per_neuron`]): independently for every neuron, a
//!   uniformly random permutation of which stimulus each response belongs to; each
//!   neuron's set of responses is kept exactly. Sessions are shuffled independently.
//! * **Gaussian (V1-stats)**: for every stimulus an i.i.d. 39-dimensional vector with
//!   entries ~ N(μ = 0.495, σ = 0.582); **Gaussian (non V1-stats)**: μ = 5, σ = 0.582
//!   ([`gaussian_responses`]).
//! * **Pair files** ([`write_pairs_tsv`]): TSV with header
//!   `image_a\timage_b\tcosine_distance`, 0-based stimulus indices with `a < b`, one
//!   row per pair, in increasing `(a, b)` order; all pairs or `n` pairs sampled without
//!   replacement ([`select_pairs`]); written to a temporary file in the same folder and
//!   renamed into place.
//!
//! Randomness is ChaCha8 seeded from the caller's `u64` seed.

use crate::error::{Result, StatsError};
use crate::matrix::Matrix;
use brainlike_metrics::{RdmMethod, calc_rdm};
use ndarray::ArrayView2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::io::Write;
use std::path::Path;

/// Mean and standard deviation of a Gaussian control's entries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaussianStats {
    /// Mean μ.
    pub mu: f64,
    /// Standard deviation σ.
    pub sigma: f64,
}

/// "Gaussian (V1-stats)": μ = 0.495, σ = 0.582 (§2.5).
pub const V1_STATS: GaussianStats = GaussianStats {
    mu: 0.495,
    sigma: 0.582,
};

/// "Gaussian (non V1-stats)": μ = 5, σ = 0.582 (§2.5).
pub const NON_V1_STATS: GaussianStats = GaussianStats {
    mu: 5.0,
    sigma: 0.582,
};

/// Dimension of the Gaussian control vectors: the average number of simultaneously
/// recorded neurons (§2.5).
pub const GAUSSIAN_DIMS: usize = 39;

/// The teacher RDMs of the paper (Fig. 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TeacherKind {
    /// Monkey V1 firing rates.
    V1,
    /// V1 firing rates with stimulus identities permuted independently per neuron.
    V1Shuffled,
    /// Random Gaussian vectors with V1's mean and SD.
    GaussianV1Stats,
    /// Random Gaussian vectors with μ = 5.
    GaussianNonV1Stats,
}

impl TeacherKind {
    /// All kinds, in the paper's order.
    pub const ALL: [TeacherKind; 4] = [
        TeacherKind::V1,
        TeacherKind::V1Shuffled,
        TeacherKind::GaussianV1Stats,
        TeacherKind::GaussianNonV1Stats,
    ];

    /// File stem used in the data pack: `v1`, `v1_shuffled`, `gaussian_v1_stats`,
    /// `gaussian_non_v1_stats`.
    pub fn name(self) -> &'static str {
        match self {
            TeacherKind::V1 => "v1",
            TeacherKind::V1Shuffled => "v1_shuffled",
            TeacherKind::GaussianV1Stats => "gaussian_v1_stats",
            TeacherKind::GaussianNonV1Stats => "gaussian_non_v1_stats",
        }
    }

    /// Parse a [`TeacherKind::name`].
    pub fn from_name(name: &str) -> Option<TeacherKind> {
        TeacherKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The paper's label ("V1", "V1 shuffled", "Gaussian (V1-stats)", ...).
    pub fn label(self) -> &'static str {
        match self {
            TeacherKind::V1 => "V1",
            TeacherKind::V1Shuffled => "V1 shuffled",
            TeacherKind::GaussianV1Stats => "Gaussian (V1-stats)",
            TeacherKind::GaussianNonV1Stats => "Gaussian (non V1-stats)",
        }
    }
}

/// Read firing rates from a `.npy` file: a 2-D array (stimuli × neurons) is one
/// session, a 3-D array (sessions × stimuli × neurons) several. Accepted dtypes:
/// f4, f8, i1–i8, u1–u8; C or Fortran order. Columns that are NaN for every stimulus
/// are dropped (padding), see the module documentation.
pub fn read_rates_npy(path: &Path) -> Result<Vec<Matrix>> {
    let arr = brainlike_metrics::io::read_npy_f64(path)?;
    let shape = arr.shape().to_vec();
    let values = arr.into_raw_vec_and_offset().0; // standard (C) layout
    let (sessions, stimuli, neurons) = match shape.as_slice() {
        [s, n] => (1, *s, *n),
        [k, s, n] => (*k, *s, *n),
        _ => {
            return Err(StatsError::parse(
                path,
                "header",
                "a 2-D (stimuli x neurons) or 3-D (sessions x stimuli x neurons) array",
                format!("shape {shape:?}"),
            ));
        }
    };
    // Element (k, i, j) of the logical array.
    let at = |k: usize, i: usize, j: usize| -> f64 { values[(k * stimuli + i) * neurons + j] };
    let mut out = Vec::with_capacity(sessions);
    for k in 0..sessions {
        let keep: Vec<usize> = (0..neurons)
            .filter(|&j| (0..stimuli).any(|i| !at(k, i, j).is_nan()))
            .collect();
        let mut data = Vec::with_capacity(stimuli * keep.len());
        for i in 0..stimuli {
            let row: Vec<f64> = keep.iter().map(|&j| at(k, i, j)).collect();
            let n_nan = row.iter().filter(|v| v.is_nan()).count();
            if n_nan > 0 && n_nan < row.len() {
                return Err(StatsError::parse(
                    path,
                    format!("session {k}, stimulus {i}"),
                    "finite firing rates (or a row that is all NaN: stimulus not shown)",
                    format!("{n_nan} NaN of {}", row.len()),
                ));
            }
            if row.iter().any(|v| v.is_infinite()) {
                return Err(StatsError::parse(
                    path,
                    format!("session {k}, stimulus {i}"),
                    "finite firing rates",
                    "an infinite value",
                ));
            }
            data.extend(row);
        }
        out.push(Matrix::new(stimuli, keep.len(), data)?);
    }
    Ok(out)
}

/// Cosine-distance RDM (stimuli × stimuli) of one session's responses (stimuli ×
/// neurons): `brainlike_metrics`' cosine RDM ([`RdmMethod::Cosine`], the workspace's one
/// implementation: an all-zero row is at distance 1 from every other stimulus), as a
/// square [`Matrix`]. Rows that are all NaN (stimulus not shown) give NaN entries,
/// their diagonal included.
pub fn cosine_distance_rdm(rates: &Matrix) -> Matrix {
    let (n, p) = (rates.rows(), rates.cols());
    let missing: Vec<bool> = (0..n)
        .map(|i| rates.row(i).iter().any(|v| v.is_nan()))
        .collect();
    let mut out = if n >= 2 && p >= 1 {
        let x = ArrayView2::from_shape((n, p), rates.as_slice()).expect("matrix shape");
        let rdm = calc_rdm(x, RdmMethod::Cosine).expect("n >= 2, p >= 1");
        Matrix::new(n, n, rdm.square().into_raw_vec_and_offset().0).expect("n x n")
    } else {
        // no neurons: every row is all zeros, orthogonal to every other
        let mut m = Matrix::zeros(n, n);
        for i in 0..n {
            for j in 0..n {
                m.set(i, j, if i == j { 0.0 } else { 1.0 });
            }
        }
        m
    };
    for i in (0..n).filter(|&i| missing[i]) {
        out.set(i, i, f64::NAN);
    }
    out
}

/// Entry-wise mean of RDMs over sessions, skipping NaN entries (a stimulus not shown in
/// a session); an entry NaN in every session stays NaN. Errors on differing shapes.
pub fn mean_rdm(rdms: &[Matrix]) -> Result<Matrix> {
    let first = rdms
        .first()
        .ok_or_else(|| StatsError::InvalidArgument("mean_rdm of no RDMs".into()))?;
    let (r, c) = (first.rows(), first.cols());
    if let Some((k, m)) = rdms
        .iter()
        .enumerate()
        .find(|(_, m)| m.rows() != r || m.cols() != c)
    {
        return Err(StatsError::InvalidArgument(format!(
            "RDM {k} is {} x {}, RDM 0 is {r} x {c}",
            m.rows(),
            m.cols()
        )));
    }
    let mut out = Matrix::zeros(r, c);
    for (idx, slot) in out.as_mut_slice().iter_mut().enumerate() {
        let (mut sum, mut count) = (0.0, 0usize);
        for m in rdms {
            let v = m.as_slice()[idx];
            if !v.is_nan() {
                sum += v;
                count += 1;
            }
        }
        *slot = if count == 0 {
            f64::NAN
        } else {
            sum / count as f64
        };
    }
    Ok(out)
}

/// "V1 shuffled": for every neuron (column) independently, permute which stimulus
/// (row) each response belongs to. Each column keeps exactly its multiset of values.
pub fn shuffle_per_neuron(rates: &Matrix, rng: &mut impl rand::Rng) -> Matrix {
    let (n, m) = (rates.rows(), rates.cols());
    let mut out = rates.clone();
    let mut perm: Vec<usize> = (0..n).collect();
    for j in 0..m {
        perm.shuffle(rng);
        for (i, &src) in perm.iter().enumerate() {
            out.set(i, j, rates.get(src, j));
        }
    }
    out
}

/// Random control responses: for every stimulus an i.i.d. vector of `dims` entries
/// ~ N(μ, σ²), seeded.
pub fn gaussian_responses(
    n_stimuli: usize,
    dims: usize,
    stats: GaussianStats,
    seed: u64,
) -> Result<Matrix> {
    let normal = Normal::new(stats.mu, stats.sigma).map_err(|e| {
        StatsError::InvalidArgument(format!("N({}, {}): {e}", stats.mu, stats.sigma))
    })?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = (0..n_stimuli * dims)
        .map(|_| normal.sample(&mut rng))
        .collect();
    Matrix::new(n_stimuli, dims, data)
}

/// The teacher RDM of `kind`. `sessions` (stimuli × neurons each) are needed for
/// [`TeacherKind::V1`] and [`TeacherKind::V1Shuffled`]; the Gaussian controls use
/// `n_stimuli` and ignore them. Deterministic for `seed`.
pub fn teacher_rdm(
    kind: TeacherKind,
    sessions: &[Matrix],
    n_stimuli: usize,
    seed: u64,
) -> Result<Matrix> {
    let need_sessions = || {
        if sessions.is_empty() {
            Err(StatsError::InvalidArgument(format!(
                "teacher {} needs firing rates",
                kind.name()
            )))
        } else {
            Ok(())
        }
    };
    match kind {
        TeacherKind::V1 => {
            need_sessions()?;
            let rdms: Vec<Matrix> = sessions.iter().map(cosine_distance_rdm).collect();
            mean_rdm(&rdms)
        }
        TeacherKind::V1Shuffled => {
            need_sessions()?;
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let rdms: Vec<Matrix> = sessions
                .iter()
                .map(|s| cosine_distance_rdm(&shuffle_per_neuron(s, &mut rng)))
                .collect();
            mean_rdm(&rdms)
        }
        TeacherKind::GaussianV1Stats => Ok(cosine_distance_rdm(&gaussian_responses(
            n_stimuli,
            GAUSSIAN_DIMS,
            V1_STATS,
            seed,
        )?)),
        TeacherKind::GaussianNonV1Stats => Ok(cosine_distance_rdm(&gaussian_responses(
            n_stimuli,
            GAUSSIAN_DIMS,
            NON_V1_STATS,
            seed,
        )?)),
    }
}

/// Which stimulus pairs to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairSelection {
    /// Every pair `a < b`.
    All,
    /// `n` distinct pairs sampled uniformly without replacement, seeded.
    Sample {
        /// Number of pairs.
        n: usize,
        /// Seed of the sampler.
        seed: u64,
    },
}

/// Offset of row `a` in the row-major enumeration of pairs `a < b`.
fn pair_offset(n: usize, a: usize) -> usize {
    a * n - a * (a + 1) / 2
}

/// The pair with linear index `l` in the row-major enumeration of pairs `a < b`.
fn pair_from_index(n: usize, l: usize) -> (usize, usize) {
    // Largest a with pair_offset(n, a) <= l.
    let (mut lo, mut hi) = (0usize, n - 1);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if pair_offset(n, mid) <= l {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let a = if pair_offset(n, hi) <= l { hi } else { lo };
    (a, a + 1 + (l - pair_offset(n, a)))
}

/// The stimulus pairs `(a, b)`, `a < b < n_stimuli`, selected by `selection`, sorted.
/// Errors when more pairs are requested than exist.
pub fn select_pairs(n_stimuli: usize, selection: PairSelection) -> Result<Vec<(usize, usize)>> {
    let total = n_stimuli * n_stimuli.saturating_sub(1) / 2;
    match selection {
        PairSelection::All => Ok((0..n_stimuli)
            .flat_map(|a| (a + 1..n_stimuli).map(move |b| (a, b)))
            .collect()),
        PairSelection::Sample { n, seed } => {
            if n > total {
                return Err(StatsError::InvalidArgument(format!(
                    "{n} pairs requested, only {total} exist for {n_stimuli} stimuli"
                )));
            }
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut idx = rand::seq::index::sample(&mut rng, total, n).into_vec();
            idx.sort_unstable();
            Ok(idx
                .into_iter()
                .map(|l| pair_from_index(n_stimuli, l))
                .collect())
        }
    }
}

/// Write `pairs` of `rdm` as a pair TSV (`image_a\timage_b\tcosine_distance`),
/// atomically (temporary file in the same folder, then rename). Errors when a pair is
/// out of range, not `a < b`, repeated, or its distance is not finite.
pub fn write_pairs_tsv(path: &Path, rdm: &Matrix, pairs: &[(usize, usize)]) -> Result<()> {
    let n = rdm.rows();
    let mut seen = std::collections::HashSet::with_capacity(pairs.len());
    for (k, &(a, b)) in pairs.iter().enumerate() {
        if !(a < b && b < n) {
            return Err(StatsError::InvalidArgument(format!(
                "pair {k} = ({a}, {b}) is not a < b < {n}"
            )));
        }
        if !seen.insert((a, b)) {
            return Err(StatsError::InvalidArgument(format!(
                "pair {k} = ({a}, {b}) is repeated"
            )));
        }
        if !rdm.get(a, b).is_finite() {
            return Err(StatsError::InvalidArgument(format!(
                "pair {k} = ({a}, {b}) has no finite distance (stimulus never shown?)"
            )));
        }
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| StatsError::io(dir, "creating temporary file", e))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file());
        let io = |e| StatsError::io(tmp.path(), "writing", e);
        writeln!(w, "image_a\timage_b\tcosine_distance").map_err(io)?;
        for &(a, b) in pairs {
            writeln!(w, "{a}\t{b}\t{}", rdm.get(a, b)).map_err(io)?;
        }
        w.flush().map_err(io)?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| StatsError::io(tmp.path(), "syncing", e))?;
    tmp.persist(path)
        .map_err(|e| StatsError::io(path, "renaming into place", e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_index_roundtrip() {
        for n in [2usize, 3, 7, 20] {
            let all = select_pairs(n, PairSelection::All).unwrap();
            for (l, &p) in all.iter().enumerate() {
                assert_eq!(pair_from_index(n, l), p);
            }
        }
    }

    #[test]
    fn rdm_known_values() {
        let x = Matrix::from_rows(&[
            vec![1.0, 0.0],
            vec![0.0, 2.0],
            vec![1.0, 1.0],
            vec![0.0, 0.0],
        ])
        .unwrap();
        let d = cosine_distance_rdm(&x);
        assert!((d.get(0, 1) - 1.0).abs() < 1e-12);
        assert!((d.get(0, 2) - (1.0 - 1.0 / 2f64.sqrt())).abs() < 1e-12);
        assert_eq!(d.get(2, 2), 0.0);
        assert_eq!(d.get(3, 0), 1.0);
        assert_eq!(d.get(1, 2), d.get(2, 1));
    }
}
