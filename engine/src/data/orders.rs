//! Profile snapshots from an order export (the shape of the Online Retail data set): one line per
//! invoice line, with cancellations, guest orders and non-product codes mixed in.
//!
//! Besides order metrics, each snapshot gets RFM values with quintile scores, ranked within the
//! run's own customers, and a lifecycle stage measured against the customer's own rhythm: a weekly
//! buyer gone for a month is lapsed, a yearly one gone for two months is not even due. Everything
//! is a function of the lines, `now` and the rules, so the same export gives the same file.
//!
//! `vitrine kpis` (`analytics::kpis`, a layer above, which this module never names) shares the two rules that matter here rather than
//! restating them: which lines count ([`OrderLine::kind`]) and where a customer stands within the
//! run, RFM scores and stage (`standings`), which it asks for at every period boundary.

use std::collections::{BTreeMap, HashMap};

use crate::base::error::V1;
use crate::base::named::Named;
use crate::base::time::Seconds;
use crate::data::catalog::Catalog;
use crate::data::profile::{Consent, ItemEvent, Lifecycle, OrderMetrics, ProfileSnapshot, RecentItem, Rfm, Stage, Trait};

/// One invoice line. `customer` is `None` for guest orders.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub invoice: String,
    pub stock_code: String,
    pub quantity: f64,
    pub time: Seconds,
    pub unit_price: f64,
    pub customer: Option<String>,
    pub country: String,
}

impl OrderLine {
    /// Cancellation invoices start with `C` and carry negative quantities.
    pub fn is_cancellation(&self) -> bool {
        self.invoice.starts_with('C') || self.invoice.starts_with('c')
    }
}

/// Thresholds for the derived traits and segments (documented in docs/formats.md).
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRules {
    pub gold_revenue: f64,
    pub silver_revenue: f64,
    pub big_spender_revenue: f64,
    pub lapsed_days: i64,
    pub recent_items: usize,
    pub consent: bool,
    pub lifecycle: LifecycleRules,
}

impl Default for ProfileRules {
    fn default() -> Self {
        ProfileRules {
            gold_revenue: 5000.0,
            silver_revenue: 1000.0,
            big_spender_revenue: 2000.0,
            lapsed_days: 90,
            recent_items: 20,
            consent: false,
            lifecycle: LifecycleRules::default(),
        }
    }
}

/// Thresholds of the lifecycle stages (docs/formats.md). Days are whole days; "the gap" is the
/// customer's expected gap between orders.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleRules {
    /// `new`: a single purchase day, at most this many days ago.
    pub new_days: u32,
    /// `at_risk`: more days since the last order than this many gaps.
    pub at_risk_ratio: f64,
    /// `lapsed`: more days since the last order than this many gaps.
    pub lapsed_ratio: f64,
    /// `churned`: more days since the last order than this, whatever the rhythm.
    pub churned_days: u32,
    /// `loyal`: at least this many orders, and not at risk...
    pub loyal_orders: u32,
    /// ...the first of them at least this many days ago.
    pub loyal_tenure_days: u32,
    /// Floor on the expected gap, so that two orders on consecutive days do not make a customer
    /// lapsed within a week.
    pub min_gap_days: f64,
    /// The expected gap of customers with a single purchase day. `None`: the median expected gap
    /// of the run's customers who have one ([`FALLBACK_GAP_DAYS`] when nobody has).
    pub default_gap_days: Option<f64>,
}

/// The default gap when no customer of the run has bought on two different days.
pub const FALLBACK_GAP_DAYS: f64 = 30.0;

impl Default for LifecycleRules {
    fn default() -> Self {
        LifecycleRules {
            new_days: 30,
            at_risk_ratio: 1.5,
            lapsed_ratio: 3.0,
            churned_days: 365,
            loyal_orders: 5,
            loyal_tenure_days: 180,
            min_gap_days: 7.0,
            default_gap_days: None,
        }
    }
}

/// What counted, for the CLI's summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileStats {
    pub lines: usize,
    pub guest_lines: usize,
    pub cancellation_lines: usize,
    pub non_product_lines: usize,
    pub invalid_lines: usize,
    pub future_lines: usize,
}

