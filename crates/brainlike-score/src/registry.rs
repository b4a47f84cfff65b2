//! Benchmarks by id: one entry per id pattern, each with its constructor. Adding a benchmark
//! is one file and one entry here.

use std::path::PathBuf;

use brainlike_core::data::teacher::{PAIR_SETS, PackSource};
use brainlike_core::extract::BRAIN_SCORE_PCA;
use brainlike_metrics::ceiling::CeilingFormula;

use crate::Benchmark;
use crate::error::{Error, Result};
use crate::federer2019_v1_rsa::{Federer2019Rsa, rsa_id};
use crate::i2n::{I2n, I2nSettings};
use crate::pls::{Pls, PlsSettings};

/// Everything a benchmark may be built from (the CLI's flags).
#[derive(Debug, Clone)]
pub struct Options {
    /// RSA: pair set (`v1`, a control) or a pair TSV; what `Federer2019.V1-rsa` scores.
    pub pairs: String,
    /// RSA: teacher pack folder (`None`: built in).
    pub pack_dir: Option<PathBuf>,
    /// RSA: bootstrap resamples (0 = no CI).
    pub bootstrap: usize,
    /// Seed of the RSA bootstrap, the split-half ceiling, the PCA, the i2n folds and halves.
    pub seed: u64,
    /// PLS: responses (.npy).
    pub neural: Option<PathBuf>,
    /// PLS: stimulus ids.
    pub stimuli: Option<PathBuf>,
    /// PLS / i2n: image folder.
    pub images: Option<PathBuf>,
    /// PLS: stratification labels.
    pub strata: Option<PathBuf>,
    /// PLS: region in the default id `custom.<region>-pls`.
    pub region: String,
    /// PLS / i2n: ceiling formula.
    pub ceiling: CeilingFormula,
    /// PLS components.
    pub pls_components: usize,
    /// PCA components for wider layers (0 = none).
    pub pca: usize,
    /// i2n: trials CSV.
    pub behavior: Option<PathBuf>,
    /// i2n: inverse L2 strength of the read-out.
    pub readout_c: f64,
    /// i2n: read-out folds.
    pub readout_folds: usize,
    /// Brain-Score benchmarks: the assembly (`.nc`) the user downloaded.
    pub assembly: Option<PathBuf>,
    /// Brain-Score benchmarks: the stimulus set's CSV.
    pub stimulus_set: Option<PathBuf>,
    /// Brain-Score benchmarks: where the stimulus zip was unpacked (default: beside the CSV).
    pub stimuli_dir: Option<PathBuf>,
    /// Brain-Score benchmarks: where the converted inputs are written (default: a folder in
    /// the system's temporary directory).
    pub data_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            pairs: "v1".into(),
            pack_dir: None,
            bootstrap: 1000,
            seed: 0,
            neural: None,
            stimuli: None,
            images: None,
            strata: None,
            region: "neural".into(),
            ceiling: CeilingFormula::RatioR,
            pls_components: 25,
            pca: BRAIN_SCORE_PCA,
            behavior: None,
            readout_c: 1e-3,
            readout_folds: 5,
            assembly: None,
            stimulus_set: None,
            stimuli_dir: None,
            data_dir: None,
        }
    }
}

/// One id pattern and its constructor.
pub struct Entry {
    /// The id or id pattern (`<...>` a part you choose).
    pub pattern: &'static str,
    /// Whether `id` is this entry's.
    pub matches: fn(&str) -> bool,
    /// Builds the benchmark for `id`.
    pub build: fn(&str, &Options) -> Result<Box<dyn Benchmark>>,
}

fn pack(opts: &Options) -> PackSource {
    opts.pack_dir
        .as_deref()
        .map(PackSource::from_dir)
        .unwrap_or(PackSource::Builtin)
}

/// The V1 RSA benchmark against pair set (or file) `pairs`.
fn rsa(pairs: &str, o: &Options) -> Result<Box<dyn Benchmark>> {
    Ok(Box::new(Federer2019Rsa::new(
        pairs,
        pack(o),
        o.bootstrap,
        o.seed,
    )))
}

fn federer_set(id: &str) -> Option<&str> {
    id.strip_prefix("Federer2019.")?.strip_suffix("-rsa")
}

