//! Figure drawing for the report (PNG through plotters' bitmap backend with the
//! vendored DejaVu Sans font, SVG through its SVG backend). Every figure is written as
//! `<stem>.png` and `<stem>.svg`.

use crate::error::{Result, StatsError};
use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// DejaVu Sans 2.37 (Bitstream Vera license with public-domain DejaVu changes; see
/// `assets/fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Registers the vendored DejaVu Sans as plotters' "sans-serif" (needed with the `ab_glyph` text backend).
pub fn register_font() {
    REGISTER.call_once(|| {
        // Ignored error: the font is a valid TrueType file, checked by the tests.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// The Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"): eight colours
/// distinguishable with every common colour-vision deficiency. Lines and categories take
/// them in order (after black, kept for reference lines and a baseline drawn black).
pub const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 114, 178),   // blue
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
];

/// The colour of the `i`-th series: black stays black (a baseline), every other colour is
/// replaced by the `i`-th Okabe–Ito colour, so figures are colour-blind safe whatever colours
/// the caller chose.
fn safe_color(color: RGBColor, i: usize) -> RGBColor {
    if color == RGBColor(0, 0, 0) {
        color
    } else {
        OKABE_ITO[i % 7]
    }
}

/// CIFAR-100's 20 superclasses, in the order of the coarse labels.
pub const SUPERCLASSES: [&str; 20] = [
    "aquatic mammals",
    "fish",
    "flowers",
    "food containers",
    "fruit, vegetables",
    "household electrical",
    "household furniture",
    "insects",
    "large carnivores",
    "large man-made outdoor",
    "large natural outdoor",
    "large omni-/herbivores",
    "medium mammals",
    "non-insect invertebrates",
    "people",
    "reptiles",
    "small mammals",
    "trees",
    "vehicles 1",
    "vehicles 2",
];

/// Whether an axis counts epochs (its ticks are whole numbers).
fn is_epoch_axis(label: &str) -> bool {
    label.to_lowercase().contains("epoch")
}

/// Tick text for a whole-number axis: the integer, or nothing between integers.
fn integer_tick(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-6 {
        format!("{}", v.round() as i64)
    } else {
        String::new()
    }
}

/// Figure size in pixels (PNG) / user units (SVG).
const SIZE: (u32, u32) = (900, 600);

/// One line with an optional ±SEM band.
#[derive(Debug, Clone)]
pub struct LineSeries {
    /// Legend label.
    pub label: String,
    /// Colour.
    pub color: RGBColor,
    /// `(x, mean, sem)`; a NaN SEM draws no band at that point.
    pub points: Vec<(f64, f64, f64)>,
    /// Dashed line (drawn as dots) instead of a solid one.
    pub dashed: bool,
}

/// A line chart with SEM bands.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Title.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// Lines.
    pub series: Vec<LineSeries>,
    /// Horizontal reference line (e.g. chance accuracy) and its label.
    pub hline: Option<(f64, String)>,
}

/// One bar / point of a categorical chart.
#[derive(Debug, Clone)]
pub struct Category {
    /// Tick label.
    pub label: String,
    /// Mean.
    pub mean: f64,
    /// SEM (NaN: no error bar).
    pub sem: f64,
    /// Text above the error bar (stars).
    pub mark: String,
    /// Colour.
    pub color: RGBColor,
}

/// A categorical chart: bars or points with error bars.
#[derive(Debug, Clone)]
pub struct CategoryChart {
    /// Title.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// Categories in order.
    pub categories: Vec<Category>,
    /// Bars (true) or points (false).
    pub bars: bool,
}

/// A scatter plot coloured by a class index.
#[derive(Debug, Clone)]
pub struct Scatter {
    /// Title.
    pub title: String,
    /// `(x, y, class)`.
    pub points: Vec<(f64, f64, usize)>,
}

fn plot_err(path: &Path, e: impl std::fmt::Debug) -> StatsError {
    StatsError::Plot {
        path: path.to_path_buf(),
        message: format!("{e:?}"),
    }
}

fn finite_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    (lo <= hi).then_some((lo, hi))
}

