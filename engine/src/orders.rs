//! Profile snapshots from an order export (the shape of the Online Retail data set): one line per
//! invoice line, with cancellations, guest orders and non-product codes mixed in.

use std::collections::{BTreeMap, HashMap};

use crate::catalog::Catalog;
use crate::error::V1;
use crate::profile::{Consent, ItemEvent, OrderMetrics, ProfileSnapshot, RecentItem, Trait};
use crate::time::Seconds;

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
}

impl Default for ProfileRules {
    fn default() -> Self {
        ProfileRules { gold_revenue: 5000.0, silver_revenue: 1000.0, big_spender_revenue: 2000.0, lapsed_days: 90, recent_items: 20, consent: false }
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

/// A stock code is a product when the catalog knows it or, without a catalog, when it starts with
/// a digit (the data's service codes are words: POST, DOT, BANK CHARGES, AMAZONFEE, M, ...).
fn is_product(code: &str, catalog: Option<&Catalog>) -> bool {
    match catalog {
        Some(c) => c.get(code).is_some(),
        None => code.bytes().next().is_some_and(|b| b.is_ascii_digit()),
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
        let Some(customer) = l.customer.as_deref().filter(|c| !c.trim().is_empty()) else {
            stats.guest_lines += 1;
            continue;
        };
        if l.time > now {
            stats.future_lines += 1;
            continue;
        }
        if !is_product(&l.stock_code, catalog) {
            stats.non_product_lines += 1;
            continue;
        }
        let acc = by_customer.entry(visitor_id(customer)).or_default();
        if l.is_cancellation() {
            // A cancellation takes its value back out of revenue; it is not an order.
            stats.cancellation_lines += 1;
            acc.revenue += l.quantity.min(0.0) * l.unit_price.abs();
            continue;
        }
        if l.quantity <= 0.0 || l.unit_price <= 0.0 || !l.quantity.is_finite() || !l.unit_price.is_finite() {
            stats.invalid_lines += 1;
            continue;
        }
        acc.invoices.entry(l.invoice.clone()).and_modify(|t| *t = (*t).min(l.time)).or_insert(l.time);
        acc.revenue += l.quantity * l.unit_price;
        *acc.countries.entry(l.country.clone()).or_default() += 1;
        let t = acc.items.entry(l.stock_code.clone()).or_insert(l.time);
        *t = (*t).max(l.time);
        if let Some(p) = catalog.and_then(|c| c.get(&l.stock_code)) {
            if !p.product_type.is_empty() {
                *acc.categories.entry(p.product_type.clone()).or_default() += 1.0;
            }
        }
    }
    let mut out = Vec::with_capacity(by_customer.len());
    for (id, acc) in by_customer {
        let count = acc.invoices.len() as u32;
        if count == 0 {
            continue;
        }
        let revenue = (acc.revenue.max(0.0) * 100.0).round() / 100.0;
        let first = acc.invoices.values().min().copied();
        let last = acc.invoices.values().max().copied();
        let mut traits = BTreeMap::new();
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
        let recent_items = recent.into_iter().skip(skip).map(|(id, time)| RecentItem { id, time, event: ItemEvent::Purchase }).collect();
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
        if last.is_some_and(|l| now - l > rules.lapsed_days * 86_400) {
            segments.push("lapsed".to_owned());
        }
        out.push(ProfileSnapshot {
            v: V1,
            id,
            consent: Consent { personalization: rules.consent },
            traits,
            orders: OrderMetrics { count, revenue, aov: ((revenue / f64::from(count)) * 100.0).round() / 100.0, first, last },
            recent_items,
            affinities,
            segments,
        });
    }
    (out, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(invoice: &str, code: &str, qty: f64, t: Seconds, price: f64, customer: Option<&str>) -> OrderLine {
        OrderLine { invoice: invoice.into(), stock_code: code.into(), quantity: qty, time: t, unit_price: price, customer: customer.map(Into::into), country: "United Kingdom".into() }
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
        assert_eq!(
            stats,
            ProfileStats { lines: 7, guest_lines: 1, cancellation_lines: 1, non_product_lines: 1, invalid_lines: 1, future_lines: 1 }
        );
    }
}
