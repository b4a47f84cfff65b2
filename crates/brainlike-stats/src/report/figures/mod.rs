//! The paper's figures, one file each. [`draw_all`] draws them in the report's order: per
//! family of configurations Fig. 2a, 2b and 3c, then Fig. 4, Fig. 5, Fig. 6 and the t-SNE
//! plots of Fig. 3a/b. Each figure is written as PNG and SVG under `OUT/figures/`.

mod fig2a_test_acc_vs_epoch;
mod fig2b_final_test_acc_vs_r;
mod fig3_tsne;
mod fig3c_activation_variance_vs_r;
mod fig4_teacher_types;
mod fig5_superclass_errors;
mod fig6_label_corruption;

use super::PAIRS_KEY;
use super::groups::{AxisValues, Group, background, controls_of, label_of, short_value, variant};
use crate::error::Result;
use crate::ttest::TTestOutcome;
use plotters::style::RGBColor;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A drawn figure: (report section, caption, files).
pub(super) type Figure = (String, String, Vec<PathBuf>);

/// What every figure reads.
#[derive(Clone, Copy)]
pub(super) struct Context<'a> {
    /// `OUT/figures`.
    pub fig_dir: &'a Path,
    /// The configurations, in table order.
    pub groups: &'a [Group<'a>],
    /// The distinct r > 0, ascending (for colours).
    pub positive: &'a [f64],
    /// The configuration axes.
    pub axes: &'a [String],
}

/// Configurations drawn together in Fig. 2a/2b/3c: one background and teacher variant over
/// several r, with their r = 0 controls.
pub(super) struct Family {
    /// Configuration indices: the controls first, then the members.
    pub idx: Vec<usize>,
    /// The axis values naming the family's files (empty when there is one family).
    pub parts: AxisValues,
    /// ` (axis=value, ...)` for titles, or empty.
    pub suffix: String,
}

/// One value per configuration of a family, plotted against r (Fig. 2b, Fig. 3c).
pub(super) struct RatioChart<'s> {
    /// File stem before the family's parts.
    pub file: &'s str,
    /// Title before the family's suffix.
    pub title: &'s str,
    /// Y axis label.
    pub y_label: &'s str,
    /// Report section.
    pub section: &'s str,
    /// Caption before the family's suffix.
    pub caption: &'s str,
}

/// Draws `chart` for `fam`: one category per configuration for which `pick` gives
/// `(mean, sem, mark)`, none drawn when no configuration has a value.
pub(super) fn ratio_chart(
    cx: &Context,
    fam: &Family,
    chart: &RatioChart,
    pick: impl Fn(&Group) -> Option<(f64, f64, String)>,
    figures: &mut Vec<Figure>,
) -> Result<()> {
    use crate::report::plot::{self, Category, CategoryChart};
    let Family { idx, parts, suffix } = fam;
    let cats: Vec<Category> = idx
        .iter()
        .filter_map(|&i| {
            let g = &cx.groups[i];
            let (mean, sem, mark) = pick(g)?;
            Some(Category {
                label: ratio_label(g.cfg.ratio),
                mean,
                sem,
                mark,
                color: ratio_color(g.cfg.ratio, cx.positive),
            })
        })
        .collect();
    if !cats.is_empty() {
        let files = plot::category_chart(
            cx.fig_dir,
            &stem(chart.file, parts),
            &CategoryChart {
                title: format!("{}{suffix}", chart.title),
                x_label: "weighting ratio r".into(),
                y_label: chart.y_label.into(),
                categories: cats,
                bars: false,
            },
        )?;
        figures.push((
            chart.section.into(),
            format!("{}{suffix}", chart.caption),
            files,
        ));
    }
    Ok(())
}

/// Draws every figure that the sweep's configurations support, in report order.
pub(super) fn draw_all(cx: &Context) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for fam in families(cx.groups) {
        fig2a_test_acc_vs_epoch::draw(cx, &fam, &mut figures)?;
        fig2b_final_test_acc_vs_r::draw(cx, &fam, &mut figures)?;
        fig3c_activation_variance_vs_r::draw(cx, &fam, &mut figures)?;
    }
    fig4_teacher_types::draw(cx, &mut figures)?;
    fig5_superclass_errors::draw(cx, &mut figures)?;
    fig6_label_corruption::draw(cx, &mut figures)?;
    fig3_tsne::draw(cx, &mut figures)?;
    Ok(figures)
}

