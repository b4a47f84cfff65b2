//! The preview grid behind `brainlike augment --preview`: one row per source image, the
//! source in the first column and `M` augmented versions beside it, with the ops that fired
//! (and, with a mix, the mixed label weights) written under each tile. Small images are
//! upscaled by an integer factor (nearest neighbour) so every tile is at least
//! `min_tile` pixels on its longer side. Text uses the vendored DejaVu Sans
//! (`assets/fonts/DejaVuSans.ttf`, licence in `assets/fonts/LICENSE-DejaVu.txt`).

use crate::error::{AugmentError, Result};
use crate::image::Image;
use crate::mix::{MixConfig, MixKind, mix_batch};
use crate::pipeline::{Pipeline, sample_seed};
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Registers the vendored DejaVu Sans as plotters' "sans-serif".
fn register_font() {
    REGISTER.call_once(|| {
        // Ignored error: the vendored font is a valid TrueType file (the preview test draws text).
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// One source row of the preview: planar `3 x height x width` bytes and its class.
#[derive(Debug, Clone, Copy)]
pub struct PreviewSource<'a> {
    /// Planar RGB bytes.
    pub pixels: &'a [u8],
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Class index (into `class_names`).
    pub label: usize,
}

/// How the preview is laid out.
#[derive(Debug, Clone)]
pub struct PreviewOptions<'a> {
    /// Augmented versions per source (`M`).
    pub versions: usize,
    /// Seed; version `j` of row `i` uses `sample_seed(seed, j, i)`.
    pub seed: u64,
    /// Optional batch mix applied to each column (the column's images are the batch).
    pub mix: Option<&'a MixConfig>,
    /// Class names for the labels written under the tiles.
    pub class_names: &'a [String],
    /// Smallest tile side in pixels (images are upscaled by an integer factor to reach it).
    pub min_tile: usize,
}

const LINE: u32 = 15;
const PAD: u32 = 8;
const FONT_SIZE: f64 = 12.0;

/// The text under one tile: op names (joined with ", " and wrapped) and extra lines kept whole.
#[derive(Debug, Clone, Default)]
struct Caption {
    words: Vec<String>,
    lines: Vec<String>,
}

/// Greedy wrap of `words` joined by ", " so each line is at most `max_px` wide per `measure`.
fn wrap(words: &[String], max_px: u32, measure: &dyn Fn(&str) -> u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in words {
        match lines.last_mut() {
            Some(line) if measure(&format!("{line}, {word}")) <= max_px => {
                line.push_str(", ");
                line.push_str(word);
            }
            _ => lines.push(word.clone()),
        }
    }
    lines
}

fn class_name(names: &[String], c: usize) -> String {
    names
        .get(c)
        .cloned()
        .unwrap_or_else(|| format!("class {c}"))
}

/// Writes the preview PNG to `path`. Errors name the path (drawing or I/O failure) or the
/// source row whose buffer does not match its size.
pub fn write_preview(
    path: &Path,
    pipeline: &Pipeline,
    sources: &[PreviewSource<'_>],
    opts: &PreviewOptions<'_>,
) -> Result<()> {
    register_font();
    let err = |e: String| AugmentError::Preview {
        path: path.display().to_string(),
        detail: e,
    };
    let originals = sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Image::from_planar_u8(s.pixels, 3, s.height, s.width).map_err(|e| {
                AugmentError::BadImage {
                    what: format!("preview source {i}"),
                    detail: e.to_string(),
                }
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let labels: Vec<usize> = sources.iter().map(|s| s.label).collect();
    // columns[j][i]: image and caption
    let mut columns: Vec<Vec<(Image, Caption)>> = Vec::new();
    columns.push(
        originals
            .iter()
            .zip(&labels)
            .map(|(img, &l)| {
                let lines = vec![
                    "source".to_string(),
                    format!("label: {}", class_name(opts.class_names, l)),
                ];
                (
                    img.clone(),
                    Caption {
                        words: vec![],
                        lines,
                    },
                )
            })
            .collect(),
    );
    for j in 1..=opts.versions {
        let mut imgs = originals.clone();
        let fired: Vec<Vec<&str>> = imgs
            .iter_mut()
            .enumerate()
            .map(|(i, img)| pipeline.apply(img, sample_seed(opts.seed, j as u64, i as u64)))
            .collect();
        let mut texts: Vec<Caption> = fired
            .iter()
            .map(|f| Caption {
                words: if f.is_empty() {
                    vec!["(no op)".into()]
                } else {
                    f.iter().map(|s| s.to_string()).collect()
                },
                lines: vec![],
            })
            .collect();
        if let Some(mix) = opts.mix {
            let same = imgs
                .windows(2)
                .all(|p| (p[0].height, p[0].width) == (p[1].height, p[1].width));
            if same && !imgs.is_empty() {
                let classes = opts
                    .class_names
                    .len()
                    .max(labels.iter().max().map_or(0, |m| m + 1));
                let out = mix_batch(
                    &mut imgs,
                    &labels,
                    classes,
                    mix,
                    sample_seed(opts.seed ^ 0x004D_4958, j as u64, 0),
                )?;
                for (i, text) in texts.iter_mut().enumerate() {
                    if out.boxes[i].is_some() {
                        let row = &out.targets[i * classes..(i + 1) * classes];
                        let mut parts: Vec<(usize, f32)> = row
                            .iter()
                            .copied()
                            .enumerate()
                            .filter(|&(_, w)| w > 0.0)
                            .collect();
                        parts.sort_by(|a, b| b.1.total_cmp(&a.1));
                        let kind = match mix.kind {
                            MixKind::Cutmix => "cutmix",
                            MixKind::ForegroundCutmix => "foreground_cutmix",
                        };
                        text.lines.push(format!("{kind} label:"));
                        for (c, w) in parts {
                            text.lines
                                .push(format!("  {} {w:.2}", class_name(opts.class_names, c)));
                        }
                    }
                }
            }
        }
        columns.push(imgs.into_iter().zip(texts).collect());
    }
    // Tile size: the largest image dimension upscaled by an integer factor.
    let max_side = columns
        .iter()
        .flatten()
        .map(|(img, _)| img.height.max(img.width))
        .max()
        .unwrap_or(1)
        .max(1);
    let factor = opts.min_tile.div_ceil(max_side).max(1);
    let tile = (max_side * factor) as u32;
    let cell_w = tile.max(170) + PAD;
    let style = TextStyle::from(("sans-serif", FONT_SIZE).into_font()).color(&BLACK);
    let measure = |text: &str| -> u32 {
        style
            .font
            .box_size(text)
            .map_or((text.len() as f64 * FONT_SIZE * 0.6) as u32, |(w, _)| w)
    };
    // Every caption's lines, then the tallest decides the row height (nothing is cut off).
    let captions: Vec<Vec<Vec<String>>> = columns
        .iter()
        .map(|col| {
            col.iter()
                .map(|(_, cap)| {
                    let mut lines = wrap(&cap.words, cell_w - PAD, &measure);
                    lines.extend(cap.lines.iter().cloned());
                    lines
                })
                .collect()
        })
        .collect();
    let text_lines = captions.iter().flatten().map(Vec::len).max().unwrap_or(1) as u32;
    let cell_h = tile + 4 + LINE * text_lines + PAD;
    let width = cell_w * columns.len() as u32 + PAD;
    let height = cell_h * sources.len().max(1) as u32 + PAD;
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    for (j, column) in columns.iter().enumerate() {
        for (i, (img, _)) in column.iter().enumerate() {
            let ox = PAD + j as u32 * cell_w;
            let oy = PAD + i as u32 * cell_h;
            let f = (tile as usize / img.height.max(img.width)).max(1);
            let rgb = img.to_interleaved_u8();
            for y in 0..img.height * f {
                for x in 0..img.width * f {
                    let k = ((y / f) * img.width + x / f) * 3;
                    let colour = RGBColor(rgb[k], rgb[k + 1], rgb[k + 2]);
                    root.draw_pixel((ox as i32 + x as i32, oy as i32 + y as i32), &colour)
                        .map_err(|e| err(e.to_string()))?;
                }
            }
            for (l, line) in captions[j][i].iter().enumerate() {
                let pos = (ox as i32, (oy + tile + 4 + l as u32 * LINE) as i32);
                root.draw_text(line, &style, pos)
                    .map_err(|e| err(e.to_string()))?;
            }
        }
    }
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}
