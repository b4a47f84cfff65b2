//! Feature extraction for scoring: activations of a trained [`Network`] at its taps (and the
//! penultimate layer) for a set of images, streamed in chunks.
//!
//! * **Streaming.** Images are uploaded `chunk` at a time; each chunk runs the feature stack
//!   once, the activations of every requested layer are copied to the host and the chunk's
//!   tensors are dropped before the next one, so device memory is bounded by one chunk (the
//!   host holds the flattened features of all images, which the scorers need).
//! * **Layout.** Features are flattened per image in the block output's `C x H x W` order,
//!   row-major `images x dim`, the same flattening the teacher term uses.
//! * **PCA** ([`pca_reduce`]): Brain-Score projects layers wider than 1,000 features on their
//!   first 1,000 principal components before PLS. Brain-Score fits that PCA on 1,000 separate
//!   ImageNet images; here it is fit on the scored images themselves (unsupervised, no
//!   responses used). With `n` images the centred data has rank at most `n`: when `k >= n`
//!   the projection is a rotation of the centred data, to which PLS predictions are
//!   invariant, so it is skipped.
//! * **Images** ([`load_image_folder`]): PNG or JPEG files of a folder, sorted by file name,
//!   converted to RGB (grayscale replicated to 3 channels), resized to `size x size` with a
//!   triangle filter, pixels in [0, 1], not centred — the preprocessing of the teacher's
//!   stimuli ([`crate::data::teacher::Stimuli`]).

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::models::{Network, Tap};

/// Brain-Score's cap on the PCA components of a layer (`LayerPCA`, 1,000).
pub const BRAIN_SCORE_PCA: usize = 1000;

/// A layer to read out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// A block output (tap).
    Tap(Tap),
    /// The input of the classifier's last linear layer.
    Penultimate,
}

impl Layer {
    /// `v1`, `v2`, `v4`, `it`, `conv3` or `penultimate`.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Tap(t) => t.name(),
            Layer::Penultimate => "penultimate",
        }
    }
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Flattened activations of one layer for `n` images.
#[derive(Debug, Clone, PartialEq)]
pub struct Activations {
    /// The layer.
    pub layer: Layer,
    /// Number of images (rows).
    pub n: usize,
    /// Features per image (columns).
    pub dim: usize,
    /// `n * dim` values, row-major (image by image).
    pub features: Vec<f32>,
}

impl Activations {
    /// Row `i` (image `i`'s features).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.dim..(i + 1) * self.dim]
    }
}

fn to_host(t: Tensor<2>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Other(format!("reading activations back from the device: {e:?}")))
}

/// Runs one chunk through the model and returns the flattened activations of `layers` (in
/// the order given), running the stack once and only as deep as needed.
fn forward_chunk(model: &Network, x: Tensor<4>, layers: &[Layer]) -> Vec<Tensor<2>> {
    let taps: Vec<Tap> = layers
        .iter()
        .filter_map(|l| match l {
            Layer::Tap(t) => Some(*t),
            Layer::Penultimate => None,
        })
        .collect();
    let want_pen = layers.contains(&Layer::Penultimate);
    let (acts, pen) = model.read_out(x, &taps, want_pen);
    let mut acts = acts.into_iter();
    layers
        .iter()
        .map(|l| match l {
            Layer::Tap(_) => acts.next().expect("one per tap").flatten::<2>(1, 3),
            Layer::Penultimate => pen.clone().expect("penultimate requested"),
        })
        .collect()
}

