//! Two-sample t-tests of a configuration against the r = 0 control (paper Fig. 2b,
//! Fig. 4b, Fig. 5, Fig. 6a, A.2–A.4: "significantly higher results from no neural
//! data, r = 0, at p < .05 (*) / p < .001 (**) on a one-tailed t-test").
//!
//! * Welch's unequal-variance test (the default) or Student's pooled-variance test,
//!   matching `scipy.stats.ttest_ind(a, b, equal_var=False/True, alternative=...)`
//!   (golden values in `tests/golden/ttest.json`, produced by `tests/golden/ttest.py`).
//! * The p-value comes from statrs' Student-t CDF.
//! * Effect sizes: Cohen's d = (mean_a − mean_b) / pooled SD (pooled SD with
//!   denominator n_a + n_b − 2), and Hedges' g = d · J(df) with the exact small-sample
//!   correction J(ν) = Γ(ν/2) / (√(ν/2) Γ((ν−1)/2)), ν = n_a + n_b − 2.
//! * Power note: with fewer than 3 values in either group the test is not computed
//!   (the result says why). Otherwise the minimum Cohen's d detectable with the given
//!   power (default 80%) at the given α (default .05, same sidedness as the test) is
//!   computed from the *noncentral t* distribution of Student's statistic, df =
//!   n_a + n_b − 2, noncentrality δ = d·√(n_a n_b / (n_a + n_b)) — the standard
//!   design-stage calculation (also used for a Welch test; Welch's df is data-dependent).
//!   The noncentral-t tail is computed by numerical integration over the χ² variable
//!   (composite Simpson rule, relative error < 1e-6 against scipy's `nct`), and δ is
//!   found by bisection. When the observed effect in the tested direction is below that
//!   minimum the result is flagged `underpowered`.

use crate::error::{Result, StatsError};
use crate::summary::{mean, sample_variance};
use serde::Serialize;
use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF, Normal, StudentsT};
use statrs::function::gamma::ln_gamma;

/// The alternative hypothesis about `mean(a) − mean(b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Alternative {
    /// `mean(a) > mean(b)` (one-tailed; the paper's test).
    Greater,
    /// `mean(a) < mean(b)` (one-tailed).
    Less,
    /// `mean(a) ≠ mean(b)`.
    TwoSided,
}

/// Which variance assumption the test makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VarianceAssumption {
    /// Welch's test: unequal variances, Welch–Satterthwaite degrees of freedom.
    Welch,
    /// Student's test: pooled variance, df = n_a + n_b − 2.
    Student,
}

/// Options of [`ttest_ind`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TTestOptions {
    /// Alternative hypothesis (default [`Alternative::Greater`]).
    pub alternative: Alternative,
    /// Variance assumption (default [`VarianceAssumption::Welch`]).
    pub variance: VarianceAssumption,
    /// Significance level used for the power note (default 0.05).
    pub alpha: f64,
    /// Power used for the minimum detectable effect (default 0.8).
    pub power: f64,
}

impl Default for TTestOptions {
    fn default() -> Self {
        TTestOptions {
            alternative: Alternative::Greater,
            variance: VarianceAssumption::Welch,
            alpha: 0.05,
            power: 0.8,
        }
    }
}

/// The paper's significance marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Stars {
    /// p < .001
    #[serde(rename = "**")]
    Two,
    /// p < .05
    #[serde(rename = "*")]
    One,
    /// p ≥ .05
    #[serde(rename = "n.s.")]
    NotSignificant,
}

impl Stars {
    /// Marks for a p-value: `**` p < .001, `*` p < .05, else `n.s.` (also for NaN).
    pub fn from_p(p: f64) -> Stars {
        if p < 0.001 {
            Stars::Two
        } else if p < 0.05 {
            Stars::One
        } else {
            Stars::NotSignificant
        }
    }

    /// The marks as text: `"**"`, `"*"` or `"n.s."`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stars::Two => "**",
            Stars::One => "*",
            Stars::NotSignificant => "n.s.",
        }
    }
}

