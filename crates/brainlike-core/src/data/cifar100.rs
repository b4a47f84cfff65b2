//! CIFAR-100 (Krizhevsky 2009) in its official binary distribution.
//!
//! `cifar-100-binary/{train.bin,test.bin,coarse_label_names.txt,fine_label_names.txt}`; each
//! record is 3,074 bytes: `<coarse u8><fine u8><1024 R><1024 G><1024 B>`, row-major 32x32.
//! Read from the `.tar.gz` archive or its extracted folder; every record is validated.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Bytes per record: two labels and 3x32x32 pixels.
pub const RECORD_BYTES: usize = 2 + IMAGE_BYTES;
/// Bytes per image.
pub const IMAGE_BYTES: usize = 3 * 32 * 32;
/// Fine classes.
pub const NUM_FINE: usize = 100;
/// Coarse classes (superclasses).
pub const NUM_COARSE: usize = 20;
/// Training records in the official distribution.
pub const TRAIN_COUNT: usize = 50_000;
/// Test records in the official distribution.
pub const TEST_COUNT: usize = 10_000;
/// The archive's file name.
pub const ARCHIVE_NAME: &str = "cifar-100-binary.tar.gz";
/// The extracted folder's name.
pub const FOLDER_NAME: &str = "cifar-100-binary";
/// The dataset's home.
pub const URL: &str = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz";
/// MD5 of the archive served at [`URL`] (as listed on the dataset's page).
pub const MD5: &str = "03b5dce01913d631647c71ecec9e9cb8";

/// One split: images as u8 CHW, fine and coarse labels.
#[derive(Debug, Clone)]
pub struct Split {
    /// `len * 3072` bytes, each image channel-major (R, G, B planes), row-major.
    pub images: Vec<u8>,
    /// Fine labels, 0..100.
    pub fine: Vec<u8>,
    /// Coarse labels, 0..20.
    pub coarse: Vec<u8>,
}

impl Split {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.fine.len()
    }

    /// Whether the split is empty.
    pub fn is_empty(&self) -> bool {
        self.fine.is_empty()
    }

    /// The first `n` images (all if `n == 0` or `n >= len`).
    pub fn truncated(mut self, n: usize) -> Self {
        if n > 0 && n < self.len() {
            self.images.truncate(n * IMAGE_BYTES);
            self.fine.truncate(n);
            self.coarse.truncate(n);
        }
        self
    }

    /// Pixel `i`'s image bytes.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES]
    }

    /// Mean pixel value over all images and channels, in [0, 1] (the paper's global centring).
    pub fn global_mean(&self) -> f64 {
        self.global_mean_first(0)
    }

    /// [`Split::global_mean`] of the first `n` images (all if `n == 0` or `n >= len`).
    pub fn global_mean_first(&self, n: usize) -> f64 {
        let n = if n == 0 {
            self.len()
        } else {
            n.min(self.len())
        };
        let bytes = &self.images[..n * IMAGE_BYTES];
        let sum: u64 = bytes.iter().map(|&b| b as u64).sum();
        sum as f64 / (bytes.len().max(1) as f64 * 255.0)
    }
}

/// The whole data set.
#[derive(Debug, Clone)]
pub struct Cifar100 {
    /// 50,000 training images.
    pub train: Split,
    /// 10,000 test images.
    pub test: Split,
    /// Fine class names, in label order.
    pub fine_names: Vec<String>,
    /// Coarse class names, in label order.
    pub coarse_names: Vec<String>,
    /// Coarse label of each fine label.
    pub fine_to_coarse: [u8; NUM_FINE],
    /// Where it was read from.
    pub source: PathBuf,
}

/// Where CIFAR-100 is looked for: `dir` if given, else `$BRAINLIKE_DATA`, else `./data`.
pub fn resolve_data_dir(dir: &Path) -> PathBuf {
    if !dir.as_os_str().is_empty() {
        return dir.to_path_buf();
    }
    match std::env::var_os("BRAINLIKE_DATA") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from("data"),
    }
}

/// The places inside `dir` that may hold the data set, in the order they are tried.
pub fn candidates(dir: &Path) -> Vec<PathBuf> {
    vec![
        dir.join(FOLDER_NAME),
        dir.join(ARCHIVE_NAME),
        dir.to_path_buf(),
    ]
}