fn pad((lo, hi): (f64, f64), frac: f64) -> (f64, f64) {
    let span = if hi > lo { hi - lo } else { lo.abs().max(1e-3) };
    (lo - frac * span, hi + frac * span)
}

fn s<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Render `$f(&root, $spec)` with both backends into `$dir/$stem.{png,svg}`.
macro_rules! render {
    ($dir:expr, $stem:expr, $f:ident, $spec:expr) => {{
        register_font();
        let png = $dir.join(format!("{}.png", $stem));
        let svg = $dir.join(format!("{}.svg", $stem));
        {
            let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
            $f(&root, $spec).map_err(|e| plot_err(&png, e))?;
            root.present().map_err(|e| plot_err(&png, e))?;
        }
        {
            let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
            $f(&root, $spec).map_err(|e| plot_err(&svg, e))?;
            root.present().map_err(|e| plot_err(&svg, e))?;
        }
        Ok(vec![png, svg])
    }};
}

/// Write a line chart as `dir/stem.png` and `dir/stem.svg`.
pub fn line_chart(dir: &Path, stem: &str, spec: &LineChart) -> Result<Vec<PathBuf>> {
    render!(dir, stem, draw_line_chart, spec)
}

/// Write a categorical chart as `dir/stem.png` and `dir/stem.svg`.
pub fn category_chart(dir: &Path, stem: &str, spec: &CategoryChart) -> Result<Vec<PathBuf>> {
    render!(dir, stem, draw_category_chart, spec)
}

/// Write a scatter plot as `dir/stem.png` and `dir/stem.svg`.
pub fn scatter(dir: &Path, stem: &str, spec: &Scatter) -> Result<Vec<PathBuf>> {
    render!(dir, stem, draw_scatter, spec)
}

fn draw_line_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &LineChart,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(s)?;
    let xs = finite_range(
        spec.series
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.0)),
    )
    .unwrap_or((0.0, 1.0));
    let ys = finite_range(
        spec.series
            .iter()
            .flat_map(|l| {
                l.points.iter().flat_map(|&(_, m, e)| {
                    let e = if e.is_finite() { e } else { 0.0 };
                    [m - e, m + e]
                })
            })
            .chain(spec.hline.iter().map(|h| h.0)),
    )
    .unwrap_or((0.0, 1.0));
    let (x0, x1) = if xs.1 > xs.0 { xs } else { pad(xs, 0.5) };
    let (y0, y1) = pad(ys, 0.06);
    let epochs = is_epoch_axis(&spec.x_label);
    // Whole epochs: at most 10 ticks, each on an integer.
    let x_ticks = if epochs {
        ((x1 - x0).round() as usize + 1).clamp(2, 10)
    } else {
        10
    };
    let mut chart = ChartBuilder::on(root)
        .caption(&spec.title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(s)?;
    let default_tick = |v: &f64| format!("{v}");
    let tick: &dyn Fn(&f64) -> String = if epochs { &integer_tick } else { &default_tick };
    chart
        .configure_mesh()
        .x_labels(x_ticks)
        .x_label_formatter(tick)
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(s)?;
    if let Some((y, label)) = &spec.hline {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x0, *y), (x1, *y)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(s)?
            .label(label.as_str())
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    }
    let mut any_band = false;
    for (i, line) in spec.series.iter().enumerate() {
        let color = safe_color(line.color, i);
        let band: Vec<(f64, f64)> = line
            .points
            .iter()
            .filter(|p| p.2.is_finite())
            .map(|p| (p.0, p.1 + p.2))
            .chain(
                line.points
                    .iter()
                    .rev()
                    .filter(|p| p.2.is_finite())
                    .map(|p| (p.0, p.1 - p.2)),
            )
            .collect();
        if band.len() >= 4 {
            any_band = true;
            chart
                .draw_series(std::iter::once(Polygon::new(band, color.mix(0.2).filled())))
                .map_err(s)?;
        }
        let pts: Vec<(f64, f64)> = line.points.iter().map(|p| (p.0, p.1)).collect();
        let anno = if line.dashed {
            chart
                .draw_series(DashedLineSeries::new(pts, 8, 5, color.stroke_width(2)))
                .map_err(s)?
        } else {
            chart
                .draw_series(plotters::series::LineSeries::new(
                    pts,
                    color.stroke_width(2),
                ))
                .map_err(s)?
        };
        anno.label(line.label.as_str()).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
        });
    }
    if any_band {
        let grey = RGBColor(120, 120, 120);
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(s)?
            .label("shaded: mean ± SEM across seeds")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], grey.mix(0.3).filled())
            });
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(s)?;
    Ok(())
}

