//! `simulate-experiment`: a **simulated** run of one of the demo's experiments over the real
//! customers, written in `vitrine uplift`'s input format, so that the insights page can show an
//! experiment report end to end. The demo has no real traffic; nothing here is a measurement.
//!
//! Who takes part is real: every customer's profile snapshot (`vitrine profiles`) goes through the
//! engine's own decision for the experiment's slot at the demo's clock, so the audience (the
//! experiment's segment) and the arm (the engine's hash of salt and visitor id) are exactly the
//! ones the snippet and the edge would give that customer. Their pre-experiment history is real too:
//! their orders from the order export, written as conversions before the exposure (what CUPED reads).
//!
//! What happens next is made up, by a documented model seeded per visitor (so a visitor's outcome
//! does not depend on who else is in the file):
//!
//! - exposure: one visit at a uniformly random moment in the first `exposure_days` after "now";
//! - baseline chance to order within `window_days` of the visit, from the customer's own rhythm
//!   (the lifecycle's expected gap `g` and days overdue `o`, as `vitrine profiles` computes them):
//!   `p0 = base × (1 − e^(−window/g)) × g / (g + o)`: a customer who buys often is likelier to buy
//!   in the window, and the further past their own rhythm, the less likely they are to come back;
//! - treatment: every arm but the holdout gets `p0 + planted` (an absolute uplift, capped at 1);
//! - an order's time is uniform in the window after the visit, its value the customer's own
//!   average order value times a log-normal factor (σ = 0.35, mean 1).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use serde::Serialize;
use vitrine_engine::profile::{LiveProfile, ProfileSnapshot};
use vitrine_engine::{Bundle, Context, Page, Request};

use crate::orders::{fnv1a, OrderLine};

/// The model's knobs (see the module documentation).
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub seed: u64,
    /// The absolute uplift in conversion rate planted in every arm but the holdout.
    pub planted_uplift: f64,
    pub base: f64,
    pub exposure_days: f64,
    pub window_days: f64,
}

impl Default for Model {
    fn default() -> Self {
        Model { seed: 11, planted_uplift: 0.03, base: 0.5, exposure_days: 7.0, window_days: 28.0 }
    }
}

/// What was simulated, for the log and for the page to state (`simulation.json`).
#[derive(Debug, Serialize)]
pub struct Summary {
    pub simulated: bool,
    pub experiment: String,
    pub now: String,
    pub model: Model,
    /// Profiles read, and those the engine put in the experiment.
    pub profiles: usize,
    pub eligible: usize,
    /// Visitors per arm (`holdout` included).
    pub arms: BTreeMap<String, usize>,
    /// The mean baseline chance `p0` over the eligible visitors.
    pub mean_baseline: f64,
    pub exposures: usize,
    /// Simulated conversions after exposure, and real orders before it (history).
    pub conversions: usize,
    pub history_orders: usize,
}

/// Small, seedable, good enough for a simulation: SplitMix64.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// The baseline chance to order within the window (see the module documentation).
pub fn baseline(model: &Model, gap_days: f64, overdue_days: f64) -> f64 {
    let g = gap_days.max(1.0);
    let o = overdue_days.max(0.0);
    (model.base * (1.0 - (-model.window_days / g).exp()) * g / (g + o)).clamp(0.0, 1.0)
}

