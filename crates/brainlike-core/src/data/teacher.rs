//! The monkey-V1 teacher pack: stimuli and pair sets.
//!
//! Layout (see `assets/v1-teacher/PROVENANCE.md`): `stimuli/NNNN.png` (956 stimuli, 227x227
//! grayscale) and `pairs/<name>.tsv` with header `image_a  image_b  cosine_distance` (tab
//! separated; stimulus numbers; 1 − cosine similarity of V1 population responses). The pack is
//! built into the binary, so the default teacher needs no data directory.

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

static BUILTIN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../assets/v1-teacher");

/// Names of the pair sets shipped in the pack.
pub const PAIR_SETS: [&str; 4] = [
    "v1",
    "v1_shuffled",
    "gaussian_v1_stats",
    "gaussian_non_v1_stats",
];

/// One teacher pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    /// First stimulus.
    pub a: u32,
    /// Second stimulus.
    pub b: u32,
    /// Teacher cosine distance.
    pub distance: f32,
}

/// A set of teacher pairs.
#[derive(Debug, Clone)]
pub struct PairSet {
    /// Name (`v1`, ...) or path.
    pub name: String,
    /// The pairs.
    pub pairs: Vec<Pair>,
}

impl PairSet {
    /// The pairs whose two stimuli are both in `stimuli` (order kept; the name too). With
    /// every stimulus of the pack in `stimuli` this is the set itself, pair for pair. Errors
    /// when no pair is left.
    pub fn within(&self, stimuli: &[u32]) -> Result<PairSet> {
        let max = stimuli.iter().max().map_or(0, |&m| m as usize + 1);
        let mut keep = vec![false; max];
        for &s in stimuli {
            keep[s as usize] = true;
        }
        let inside = |s: u32| keep.get(s as usize).copied().unwrap_or(false);
        let pairs: Vec<Pair> = self
            .pairs
            .iter()
            .filter(|p| inside(p.a) && inside(p.b))
            .copied()
            .collect();
        if pairs.is_empty() {
            return Err(Error::Config {
                origin: "teacher.holdout_fraction".into(),
                msg: format!(
                    "no pair of {:?} ({} pairs) has both stimuli among the {} stimuli kept",
                    self.name,
                    self.pairs.len(),
                    stimuli.len()
                ),
            });
        }
        Ok(PairSet {
            name: self.name.clone(),
            pairs,
        })
    }
}

/// A seeded split of the pack's stimuli, by stimulus, into a teacher set (whose pairs train)
/// and a held-out set (whose pairs score the model on stimuli the teacher never showed it).
/// Pairs with one stimulus in each set belong to neither.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StimulusSplit {
    /// Fraction of the stimuli held out (`teacher.holdout_fraction`).
    pub holdout_fraction: f64,
    /// Seed of the shuffle (`teacher.split_seed`).
    pub seed: u64,
    /// Teacher-set stimulus ids, ascending.
    pub teacher: Vec<u32>,
    /// Held-out stimulus ids, ascending.
    pub heldout: Vec<u32>,
}

impl StimulusSplit {
    /// Splits stimuli `0..count`: a ChaCha8 shuffle seeded with `seed`, whose first
    /// `round(holdout_fraction * count)` ids are held out. Deterministic for a given
    /// `(count, holdout_fraction, seed)`; `holdout_fraction = 0` keeps every stimulus in the
    /// teacher set (and draws nothing).
    pub fn new(count: usize, holdout_fraction: f64, seed: u64) -> Self {
        let k = ((holdout_fraction.clamp(0.0, 1.0) * count as f64).round() as usize).min(count);
        let mut ids: Vec<u32> = (0..count as u32).collect();
        if k > 0 {
            ids.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        }
        let mut heldout = ids[..k].to_vec();
        let mut teacher = ids[k..].to_vec();
        heldout.sort_unstable();
        teacher.sort_unstable();
        Self {
            holdout_fraction,
            seed,
            teacher,
            heldout,
        }
    }

