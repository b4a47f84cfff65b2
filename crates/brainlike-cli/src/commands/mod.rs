//! One file per subcommand.

pub mod augment;
pub mod average;
pub mod bench;
pub mod compare;
pub mod data;
pub mod evaluate;
pub mod export;
pub mod extract;
pub mod fixres;
pub mod models;
pub mod predict;
pub mod rdm;
pub mod report;
pub mod score;
pub mod sweep;
pub mod teacher;
pub mod train;