/// Runs the simulation; returns the two JSON-lines files' text and the summary.
pub fn simulate(site_json: &str, profiles_jsonl: &str, orders: &[OrderLine], experiment: &str, now: i64, model: &Model) -> Result<(String, String, Summary)> {
    // The engine's own decision path needs a bundle; the experiment needs no catalog or model.
    let bundle =
        Bundle::from_json(&Bundle::assemble(site_json, r#"{"v":1,"products":[]}"#, r#"{"v":1,"kind":"item-knn","items":[],"neighbors":[],"popular":[]}"#))
            .map_err(|e| anyhow::anyhow!("site configuration: {e}"))?;
    let Some(exp) = bundle.site.experiments.iter().find(|e| e.id == experiment) else {
        bail!("the site configuration has no experiment {experiment:?}");
    };
    // The demo's experiments run on slots; a list or widget experiment would need a page with it.
    let vitrine_engine::site::Target::Slot(slot) = &exp.target else {
        bail!("experiment {experiment:?} is not on a slot: only slot experiments are simulated");
    };
    let slot = slot.clone();
    let page = Page { kind: "home".into(), ..Page::default() };
    let request = Request { page: page.clone(), slots: vec![slot], ..Request::default() };

    let history = real_orders(orders, now)?;
    let mut exposures = String::new();
    let mut conversions = String::new();
    let mut summary = Summary {
        simulated: true,
        experiment: experiment.to_owned(),
        now: vitrine_engine::time::format(now),
        model: model.clone(),
        profiles: 0,
        eligible: 0,
        arms: BTreeMap::new(),
        mean_baseline: 0.0,
        exposures: 0,
        conversions: 0,
        history_orders: 0,
    };
    let mut baseline_sum = 0.0;
    for (i, line) in profiles_jsonl.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let snapshot = ProfileSnapshot::from_json(line).map_err(|e| anyhow::anyhow!("profiles line {}: {e}", i + 1))?;
        summary.profiles += 1;
        let profile = LiveProfile::new(snapshot);
        let ctx = Context { bundle: &bundle, profile: &profile, page: &page, now };
        let decision = ctx.decide(&request);
        let Some(assignment) = decision.slots.iter().find_map(|s| s.experiment.as_ref().filter(|a| a.experiment == experiment)) else {
            continue;
        };
        let s = &profile.snapshot;
        let visitor = s.id.as_str();
        summary.eligible += 1;
        *summary.arms.entry(assignment.arm.clone()).or_default() += 1;

        let (gap, overdue) = match &s.lifecycle {
            Some(l) => (l.expected_gap_days, l.days_overdue),
            None => rhythm(s, now),
        };
        let p0 = baseline(model, gap, overdue);
        baseline_sum += p0;
        let p = if assignment.holdout { p0 } else { (p0 + model.planted_uplift).min(1.0) };
        let mut rng = Rng(model.seed ^ fnv1a(visitor));
        let exposed = now + (rng.uniform() * model.exposure_days * 86_400.0) as i64;
        writeln_json(
            &mut exposures,
            &serde_json::json!({
                "visitor": visitor, "experiment": experiment, "arm": assignment.arm, "time": vitrine_engine::time::format(exposed),
            }),
        );
        summary.exposures += 1;
        // Real history first (before the exposure), then the simulated outcome.
        if let Some(orders) = visitor.strip_prefix("c-").and_then(|c| history.get(c)) {
            for (time, value) in orders {
                writeln_json(&mut conversions, &serde_json::json!({"visitor": visitor, "time": vitrine_engine::time::format(*time), "value": value}));
                summary.history_orders += 1;
            }
        }
        let (u, when, noise) = (rng.uniform(), rng.uniform(), rng.normal());
        if u < p {
            let time = exposed + (when * model.window_days * 86_400.0) as i64;
            let aov = if s.orders.aov > 0.0 { s.orders.aov } else { s.orders.revenue / f64::from(s.orders.count.max(1)) };
            let value = (aov * (0.35 * noise - 0.35 * 0.35 / 2.0).exp() * 100.0).round() / 100.0;
            writeln_json(&mut conversions, &serde_json::json!({"visitor": visitor, "time": vitrine_engine::time::format(time), "value": value}));
            summary.conversions += 1;
        }
    }
    if summary.eligible == 0 {
        bail!("no profile is in experiment {experiment:?} at {}: nothing to simulate", summary.now);
    }
    summary.mean_baseline = baseline_sum / summary.eligible as f64;
    Ok((exposures, conversions, summary))
}

fn writeln_json(out: &mut String, value: &serde_json::Value) {
    let _ = writeln!(out, "{value}");
}

/// Gap and days overdue from the order summary alone, for a snapshot without a lifecycle.
fn rhythm(s: &ProfileSnapshot, now: i64) -> (f64, f64) {
    let o = &s.orders;
    let gap = match (o.first, o.last) {
        (Some(f), Some(l)) if o.count >= 2 => (l - f) as f64 / 86_400.0 / f64::from(o.count - 1),
        _ => 60.0,
    };
    let since = o.last.map_or(0.0, |l| (now - l) as f64 / 86_400.0);
    (gap, (since - gap).max(0.0))
}

/// Every customer's real orders before `now`: (time of the invoice's first line, its value).
fn real_orders(lines: &[OrderLine], now: i64) -> Result<HashMap<String, Vec<(i64, f64)>>> {
    let mut invoices: BTreeMap<(&str, &str), (i64, f64)> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.is_clean_purchase()) {
        let t = l.time()?;
        if t >= now {
            continue;
        }
        let Some(customer) = l.customer.as_deref() else { continue };
        let e = invoices.entry((customer, &l.invoice)).or_insert((t, 0.0));
        e.0 = e.0.min(t);
        e.1 += l.quantity as f64 * l.unit_price;
    }
    let mut out: HashMap<String, Vec<(i64, f64)>> = HashMap::new();
    for ((customer, _), (t, v)) in invoices {
        out.entry(customer.to_owned()).or_default().push((t, (v * 100.0).round() / 100.0));
    }
    for v in out.values_mut() {
        v.sort_by_key(|o| o.0);
    }
    Ok(out)
}

