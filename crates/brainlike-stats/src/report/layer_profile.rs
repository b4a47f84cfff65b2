//! Layer-profile plot of score rows (`brainlike score`): score (ceiled if present,
//! else raw) against layer, one line per model.

use crate::error::{Result, StatsError};
use brainlike_metrics::scores::Score;
use plotters::prelude::*;
use std::path::Path;

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
            path,
        ),
        Some("png") => draw(
            BitMapBackend::new(path, (900, 560)).into_drawing_area(),
            rows,
            title,
            path,
        ),
        _ => Err(StatsError::InvalidArgument(format!(
            "{}: plot path must end in .png or .svg",
            path.display()
        ))),
    }
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    rows: &[Score],
    title: &str,
    path: &Path,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let pe = |e: &dyn std::fmt::Display| StatsError::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
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
        return Err(StatsError::InvalidArgument(
            "layer profile: no rows with a layer".into(),
        ));
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
    super::plot::register_font();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<Score> = ["conv1", "conv2", "fc"]
            .iter()
            .enumerate()
            .map(|(i, l)| Score {
                id: "custom.V1-pls".into(),
                model: "alexnet".into(),
                layer: Some(l.to_string()),
                raw: 0.1 * i as f64,
                ceiling: None,
                ceiled: None,
                formula: String::new(),
                benchmark_version: "1".into(),
                per_split: vec![],
            })
            .collect();
        for ext in ["png", "svg"] {
            let p = dir.path().join(format!("profile.{ext}"));
            plot_layer_profile(&rows, &p, "custom.V1-pls").unwrap();
            assert!(std::fs::metadata(&p).unwrap().len() > 1000);
        }
        let e = plot_layer_profile(&rows, dir.path().join("p.pdf"), "x").unwrap_err();
        assert!(e.to_string().contains("p.pdf"));
    }
}
