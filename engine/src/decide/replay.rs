//! Replay: a site configuration evaluated over many profile snapshots at once, for the preview
//! panel ("who would see what"): audience size of every segment, overlaps between segments, the
//! variant distribution of every slot and the arm distribution of every experiment.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::base::time::Seconds;
use crate::data::profile::LiveProfile;
use crate::decide::vars::Vars;
use crate::decide::{Bundle, Context, Page};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReplayReport {
    pub profiles: usize,
    /// Segment → profiles in it.
    pub segments: BTreeMap<String, usize>,
    /// `[a, b, both]` for every pair of segments with at least one profile in both.
    pub overlaps: Vec<(String, String, usize)>,
    /// Slot → variant (or `"(default)"`) → profiles.
    pub slots: BTreeMap<String, BTreeMap<String, usize>>,
    /// Experiment → arm (`"holdout"`, or `"(not assigned)"`) → profiles.
    pub experiments: BTreeMap<String, BTreeMap<String, usize>>,
}

/// Decides every slot of `bundle.site` for every profile on `page` at `now`. Each profile's
/// segments are evaluated once and shared by its slots and experiments.
pub fn replay(bundle: &Bundle, profiles: &[LiveProfile], page: &Page, now: Seconds) -> ReplayReport {
    let site = &bundle.site;
    let mut report = ReplayReport { profiles: profiles.len(), ..ReplayReport::default() };
    let names: Vec<&str> = site.segments.iter().map(|s| s.id.as_str()).collect();
    let mut pairs = vec![0usize; names.len() * names.len()];
    for name in &names {
        report.segments.insert((*name).to_owned(), 0);
    }
    let request = crate::decide::Request { page: page.clone(), slots: site.slots.keys().cloned().collect(), ..Default::default() };
    for profile in profiles {
        let ctx = Context { bundle, profile, page, now };
        let vars = Vars::new(&ctx);
        let inside: Vec<bool> = names.iter().map(|n| vars.segments().get(n).copied().unwrap_or(false)).collect();
        for (i, &a) in inside.iter().enumerate() {
            if !a {
                continue;
            }
            *report.segments.entry(names[i].to_owned()).or_default() += 1;
            for (j, &b) in inside.iter().enumerate().skip(i + 1) {
                if b {
                    pairs[i * names.len() + j] += 1;
                }
            }
        }
        let decision = ctx.decide_with(&vars, &request);
        for d in decision.slots {
            let variant = d.variant.unwrap_or_else(|| "(default)".into());
            *report.slots.entry(d.slot).or_default().entry(variant).or_default() += 1;
        }
        for exp in &site.experiments {
            let arm = ctx.assign(exp, &vars).assignment.map_or_else(|| "(not assigned)".to_owned(), |a| a.arm);
            *report.experiments.entry(exp.id.clone()).or_default().entry(arm).or_default() += 1;
        }
    }
    for i in 0..names.len() {
        for j in i + 1..names.len() {
            let both = pairs[i * names.len() + j];
            if both > 0 {
                report.overlaps.push((names[i].to_owned(), names[j].to_owned(), both));
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::profile::ProfileSnapshot;

    #[test]
    fn counts_segments_overlaps_variants_and_arms() {
        let bundle = Bundle::from_json(
            r#"{"v":1,
            "site": {"v":1,
              "segments": {"buyers": {"when": "profile.orders.count >= 1"}, "big": {"when": "profile.orders.revenue >= 100.0"}},
              "slots": {"hero": [{"id": "vip", "when": "segment.big"}, {"id": "hello", "when": "segment.buyers"}]},
              "experiments": {"hero-test": {"slot": "hero", "holdout": 0.5, "arms": [{"id": "on"}]}}},
            "catalog": {"v":1, "products": []},
            "model": {"v":1, "kind": "item-knn", "items": [], "neighbors": [], "popular": []}}"#,
        )
        .unwrap();
        let snap = |id: &str, count: u32, revenue: f64| {
            ProfileSnapshot::from_json(&format!(
                r#"{{"v":1,"id":"{id}","consent":{{"personalization":true}},"orders":{{"count":{count},"revenue":{revenue}}}}}"#
            ))
            .unwrap()
        };
        let profiles: Vec<LiveProfile> = (0..200).map(|i| LiveProfile::new(snap(&format!("c-{i}"), i % 3, f64::from(i % 5) * 50.0))).collect();
        let r = replay(&bundle, &profiles, &Page { kind: "home".into(), ..Page::default() }, 0);
        let buyers = (0..200).filter(|i| i % 3 >= 1).count();
        let big = (0..200).filter(|i| i % 5 >= 2).count();
        let both = (0..200).filter(|i| i % 3 >= 1 && i % 5 >= 2).count();
        assert_eq!((r.profiles, r.segments["buyers"], r.segments["big"]), (200, buyers, big));
        assert_eq!(r.overlaps, vec![("big".to_owned(), "buyers".to_owned(), both)]);
        let hero = &r.slots["hero"];
        assert_eq!(hero.values().sum::<usize>(), 200);
        let arms = &r.experiments["hero-test"];
        assert_eq!(arms["on"] + arms["holdout"], 200);
        assert!(arms["holdout"] > 70 && arms["holdout"] < 130, "{arms:?}");
        // The holdout sees the default whatever their segments; the others by segment.
        let expected_default = (0..200u32).filter(|&i| !hero_assigned_on(&bundle, i) || i % 3 == 0 && i % 5 < 2).count();
        assert_eq!(hero["(default)"], expected_default);
        assert_eq!(hero["vip"], (0..200u32).filter(|&i| hero_assigned_on(&bundle, i) && i % 5 >= 2).count());
    }

    fn hero_assigned_on(bundle: &Bundle, i: u32) -> bool {
        let exp = &bundle.site.experiments[0];
        crate::rules::experiment::pick(crate::rules::experiment::bucket(&exp.salt, &format!("c-{i}")), exp.holdout, &[1.0]).is_some()
    }
}
