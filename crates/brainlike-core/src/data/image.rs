//! Decoding an image file into network input: RGB (grayscale replicated to 3 channels),
//! resized to `size` x `size` (triangle filter, antialiased), CHW, pixels in [0, 1].

use std::path::Path;

use crate::error::{Error, Result};

/// Decodes `bytes` (PNG or JPEG, read from `path`) into `3 * size * size` CHW values in [0, 1].
pub fn decode_chw(path: &Path, bytes: &[u8], size: usize) -> Result<Vec<f32>> {
    let img = image::load_from_memory(bytes)
        .map_err(|e| Error::format(path, "whole file", format!("a PNG or JPEG image ({e})")))?
        .to_rgb8();
    let img = if img.width() as usize != size || img.height() as usize != size {
        image::imageops::resize(
            &img,
            size as u32,
            size as u32,
            image::imageops::FilterType::Triangle,
        )
    } else {
        img
    };
    let (raw, plane) = (img.as_raw(), size * size);
    let mut out = Vec::with_capacity(3 * plane);
    for c in 0..3 {
        out.extend((0..plane).map(|i| raw[i * 3 + c] as f32 / 255.0));
    }
    Ok(out)
}
