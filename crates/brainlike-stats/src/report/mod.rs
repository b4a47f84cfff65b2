//! Report generator for a sweep directory: tables and figures in the forms of the
//! paper (Fig. 2a/b test accuracy, Fig. 3 t-SNE and §3.2 activation variance, Fig. 4
//! teacher types, Table 1 / Fig. 5 superclass errors, Fig. 6 label corruption).
//!
//! Layout read: `SWEEP/runs/<run_id>/` with `config.toml`, `metrics.csv`,
//! `summary.json` (finished runs only), optional `analysis/activation_variance.json`
//! and `analysis/tsne.csv` (see [`load`]).
//!
//! **Configurations.** Each `config.toml` is flattened to dotted keys. A key whose
//! value differs between runs is a configuration axis, except keys ignored by
//! [`is_ignored_key`] (`seed`, `*_seed`, `out_dir`, `*_dir`, `dir`, `device`,
//! `threads`, `run_id`, `name`: bookkeeping that varies without changing the
//! experiment). Runs with equal values on all axes form a configuration; their seeds
//! are the replicates.
//!
//! **Statistics.** Final values are the last `metrics.csv` row of each *finished* run
//! (partial runs appear only in the per-epoch curves, with the number of runs per
//! epoch shrinking where they stop). Tables give mean ± SEM over seeds. Each
//! configuration with `teacher.ratio` > 0 is compared with its control: the finished
//! runs with `teacher.ratio` = 0 and the same values on every non-`teacher.*` axis
//! (e.g. the same label-corruption fraction), pooled. The test is a one-tailed Welch
//! t-test (configuration > control), the paper's `*` p < .05 and `**` p < .001, with
//! the power note of [`crate::ttest`].
//!
//! Figures are written to `OUT/figures/` as PNG and SVG and embedded in
//! `OUT/report.md`; `OUT/report.json` holds the [`ReportSummary`].

pub mod load;
pub mod plot;

use crate::error::{Result, StatsError};
use crate::summary::{Summary, summarize_by_epoch};
use crate::ttest::{TTestOptions, TTestOutcome, ttest_ind};
use load::{RunRecord, RunStatus};
use plot::{Category, CategoryChart, LineChart, LineSeries, Scatter};
use plotters::style::RGBColor;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Config key of the teacher weighting ratio r.
pub const RATIO_KEY: &str = "teacher.ratio";
/// Config key of the teacher pair file (teacher type).
pub const PAIRS_KEY: &str = "teacher.pairs";
/// Config key of the label-corruption fraction p.
pub const CORRUPTION_KEY: &str = "data.label_corruption";

/// Whether a flattened config key is bookkeeping rather than a configuration axis
/// (see the module documentation).
pub fn is_ignored_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    matches!(
        last,
        "seed" | "out_dir" | "dir" | "device" | "threads" | "run_id" | "name"
    ) || last.ends_with("_seed")
        || last.ends_with("_dir")
}

/// One configuration (a set of seeds) of the sweep.
#[derive(Debug, Clone, Serialize)]
pub struct Configuration {
    /// Values of the sweep's axes.
    pub axes: BTreeMap<String, String>,
    /// `axis=value, ...` (or "all runs" when the sweep has no axis).
    pub label: String,
    /// `teacher.ratio`, when the runs have it.
    pub ratio: Option<f64>,
    /// All run ids of the configuration.
    pub run_ids: Vec<String>,
    /// Finished runs.
    pub n_finished: usize,
    /// Partial runs (some epochs, no summary).
    pub n_partial: usize,
    /// Runs without epochs or unreadable.
    pub n_missing: usize,
    /// Final test accuracy over finished runs (fraction).
    pub final_test_acc: Summary,
    /// Final training accuracy over finished runs (fraction).
    pub final_train_acc: Summary,
    /// Final fraction of errors within the true superclass over finished runs.
    pub final_superclass_error_frac: Summary,
    /// Final generalization gap `test_loss − train_loss` over finished runs.
    pub final_loss_gap: Summary,
    /// Activation variance of the tapped layer over runs that have it.
    pub activation_variance: Summary,
    /// Label of the r = 0 control, when this configuration is compared to one.
    pub control: Option<String>,
    /// Test accuracy vs control (one-tailed Welch, greater).
    pub acc_vs_control: Option<TTestOutcome>,
    /// Superclass-error fraction vs control (one-tailed Welch, greater).
    pub superclass_vs_control: Option<TTestOutcome>,
}

