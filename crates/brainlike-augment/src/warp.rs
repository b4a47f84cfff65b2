//! Resampling shared by the geometric ops: bilinear sampling with a constant (fill) border,
//! bilinear resize with OpenCV's half-pixel convention, and border index mapping.

use crate::image::Image;

/// `floor` without a libm call (the baseline x86-64 target has no SSE4.1 `roundsd`).
#[inline]
fn fast_floor(v: f64) -> i64 {
    let t = v as i64;
    if (t as f64) > v { t - 1 } else { t }
}

/// Resamples every channel of `img`: output `(x, y)` reads the input at `source(x, y)`,
/// bilinear, constant `fill` outside (OpenCV `BORDER_CONSTANT`: a neighbour outside the
/// image reads `fill`). The position and weights are computed once per pixel and shared by
/// the channels.
pub(crate) fn remap_with(
    img: &Image,
    fill: f32,
    source: impl Fn(usize, usize) -> (f64, f64),
) -> Image {
    let (h, w, ch) = (img.height, img.width, img.channels);
    let plane = h * w;
    let mut out = Image::zeros(ch, h, w);
    let (hi, wi) = (h as i64, w as i64);
    for y in 0..h {
        for x in 0..w {
            let (sx, sy) = source(x, y);
            if !(sx.is_finite() && sy.is_finite())
                || sx <= -1.0
                || sy <= -1.0
                || sx >= w as f64
                || sy >= h as f64
            {
                for c in 0..ch {
                    out.pixels[c * plane + y * w + x] = fill;
                }
                continue;
            }
            let (x0, y0) = (fast_floor(sx), fast_floor(sy));
            let fx = (sx - x0 as f64) as f32;
            let fy = (sy - y0 as f64) as f32;
            let wts = [
                (1.0 - fx) * (1.0 - fy),
                fx * (1.0 - fy),
                (1.0 - fx) * fy,
                fx * fy,
            ];
            let o = y * w + x;
            if x0 >= 0 && y0 >= 0 && x0 + 1 < wi && y0 + 1 < hi {
                let i = y0 as usize * w + x0 as usize;
                for c in 0..ch {
                    let src = &img.pixels[c * plane..(c + 1) * plane];
                    out.pixels[c * plane + o] = wts[0] * src[i]
                        + wts[1] * src[i + 1]
                        + wts[2] * src[i + w]
                        + wts[3] * src[i + w + 1];
                }
            } else {
                let idx = |yy: i64, xx: i64| -> Option<usize> {
                    (yy >= 0 && xx >= 0 && yy < hi && xx < wi)
                        .then(|| yy as usize * w + xx as usize)
                };
                let taps = [
                    idx(y0, x0),
                    idx(y0, x0 + 1),
                    idx(y0 + 1, x0),
                    idx(y0 + 1, x0 + 1),
                ];
                for c in 0..ch {
                    let src = &img.pixels[c * plane..(c + 1) * plane];
                    out.pixels[c * plane + o] = taps
                        .iter()
                        .zip(&wts)
                        .map(|(t, wt)| wt * t.map_or(fill, |i| src[i]))
                        .sum();
                }
            }
        }
    }
    out
}

/// Warps with an inverse affine map `[a, b, c, d, e, f]`: output pixel `(x, y)` reads the
/// input at `(a x + b y + c, d x + e y + f)`, bilinear, constant `fill` outside.
pub(crate) fn warp_affine_inverse(img: &Image, inv: [f64; 6], fill: f32) -> Image {
    remap_with(img, fill, |x, y| {
        let (xf, yf) = (x as f64, y as f64);
        (
            inv[0] * xf + inv[1] * yf + inv[2],
            inv[3] * xf + inv[4] * yf + inv[5],
        )
    })
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
