//! Class-balanced label corruption (paper §3.6, Fig. 6: "we shuffled labels of 10% to
//! 50% of the training dataset, keeping the distribution of classes equal").
//!
//! Exact method of [`corrupt_labels`] (seeded with ChaCha8 from `seed`):
//!
//! 1. **How many.** `k = round(p · N)` images are chosen.
//! 2. **Stratified choice.** Class `c` (with `n_c` images) contributes
//!    `floor(p · n_c)` images; the remaining `k − Σ floor(p · n_c)` images are given,
//!    one each, to the classes with the largest fractional parts `p · n_c − floor(p · n_c)`
//!    (ties broken in a seeded random order). Within a class the images are a uniformly
//!    random subset.
//! 3. **Shuffle.** The chosen images' labels are permuted uniformly at random
//!    (Fisher–Yates) among the chosen images. Because labels are only moved around
//!    within the chosen set, every class keeps exactly its count.
//! 4. **Repair of unchanged labels.** For every chosen image `i` whose label came back
//!    unchanged (in index order), the first chosen image `j` (scanning from a random
//!    offset) with `new[j] ≠ orig[i]` and `new[i] ≠ orig[j]` is found and the two new
//!    labels are swapped; the swap changes `i` and keeps `j` changed. Such a `j` exists
//!    whenever the largest class of the chosen set has at most `k / 2` members, so then
//!    **exactly `k` labels change**. Otherwise (one class dominates the chosen set)
//!    the largest number of changes possible, `2 (k − m)` with `m` the dominant class's
//!    count, is reached.
//!
//! The returned `changed` mask marks images whose label differs from the original;
//! `chosen` marks the `k` images selected in step 2.

use crate::error::{Result, StatsError};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// The result of [`corrupt_labels`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelCorruption<L> {
    /// The corrupted labels (same length and class counts as the input).
    pub labels: Vec<L>,
    /// `changed[i]` is true when `labels[i]` differs from the original label.
    pub changed: Vec<bool>,
    /// `chosen[i]` is true when image `i` was selected for relabelling.
    pub chosen: Vec<bool>,
}

impl<L> LabelCorruption<L> {
    /// Number of images whose label changed.
    pub fn n_changed(&self) -> usize {
        self.changed.iter().filter(|&&c| c).count()
    }

    /// Fraction of images whose label changed.
    pub fn fraction_changed(&self) -> f64 {
        if self.changed.is_empty() {
            0.0
        } else {
            self.n_changed() as f64 / self.changed.len() as f64
        }
    }
}