    /// 64-bit FNV-1a of the held-out ids (little-endian `u32`s, ascending), as 16 hex
    /// digits: names the held-out set in a score file.
    pub fn heldout_hash(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.heldout.iter().flat_map(|s| s.to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

/// Where a pack comes from.
#[derive(Debug, Clone)]
pub enum PackSource {
    /// Built into the binary.
    Builtin,
    /// A folder on disk.
    Dir(PathBuf),
}

impl PackSource {
    /// `Builtin` for an empty path.
    pub fn from_dir(dir: &Path) -> Self {
        if dir.as_os_str().is_empty() {
            PackSource::Builtin
        } else {
            PackSource::Dir(dir.to_path_buf())
        }
    }

    fn read(&self, rel: &str) -> Result<(PathBuf, Vec<u8>)> {
        match self {
            PackSource::Builtin => {
                let path = PathBuf::from("<built-in v1-teacher>").join(rel);
                BUILTIN
                    .get_file(rel)
                    .map(|f| (path.clone(), f.contents().to_vec()))
                    .ok_or_else(|| {
                        Error::Missing(format!("{} not in the built-in pack", path.display()))
                    })
            }
            PackSource::Dir(dir) => {
                let path = dir.join(rel);
                std::fs::read(&path)
                    .map(|b| (path.clone(), b))
                    .map_err(|e| Error::io(&path, e))
            }
        }
    }

    /// Number of stimuli `stimuli/NNNN.png` (counted contiguously from 0000).
    pub fn stimulus_count(&self) -> usize {
        let mut n = 0;
        loop {
            let rel = stimulus_rel(n);
            let exists = match self {
                PackSource::Builtin => BUILTIN.get_file(&rel).is_some(),
                PackSource::Dir(d) => d.join(&rel).is_file(),
            };
            if !exists {
                return n;
            }
            n += 1;
        }
    }
}

fn stimulus_rel(i: usize) -> String {
    format!("stimuli/{i:04}.png")
}

/// Reads a pair set by name (from `source`) or by path, checking every index against
/// `num_stimuli` and every distance for finiteness.
pub fn load_pairs(source: &PackSource, name_or_path: &str, num_stimuli: usize) -> Result<PairSet> {
    let (path, bytes) = if PAIR_SETS.contains(&name_or_path) {
        source.read(&format!("pairs/{name_or_path}.tsv"))?
    } else {
        let p = PathBuf::from(name_or_path);
        if !p.is_file() {
            return Err(Error::Config {
                origin: "teacher.pairs".into(),
                msg: format!(
                    "{name_or_path:?} is neither a pair set ({}) nor an existing file",
                    PAIR_SETS.join(", ")
                ),
            });
        }
        let b = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
        (p, b)
    };
    let pairs = parse_pairs(&path, &bytes, num_stimuli)?;
    Ok(PairSet {
        name: name_or_path.to_string(),
        pairs,
    })
}

/// Parses a pair TSV.
pub fn parse_pairs(path: &Path, bytes: &[u8], num_stimuli: usize) -> Result<Vec<Pair>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Error::format(path, "whole file", format!("UTF-8 text ({e})")))?;
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, l)| l.trim()).unwrap_or("");
    let cols: Vec<&str> = header.split('\t').map(str::trim).collect();
    if cols != ["image_a", "image_b", "cosine_distance"] {
        return Err(Error::format(
            path,
            "line 1",
            format!("header `image_a<TAB>image_b<TAB>cosine_distance`, found {header:?}"),
        ));
    }
    let mut pairs = Vec::new();
    for (i, line) in lines {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        if fields.len() != 3 {
            return Err(Error::format(
                path,
                format!("line {line_no}"),
                format!("3 tab-separated fields, found {}", fields.len()),
            ));
        }
        let index = |s: &str, col: &str| -> Result<u32> {
            let v: usize = s.parse().map_err(|_| {
                Error::format(
                    path,
                    format!("line {line_no}"),
                    format!("{col} a stimulus number, found {s:?}"),
                )
            })?;
            if v >= num_stimuli {
                return Err(Error::format(
                    path,
                    format!("line {line_no}"),
                    format!("{col} < {num_stimuli} (stimuli in the pack), found {v}"),
                ));
            }
            Ok(v as u32)
        };
        let a = index(fields[0], "image_a")?;
        let b = index(fields[1], "image_b")?;
        let distance: f64 = fields[2].parse().map_err(|_| {
            Error::format(
                path,
                format!("line {line_no}"),
                format!("cosine_distance a number, found {:?}", fields[2]),
            )
        })?;
        if !distance.is_finite() {
            return Err(Error::format(
                path,
                format!("line {line_no}"),
                format!("a finite cosine_distance, found {distance}"),
            ));
        }
        // 1 − cos θ lies in [0, 2]; a little rounding is tolerated.
        if !(-1e-6..=2.0 + 1e-6).contains(&distance) {
            return Err(Error::format(
                path,
                format!("line {line_no}"),
                format!("a cosine_distance in [0, 2] (1 − cosine similarity), found {distance}"),
            ));
        }
        pairs.push(Pair {
            a,
            b,
            distance: distance as f32,
        });
    }
    if pairs.is_empty() {
        return Err(Error::format(path, "whole file", "at least one pair"));
    }
    Ok(pairs)
}

/// Teacher stimuli decoded for the network: grayscale replicated to 3 channels, resized to
/// `size` x `size`, pixels in [0, 1], not centred (the paper: "the natural images that were
/// presented to the monkeys ... were also not preprocessed").
#[derive(Debug, Clone)]
pub struct Stimuli {
    /// `count * 3 * size * size` values, NCHW.
    pub pixels: Vec<f32>,
    /// Number of stimuli.
    pub count: usize,
    /// Side length.
    pub size: usize,
}