impl Cifar100 {
    /// Reads CIFAR-100 from `dir` (extracted folder, archive, or `dir` itself holding the
    /// `.bin` files).
    pub fn load(dir: &Path) -> Result<Self> {
        let folder = dir.join(FOLDER_NAME);
        if folder.join("train.bin").is_file() {
            return Self::from_folder(&folder);
        }
        let archive = dir.join(ARCHIVE_NAME);
        if archive.is_file() {
            return Self::from_archive(&archive);
        }
        if dir.join("train.bin").is_file() {
            return Self::from_folder(dir);
        }
        if dir.is_file() {
            return Self::from_archive(dir);
        }
        Err(Error::Missing(format!(
            "CIFAR-100 not found; looked for {}",
            candidates(dir)
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }

    /// Reads the extracted folder.
    pub fn from_folder(folder: &Path) -> Result<Self> {
        let read = |name: &str| {
            let p = folder.join(name);
            std::fs::read(&p).map_err(|e| Error::io(&p, e))
        };
        Self::from_parts(
            folder,
            &folder.join("train.bin"),
            &read("train.bin")?,
            &folder.join("test.bin"),
            &read("test.bin")?,
            &folder.join("fine_label_names.txt"),
            &read("fine_label_names.txt")?,
            &folder.join("coarse_label_names.txt"),
            &read("coarse_label_names.txt")?,
        )
    }

    /// Reads the `.tar.gz` archive without extracting it to disk.
    pub fn from_archive(archive: &Path) -> Result<Self> {
        let file = std::fs::File::open(archive).map_err(|e| Error::io(archive, e))?;
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let (mut train, mut test, mut fine, mut coarse) = (None, None, None, None);
        let entries = tar.entries().map_err(|e| Error::io(archive, e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| {
                Error::format(
                    archive,
                    "tar stream",
                    format!("a readable gzip tar archive ({e})"),
                )
            })?;
            let name = entry
                .path()
                .map(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
                .ok()
                .flatten()
                .unwrap_or_default();
            let slot = match name.as_str() {
                "train.bin" => &mut train,
                "test.bin" => &mut test,
                "fine_label_names.txt" => &mut fine,
                "coarse_label_names.txt" => &mut coarse,
                _ => continue,
            };
            let mut buf = Vec::with_capacity(entry.size() as usize);
            entry.read_to_end(&mut buf).map_err(|e| {
                Error::format(
                    archive,
                    format!("member {name}"),
                    format!("complete data ({e})"),
                )
            })?;
            *slot = Some(buf);
        }
        let need = |v: Option<Vec<u8>>, name: &str| {
            v.ok_or_else(|| {
                Error::format(
                    archive,
                    format!("member {FOLDER_NAME}/{name}"),
                    "the archive to contain it",
                )
            })
        };
        let (train, test) = (need(train, "train.bin")?, need(test, "test.bin")?);
        let (fine, coarse) = (
            need(fine, "fine_label_names.txt")?,
            need(coarse, "coarse_label_names.txt")?,
        );
        let member = |n: &str| archive.join(n);
        Self::from_parts(
            archive,
            &member("train.bin"),
            &train,
            &member("test.bin"),
            &test,
            &member("fine_label_names.txt"),
            &fine,
            &member("coarse_label_names.txt"),
            &coarse,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn from_parts(
        source: &Path,
        train_path: &Path,
        train: &[u8],
        test_path: &Path,
        test: &[u8],
        fine_path: &Path,
        fine: &[u8],
        coarse_path: &Path,
        coarse: &[u8],
    ) -> Result<Self> {
        let train = parse_split(train_path, train, TRAIN_COUNT)?;
        let test = parse_split(test_path, test, TEST_COUNT)?;
        let fine_names = parse_names(fine_path, fine, NUM_FINE)?;
        let coarse_names = parse_names(coarse_path, coarse, NUM_COARSE)?;
        let fine_to_coarse = fine_to_coarse(train_path, &train)?;
        Ok(Self {
            train,
            test,
            fine_names,
            coarse_names,
            fine_to_coarse,
            source: source.to_path_buf(),
        })
    }
}

/// Parses one `.bin` file, validating size, count and label ranges.
pub fn parse_split(path: &Path, bytes: &[u8], expected_count: usize) -> Result<Split> {
    if !bytes.len().is_multiple_of(RECORD_BYTES) {
        let whole = bytes.len() / RECORD_BYTES;
        return Err(Error::format(
            path,
            format!("record {whole} (byte {})", whole * RECORD_BYTES),
            format!(
                "records of {RECORD_BYTES} bytes; the file has {} bytes, {} left over: truncated or not CIFAR-100",
                bytes.len(),
                bytes.len() % RECORD_BYTES
            ),
        ));
    }
    let n = bytes.len() / RECORD_BYTES;
    if n != expected_count {
        return Err(Error::format(
            path,
            "whole file",
            format!("{expected_count} records of {RECORD_BYTES} bytes, found {n}"),
        ));
    }
    let mut split = Split {
        images: Vec::with_capacity(n * IMAGE_BYTES),
        fine: Vec::with_capacity(n),
        coarse: Vec::with_capacity(n),
    };
    for (i, rec) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
        let (coarse, fine) = (rec[0], rec[1]);
        if coarse as usize >= NUM_COARSE {
            return Err(Error::format(
                path,
                format!("record {i} (byte {})", i * RECORD_BYTES),
                format!("a coarse label in 0..{NUM_COARSE}, found {coarse}"),
            ));
        }
        if fine as usize >= NUM_FINE {
            return Err(Error::format(
                path,
                format!("record {i} (byte {})", i * RECORD_BYTES + 1),
                format!("a fine label in 0..{NUM_FINE}, found {fine}"),
            ));
        }
        split.coarse.push(coarse);
        split.fine.push(fine);
        split.images.extend_from_slice(&rec[2..]);
    }
    Ok(split)
}

fn parse_names(path: &Path, bytes: &[u8], expected: usize) -> Result<Vec<String>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Error::format(path, "whole file", format!("UTF-8 text ({e})")))?;
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if names.len() != expected {
        return Err(Error::format(
            path,
            "whole file",
            format!(
                "{expected} class names, one per line, found {}",
                names.len()
            ),
        ));
    }
    Ok(names)
}

fn fine_to_coarse(path: &Path, split: &Split) -> Result<[u8; NUM_FINE]> {
    let mut map = [u8::MAX; NUM_FINE];
    for (i, (&f, &c)) in split.fine.iter().zip(&split.coarse).enumerate() {
        let slot = &mut map[f as usize];
        if *slot == u8::MAX {
            *slot = c;
        } else if *slot != c {
            return Err(Error::format(
                path,
                format!("record {i}"),
                format!("fine class {f} always in superclass {}, found {c}", *slot),
            ));
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(coarse: u8, fine: u8) -> Vec<u8> {
        let mut r = vec![coarse, fine];
        r.extend(std::iter::repeat_n(7u8, IMAGE_BYTES));
        r
    }

    #[test]
    fn parses_valid_records() {
        let bytes: Vec<u8> = (0..3).flat_map(|i| record(i, i * 5)).collect();
        let s = parse_split(Path::new("x.bin"), &bytes, 3).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s.fine, vec![0, 5, 10]);
        assert_eq!(s.coarse, vec![0, 1, 2]);
        assert!((s.global_mean() - 7.0 / 255.0).abs() < 1e-12);
    }

    #[test]
    fn truncated_file_names_record() {
        let mut bytes: Vec<u8> = (0..3).flat_map(|_| record(1, 2)).collect();
        bytes.truncate(bytes.len() - 100);
        let err = parse_split(Path::new("train.bin"), &bytes, 3)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("train.bin") && err.contains("record 2"),
            "{err}"
        );
    }

    #[test]
    fn wrong_count_and_labels_are_errors() {
        let bytes: Vec<u8> = (0..2).flat_map(|_| record(1, 2)).collect();
        let err = parse_split(Path::new("t.bin"), &bytes, 3)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("3 records") && err.contains("found 2"),
            "{err}"
        );
        let mut bytes: Vec<u8> = (0..2).flat_map(|_| record(1, 2)).collect();
        bytes[RECORD_BYTES + 1] = 100;
        let err = parse_split(Path::new("t.bin"), &bytes, 2)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("record 1") && err.contains("fine label"),
            "{err}"
        );
        bytes[RECORD_BYTES + 1] = 2;
        bytes[0] = 20;
        let err = parse_split(Path::new("t.bin"), &bytes, 2)
            .unwrap_err()
            .to_string();
        assert!(err.contains("record 0") && err.contains("coarse"), "{err}");
    }
}