/// The visitor id a customer number maps to: `c-` + the number without a trailing `.0`.
pub fn visitor_id(customer: &str) -> String {
    let c = customer.trim();
    format!("c-{}", c.strip_suffix(".0").unwrap_or(c))
}

/// A named cell of the RFM grid, from the recency and frequency scores (the monetary score follows
/// frequency closely and is left out, as in the usual R × F segment map). Every (r, f) pair has
/// exactly one segment; docs/kpis.md has the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RfmSegment {
    /// r 5, f 4–5: bought lately and often.
    Champions,
    /// r 3–4, f 4–5: buy often, lately enough.
    Loyal,
    /// r 4–5, f 2–3: recent, a few orders.
    PotentialLoyalist,
    /// r 5, f 1: just bought, once.
    NewCustomer,
    /// r 4, f 1: recent, once.
    Promising,
    /// r 3, f 3: middling on both.
    NeedAttention,
    /// r 3, f 1–2: not lately, seldom.
    AboutToSleep,
    /// r 1–2, f 3–4: used to buy often, not lately.
    AtRisk,
    /// r 1–2, f 5: the most frequent buyers, gone quiet.
    CantLose,
    /// r 1–2, f 1–2: long ago, seldom.
    Hibernating,
}

impl RfmSegment {
    pub const ALL: [RfmSegment; 10] = [
        RfmSegment::Champions,
        RfmSegment::Loyal,
        RfmSegment::PotentialLoyalist,
        RfmSegment::NewCustomer,
        RfmSegment::Promising,
        RfmSegment::NeedAttention,
        RfmSegment::AboutToSleep,
        RfmSegment::AtRisk,
        RfmSegment::CantLose,
        RfmSegment::Hibernating,
    ];

    /// The segment of recency score `r` and frequency score `f` (1–5; out-of-range scores clamp).
    pub fn of(r: u8, f: u8) -> RfmSegment {
        match (r.clamp(1, 5), f.clamp(1, 5)) {
            (1..=2, 1..=2) => RfmSegment::Hibernating,
            (1..=2, 3..=4) => RfmSegment::AtRisk,
            (1..=2, _) => RfmSegment::CantLose,
            (3, 1..=2) => RfmSegment::AboutToSleep,
            (3, 3) => RfmSegment::NeedAttention,
            (3..=4, 4..=5) => RfmSegment::Loyal,
            (4, 1) => RfmSegment::Promising,
            (5, 1) => RfmSegment::NewCustomer,
            (4..=5, 2..=3) => RfmSegment::PotentialLoyalist,
            _ => RfmSegment::Champions,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RfmSegment::Champions => "champions",
            RfmSegment::Loyal => "loyal",
            RfmSegment::PotentialLoyalist => "potential_loyalist",
            RfmSegment::NewCustomer => "new_customer",
            RfmSegment::Promising => "promising",
            RfmSegment::NeedAttention => "need_attention",
            RfmSegment::AboutToSleep => "about_to_sleep",
            RfmSegment::AtRisk => "at_risk",
            RfmSegment::CantLose => "cant_lose",
            RfmSegment::Hibernating => "hibernating",
        }
    }
}

impl std::fmt::Display for RfmSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stock code is a product when the catalog knows it or, without a catalog, when it starts with
/// a digit (the data's service codes are words: POST, DOT, BANK CHARGES, AMAZONFEE, M, ...).
pub fn is_product(code: &str, catalog: Option<&Catalog>) -> bool {
    match catalog {
        Some(c) => c.get(code).is_some(),
        None => code.bytes().next().is_some_and(|b| b.is_ascii_digit()),
    }
}

/// What one line of an export counts for, whoever bought it: the one rule `vitrine profiles` and
/// `vitrine kpis` share. Checked in this order; a guest line is told apart by its caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LineKind {
    /// Dated after `now`: left out.
    Future,
    /// Postage, fees and other codes that are not merchandise.
    NonProduct,
    /// A cancellation: no order, and its value (never positive) comes off revenue.
    Cancellation(f64),
    /// A non-positive or non-finite quantity or price (stock adjustments, free samples).
    Invalid,
    /// A purchase worth quantity × unit price.
    Purchase(f64),
}