/// The registry, tried in order.
pub const REGISTRY: &[Entry] = &[
    Entry {
        pattern: "Federer2019.V1-rsa",
        matches: |id| id == "Federer2019.V1-rsa",
        // The monkey-V1 pairs, or the set / file given as `pairs` (named by its own id).
        build: |_, o| rsa(&o.pairs, o),
    },
    Entry {
        pattern: "Federer2019.<pair set>-rsa",
        matches: |id| federer_set(id).is_some_and(|s| PAIR_SETS.contains(&s)),
        build: |id, o| rsa(federer_set(id).unwrap_or("v1"), o),
    },
    Entry {
        pattern: "custom.<pair file stem>-rsa",
        matches: |id| id.starts_with("custom.") && id.ends_with("-rsa"),
        build: |_, o| rsa(&o.pairs, o),
    },
    Entry {
        pattern: "FreemanZiemba2013.V1-pls",
        matches: |id| id == "FreemanZiemba2013.V1-pls",
        build: crate::brainscore_public::freeman_ziemba,
    },
    Entry {
        pattern: "FreemanZiemba2013.V2-pls",
        matches: |id| id == "FreemanZiemba2013.V2-pls",
        build: crate::brainscore_public::freeman_ziemba,
    },
    Entry {
        pattern: crate::brainscore_public::RAJALINGHAM_ID,
        matches: |id| id == crate::brainscore_public::RAJALINGHAM_ID,
        build: crate::brainscore_public::rajalingham,
    },
    Entry {
        pattern: "custom.behavior-i2n",
        matches: |id| id == crate::i2n::ID,
        build: |id, o| match (&o.behavior, &o.images) {
            (Some(b), Some(i)) => Ok(Box::new(I2n::new(
                b.clone(),
                i.clone(),
                I2nSettings {
                    formula: o.ceiling,
                    readout_c: o.readout_c,
                    folds: o.readout_folds,
                    seed: o.seed,
                },
            )?)),
            _ => Err(Error::MissingInput {
                id: id.into(),
                needs: "--behavior trials.csv and --images DIR".into(),
            }),
        },
    },
    Entry {
        pattern: "custom.<region>-pls",
        matches: |id| id.starts_with("custom.") && id.ends_with("-pls"),
        build: |id, o| match (&o.neural, &o.stimuli, &o.images) {
            (Some(n), Some(s), Some(i)) => Ok(Box::new(Pls::new(
                id,
                n.clone(),
                s.clone(),
                o.strata.clone(),
                i.clone(),
                PlsSettings {
                    formula: o.ceiling,
                    components: o.pls_components,
                    pca: o.pca,
                    seed: o.seed,
                },
            )?)),
            _ => Err(Error::MissingInput {
                id: id.into(),
                needs: "--neural FILE.npy, --stimuli FILE.txt and --images DIR".into(),
            }),
        },
    },
];

/// Every known id (the shipped pair sets spelled out) and pattern.
pub fn known() -> Vec<String> {
    let mut out = vec![rsa_id("v1")];
    out.extend(PAIR_SETS.iter().filter(|s| **s != "v1").map(|s| rsa_id(s)));
    out.extend(REGISTRY.iter().skip(2).map(|e| e.pattern.to_string()));
    out
}

/// The benchmark with this id.
pub fn build(id: &str, opts: &Options) -> Result<Box<dyn Benchmark>> {
    match REGISTRY.iter().find(|e| (e.matches)(id)) {
        Some(e) => (e.build)(id, opts),
        None => Err(Error::UnknownBenchmark {
            id: id.to_string(),
            known: known(),
        }),
    }
}

/// The ids scored when none are asked for: the V1 RSA on `opts.pairs`, plus PLS when
/// `neural` is given and i2n when `behavior` is.
pub fn default_ids(opts: &Options) -> Vec<String> {
    let mut ids = vec![rsa_id(&opts.pairs)];
    if opts.neural.is_some() {
        ids.push(format!("custom.{}-pls", opts.region));
    }
    if opts.behavior.is_some() {
        ids.push(crate::i2n::ID.into());
    }
    ids
}

/// The benchmarks of `ids` (or of [`default_ids`] when empty), each id once.
pub fn build_all(ids: &[String], opts: &Options) -> Result<Vec<Box<dyn Benchmark>>> {
    let ids = if ids.is_empty() {
        default_ids(opts)
    } else {
        ids.to_vec()
    };
    let mut out: Vec<Box<dyn Benchmark>> = Vec::new();
    for id in &ids {
        let b = build(id, opts)?;
        if !out.iter().any(|o| o.id() == b.id()) {
            out.push(b);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_id_lists_the_known_ones() {
        let err = build("Majaj2015.IT-pls", &Options::default())
            .err()
            .unwrap();
        assert!(matches!(err, Error::UnknownBenchmark { .. }));
        let msg = err.to_string();
        for k in [
            "Federer2019.V1-rsa",
            "Federer2019.v1_shuffled-rsa",
            "Federer2019.gaussian_non_v1_stats-rsa",
            "custom.<region>-pls",
            "custom.behavior-i2n",
        ] {
            assert!(msg.contains(k), "{msg}");
        }
        assert!(build("Federer2019.V2-rsa", &Options::default()).is_err());
    }

    #[test]
    fn ids_find_their_benchmarks() {
        let o = Options::default();
        assert_eq!(
            build("Federer2019.V1-rsa", &o).unwrap().id(),
            "Federer2019.V1-rsa"
        );
        let b = build("Federer2019.v1_shuffled-rsa", &o).unwrap();
        assert_eq!(b.id(), "Federer2019.v1_shuffled-rsa");
        // V1 with a control as --pairs is named by the control.
        let o2 = Options {
            pairs: "gaussian_v1_stats".into(),
            ..Options::default()
        };
        assert_eq!(
            build("Federer2019.V1-rsa", &o2).unwrap().id(),
            "Federer2019.gaussian_v1_stats-rsa"
        );
        // Inputs missing: the error says which flags.
        let err = build("custom.IT-pls", &o).err().unwrap().to_string();
        assert!(err.contains("--neural"), "{err}");
        let err = build("custom.behavior-i2n", &o).err().unwrap().to_string();
        assert!(err.contains("--behavior"), "{err}");
    }

    #[test]
    fn defaults_and_duplicates() {
        let o = Options::default();
        assert_eq!(default_ids(&o), ["Federer2019.V1-rsa"]);
        let all = build_all(
            &["Federer2019.V1-rsa".into(), "Federer2019.v1-rsa".into()],
            &o,
        )
        .unwrap();
        assert_eq!(all.len(), 1);
        let o = Options {
            neural: Some("n.npy".into()),
            region: "IT".into(),
            behavior: Some("t.csv".into()),
            ..Options::default()
        };
        assert_eq!(
            default_ids(&o),
            ["Federer2019.V1-rsa", "custom.IT-pls", "custom.behavior-i2n"]
        );
    }
}