/// Corrupt a fraction `p` of `labels` (classes `0..num_classes`) keeping every class's
/// count, deterministically for `seed`. See the module documentation for the method.
///
/// Errors when `p` is outside `[0, 1]` or a label is `≥ num_classes`.
pub fn corrupt_labels<L>(
    labels: &[L],
    num_classes: usize,
    p: f64,
    seed: u64,
) -> Result<LabelCorruption<L>>
where
    L: Copy + Into<usize> + TryFrom<usize>,
{
    if !(0.0..=1.0).contains(&p) {
        return Err(StatsError::InvalidArgument(format!(
            "corruption fraction must be in [0, 1], got {p}"
        )));
    }
    let orig: Vec<usize> = labels.iter().map(|&l| l.into()).collect();
    if let Some((i, &l)) = orig.iter().enumerate().find(|(_, l)| **l >= num_classes) {
        return Err(StatsError::InvalidArgument(format!(
            "label {l} of image {i} is not below num_classes = {num_classes}"
        )));
    }
    let n = orig.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    // Step 1–2: stratified choice.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); num_classes];
    for (i, &l) in orig.iter().enumerate() {
        members[l].push(i);
    }
    let k = (p * n as f64).round() as usize;
    let mut quota: Vec<usize> = members
        .iter()
        .map(|m| (p * m.len() as f64).floor() as usize)
        .collect();
    let assigned: usize = quota.iter().sum();
    if k > assigned {
        let mut order: Vec<usize> = (0..num_classes).collect();
        order.shuffle(&mut rng);
        let frac = |c: usize| p * members[c].len() as f64 - quota[c] as f64;
        // Stable sort keeps the seeded random order among equal fractional parts.
        order.sort_by(|&a, &b| frac(b).total_cmp(&frac(a)));
        for &c in order.iter().take(k - assigned) {
            quota[c] += 1;
        }
    }
    let mut chosen_idx: Vec<usize> = Vec::with_capacity(k);
    for (c, m) in members.iter_mut().enumerate() {
        m.shuffle(&mut rng);
        chosen_idx.extend_from_slice(&m[..quota[c].min(m.len())]);
    }
    chosen_idx.sort_unstable();

    // Step 3: uniform shuffle of the chosen labels among the chosen images.
    let old: Vec<usize> = chosen_idx.iter().map(|&i| orig[i]).collect();
    let mut new = old.clone();
    new.shuffle(&mut rng);

    // Step 4: repair fixed points by swaps that keep the partner changed.
    let kk = new.len();
    if kk >= 2 {
        let offset = rand::Rng::random_range(&mut rng, 0..kk);
        for i in 0..kk {
            if new[i] != old[i] {
                continue;
            }
            for step in 0..kk {
                let j = (offset + step) % kk;
                if j != i && new[j] != old[i] && new[i] != old[j] {
                    new.swap(i, j);
                    break;
                }
            }
        }
    }

    let mut out = orig.clone();
    let mut chosen = vec![false; n];
    for (pos, &i) in chosen_idx.iter().enumerate() {
        out[i] = new[pos];
        chosen[i] = true;
    }
    let changed: Vec<bool> = out.iter().zip(&orig).map(|(a, b)| a != b).collect();
    let labels = out
        .into_iter()
        .map(|l| {
            L::try_from(l).map_err(|_| {
                StatsError::InvalidArgument(format!("label {l} does not fit the label type"))
            })
        })
        .collect::<Result<Vec<L>>>()?;
    Ok(LabelCorruption {
        labels,
        changed,
        chosen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(labels: &[usize], k: usize) -> Vec<usize> {
        let mut c = vec![0; k];
        for &l in labels {
            c[l] += 1;
        }
        c
    }

    fn balanced(n_per: usize, classes: usize) -> Vec<usize> {
        (0..n_per * classes).map(|i| i % classes).collect()
    }

    #[test]
    fn counts_preserved_and_exact_fraction() {
        let labels = balanced(500, 100);
        for p in [0.1, 0.2, 0.3, 0.5, 1.0] {
            let r = corrupt_labels(&labels, 100, p, 7).unwrap();
            assert_eq!(counts(&r.labels, 100), counts(&labels, 100));
            let k = (p * labels.len() as f64).round() as usize;
            assert_eq!(r.n_changed(), k, "p = {p}");
            assert_eq!(r.chosen.iter().filter(|&&c| c).count(), k);
            // changed ⊆ chosen
            assert!(r.changed.iter().zip(&r.chosen).all(|(c, s)| !c || *s));
            // stratified: every class contributes p * 500 images
            for c in 0..100 {
                let nc = (0..labels.len())
                    .filter(|&i| r.chosen[i] && labels[i] == c)
                    .count();
                assert_eq!(nc, (p * 500.0) as usize);
            }
        }
    }

    #[test]
    fn unbalanced_and_u8_labels() {
        let labels: Vec<u8> = (0..1000u32)
            .map(|i| if i % 10 < 4 { 0 } else { (i % 7) as u8 })
            .collect();
        let before = counts(&labels.iter().map(|&l| l as usize).collect::<Vec<_>>(), 7);
        for seed in 0..5 {
            let r = corrupt_labels(&labels, 7, 0.37, seed).unwrap();
            let after = counts(&r.labels.iter().map(|&l| l as usize).collect::<Vec<_>>(), 7);
            assert_eq!(before, after);
            assert_eq!(r.n_changed(), 370);
        }
    }

    #[test]
    fn dominant_class_reaches_maximum_changes() {
        // 90 of class 0 and 10 of class 1: with p = 1, at most 2 * 10 labels can change.
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i >= 90)).collect();
        let r = corrupt_labels(&labels, 2, 1.0, 3).unwrap();
        assert_eq!(r.n_changed(), 20);
        assert_eq!(counts(&r.labels, 2), vec![90, 10]);
    }

    #[test]
    fn deterministic_and_identity_at_zero() {
        let labels = balanced(50, 10);
        let a = corrupt_labels(&labels, 10, 0.3, 11).unwrap();
        let b = corrupt_labels(&labels, 10, 0.3, 11).unwrap();
        let c = corrupt_labels(&labels, 10, 0.3, 12).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.labels, c.labels);
        let z = corrupt_labels(&labels, 10, 0.0, 11).unwrap();
        assert_eq!(z.labels, labels);
        assert_eq!(z.n_changed(), 0);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(corrupt_labels(&[0usize, 1], 2, 1.5, 0).is_err());
        assert!(corrupt_labels(&[0usize, 5], 2, 0.5, 0).is_err());
    }
}
