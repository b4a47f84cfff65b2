//! `report.md`: the configurations table with the tests against r = 0, generalization and
//! activation variance, the runs not finished, the figures and the paper's reference values.

use super::ReportSummary;
use super::figures::Figure;
use crate::summary::Summary;
use crate::ttest::TTestOutcome;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn fmt_pct(s: &Summary) -> String {
    if s.n == 0 {
        "–".into()
    } else if s.n == 1 {
        format!("{:.2}", 100.0 * s.mean)
    } else {
        format!("{:.2} ± {:.2}", 100.0 * s.mean, 100.0 * s.sem)
    }
}

fn fmt_p(o: &Option<TTestOutcome>) -> (String, String, String) {
    match o {
        None => ("".into(), "".into(), "control".into()),
        Some(o) => match o.p() {
            Some(p) => (
                if p < 1e-4 {
                    format!("{p:.1e}")
                } else {
                    format!("{p:.4}")
                },
                o.stars_str().into(),
                o.note(),
            ),
            None => ("–".into(), "–".into(), o.note()),
        },
    }
}

/// The text of `report.md`.
pub(super) fn markdown(
    sweep_dir: &Path,
    out_dir: &Path,
    s: &ReportSummary,
    figures: &[Figure],
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# brainlike sweep report\n");
    let _ = writeln!(md, "Sweep: `{}`\n", sweep_dir.display());
    let _ = writeln!(
        md,
        "Runs: {} — finished {}, partial {}, without any epoch {}, unreadable {}.\n",
        s.n_runs, s.n_finished, s.n_partial, s.n_missing, s.n_invalid
    );
    if s.axes.is_empty() {
        let _ = writeln!(
            md,
            "Configuration axes: none (all runs share one configuration).\n"
        );
    } else {
        let _ = writeln!(
            md,
            "Configuration axes: {}.\n",
            s.axes
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        md,
        "Values are mean ± SEM over seeds of the final epoch of finished runs, in percent \
         (paper §2.4). *p* is a one-tailed Welch t-test of the configuration against its \
         r = 0 control (runs with `teacher.ratio = 0` and the same non-teacher settings): \
         `**` p < .001, `*` p < .05, `n.s.` otherwise, as in the paper's figures. The power \
         note gives Cohen's d and the smallest d detectable with 80% power at α = .05 \
         (one-tailed) for the group sizes; \"underpowered\" marks an observed effect below it. \
         Superclass errors: of the misclassified test images, the percentage whose predicted \
         class lies in the true superclass (Table 1).\n"
    );
    let _ = writeln!(md, "## Configurations\n");
    let _ = writeln!(
        md,
        "| configuration | n (finished / partial / missing) | final test acc (%) | Δ vs r = 0 (pp) | p | sig. | power note | errors within superclass (%) | p | sig. |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|");
    for c in &s.configurations {
        let (p, stars, note) = fmt_p(&c.acc_vs_control);
        let (p2, stars2, _) = fmt_p(&c.superclass_vs_control);
        let delta = match c.acc_vs_control.as_ref().and_then(|o| o.result()) {
            Some(r) => format!("{:+.2}", 100.0 * (r.mean_a - r.mean_b)),
            None => String::new(),
        };
        let note = if c.ratio.is_none() {
            String::new()
        } else if c.ratio == Some(0.0) {
            "control".into()
        } else if c.acc_vs_control.is_none() {
            "no r = 0 control in this sweep".into()
        } else {
            note
        };
        let _ = writeln!(
            md,
            "| {} | {} / {} / {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.label,
            c.n_finished,
            c.n_partial,
            c.n_missing,
            fmt_pct(&c.final_test_acc),
            delta,
            p,
            stars,
            note,
            fmt_pct(&c.final_superclass_error_frac),
            p2,
            stars2
        );
    }
    let _ = writeln!(md);
    if s.configurations
        .iter()
        .any(|c| c.activation_variance.n > 0 || c.final_train_acc.n > 0)
    {
        let _ = writeln!(md, "### Generalization and activation variance\n");
        let _ = writeln!(
            md,
            "| configuration | final train acc (%) | train − test acc (pp) | test − train loss | activation variance (n) |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|");
        for c in &s.configurations {
            let gap = if c.final_train_acc.n > 0 {
                format!(
                    "{:.2}",
                    100.0 * (c.final_train_acc.mean - c.final_test_acc.mean)
                )
            } else {
                "–".into()
            };
            let loss_gap = if c.final_loss_gap.n > 0 {
                if c.final_loss_gap.n > 1 {
                    format!("{:.4} ± {:.4}", c.final_loss_gap.mean, c.final_loss_gap.sem)
                } else {
                    format!("{:.4}", c.final_loss_gap.mean)
                }
            } else {
                "–".into()
            };
            let av = &c.activation_variance;
            let avs = match av.n {
                0 => "–".to_string(),
                1 => format!("{:.4e} (1)", av.mean),
                n => format!("{:.4e} ± {:.2e} ({n})", av.mean, av.sem),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                c.label,
                fmt_pct(&c.final_train_acc),
                gap,
                loss_gap,
                avs
            );
        }
        let _ = writeln!(md);
    }
    if !s.unfinished.is_empty() {
        let _ = writeln!(md, "## Runs not finished\n");
        let _ = writeln!(
            md,
            "Not used in the final-epoch statistics (partial runs do appear in the per-epoch curves).\n"
        );
        let _ = writeln!(md, "| run | status |");
        let _ = writeln!(md, "|---|---|");
        for (id, status) in &s.unfinished {
            let _ = writeln!(
                md,
                "| {id} | {} |",
                status.replace('|', "\\|").replace('\n', " ")
            );
        }
        let _ = writeln!(md);
    }
    if !figures.is_empty() {
        let _ = writeln!(md, "## Figures\n");
        let mut last_section = "";
        for (section, caption, files) in figures {
            if section != last_section {
                let _ = writeln!(md, "### {section}\n");
                last_section = section;
            }
            let rel = |p: &PathBuf| {
                p.strip_prefix(out_dir)
                    .unwrap_or(p)
                    .to_string_lossy()
                    .replace('\\', "/")
            };
            let png = files
                .iter()
                .find(|f| f.extension().is_some_and(|e| e == "png"));
            let svg = files
                .iter()
                .find(|f| f.extension().is_some_and(|e| e == "svg"));
            if let Some(png) = png {
                let _ = write!(md, "![{caption}]({})", rel(png));
            }
            if let Some(svg) = svg {
                let _ = write!(md, " ([SVG]({}))", rel(svg));
            }
            let _ = writeln!(md, "\n\n*{caption}*\n");
        }
    }
    let _ = writeln!(md, "## Paper reference (Federer et al. 2019)\n");
    let _ = writeln!(
        md,
        "CORnet-Z, CIFAR-100, 10 seeds per configuration, teacher applied for the first 10 of \
         100 epochs. Fig. 2: best test accuracy at r = 0.1, significantly above r = 0. Fig. 4: \
         V1 ≳ V1 shuffled > Gaussian (V1-stats) > Gaussian (non V1-stats) at r = 0.1. Table 1 \
         (errors within the correct superclass): r = 0 none 22.8%; r = 0.1 V1 23.9%; V1 \
         shuffled 23.9%; Gaussian (V1-stats) 23.7%; Gaussian (non V1-stats) 22.6%. Fig. 6: \
         with 10–50% corrupted labels, r = 0.1 gives higher test accuracy and a smaller \
         generalization gap than r = 0.\n"
    );
    md
}
