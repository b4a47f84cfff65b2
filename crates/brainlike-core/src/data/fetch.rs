//! Download of CIFAR-100 from the dataset's home, as torchvision does it: a progress bar, the
//! MD5 checksum verified, written atomically (`.part` file renamed when complete and verified).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use super::cifar100::{self, ARCHIVE_NAME, Cifar100};
use crate::error::{Error, Result};

/// Loads CIFAR-100 from `dir`, downloading it there first when missing (unless `offline`).
pub fn load_or_fetch(dir: &Path, offline: bool) -> Result<Cifar100> {
    match Cifar100::load(dir) {
        Err(Error::Missing(msg)) if offline => Err(Error::Missing(format!(
            "{msg}; not downloading because offline mode is on: point --data-dir (or \
             $BRAINLIKE_DATA) at the folder holding {ARCHIVE_NAME}, put it in {}, or drop \
             --offline / data.offline",
            dir.display()
        ))),
        Err(Error::Missing(_)) => {
            let existed = dir.exists();
            if let Err(e) = fetch(dir) {
                if !existed {
                    // A mistyped --data-dir must not leave an empty folder behind.
                    let _ = std::fs::remove_file(dir.join(format!("{ARCHIVE_NAME}.part")));
                    let _ = std::fs::remove_dir(dir);
                }
                return Err(Error::Missing(format!(
                    "CIFAR-100 was not found in {} ({}) and downloading it failed: {e}; check \
                     --data-dir (or $BRAINLIKE_DATA), or download {} by hand into that folder",
                    dir.display(),
                    if existed {
                        "no cifar-100-binary/ or archive there"
                    } else {
                        "no such folder"
                    },
                    cifar100::URL
                )));
            }
            Cifar100::load(dir)
        }
        other => other,
    }
}

/// Downloads the archive into `dir` (no-op when a verified archive is already there).
pub fn fetch(dir: &Path) -> Result<PathBuf> {
    let dest = dir.join(ARCHIVE_NAME);
    if dest.is_file() {
        return Ok(dest);
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let part = dir.join(format!("{ARCHIVE_NAME}.part"));
    eprintln!("downloading {} to {}", cifar100::URL, dest.display());
    let response = ureq::get(cifar100::URL)
        .call()
        .map_err(|e| Error::Other(format!("download of {} failed: {e}", cifar100::URL)))?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let bar = indicatif::ProgressBar::new(total.unwrap_or(0));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template"),
    );
    let mut reader = response.into_body().into_reader();
    let mut file = std::fs::File::create(&part).map_err(|e| Error::io(&part, e))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| Error::Other(format!("download of {} failed: {e}", cifar100::URL)))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).map_err(|e| Error::io(&part, e))?;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    file.sync_all().map_err(|e| Error::io(&part, e))?;
    let digest = format!("{:x}", hasher.finalize());
    if digest != cifar100::MD5 {
        let _ = std::fs::remove_file(&part);
        return Err(Error::format(
            &part,
            "whole file",
            format!(
                "MD5 {} (dataset page), got {digest}: corrupt download",
                cifar100::MD5
            ),
        ));
    }
    std::fs::rename(&part, &dest).map_err(|e| Error::io(&dest, e))?;
    Ok(dest)
}
