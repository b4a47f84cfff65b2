//! Loss terms of the training step, one file each: [`CrossEntropy`] (hard or soft targets,
//! label smoothing, sample weights) and the V1 [`Teacher`] (Federer et al. 2019).

pub mod cross_entropy;
pub mod teacher;

pub use cross_entropy::{CrossEntropy, cross_entropy, cross_entropy_with};
pub use teacher::{Teacher, TeacherBatch, TeacherData};
