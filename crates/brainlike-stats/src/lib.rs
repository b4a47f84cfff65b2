//! # brainlike-stats
//!
//! Framework-free statistics and analysis for the reproduction of Federer, Xu, Fyshe &
//! Zylberberg (2019), "Training neural networks to mimic the brain improves object
//! recognition performance" (the "neural teacher" paper):
//!
//! * [`summary`] — mean, sample SD and SEM across seeds (§2.4);
//! * [`ttest`] — one-tailed Welch/Student t-tests against r = 0, effect sizes, the
//!   paper's stars and a power note (Fig. 2b, 4b, 5, 6);
//! * [`label_noise`] — class-balanced label corruption (§3.6);
//! * [`teacher`] — cosine-distance RDMs from firing rates, the paper's control
//!   teachers and the pair-file writer (§2.2, §2.5);
//! * [`tsne`] — exact t-SNE (§3.2, Fig. 3);
//! * [`report`] — figures and a Markdown report for a sweep directory.
#![warn(missing_docs)]

pub mod error;
pub mod label_noise;
pub mod matrix;
pub mod report;
pub mod summary;
pub mod teacher;
pub mod tsne;
pub mod ttest;

pub use error::{Result, StatsError};
pub use matrix::Matrix;