/// What [`write_report`] produced.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSummary {
    /// The Markdown report.
    pub report_path: PathBuf,
    /// Run directories found.
    pub n_runs: usize,
    /// Finished runs.
    pub n_finished: usize,
    /// Partial runs.
    pub n_partial: usize,
    /// Runs without any finished epoch.
    pub n_missing: usize,
    /// Unreadable runs.
    pub n_invalid: usize,
    /// Configuration axes (flattened keys).
    pub axes: Vec<String>,
    /// Configurations in table order.
    pub configurations: Vec<Configuration>,
    /// `(run_id, status)` of every run that is not finished.
    pub unfinished: Vec<(String, String)>,
    /// Figure files written (PNG and SVG).
    pub figures: Vec<PathBuf>,
}

/// Numeric-aware ordering of axis values.
fn value_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        _ => a.cmp(b),
    }
}

fn label_of(axes: &BTreeMap<String, String>) -> String {
    if axes.is_empty() {
        "all runs".into()
    } else {
        axes.iter()
            .map(|(k, v)| format!("{k}={}", short_value(k, v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn short_value(key: &str, value: &str) -> String {
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

fn slug(parts: &[(String, String)]) -> String {
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

fn stem(base: &str, parts: &[(String, String)]) -> String {
    if parts.is_empty() {
        base.to_string()
    } else {
        format!("{base}__{}", slug(parts))
    }
}

fn ratio_color(ratio: Option<f64>, positive: &[f64]) -> RGBColor {
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

fn teacher_color(pairs: Option<&str>) -> RGBColor {
    match pairs.map(|p| short_value(PAIRS_KEY, p)).as_deref() {
        Some("v1") => RGBColor(150, 0, 0),
        Some("v1_shuffled") => RGBColor(240, 110, 110),
        Some("gaussian_v1_stats") => RGBColor(128, 60, 160),
        Some("gaussian_non_v1_stats") => RGBColor(40, 90, 200),
        _ => RGBColor(100, 100, 100),
    }
}

/// `(axis, value)` pairs.
type AxisValues = Vec<(String, String)>;
/// `(x, mean, sem)`.
type MeanSem = (f64, f64, f64);

struct Group<'a> {
    cfg: Configuration,
    runs: Vec<&'a RunRecord>,
}

impl Group<'_> {
    fn finished(&self) -> impl Iterator<Item = &&RunRecord> {
        self.runs
            .iter()
            .filter(|r| matches!(r.status, RunStatus::Finished))
    }

    fn final_values(&self, f: impl Fn(&load::MetricsRow) -> f64) -> Vec<f64> {
        self.finished().filter_map(|r| r.last()).map(f).collect()
    }

    /// Per-epoch mean ± SEM of a metric over runs with epochs (finished or partial).
    fn curve(&self, f: impl Fn(&load::MetricsRow) -> f64) -> Vec<(f64, f64, f64)> {
        let runs: Vec<Vec<(u32, f64)>> = self
            .runs
            .iter()
            .filter(|r| matches!(r.status, RunStatus::Finished | RunStatus::Partial))
            .map(|r| r.metrics.iter().map(|m| (m.epoch, f(m))).collect())
            .collect();
        summarize_by_epoch(&runs)
            .into_iter()
            .map(|e| (e.epoch as f64, e.summary.mean, e.summary.sem))
            .collect()
    }
}

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

/// Read the sweep at `sweep_dir` and write `report.md`, `report.json` and the figures
/// (`figures/*.png`, `figures/*.svg`) under `out_dir` (created if needed).
pub fn write_report(sweep_dir: &Path, out_dir: &Path) -> Result<ReportSummary> {
    let runs = load::load_runs(sweep_dir)?;
    let fig_dir = out_dir.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(|e| StatsError::io(&fig_dir, "creating", e))?;

    // Axes: keys whose values differ across runs with a readable config.
    let configured: Vec<&RunRecord> = runs
        .iter()
        .filter(|r| !matches!(r.status, RunStatus::Invalid { .. }) || !r.config.is_empty())
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
            let count =
                |f: &dyn Fn(&RunStatus) -> bool| runs.iter().filter(|r| f(&r.status)).count();
            let cfg = Configuration {
                label: label_of(&axes_map),
                axes: axes_map,
                ratio,
                run_ids: runs.iter().map(|r| r.run_id.clone()).collect(),
                n_finished: count(&|s| matches!(s, RunStatus::Finished)),
                n_partial: count(&|s| matches!(s, RunStatus::Partial)),
                n_missing: count(&|s| matches!(s, RunStatus::NoEpochs | RunStatus::Invalid { .. })),
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
    let background = |c: &Configuration| -> Vec<(String, String)> {
        c.axes
            .iter()
            .filter(|(k, _)| !k.starts_with("teacher."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let variant = |c: &Configuration| -> Vec<(String, String)> {
        c.axes
            .iter()
            .filter(|(k, _)| k.starts_with("teacher.") && k.as_str() != RATIO_KEY)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
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

    let positive: Vec<f64> = {
        let mut v: Vec<f64> = groups
            .iter()
            .filter_map(|g| g.cfg.ratio)
            .filter(|&r| r > 0.0)
            .collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let mut figures: Vec<(String, String, Vec<PathBuf>)> = Vec::new(); // (section, caption, files)
    let has_epochs = |g: &Group| g.runs.iter().any(|r| !r.metrics.is_empty());
    let ratio_label = |r: Option<f64>| match r {
        Some(r) => format!("r = {r}"),
        None => "(no teacher.ratio)".into(),
    };

    // Families: (background, variant) → groups with ratio > 0 (plus the control).
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
    let controls_of = |bg: &Vec<(String, String)>| -> Vec<usize> {
        (0..groups.len())
            .filter(|&j| groups[j].cfg.ratio == Some(0.0) && &background(&groups[j].cfg) == bg)
            .collect()
    };
    let single_family = families.len() == 1;
    for ((bg, var), members) in &families {
        let mut idx = controls_of(bg);
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
        // Fig. 2a: test accuracy vs epoch.
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
                    color: ratio_color(g.cfg.ratio, &positive),
                    points: g.curve(|m| m.test_acc),
                    dashed: false,
                }
            })
            .collect();
        if !series.is_empty() {
            let files = plot::line_chart(
                &fig_dir,
                &stem("fig2a_test_acc_vs_epoch", &parts),
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
        // Fig. 2b: final test accuracy vs r with stars.
        let cats: Vec<Category> = idx
            .iter()
            .filter(|&&i| groups[i].cfg.n_finished > 0)
            .map(|&i| {
                let g = &groups[i];
                Category {
                    label: ratio_label(g.cfg.ratio),
                    mean: g.cfg.final_test_acc.mean,
                    sem: g.cfg.final_test_acc.sem,
                    mark: mark(&g.cfg.acc_vs_control),
                    color: ratio_color(g.cfg.ratio, &positive),
                }
            })
            .collect();
        if !cats.is_empty() {
            let files = plot::category_chart(
                &fig_dir,
                &stem("fig2b_final_test_acc_vs_r", &parts),
                &CategoryChart {
                    title: format!("Final test accuracy{suffix}"),
                    x_label: "weighting ratio r".into(),
                    y_label: "final test accuracy (fraction)".into(),
                    categories: cats,
                    bars: false,
                },
            )?;
            figures.push((
                "Fig. 2b — final test accuracy vs r".into(),
                format!("Final test accuracy, mean ± SEM; * p < .05, ** p < .001 vs r = 0 (one-tailed Welch){suffix}"),
                files,
            ));
        }
        // §3.2 / Fig. 3c: activation variance vs r.
        let cats: Vec<Category> = idx
            .iter()
            .filter(|&&i| groups[i].cfg.activation_variance.n > 0)
            .map(|&i| {
                let g = &groups[i];
                Category {
                    label: ratio_label(g.cfg.ratio),
                    mean: g.cfg.activation_variance.mean,
                    sem: g.cfg.activation_variance.sem,
                    mark: String::new(),
                    color: ratio_color(g.cfg.ratio, &positive),
                }
            })
            .collect();
        if !cats.is_empty() {
            let files = plot::category_chart(
                &fig_dir,
                &stem("fig3c_activation_variance_vs_r", &parts),
                &CategoryChart {
                    title: format!("Mean unit activation variance{suffix}"),
                    x_label: "weighting ratio r".into(),
                    y_label: "mean variance per unit".into(),
                    categories: cats,
                    bars: false,
                },
            )?;
            figures.push((
                "Fig. 3c — activation variance vs r (§3.2)".into(),
                format!("Average variance per unit of the tapped layer over test images, mean ± SEM{suffix}"),
                files,
            ));
        }
    }

    // Fig. 4: teacher types at a fixed ratio (when a teacher axis other than r varies).
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
        for &j in &controls_of(bg) {
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
            &fig_dir,
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

    // Table 1 / Fig. 5: superclass errors, one figure per background.
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
                        ratio_color(g.cfg.ratio, &positive)
                    } else {
                        teacher_color(g.cfg.axes.get(PAIRS_KEY).map(String::as_str))
                    },
                }
            })
            .collect();
        let files = plot::category_chart(
            &fig_dir,
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

    // Fig. 6: label corruption.
    if axes.iter().any(|a| a == CORRUPTION_KEY) {
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
                        color: ratio_color(ratio, &positive),
                        points: pts,
                        dashed: false,
                    }
                })
                .collect();
            if !series.is_empty() {
                let files = plot::line_chart(
                    &fig_dir,
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
                    (|m: &load::MetricsRow| m.train_acc - m.test_acc)
                        as fn(&load::MetricsRow) -> f64,
                ),
                (
                    "fig6c_generalization_error_loss",
                    "Generalization error: test loss − train loss",
                    "test loss − train loss",
                    (|m: &load::MetricsRow| m.test_loss - m.train_loss)
                        as fn(&load::MetricsRow) -> f64,
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
                            color: ratio_color(g.cfg.ratio, &positive),
                            points: g.curve(f),
                            dashed: rank % 2 == 1,
                        })
                    })
                    .collect();
                if series.is_empty() {
                    continue;
                }
                let files = plot::line_chart(
                    &fig_dir,
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
    }

    // Fig. 3a/b: t-SNE of one run per configuration.
    for g in &groups {
        if let Some(run) = g.runs.iter().find(|r| r.tsne.is_some()) {
            let pts = run.tsne.as_ref().expect("checked");
            let parts: Vec<(String, String)> = g
                .cfg
                .axes
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let files = plot::scatter(
                &fig_dir,
                &format!(
                    "{}__{}",
                    stem("fig3_tsne", &parts),
                    slug(&[("run".into(), run.run_id.clone())])
                ),
                &Scatter {
                    title: format!(
                        "t-SNE of tapped-layer activations: {} (run {})",
                        g.cfg.label, run.run_id
                    ),
                    points: pts.iter().map(|p| (p.x, p.y, p.coarse_label)).collect(),
                },
            )?;
            figures.push((
                "Fig. 3a/b — t-SNE of the V1-like layer".into(),
                format!(
                    "{} test images coloured by superclass; {} (run {})",
                    pts.len(),
                    g.cfg.label,
                    run.run_id
                ),
                files,
            ));
        }
    }

    // Tallies.
    let count = |f: &dyn Fn(&RunStatus) -> bool| runs.iter().filter(|r| f(&r.status)).count();
    let unfinished: Vec<(String, String)> = runs
        .iter()
        .filter(|r| !matches!(r.status, RunStatus::Finished))
        .map(|r| {
            let epochs = r.last().map_or(String::new(), |m| {
                format!(
                    ", {} epochs written, last epoch {}",
                    r.metrics.len(),
                    m.epoch
                )
            });
            (r.run_id.clone(), format!("{}{epochs}", r.status.describe()))
        })
        .collect();
    let summary = ReportSummary {
        report_path: out_dir.join("report.md"),
        n_runs: runs.len(),
        n_finished: count(&|s| matches!(s, RunStatus::Finished)),
        n_partial: count(&|s| matches!(s, RunStatus::Partial)),
        n_missing: count(&|s| matches!(s, RunStatus::NoEpochs)),
        n_invalid: count(&|s| matches!(s, RunStatus::Invalid { .. })),
        axes: axes.clone(),
        configurations: groups.iter().map(|g| g.cfg.clone()).collect(),
        unfinished,
        figures: figures.iter().flat_map(|f| f.2.clone()).collect(),
    };

    let md = markdown(sweep_dir, out_dir, &summary, &figures);
    write_atomic(&summary.report_path, md.as_bytes())?;
    let json = serde_json::to_string_pretty(&summary)
        .map_err(|e| StatsError::InvalidArgument(format!("serialising the summary: {e}")))?;
    write_atomic(&out_dir.join("report.json"), json.as_bytes())?;
    Ok(summary)
}

fn mark(o: &Option<TTestOutcome>) -> String {
    match o.as_ref().and_then(|o| o.result()) {
        Some(r) if r.p < 0.05 => r.stars.as_str().to_string(),
        _ => String::new(),
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| StatsError::io(dir, "creating temporary file", e))?;
    tmp.write_all(bytes)
        .map_err(|e| StatsError::io(tmp.path(), "writing", e))?;
    tmp.persist(path)
        .map_err(|e| StatsError::io(path, "renaming into place", e.error))?;
    Ok(())
}

fn markdown(
    sweep_dir: &Path,
    out_dir: &Path,
    s: &ReportSummary,
    figures: &[(String, String, Vec<PathBuf>)],
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
