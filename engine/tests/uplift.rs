//! `uplift` against simulated experiments with known answers: a planted effect is recovered within
//! its intervals as often as a 95 % interval promises, an A/A split shows no effect in about 95 % of
//! runs, a 60/40 split of a 50/50 design is flagged, and CUPED narrows the interval when the
//! visitors' history predicts their outcome.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;

use vitrine_engine::analytics::uplift::{analyze, ArmReport, Conversion, Design, Exposure, Report};

/// xorshift64*: a fixed stream per seed, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Uniform in [0, 1).
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.next()).ln()
    }
}

/// A simulated experiment: who is exposed to what, and who buys before and after.
struct Sim {
    visitors: usize,
    /// Share of visitors in the arm `a` (the rest are the holdout).
    arm_share: f64,
    /// Conversion probability after exposure, holdout and arm.
    p_holdout: f64,
    p_arm: f64,
    /// Share of "regulars": they bought before (1–3 times) and buy after with `regular_boost` more.
    regulars: f64,
    regular_boost: f64,
    order_value: f64,
}

impl Default for Sim {
    fn default() -> Sim {
        Sim { visitors: 4000, arm_share: 0.5, p_holdout: 0.1, p_arm: 0.1, regulars: 0.0, regular_boost: 0.0, order_value: 40.0 }
    }
}

impl Sim {
    fn run(&self, seed: u64, designs: &BTreeMap<String, Design>) -> Report {
        let mut rng = Rng::new(seed);
        let (mut exposures, mut conversions) = (Vec::new(), Vec::new());
        for i in 0..self.visitors {
            let visitor = format!("v{i}");
            let in_arm = rng.next() < self.arm_share;
            let arm = if in_arm { "a" } else { "holdout" };
            exposures.push(Exposure { visitor: visitor.clone(), experiment: "x".into(), arm: arm.into(), time: 1000 });
            let regular = rng.next() < self.regulars;
            if regular {
                for k in 0..1 + (rng.next() * 3.0) as i64 {
                    conversions.push(Conversion { visitor: visitor.clone(), time: 100 + k, value: rng.exponential(self.order_value) });
                }
            }
            let p = if in_arm { self.p_arm } else { self.p_holdout } + if regular { self.regular_boost } else { 0.0 };
            if rng.next() < p {
                conversions.push(Conversion { visitor, time: 2000, value: rng.exponential(self.order_value) });
            }
        }
        analyze(&exposures, &conversions, designs)
    }
}

fn fifty_fifty() -> BTreeMap<String, Design> {
    BTreeMap::from([("x".to_owned(), Design { holdout: 0.5, arms: vec![("a".into(), 1.0)], default_arm: None })])
}

/// The arm `a` of 200 seeded runs.
fn runs(sim: &Sim) -> Vec<ArmReport> {
    (0..200).map(|seed| sim.run(seed, &fifty_fifty()).experiments["x"].arms["a"].clone()).collect()
}

/// Asserts that `hit` holds in 88–99 % of the runs: what a 95 % interval promises, with room for
/// 200 runs' chance (the binomial's standard deviation is 1.5 points).
fn assert_band(what: &str, runs: &[ArmReport], hit: impl Fn(&ArmReport) -> bool) {
    let found = runs.iter().filter(|r| hit(r)).count() as f64 / runs.len() as f64;
    eprintln!("{what}: {found}");
    assert!((0.88..=0.99).contains(&found), "{what}: {found} outside 0.88..=0.99");
}