fn draw_category_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &CategoryChart,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(s)?;
    let n = spec.categories.len().max(1);
    let ys = finite_range(spec.categories.iter().flat_map(|c| {
        let e = if c.sem.is_finite() { c.sem } else { 0.0 };
        [c.mean - e, c.mean + e]
    }))
    .unwrap_or((0.0, 1.0));
    let (mut y0, y1) = pad(ys, 0.15);
    if spec.bars && ys.0 >= 0.0 {
        // Bars start at zero unless the differences would be invisible.
        if ys.0 - 0.0 < 4.0 * (ys.1 - ys.0).max(1e-12) {
            y0 = 0.0;
        }
    }
    let labels: Vec<String> = spec.categories.iter().map(|c| c.label.clone()).collect();
    let fmt = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let mut chart = ChartBuilder::on(root)
        .caption(&spec.title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(70)
        .build_cartesian_2d((0..n - 1).into_segmented(), y0..y1)
        .map_err(s)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n + 1)
        .x_label_formatter(&fmt)
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(s)?;
    if spec.categories.iter().any(|c| c.sem.is_finite()) {
        root.draw(&Text::new(
            "error bars: mean ± SEM across seeds",
            (90, 48),
            ("sans-serif", 12).into_font().color(&BLACK),
        ))
        .map_err(s)?;
    }
    let mark_offset = (y1 - y0) * 0.03;
    for (i, c) in spec.categories.iter().enumerate() {
        if !c.mean.is_finite() {
            continue;
        }
        if spec.bars {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (SegmentValue::Exact(i), y0.max(0.0).min(c.mean)),
                        (SegmentValue::Exact(i + 1), c.mean),
                    ],
                    safe_color(c.color, i).mix(0.85).filled(),
                )))
                .map_err(s)?;
        } else {
            chart
                .draw_series(std::iter::once(Circle::new(
                    (SegmentValue::CenterOf(i), c.mean),
                    5,
                    safe_color(c.color, i).filled(),
                )))
                .map_err(s)?;
        }
        let top = if c.sem.is_finite() {
            let err = if spec.bars {
                BLACK
            } else {
                safe_color(c.color, i)
            };
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![
                        (SegmentValue::CenterOf(i), c.mean - c.sem),
                        (SegmentValue::CenterOf(i), c.mean + c.sem),
                    ],
                    err.stroke_width(2),
                )))
                .map_err(s)?;
            c.mean + c.sem
        } else {
            c.mean
        };
        if !c.mark.is_empty() {
            chart
                .draw_series(std::iter::once(Text::new(
                    c.mark.clone(),
                    (SegmentValue::CenterOf(i), top + mark_offset),
                    ("sans-serif", 16).into_font().color(&BLACK).pos(
                        plotters::style::text_anchor::Pos::new(
                            plotters::style::text_anchor::HPos::Center,
                            plotters::style::text_anchor::VPos::Bottom,
                        ),
                    ),
                )))
                .map_err(s)?;
        }
    }
    Ok(())
}

