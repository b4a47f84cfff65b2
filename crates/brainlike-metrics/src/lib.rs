//! # brainlike-metrics
//!
//! Framework-free math for scoring how brain-like a network is:
//!
//! * [`rdm`]: RDMs (rsatoolbox 0.3.2 `calc_rdm` definitions) and their
//!   comparison (rsatoolbox 0.3.2 `rdm.compare`), bootstrap over stimuli,
//!   pair-list comparisons for teachers given as distance lists.
//! * [`pls`]: PLS regression, NIPALS exactly as scikit-learn's `PLSRegression`.
//! * [`predictivity`]: Brain-Score style cross-validated neural predictivity and
//!   layer commitment; [`ceiling`]: split-half noise ceiling and ceiled scores.
//! * [`logistic`], [`i2n`]: multinomial logistic read-out and Brain-Score's
//!   Rajalingham2018 i2n behavioural consistency.
//! * [`io`]: neural data, features, RDM and split files; [`scores`]: score rows,
//!   CSV/JSON writers.
//! * [`stats`]: the one home of the small statistics (mean, SD, SEM, ranks,
//!   Kendall, percentiles) that `brainlike-stats` also uses.
//!
//! No dependency on the deep-learning framework, nor on plotting.
//!
//! Feature matrices are `ndarray` views (conditions/stimuli x channels) of
//! `f32` or `f64`; everything is computed in f64.
#![warn(missing_docs)]

pub mod ceiling;
pub mod error;
pub mod i2n;
pub mod io;
pub mod linalg;
pub mod logistic;
pub mod pls;
pub mod predictivity;
pub mod rdm;
pub mod scores;
pub mod stats;

pub use error::{Error, Result};
pub use rdm::compare::{
    BootstrapResult, CompareMethod, bootstrap_compare, compare, compare_vectors,
};
pub use rdm::pairs::{
    PairList, compare_features_to_pairs, compare_pair_distances, pair_cosine_distances,
};
pub use rdm::{Rdm, RdmMethod, calc_rdm};
