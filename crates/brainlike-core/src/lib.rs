//! brainlike-core: data, models and training for brain-like networks on Burn.
//!
//! Implements the training procedure of Federer, Xu, Fyshe & Zylberberg (2019), "Improved
//! object recognition using neural networks trained to mimic the brain's statistical
//! properties": CORnet-Z (and VGG-16) on CIFAR-100 with cross-entropy plus a
//! representational-similarity term pulling an early layer's cosine distances between pairs of
//! stimuli toward those measured in monkey V1.
//!
//! Layout: [`data`] (CIFAR-100 and the V1 teacher pack), [`models`] (one file per model),
//! [`train`] (loss, λ controller, trainer, checkpoints), [`device`] (run-time backend choice).
#![warn(missing_docs)]

pub mod attack;
pub mod bench;
pub mod config;
pub mod data;
pub mod device;
pub mod error;
pub mod extract;
pub mod fixres;
pub mod fsutil;
pub mod models;
pub mod train;

/// The tensor framework, for callers that build inputs for a [`models::Network`].
pub use burn;
pub use config::TrainConfig;
pub use error::{Error, Result};
