//! Descriptive statistics across seeds (paper §2.4: "we repeated the training from 10
//! different random initial conditions; results reported are mean ± SEM").
//!
//! The standard deviation is the sample SD (denominator n − 1) and the SEM is SD / √n,
//! as in the paper's shaded bands and error bars (computed by `brainlike_metrics::stats`,
//! the one implementation in the workspace). Non-finite values are not filtered:
//! callers decide what a missing value is.

use serde::Serialize;
use std::collections::BTreeMap;

/// Mean, sample standard deviation and standard error of a set of values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean (NaN when `n == 0`).
    pub mean: f64,
    /// Sample standard deviation, denominator `n − 1` (NaN when `n < 2`).
    pub sd: f64,
    /// Standard error of the mean, `sd / √n` (NaN when `n < 2`).
    pub sem: f64,
    /// Smallest value (NaN when `n == 0`).
    pub min: f64,
    /// Largest value (NaN when `n == 0`).
    pub max: f64,
}

impl Summary {
    /// Summarise `values`.
    pub fn of(values: &[f64]) -> Summary {
        let n = values.len();
        let mean = mean(values);
        let sd = sample_sd(values);
        let sem = sem(values);
        let (min, max) = if n == 0 {
            (f64::NAN, f64::NAN)
        } else {
            values
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                })
        };
        Summary {
            n,
            mean,
            sd,
            sem,
            min,
            max,
        }
    }
}

// The one implementation of these lives in the math crate.
pub use brainlike_metrics::stats::{mean, sem};

/// Sample variance (denominator `n − 1`, two-pass); NaN when fewer than two values.
pub fn sample_variance(values: &[f64]) -> f64 {
    brainlike_metrics::stats::variance(values, 1)
}

/// Sample standard deviation (denominator `n − 1`); NaN when fewer than two values.
pub fn sample_sd(values: &[f64]) -> f64 {
    brainlike_metrics::stats::std(values, 1)
}

/// One point of an across-seed curve: the summary of one metric at one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpochSummary {
    /// The epoch number as written in `metrics.csv`.
    pub epoch: u32,
    /// Summary of the metric over the runs that reached this epoch.
    pub summary: Summary,
}

/// Summarise per-epoch curves of several runs (seeds): for every epoch reached by at
/// least one run, the summary over the runs that have a value for it. The `n` of each
/// point says how many runs contributed (runs that stopped early contribute fewer
/// epochs). The output is sorted by epoch.
pub fn summarize_by_epoch(runs: &[Vec<(u32, f64)>]) -> Vec<EpochSummary> {
    let mut by_epoch: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for run in runs {
        for &(epoch, value) in run {
            by_epoch.entry(epoch).or_default().push(value);
        }
    }
    by_epoch
        .into_iter()
        .map(|(epoch, values)| EpochSummary {
            epoch,
            summary: Summary::of(&values),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn summary_matches_hand_computation() {
        let s = Summary::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.n, 4);
        assert_relative_eq!(s.mean, 2.5);
        assert_relative_eq!(s.sd, (5.0f64 / 3.0).sqrt());
        assert_relative_eq!(s.sem, (5.0f64 / 3.0).sqrt() / 2.0);
        assert_eq!((s.min, s.max), (1.0, 4.0));
    }

    #[test]
    fn degenerate_inputs_are_nan() {
        let s = Summary::of(&[]);
        assert!(s.mean.is_nan() && s.sd.is_nan() && s.sem.is_nan());
        let s = Summary::of(&[3.0]);
        assert_eq!(s.mean, 3.0);
        assert!(s.sd.is_nan() && s.sem.is_nan());
    }

    #[test]
    fn by_epoch_counts_contributing_runs() {
        let runs = vec![vec![(1, 0.1), (2, 0.2), (3, 0.3)], vec![(1, 0.3), (2, 0.4)]];
        let s = summarize_by_epoch(&runs);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].summary.n, 2);
        assert_relative_eq!(s[0].summary.mean, 0.2);
        assert_eq!(s[2].summary.n, 1);
        assert_eq!(s[2].epoch, 3);
    }
}