/// Activations of `model` at `layers` for `n` images (`images`: `n * 3 * size * size` values,
/// NCHW, as the model expects them), `chunk` images per forward pass. Errors on a layer the
/// model does not have or a pixel buffer of the wrong length.
pub fn extract(
    model: &Network,
    images: &[f32],
    n: usize,
    size: usize,
    layers: &[Layer],
    chunk: usize,
    device: &Device,
) -> Result<Vec<Activations>> {
    let per = 3 * size * size;
    if images.len() != n * per {
        return Err(Error::Other(format!(
            "extract: {n} images of 3x{size}x{size} need {} values, got {}",
            n * per,
            images.len()
        )));
    }
    let taps = model.taps();
    for l in layers {
        if let Layer::Tap(t) = l
            && !taps.contains(t)
        {
            return Err(Error::Config {
                origin: "layers".into(),
                msg: format!(
                    "this model has no layer {t}; it has {}, penultimate",
                    taps.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    let chunk = chunk.max(1);
    let mut out: Vec<Activations> = layers
        .iter()
        .map(|&layer| Activations {
            layer,
            n,
            dim: 0,
            features: Vec::new(),
        })
        .collect();
    let mut start = 0;
    while start < n {
        let m = chunk.min(n - start);
        let x = Tensor::<4>::from_data(
            TensorData::new(
                images[start * per..(start + m) * per].to_vec(),
                [m, 3, size, size],
            ),
            device,
        );
        for (acts, t) in out.iter_mut().zip(forward_chunk(model, x, layers)) {
            let [rows, dim] = t.dims();
            debug_assert_eq!(rows, m);
            if acts.features.is_empty() {
                acts.dim = dim;
                acts.features.reserve_exact(n * dim);
            }
            acts.features.extend(to_host(t)?);
        }
        start += m;
    }
    Ok(out)
}

/// Projects `acts` on its first `k` principal components (seeded randomized PCA from
/// `brainlike_stats::tsne::pca`) when it is wider than `k` and has more than `k` images;
/// returns it unchanged otherwise (see the module documentation), with whether PCA ran.
pub fn pca_reduce(acts: Activations, k: usize, seed: u64) -> Result<(Activations, bool)> {
    if k == 0 || acts.dim <= k || acts.n <= k {
        return Ok((acts, false));
    }
    let data: Vec<f64> = acts.features.iter().map(|&v| f64::from(v)).collect();
    let m = brainlike_stats::Matrix::new(acts.n, acts.dim, data)
        .map_err(|e| Error::Other(format!("PCA of {}: {e}", acts.layer)))?;
    let p = brainlike_stats::tsne::pca(&m, k, seed)
        .map_err(|e| Error::Other(format!("PCA of {}: {e}", acts.layer)))?;
    Ok((
        Activations {
            layer: acts.layer,
            n: acts.n,
            dim: k,
            features: p.as_slice().iter().map(|&v| v as f32).collect(),
        },
        true,
    ))
}

/// Whether `path` has an image extension this loader reads (`png`, `jpg`, `jpeg`).
pub fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
        .unwrap_or(false)
}

/// The PNG/JPEG files of `dir` (not its sub-folders), sorted by file name; an error naming
/// `dir` when there is none.
pub fn list_images(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut files = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let p = entry.path();
        if p.is_file() && is_image(&p) {
            files.push(p);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    if files.is_empty() {
        return Err(Error::Missing(format!(
            "{}: no .png, .jpg or .jpeg images",
            dir.display()
        )));
    }
    Ok(files)
}

/// Reads every PNG/JPEG image of `dir` (sorted by file name; other files ignored): RGB
/// (grayscale replicated), resized to `size x size` (triangle filter), pixels in [0, 1],
/// NCHW. Returns the file stems as ids and the pixels. Errors name the file.
pub fn load_image_folder(dir: &Path, size: usize) -> Result<(Vec<String>, Vec<f32>)> {
    let files = list_images(dir)?;
    let plane = size * size;
    let mut ids = Vec::with_capacity(files.len());
    let mut pixels = Vec::with_capacity(files.len() * 3 * plane);
    for p in &files {
        let bytes = std::fs::read(p).map_err(|e| Error::io(p, e))?;
        pixels.extend(crate::data::image::decode_chw(p, &bytes, size)?);
        let stem = p
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| Error::format(p, "file name", "UTF-8"))?;
        ids.push(stem.to_string());
    }
    let mut seen = std::collections::HashSet::new();
    for (id, p) in ids.iter().zip(&files) {
        if !seen.insert(id.as_str()) {
            return Err(Error::format(
                p,
                "file name",
                format!("a unique id; another image in the folder is also named {id:?}"),
            ));
        }
    }
    Ok((ids, pixels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Arch, Head, ModelConfig};
    use crate::models::cornet_z;
    use burn::tensor::Distribution;

    fn model(head: Head) -> Network {
        let cfg = ModelConfig {
            arch: Arch::parse("cornet_z").unwrap(),
            head,
            ..ModelConfig::default()
        };
        Network::new(&cfg, 32, 10, 4, &Device::default())
    }

    fn images(n: usize) -> Vec<f32> {
        let t = Tensor::<4>::random([n, 3, 32, 32], Distribution::Default, &Device::default());
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    #[test]
    fn shapes_and_chunking_agree() {
        let device = Device::default();
        let net = model(Head::Decoder);
        let n = 7;
        let px = images(n);
        let layers = [
            Layer::Tap(cornet_z::V1),
            Layer::Tap(cornet_z::V4),
            Layer::Tap(cornet_z::IT),
            Layer::Penultimate,
        ];
        let one = extract(&net, &px, n, 32, &layers, 64, &device).unwrap();
        let dims: Vec<usize> = one.iter().map(|a| a.dim).collect();
        assert_eq!(dims, [64 * 8 * 8, 256 * 2 * 2, 512, 512]);
        for a in &one {
            assert_eq!(a.n, n);
            assert_eq!(a.features.len(), n * a.dim);
        }
        let chunked = extract(&net, &px, n, 32, &layers, 3, &device).unwrap();
        for (a, b) in one.iter().zip(&chunked) {
            assert_eq!(a.layer, b.layer);
            let diff = a
                .features
                .iter()
                .zip(&b.features)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(diff < 1e-4, "{}: {diff}", a.layer);
        }
        // Same values as Network::activations.
        let x = Tensor::<4>::from_data(TensorData::new(px.clone(), [n, 3, 32, 32]), &device);
        let v4 = net
            .activations(x, cornet_z::V4)
            .flatten::<2>(1, 3)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let diff = v4
            .iter()
            .zip(&one[1].features)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-4, "{diff}");
    }

    #[test]
    fn unknown_layer_and_bad_buffer_are_errors() {
        let device = Device::default();
        let net = model(Head::Decoder);
        let px = images(2);
        let err = extract(
            &net,
            &px,
            2,
            32,
            &[Layer::Tap(Tap::parse("conv3").unwrap())],
            4,
            &device,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("conv3") && err.contains("v1"), "{err}");
        assert!(
            extract(
                &net,
                &px[1..],
                2,
                32,
                &[Layer::Tap(cornet_z::V1)],
                4,
                &device
            )
            .is_err()
        );
    }

    #[test]
    fn pca_reduces_only_when_wider_and_taller() {
        let acts = Activations {
            layer: Layer::Tap(cornet_z::V1),
            n: 20,
            dim: 30,
            features: (0..600)
                .map(|i| ((i * 7919) % 101) as f32 / 101.0)
                .collect(),
        };
        let (same, ran) = pca_reduce(acts.clone(), 1000, 0).unwrap();
        assert!(!ran && same == acts);
        let (p, ran) = pca_reduce(acts, 5, 0).unwrap();
        assert!(ran);
        assert_eq!((p.n, p.dim, p.features.len()), (20, 5, 100));
    }

    #[test]
    fn image_folder_sorted_gray_to_rgb_resized() {
        let dir = tempfile::tempdir().unwrap();
        let gray = image::GrayImage::from_fn(10, 12, |x, _| image::Luma([(x * 20) as u8]));
        gray.save(dir.path().join("b.png")).unwrap();
        let rgb = image::RgbImage::from_pixel(40, 40, image::Rgb([255, 0, 51]));
        rgb.save(dir.path().join("a.png")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let (ids, px) = load_image_folder(dir.path(), 8).unwrap();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(px.len(), 2 * 3 * 64);
        assert!(px[..64].iter().all(|&v| (v - 1.0).abs() < 1e-6));
        assert!(px[64..128].iter().all(|&v| v.abs() < 1e-6));
        assert!(px[128..192].iter().all(|&v| (v - 0.2).abs() < 1e-6));
        let b = &px[192..];
        assert_eq!(&b[..64], &b[64..128]);
        assert!(px.iter().all(|v| (0.0..=1.0).contains(v)));
        std::fs::write(dir.path().join("c.png"), b"not a png").unwrap();
        let err = load_image_folder(dir.path(), 8).unwrap_err().to_string();
        assert!(err.contains("c.png"), "{err}");
    }
}
