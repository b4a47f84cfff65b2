//! Resampling shared by the geometric ops: bilinear sampling with a constant (fill) border,
//! bilinear resize with OpenCV's half-pixel convention, and border index mapping.

use crate::image::Image;

/// Bilinear sample of `plane` (`h x w`) at `(x, y)`; neighbours outside the image read
/// `fill` (OpenCV `BORDER_CONSTANT`).
#[inline]
pub(crate) fn sample_bilinear(plane: &[f32], h: usize, w: usize, x: f64, y: f64, fill: f32) -> f32 {
    let x0 = x.floor();
    let y0 = y.floor();
    let fx = (x - x0) as f32;
    let fy = (y - y0) as f32;
    let (x0, y0) = (x0 as i64, y0 as i64);
    let at = |yy: i64, xx: i64| -> f32 {
        if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
            plane[yy as usize * w + xx as usize]
        } else {
            fill
        }
    };
    let top = at(y0, x0) * (1.0 - fx) + at(y0, x0 + 1) * fx;
    let bottom = at(y0 + 1, x0) * (1.0 - fx) + at(y0 + 1, x0 + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Warps with an inverse affine map `[a, b, c, d, e, f]`: output pixel `(x, y)` reads the
/// input at `(a x + b y + c, d x + e y + f)`, bilinear, constant `fill` outside.
pub(crate) fn warp_affine_inverse(img: &Image, inv: [f64; 6], fill: f32) -> Image {
    let (h, w) = (img.height, img.width);
    let mut out = Image::zeros(img.channels, h, w);
    for c in 0..img.channels {
        let src = img.plane(c);
        let dst = out.plane_mut(c);
        for y in 0..h {
            for x in 0..w {
                let (xf, yf) = (x as f64, y as f64);
                let sx = inv[0] * xf + inv[1] * yf + inv[2];
                let sy = inv[3] * xf + inv[4] * yf + inv[5];
                dst[y * w + x] = sample_bilinear(src, h, w, sx, sy, fill);
            }
        }
    }
    out
}

/// Bilinear resize of the crop `rows y0..y0+ch`, `cols x0..x0+cw` to `out_h x out_w` with
/// OpenCV's `INTER_LINEAR` convention (`src = (dst + 0.5) * scale - 0.5`, clamped to the
/// crop: replicate border).
pub(crate) fn resize_crop_bilinear(
    img: &Image,
    (y0, x0, ch, cw): (usize, usize, usize, usize),
    out_h: usize,
    out_w: usize,
) -> Image {
    let mut out = Image::zeros(img.channels, out_h, out_w);
    let axis = |n_out: usize, n_in: usize, off: usize| -> Vec<(usize, usize, f32)> {
        let scale = n_in as f64 / n_out as f64;
        (0..n_out)
            .map(|d| {
                let s = ((d as f64 + 0.5) * scale - 0.5).clamp(0.0, (n_in - 1) as f64);
                let i0 = s.floor() as usize;
                let i1 = (i0 + 1).min(n_in - 1);
                (off + i0, off + i1, (s - i0 as f64) as f32)
            })
            .collect()
    };
    let xs = axis(out_w, cw, x0);
    let ys = axis(out_h, ch, y0);
    let w = img.width;
    for c in 0..img.channels {
        let src = img.plane(c);
        let dst = out.plane_mut(c);
        for (oy, &(ya, yb, fy)) in ys.iter().enumerate() {
            for (ox, &(xa, xb, fx)) in xs.iter().enumerate() {
                let top = src[ya * w + xa] * (1.0 - fx) + src[ya * w + xb] * fx;
                let bottom = src[yb * w + xa] * (1.0 - fx) + src[yb * w + xb] * fx;
                dst[oy * out_w + ox] = top * (1.0 - fy) + bottom * fy;
            }
        }
    }
    out
}

/// OpenCV `BORDER_REFLECT_101` index (`gfedcb|abcdefgh|gfedcba`).
#[inline]
pub(crate) fn reflect101(i: i64, n: usize) -> usize {
    let n = n as i64;
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let mut m = i.rem_euclid(period);
    if m >= n {
        m = period - m;
    }
    m as usize
}
