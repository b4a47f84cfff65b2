//! `brainlike`: train deep networks to be more like the primate visual system, and measure how
//! brain-like they are. A thin command line over the `brainlike-*` library crates.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Train brain-like networks (CORnet-Z / VGG-16 on CIFAR-100 with a monkey-V1 teacher) and
/// score how brain-like they are.
#[derive(Parser)]
#[command(name = "brainlike", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train one run (Federer et al. 2019): CE + λ·Σ(d_model − d_V1)² with the V1 teacher.
    Train(commands::train::TrainArgs),
    /// Evaluate a finished run on the CIFAR-100 test set.
    Evaluate(commands::evaluate::EvaluateArgs),
    /// Training and inference images/s for every compiled backend, beside the PyTorch peer.
    Bench(commands::bench::BenchArgs),
    /// Data set management.
    #[command(subcommand)]
    Data(commands::data::DataCommand),
    /// Run an experiment (a grid of training runs) locally or on Slurm; resumable.
    Sweep(brainlike_sweep::SweepArgs),
    /// Figures and a Markdown report of a sweep, with statistics across seeds.
    Report(commands::report::ReportArgs),
    /// Score a trained model's brain-likeness at every layer (RSA vs V1, PLS predictivity, i2n).
    Score(Box<commands::score::ScoreArgs>),
    /// Build teacher pair files (V1 and the paper's controls) from firing rates.
    #[command(subcommand)]
    Teacher(commands::teacher::TeacherCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => commands::train::run(a),
        Command::Evaluate(a) => commands::evaluate::run(a),
        Command::Bench(a) => commands::bench::run(a),
        Command::Data(c) => commands::data::run(c),
        Command::Sweep(a) => commands::sweep::run(a),
        Command::Report(a) => commands::report::run(a),
        Command::Score(a) => commands::score::run(*a),
        Command::Teacher(c) => commands::teacher::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
