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
    /// Preview the augmentation of a configuration: a PNG grid of sources and augmented
    /// versions with the ops and mixed labels under each tile.
    Augment(commands::augment::AugmentArgs),
    /// Uniform average of a run's checkpoints (weight averaging), evaluated and written as a
    /// model directory.
    Average(commands::average::AverageArgs),
    /// Training and inference images/s for every compiled backend, beside the PyTorch peer.
    Bench(commands::bench::BenchArgs),
    /// Data set management.
    #[command(subcommand)]
    Data(commands::data::DataCommand),
    /// Run an experiment (a grid of training runs) locally or on Slurm; resumable.
    Sweep(brainlike_sweep::SweepArgs),
    /// Figures and a Markdown report of a sweep, with statistics across seeds.
    Report(commands::report::ReportArgs),
    /// The registered models: parameters, taps, input size, normalisation.
    Models(commands::models::ModelsArgs),
    /// Score a trained model's brain-likeness at every layer (RSA vs V1, PLS predictivity, i2n).
    Score(Box<commands::score::ScoreArgs>),
    /// Build teacher pair files (V1 and the paper's controls) from firing rates.
    #[command(subcommand)]
    Teacher(commands::teacher::TeacherCommand),
    /// Activations at chosen layers for a folder of images or a .npy of inputs, one .npy
    /// per layer (stimuli x features), streamed with bounded memory.
    Extract(commands::extract::ExtractArgs),
    /// FixRes: test accuracy of a run over a range of test resolutions (table and plot).
    Fixres(commands::fixres::FixresArgs),
    /// Hand a model to other tools: `export brainscore` writes a Brain-Score vision plugin.
    #[command(subcommand)]
    Export(commands::export::ExportCommand),
    /// RDM of your own features (.npy stimuli x units) written as a square .npy.
    Rdm(commands::rdm::RdmArgs),
    /// Compare two RDMs (.npy) with an rsatoolbox method, optionally with a stimulus bootstrap.
    Compare(commands::compare::CompareArgs),
    /// Cross-validated PLS predictivity of neural responses (.npy) from features (.npy).
    Predict(commands::predict::PredictArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => commands::train::run(a),
        Command::Evaluate(a) => commands::evaluate::run(a),
        Command::Augment(a) => commands::augment::run(a),
        Command::Average(a) => commands::average::run(a),
        Command::Bench(a) => commands::bench::run(a),
        Command::Data(c) => commands::data::run(c),
        Command::Sweep(a) => commands::sweep::run(a),
        Command::Report(a) => commands::report::run(a),
        Command::Score(a) => commands::score::run(*a),
        Command::Models(a) => commands::models::run(a),
        Command::Teacher(c) => commands::teacher::run(c),
        Command::Extract(a) => commands::extract::run(a),
        Command::Fixres(a) => commands::fixres::run(a),
        Command::Export(c) => commands::export::run(c),
        Command::Rdm(a) => commands::rdm::run(a),
        Command::Compare(a) => commands::compare::run(a),
        Command::Predict(a) => commands::predict::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, `a: b: c`, leaving out a cause whose text the line
/// already holds (an I/O error wrapped with its path would otherwise print twice).
fn chain(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
