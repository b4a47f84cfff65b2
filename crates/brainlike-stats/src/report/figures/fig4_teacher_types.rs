//! Fig. 4: final test accuracy by teacher RDM (V1, V1 shuffled, Gaussian with and without
//! V1 statistics) at a fixed r, beside the r = 0 control; one figure per background and r.

use super::{Context, Figure, mark, stem, teacher_color};
use crate::error::Result;
use crate::report::groups::{AxisValues, background, controls_of, label_of, short_value, variant};
use crate::report::plot::{self, Category, CategoryChart};
use crate::report::{PAIRS_KEY, RATIO_KEY};
use plotters::style::RGBColor;
use std::collections::{BTreeMap, BTreeSet};

/// Draws Fig. 4 where a teacher axis other than r varies.
pub(super) fn draw(cx: &Context, figures: &mut Vec<Figure>) -> Result<()> {
    let Context {
        fig_dir, groups, ..
    } = *cx;
    let mut by_bg_ratio: BTreeMap<(AxisValues, String), Vec<usize>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        if let Some(r) = g.cfg.ratio.filter(|&r| r > 0.0) {
            by_bg_ratio
                .entry((background(&g.cfg), format!("{r}")))
                .or_default()
                .push(i);
        }
    }
    let multi_bg_ratio = by_bg_ratio.len() > 1;
    for ((bg, r), members) in &by_bg_ratio {
        let variants: BTreeSet<Vec<(String, String)>> =
            members.iter().map(|&i| variant(&groups[i].cfg)).collect();
        if variants.len() < 2 {
            continue;
        }
        let mut cats = Vec::new();
        for &j in &controls_of(groups, bg) {
            let g = &groups[j];
            if g.cfg.n_finished > 0 {
                cats.push(Category {
                    label: "none (r = 0)".into(),
                    mean: g.cfg.final_test_acc.mean,
                    sem: g.cfg.final_test_acc.sem,
                    mark: String::new(),
                    color: RGBColor(0, 0, 0),
                });
            }
        }
        // The paper's order: V1, V1 shuffled, Gaussian (V1-stats), Gaussian (non V1-stats).
        let rank = |i: usize| {
            groups[i]
                .cfg
                .axes
                .get(PAIRS_KEY)
                .and_then(|p| crate::teacher::TeacherKind::from_name(&short_value(PAIRS_KEY, p)))
                .and_then(|k| {
                    crate::teacher::TeacherKind::ALL
                        .iter()
                        .position(|&x| x == k)
                })
                .unwrap_or(usize::MAX)
        };
        let mut members = members.clone();
        members.sort_by_key(|&i| rank(i));
        for &i in &members {
            let g = &groups[i];
            if g.cfg.n_finished == 0 {
                continue;
            }
            let var = variant(&g.cfg);
            let label = var
                .iter()
                .map(|(k, v)| short_value(k, v))
                .collect::<Vec<_>>()
                .join(", ");
            cats.push(Category {
                label,
                mean: g.cfg.final_test_acc.mean,
                sem: g.cfg.final_test_acc.sem,
                mark: mark(&g.cfg.acc_vs_control),
                color: teacher_color(g.cfg.axes.get(PAIRS_KEY).map(String::as_str)),
            });
        }
        if cats.is_empty() {
            continue;
        }
        let mut parts: Vec<(String, String)> = bg.clone();
        parts.push((RATIO_KEY.to_string(), r.clone()));
        let files = plot::category_chart(
            fig_dir,
            &stem(
                "fig4_teacher_types",
                if multi_bg_ratio { &parts } else { &[] },
            ),
            &CategoryChart {
                title: format!("Teacher types at r = {r}"),
                x_label: "teacher".into(),
                y_label: "final test accuracy (fraction)".into(),
                categories: cats,
                bars: true,
            },
        )?;
        figures.push((
            "Fig. 4 — teacher types".into(),
            format!(
                "Final test accuracy by teacher RDM at r = {r}, mean ± SEM; stars vs r = 0 ({})",
                label_of(&bg.iter().cloned().collect())
            ),
            files,
        ));
    }
    Ok(())
}
