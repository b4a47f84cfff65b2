//! `brainlike data fetch|check`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use brainlike_core::data::cifar100::{Cifar100, resolve_data_dir};
use clap::Subcommand;

/// Data set commands.
#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Download CIFAR-100 (binary version) from its home, MD5 verified.
    Fetch {
        /// Target folder (default: $BRAINLIKE_DATA, else ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Read and validate CIFAR-100 and print what was found.
    Check {
        /// Folder (default: $BRAINLIKE_DATA, else ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

/// Runs `brainlike data`.
pub fn run(cmd: DataCommand) -> Result<ExitCode> {
    match cmd {
        DataCommand::Fetch { data_dir } => {
            let dir = resolve_data_dir(&data_dir.unwrap_or_default());
            let path = brainlike_core::data::fetch::fetch(&dir)?;
            let c = Cifar100::load(&dir)?;
            println!(
                "{}: {} train, {} test images",
                path.display(),
                c.train.len(),
                c.test.len()
            );
        }
        DataCommand::Check { data_dir } => {
            let dir = resolve_data_dir(&data_dir.unwrap_or_default());
            let c = Cifar100::load(&dir)?;
            println!(
                "{}: {} train, {} test images, {} classes in {} superclasses; global training mean {:.4}",
                c.source.display(),
                c.train.len(),
                c.test.len(),
                c.fine_names.len(),
                c.coarse_names.len(),
                c.train.global_mean()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