impl OrderLine {
    /// How this line counts as of `now`, with `is_product` deciding which stock codes are merchandise.
    pub fn kind(&self, now: Seconds, is_product: impl Fn(&str) -> bool) -> LineKind {
        if self.time > now {
            LineKind::Future
        } else if !is_product(&self.stock_code) {
            LineKind::NonProduct
        } else if self.is_cancellation() {
            LineKind::Cancellation(self.quantity.min(0.0) * self.unit_price.abs())
        } else if self.quantity <= 0.0 || self.unit_price <= 0.0 || !self.quantity.is_finite() || !self.unit_price.is_finite() {
            LineKind::Invalid
        } else {
            LineKind::Purchase(self.quantity * self.unit_price)
        }
    }

    /// The customer's visitor id; `None` for a guest line.
    pub fn visitor(&self) -> Option<String> {
        self.customer.as_deref().filter(|c| !c.trim().is_empty()).map(visitor_id)
    }
}

#[derive(Default)]
struct Acc {
    invoices: BTreeMap<String, Seconds>,
    revenue: f64,
    countries: HashMap<String, usize>,
    items: HashMap<String, Seconds>,
    categories: BTreeMap<String, f64>,
}

/// Builds one snapshot per customer from lines up to `now`, sorted by id.
pub fn build_profiles(lines: &[OrderLine], now: Seconds, catalog: Option<&Catalog>, rules: &ProfileRules) -> (Vec<ProfileSnapshot>, ProfileStats) {
    let mut stats = ProfileStats { lines: lines.len(), ..Default::default() };
    let mut by_customer: BTreeMap<String, Acc> = BTreeMap::new();
    for l in lines {
        let Some(customer) = l.visitor() else {
            stats.guest_lines += 1;
            continue;
        };
        let value = match l.kind(now, |code| is_product(code, catalog)) {
            LineKind::Future => {
                stats.future_lines += 1;
                continue;
            }
            LineKind::NonProduct => {
                stats.non_product_lines += 1;
                continue;
            }
            LineKind::Cancellation(value) => {
                // A cancellation takes its value back out of revenue; it is not an order.
                stats.cancellation_lines += 1;
                by_customer.entry(customer).or_default().revenue += value;
                continue;
            }
            LineKind::Invalid => {
                stats.invalid_lines += 1;
                continue;
            }
            LineKind::Purchase(value) => value,
        };
        let acc = by_customer.entry(customer).or_default();
        acc.invoices.entry(l.invoice.clone()).and_modify(|t| *t = (*t).min(l.time)).or_insert(l.time);
        acc.revenue += value;
        *acc.countries.entry(l.country.clone()).or_default() += 1;
        let t = acc.items.entry(l.stock_code.clone()).or_insert(l.time);
        *t = (*t).max(l.time);
        if let Some(p) = catalog.and_then(|c| c.get(&l.stock_code)) {
            if !p.product_type.is_empty() {
                *acc.categories.entry(p.product_type.clone()).or_default() += 1.0;
            }
        }
    }
    // Customers without a valid order get no snapshot and are not part of the RFM population.
    let customers: Vec<(String, Acc)> = by_customer.into_iter().filter(|(_, acc)| !acc.invoices.is_empty()).collect();
    let facts: Vec<Facts> = customers.iter().map(|(_, acc)| Facts::of(&acc.invoices.values().copied().collect::<Vec<_>>(), acc.revenue, now)).collect();
    let standings = standings(&facts, &rules.lifecycle);
    let mut out = Vec::with_capacity(customers.len());
    for (((id, acc), facts), standing) in customers.into_iter().zip(facts).zip(standings) {
        let Facts { count, revenue, first, last, recency_days, .. } = facts;
        let Standing { r, f, m, expected_gap, stage } = standing;
        let mut traits = Named::default();
        if let Some((country, _)) = acc.countries.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))) {
            traits.insert("country".to_owned(), Trait::Str(country.clone()));
        }
        let tier = if revenue >= rules.gold_revenue {
            "gold"
        } else if revenue >= rules.silver_revenue {
            "silver"
        } else {
            "bronze"
        };
        traits.insert("loyalty_tier".to_owned(), Trait::Str(tier.to_owned()));
        let mut recent: Vec<(String, Seconds)> = acc.items.into_iter().collect();
        recent.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let skip = recent.len().saturating_sub(rules.recent_items);
        // Each with its catalog category and price, so pages need not fetch their catalog
        // entries to show them to rules (the `events` variable).
        let recent_items = recent
            .into_iter()
            .skip(skip)
            .map(|(id, time)| {
                let product = catalog.and_then(|c| c.get(&id));
                let (category, price) = (product.map(|p| p.product_type.clone()), product.map(|p| p.price.amount()));
                RecentItem { id, time, event: ItemEvent::Purchase, category, price }
            })
            .collect();
        let total: f64 = acc.categories.values().sum();
        let affinities = acc.categories.into_iter().map(|(c, n)| (c, ((n / total) * 1000.0).round() / 1000.0)).collect();
        let mut segments = Vec::new();
        if count >= 2 {
            segments.push("repeat_buyer".to_owned());
        } else {
            segments.push("one_time_buyer".to_owned());
        }
        if revenue >= rules.big_spender_revenue {
            segments.push("big_spender".to_owned());
        }
        if now - last > rules.lapsed_days * 86_400 {
            segments.push("lapsed".to_owned());
        }
        // The stage as a segment too, so rules can target it with `in profile.segments` today.
        segments.push(format!("lifecycle_{stage}"));
        out.push(ProfileSnapshot {
            v: V1,
            id,
            consent: Consent { personalization: rules.consent },
            traits,
            orders: OrderMetrics { count, revenue, aov: ((revenue / f64::from(count)) * 100.0).round() / 100.0, first: Some(first), last: Some(last) },
            recent_items,
            affinities,
            segments,
            rfm: Some(Rfm { recency_days, frequency: count, monetary: revenue, r, f, m, as_of: Some(now) }),
            lifecycle: Some(Lifecycle {
                stage,
                expected_gap_days: expected_gap,
                days_overdue: (f64::from(recency_days) - expected_gap).max(0.0),
                as_of: Some(now),
            }),
            clv: None,
        });
    }
    (out, stats)
}

