//! Fig. 6: label corruption. 6a: final test accuracy vs the corrupted fraction p, one line
//! per r; 6b/6c: the generalization error (train − test accuracy, test − train loss) vs epoch
//! per (p, r). Drawn only when `data.label_corruption` is an axis.

use super::{Context, Figure, has_epochs, ratio_color, ratio_label, stem};
use crate::error::Result;
use crate::report::groups::{MeanSem, background, label_of, variant};
use crate::report::plot::{self, LineChart, LineSeries};
use crate::report::{CORRUPTION_KEY, Configuration, load};
use std::collections::BTreeMap;

/// Draws Fig. 6a, 6b and 6c (per background without p).
pub(super) fn draw(cx: &Context, figures: &mut Vec<Figure>) -> Result<()> {
    let Context {
        fig_dir,
        groups,
        positive,
        axes,
    } = *cx;
    if !axes.iter().any(|a| a == CORRUPTION_KEY) {
        return Ok(());
    }
    let rest = |c: &Configuration| -> Vec<(String, String)> {
        background(c)
            .into_iter()
            .filter(|(k, _)| k != CORRUPTION_KEY)
            .collect()
    };
    let mut fams: BTreeMap<Vec<(String, String)>, Vec<usize>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        fams.entry(rest(&g.cfg)).or_default().push(i);
    }
    let multi = fams.len() > 1;
    for (bg, members) in &fams {
        let parts: &[(String, String)] = if multi { bg } else { &[] };
        // Lines per (ratio, variant): final test acc vs p.
        let mut lines: BTreeMap<String, (Option<f64>, Vec<MeanSem>)> = BTreeMap::new();
        for &i in members {
            let g = &groups[i];
            let Some(p) = g
                .cfg
                .axes
                .get(CORRUPTION_KEY)
                .and_then(|v| v.parse::<f64>().ok())
            else {
                continue;
            };
            if g.cfg.n_finished == 0 {
                continue;
            }
            let var = variant(&g.cfg);
            let name = if var.is_empty() || g.cfg.ratio == Some(0.0) {
                ratio_label(g.cfg.ratio)
            } else {
                format!(
                    "{}, {}",
                    ratio_label(g.cfg.ratio),
                    label_of(&var.into_iter().collect())
                )
            };
            let e = lines.entry(name).or_insert((g.cfg.ratio, vec![]));
            e.1.push((p, g.cfg.final_test_acc.mean, g.cfg.final_test_acc.sem));
        }
        let series: Vec<LineSeries> = lines
            .into_iter()
            .map(|(label, (ratio, mut pts))| {
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                LineSeries {
                    label,
                    color: ratio_color(ratio, positive),
                    points: pts,
                    dashed: false,
                }
            })
            .collect();
        if !series.is_empty() {
            let files = plot::line_chart(
                fig_dir,
                &stem("fig6a_test_acc_vs_label_corruption", parts),
                &LineChart {
                    title: "Final test accuracy vs corrupted-label fraction".into(),
                    x_label: "fraction of corrupted training labels p".into(),
                    y_label: "final test accuracy (fraction)".into(),
                    series,
                    hline: None,
                },
            )?;
            figures.push((
                "Fig. 6a — robustness to label corruption".into(),
                "Final test accuracy vs fraction p of corrupted training labels, mean ± SEM (stars in the table)".into(),
                files,
            ));
        }
        // Generalization-error curves per (p, r).
        let ps: Vec<f64> = {
            let mut v: Vec<f64> = members
                .iter()
                .filter_map(|&i| groups[i].cfg.axes.get(CORRUPTION_KEY))
                .filter_map(|v| v.parse().ok())
                .collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        };
        for (name, title, ylab, f) in [
            (
                "fig6b_generalization_error_acc",
                "Generalization error: train acc − test acc",
                "train accuracy − test accuracy",
                (|m: &load::MetricsRow| m.train_acc - m.test_acc) as fn(&load::MetricsRow) -> f64,
            ),
            (
                "fig6c_generalization_error_loss",
                "Generalization error: test loss − train loss",
                "test loss − train loss",
                (|m: &load::MetricsRow| m.test_loss - m.train_loss) as fn(&load::MetricsRow) -> f64,
            ),
        ] {
            let series: Vec<LineSeries> = members
                .iter()
                .filter(|&&i| has_epochs(&groups[i]))
                .filter_map(|&i| {
                    let g = &groups[i];
                    let p: f64 = g.cfg.axes.get(CORRUPTION_KEY)?.parse().ok()?;
                    let rank = ps.iter().position(|&x| x == p).unwrap_or(0);
                    Some(LineSeries {
                        label: format!("p = {p}, {}", ratio_label(g.cfg.ratio)),
                        color: ratio_color(g.cfg.ratio, positive),
                        points: g.curve(f),
                        dashed: rank % 2 == 1,
                    })
                })
                .collect();
            if series.is_empty() {
                continue;
            }
            let files = plot::line_chart(
                fig_dir,
                &stem(name, parts),
                &LineChart {
                    title: title.into(),
                    x_label: "epoch".into(),
                    y_label: ylab.into(),
                    series,
                    hline: None,
                },
            )?;
            figures.push((
                "Fig. 6b/c — generalization error under label corruption".into(),
                format!("{title}, mean ± SEM over seeds, per corruption fraction p and r"),
                files,
            ));
        }
    }
    Ok(())
}
