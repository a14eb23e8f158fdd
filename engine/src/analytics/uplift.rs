//! Experiment uplift: what each arm earned against its holdout or control, with 95 % intervals,
//! a sample-ratio-mismatch check and CUPED variance reduction (docs/uplift.md has the formulas).
//!
//! Pure like the rest of the engine: exposures and conversions come in as values (one JSON line
//! each is read by [`parse_exposure`] and [`parse_conversion`], which the CLI calls per line), and
//! [`analyze`] returns a [`Report`]. The chi-square CDF and Student t quantiles come from `statrs`;
//! nothing in the runtimes calls this module, so the Wasm builds link none of it.
//!
//! How visitors are counted, in order:
//! 1. Per experiment, a visitor's **first exposure** starts their outcome window. A visitor exposed
//!    to two or more arms of one experiment is **excluded** from it and counted in
//!    `excluded_multiple_arms`, never counted twice.
//! 2. Conversions at or after the first exposure are the **outcome** (converted at least once:
//!    the conversion rate; the sum of their values: revenue per visitor). Conversions before it are
//!    the visitor's **history**, the CUPED covariate (number of conversions for the rate, their
//!    value for revenue per visitor).
//! 3. Each arm is compared with the experiment's control: the configured holdout (or, without a
//!    holdout, the arm marked `default`) when a [`Design`] is given; otherwise the arm `holdout`,
//!    else an arm called `control`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, StudentsT};

use crate::base::error::{FormatError, FormatErrorKind, V1};
use crate::base::time::Seconds;

/// The arm id of an experiment's holdout, as assignment names it.
pub const HOLDOUT: &str = "holdout";

/// The GA4 event the snippet pushes for every exposure (js-snippet/loader.js, docs/site.md).
pub const EXPOSURE_EVENT: &str = "experience_impression";

/// Intervals are 95 %; a sample-ratio mismatch is flagged below this p-value (a mismatch this
/// unlikely by chance almost always means a broken assignment or a lossy exposure log).
pub const SRM_THRESHOLD: f64 = 0.001;

/// The standard normal's 97.5 % quantile, for two-sided 95 % intervals.
const Z_975: f64 = 1.959_963_984_540_054;

/// A visitor saw an arm (or the holdout) of an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    pub visitor: String,
    pub experiment: String,
    pub arm: String,
    pub time: Seconds,
}

/// A visitor converted (ordered, signed up), worth `value` (0 when none is given).
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    pub visitor: String,
    pub time: Seconds,
    pub value: f64,
}

/// An experiment's configured split: the holdout's share and the arms' weights, as in site.json.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    pub holdout: f64,
    /// Arms in listed order with their weights.
    pub arms: Vec<(String, f64)>,
    /// The arm the others are compared with when there is no holdout (the `default` arm).
    pub default_arm: Option<String>,
}

impl Design {
    /// Every experiment's design from a site configuration, by experiment id.
    pub fn from_site(site: &crate::rules::site::SiteConfig) -> BTreeMap<String, Design> {
        site.experiments
            .iter()
            .map(|e| {
                let arms = e.arms.iter().map(|a| (a.id.clone(), a.weight)).collect();
                let default_arm = e.arms.iter().find(|a| a.default).map(|a| a.id.clone());
                (e.id.clone(), Design { holdout: e.holdout, arms, default_arm })
            })
            .collect()
    }

    /// Each group's expected share of the experiment's visitors (holdout included when it has one).
    fn shares(&self) -> BTreeMap<String, f64> {
        let total: f64 = self.arms.iter().map(|(_, w)| w).sum();
        let mut out: BTreeMap<String, f64> = self.arms.iter().map(|(id, w)| (id.clone(), (1.0 - self.holdout) * w / total)).collect();
        if self.holdout > 0.0 {
            out.insert(HOLDOUT.to_owned(), self.holdout);
        }
        out
    }