/// What one customer's orders say, before the population is looked at.
pub(crate) struct Facts {
    pub count: u32,
    /// Net revenue, rounded to cents and never negative.
    pub revenue: f64,
    pub first: Seconds,
    pub last: Seconds,
    pub recency_days: u32,
    pub tenure_days: u32,
    /// Distinct UTC calendar days with an order.
    pub purchase_days: usize,
    /// Median gap in days between consecutive purchase days; `None` with a single purchase day.
    pub own_gap: Option<f64>,
}

impl Facts {
    /// From the times of the customer's orders up to `now` (at least one, in any order) and the net
    /// value of their lines up to `now`.
    pub(crate) fn of(order_times: &[Seconds], revenue: f64, now: Seconds) -> Facts {
        let first = order_times.iter().min().copied().unwrap_or(now);
        let last = order_times.iter().max().copied().unwrap_or(now);
        // Invoices of one day are one purchase: the data splits baskets into several invoices
        // minutes apart, and a gap of minutes would make every such customer "overdue" at once.
        let mut days: Vec<i64> = order_times.iter().map(|t| t.div_euclid(86_400)).collect();
        days.sort_unstable();
        days.dedup();
        let mut gaps: Vec<f64> = days.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
        let whole_days = |from: Seconds| u32::try_from((now - from).max(0) / 86_400).unwrap_or(u32::MAX);
        Facts {
            count: order_times.len() as u32,
            revenue: (revenue.max(0.0) * 100.0).round() / 100.0,
            first,
            last,
            recency_days: whole_days(last),
            tenure_days: whole_days(first),
            purchase_days: days.len(),
            own_gap: median(&mut gaps),
        }
    }
}

/// Where one customer stands within a run's population: RFM scores, expected gap and stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Standing {
    pub r: u8,
    pub f: u8,
    pub m: u8,
    pub expected_gap: f64,
    pub stage: Stage,
}

