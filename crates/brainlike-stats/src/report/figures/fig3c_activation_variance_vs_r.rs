//! Fig. 3c / §3.2: mean per-unit activation variance of the tapped layer vs r.

use super::{Context, Family, Figure, RatioChart, ratio_chart};
use crate::error::Result;

/// Draws Fig. 3c for one family of configurations.
pub(super) fn draw(cx: &Context, fam: &Family, figures: &mut Vec<Figure>) -> Result<()> {
    let chart = RatioChart {
        file: "fig3c_activation_variance_vs_r",
        title: "Mean unit activation variance",
        y_label: "mean variance per unit",
        section: "Fig. 3c — activation variance vs r (§3.2)",
        caption: "Average variance per unit of the tapped layer over test images, mean ± SEM",
    };
    ratio_chart(
        cx,
        fam,
        &chart,
        |g| {
            let v = &g.cfg.activation_variance;
            (v.n > 0).then(|| (v.mean, v.sem, String::new()))
        },
        figures,
    )
}