    fn control(&self) -> Option<&str> {
        if self.holdout > 0.0 {
            Some(HOLDOUT)
        } else {
            self.default_arm.as_deref()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading exposure and conversion lines
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    event_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainExposure {
    visitor: String,
    experiment: String,
    arm: String,
    #[serde(with = "crate::base::time::rfc3339")]
    time: Seconds,
}

/// A row of GA4's BigQuery export; its many other columns are ignored.
#[derive(Deserialize)]
struct Ga4Row {
    event_timestamp: Micros,
    user_pseudo_id: String,
    event_params: Vec<Ga4Param>,
}

#[derive(Deserialize)]
struct Ga4Param {
    key: String,
    #[serde(default)]
    value: Ga4Value,
}

#[derive(Deserialize, Default)]
struct Ga4Value {
    #[serde(default)]
    string_value: Option<String>,
    #[serde(default)]
    int_value: Option<Micros>,
    #[serde(default)]
    float_value: Option<f64>,
    #[serde(default)]
    double_value: Option<f64>,
}

/// An INT64 of the BigQuery export: JSON exports write them as strings (to keep 64 bits), other
/// tools as numbers; both are read.
struct Micros(i64);

impl<'de> Deserialize<'de> for Micros {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw<'a> {
            Int(i64),
            Text(std::borrow::Cow<'a, str>),
        }
        let found = match Raw::deserialize(d) {
            Ok(Raw::Int(i)) => return Ok(Micros(i)),
            Ok(Raw::Text(s)) => match s.parse() {
                Ok(i) => return Ok(Micros(i)),
                Err(_) => format!("{s:?}"),
            },
            Err(_) => "another type".to_owned(),
        };
        Err(serde::de::Error::custom(format!("expected an integer (or a string of digits), found {found}")))
    }
}

impl Ga4Value {
    fn text(&self) -> Option<String> {
        if let Some(s) = &self.string_value {
            return Some(s.clone());
        }
        if let Some(Micros(i)) = self.int_value {
            return Some(i.to_string());
        }
        self.double_value.or(self.float_value).map(|f| f.to_string())
    }
}

/// Reads one exposure line: `{"visitor", "experiment", "arm", "time"}`, or a row of GA4's BigQuery
/// export. Export rows of other events give `Ok(None)` (an events table holds every event).
///
/// From an `experience_impression` row: the visitor is `user_pseudo_id`, the time
/// `event_timestamp` (microseconds), the experiment and arm the `vitrine_experiment` and
/// `vitrine_arm` parameters — or, when a tag forwarded only GA4's own `exp_variant_string`
/// (`vitrine-<experiment>-<arm>`), that string, if it splits one way only. A true
/// `vitrine_holdout` makes the arm `holdout`.
pub fn parse_exposure(line: &str) -> Result<Option<Exposure>, FormatError> {
    let probe: Probe = crate::base::error::from_json("exposure", line)?;
    let Some(event) = probe.event_name else {
        let e: PlainExposure = crate::base::error::from_json("exposure", line)?;
        return Ok(Some(Exposure { visitor: e.visitor, experiment: e.experiment, arm: e.arm, time: e.time }));
    };
    if event != EXPOSURE_EVENT {
        return Ok(None);
    }
    let row: Ga4Row = crate::base::error::from_json("exposure", line)?;
    let param = |key: &str| row.event_params.iter().find(|p| p.key == key).and_then(|p| p.value.text());
    let params_error = |msg: String| FormatError {
        format: "exposure",
        line: 1,
        column: line.find("\"event_params\"").map_or(1, |i| line[..i].chars().count() + 1),
        field: "event_params".to_owned(),
        kind: FormatErrorKind::Rule(msg),
    };
    let (experiment, mut arm) = match (param("vitrine_experiment"), param("vitrine_arm")) {
        (Some(e), Some(a)) => (e, a),
        _ => {
            let Some(s) = param("exp_variant_string") else {
                return Err(params_error("expected `vitrine_experiment` and `vitrine_arm` parameters (or `exp_variant_string`), found neither".to_owned()));
            };
            split_variant_string(&s).ok_or_else(|| {
                params_error(format!(
                    "expected `exp_variant_string` \"vitrine-<experiment>-<arm>\" with one `-` after \"vitrine-\" (or the `vitrine_experiment` and `vitrine_arm` parameters), found {s:?}"
                ))
            })?
        }
    };
    if param("vitrine_holdout").is_some_and(|h| h == "true" || h == "1") {
        arm = HOLDOUT.to_owned();
    }
    let time = row.event_timestamp.0.div_euclid(1_000_000);
    Ok(Some(Exposure { visitor: row.user_pseudo_id, experiment, arm, time }))
}

/// `vitrine-<experiment>-<arm>`, when only one split is possible.
fn split_variant_string(s: &str) -> Option<(String, String)> {
    let rest = s.strip_prefix("vitrine-")?;
    let mut parts = rest.split('-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(e), Some(a), None) if !e.is_empty() && !a.is_empty() => Some((e.to_owned(), a.to_owned())),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainConversion {
    visitor: String,
    #[serde(with = "crate::base::time::rfc3339")]
    time: Seconds,
    #[serde(default)]
    value: f64,
}

/// Reads one conversion line: `{"visitor", "time", "value"}` (`value` defaults to 0).
pub fn parse_conversion(line: &str) -> Result<Conversion, FormatError> {
    let c: PlainConversion = crate::base::error::from_json("conversion", line)?;
    Ok(Conversion { visitor: c.visitor, time: c.time, value: c.value })
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

/// Every experiment's comparison, by experiment id (the JSON `vitrine uplift` writes).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub v: V1,
    pub experiments: BTreeMap<String, ExperimentReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExperimentReport {
    /// Visitors counted: exposed to exactly one arm (holdout included).
    pub visitors: u64,
    /// Visitors exposed to two or more arms: left out of every count below.
    pub excluded_multiple_arms: u64,
    /// The arm every other arm is compared with (`holdout`, or a control arm); `None`: no comparison.
    pub control: Option<String>,
    /// Where `expected_split` comes from: `configured` (a site configuration) or `assumed`.
    pub split: &'static str,
    /// Expected share of visitors per group. `assumed`: the arms other than the holdout equally,
    /// within what the holdout leaves (its own share is taken as observed, so not tested).
    pub expected_split: BTreeMap<String, f64>,
    /// Chi-square p-value of all groups' counts against `expected_split`; `None` when fewer than
    /// two groups have an expected share.
    pub srm_p: Option<f64>,
    /// `srm_p` < [`SRM_THRESHOLD`]: the counts do not fit the design; distrust the comparison.
    pub srm_flag: bool,
    /// The control group's own numbers.
    pub control_group: Option<GroupStats>,
    /// Every arm but the control, by id.
    pub arms: BTreeMap<String, ArmReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupStats {
    pub visitors: u64,
    /// Visitors who converted at least once after their first exposure.
    pub conversions: u64,
    pub conversion_rate: f64,
    pub revenue: f64,
    pub revenue_per_visitor: f64,
    /// Visitors with conversions before their first exposure (the CUPED covariate is not all 0).
    pub with_history: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArmReport {
    pub visitors: u64,
    pub conversions: u64,
    pub conversion_rate: f64,
    pub revenue_per_visitor: f64,
    /// Conversion rate minus the control's, with its 95 % interval (difference in proportions).
    pub uplift: Option<Diff>,
    /// Conversion rate over the control's, minus 1 (delta method); `None` when the control's is 0.
    pub relative_uplift: Option<Ratio>,
    /// Revenue per visitor minus the control's (Welch).
    pub revenue_uplift: Option<Diff>,
    /// Revenue per visitor over the control's, minus 1 (delta method).
    pub revenue_relative_uplift: Option<Ratio>,
    /// The same differences adjusted for the visitors' pre-exposure history; `None` without history.
    pub cuped: Option<CupedReport>,
    /// Chi-square p-value of this arm's and the control's counts against their expected ratio.
    pub srm_p: Option<f64>,
    pub srm_flag: bool,
}

/// A difference with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Diff {
    pub abs: f64,
    pub lo: f64,
    pub hi: f64,
}

/// A relative difference (0.1 = 10 % more than the control) with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ratio {
    pub rel: f64,
    pub lo: f64,
    pub hi: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CupedReport {
    pub conversion: Option<Cuped>,
    pub revenue: Option<Cuped>,
}

/// A CUPED-adjusted difference: `theta` = cov(Y, X) / var(X) over both groups, and the share of
/// the outcome's variance the adjustment removed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cuped {
    pub theta: f64,
    pub variance_reduction: f64,
    pub abs: f64,
    pub lo: f64,
    pub hi: f64,
}

// ---------------------------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------------------------

/// One counted visitor of one experiment: outcome (y) and pre-exposure history (x).
#[derive(Debug, Clone, Copy, Default)]
struct Unit {
    converted: f64,
    revenue: f64,
    prior_conversions: f64,
    prior_revenue: f64,
}

/// Compares every arm of every experiment in `exposures` with its control. `designs` holds the
/// configured splits by experiment id (from [`Design::from_site`]); experiments without one get the
/// assumed split (see [`ExperimentReport::expected_split`]).
pub fn analyze(exposures: &[Exposure], conversions: &[Conversion], designs: &BTreeMap<String, Design>) -> Report {
    let mut by_visitor: HashMap<&str, Vec<(Seconds, f64)>> = HashMap::new();
    for c in conversions {
        by_visitor.entry(c.visitor.as_str()).or_default().push((c.time, c.value));
    }

    // Experiment → visitor → (first exposure, the arm, whether a second arm was seen).
    let mut seen: BTreeMap<&str, HashMap<&str, (Seconds, &str, bool)>> = BTreeMap::new();
    for e in exposures {
        let v = seen.entry(e.experiment.as_str()).or_default().entry(e.visitor.as_str()).or_insert((e.time, e.arm.as_str(), false));
        v.0 = v.0.min(e.time);
        if v.1 != e.arm {
            v.2 = true;
        }
    }

    let mut experiments = BTreeMap::new();
    for (experiment, visitors) in seen {
        let mut groups: BTreeMap<&str, Vec<Unit>> = BTreeMap::new();
        let mut excluded = 0;
        // Sorted by visitor, so the units (and every floating-point sum) come in the same order
        // whatever the input order.
        let mut ids: Vec<_> = visitors.into_iter().collect();
        ids.sort_unstable_by_key(|(v, _)| *v);
        for (visitor, (first, arm, mixed)) in ids {
            if mixed {
                excluded += 1;
                continue;
            }
            let mut unit = Unit::default();
            for &(t, value) in by_visitor.get(visitor).map_or(&[][..], Vec::as_slice) {
                if t >= first {
                    unit.converted = 1.0;
                    unit.revenue += value;
                } else {
                    unit.prior_conversions += 1.0;
                    unit.prior_revenue += value;
                }
            }
            groups.entry(arm).or_default().push(unit);
        }
        experiments.insert(experiment.to_owned(), experiment_report(&groups, excluded, designs.get(experiment)));
    }
    Report { v: V1, experiments }
}

fn experiment_report(groups: &BTreeMap<&str, Vec<Unit>>, excluded: u64, design: Option<&Design>) -> ExperimentReport {
    let count = |arm: &str| groups.get(arm).map_or(0, |u| u.len() as u64);
    // The design's control; else (no design, or one without a holdout or a default arm) by name.
    let control = design.and_then(Design::control).or_else(|| [HOLDOUT, "control"].into_iter().find(|c| groups.contains_key(c))).map(str::to_owned);
    let expected_split: BTreeMap<String, f64> = match design {
        Some(d) => d.shares(),
        None => {
            let arms: Vec<&str> = groups.keys().copied().filter(|a| *a != HOLDOUT).collect();
            let holdout = groups.get(HOLDOUT).map_or(0, Vec::len) as f64;
            let total: f64 = groups.values().map(Vec::len).sum::<usize>() as f64;
            let left = if total > 0.0 { 1.0 - holdout / total } else { 1.0 };
            arms.iter().map(|a| ((*a).to_owned(), left / arms.len() as f64)).collect()
        }
    };

    // Every group, the experiment's SRM: observed arms missing from the design expect 0 visitors.
    // Without a design the holdout's share was taken from the data, so only the arms are tested.
    let tested: Vec<&str> = if design.is_some() {
        let mut all: Vec<&str> = expected_split.keys().map(String::as_str).collect();
        all.extend(groups.keys().copied().filter(|g| !expected_split.contains_key(*g)));
        all
    } else {
        expected_split.keys().map(String::as_str).collect()
    };
    let srm_p = if tested.len() >= 2 {
        let observed: Vec<u64> = tested.iter().map(|g| count(g)).collect();
        let shares: Vec<f64> = tested.iter().map(|g| expected_split.get(*g).copied().unwrap_or(0.0)).collect();
        srm_p_value(&observed, &shares)
    } else {
        None
    };

    let control_units = control.as_deref().and_then(|c| groups.get(c)).map_or(&[][..], Vec::as_slice);
    let mut arms = BTreeMap::new();
    for (&arm, units) in groups {
        if Some(arm) == control.as_deref() {
            continue;
        }
        let s = group_stats(units);
        let mut report = ArmReport {
            visitors: s.visitors,
            conversions: s.conversions,
            conversion_rate: s.conversion_rate,
            revenue_per_visitor: s.revenue_per_visitor,
            uplift: None,
            relative_uplift: None,
            revenue_uplift: None,
            revenue_relative_uplift: None,
            cuped: None,
            srm_p: None,
            srm_flag: false,
        };
        if let Some(c) = control.as_deref().filter(|_| !control_units.is_empty()) {
            let cs = group_stats(control_units);
            report.uplift = diff_in_proportions(s.conversions, s.visitors, cs.conversions, cs.visitors);
            report.relative_uplift = relative_proportions(s.conversions, s.visitors, cs.conversions, cs.visitors);
            let rev = |u: &[Unit]| u.iter().map(|u| u.revenue).collect::<Vec<f64>>();
            let (ra, rc) = (rev(units), rev(control_units));
            report.revenue_uplift = welch(&ra, &rc);
            report.revenue_relative_uplift = relative_means(&ra, &rc);
            report.cuped = cuped_report(units, control_units);
            // The pair's expected ratio: from the design, or equal arms when the control is an arm.
            let pair = match design {
                Some(_) => expected_split.get(arm).copied().zip(expected_split.get(c).copied()),
                None if c != HOLDOUT => Some((1.0, 1.0)),
                None => None,
            };
            report.srm_p = pair.and_then(|(wa, wc)| srm_p_value(&[s.visitors, cs.visitors], &[wa, wc]));
        }
        report.srm_flag = report.srm_p.is_some_and(|p| p < SRM_THRESHOLD);
        arms.insert(arm.to_owned(), report);
    }

    ExperimentReport {
        visitors: groups.values().map(|u| u.len() as u64).sum(),
        excluded_multiple_arms: excluded,
        control_group: control.as_deref().and_then(|c| groups.get(c)).map(|u| group_stats(u)),
        control,
        split: if design.is_some() { "configured" } else { "assumed" },
        expected_split,
        srm_flag: srm_p.is_some_and(|p| p < SRM_THRESHOLD),
        srm_p,
        arms,
    }
}

fn group_stats(units: &[Unit]) -> GroupStats {
    let n = units.len() as u64;
    let conversions = units.iter().filter(|u| u.converted > 0.0).count() as u64;
    let revenue: f64 = units.iter().map(|u| u.revenue).sum();
    let per = |x: f64| if n > 0 { x / n as f64 } else { 0.0 };
    GroupStats {
        visitors: n,
        conversions,
        conversion_rate: per(conversions as f64),
        revenue,
        revenue_per_visitor: per(revenue),
        with_history: units.iter().filter(|u| u.prior_conversions > 0.0).count() as u64,
    }
}

fn cuped_report(arm: &[Unit], control: &[Unit]) -> Option<CupedReport> {
    let pick = |f: fn(&Unit) -> (f64, f64)| {
        let a: Vec<(f64, f64)> = arm.iter().map(f).collect();
        let c: Vec<(f64, f64)> = control.iter().map(f).collect();
        (a, c)
    };
    let (ya, yc) = pick(|u| (u.converted, u.prior_conversions));
    let conversion = cuped(&ya, &yc, Interval::Normal);
    let (ra, rc) = pick(|u| (u.revenue, u.prior_revenue));
    let revenue = cuped(&ra, &rc, Interval::Welch);
    (conversion.is_some() || revenue.is_some()).then_some(CupedReport { conversion, revenue })
}

// ---------------------------------------------------------------------------------------------
// Statistics (formulas in docs/uplift.md)
// ---------------------------------------------------------------------------------------------

/// Which reference distribution an interval for a difference of means uses.
#[derive(Debug, Clone, Copy)]
pub enum Interval {
    /// Standard normal (large samples, proportions).
    Normal,
    /// Student t with Welch–Satterthwaite degrees of freedom.
    Welch,
}

/// `p_a − p_c ± z · √(p_a(1−p_a)/n_a + p_c(1−p_c)/n_c)` (unpooled Wald interval).
pub fn diff_in_proportions(x_a: u64, n_a: u64, x_c: u64, n_c: u64) -> Option<Diff> {
    if n_a == 0 || n_c == 0 {
        return None;
    }
    let (pa, pc) = (x_a as f64 / n_a as f64, x_c as f64 / n_c as f64);
    let se = (pa * (1.0 - pa) / n_a as f64 + pc * (1.0 - pc) / n_c as f64).sqrt();
    let abs = pa - pc;
    Some(Diff { abs, lo: abs - Z_975 * se, hi: abs + Z_975 * se })
}

/// `p_a / p_c − 1`, its variance by the delta method:
/// `Var(p_a)/p_c² + p_a² Var(p_c)/p_c⁴` with `Var(p) = p(1−p)/n`.
pub fn relative_proportions(x_a: u64, n_a: u64, x_c: u64, n_c: u64) -> Option<Ratio> {
    if n_a == 0 || n_c == 0 || x_c == 0 {
        return None;
    }
    let (pa, pc) = (x_a as f64 / n_a as f64, x_c as f64 / n_c as f64);
    ratio(pa, pa * (1.0 - pa) / n_a as f64, pc, pc * (1.0 - pc) / n_c as f64)
}

/// `m_a − m_c ± t(0.975, ν) · √(s_a²/n_a + s_c²/n_c)`, ν by Welch–Satterthwaite.
pub fn welch(a: &[f64], c: &[f64]) -> Option<Diff> {
    let (ma, va) = mean_var(a)?;
    let (mc, vc) = mean_var(c)?;
    let abs = ma - mc;
    let half = half_width(va, a.len(), vc, c.len(), Interval::Welch);
    Some(Diff { abs, lo: abs - half, hi: abs + half })
}

/// `m_a / m_c − 1` with the delta method's variance `(s_a²/n_a)/m_c² + m_a² (s_c²/n_c)/m_c⁴`.
pub fn relative_means(a: &[f64], c: &[f64]) -> Option<Ratio> {
    let (ma, va) = mean_var(a)?;
    let (mc, vc) = mean_var(c)?;
    if mc == 0.0 {
        return None;
    }
    ratio(ma, va / a.len() as f64, mc, vc / c.len() as f64)
}

/// `a / c − 1` with normal 95 % bounds from the delta method, given each mean's variance.
fn ratio(a: f64, var_a: f64, c: f64, var_c: f64) -> Option<Ratio> {
    if c == 0.0 {
        return None;
    }
    let rel = a / c - 1.0;
    let se = (var_a / (c * c) + a * a * var_c / (c * c * c * c)).sqrt();
    Some(Ratio { rel, lo: rel - Z_975 * se, hi: rel + Z_975 * se })
}

/// CUPED on pairs (outcome y, pre-exposure covariate x) of the arm and the control:
/// `θ = cov(y, x) / var(x)` over both groups, `y' = y − θ (x − x̄)`, then the difference of the
/// groups' means of `y'` with `interval`. `None` when x does not vary (no history) or a group has
/// fewer than two visitors.
pub fn cuped(a: &[(f64, f64)], c: &[(f64, f64)], interval: Interval) -> Option<Cuped> {
    if a.len() < 2 || c.len() < 2 {
        return None;
    }
    let all = || a.iter().chain(c);
    let n = (a.len() + c.len()) as f64;
    let (my, mx) = (all().map(|p| p.0).sum::<f64>() / n, all().map(|p| p.1).sum::<f64>() / n);
    let cov: f64 = all().map(|(y, x)| (y - my) * (x - mx)).sum();
    let var_x: f64 = all().map(|(_, x)| (x - mx) * (x - mx)).sum();
    let var_y: f64 = all().map(|(y, _)| (y - my) * (y - my)).sum();
    if var_x <= 0.0 {
        return None;
    }
    let theta = cov / var_x;
    let adjust = |g: &[(f64, f64)]| g.iter().map(|(y, x)| y - theta * (x - mx)).collect::<Vec<f64>>();
    let (ya, yc) = (adjust(a), adjust(c));
    let (ma, va) = mean_var(&ya)?;
    let (mc, vc) = mean_var(&yc)?;
    // Σ(y'−ȳ')² = Σ(y−ȳ)² − cov²/var(x): the share removed is the squared correlation.
    let variance_reduction = if var_y > 0.0 { cov * cov / (var_x * var_y) } else { 0.0 };
    let abs = ma - mc;
    let half = half_width(va, ya.len(), vc, yc.len(), interval);
    Some(Cuped { theta, variance_reduction, abs, lo: abs - half, hi: abs + half })
}

fn half_width(va: f64, na: usize, vc: f64, nc: usize, interval: Interval) -> f64 {
    let (sa, sc) = (va / na as f64, vc / nc as f64);
    let se = (sa + sc).sqrt();
    if se == 0.0 {
        return 0.0;
    }
    match interval {
        Interval::Normal => Z_975 * se,
        Interval::Welch => {
            let df = (sa + sc).powi(2) / (sa * sa / (na as f64 - 1.0) + sc * sc / (nc as f64 - 1.0));
            t_975(df) * se
        }
    }
}

/// Student t's 97.5 % quantile. Beyond 10⁵ degrees of freedom it differs from the normal's by
/// less than 10⁻⁴ and the incomplete-beta inversion only loses precision, so the normal's is used.
pub fn t_975(df: f64) -> f64 {
    if !df.is_finite() || df > 1e5 {
        return Z_975;
    }
    StudentsT::new(0.0, 1.0, df).map_or(Z_975, |t| t.inverse_cdf(0.975))
}

/// Mean and sample variance (n − 1); `None` below two values.
fn mean_var(x: &[f64]) -> Option<(f64, f64)> {
    if x.len() < 2 {
        return None;
    }
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    Some((m, x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0)))
}

/// Pearson's chi-square goodness of fit of `observed` counts to `shares` (normalized here):
/// `χ² = Σ (O − E)² / E`, `E = N · share`, with k − 1 degrees of freedom for the k groups that
/// expect visitors. A group that expects none but has some makes the p-value 0. `None` with
/// fewer than two groups or no visitors.
pub fn srm_p_value(observed: &[u64], shares: &[f64]) -> Option<f64> {
    let n: u64 = observed.iter().sum();
    let total: f64 = shares.iter().sum();
    if n == 0 || total <= 0.0 {
        return None;
    }
    let mut stat = 0.0;
    let mut groups = 0;
    for (&o, &s) in observed.iter().zip(shares) {
        let e = n as f64 * s / total;
        if e <= 0.0 {
            if o > 0 {
                return Some(0.0);
            }
            continue;
        }
        stat += (o as f64 - e).powi(2) / e;
        groups += 1;
    }
    if groups < 2 {
        return None;
    }
    ChiSquared::new(f64::from(groups - 1)).ok().map(|d| d.sf(stat))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(found: f64, expected: f64, tol: f64) {
        assert!((found - expected).abs() <= tol, "expected {expected}, found {found}");
    }

    #[test]
    fn difference_in_proportions_known_answer() {
        // 20/100 against 10/100: SE = √(0.2·0.8/100 + 0.1·0.9/100) = √0.0025 = 0.05.
        let d = diff_in_proportions(20, 100, 10, 100).unwrap();
        close(d.abs, 0.1, 1e-12);
        close(d.lo, 0.1 - 1.959_963_984_540_054 * 0.05, 1e-12);
        close(d.hi, 0.197_998_199_227_002_7, 1e-12);
        // Delta method: Var = 0.0016/0.01 + 0.04·0.0009/0.0001 = 0.52; SE = 0.7211.
        let r = relative_proportions(20, 100, 10, 100).unwrap();
        close(r.rel, 1.0, 1e-12);
        close(r.hi - r.rel, 1.959_963_984_540_054 * 0.52f64.sqrt(), 1e-12);
        assert_eq!(relative_proportions(5, 100, 0, 100), None, "no relative change from 0");
        assert_eq!(diff_in_proportions(5, 100, 0, 0), None);
    }

    #[test]
    fn welch_known_answer() {
        // Equal variances (20/3) and sizes: ν = 2(n − 1) = 6, t(0.975, 6) = 2.446912 (tables).
        let d = welch(&[2.0, 4.0, 6.0, 8.0], &[1.0, 3.0, 5.0, 7.0]).unwrap();
        close(d.abs, 1.0, 1e-12);
        let se = (2.0 * (20.0 / 3.0) / 4.0f64).sqrt();
        close(d.hi - d.abs, 2.446_912 * se, 1e-5);
        close(t_975(6.0), 2.446_912, 1e-6);
        close(t_975(30.0), 2.042_272, 1e-6);
        close(t_975(1e9), 1.959_964, 1e-6);
        assert_eq!(welch(&[1.0], &[1.0, 2.0]), None, "no variance from one value");
        // Relative, delta method: m_a = 5, m_c = 4, Var(m) = (20/3)/4 each.
        let r = relative_means(&[2.0, 4.0, 6.0, 8.0], &[1.0, 3.0, 5.0, 7.0]).unwrap();
        close(r.rel, 0.25, 1e-12);
        let v = 20.0 / 3.0 / 4.0;
        close(r.hi - r.rel, 1.959_963_984_540_054 * (v / 16.0 + 25.0 * v / 256.0f64).sqrt(), 1e-12);
    }

    #[test]
    fn srm_known_answers() {
        // 600/400 against 50/50: χ² = 2 · 100²/500 = 40, 1 df: p = erfc(√20) ≈ 2.54e-10.
        let p = srm_p_value(&[600, 400], &[0.5, 0.5]).unwrap();
        close(p, 2.539_6e-10, 1e-13);
        assert_eq!(srm_p_value(&[500, 500], &[1.0, 1.0]), Some(1.0));
        // 90/210 against 1:2: χ² = 10²/100 + 10²/200 = 1.5, p = 2(1 − Φ(√1.5)) = 0.220671.
        let p = srm_p_value(&[90, 210], &[1.0, 2.0]).unwrap();
        close(p, 0.220_671, 1e-6);
        assert_eq!(srm_p_value(&[3, 0, 5], &[0.5, 0.5, 0.0]), Some(0.0), "an unexpected arm has visitors");
        assert_eq!(srm_p_value(&[3], &[1.0]), None);
        assert_eq!(srm_p_value(&[0, 0], &[0.5, 0.5]), None);
    }

    #[test]
    fn cuped_removes_the_squared_correlation() {
        // y = x exactly: θ = 1, everything explained, the adjusted difference is the planted 0.
        let a: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), f64::from(i))).collect();
        let c = a.clone();
        let k = cuped(&a, &c, Interval::Welch).unwrap();
        close(k.theta, 1.0, 1e-12);
        close(k.variance_reduction, 1.0, 1e-12);
        assert_eq!((k.abs, k.lo, k.hi), (0.0, 0.0, 0.0));
        let flat: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 0.0)).collect();
        assert_eq!(cuped(&flat, &flat, Interval::Normal), None, "no history, no CUPED");
    }

    fn exposure(visitor: &str, arm: &str, time: Seconds) -> Exposure {
        Exposure { visitor: visitor.into(), experiment: "x".into(), arm: arm.into(), time }
    }

    fn conversion(visitor: &str, time: Seconds, value: f64) -> Conversion {
        Conversion { visitor: visitor.into(), time, value }
    }

    #[test]
    fn counts_visitors_once_and_conversions_after_exposure_only() {
        let exposures = [
            exposure("h1", "holdout", 100),
            exposure("h2", "holdout", 100),
            exposure("a1", "a", 100),
            exposure("a1", "a", 50), // a second page view: the first exposure is the earlier one
            exposure("a2", "a", 100),
            exposure("both", "a", 100),
            exposure("both", "holdout", 200),
        ];
        let conversions = [
            conversion("h1", 150, 10.0),
            conversion("h2", 99, 7.0), // before the exposure: history, not outcome
            conversion("a1", 60, 20.0),
            conversion("a1", 70, 5.0),
            conversion("a2", 100, 30.0), // at the exposure's second: outcome
            conversion("both", 300, 99.0),
            conversion("stranger", 300, 1.0),
        ];
        let report = analyze(&exposures, &conversions, &BTreeMap::new());
        let x = &report.experiments["x"];
        assert_eq!((x.visitors, x.excluded_multiple_arms), (4, 1));
        assert_eq!(x.control.as_deref(), Some("holdout"));
        assert_eq!(x.split, "assumed");
        assert_eq!(x.srm_p, None, "one arm beside a holdout of unknown share: nothing to test");
        let c = x.control_group.as_ref().unwrap();
        assert_eq!((c.visitors, c.conversions, c.revenue, c.with_history), (2, 1, 10.0, 1));
        let a = &x.arms["a"];
        assert_eq!((a.visitors, a.conversions, a.conversion_rate, a.revenue_per_visitor), (2, 2, 1.0, 27.5));
        assert_eq!(a.uplift.unwrap().abs, 0.5);
        assert!(!x.arms.contains_key("holdout"));
    }

    #[test]
    fn configured_design_sets_control_and_srm() {
        let mut exposures: Vec<Exposure> = (0..600).map(|i| exposure(&format!("a{i}"), "a", 0)).collect();
        exposures.extend((0..400).map(|i| exposure(&format!("h{i}"), "holdout", 0)));
        let design = Design { holdout: 0.5, arms: vec![("a".into(), 1.0)], default_arm: None };
        let designs = BTreeMap::from([("x".to_owned(), design)]);
        let x = &analyze(&exposures, &[], &designs).experiments["x"];
        assert_eq!(x.split, "configured");
        assert_eq!(x.expected_split, BTreeMap::from([("a".to_owned(), 0.5), ("holdout".to_owned(), 0.5)]));
        assert!(x.srm_flag && x.arms["a"].srm_flag, "{:?}", x.srm_p);
        close(x.srm_p.unwrap(), x.arms["a"].srm_p.unwrap(), 1e-15);

        // No holdout: the default arm is the control.
        let exposures: Vec<Exposure> = (0..10).map(|i| exposure(&format!("v{i}"), if i % 2 == 0 { "a" } else { "b" }, 0)).collect();
        let design = Design { holdout: 0.0, arms: vec![("a".into(), 1.0), ("b".into(), 1.0)], default_arm: Some("b".into()) };
        let x = &analyze(&exposures, &[], &BTreeMap::from([("x".to_owned(), design)])).experiments["x"];
        assert_eq!(x.control.as_deref(), Some("b"));
        assert_eq!(x.arms.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(x.srm_p, Some(1.0));

        // Neither a holdout nor a default arm: an arm called `control` is the control.
        let exposures: Vec<Exposure> = (0..10).map(|i| exposure(&format!("v{i}"), if i % 2 == 0 { "a" } else { "control" }, 0)).collect();
        let design = Design { holdout: 0.0, arms: vec![("a".into(), 1.0), ("control".into(), 1.0)], default_arm: None };
        let x = &analyze(&exposures, &[], &BTreeMap::from([("x".to_owned(), design)])).experiments["x"];
        assert_eq!(x.control.as_deref(), Some("control"));
    }

    /// How an error names a field: only builds with `field-paths` record it.
    fn named(format: &str, field: &str) -> String {
        match crate::base::error::expected_field(field) {
            "" => format.to_owned(),
            f => format!("{format} field `{f}`"),
        }
    }

    fn parse_error(line: &str) -> String {
        let e = parse_exposure(line).unwrap_err();
        format!("{}:{}: {}", e.line, e.column, e.describe())
    }

    #[test]
    fn reads_plain_and_ga4_exposures() {
        let plain = parse_exposure(r#"{"visitor": "c-1", "experiment": "winback", "arm": "holdout", "time": "2024-01-01T00:00:10Z"}"#).unwrap();
        assert_eq!(plain, Some(Exposure { visitor: "c-1".into(), experiment: "winback".into(), arm: "holdout".into(), time: 1_704_067_210 }));

        let row = r#"{"event_date": "20240101", "event_timestamp": "1704067210123456", "event_name": "experience_impression",
            "event_params": [{"key": "vitrine_experiment", "value": {"string_value": "winback", "int_value": null}},
                             {"key": "vitrine_arm", "value": {"string_value": "a"}},
                             {"key": "ga_session_id", "value": {"int_value": "17"}}],
            "user_pseudo_id": "123.456", "device": {"category": "mobile"}}"#
            .replace('\n', " ");
        let e = parse_exposure(&row).unwrap().unwrap();
        assert_eq!((e.visitor.as_str(), e.experiment.as_str(), e.arm.as_str(), e.time), ("123.456", "winback", "a", 1_704_067_210));

        // Only GA4's own variant string; a holdout flag as GTM forwards it.
        let row = r#"{"event_timestamp": 1704067210000000, "event_name": "experience_impression", "user_pseudo_id": "9",
            "event_params": [{"key": "exp_variant_string", "value": {"string_value": "vitrine-winback-holdout"}},
                             {"key": "vitrine_holdout", "value": {"string_value": "true"}}]}"#
            .replace('\n', " ");
        let e = parse_exposure(&row).unwrap().unwrap();
        assert_eq!((e.experiment.as_str(), e.arm.as_str()), ("winback", "holdout"));

        assert_eq!(parse_exposure(r#"{"event_name": "page_view", "event_timestamp": "1"}"#).unwrap(), None, "other events are skipped");
    }

    #[test]
    fn malformed_exposures_are_located() {
        let e = parse_error(r#"{"visitor": "c-1", "experiment": "w", "arm": "a", "time": "yesterday"}"#);
        assert!(e.starts_with(&format!("1:70: {}: expected an RFC 3339 time, found \"yesterday\"", named("exposure", "time"))), "{e}");
        let e = parse_error(r#"{"visitor": "c-1", "experiment": "w", "time": "2024-01-01T00:00:00Z"}"#);
        assert!(e.contains("missing field `arm`"), "{e}");
        let e = parse_error(r#"{"visitor": "c-1", "experimnet": "w"}"#);
        assert!(e.contains("unknown field `experimnet`"), "{e}");
        let e = parse_error(r#"{"visitor": "c-1""#);
        assert!(e.contains("syntax error"), "{e}");
        let e = parse_error(r#"{"event_name": "experience_impression", "event_timestamp": "soon", "user_pseudo_id": "1", "event_params": []}"#);
        assert!(e.contains(&format!("{}: expected an integer (or a string of digits), found \"soon\"", named("exposure", "event_timestamp"))), "{e}");
        let e = parse_error(r#"{"event_name": "experience_impression", "event_timestamp": "1", "user_pseudo_id": "1", "event_params": []}"#);
        assert!(e.starts_with("1:88: exposure field `event_params`: expected `vitrine_experiment`"), "{e}");
        let e = parse_error(
            r#"{"event_name": "experience_impression", "event_timestamp": "1", "user_pseudo_id": "1", "event_params": [{"key": "exp_variant_string", "value": {"string_value": "vitrine-a-b-c"}}]}"#,
        );
        assert!(e.contains("found \"vitrine-a-b-c\""), "{e}");
    }

    #[test]
    fn reads_conversions() {
        let c = parse_conversion(r#"{"visitor": "c-1", "time": "2024-01-01T00:00:00Z", "value": 12.5}"#).unwrap();
        assert_eq!(c, Conversion { visitor: "c-1".into(), time: 1_704_067_200, value: 12.5 });
        assert_eq!(parse_conversion(r#"{"visitor": "c-1", "time": "2024-01-01T00:00:00Z"}"#).unwrap().value, 0.0);
        let e = parse_conversion(r#"{"visitor": "c-1", "time": "2024-01-01T00:00:00Z", "value": "12"}"#).unwrap_err();
        assert!(e.describe().starts_with(&format!("{}: invalid type", named("conversion", "value"))), "{}", e.describe());
        let e = parse_conversion(r#"{"time": "2024-01-01T00:00:00Z", "value": 1}"#).unwrap_err();
        assert!(e.describe().contains("missing field `visitor`"), "{}", e.describe());
    }
}
