//! `brainlike data fetch|check|bench-folder|brainscore-assembly`.

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
    /// Decode throughput of an image folder (`DIR/<class>/*.jpg`) as training reads it:
    /// decode, shorter side to SIZE, centre crop, normalise, in batches on N worker threads.
    /// Peer: `bench/image_folder_peer.py` (torchvision ImageFolder + DataLoader).
    BenchFolder {
        /// The folder.
        #[arg(long)]
        dir: PathBuf,
        /// Output side.
        #[arg(long, default_value_t = 224)]
        size: usize,
        /// Images per batch.
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// Worker threads (comma-separated list: one measurement each).
        #[arg(long, value_delimiter = ',', default_value = "1,2")]
        workers: Vec<usize>,
    },
    /// Convert a Brain-Score assembly (netCDF4 .nc as downloaded) into the files `brainlike
    /// score` reads: neural ones into neural.npy (stimuli x neurons x repetitions),
    /// stimuli.txt and strata.txt; behavioural ones into trials.csv; with --stimulus-set, the
    /// images into images/ named by stimulus id.
    BrainscoreAssembly {
        /// The assembly (e.g. assy_movshon_FreemanZiemba2013_public.nc).
        file: PathBuf,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Stimulus set CSV (stimulus_id, filename, ...), its zip unpacked beside it or in
        /// --stimuli-dir.
        #[arg(long, value_name = "FILE.csv")]
        stimulus_set: Option<PathBuf>,
        /// Folder the stimulus zip was unpacked into (default: the CSV's folder).
        #[arg(long, value_name = "DIR", requires = "stimulus_set")]
        stimuli_dir: Option<PathBuf>,
        /// Keep the neuroids of this region (`region` coordinate), e.g. V1.
        #[arg(long)]
        region: Option<String>,
        /// Average the time bins inside START,END ms (default: all bins), e.g. 50,200.
        #[arg(long, value_delimiter = ',', value_name = "START,END")]
        time_window: Option<Vec<f64>>,
        /// Stimulus-set column that stratifies the cross-validation (e.g. texture_type).
        #[arg(long, requires = "stimulus_set")]
        strata: Option<String>,
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
        DataCommand::BenchFolder {
            dir,
            size,
            batch,
            workers,
        } => {
            use brainlike_core::data::batch::{Batcher, Preprocess};
            use brainlike_core::data::dataset::Dataset;
            let f = brainlike_core::data::image_folder::ImageFolder::open(&dir, size, false)?;
            let batcher = Batcher::new(Preprocess::identity(size));
            let idx: Vec<usize> = (0..f.len()).collect();
            println!(
                "{}: {} images, {} classes, {size} px, batches of {batch}",
                dir.display(),
                f.len(),
                f.classes().len()
            );
            for w in workers {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(w.max(1))
                    .build()?;
                let t0 = std::time::Instant::now();
                let mut checksum = 0.0f64;
                pool.install(|| {
                    for c in idx.chunks(batch.max(1)) {
                        let h = batcher.host(&f, c);
                        checksum += h.pixels[0] as f64;
                    }
                });
                let secs = t0.elapsed().as_secs_f64();
                println!(
                    "workers {w}: {:.1} images/s ({:.1} s; checksum {checksum:.3})",
                    f.len() as f64 / secs,
                    secs
                );
            }
        }
        DataCommand::BrainscoreAssembly {
            file,
            out,
            stimulus_set,
            stimuli_dir,
            region,
            time_window,
            strata,
        } => {
            use brainlike_score::brainscore_data::{
                Assembly, ConvertOptions, Converted, NeuralSelection, StimulusSet, convert,
            };
            let time_window = match time_window.as_deref() {
                None => None,
                Some([lo, hi]) if lo < hi => Some((*lo, *hi)),
                Some(w) => {
                    anyhow::bail!("--time-window: give START,END in ms with START < END, got {w:?}")
                }
            };
            let assembly = Assembly::open(&file)?;
            let set = stimulus_set
                .as_deref()
                .map(|c| StimulusSet::open(c, stimuli_dir.as_deref()))
                .transpose()?;
            let opts = ConvertOptions {
                selection: NeuralSelection {
                    region,
                    time_window,
                },
                strata_column: strata,
            };
            println!(
                "{}: `{}` over {}",
                file.display(),
                assembly.variable,
                assembly
                    .dims
                    .iter()
                    .zip(&assembly.shape)
                    .map(|(d, n)| format!("{d} {n}"))
                    .collect::<Vec<_>>()
                    .join(" x ")
            );
            match convert(&assembly, set.as_ref(), &opts, &out)? {
                Converted::Neural { shape, strata } => println!(
                    "wrote {}: neural.npy ({} stimuli x {} neurons x {} repetitions), stimuli.txt{}{}",
                    out.display(),
                    shape[0],
                    shape[1],
                    shape[2],
                    if strata { ", strata.txt" } else { "" },
                    if set.is_some() { ", images/" } else { "" }
                ),
                Converted::Behavior { trials, images } => println!(
                    "wrote {}: trials.csv ({trials} trials of {images} images){}",
                    out.display(),
                    if set.is_some() { ", images/" } else { "" }
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
