//! One file per subcommand.

pub mod bench;
pub mod data;
pub mod evaluate;
pub mod report;
pub mod score;
pub mod sweep;
pub mod teacher;
pub mod train;