/// Every customer's standing, in the order of `facts`: the part of a profile that depends on the
/// other customers of the run (quintiles rank within them; the default gap is their median).
/// `vitrine profiles` calls it once, `as of --now`; `vitrine kpis` once per period boundary.
pub(crate) fn standings(facts: &[Facts], rules: &LifecycleRules) -> Vec<Standing> {
    let default_gap = rules.default_gap_days.unwrap_or_else(|| {
        let mut own: Vec<f64> = facts.iter().filter_map(|f| f.own_gap).collect();
        median(&mut own).unwrap_or(FALLBACK_GAP_DAYS)
    });
    rfm_scores(facts)
        .into_iter()
        .zip(facts)
        .map(|((r, f, m), facts)| {
            let expected_gap = facts.own_gap.unwrap_or(default_gap).max(rules.min_gap_days).max(1.0);
            let stage = classify(rules, facts.recency_days, facts.tenure_days, facts.purchase_days, facts.count, expected_gap);
            Standing { r, f, m, expected_gap, stage }
        })
        .collect()
}

/// The median (mean of the middle two for an even count); `None` for no values.
pub(crate) fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// (r, f, m) per customer: recency scores fewer days higher, frequency and monetary more higher.
fn rfm_scores(facts: &[Facts]) -> Vec<(u8, u8, u8)> {
    let r = quintiles(&facts.iter().map(|f| std::cmp::Reverse(f.recency_days)).collect::<Vec<_>>());
    let f = quintiles(&facts.iter().map(|f| f.count).collect::<Vec<_>>());
    // Revenue is rounded to cents, so comparing cents is exact and totally ordered.
    let m = quintiles(&facts.iter().map(|f| (f.revenue * 100.0).round() as i64).collect::<Vec<_>>());
    r.into_iter().zip(f).zip(m).map(|((r, f), m)| (r, f, m)).collect()
}

/// 1–5 quintile scores, greater values better. A value's score is its mid-rank percentile
/// p = (worse + equal / 2) / n — `worse` counting values below it, `equal` the values equal to it,
/// itself included — scored ⌈5p⌉. Equal values always score the same, the result does not depend
/// on input order, all-equal values score 3, and with five distinct values the scores are 1 to 5.
/// Computed in integers, so no rounding can move a value across a boundary.
fn quintiles<T: Ord>(values: &[T]) -> Vec<u8> {
    let n = values.len() as u64;
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].cmp(&values[b]));
    let mut scores = vec![0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let end = start + order[start..].iter().take_while(|&&i| values[i] == values[order[start]]).count();
        let (worse, equal) = (start as u64, (end - start) as u64);
        // ⌈5 (2 worse + equal) / 2n⌉, in 1..=5 because 0 < 2 worse + equal <= 2n.
        let score = (5 * (2 * worse + equal)).div_ceil(2 * n).clamp(1, 5) as u8;
        for &i in &order[start..end] {
            scores[i] = score;
        }
        start = end;
    }
    scores
}