impl Stimuli {
    /// Decodes every stimulus of the pack (in parallel).
    pub fn load(source: &PackSource, size: usize) -> Result<Self> {
        let count = source.stimulus_count();
        if count == 0 {
            return Err(Error::Missing(format!(
                "no stimuli/0000.png in the teacher pack {source:?}"
            )));
        }
        let images: Vec<Vec<f32>> = (0..count)
            .into_par_iter()
            .map(|i| {
                let (path, bytes) = source.read(&stimulus_rel(i))?;
                super::image::decode_chw(&path, &bytes, size)
            })
            .collect::<Result<_>>()?;
        let pixels = images.concat();
        Ok(Self {
            pixels,
            count,
            size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pack_has_all_sets() {
        let src = PackSource::Builtin;
        assert_eq!(src.stimulus_count(), 956);
        for name in PAIR_SETS {
            let set = load_pairs(&src, name, 956).unwrap();
            assert!(set.pairs.len() > 19_000, "{name}");
        }
    }

    #[test]
    fn corrupt_pairs_name_file_and_line() {
        let p = Path::new("bad.tsv");
        let err = parse_pairs(
            p,
            b"image_a\timage_b\tcosine_distance\n1\t2\t0.5\n3\t999\t0.1\n",
            956,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("bad.tsv") && err.contains("line 3") && err.contains("999"),
            "{err}"
        );
        let err = parse_pairs(p, b"image_a\timage_b\tcosine_distance\n1\t2\tNaN\n", 956)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("finite"), "{err}");
        let err = parse_pairs(
            p,
            b"image_a\timage_b\tcosine_distance\n1\t2\t0.5\n1\t3\t7.5\n",
            956,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 3") && err.contains("[0, 2]"), "{err}");
        let err = parse_pairs(p, b"a\tb\tc\n1\t2\t0.5\n", 956)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1") && err.contains("header"), "{err}");
        let err = parse_pairs(p, b"image_a\timage_b\tcosine_distance\n1\t2\n", 956)
            .unwrap_err()
            .to_string();
        assert!(err.contains("3 tab-separated"), "{err}");
    }

    #[test]
    fn stimuli_are_gray_replicated_and_in_range() {
        let s = Stimuli::load(&PackSource::Builtin, 32).unwrap();
        assert_eq!(s.count, 956);
        assert_eq!(s.pixels.len(), 956 * 3 * 32 * 32);
        let plane = 32 * 32;
        assert_eq!(&s.pixels[..plane], &s.pixels[plane..2 * plane]);
        assert!(s.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
        let mean: f32 = s.pixels.iter().sum::<f32>() / s.pixels.len() as f32;
        assert!(mean > 0.05 && mean < 0.95, "{mean}");
    }

    #[test]
    fn stimulus_split_is_seeded_disjoint_and_complete() {
        let a = StimulusSplit::new(956, 0.2, 0);
        assert_eq!(a, StimulusSplit::new(956, 0.2, 0), "deterministic");
        assert_ne!(a.heldout, StimulusSplit::new(956, 0.2, 1).heldout, "seeded");
        assert_eq!(a.heldout.len(), 191, "round(0.2 * 956)");
        assert_eq!(a.teacher.len(), 956 - 191);
        let mut all: Vec<u32> = a.teacher.iter().chain(&a.heldout).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..956).collect::<Vec<u32>>(), "disjoint and covering");
        assert!(a.heldout.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            a.heldout_hash(),
            StimulusSplit::new(956, 0.2, 0).heldout_hash()
        );
        assert_ne!(
            a.heldout_hash(),
            StimulusSplit::new(956, 0.2, 1).heldout_hash()
        );
        let none = StimulusSplit::new(956, 0.0, 5);
        assert!(none.heldout.is_empty());
        assert_eq!(none.teacher.len(), 956);
    }

    #[test]
    fn pairs_within_a_set_only_reference_it() {
        let set = load_pairs(&PackSource::Builtin, "v1", 956).unwrap();
        let split = StimulusSplit::new(956, 0.2, 0);
        let train = set.within(&split.teacher).unwrap();
        let held = set.within(&split.heldout).unwrap();
        let in_teacher = |s: u32| split.teacher.binary_search(&s).is_ok();
        assert!(
            train
                .pairs
                .iter()
                .all(|p| in_teacher(p.a) && in_teacher(p.b))
        );
        assert!(
            held.pairs
                .iter()
                .all(|p| !in_teacher(p.a) && !in_teacher(p.b))
        );
        // Pairs with one stimulus on each side belong to neither.
        let mixed = set
            .pairs
            .iter()
            .filter(|p| in_teacher(p.a) != in_teacher(p.b))
            .count();
        assert_eq!(
            train.pairs.len() + held.pairs.len() + mixed,
            set.pairs.len()
        );
        assert!(held.pairs.len() > 400, "{}", held.pairs.len());
        // No held-out stimuli: the very same pairs, in order.
        let all = StimulusSplit::new(956, 0.0, 0);
        assert_eq!(set.within(&all.teacher).unwrap().pairs, set.pairs);
        assert!(set.within(&[]).is_err());
    }
}
