//! One file per subcommand.

pub mod bench;
pub mod data;
pub mod evaluate;
pub mod report;
pub mod sweep;
pub mod train;