/// The stage, first match wins: churned (past the absolute cap), new (one purchase day, recent),
/// lapsed and at risk (past that many expected gaps), loyal (enough orders and tenure), active.
fn classify(rules: &LifecycleRules, recency_days: u32, tenure_days: u32, purchase_days: usize, orders: u32, expected_gap: f64) -> Stage {
    let ratio = f64::from(recency_days) / expected_gap;
    if recency_days > rules.churned_days {
        Stage::Churned
    } else if purchase_days <= 1 && tenure_days <= rules.new_days {
        Stage::New
    } else if ratio > rules.lapsed_ratio {
        Stage::Lapsed
    } else if ratio > rules.at_risk_ratio {
        Stage::AtRisk
    } else if orders >= rules.loyal_orders && tenure_days >= rules.loyal_tenure_days {
        Stage::Loyal
    } else {
        Stage::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(invoice: &str, code: &str, qty: f64, t: Seconds, price: f64, customer: Option<&str>) -> OrderLine {
        OrderLine {
            invoice: invoice.into(),
            stock_code: code.into(),
            quantity: qty,
            time: t,
            unit_price: price,
            customer: customer.map(Into::into),
            country: "United Kingdom".into(),
        }
    }

    #[test]
    fn handles_cancellations_guests_and_service_codes() {
        let day = 86_400;
        let lines = vec![
            line("1", "85123A", 6.0, 0, 2.5, Some("17850.0")),
            line("1", "POST", 1.0, 0, 18.0, Some("17850.0")),
            line("2", "22423", 1.0, 10 * day, 12.0, Some("17850.0")),
            line("C3", "22423", -1.0, 11 * day, 12.0, Some("17850.0")),
            line("4", "22423", 1.0, 5 * day, 12.0, None),
            line("5", "22423", 1.0, 500 * day, 12.0, Some("17850.0")),
            line("6", "85123A", 0.0, 5 * day, 2.5, Some("12346.0")),
        ];
        let (profiles, stats) = build_profiles(&lines, 200 * day, None, &ProfileRules::default());
        assert_eq!(profiles.len(), 1, "customer 12346 has no valid order");
        let p = &profiles[0];
        assert_eq!(p.id, "c-17850");
        assert_eq!(p.orders.count, 2);
        assert_eq!(p.orders.revenue, 15.0); // 6 × 2.5 + 12 − 12 cancelled; postage is not merchandise
        assert_eq!((p.orders.first, p.orders.last), (Some(0), Some(10 * day)));
        assert_eq!(p.recent_items.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["85123A", "22423"]);
        assert!(p.segments.contains(&"lapsed".to_owned()));
        assert!(!p.consent.personalization, "consent is never assumed");
        assert_eq!(stats, ProfileStats { lines: 7, guest_lines: 1, cancellation_lines: 1, non_product_lines: 1, invalid_lines: 1, future_lines: 1 });
        // No catalog: the items carry no category, and rules look them up in the bundle's.
        assert!(p.recent_items.iter().all(|r| r.category.is_none() && r.price.is_none()));

        // With one, each item the catalog has carries its category and price, so a page need not
        // fetch its catalog entry to show it to rules.
        let catalog =
            Catalog::from_json(r#"{"v":1,"products":[{"id":"22423","title":"Cake stand","link":"/p/22423","price":"12.75 GBP","product_type":"Kitchen"}]}"#)
                .unwrap();
        let (profiles, _) = build_profiles(&lines, 200 * day, Some(&catalog), &ProfileRules::default());
        let items: Vec<_> = profiles[0].recent_items.iter().map(|r| (r.id.as_str(), r.category.as_deref(), r.price)).collect();
        assert_eq!(items, [("22423", Some("Kitchen"), Some(12.75))], "85123A is not in that catalog");
    }

    const DAY: Seconds = 86_400;
    const NOW: Seconds = 1000 * DAY;

    /// One single-line invoice per entry of `days_ago`, each worth `price`.
    fn customer(id: &str, days_ago: &[i64], price: f64) -> Vec<OrderLine> {
        days_ago.iter().enumerate().map(|(i, d)| line(&format!("{id}-{i}"), "22423", 1.0, NOW - d * DAY, price, Some(id))).collect()
    }

    /// Stage, expected gap and days overdue of one customer, with a default gap of 20 days.
    fn check_stage(days_ago: &[i64], expected: (Stage, f64, f64)) {
        let rules = ProfileRules { lifecycle: LifecycleRules { default_gap_days: Some(20.0), ..LifecycleRules::default() }, ..ProfileRules::default() };
        let (profiles, _) = build_profiles(&customer("1", days_ago, 10.0), NOW, None, &rules);
        let l = profiles[0].lifecycle.clone().unwrap();
        assert_eq!((l.stage, l.expected_gap_days, l.days_overdue), expected, "orders {days_ago:?} days ago");
        assert!(profiles[0].segments.contains(&format!("lifecycle_{}", l.stage)), "{:?}", profiles[0].segments);
    }

    #[test]
    fn lifecycle_follows_each_customers_rhythm() {
        // A weekly buyer three weeks past the next expected order.
        check_stage(&[49, 42, 35, 28], (Stage::Lapsed, 7.0, 21.0));
        // A yearly buyer two months after the last order is not even due.
        check_stage(&[790, 425, 60], (Stage::Active, 365.0, 0.0));
        // ...but past the absolute cap a yearly rhythm does not help.
        check_stage(&[766, 400], (Stage::Churned, 366.0, 34.0));
        check_stage(&[400, 380], (Stage::Churned, 20.0, 360.0));
        // One purchase day: new while recent, then measured against the default gap.
        check_stage(&[10], (Stage::New, 20.0, 0.0));
        check_stage(&[30], (Stage::New, 20.0, 10.0));
        check_stage(&[31], (Stage::AtRisk, 20.0, 11.0));
        check_stage(&[61], (Stage::Lapsed, 20.0, 41.0));
        // Invoices of one day are one purchase (two orders, but no rhythm yet).
        check_stage(&[40, 40], (Stage::AtRisk, 20.0, 20.0));
        // Boundaries are strict: exactly 1.5 gaps is still active, exactly 3 gaps still at risk.
        check_stage(&[50, 30], (Stage::Active, 20.0, 10.0));
        check_stage(&[90, 70, 50], (Stage::AtRisk, 20.0, 30.0));
        check_stage(&[80, 60], (Stage::AtRisk, 20.0, 40.0));
        // Orders on consecutive days: the gap is floored at a week, so 11 days is at risk, not lapsed.
        check_stage(&[12, 11], (Stage::AtRisk, 7.0, 4.0));
        // The median shrugs off one long break (the mean gap, 60, would make 100 days merely at risk).
        check_stage(&[340, 310, 280, 130, 100], (Stage::Lapsed, 30.0, 70.0));
        // Loyal: 5+ orders over 180+ days and not at risk; the grace zone up to 1.5 gaps stays loyal.
        check_stage(&[185, 155, 125, 95, 65, 35, 5], (Stage::Loyal, 30.0, 0.0));
        check_stage(&[220, 190, 160, 130, 100, 70, 40], (Stage::Loyal, 30.0, 10.0));
        check_stage(&[230, 200, 170, 140, 110, 80, 50], (Stage::AtRisk, 30.0, 20.0));
        check_stage(&[150, 120, 90, 60, 30, 0], (Stage::Active, 30.0, 0.0));
        check_stage(&[200, 150, 100, 50], (Stage::Active, 50.0, 0.0));
    }

    #[test]
    fn rfm_and_population_default_gap() {
        let lines: Vec<OrderLine> = [
            customer("1", &[49, 42, 35, 28], 10.0),               // weekly, overdue
            customer("2", &[790, 425, 60], 100.0),                // yearly
            customer("3", &[10], 50.0),                           // new
            customer("4", &[185, 155, 125, 95, 65, 35, 5], 20.0), // monthly, for long
            customer("5", &[35], 5.0),                            // once, 35 days ago
        ]
        .concat();
        let (profiles, _) = build_profiles(&lines, NOW, None, &ProfileRules::default());
        let got: Vec<(&str, u32, u32, f64, u8, u8, u8)> = profiles
            .iter()
            .map(|p| {
                let r = p.rfm.as_ref().unwrap();
                (p.id.as_str(), r.recency_days, r.frequency, r.monetary, r.r, r.f, r.m)
            })
            .collect();
        assert_eq!(
            got,
            [
                // Recency ranks 60 < 35 < 28 < 10 < 5 days; frequency ties the two one-order
                // customers at the bottom (mid-rank 0.2 of 1), then 3, 4, 7 orders score 3, 4, 5.
                ("c-1", 28, 4, 40.0, 3, 4, 2),
                ("c-2", 60, 3, 300.0, 1, 3, 5),
                ("c-3", 10, 1, 50.0, 4, 1, 3),
                ("c-4", 5, 7, 140.0, 5, 5, 4),
                ("c-5", 35, 1, 5.0, 2, 1, 1),
            ]
        );
        // Own gaps 7, 365 and 30: the one-purchase-day customers expect the median, 30 days.
        let stages: Vec<(Stage, f64, f64)> =
            profiles.iter().map(|p| p.lifecycle.as_ref().map(|l| (l.stage, l.expected_gap_days, l.days_overdue)).unwrap()).collect();
        assert_eq!(
            stages,
            [(Stage::Lapsed, 7.0, 21.0), (Stage::Active, 365.0, 0.0), (Stage::New, 30.0, 0.0), (Stage::Loyal, 30.0, 0.0), (Stage::Active, 30.0, 5.0)]
        );
        assert!(profiles.iter().all(|p| p.rfm.as_ref().unwrap().as_of == Some(NOW) && p.lifecycle.as_ref().unwrap().as_of == Some(NOW)));

        // Nobody with two purchase days: the fallback gap.
        let (profiles, _) = build_profiles(&customer("1", &[45], 1.0), NOW, None, &ProfileRules::default());
        let l = profiles[0].lifecycle.clone().unwrap();
        assert_eq!((l.stage, l.expected_gap_days), (Stage::Active, FALLBACK_GAP_DAYS));
    }

    fn check_quintiles(values: &[i64], expected: &[u8]) {
        assert_eq!(quintiles(values), expected, "{values:?}");
    }

    #[test]
    fn quintile_scores() {
        check_quintiles(&[], &[]);
        check_quintiles(&[7], &[3]);
        check_quintiles(&[4, 4, 4, 4], &[3, 3, 3, 3]);
        check_quintiles(&[1, 2], &[2, 4]);
        check_quintiles(&[1, 2, 3], &[1, 3, 5]);
        check_quintiles(&[1, 2, 3, 4], &[1, 2, 4, 5]);
        check_quintiles(&[30, 10, 50, 20, 40], &[3, 1, 5, 2, 4]);
        check_quintiles(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], &[1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        // A tie spanning quintiles scores at its middle, the same for all its members.
        check_quintiles(&[1, 1, 1, 1, 1, 1, 2, 3, 4, 5], &[2, 2, 2, 2, 2, 2, 4, 4, 5, 5]);
        check_quintiles(&[5, 1, 1, 1, 1, 1, 1, 1, 1, 1], &[5, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    }

    #[test]
    fn rfm_segments_cover_the_grid_once() {
        // Rows r = 5 down to 1, columns f = 1 to 5, as docs/kpis.md draws the grid.
        let grid = [
            "new_customer potential_loyalist potential_loyalist champions champions",
            "promising potential_loyalist potential_loyalist loyal loyal",
            "about_to_sleep about_to_sleep need_attention loyal loyal",
            "hibernating hibernating at_risk at_risk cant_lose",
            "hibernating hibernating at_risk at_risk cant_lose",
        ];
        for (row, names) in grid.iter().enumerate() {
            let r = 5 - row as u8;
            let got: Vec<&str> = (1..=5).map(|f| RfmSegment::of(r, f).as_str()).collect();
            assert_eq!(got.join(" "), *names, "r = {r}");
        }
        let mut seen: Vec<RfmSegment> = (1..=5).flat_map(|r| (1..=5).map(move |f| RfmSegment::of(r, f))).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, RfmSegment::ALL, "every segment is a cell of the grid");
    }

    #[test]
    fn snapshot_rfm_and_lifecycle_round_trip() {
        let text = r#"{"v":1,"id":"c-1","rfm":{"recency_days":12,"frequency":7,"monetary":1234.5,"r":5,"f":4,"m":5,"as_of":"2011-12-10T00:00:00Z"},
            "lifecycle":{"stage":"at_risk","expected_gap_days":7.5,"days_overdue":4.5,"as_of":"2011-12-10T00:00:00Z"}}"#;
        let p = ProfileSnapshot::from_json(text).unwrap();
        assert_eq!(p.lifecycle.as_ref().map(|l| l.stage), Some(Stage::AtRisk));
        assert_eq!(ProfileSnapshot::from_json(&p.to_json()).unwrap(), p);
        let e = ProfileSnapshot::from_json(&text.replace("\"r\":5", "\"r\":6")).unwrap_err();
        assert!(e.to_string().contains("expected a score from 1 to 5, found 6"), "{e}");
        let e = ProfileSnapshot::from_json(&text.replace("at_risk", "dormant")).unwrap_err();
        assert!(e.to_string().contains("unknown variant `dormant`"), "{e}");
        // Snapshots from before these fields still load, and print as they did.
        let old = r#"{"v":1,"id":"c-1","consent":{"personalization":false},"orders":{"count":0,"revenue":0.0,"aov":0.0},"segments":["lapsed"]}"#;
        assert_eq!(ProfileSnapshot::from_json(old).unwrap().to_json(), old);
    }
}