/// Families: (background, variant) → configurations with r > 0 (or without r), plus the
/// controls. Families spanning several r are preferred (Fig. 2 proper); single-r variants
/// appear in the teacher-type figure instead.
fn families(groups: &[Group]) -> Vec<Family> {
    let mut out = Vec::new();
    let mut families: BTreeMap<(AxisValues, AxisValues), Vec<usize>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        if g.cfg.ratio.is_some_and(|r| r > 0.0) || g.cfg.ratio.is_none() {
            families
                .entry((background(&g.cfg), variant(&g.cfg)))
                .or_default()
                .push(i);
        }
    }
    // Prefer families that span several r values (Fig. 2 proper); single-r variants
    // appear in the teacher-type figure instead.
    let multi_r: Vec<_> = families
        .iter()
        .filter(|(_, m)| {
            let rs: BTreeSet<String> = m
                .iter()
                .filter_map(|&i| groups[i].cfg.ratio)
                .map(|r| format!("{r}"))
                .collect();
            rs.len() >= 2
        })
        .map(|(k, _)| k.clone())
        .collect();
    if !multi_r.is_empty() {
        families.retain(|k, _| multi_r.contains(k));
    }
    if families.is_empty() {
        // Only controls: one family per background.
        for (i, g) in groups.iter().enumerate() {
            families
                .entry((background(&g.cfg), vec![]))
                .or_default()
                .push(i);
        }
    }
    let single_family = families.len() == 1;
    for ((bg, var), members) in &families {
        let mut idx = controls_of(groups, bg);
        for &m in members {
            if !idx.contains(&m) {
                idx.push(m);
            }
        }
        let parts: Vec<(String, String)> = if single_family {
            vec![]
        } else {
            bg.iter().chain(var.iter()).cloned().collect()
        };
        let suffix = if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", label_of(&parts.iter().cloned().collect()))
        };
        out.push(Family { idx, parts, suffix });
    }
    out
}

/// Whether any run of the configuration has a finished epoch.
pub(super) fn has_epochs(g: &Group) -> bool {
    g.runs.iter().any(|r| !r.metrics.is_empty())
}

/// `r = 0.1`, or a note when the runs have no `teacher.ratio`.
pub(super) fn ratio_label(r: Option<f64>) -> String {
    match r {
        Some(r) => format!("r = {r}"),
        None => "(no teacher.ratio)".into(),
    }
}

pub(super) fn slug(parts: &[(String, String)]) -> String {
    let text = parts
        .iter()
        .map(|(k, v)| {
            let short = k.rsplit('.').next().unwrap_or(k);
            format!("{short}-{}", short_value(k, v))
        })
        .collect::<Vec<_>>()
        .join("_");
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(super) fn stem(base: &str, parts: &[(String, String)]) -> String {
    if parts.is_empty() {
        base.to_string()
    } else {
        format!("{base}__{}", slug(parts))
    }
}

pub(super) fn ratio_color(ratio: Option<f64>, positive: &[f64]) -> RGBColor {
    match ratio {
        Some(r) if r > 0.0 => {
            let rank = positive.iter().position(|&x| x == r).unwrap_or(0);
            let t = if positive.len() > 1 {
                rank as f64 / (positive.len() - 1) as f64
            } else {
                1.0
            };
            // light red → dark red with growing r (paper: darker = larger r).
            let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
            RGBColor(lerp(250.0, 110.0), lerp(130.0, 0.0), lerp(130.0, 0.0))
        }
        Some(_) => RGBColor(0, 0, 0),
        None => RGBColor(31, 119, 180),
    }
}

pub(super) fn teacher_color(pairs: Option<&str>) -> RGBColor {
    match pairs.map(|p| short_value(PAIRS_KEY, p)).as_deref() {
        Some("v1") => RGBColor(150, 0, 0),
        Some("v1_shuffled") => RGBColor(240, 110, 110),
        Some("gaussian_v1_stats") => RGBColor(128, 60, 160),
        Some("gaussian_non_v1_stats") => RGBColor(40, 90, 200),
        _ => RGBColor(100, 100, 100),
    }
}

pub(super) fn mark(o: &Option<TTestOutcome>) -> String {
    match o.as_ref().and_then(|o| o.result()) {
        Some(r) if r.p < 0.05 => r.stars.as_str().to_string(),
        _ => String::new(),
    }
}
