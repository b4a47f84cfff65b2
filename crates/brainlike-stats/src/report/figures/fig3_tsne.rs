//! Fig. 3a/b: t-SNE of the tapped (V1-like) layer's activations to test images, coloured by
//! superclass; one run per configuration.

use super::{Context, Figure, slug, stem};
use crate::error::Result;
use crate::report::plot::{self, Scatter};

/// Draws one t-SNE scatter per configuration with a `tsne.csv`.
pub(super) fn draw(cx: &Context, figures: &mut Vec<Figure>) -> Result<()> {
    let Context {
        fig_dir, groups, ..
    } = *cx;
    for g in groups {
        if let Some(run) = g.runs.iter().find(|r| r.tsne.is_some()) {
            let pts = run.tsne.as_ref().expect("checked");
            let parts: Vec<(String, String)> = g
                .cfg
                .axes
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let files = plot::scatter(
                fig_dir,
                &format!(
                    "{}__{}",
                    stem("fig3_tsne", &parts),
                    slug(&[("run".into(), run.run_id.clone())])
                ),
                &Scatter {
                    title: format!(
                        "t-SNE of tapped-layer activations: {} (run {})",
                        g.cfg.label, run.run_id
                    ),
                    points: pts.iter().map(|p| (p.x, p.y, p.coarse_label)).collect(),
                },
            )?;
            figures.push((
                "Fig. 3a/b — t-SNE of the V1-like layer".into(),
                format!(
                    "{} test images coloured by superclass; {} (run {})",
                    pts.len(),
                    g.cfg.label,
                    run.run_id
                ),
                files,
            ));
        }
    }
    Ok(())
}