impl std::fmt::Display for Stars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Power of the comparison for the group sizes at hand.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PowerNote {
    /// Smallest Cohen's d detectable with `power` at `alpha` for these group sizes.
    pub min_detectable_d: f64,
    /// The power this refers to (e.g. 0.8).
    pub power: f64,
    /// The significance level this refers to (e.g. 0.05).
    pub alpha: f64,
    /// True when the observed effect in the tested direction is below
    /// `min_detectable_d` (a non-significant result is then weak evidence of no effect).
    pub underpowered: bool,
}

/// A computed two-sample t-test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TTestResult {
    /// Size of group a (the configuration).
    pub n_a: usize,
    /// Size of group b (the control).
    pub n_b: usize,
    /// Mean of group a.
    pub mean_a: f64,
    /// Mean of group b.
    pub mean_b: f64,
    /// Sample variance of group a.
    pub var_a: f64,
    /// Sample variance of group b.
    pub var_b: f64,
    /// The t statistic of `mean_a − mean_b`.
    pub t: f64,
    /// Degrees of freedom (Welch–Satterthwaite or n_a + n_b − 2).
    pub df: f64,
    /// p-value for the chosen alternative.
    pub p: f64,
    /// Cohen's d with the pooled SD.
    pub cohens_d: f64,
    /// Hedges' g (bias-corrected d).
    pub hedges_g: f64,
    /// Significance marks for `p`.
    pub stars: Stars,
    /// Alternative tested.
    pub alternative: Alternative,
    /// Variance assumption used.
    pub variance: VarianceAssumption,
    /// Power note.
    pub power: PowerNote,
}

/// The outcome of [`ttest_ind`]: a result, or the reason there is none.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum TTestOutcome {
    /// The test was computed.
    Computed(TTestResult),
    /// The test was not computed.
    NotComputed {
        /// Size of group a.
        n_a: usize,
        /// Size of group b.
        n_b: usize,
        /// Why (e.g. "n = 2 < 3 in the configuration's group").
        reason: String,
    },
}

impl TTestOutcome {
    /// The computed result, if any.
    pub fn result(&self) -> Option<&TTestResult> {
        match self {
            TTestOutcome::Computed(r) => Some(r),
            TTestOutcome::NotComputed { .. } => None,
        }
    }

    /// The p-value, if computed.
    pub fn p(&self) -> Option<f64> {
        self.result().map(|r| r.p)
    }

    /// Significance marks, or `"–"` when not computed.
    pub fn stars_str(&self) -> &'static str {
        self.result().map_or("–", |r| r.stars.as_str())
    }

    /// One-line human note: the power note or why the test was not computed.
    pub fn note(&self) -> String {
        match self {
            TTestOutcome::Computed(r) => {
                let pw = &r.power;
                let base = format!(
                    "d = {:.2}; min. detectable d = {:.2} ({:.0}% power, α = {}, n = {}/{})",
                    r.cohens_d,
                    pw.min_detectable_d,
                    pw.power * 100.0,
                    pw.alpha,
                    r.n_a,
                    r.n_b
                );
                if pw.underpowered {
                    format!("{base}; underpowered")
                } else {
                    base
                }
            }
            TTestOutcome::NotComputed { reason, .. } => format!("not computed: {reason}"),
        }
    }
}

/// Minimum number of values per group for [`ttest_ind`] to compute a test.
pub const MIN_N_PER_GROUP: usize = 3;

