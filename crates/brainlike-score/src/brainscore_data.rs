//! Brain-Score's published data files, read without Python: assemblies (netCDF4, i.e. HDF5,
//! written by xarray through BrainIO) and stimulus sets (a CSV plus a folder of images, the
//! unpacked zip).
//!
//! ## What an assembly file holds
//! BrainIO writes a `DataAssembly` (an `xarray.DataArray`) with its MultiIndexes reset
//! (`assembly.reset_index(list(assembly.indexes))`, xarray cannot store a MultiIndex), so in
//! the file every dimension (`presentation`, `neuroid`, `time_bin`) is a netCDF dimension
//! without a coordinate variable, and every level of the old MultiIndex is a 1-D variable
//! over its dimension: `stimulus_id` (older files: `image_id`), `repetition` over
//! `presentation`; `neuroid_id`, `region` over `neuroid`; `time_bin_start`, `time_bin_end`
//! over `time_bin`. Strings are netCDF-4 variable-length strings. The values are the one
//! variable over those dimensions: `data` when written by BrainIO's `write_netcdf` with
//! compression (zlib), `__xarray_dataarray_variable__` when written by
//! `DataArray.to_netcdf` (older files); any order of dimensions.
//! Neural assemblies hold numbers; behavioural ones (Rajalingham2018) hold the chosen label
//! per trial as strings.
//!
//! Uncertain details, checked only on files written here by brainscore-core 2.5.0 and
//! xarray 2022.3 (`tests/fixtures/brainscore/make_fixture.py`), not on the published files:
//! the exact variable name and dimension order of `assy_movshon_FreemanZiemba2013_public.nc`
//! and `assy_dicarlo_Rajalingham2018_public.nc` (both layouts above are read), and whether
//! the published stimulus CSVs name the image column `filename` (read) or something else
//! (an error then lists the columns).
//!
//! Memory: the values variable is read whole, as `f64` (FreemanZiemba2013's public assembly
//! holds every 1-ms bin of 300, so expect a few GB while converting; the converted inputs
//! are small).
//!
//! ## Into brainlike's inputs
//! [`Assembly::neural`] turns a neural assembly into [`NeuralData`] (stimuli x neurons x
//! repetitions, for the PLS benchmark): neuroids of one `region`, the mean over the time
//! bins inside a window, presentations grouped by stimulus id (first appearance order) and
//! ordered by `repetition` within a stimulus. [`Assembly::trials`] turns a behavioural
//! assembly into 2AFC [`Trial`]s (for i2n): image `stimulus_id`, true class `truth` (or
//! `sample_obj`), distractor `dist_obj`, choice = the value, subject `worker_id`.
//! [`convert`] writes either as the files `brainlike score` takes (`neural.npy`,
//! `stimuli.txt`, `strata.txt`, `trials.csv`, `images/`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use brainlike_metrics::i2n::Trial;
use brainlike_metrics::io::NeuralData;
use ndarray::Array3;
use netcdf_reader::{NcFile, NcType};

use crate::error::{Error, Result};

/// Values of a variable, flattened in row-major order over its dimensions.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Numbers (integers, floats and booleans as 0/1).
    Numbers(Vec<f64>),
    /// Strings.
    Strings(Vec<String>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Numbers(v) => v.len(),
            Values::Strings(v) => v.len(),
        }
    }

    /// Element `i` as text (integers without a decimal point).
    pub fn text(&self, i: usize) -> String {
        match self {
            Values::Strings(v) => v[i].clone(),
            Values::Numbers(v) => {
                let x = v[i];
                if x.fract() == 0.0 && x.abs() < 1e15 {
                    format!("{}", x as i64)
                } else {
                    x.to_string()
                }
            }
        }
    }
}

/// A 1-D coordinate over one dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Coord {
    /// The dimension it labels.
    pub dim: String,
    /// One value per index of `dim`.
    pub values: Values,
}

/// A Brain-Score data assembly read from a netCDF4 file.
#[derive(Debug, Clone)]
pub struct Assembly {
    /// The file.
    pub path: PathBuf,
    /// Name of the values' variable in the file.
    pub variable: String,
    /// Dimensions of the values, in the file's order.
    pub dims: Vec<String>,
    /// Their sizes.
    pub shape: Vec<usize>,
    /// The values, row-major over `dims`.
    pub values: Values,
    /// 1-D coordinates by name.
    pub coords: BTreeMap<String, Coord>,
}

