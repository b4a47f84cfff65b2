//! `brainlike models`: the registered models with their parameter counts, taps, input size and
//! normalisation.

use std::process::ExitCode;

use anyhow::Result;
use brainlike_core::config::{Head, ModelConfig};
use brainlike_core::models::{Arch, MODELS, Normalization, parameter_count};
use clap::Args;

/// List the registered models.
#[derive(Args, Debug)]
pub struct ModelsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `brainlike models`.
pub fn run(args: ModelsArgs) -> Result<ExitCode> {
    let mut rows = Vec::new();
    for spec in MODELS {
        let size = spec.default_input_size;
        let count = |head| {
            let cfg = ModelConfig {
                arch: Arch::parse(spec.name).expect("registered"),
                head,
                ..ModelConfig::default()
            };
            parameter_count(&cfg, size, 100)
        };
        let (fc, dec) = (count(Head::Fc4096), count(Head::Decoder));
        let norm = match spec.normalization {
            Normalization::TrainingMean => "training-set mean pixel (scalar)".to_string(),
            Normalization::PerChannel { mean, std } => format!("mean {mean:?}, std {std:?}"),
        };
        let taps: Vec<serde_json::Value> = spec
            .taps
            .iter()
            .map(|t| serde_json::json!({ "name": t.name, "depth": t.depth, "module": t.module }))
            .collect();
        rows.push(serde_json::json!({
            "name": spec.name,
            "summary": spec.summary,
            "citation": spec.citation,
            "params_fc4096_head": fc,
            "params_decoder_head": dec,
            "default_input_size": size,
            "normalization": norm,
            "batch_stats": spec.batch_stats,
            "default_teacher_tap": spec.default_teacher_tap,
            "taps": taps,
        }));
        if !args.json {
            println!("{}  ({})", spec.name, spec.summary);
            println!(
                "  parameters at {size}x{size}, 100 classes: {fc} with the fc4096 head, {dec} with the decoder head"
            );
            println!("  input {size} px; normalisation: {norm}");
            let list: Vec<String> = spec
                .taps
                .iter()
                .map(|t| format!("{} ({:?})", t.name, t.depth).to_lowercase())
                .collect();
            println!("  taps: {}", list.join(", "));
            println!("  teacher tap by default: {}", spec.default_teacher_tap);
            println!("  {}", spec.citation);
            println!();
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(ExitCode::SUCCESS)
}