/// Two-sample t-test of `a` (a configuration) against `b` (the control).
///
/// Returns [`TTestOutcome::NotComputed`] when either group has fewer than
/// [`MIN_N_PER_GROUP`] finite values, when both groups have zero variance, or when a
/// value is not finite. Errors only on invalid options (α or power outside (0, 1)).
pub fn ttest_ind(a: &[f64], b: &[f64], opts: &TTestOptions) -> Result<TTestOutcome> {
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(StatsError::InvalidArgument(format!(
            "alpha must be in (0, 1), got {}",
            opts.alpha
        )));
    }
    if !(opts.power > 0.0 && opts.power < 1.0) {
        return Err(StatsError::InvalidArgument(format!(
            "power must be in (0, 1), got {}",
            opts.power
        )));
    }
    let (n_a, n_b) = (a.len(), b.len());
    let not = |reason: String| Ok(TTestOutcome::NotComputed { n_a, n_b, reason });
    if a.iter().chain(b).any(|v| !v.is_finite()) {
        return not("a value is not finite".into());
    }
    if n_a < MIN_N_PER_GROUP || n_b < MIN_N_PER_GROUP {
        return not(format!(
            "n = {n_a} vs {n_b}: fewer than {MIN_N_PER_GROUP} per group"
        ));
    }
    let (mean_a, mean_b) = (mean(a), mean(b));
    let (var_a, var_b) = (sample_variance(a), sample_variance(b));
    let (na, nb) = (n_a as f64, n_b as f64);
    let pooled_df = na + nb - 2.0;
    let pooled_var = ((na - 1.0) * var_a + (nb - 1.0) * var_b) / pooled_df;
    if pooled_var <= 0.0 {
        return not("both groups have zero variance".into());
    }
    let diff = mean_a - mean_b;
    let (t, df) = match opts.variance {
        VarianceAssumption::Student => {
            let se = (pooled_var * (1.0 / na + 1.0 / nb)).sqrt();
            (diff / se, pooled_df)
        }
        VarianceAssumption::Welch => {
            let (qa, qb) = (var_a / na, var_b / nb);
            let se2 = qa + qb;
            let df = se2 * se2 / (qa * qa / (na - 1.0) + qb * qb / (nb - 1.0));
            (diff / se2.sqrt(), df)
        }
    };
    let dist = StudentsT::new(0.0, 1.0, df)
        .map_err(|e| StatsError::InvalidArgument(format!("Student t with df = {df}: {e}")))?;
    let p = match opts.alternative {
        Alternative::Greater => dist.cdf(-t),
        Alternative::Less => dist.cdf(t),
        Alternative::TwoSided => (2.0 * dist.cdf(-t.abs())).min(1.0),
    };
    let cohens_d = diff / pooled_var.sqrt();
    let hedges_g = cohens_d * hedges_correction(pooled_df);
    let min_d = min_detectable_d(n_a, n_b, opts.alpha, opts.power, opts.alternative)?;
    let observed = match opts.alternative {
        Alternative::Greater => cohens_d,
        Alternative::Less => -cohens_d,
        Alternative::TwoSided => cohens_d.abs(),
    };
    Ok(TTestOutcome::Computed(TTestResult {
        n_a,
        n_b,
        mean_a,
        mean_b,
        var_a,
        var_b,
        t,
        df,
        p,
        cohens_d,
        hedges_g,
        stars: Stars::from_p(p),
        alternative: opts.alternative,
        variance: opts.variance,
        power: PowerNote {
            min_detectable_d: min_d,
            power: opts.power,
            alpha: opts.alpha,
            underpowered: observed < min_d,
        },
    }))
}

/// Exact Hedges small-sample correction J(ν) = Γ(ν/2) / (√(ν/2) Γ((ν−1)/2)).
pub fn hedges_correction(df: f64) -> f64 {
    (ln_gamma(df / 2.0) - ln_gamma((df - 1.0) / 2.0)).exp() / (df / 2.0).sqrt()
}

/// Upper tail `P(T' > t)` of the noncentral t distribution with `df` degrees of
/// freedom and noncentrality `nc` (numerical integration over the χ² variable).
pub fn noncentral_t_sf(t: f64, df: f64, nc: f64) -> f64 {
    // T' = (Z + δ) / √(V/ν); P(T' > t) = E_V[Φ(δ − t √(V/ν))].
    noncentral_t_expectation(df, |s| normal_cdf(nc - t * s))
}

/// Lower tail `P(T' < t)` of the noncentral t distribution.
pub fn noncentral_t_cdf(t: f64, df: f64, nc: f64) -> f64 {
    noncentral_t_expectation(df, |s| normal_cdf(t * s - nc))
}

fn normal_cdf(x: f64) -> f64 {
    Normal::standard().cdf(x)
}

