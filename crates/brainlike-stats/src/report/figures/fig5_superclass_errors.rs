//! Table 1 / Fig. 5: the percentage of test errors that fall within the true superclass;
//! one figure per background.

use super::{Context, Figure, mark, ratio_color, ratio_label, stem, teacher_color};
use crate::error::Result;
use crate::report::PAIRS_KEY;
use crate::report::groups::{background, label_of, short_value, variant};
use crate::report::plot::{self, Category, CategoryChart};
use std::collections::BTreeMap;

/// Draws Fig. 5, one figure per background.
pub(super) fn draw(cx: &Context, figures: &mut Vec<Figure>) -> Result<()> {
    let Context {
        fig_dir,
        groups,
        positive,
        ..
    } = *cx;
    let mut by_bg: BTreeMap<Vec<(String, String)>, Vec<usize>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        if g.cfg.n_finished > 0 {
            by_bg.entry(background(&g.cfg)).or_default().push(i);
        }
    }
    let multi_bg = by_bg.len() > 1;
    for (bg, members) in &by_bg {
        let cats: Vec<Category> = members
            .iter()
            .map(|&i| {
                let g = &groups[i];
                let var = variant(&g.cfg);
                let mut label = ratio_label(g.cfg.ratio);
                if g.cfg.ratio != Some(0.0) && !var.is_empty() {
                    label = format!(
                        "{label}, {}",
                        var.iter()
                            .map(|(k, v)| short_value(k, v))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                Category {
                    label,
                    mean: 100.0 * g.cfg.final_superclass_error_frac.mean,
                    sem: 100.0 * g.cfg.final_superclass_error_frac.sem,
                    mark: mark(&g.cfg.superclass_vs_control),
                    color: if var.is_empty() || g.cfg.ratio == Some(0.0) {
                        ratio_color(g.cfg.ratio, positive)
                    } else {
                        teacher_color(g.cfg.axes.get(PAIRS_KEY).map(String::as_str))
                    },
                }
            })
            .collect();
        let files = plot::category_chart(
            fig_dir,
            &stem("fig5_superclass_errors", if multi_bg { bg } else { &[] }),
            &CategoryChart {
                title: "Errors within the correct superclass".into(),
                x_label: "configuration".into(),
                y_label: "errors within correct superclass (%)".into(),
                categories: cats,
                bars: true,
            },
        )?;
        figures.push((
            "Table 1 / Fig. 5 — errors within the correct superclass".into(),
            format!("Percentage of test errors within the true superclass, mean ± SEM; stars vs r = 0{}", if bg.is_empty() { String::new() } else { format!(" ({})", label_of(&bg.iter().cloned().collect())) }),
            files,
        ));
    }
    Ok(())
}
