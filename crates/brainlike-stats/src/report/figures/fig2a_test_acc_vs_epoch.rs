//! Fig. 2a of Federer et al. (2019): test accuracy vs epoch, mean ± SEM over seeds, one
//! line per weighting ratio r (partial runs included while they last).

use super::{Context, Family, Figure, has_epochs, ratio_color, ratio_label, stem};
use crate::error::Result;
use crate::report::plot::{self, LineChart, LineSeries};

/// Draws Fig. 2a for one family of configurations.
pub(super) fn draw(cx: &Context, fam: &Family, figures: &mut Vec<Figure>) -> Result<()> {
    let Context {
        fig_dir,
        groups,
        positive,
        ..
    } = *cx;
    let Family { idx, parts, suffix } = fam;
    let series: Vec<LineSeries> = idx
        .iter()
        .filter(|&&i| has_epochs(&groups[i]))
        .map(|&i| {
            let g = &groups[i];
            LineSeries {
                label: format!(
                    "{} (n = {})",
                    ratio_label(g.cfg.ratio),
                    g.cfg.n_finished + g.cfg.n_partial
                ),
                color: ratio_color(g.cfg.ratio, positive),
                points: g.curve(|m| m.test_acc),
                dashed: false,
            }
        })
        .collect();
    if !series.is_empty() {
        let files = plot::line_chart(
            fig_dir,
            &stem("fig2a_test_acc_vs_epoch", parts),
            &LineChart {
                title: format!("Test accuracy vs epoch{suffix}"),
                x_label: "epoch".into(),
                y_label: "test accuracy (fraction)".into(),
                series,
                hline: Some((0.01, "chance (1/100)".into())),
            },
        )?;
        figures.push((
            "Fig. 2a — test accuracy during training".into(),
            format!("Test accuracy vs epoch, mean ± SEM over seeds{suffix}"),
            files,
        ));
    }
    Ok(())
}
