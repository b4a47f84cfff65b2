//! Image folders as a [`Dataset`]: the ImageNet layout `root/<class>/*.{jpg,jpeg,png}`
//! (classes = the sorted sub-folder names, as torchvision's `ImageFolder`), or a CSV list of
//! `path,label` rows (paths relative to the list's folder; labels a class name or index).
//!
//! Every file is checked when the folder is opened (its header read: format and size), so a
//! corrupt or unreadable image is an error naming the file before training starts; with
//! `skip_bad` such files are left out and counted instead. Images are decoded on access
//! (each call to [`Dataset::image`], on rayon's workers), resized so that the shorter side is
//! `size / crop_fraction` and centre-cropped to `size x size` — torchvision's
//! `Resize(int) + CenterCrop` — in one antialiased bilinear pass (`fast_image_resize`). With
//! `[augment] random_resized_crop` the training images are instead torchvision's
//! `RandomResizedCrop(size, scale, ratio)` + `RandomHorizontalFlip()` drawn on the decoded
//! file at its full resolution ([`Dataset::image_source_crop`]); `[[augment.ops]]` run on top.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::dataset::{Dataset, ImageRef};
use crate::error::{Error, Result};

/// A labelled folder of images.
#[derive(Debug, Clone)]
pub struct ImageFolder {
    name: String,
    files: Vec<PathBuf>,
    labels: Vec<usize>,
    classes: Vec<String>,
    size: usize,
    crop_fraction: f64,
    /// Files left out because they could not be read (with `skip_bad`).
    pub skipped: Vec<(PathBuf, String)>,
}

/// Why `path` cannot be used as an image, read from its header.
fn check(path: &Path) -> std::result::Result<(), String> {
    let reader = image::ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let (w, h) = reader.into_dimensions().map_err(|e| e.to_string())?;
    if w == 0 || h == 0 {
        return Err(format!("{w}x{h} pixels"));
    }
    Ok(())
}

