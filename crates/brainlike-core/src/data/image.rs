//! Decoding an image file into network input: RGB (grayscale replicated to 3 channels),
//! resized to `size` x `size` (triangle filter, antialiased), CHW, pixels in [0, 1]; the
//! box resize shared by image folders' evaluation and train-time crops.

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

/// Resizes the box `left, top, width x height` (pixels, fractional allowed) of `src` to
/// `out_w x out_h`: one antialiased bilinear convolution pass (`fast_image_resize`, PIL's and
/// torchvision's `antialias=True` bilinear). The evaluation resize + centre crop and the
/// train-time random resized crop of image folders both go through it.
pub fn resize_box(
    src: image::RgbImage,
    (left, top, width, height): (f64, f64, f64, f64),
    out_w: usize,
    out_h: usize,
) -> std::result::Result<image::RgbImage, String> {
    let src = image::DynamicImage::ImageRgb8(src);
    let mut dst = image::DynamicImage::new_rgb8(out_w as u32, out_h as u32);
    let opts = fast_image_resize::ResizeOptions::new()
        .resize_alg(fast_image_resize::ResizeAlg::Convolution(
            fast_image_resize::FilterType::Bilinear,
        ))
        .crop(left, top, width, height);
    fast_image_resize::Resizer::new()
        .resize(&src, &mut dst, &opts)
        .map_err(|e| e.to_string())?;
    Ok(dst.to_rgb8())
}

/// Interleaved RGB to planar bytes (`3 x h x w`), mirrored left to right when `flip`.
pub fn to_planar(img: &image::RgbImage, flip: bool) -> Vec<u8> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let plane = w * h;
    let raw = img.as_raw();
    let mut out = vec![0u8; 3 * plane];
    for y in 0..h {
        for x in 0..w {
            let sx = if flip { w - 1 - x } else { x };
            let s = (y * w + sx) * 3;
            for c in 0..3 {
                out[c * plane + y * w + x] = raw[s + c];
            }
        }
    }
    out
}

/// Planar bytes (`3 x h x w`) to an interleaved RGB image.
pub fn from_planar(pixels: &[u8], h: usize, w: usize) -> image::RgbImage {
    let plane = h * w;
    let mut raw = vec![0u8; 3 * plane];
    for i in 0..plane {
        for c in 0..3 {
            raw[i * 3 + c] = pixels[c * plane + i];
        }
    }
    image::RgbImage::from_raw(w as u32, h as u32, raw).expect("3 * h * w bytes")
}

/// The train-time random resized crop of `src` ([`brainlike_augment::SourceCropper`]): the box
/// drawn for `seed` on `src` at its own resolution, resized to `out_h x out_w` with
/// [`resize_box`], flipped when drawn; planar bytes.
pub fn source_crop(
    src: image::RgbImage,
    cropper: &brainlike_augment::SourceCropper,
    seed: u64,
    out_h: usize,
    out_w: usize,
) -> std::result::Result<Vec<u8>, String> {
    let b = cropper.sample(src.height() as usize, src.width() as usize, seed);
    let img = resize_box(
        src,
        (b.x0 as f64, b.y0 as f64, b.w as f64, b.h as f64),
        out_w,
        out_h,
    )?;
    Ok(to_planar(&img, b.flip))
}