/// The subcommand: reads the files, writes the two JSON-lines files and the summary.
pub fn run(site: &Path, profiles: &Path, orders: &Path, experiment: &str, now: i64, model: &Model, out: &Path) -> Result<Summary> {
    let read = |p: &Path| std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()));
    let lines = crate::orders::load_orders(orders)?;
    let (exposures, conversions, summary) = simulate(&read(site)?, &read(profiles)?, &lines, experiment, now, model)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let write = |name: &str, text: &str| {
        let p = out.join(name);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))
    };
    write("exposures.jsonl", &exposures)?;
    write("conversions.jsonl", &conversions)?;
    write("simulation.json", &(serde_json::to_string_pretty(&summary)? + "\n"))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = r#"{"v":1,
      "segments": {"lapsed": {"when": "profile.orders.count >= 2 && days_since(profile.orders.last) > 90.0"}},
      "slots": {"hero": [{"id": "winback", "when": "segment.lapsed", "content": {"headline": "Hi"}}]},
      "experiments": {"wb": {"slot": "hero", "salt": "s", "audience": "segment.lapsed", "holdout": 0.5, "arms": [{"id": "winback"}]}}}"#;
    const NOW: i64 = 1_323_475_200; // 2011-12-10

    fn profile(id: &str, count: u32, last: &str) -> String {
        format!(
            r#"{{"v":1,"id":"{id}","consent":{{"personalization":true}},"orders":{{"count":{count},"revenue":500.0,"aov":100.0,"first":"2010-12-01T00:00:00Z","last":"{last}"}}}}"#
        )
    }

    #[test]
    fn the_engine_decides_who_takes_part_and_in_which_arm() {
        let mut profiles = String::new();
        for i in 0..400 {
            // Even customers are lapsed (last order in May); odd ones ordered last week.
            let last = if i % 2 == 0 { "2011-05-01T00:00:00Z" } else { "2011-12-01T00:00:00Z" };
            profiles.push_str(&profile(&format!("c-{i}"), 5, last));
            profiles.push('\n');
        }
        let model = Model { planted_uplift: 0.5, ..Model::default() };
        let (exposures, conversions, summary) = simulate(SITE, &profiles, &[], "wb", NOW, &model).unwrap();
        assert_eq!((summary.profiles, summary.eligible, summary.exposures), (400, 200, 200));
        assert_eq!(summary.arms.values().sum::<usize>(), 200);
        for line in exposures.lines() {
            let e: serde_json::Value = serde_json::from_str(line).unwrap();
            let id = e["visitor"].as_str().unwrap();
            let n: usize = id[2..].parse().unwrap();
            assert_eq!(n % 2, 0, "only the audience is exposed");
            let bucket = vitrine_engine::experiment::bucket("s", id);
            assert_eq!(e["arm"], if bucket < 0.5 { "holdout" } else { "winback" }, "{id}");
        }
        // The planted +50 points show: the treated arm converts far more often.
        let converted: std::collections::HashSet<String> =
            conversions.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["visitor"].as_str().unwrap().to_owned()).collect();
        let rate = |arm: &str| {
            let ids: Vec<String> = exposures
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .filter(|e| e["arm"] == arm)
                .map(|e| e["visitor"].as_str().unwrap().to_owned())
                .collect();
            ids.iter().filter(|i| converted.contains(*i)).count() as f64 / ids.len() as f64
        };
        assert!(rate("winback") - rate("holdout") > 0.3, "{} vs {}", rate("winback"), rate("holdout"));
        // Deterministic for a seed.
        assert_eq!(simulate(SITE, &profiles, &[], "wb", NOW, &model).unwrap().1, conversions);
    }

    #[test]
    fn baseline_follows_the_customers_rhythm() {
        let m = Model::default();
        assert!(baseline(&m, 30.0, 0.0) > baseline(&m, 120.0, 0.0), "frequent buyers buy more often");
        assert!(baseline(&m, 30.0, 0.0) > baseline(&m, 30.0, 200.0), "overdue customers less");
        assert!((0.0..=m.base).contains(&baseline(&m, 1.0, 0.0)));
    }

    #[test]
    fn unknown_experiment_and_empty_audience_are_errors() {
        let p = profile("c-1", 5, "2011-12-01T00:00:00Z") + "\n";
        assert!(simulate(SITE, &p, &[], "nope", NOW, &Model::default()).unwrap_err().to_string().contains("no experiment"));
        assert!(simulate(SITE, &p, &[], "wb", NOW, &Model::default()).unwrap_err().to_string().contains("nothing to simulate"));
    }
}