impl ImageFolder {
    /// Opens `root/<class>/*` at input side `size` (crop fraction 1).
    pub fn open(root: &Path, size: usize, skip_bad: bool) -> Result<Self> {
        let mut classes: Vec<String> = Vec::new();
        let entries = std::fs::read_dir(root).map_err(|e| Error::io(root, e))?;
        for e in entries {
            let e = e.map_err(|e| Error::io(root, e))?;
            if e.path().is_dir() {
                classes.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        classes.sort();
        if classes.is_empty() {
            return Err(Error::Missing(format!(
                "{}: no class folders (expected root/<class>/*.jpg|png)",
                root.display()
            )));
        }
        let mut files = Vec::new();
        let mut labels = Vec::new();
        for (c, class) in classes.iter().enumerate() {
            let dir = root.join(class);
            let mut in_class: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| Error::io(&dir, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && crate::extract::is_image(p))
                .collect();
            in_class.sort();
            labels.extend(std::iter::repeat_n(c, in_class.len()));
            files.extend(in_class);
        }
        Self::checked(
            root.display().to_string(),
            files,
            labels,
            classes,
            size,
            skip_bad,
        )
    }

    /// Reads a CSV list of `path,label` rows (an optional header `path,label`); `classes`
    /// names the classes when labels are names (sorted unique names otherwise).
    pub fn from_csv(list: &Path, size: usize, skip_bad: bool) -> Result<Self> {
        let text = std::fs::read_to_string(list).map_err(|e| Error::io(list, e))?;
        let base = list.parent().unwrap_or(Path::new("."));
        let mut rows: Vec<(PathBuf, String)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || (i == 0 && line.eq_ignore_ascii_case("path,label")) {
                continue;
            }
            let Some((p, l)) = line.rsplit_once(',') else {
                return Err(Error::format(list, format!("line {}", i + 1), "path,label"));
            };
            rows.push((base.join(p.trim()), l.trim().to_string()));
        }
        if rows.is_empty() {
            return Err(Error::format(
                list,
                "whole file",
                "at least one path,label row",
            ));
        }
        let numeric = rows.iter().all(|(_, l)| l.parse::<usize>().is_ok());
        let classes: Vec<String> = if numeric {
            let max = rows
                .iter()
                .map(|(_, l)| l.parse::<usize>().expect("checked"))
                .max()
                .expect("rows");
            (0..=max).map(|c| c.to_string()).collect()
        } else {
            let mut c: Vec<String> = rows.iter().map(|(_, l)| l.clone()).collect();
            c.sort();
            c.dedup();
            c
        };
        let labels = rows
            .iter()
            .map(|(_, l)| classes.iter().position(|c| c == l).expect("listed"))
            .collect();
        let files = rows.into_iter().map(|(p, _)| p).collect();
        Self::checked(
            list.display().to_string(),
            files,
            labels,
            classes,
            size,
            skip_bad,
        )
    }

    fn checked(
        name: String,
        files: Vec<PathBuf>,
        labels: Vec<usize>,
        classes: Vec<String>,
        size: usize,
        skip_bad: bool,
    ) -> Result<Self> {
        use rayon::prelude::*;
        let faults: Vec<Option<String>> = files.par_iter().map(|p| check(p).err()).collect();
        let mut keep_files = Vec::with_capacity(files.len());
        let mut keep_labels = Vec::with_capacity(files.len());
        let mut skipped = Vec::new();
        for ((p, l), fault) in files.into_iter().zip(labels).zip(faults) {
            match fault {
                None => {
                    keep_files.push(p);
                    keep_labels.push(l);
                }
                Some(why) if skip_bad => skipped.push((p, why)),
                Some(why) => {
                    return Err(Error::format(
                        &p,
                        "header",
                        format!(
                            "a readable PNG or JPEG image ({why}); pass --set \
                             data.skip_bad_images=true to leave such files out"
                        ),
                    ));
                }
            }
        }
        if keep_files.is_empty() {
            return Err(Error::Missing(format!("{name}: no readable images")));
        }
        Ok(Self {
            name,
            files: keep_files,
            labels: keep_labels,
            classes,
            size,
            crop_fraction: 1.0,
            skipped,
        })
    }

    /// The same folder evaluated with a crop fraction (shorter side to `size / crop`, centre
    /// `size` kept).
    pub fn with_crop_fraction(mut self, crop: f64) -> Self {
        self.crop_fraction = crop;
        self
    }

    /// The files, in index order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Decodes image `i` at its full resolution.
    pub fn decode_source(&self, i: usize) -> Result<image::RgbImage> {
        let p = &self.files[i];
        Ok(image::open(p)
            .map_err(|e| Error::format(p, "whole file", format!("a PNG or JPEG image ({e})")))?
            .to_rgb8())
    }

    /// Decodes image `i`: shorter side to `size / crop`, centre crop, planar RGB bytes.
    pub fn decode(&self, i: usize) -> Result<Vec<u8>> {
        let img = self.decode_source(i)?;
        let s = self.size;
        // Shorter side to `s / crop`, then the centre `s` square: the same as cropping the
        // centre square of side `s / scale` from the source and resizing it to `s` (one
        // SIMD convolution pass, bilinear with antialiasing as PIL's and torchvision's).
        let (w, h) = img.dimensions();
        let short = (s as f64 / self.crop_fraction).max(s as f64);
        // Source pixels per output pixel: exactly the shorter side when the crop is 1.
        let side = w.min(h) as f64 * s as f64 / short;
        let (left, top) = ((w as f64 - side) / 2.0, (h as f64 - side) / 2.0);
        let img = super::image::resize_box(img, (left, top, side, side), s, s).map_err(|e| {
            Error::format(&self.files[i], "pixels", format!("a resizable image ({e})"))
        })?;
        Ok(super::image::to_planar(&img, false))
    }

    /// Decodes image `i` and takes the train-time random resized crop of its full-resolution
    /// source ([`Dataset::image_source_crop`]), `size x size`, planar RGB bytes.
    pub fn decode_source_crop(
        &self,
        i: usize,
        cropper: &brainlike_augment::SourceCropper,
        seed: u64,
    ) -> Result<Vec<u8>> {
        let img = self.decode_source(i)?;
        super::image::source_crop(img, cropper, seed, self.size, self.size).map_err(|e| {
            Error::format(&self.files[i], "pixels", format!("a resizable image ({e})"))
        })
    }
}

impl Dataset for ImageFolder {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn len(&self) -> usize {
        self.files.len()
    }

    /// Decodes the image. A file that passed the header check but fails to decode (damaged
    /// after its header) stops the run with the file named.
    fn image(&self, i: usize) -> ImageRef<'_> {
        let pixels = self.decode(i).unwrap_or_else(|e| panic!("{e}"));
        ImageRef {
            pixels: Cow::Owned(pixels),
            height: self.size,
            width: self.size,
        }
    }

    /// The crop is drawn on the decoded file at its own resolution, then resized to
    /// `size x size` (not a crop of the evaluation image).
    fn image_source_crop(
        &self,
        i: usize,
        cropper: &brainlike_augment::SourceCropper,
        seed: u64,
    ) -> ImageRef<'_> {
        let pixels = self
            .decode_source_crop(i, cropper, seed)
            .unwrap_or_else(|e| panic!("{e}"));
        ImageRef {
            pixels: Cow::Owned(pixels),
            height: self.size,
            width: self.size,
        }
    }

    fn label(&self, i: usize) -> usize {
        self.labels[i]
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }
}
