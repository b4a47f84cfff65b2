//! Data: the [`Dataset`] trait the trainer sees, CIFAR-100 (official binary layout), the
//! monkey-V1 teacher pack, and batching.

pub mod augment;
pub mod batch;
pub mod cifar100;
pub mod dataset;
pub mod fetch;
pub mod image;
pub mod image_folder;
pub mod teacher;

pub use cifar100::{Cifar100, Split};
pub use dataset::{Cifar100Split, Dataset, ImageRef, Part};
pub use teacher::{PackSource, Pair, PairSet, Stimuli};
