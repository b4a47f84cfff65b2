//! Fig. 2b: final test accuracy vs the weighting ratio r, mean ± SEM, with the stars of the
//! one-tailed Welch test against r = 0.

use super::{Context, Family, Figure, RatioChart, mark, ratio_chart};
use crate::error::Result;

/// Draws Fig. 2b for one family of configurations.
pub(super) fn draw(cx: &Context, fam: &Family, figures: &mut Vec<Figure>) -> Result<()> {
    let chart = RatioChart {
        file: "fig2b_final_test_acc_vs_r",
        title: "Final test accuracy",
        y_label: "final test accuracy (fraction)",
        section: "Fig. 2b — final test accuracy vs r",
        caption: "Final test accuracy, mean ± SEM; * p < .05, ** p < .001 vs r = 0 (one-tailed Welch)",
    };
    ratio_chart(
        cx,
        fam,
        &chart,
        |g| {
            (g.cfg.n_finished > 0).then(|| {
                let s = &g.cfg.final_test_acc;
                (s.mean, s.sem, mark(&g.cfg.acc_vs_control))
            })
        },
        figures,
    )
}