/// E[f(√(V/ν))] for V ~ χ²_ν, by composite Simpson over a ±14 SD window of V.
fn noncentral_t_expectation(df: f64, f: impl Fn(f64) -> f64) -> f64 {
    let chi = ChiSquared::new(df).expect("df > 0");
    let sd = (2.0 * df).sqrt();
    let lo = (df - 14.0 * sd).max(0.0);
    let hi = df + 14.0 * sd + 40.0;
    let intervals = 4000usize; // even
    let h = (hi - lo) / intervals as f64;
    let g = |v: f64| {
        let dens = if v <= 0.0 {
            // density at 0: finite only for df = 2 (0.5); 0 for df > 2.
            if (df - 2.0).abs() < 1e-12 { 0.5 } else { 0.0 }
        } else {
            chi.pdf(v)
        };
        dens * f((v / df).sqrt())
    };
    let mut sum = g(lo) + g(hi);
    for i in 1..intervals {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        sum += w * g(lo + i as f64 * h);
    }
    (sum * h / 3.0).clamp(0.0, 1.0)
}

/// Minimum Cohen's d detectable with probability `power` by a Student t-test at level
/// `alpha` with groups of `n_a` and `n_b` (see the module documentation).
pub fn min_detectable_d(
    n_a: usize,
    n_b: usize,
    alpha: f64,
    power: f64,
    alternative: Alternative,
) -> Result<f64> {
    if n_a < 2 || n_b < 2 || n_a + n_b < 3 {
        return Err(StatsError::InvalidArgument(format!(
            "min_detectable_d needs n ≥ 2 per group, got {n_a} and {n_b}"
        )));
    }
    let (na, nb) = (n_a as f64, n_b as f64);
    let df = na + nb - 2.0;
    let scale = (na * nb / (na + nb)).sqrt();
    let dist = StudentsT::new(0.0, 1.0, df)
        .map_err(|e| StatsError::InvalidArgument(format!("Student t with df = {df}: {e}")))?;
    let (tail_alpha, two) = match alternative {
        Alternative::TwoSided => (alpha / 2.0, true),
        _ => (alpha, false),
    };
    let t_crit = dist.inverse_cdf(1.0 - tail_alpha);
    let power_at = |d: f64| {
        let nc = d * scale;
        let mut p = noncentral_t_sf(t_crit, df, nc);
        if two {
            p += noncentral_t_cdf(-t_crit, df, nc);
        }
        p
    };
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while power_at(hi) < power {
        hi *= 2.0;
        if hi > 1e6 {
            return Ok(f64::INFINITY);
        }
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if power_at(mid) < power {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-10 {
            break;
        }
    }
    Ok(0.5 * (lo + hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn stars_thresholds() {
        assert_eq!(Stars::from_p(0.0009), Stars::Two);
        assert_eq!(Stars::from_p(0.001), Stars::One);
        assert_eq!(Stars::from_p(0.049), Stars::One);
        assert_eq!(Stars::from_p(0.05), Stars::NotSignificant);
        assert_eq!(Stars::from_p(f64::NAN), Stars::NotSignificant);
    }

    #[test]
    fn small_groups_are_not_computed() {
        let o = ttest_ind(&[1.0, 2.0], &[1.0, 2.0, 3.0], &TTestOptions::default()).unwrap();
        assert!(o.result().is_none());
        assert!(o.note().contains("fewer than 3"));
    }

    #[test]
    fn constant_groups_are_not_computed() {
        let o = ttest_ind(&[1.0; 4], &[1.0; 4], &TTestOptions::default()).unwrap();
        assert!(o.note().contains("zero variance"));
    }

    #[test]
    fn hedges_correction_close_to_approximation() {
        for df in [4.0, 10.0, 18.0, 100.0] {
            let approx = 1.0 - 3.0 / (4.0 * df - 1.0);
            assert_relative_eq!(hedges_correction(df), approx, max_relative = 3e-3);
        }
    }

    #[test]
    fn power_of_zero_effect_is_alpha() {
        let dist = StudentsT::new(0.0, 1.0, 18.0).unwrap();
        let t = dist.inverse_cdf(0.95);
        assert_relative_eq!(noncentral_t_sf(t, 18.0, 0.0), 0.05, max_relative = 1e-6);
    }
}
