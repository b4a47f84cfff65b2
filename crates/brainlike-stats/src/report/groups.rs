//! Configurations of a sweep: the axes (config keys whose values differ between runs), the
//! runs grouped by their values on the axes, their final statistics and their r = 0
//! controls (see the [module documentation](super)).

use super::load::{self, RunRecord};
use super::{Configuration, PAIRS_KEY, RATIO_KEY, is_ignored_key};
use crate::error::Result;
use crate::summary::{Summary, summarize_by_epoch};
use crate::ttest::{TTestOptions, ttest_ind};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `(axis, value)` pairs.
pub(super) type AxisValues = Vec<(String, String)>;
/// `(x, mean, sem)`.
pub(super) type MeanSem = (f64, f64, f64);

pub(super) struct Group<'a> {
    pub(super) cfg: Configuration,
    pub(super) runs: Vec<&'a RunRecord>,
}

impl Group<'_> {
    pub(super) fn finished(&self) -> impl Iterator<Item = &&RunRecord> {
        self.runs.iter().filter(|r| r.is_finished())
    }

    pub(super) fn final_values(&self, f: impl Fn(&load::MetricsRow) -> f64) -> Vec<f64> {
        self.finished().filter_map(|r| r.last()).map(f).collect()
    }

    /// Per-epoch mean ± SEM of a metric over runs with epochs (finished or partial).
    pub(super) fn curve(&self, f: impl Fn(&load::MetricsRow) -> f64) -> Vec<(f64, f64, f64)> {
        let runs: Vec<Vec<(u32, f64)>> = self
            .runs
            .iter()
            .filter(|r| r.is_finished() || r.is_partial())
            .map(|r| r.metrics.iter().map(|m| (m.epoch as u32, f(m))).collect())
            .collect();
        summarize_by_epoch(&runs)
            .into_iter()
            .map(|e| (e.epoch as f64, e.summary.mean, e.summary.sem))
            .collect()
    }
}

