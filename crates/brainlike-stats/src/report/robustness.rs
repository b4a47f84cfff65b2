//! The report's robustness table: for every configuration whose runs hold a
//! `robustness.csv` (written by `brainlike evaluate --attack`), clean and robust accuracy per
//! attack, mean ± SEM over the runs that have it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::groups::Group;
use crate::summary::Summary;

/// `(attack, clean_acc, robust_acc)` rows of a run's `robustness.csv`; empty when absent or
/// unreadable.
fn read(run: &super::load::RunRecord) -> Vec<(String, f64, f64)> {
    let Ok(text) = std::fs::read_to_string(run.dir.join("robustness.csv")) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let cols: Vec<&str> = header.split(',').collect();
    let at = |name: &str| cols.iter().position(|c| *c == name);
    let (Some(a), Some(c), Some(r)) = (at("attack"), at("clean_acc"), at("robust_acc")) else {
        return Vec::new();
    };
    lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Some((
                f.get(a)?.to_string(),
                f.get(c)?.parse().ok()?,
                f.get(r)?.parse().ok()?,
            ))
        })
        .collect()
}

fn cell(v: &[f64]) -> String {
    let s = Summary::of(v);
    if v.len() > 1 {
        format!("{:.2} ± {:.2}", s.mean * 100.0, s.sem * 100.0)
    } else {
        format!("{:.2}", s.mean * 100.0)
    }
}

/// The Markdown section, or `None` when no run was evaluated under attack.
pub(super) fn section(groups: &[Group]) -> Option<String> {
    let mut out = String::from(
        "## Robustness (`brainlike evaluate --attack`)\n\n| configuration | attack | runs | clean accuracy % | robust accuracy % |\n|---|---|---|---|---|\n",
    );
    let mut any = false;
    for g in groups {
        let mut by_attack: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
        for run in &g.runs {
            for (attack, clean, robust) in read(run) {
                let e = by_attack.entry(attack).or_default();
                e.0.push(clean);
                e.1.push(robust);
            }
        }
        for (attack, (clean, robust)) in by_attack {
            any = true;
            let _ = writeln!(
                out,
                "| {} | `{attack}` | {} | {} | {} |",
                g.cfg.label,
                clean.len(),
                cell(&clean),
                cell(&robust)
            );
        }
    }
    any.then_some(out)
}
