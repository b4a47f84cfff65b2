//! Reads CIFAR-100 records straight from `cifar-100-binary.tar.gz` (layout in
//! /work/shared/data/README.md: `<coarse u8><fine u8><1024 R><1024 G><1024 B>` per record).

use std::io::Read;
use std::path::Path;

/// Planar `3 x 32 x 32` images, their fine labels and the 100 fine class names.
#[allow(dead_code)] // each example reads the fields it needs
pub struct Cifar {
    /// Planar RGB bytes, 3072 per image.
    pub images: Vec<Vec<u8>>,
    /// Fine labels.
    pub labels: Vec<usize>,
    /// Fine class names.
    pub class_names: Vec<String>,
}

/// Reads the first `limit` records of `member` (`train.bin` or `test.bin`) from the archive.
pub fn read_cifar(archive: &Path, member: &str, limit: usize) -> Result<Cifar, String> {
    let file = std::fs::File::open(archive)
        .map_err(|e| format!("cannot open {}: {e}", archive.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let (mut records, mut names) = (None, None);
    for entry in tar
        .entries()
        .map_err(|e| format!("{}: {e}", archive.display()))?
    {
        let mut entry = entry.map_err(|e| format!("{}: {e}", archive.display()))?;
        let path = entry
            .path()
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .into_owned();
        if path.ends_with(&format!("/{member}")) {
            let mut buf = vec![0u8; 3074 * limit];
            let mut read = 0;
            while read < buf.len() {
                let n = entry.read(&mut buf[read..]).map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                read += n;
            }
            buf.truncate(read - read % 3074);
            records = Some(buf);
        } else if path.ends_with("/fine_label_names.txt") {
            let mut s = String::new();
            entry.read_to_string(&mut s).map_err(|e| e.to_string())?;
            names = Some(
                s.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect(),
            );
        }
        if records.is_some() && names.is_some() {
            break;
        }
    }
    let records =
        records.ok_or_else(|| format!("{}: no member ending in /{member}", archive.display()))?;
    let class_names =
        names.ok_or_else(|| format!("{}: no fine_label_names.txt", archive.display()))?;
    let (images, labels) = records
        .chunks_exact(3074)
        .map(|r| (r[2..].to_vec(), usize::from(r[1])))
        .unzip();
    Ok(Cifar {
        images,
        labels,
        class_names,
    })
}