#[test]
fn planted_effect_is_recovered_within_its_intervals() {
    // +3 points of conversion (10 % → 13 %), 40 per order: +1.2 revenue per visitor, +30 % both.
    let sim = Sim { p_arm: 0.13, ..Sim::default() };
    let report = sim.run(7, &fifty_fifty());
    let a = &report.experiments["x"].arms["a"];
    let (u, r) = (a.uplift.unwrap(), a.relative_uplift.unwrap());
    assert!(u.lo > 0.0 && u.lo <= 0.03 && 0.03 <= u.hi, "{u:?}");
    assert!(r.lo <= 0.3 && 0.3 <= r.hi, "{r:?}");
    let rev = a.revenue_uplift.unwrap();
    assert!(rev.lo <= 1.2 && 1.2 <= rev.hi, "{rev:?}");
    assert!(!report.experiments["x"].srm_flag);

    // Over 200 runs, each interval holds the planted value about 95 % of the time.
    let runs = runs(&sim);
    let covers = |lo: f64, hi: f64, truth: f64| lo <= truth && truth <= hi;
    assert_band("uplift", &runs, |a| a.uplift.is_some_and(|u| covers(u.lo, u.hi, 0.03)));
    assert_band("relative", &runs, |a| a.relative_uplift.is_some_and(|u| covers(u.lo, u.hi, 0.3)));
    assert_band("revenue", &runs, |a| a.revenue_uplift.is_some_and(|u| covers(u.lo, u.hi, 1.2)));
    assert_band("revenue relative", &runs, |a| a.revenue_relative_uplift.is_some_and(|u| covers(u.lo, u.hi, 0.3)));
}

#[test]
fn a_a_split_shows_no_effect_in_about_95_percent_of_runs() {
    // Half of the visitors are regulars, so CUPED has history to work with.
    let runs = runs(&Sim { regulars: 0.5, regular_boost: 0.3, ..Sim::default() });
    let zero = |lo: f64, hi: f64| lo <= 0.0 && 0.0 <= hi;
    assert_band("uplift", &runs, |a| a.uplift.is_some_and(|u| zero(u.lo, u.hi)));
    assert_band("relative", &runs, |a| a.relative_uplift.is_some_and(|u| zero(u.lo, u.hi)));
    assert_band("revenue", &runs, |a| a.revenue_uplift.is_some_and(|u| zero(u.lo, u.hi)));
    // CUPED's intervals are as honest as the plain ones.
    assert_band("cuped", &runs, |a| a.cuped.as_ref().and_then(|c| c.conversion).is_some_and(|c| zero(c.lo, c.hi)));
    assert_band("cuped revenue", &runs, |a| a.cuped.as_ref().and_then(|c| c.revenue).is_some_and(|c| zero(c.lo, c.hi)));
    // The SRM test is calibrated too: p ≥ 0.05 in about 95 % of correctly split runs.
    assert_band("srm", &runs, |a| a.srm_p.is_some_and(|p| p >= 0.05));
}

#[test]
fn srm_flags_a_60_40_split_of_a_50_50_design() {
    let skewed = Sim { arm_share: 0.6, ..Sim::default() }.run(1, &fifty_fifty());
    let x = &skewed.experiments["x"];
    assert!(x.srm_flag && x.srm_p.unwrap() < 1e-20, "{:?}", x.srm_p);
    assert!(x.arms["a"].srm_flag);
    let fair = Sim::default().run(1, &fifty_fifty());
    assert!(!fair.experiments["x"].srm_flag, "{:?}", fair.experiments["x"].srm_p);
    // Without the design the holdout's share is unknown: nothing to test against.
    assert_eq!(Sim { arm_share: 0.6, ..Sim::default() }.run(1, &BTreeMap::new()).experiments["x"].srm_p, None);
}

#[test]
fn cuped_narrows_the_interval_when_history_predicts_the_outcome() {
    let sim = Sim { p_arm: 0.13, regulars: 0.3, regular_boost: 0.4, ..Sim::default() };
    let report = sim.run(3, &fifty_fifty());
    let a = &report.experiments["x"].arms["a"];
    let cuped = a.cuped.as_ref().unwrap();
    let (plain, adjusted) = (a.uplift.unwrap(), cuped.conversion.unwrap());
    assert!(adjusted.variance_reduction > 0.1, "{adjusted:?}");
    assert!(adjusted.hi - adjusted.lo < 0.95 * (plain.hi - plain.lo), "{adjusted:?} vs {plain:?}");
    assert!(adjusted.lo <= 0.03 && 0.03 <= adjusted.hi, "{adjusted:?}");
    let (plain, adjusted) = (a.revenue_uplift.unwrap(), cuped.revenue.unwrap());
    assert!(adjusted.variance_reduction > 0.0 && adjusted.hi - adjusted.lo < plain.hi - plain.lo, "{adjusted:?} vs {plain:?}");

    // Without history there is nothing to adjust with.
    let report = Sim { p_arm: 0.13, ..Sim::default() }.run(3, &fifty_fifty());
    assert!(report.experiments["x"].arms["a"].cuped.is_none());
}