/// The dimensions an assembly's values may have.
const KNOWN_DIMS: [&str; 4] = ["presentation", "neuroid", "time_bin", "choice"];

fn input(path: &Path, msg: impl Into<String>) -> Error {
    Error::Input {
        id: path.display().to_string(),
        msg: msg.into(),
    }
}

fn is_string(t: &NcType) -> bool {
    matches!(t, NcType::String | NcType::Char)
}

impl Assembly {
    /// Reads the assembly in `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(input(path, "no such assembly file"));
        }
        let nc = NcFile::open(path).map_err(|e| {
            input(
                path,
                format!("not a netCDF file Brain-Score writes (netCDF4/HDF5): {e}"),
            )
        })?;
        let vars = nc
            .variables()
            .map_err(|e| input(path, format!("cannot list variables: {e}")))?;
        let read = |name: &str, t: &NcType| -> Result<Values> {
            if is_string(t) {
                nc.read_variable_as_strings(name)
                    .map(Values::Strings)
                    .map_err(|e| input(path, format!("variable {name:?}: {e}")))
            } else {
                nc.read_variable_as_f64(name)
                    .map(|a| Values::Numbers(a.iter().copied().collect()))
                    .map_err(|e| input(path, format!("variable {name:?}: {e}")))
            }
        };
        // The values: `data`, `__xarray_dataarray_variable__`, else the one variable with
        // more than one dimension or over a dimension no 1-D coordinate has.
        let pick = ["data", "__xarray_dataarray_variable__"]
            .iter()
            .find_map(|n| vars.iter().find(|v| v.name() == *n))
            .or_else(|| {
                let multi: Vec<_> = vars.iter().filter(|v| v.ndim() > 1).collect();
                (multi.len() == 1).then(|| multi[0])
            })
            .ok_or_else(|| {
                input(
                    path,
                    format!(
                        "no values variable: expected `data` or `__xarray_dataarray_variable__`, found {}",
                        vars.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
        let dims: Vec<String> = pick.dimensions().iter().map(|d| d.name.clone()).collect();
        let shape: Vec<usize> = pick.shape().iter().map(|&s| s as usize).collect();
        if let Some(d) = dims.iter().find(|d| !KNOWN_DIMS.contains(&d.as_str())) {
            return Err(input(
                path,
                format!(
                    "values `{}` have dimension {d:?}; expected Brain-Score's {}",
                    pick.name(),
                    KNOWN_DIMS.join(", ")
                ),
            ));
        }
        let values = read(pick.name(), pick.dtype())?;
        let mut coords = BTreeMap::new();
        for v in vars.iter().filter(|v| v.name() != pick.name()) {
            // 1-D over one of the values' dimensions (a char array has a second, string
            // length dimension).
            let Some(d) = v.dimensions().first() else {
                continue;
            };
            let one_d = v.ndim() == 1 || (matches!(v.dtype(), NcType::Char) && v.ndim() == 2);
            if !one_d || !dims.contains(&d.name) {
                continue;
            }
            let mut vals = read(v.name(), v.dtype())?;
            if vals.len() != d.size as usize {
                return Err(input(
                    path,
                    format!(
                        "coordinate {:?} has {} values for dimension {:?} of size {}",
                        v.name(),
                        vals.len(),
                        d.name,
                        d.size
                    ),
                ));
            }
            // xarray stores booleans as int8 with attribute dtype = "bool": keep 0/1.
            if let Values::Strings(s) = &mut vals {
                for x in s.iter_mut() {
                    *x = x.trim_end_matches('\0').to_string();
                }
            }
            coords.insert(
                v.name().to_string(),
                Coord {
                    dim: d.name.clone(),
                    values: vals,
                },
            );
        }
        Ok(Self {
            path: path.to_path_buf(),
            variable: pick.name().to_string(),
            dims,
            shape,
            values,
            coords,
        })
    }

    /// Size of dimension `dim` (error if the values lack it).
    pub fn dim_size(&self, dim: &str) -> Result<usize> {
        self.dims
            .iter()
            .position(|d| d == dim)
            .map(|i| self.shape[i])
            .ok_or_else(|| {
                input(
                    &self.path,
                    format!(
                        "the values have no {dim:?} dimension (they have {})",
                        self.dims.join(" x ")
                    ),
                )
            })
    }

    /// The coordinate `name` over `dim`.
    pub fn coord(&self, name: &str, dim: &str) -> Result<&Coord> {
        match self.coords.get(name) {
            Some(c) if c.dim == dim => Ok(c),
            Some(c) => Err(input(
                &self.path,
                format!("coordinate {name:?} is over {:?}, expected {dim:?}", c.dim),
            )),
            None => Err(input(
                &self.path,
                format!(
                    "no coordinate {name:?} over {dim:?}; the file has {}",
                    self.coord_names()
                ),
            )),
        }
    }

    fn coord_names(&self) -> String {
        self.coords
            .iter()
            .map(|(k, c)| format!("{k} ({})", c.dim))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The stimulus id of each presentation: `stimulus_id`, or `image_id` in older files.
    pub fn stimulus_ids(&self) -> Result<Vec<String>> {
        let n = self.dim_size("presentation")?;
        let c = ["stimulus_id", "image_id"]
            .iter()
            .find_map(|k| self.coords.get(*k).filter(|c| c.dim == "presentation"))
            .ok_or_else(|| {
                input(
                    &self.path,
                    format!(
                        "no stimulus_id (or image_id) coordinate over presentation; the file has {}",
                        self.coord_names()
                    ),
                )
            })?;
        Ok((0..n).map(|i| c.values.text(i)).collect())
    }

    /// Responses of the neuroids in `sel.region`, averaged over the time bins in
    /// `sel.time_window`, as stimuli x neurons x repetitions; `strata` labels each stimulus
    /// id (e.g. a stimulus set's `texture_type`).
    pub fn neural(
        &self,
        sel: &NeuralSelection,
        strata: Option<&HashMap<String, String>>,
    ) -> Result<NeuralData> {
        let Values::Numbers(values) = &self.values else {
            return Err(input(
                &self.path,
                "the values are strings (a behavioural assembly?); neural responses must be numbers",
            ));
        };
        let n_p = self.dim_size("presentation")?;
        let n_n = self.dim_size("neuroid")?;
        let ids = self.stimulus_ids()?;
        // Neuroids.
        let neurons: Vec<usize> = match &sel.region {
            Some(r) => {
                let c = self.coord("region", "neuroid")?;
                let keep: Vec<usize> = (0..n_n).filter(|&i| c.values.text(i) == *r).collect();
                if keep.is_empty() {
                    let mut have: Vec<String> = (0..n_n).map(|i| c.values.text(i)).collect();
                    have.sort();
                    have.dedup();
                    return Err(input(
                        &self.path,
                        format!("no neuroid of region {r:?}; regions: {}", have.join(", ")),
                    ));
                }
                keep
            }
            None => (0..n_n).collect(),
        };
        // Time bins.
        let bins: Vec<usize> = match self.dims.iter().position(|d| d == "time_bin") {
            None => vec![0],
            Some(i) => {
                let n_t = self.shape[i];
                match sel.time_window {
                    None => (0..n_t).collect(),
                    Some((lo, hi)) => {
                        let start = self.coord("time_bin_start", "time_bin")?;
                        let end = self.coord("time_bin_end", "time_bin")?;
                        let (Values::Numbers(s), Values::Numbers(e)) = (&start.values, &end.values)
                        else {
                            return Err(input(
                                &self.path,
                                "time_bin_start / time_bin_end are not numbers",
                            ));
                        };
                        let keep: Vec<usize> =
                            (0..n_t).filter(|&t| s[t] >= lo && e[t] <= hi).collect();
                        if keep.is_empty() {
                            return Err(input(
                                &self.path,
                                format!(
                                    "no time bin inside {lo}..{hi} ms; bins span {}..{} ms",
                                    s.iter().copied().fold(f64::INFINITY, f64::min),
                                    e.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                                ),
                            ));
                        }
                        keep
                    }
                }
            }
        };
        // Strides of the values over (presentation, neuroid, time_bin).
        let stride = |dim: &str| -> usize {
            match self.dims.iter().position(|d| d == dim) {
                None => 0,
                Some(i) => self.shape[i + 1..].iter().product(),
            }
        };
        let (sp, sn, st) = (
            stride("presentation"),
            stride("neuroid"),
            stride("time_bin"),
        );
        // Presentations per stimulus, ordered by repetition.
        let mut order: Vec<String> = Vec::new();
        let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
        for (p, id) in ids.iter().enumerate() {
            let g = groups.entry(id.as_str()).or_default();
            if g.is_empty() {
                order.push(id.clone());
            }
            g.push(p);
        }
        if let Some(rep) = self
            .coords
            .get("repetition")
            .filter(|c| c.dim == "presentation")
        {
            let Values::Numbers(r) = &rep.values else {
                return Err(input(&self.path, "coordinate repetition is not numeric"));
            };
            for g in groups.values_mut() {
                g.sort_by(|a, b| r[*a].total_cmp(&r[*b]));
            }
        }
        let reps = groups[order[0].as_str()].len();
        if let Some(id) = order.iter().find(|id| groups[id.as_str()].len() != reps) {
            return Err(input(
                &self.path,
                format!(
                    "stimulus {id:?} was presented {} times, {:?} {reps} times; every stimulus needs the same number of repetitions",
                    groups[id.as_str()].len(),
                    order[0]
                ),
            ));
        }
        debug_assert_eq!(order.len() * reps, n_p);
        let mut out = Array3::<f64>::zeros((order.len(), neurons.len(), reps));
        let mut nan = 0usize;
        for (s, id) in order.iter().enumerate() {
            for (r, &p) in groups[id.as_str()].iter().enumerate() {
                for (j, &n) in neurons.iter().enumerate() {
                    let sum: f64 = bins.iter().map(|&t| values[p * sp + n * sn + t * st]).sum();
                    let v = sum / bins.len() as f64;
                    nan += v.is_nan() as usize;
                    out[[s, j, r]] = v;
                }
            }
        }
        if nan > 0 {
            return Err(input(
                &self.path,
                format!(
                    "{nan} responses are NaN after averaging time bins; brainlike's PLS needs every response"
                ),
            ));
        }
        let strata = match strata {
            None => None,
            Some(m) => Some(
                order
                    .iter()
                    .map(|id| {
                        m.get(id).cloned().ok_or_else(|| {
                            input(
                                &self.path,
                                format!("stimulus {id:?} has no stratum in the stimulus set"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        Ok(NeuralData {
            responses: out,
            stimulus_ids: order,
            strata,
        })
    }

    /// The 2AFC trials of a behavioural assembly (Rajalingham2018): one per presentation.
    pub fn trials(&self) -> Result<Vec<Trial>> {
        let Values::Strings(choices) = &self.values else {
            return Err(input(
                &self.path,
                "the values are numbers; a behavioural assembly holds the chosen label (strings) per trial",
            ));
        };
        if self.dims != ["presentation"] {
            return Err(input(
                &self.path,
                format!(
                    "a behavioural assembly is 1-D over presentation, this one is {}",
                    self.dims.join(" x ")
                ),
            ));
        }
        let ids = self.stimulus_ids()?;
        let truth = match self.coord("truth", "presentation") {
            Ok(c) => c,
            Err(_) => self.coord("sample_obj", "presentation")?,
        };
        let dist = self.coord("dist_obj", "presentation")?;
        let worker = self
            .coords
            .get("worker_id")
            .filter(|c| c.dim == "presentation");
        let mut out = Vec::with_capacity(ids.len());
        for (i, id) in ids.into_iter().enumerate() {
            let (t, d, c) = (
                truth.values.text(i),
                dist.values.text(i),
                choices[i].clone(),
            );
            if c != t && c != d {
                return Err(input(
                    &self.path,
                    format!(
                        "trial {i}: choice {c:?} is neither the truth {t:?} nor the distractor {d:?}"
                    ),
                ));
            }
            out.push(Trial {
                image_id: id,
                true_label: t,
                distractor_label: d,
                choice_label: c,
                subject: worker.map(|w| w.values.text(i)),
            });
        }
        Ok(out)
    }
}

/// Which part of a neural assembly to use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NeuralSelection {
    /// Neuroids whose `region` is this (`None`: all).
    pub region: Option<String>,
    /// Average the time bins with `start >= lo` and `end <= hi` (ms); `None`: all bins.
    pub time_window: Option<(f64, f64)>,
}

/// A Brain-Score stimulus set: its CSV (`stimulus_id`, `filename`, metadata columns) and the
/// folder the images were unpacked into.
#[derive(Debug, Clone)]
pub struct StimulusSet {
    /// The CSV.
    pub csv: PathBuf,
    /// Folder that `filename` is relative to.
    pub dir: PathBuf,
    /// Column names.
    pub columns: Vec<String>,
    /// Stimulus ids, in the CSV's order.
    pub ids: Vec<String>,
    /// Every column's values, by column then row.
    values: Vec<Vec<String>>,
}

impl StimulusSet {
    /// Reads `csv` (or the one `.csv` file in the folder `csv`); images are found under `dir`
    /// (default: the CSV's folder).
    pub fn open(csv: &Path, dir: Option<&Path>) -> Result<Self> {
        let found;
        let csv = if csv.is_dir() {
            let mut list: Vec<PathBuf> = std::fs::read_dir(csv)
                .map_err(|e| input(csv, format!("cannot list: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")))
                .collect();
            list.sort();
            match list.len() {
                1 => {
                    found = list.remove(0);
                    found.as_path()
                }
                n => {
                    return Err(input(
                        csv,
                        format!(
                            "a stimulus set folder holds one .csv (Brain-Score's stimulus CSV), found {n}; give the CSV itself"
                        ),
                    ));
                }
            }
        } else {
            csv
        };
        let mut r = csv::Reader::from_path(csv)
            .map_err(|e| input(csv, format!("cannot read the stimulus set CSV: {e}")))?;
        let columns: Vec<String> = r
            .headers()
            .map_err(|e| input(csv, format!("no header row: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut values = vec![Vec::new(); columns.len()];
        for (i, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| input(csv, format!("line {}: {e}", i + 2)))?;
            for (c, v) in values.iter_mut().zip(rec.iter()) {
                c.push(v.to_string());
            }
        }
        let dir = dir
            .map(Path::to_path_buf)
            .unwrap_or_else(|| csv.parent().unwrap_or(Path::new(".")).to_path_buf());
        let mut set = Self {
            csv: csv.to_path_buf(),
            dir,
            columns,
            ids: Vec::new(),
            values,
        };
        set.ids = match set.column("stimulus_id") {
            Ok(c) => c.to_vec(),
            Err(_) => set
                .column("image_id")
                .map_err(|_| {
                    input(
                        csv,
                        format!(
                            "no stimulus_id (or image_id) column; columns: {}",
                            set.columns.join(", ")
                        ),
                    )
                })?
                .to_vec(),
        };
        set.column("filename")?;
        Ok(set)
    }

    /// The values of column `name`, in row order.
    pub fn column(&self, name: &str) -> Result<&[String]> {
        self.columns
            .iter()
            .position(|c| c == name)
            .map(|i| self.values[i].as_slice())
            .ok_or_else(|| {
                input(
                    &self.csv,
                    format!("no column {name:?}; columns: {}", self.columns.join(", ")),
                )
            })
    }

    /// Stimulus id → value of column `name`.
    pub fn by_id(&self, name: &str) -> Result<HashMap<String, String>> {
        Ok(self
            .ids
            .iter()
            .cloned()
            .zip(self.column(name)?.iter().cloned())
            .collect())
    }

    /// The image file of stimulus `id`: `dir/filename`, or `dir/<file name of filename>` when
    /// the zip was unpacked flat.
    pub fn image(&self, id: &str) -> Result<PathBuf> {
        let i = self
            .ids
            .iter()
            .position(|s| s == id)
            .ok_or_else(|| input(&self.csv, format!("no stimulus {id:?}")))?;
        let name = &self.column("filename")?[i];
        let full = self.dir.join(name);
        if full.is_file() {
            return Ok(full);
        }
        if let Some(base) = Path::new(name).file_name() {
            let flat = self.dir.join(base);
            if flat.is_file() {
                return Ok(flat);
            }
        }
        Err(input(
            &self.csv,
            format!(
                "the image of stimulus {id:?} ({name}) is not in {}; unzip the stimulus set's .zip there",
                self.dir.display()
            ),
        ))
    }

    /// Copies the images of `ids` into `out` as `<id>.<extension>` (the image folder
    /// `brainlike score --images` reads, ids = file stems).
    pub fn copy_images(&self, ids: &[String], out: &Path) -> Result<()> {
        std::fs::create_dir_all(out).map_err(|e| input(out, format!("cannot create: {e}")))?;
        for id in ids {
            let src = self.image(id)?;
            let ext = src
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_else(|| "png".into());
            let dst = out.join(format!("{id}.{ext}"));
            std::fs::copy(&src, &dst)
                .map_err(|e| input(&src, format!("cannot copy to {}: {e}", dst.display())))?;
        }
        Ok(())
    }
}

/// How [`convert`] reads a neural assembly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConvertOptions {
    /// Region and time window.
    pub selection: NeuralSelection,
    /// Stimulus-set column whose values stratify the cross-validation (`texture_type` for
    /// FreemanZiemba2013); needs a stimulus set.
    pub strata_column: Option<String>,
}

/// What [`convert`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub enum Converted {
    /// `neural.npy` (stimuli x neurons x repetitions), `stimuli.txt`, optional
    /// `strata.txt`, optional `images/`.
    Neural {
        /// Stimuli, neurons, repetitions.
        shape: [usize; 3],
        /// Whether `strata.txt` was written.
        strata: bool,
    },
    /// `trials.csv` and optional `images/`.
    Behavior {
        /// Trials written.
        trials: usize,
        /// Distinct images.
        images: usize,
    },
}

/// Writes `assembly` as the files `brainlike score` reads into `out`, with the images of
/// `stimuli` (when given) copied into `out/images` under their stimulus ids.
pub fn convert(
    assembly: &Assembly,
    stimuli: Option<&StimulusSet>,
    opts: &ConvertOptions,
    out: &Path,
) -> Result<Converted> {
    std::fs::create_dir_all(out).map_err(|e| input(out, format!("cannot create: {e}")))?;
    let write = |name: &str, text: String| -> Result<()> {
        let p = out.join(name);
        std::fs::write(&p, text).map_err(|e| input(&p, format!("cannot write: {e}")))
    };
    if let Values::Strings(_) = assembly.values {
        let trials = assembly.trials()?;
        let mut w = csv::Writer::from_writer(Vec::new());
        let io = |e: csv::Error| input(&out.join("trials.csv"), e.to_string());
        w.write_record([
            "image_id",
            "true_label",
            "distractor_label",
            "choice_label",
            "subject",
        ])
        .map_err(io)?;
        for t in &trials {
            w.write_record([
                t.image_id.as_str(),
                &t.true_label,
                &t.distractor_label,
                &t.choice_label,
                t.subject.as_deref().unwrap_or(""),
            ])
            .map_err(io)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| input(&out.join("trials.csv"), e.to_string()))?;
        write("trials.csv", String::from_utf8_lossy(&bytes).into_owned())?;
        let mut ids: Vec<String> = trials.iter().map(|t| t.image_id.clone()).collect();
        ids.sort();
        ids.dedup();
        if let Some(s) = stimuli {
            s.copy_images(&ids, &out.join("images"))?;
        }
        return Ok(Converted::Behavior {
            trials: trials.len(),
            images: ids.len(),
        });
    }
    let strata_map = match (&opts.strata_column, stimuli) {
        (Some(c), Some(s)) => Some(s.by_id(c)?),
        (Some(c), None) => {
            return Err(input(
                &assembly.path,
                format!("strata from column {c:?} need a stimulus set"),
            ));
        }
        (None, _) => None,
    };
    let data = assembly.neural(&opts.selection, strata_map.as_ref())?;
    let (s, n, r) = data.responses.dim();
    brainlike_metrics::io::write_npy(
        out.join("neural.npy"),
        &[s as u64, n as u64, r as u64],
        data.responses
            .as_slice()
            .expect("a fresh array is contiguous"),
    )?;
    write("stimuli.txt", data.stimulus_ids.join("\n") + "\n")?;
    if let Some(st) = &data.strata {
        write("strata.txt", st.join("\n") + "\n")?;
    }
    if let Some(set) = stimuli {
        set.copy_images(&data.stimulus_ids, &out.join("images"))?;
    }
    Ok(Converted::Neural {
        shape: [s, n, r],
        strata: data.strata.is_some(),
    })
}
