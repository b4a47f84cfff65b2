//! Inputs shared by the models and benchmarks of one scoring session, loaded once: teacher
//! stimuli per input size, pair sets, image folders per size.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use brainlike_core::data::teacher::{PackSource, PairSet, Stimuli, load_pairs};
use brainlike_core::extract::load_image_folder;

use crate::error::{Error, Result};

/// Images of a folder read at one size: file stems and NCHW pixels.
pub type ImageFolder = (Vec<String>, Vec<f32>);

/// Settings and caches of one scoring session.
#[derive(Debug, Default)]
pub struct Context {
    /// Images per forward pass.
    pub chunk: usize,
    stimuli: HashMap<(String, usize), Arc<Stimuli>>,
    pair_sets: HashMap<(String, String), Arc<PairSet>>,
    folders: HashMap<(PathBuf, usize), Arc<ImageFolder>>,
}

impl Context {
    /// A session with `chunk` images per forward pass.
    pub fn new(chunk: usize) -> Self {
        Self {
            chunk: chunk.max(1),
            ..Self::default()
        }
    }

    /// The pack's stimuli at `size` x `size`, decoded once.
    pub fn teacher_stimuli(&mut self, pack: &PackSource, size: usize) -> Result<Arc<Stimuli>> {
        let key = (format!("{pack:?}"), size);
        if let Some(s) = self.stimuli.get(&key) {
            return Ok(s.clone());
        }
        let s = Arc::new(Stimuli::load(pack, size)?);
        self.stimuli.insert(key, s.clone());
        Ok(s)
    }

    /// A pair set of the pack (by name) or a TSV (by path), read once.
    pub fn pair_set(
        &mut self,
        pack: &PackSource,
        name_or_path: &str,
        num_stimuli: usize,
    ) -> Result<Arc<PairSet>> {
        let key = (format!("{pack:?}"), name_or_path.to_string());
        if let Some(s) = self.pair_sets.get(&key) {
            return Ok(s.clone());
        }
        let s = Arc::new(load_pairs(pack, name_or_path, num_stimuli)?);
        self.pair_sets.insert(key, s.clone());
        Ok(s)
    }

    /// Every image of `dir` at `size` x `size`, read once.
    pub fn image_folder(&mut self, dir: &Path, size: usize) -> Result<Arc<ImageFolder>> {
        let key = (dir.to_path_buf(), size);
        if let Some(f) = self.folders.get(&key) {
            return Ok(f.clone());
        }
        let f = Arc::new(load_image_folder(dir, size)?);
        self.folders.insert(key, f.clone());
        Ok(f)
    }
}

/// A stimulus id without an image extension (`0001.png` → `0001`; `0001` stays).
pub fn stem(id: &str) -> &str {
    let p = Path::new(id);
    match (p.file_stem().and_then(|s| s.to_str()), p.extension()) {
        (Some(s), Some(e))
            if matches!(
                e.to_string_lossy().to_ascii_lowercase().as_str(),
                "png" | "jpg" | "jpeg"
            ) =>
        {
            s
        }
        _ => id,
    }
}

/// Pixels of the images named by `ids` (in that order) from a folder read at `size`.
pub fn images_in_order(
    folder: &ImageFolder,
    dir: &Path,
    ids: &[String],
    size: usize,
    benchmark: &str,
) -> Result<Vec<f32>> {
    let index: HashMap<&str, usize> = folder
        .0
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let per = 3 * size * size;
    let mut px = Vec::with_capacity(ids.len() * per);
    for id in ids {
        let i = *index.get(stem(id)).ok_or_else(|| Error::Input {
            id: benchmark.to_string(),
            msg: format!(
                "stimulus {id:?} has no image in {} ({} images there)",
                dir.display(),
                folder.0.len()
            ),
        })?;
        px.extend_from_slice(&folder.1[i * per..(i + 1) * per]);
    }
    Ok(px)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_drop_image_extensions_only() {
        assert_eq!(stem("0001.png"), "0001");
        assert_eq!(stem("a.JPG"), "a");
        assert_eq!(stem("0001"), "0001");
        assert_eq!(stem("x.v2"), "x.v2");
    }

    #[test]
    fn images_are_picked_in_order_and_missing_ones_named() {
        let folder: ImageFolder = (
            vec!["a".into(), "b".into()],
            (0..2 * 3).map(|v| v as f32).collect(),
        );
        let px = images_in_order(
            &folder,
            Path::new("imgs"),
            &["b.png".into(), "a".into()],
            1,
            "t",
        )
        .unwrap();
        assert_eq!(px, [3.0, 4.0, 5.0, 0.0, 1.0, 2.0]);
        let err = images_in_order(&folder, Path::new("imgs"), &["c".into()], 1, "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"c\"") && err.contains("imgs"), "{err}");
    }
}
