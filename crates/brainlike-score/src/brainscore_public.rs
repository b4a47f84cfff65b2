//! Brain-Score's public benchmarks on Brain-Score's own data files, which the user downloads:
//! `FreemanZiemba2013.V1-pls`, `FreemanZiemba2013.V2-pls` (Freeman, Ziemba, Heeger,
//! Simoncelli & Movshon 2013, "A functional and perceptual signature of the second visual
//! area in primates", *Nat. Neurosci.* 16) and `Rajalingham2018-i2n` (Rajalingham et al.
//! 2018, *J. Neurosci.* 38(33)).
//!
//! The assembly (`--assembly FILE.nc`) and stimulus set (`--stimulus-set FILE.csv`, images
//! unpacked beside it or in `--stimuli-dir`) are converted by [`crate::brainscore_data`] into
//! the inputs of the existing benchmarks, under `Options::data_dir`, then scored by the same
//! code as `custom.<region>-pls` ([`crate::pls`]) and `custom.behavior-i2n` ([`crate::i2n`]).
//!
//! What follows Brain-Score's definitions (brainscore_vision 2.4,
//! `benchmarks/freemanziemba2013`, `benchmarks/rajalingham2018`): the neuroids of the region,
//! the mean over the 1-ms time bins in 50..200 ms, the mean over repetitions for the fit, a
//! split-half ceiling over repetitions, cross-validation stratified by the stimulus set's
//! `texture_type`; for i2n, the trials' images, truth, distractor and choice. What does not:
//! Brain-Score shows the images at 4° inside the model's 8° field of view (grey padding)
//! and fits the i2n read-out on separate training images; here the images fill the input
//! and the read-out is cross-validated over the scored images, so the numbers are
//! comparable in kind, not equal to Brain-Score's leaderboard.

use std::path::PathBuf;

use crate::Benchmark;
use crate::brainscore_data::{Assembly, ConvertOptions, NeuralSelection, StimulusSet, convert};
use crate::error::{Error, Result};
use crate::i2n::{I2n, I2nSettings};
use crate::pls::{Pls, PlsSettings};
use crate::registry::Options;

/// Brain-Score's FreemanZiemba2013 time window (ms).
pub const FREEMAN_ZIEMBA_WINDOW: (f64, f64) = (50.0, 200.0);

/// The region of `FreemanZiemba2013.<V1|V2>-pls`.
pub fn freeman_ziemba_region(id: &str) -> Option<&'static str> {
    match id {
        "FreemanZiemba2013.V1-pls" => Some("V1"),
        "FreemanZiemba2013.V2-pls" => Some("V2"),
        _ => None,
    }
}

/// The id of Rajalingham2018's i2n.
pub const RAJALINGHAM_ID: &str = "Rajalingham2018-i2n";

fn inputs(id: &str, o: &Options) -> Result<(Assembly, StimulusSet, PathBuf)> {
    let (Some(a), Some(s)) = (&o.assembly, &o.stimulus_set) else {
        return Err(Error::MissingInput {
            id: id.into(),
            needs: "--assembly FILE.nc and --stimulus-set FILE.csv (Brain-Score's files, the \
                    stimulus zip unpacked beside the CSV or in --stimuli-dir)"
                .into(),
        });
    };
    let assembly = Assembly::open(a)?;
    let set = StimulusSet::open(s, o.stimuli_dir.as_deref())?;
    let dir = o
        .data_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("brainlike-{}", std::process::id())))
        .join(id);
    Ok((assembly, set, dir))
}

/// `FreemanZiemba2013.<region>-pls` on the user's copy of Brain-Score's files.
pub fn freeman_ziemba(id: &str, o: &Options) -> Result<Box<dyn Benchmark>> {
    let region = freeman_ziemba_region(id).ok_or_else(|| Error::Input {
        id: id.into(),
        msg: "not a FreemanZiemba2013 region (V1 or V2)".into(),
    })?;
    let (assembly, set, dir) = inputs(id, o)?;
    let strata = set
        .columns
        .iter()
        .any(|c| c == "texture_type")
        .then(|| "texture_type".to_string());
    convert(
        &assembly,
        Some(&set),
        &ConvertOptions {
            selection: NeuralSelection {
                region: Some(region.into()),
                time_window: Some(FREEMAN_ZIEMBA_WINDOW),
            },
            strata_column: strata.clone(),
        },
        &dir,
    )?;
    Ok(Box::new(Pls::new(
        id,
        dir.join("neural.npy"),
        dir.join("stimuli.txt"),
        strata.map(|_| dir.join("strata.txt")),
        dir.join("images"),
        PlsSettings {
            formula: o.ceiling,
            components: o.pls_components,
            pca: o.pca,
            seed: o.seed,
        },
    )?))
}

/// `Rajalingham2018-i2n` on the user's copy of Brain-Score's files.
pub fn rajalingham(id: &str, o: &Options) -> Result<Box<dyn Benchmark>> {
    let (assembly, set, dir) = inputs(id, o)?;
    convert(&assembly, Some(&set), &ConvertOptions::default(), &dir)?;
    Ok(Box::new(
        I2n::new(
            dir.join("trials.csv"),
            dir.join("images"),
            I2nSettings {
                formula: o.ceiling,
                readout_c: o.readout_c,
                folds: o.readout_folds,
                seed: o.seed,
            },
        )?
        .with_id(id),
    ))
}