/// 20 distinguishable colours (one per CIFAR-100 superclass).
pub const PALETTE20: [RGBColor; 20] = [
    RGBColor(31, 119, 180),
    RGBColor(174, 199, 232),
    RGBColor(255, 127, 14),
    RGBColor(255, 187, 120),
    RGBColor(44, 160, 44),
    RGBColor(152, 223, 138),
    RGBColor(214, 39, 40),
    RGBColor(255, 152, 150),
    RGBColor(148, 103, 189),
    RGBColor(197, 176, 213),
    RGBColor(140, 86, 75),
    RGBColor(196, 156, 148),
    RGBColor(227, 119, 194),
    RGBColor(247, 182, 210),
    RGBColor(127, 127, 127),
    RGBColor(199, 199, 199),
    RGBColor(188, 189, 34),
    RGBColor(219, 219, 141),
    RGBColor(23, 190, 207),
    RGBColor(158, 218, 229),
];

fn draw_scatter<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &Scatter,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(s)?;
    // The plot on the left, a legend of the superclasses on the right: 20 classes as the 8
    // Okabe–Ito colours × 3 marker shapes (colour alone cannot separate 20 for every reader).
    let (plot, legend) = root.split_horizontally(SIZE.0 as i32 - 210);
    let xs = pad(
        finite_range(spec.points.iter().map(|p| p.0)).unwrap_or((0.0, 1.0)),
        0.05,
    );
    let ys = pad(
        finite_range(spec.points.iter().map(|p| p.1)).unwrap_or((0.0, 1.0)),
        0.05,
    );
    let mut chart = ChartBuilder::on(&plot)
        .caption(&spec.title, ("sans-serif", 16))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(xs.0..xs.1, ys.0..ys.1)
        .map_err(s)?;
    chart
        .configure_mesh()
        .x_desc("t-SNE dimension 1 (arbitrary units)")
        .y_desc("t-SNE dimension 2 (arbitrary units)")
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(s)?;
    let finite: Vec<(f64, f64, usize)> = spec
        .points
        .iter()
        .copied()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    for &(x, y, c) in &finite {
        let color = OKABE_ITO[c % 8];
        match (c / 8) % 3 {
            0 => chart
                .draw_series(std::iter::once(Circle::new((x, y), 3, color.filled())))
                .map(|_| ()),
            1 => chart
                .draw_series(std::iter::once(TriangleMarker::new(
                    (x, y),
                    4,
                    color.filled(),
                )))
                .map(|_| ()),
            _ => chart
                .draw_series(std::iter::once(Cross::new(
                    (x, y),
                    3,
                    color.stroke_width(2),
                )))
                .map(|_| ()),
        }
        .map_err(s)?;
    }
    let mut classes: Vec<usize> = finite.iter().map(|p| p.2).collect();
    classes.sort_unstable();
    classes.dedup();
    legend
        .draw(&Text::new(
            "superclass",
            (8, 30),
            ("sans-serif", 14).into_font().color(&BLACK),
        ))
        .map_err(s)?;
    for (row, &c) in classes.iter().enumerate() {
        let y = 55 + 24 * row as i32;
        let color = OKABE_ITO[c % 8];
        let at = (16, y);
        match (c / 8) % 3 {
            0 => legend.draw(&Circle::new(at, 4, color.filled())),
            1 => legend.draw(&TriangleMarker::new(at, 5, color.filled())),
            _ => legend.draw(&Cross::new(at, 4, color.stroke_width(2))),
        }
        .map_err(s)?;
        let name = SUPERCLASSES.get(c).copied().unwrap_or("?");
        legend
            .draw(&Text::new(
                format!("{c}: {name}"),
                (28, y - 7),
                ("sans-serif", 12).into_font().color(&BLACK),
            ))
            .map_err(s)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_ticks_are_whole_and_colours_colour_blind_safe() {
        assert_eq!(integer_tick(&3.0), "3");
        assert_eq!(integer_tick(&2.5), "");
        assert!(is_epoch_axis("epoch") && !is_epoch_axis("weighting ratio r"));
        assert_eq!(safe_color(RGBColor(0, 0, 0), 3), RGBColor(0, 0, 0));
        for i in 0..10 {
            assert!(OKABE_ITO.contains(&safe_color(RGBColor(150, 0, 0), i)));
        }
        assert_ne!(
            safe_color(RGBColor(1, 2, 3), 1),
            safe_color(RGBColor(1, 2, 3), 2)
        );
    }
}