/// The axes of `runs` and their configurations in table order, with final statistics and
/// tests against the r = 0 controls.
pub(super) fn configurations(runs: &[RunRecord]) -> Result<(Vec<String>, Vec<Group<'_>>)> {
    // Axes: keys whose values differ across runs with a readable config.
    let configured: Vec<&RunRecord> = runs
        .iter()
        .filter(|r| !r.is_invalid() || !r.config.is_empty())
        .collect();
    let all_keys: BTreeSet<&String> = configured.iter().flat_map(|r| r.config.keys()).collect();
    let axes: Vec<String> = all_keys
        .into_iter()
        .filter(|k| !is_ignored_key(k))
        .filter(|k| {
            let vals: BTreeSet<Option<&String>> =
                configured.iter().map(|r| r.config.get(*k)).collect();
            vals.len() > 1
        })
        .cloned()
        .collect();

    // Group runs into configurations.
    let mut by_axes: BTreeMap<Vec<(String, String)>, Vec<&RunRecord>> = BTreeMap::new();
    for r in &configured {
        let key: Vec<(String, String)> = axes
            .iter()
            .map(|a| {
                (
                    a.clone(),
                    r.config.get(a).cloned().unwrap_or_else(|| "(unset)".into()),
                )
            })
            .collect();
        by_axes.entry(key).or_default().push(r);
    }
    let mut groups: Vec<Group> = by_axes
        .into_iter()
        .map(|(key, runs)| {
            let axes_map: BTreeMap<String, String> = key.into_iter().collect();
            let ratio = runs[0]
                .config
                .get(RATIO_KEY)
                .and_then(|v| v.parse::<f64>().ok());
            let count = |f: &dyn Fn(&RunRecord) -> bool| runs.iter().filter(|r| f(r)).count();
            let cfg = Configuration {
                label: label_of(&axes_map),
                axes: axes_map,
                ratio,
                run_ids: runs.iter().map(|r| r.run_id.clone()).collect(),
                n_finished: count(&RunRecord::is_finished),
                n_partial: count(&RunRecord::is_partial),
                n_missing: count(&|r| r.is_missing() || r.is_invalid()),
                final_test_acc: Summary::of(&[]),
                final_train_acc: Summary::of(&[]),
                final_superclass_error_frac: Summary::of(&[]),
                final_loss_gap: Summary::of(&[]),
                activation_variance: Summary::of(&[]),
                control: None,
                acc_vs_control: None,
                superclass_vs_control: None,
            };
            Group { cfg, runs }
        })
        .collect();
    // Order: background (non-teacher axes), then ratio, then other teacher axes.
    let cmp_pairs = |a: &[(String, String)], b: &[(String, String)]| {
        for (x, y) in a.iter().zip(b) {
            let o = value_cmp(&x.1, &y.1);
            if o.is_ne() {
                return o;
            }
        }
        a.len().cmp(&b.len())
    };
    groups.sort_by(|a, b| {
        cmp_pairs(&background(&a.cfg), &background(&b.cfg))
            .then(
                a.cfg
                    .ratio
                    .unwrap_or(f64::NAN)
                    .total_cmp(&b.cfg.ratio.unwrap_or(f64::NAN)),
            )
            .then_with(|| cmp_pairs(&variant(&a.cfg), &variant(&b.cfg)))
    });

    // Final statistics.
    for g in &mut groups {
        g.cfg.final_test_acc = Summary::of(&g.final_values(|m| m.test_acc));
        g.cfg.final_train_acc = Summary::of(&g.final_values(|m| m.train_acc));
        g.cfg.final_superclass_error_frac =
            Summary::of(&g.final_values(|m| m.superclass_error_frac));
        g.cfg.final_loss_gap = Summary::of(&g.final_values(|m| m.test_loss - m.train_loss));
        let av: Vec<f64> = g
            .runs
            .iter()
            .filter_map(|r| r.activation_variance)
            .collect();
        g.cfg.activation_variance = Summary::of(&av);
    }
    // Controls and tests.
    let opts = TTestOptions::default();
    let n_groups = groups.len();
    for i in 0..n_groups {
        let Some(r) = groups[i].cfg.ratio else {
            continue;
        };
        if r == 0.0 {
            continue;
        }
        let bg = background(&groups[i].cfg);
        let controls: Vec<usize> = (0..n_groups)
            .filter(|&j| groups[j].cfg.ratio == Some(0.0) && background(&groups[j].cfg) == bg)
            .collect();
        if controls.is_empty() {
            continue;
        }
        let pool = |f: &dyn Fn(&load::MetricsRow) -> f64| -> Vec<f64> {
            controls
                .iter()
                .flat_map(|&j| groups[j].final_values(f))
                .collect()
        };
        let ctrl_acc = pool(&|m| m.test_acc);
        let ctrl_sup = pool(&|m| m.superclass_error_frac);
        let label = controls
            .iter()
            .map(|&j| groups[j].cfg.label.clone())
            .collect::<Vec<_>>()
            .join(" + ");
        let acc = ttest_ind(&groups[i].final_values(|m| m.test_acc), &ctrl_acc, &opts)?;
        let sup = ttest_ind(
            &groups[i].final_values(|m| m.superclass_error_frac),
            &ctrl_sup,
            &opts,
        )?;
        let cfg = &mut groups[i].cfg;
        cfg.control = Some(label);
        cfg.acc_vs_control = Some(acc);
        cfg.superclass_vs_control = Some(sup);
    }

    Ok((axes, groups))
}

/// The non-teacher axis values of a configuration (what its control must share).
pub(super) fn background(c: &Configuration) -> AxisValues {
    c.axes
        .iter()
        .filter(|(k, _)| !k.starts_with("teacher."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The teacher axis values of a configuration other than r (e.g. the teacher type).
pub(super) fn variant(c: &Configuration) -> AxisValues {
    c.axes
        .iter()
        .filter(|(k, _)| k.starts_with("teacher.") && k.as_str() != RATIO_KEY)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The r = 0 configurations with background `bg`.
pub(super) fn controls_of(groups: &[Group], bg: &AxisValues) -> Vec<usize> {
    (0..groups.len())
        .filter(|&j| groups[j].cfg.ratio == Some(0.0) && &background(&groups[j].cfg) == bg)
        .collect()
}

/// Numeric-aware ordering of axis values.
pub(super) fn value_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        _ => a.cmp(b),
    }
}

pub(super) fn label_of(axes: &BTreeMap<String, String>) -> String {
    if axes.is_empty() {
        "all runs".into()
    } else {
        axes.iter()
            .map(|(k, v)| format!("{k}={}", short_value(k, v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub(super) fn short_value(key: &str, value: &str) -> String {
    if key == PAIRS_KEY {
        // A path or a name: show the stem.
        Path::new(value)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| value.to_string())
    } else {
        value.to_string()
    }
}
