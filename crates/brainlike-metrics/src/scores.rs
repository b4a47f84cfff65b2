//! Score rows (`<dataset>.<region>-<metric>`, e.g. `Federer2019.V1-rsa`,
//! `custom.V1-pls`), atomic CSV / JSON writers and a layer-profile plot.

use crate::error::{Error, Result};
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// One score row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Benchmark id, `<dataset>.<region>-<metric>`.
    pub id: String,
    /// Model / run name (one line per model in the layer profile).
    pub model: String,
    /// Layer scored (None for a committed, whole-model score).
    pub layer: Option<String>,
    /// Raw score.
    pub raw: f64,
    /// Noise ceiling (None when not ceiled).
    pub ceiling: Option<f64>,
    /// Ceiled score (None when not ceiled).
    pub ceiled: Option<f64>,
    /// Ceiling formula (`"r/c"`, `"r^2/c"`) or empty.
    pub formula: String,
    /// Benchmark version.
    pub benchmark_version: String,
    /// Every split's raw value.
    pub per_split: Vec<f64>,
}

impl Score {
    /// `<dataset>.<region>-<metric>`.
    pub fn make_id(dataset: &str, region: &str, metric: &str) -> String {
        format!("{dataset}.{region}-{metric}")
    }
    /// The value plotted / ranked: ceiled if present, else raw.
    pub fn value(&self) -> f64 {
        self.ceiled.unwrap_or(self.raw)
    }
}

/// Write bytes to `path` atomically: a temporary file in the same directory,
/// then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Write rows as CSV (columns `id,model,layer,raw,ceiling,ceiled,formula,
/// benchmark_version,per_split`; `per_split` joined with `;`), atomically.
pub fn write_scores_csv(rows: &[Score], path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let mut w = csv::Writer::from_writer(vec![]);
    let err = |e| Error::Csv {
        path: path.into(),
        source: e,
    };
    w.write_record([
        "id",
        "model",
        "layer",
        "raw",
        "ceiling",
        "ceiled",
        "formula",
        "benchmark_version",
        "per_split",
    ])
    .map_err(err)?;
    for r in rows {
        let splits: Vec<String> = r.per_split.iter().map(|v| v.to_string()).collect();
        w.write_record([
            r.id.clone(),
            r.model.clone(),
            r.layer.clone().unwrap_or_default(),
            r.raw.to_string(),
            opt(r.ceiling),
            opt(r.ceiled),
            r.formula.clone(),
            r.benchmark_version.clone(),
            splits.join(";"),
        ])
        .map_err(err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    write_atomic(path, &bytes)
}

/// Write rows as a pretty JSON array, atomically.
pub fn write_scores_json(rows: &[Score], path: impl AsRef<Path>) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(rows)?;
    write_atomic(path.as_ref(), &bytes)
}

/// Layer-profile plot: score (ceiled if present, else raw) vs layer, one line
/// per `model`. Layers are placed in order of first appearance; rows without a
/// layer are skipped. The format follows the extension (`.png` or `.svg`).
pub fn plot_layer_profile(rows: &[Score], path: impl AsRef<Path>, title: &str) -> Result<()> {
    let path = path.as_ref();
    match path.extension().and_then(|e| e.to_str()) {
        Some("svg") => draw(
            SVGBackend::new(path, (900, 560)).into_drawing_area(),
            rows,
            title,
        ),
        Some("png") => draw(
            BitMapBackend::new(path, (900, 560)).into_drawing_area(),
            rows,
            title,
        ),
        _ => Err(Error::Invalid(format!(
            "{}: plot path must end in .png or .svg",
            path.display()
        ))),
    }
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    rows: &[Score],
    title: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let pe = |e: &dyn std::fmt::Display| Error::Plot(e.to_string());
    let mut layers: Vec<String> = vec![];
    let mut models: Vec<String> = vec![];
    for r in rows {
        if let Some(l) = &r.layer
            && !layers.contains(l)
        {
            layers.push(l.clone());
        }
        if r.layer.is_some() && !models.contains(&r.model) {
            models.push(r.model.clone());
        }
    }
    if layers.is_empty() {
        return Err(Error::Invalid("layer profile: no rows with a layer".into()));
    }
    let vals: Vec<f64> = rows
        .iter()
        .filter(|r| r.layer.is_some())
        .map(Score::value)
        .filter(|v| v.is_finite())
        .collect();
    let lo = vals.iter().copied().fold(0.0f64, f64::min);
    let hi = vals
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
        .max(lo + 1e-6);
    brainlike_stats::report::plot::register_font();
    root.fill(&WHITE).map_err(|e| pe(&e))?;
    let nl = layers.len();
    let labels = layers.clone();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(70)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..(nl as f64 - 0.5), lo..hi + 0.05 * (hi - lo))
        .map_err(|e| pe(&e))?;
    chart
        .configure_mesh()
        .x_labels(nl.min(30))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_desc("layer")
        .y_desc("score")
        .draw()
        .map_err(|e| pe(&e))?;
    for (mi, m) in models.iter().enumerate() {
        let color = Palette99::pick(mi).to_rgba();
        let pts: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| &r.model == m)
            .filter_map(|r| {
                let l = r.layer.as_ref()?;
                let x = layers.iter().position(|x| x == l)? as f64;
                Some((x, r.value()))
            })
            .filter(|p| p.1.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|e| pe(&e))?
            .label(m.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(|e| pe(&e))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| pe(&e))?;
    root.present().map_err(|e| pe(&e))?;
    Ok(())
}
