//! Picks the demo's personas: real customers from the orders, chosen by fixed, explainable rules.
//!
//! The visitor switcher lets a developer see the shop as one of these customers. They are chosen
//! from the data (not invented) so that their profiles, built by `vitrine profiles` from the same
//! orders, really show the behaviour their label promises.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use vitrine_engine::{MoneyFormat, Price};

use crate::orders::{is_product_code, OrderLine};

const DAY: i64 = 86_400;

/// One persona; `vid`, `label` and `description` go to `personas.json`, the rest to `traits.jsonl`.
#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    /// Visitor id: `c-` + CustomerID.
    pub vid: String,
    pub label: &'static str,
    pub description: String,
    /// Fictional: the data set has no names, and the demo must never look like it leaks any.
    pub first_name: &'static str,
    pub loyalty_tier: &'static str,
}

/// What the rules look at, per customer, from clean purchases only.
#[derive(Debug, Default)]
struct Stats<'a> {
    invoices: HashSet<&'a str>,
    items: HashSet<&'a str>,
    /// Clean purchases only: what the personas are chosen by.
    revenue: f64,
    /// Net of cancellations, as `vitrine profiles` computes it: what the switcher shows.
    net: f64,
    last: i64,
    country: &'a str,
}

/// Chooses up to four personas (fewer if the data has no candidate for a rule); `now` is Unix
/// seconds. Their spend is described in `money`'s locale (the shop's, as every price on its pages).
pub fn choose(lines: &[OrderLine], now: i64, money: &MoneyFormat) -> Result<Vec<Persona>> {
    let mut stats: HashMap<&str, Stats> = HashMap::new();
    for l in lines.iter().filter(|l| l.is_clean_purchase()) {
        let Some(customer) = l.customer.as_deref() else {
            continue;
        };
        let t = l.time()?;
        let s = stats.entry(customer).or_default();
        s.invoices.insert(&l.invoice);
        s.items.insert(&l.stock_code);
        // Quantities are small integers, exact in f64.
        s.revenue += l.quantity as f64 * l.unit_price;
        s.net = s.revenue;
        if t >= s.last {
            s.last = t;
            s.country = &l.country;
        }
    }
    // Cancellations come off the spend shown (not the choice), as `vitrine profiles` nets them out
    // of revenue: the switcher's figure is then the one the preview shows for the same customer.
    for l in lines.iter().filter(|l| l.is_cancellation() && is_product_code(&l.stock_code)) {
        if let Some(s) = l.customer.as_deref().and_then(|c| stats.get_mut(c)) {
            if l.time()? <= now {
                s.net += l.quantity.min(0) as f64 * l.unit_price.abs();
            }
        }
    }
    let mut customers: Vec<(&str, &Stats)> = stats.iter().map(|(k, v)| (*k, v)).collect();
    // A fixed order first, so every "best" below breaks ties by the smaller customer id.
    customers.sort_by(|a, b| a.0.cmp(b.0));
    let days_ago = |s: &Stats| (now - s.last).div_euclid(DAY);
    let mut chosen: Vec<(&str, Persona)> = Vec::new();

    let best = |chosen: &[(&str, Persona)], keep: &dyn Fn(&Stats) -> bool, score: &dyn Fn(&Stats) -> f64| {
        customers.iter().filter(|(id, s)| keep(s) && !chosen.iter().any(|(c, _)| c == id)).fold(None::<(&str, &Stats)>, |acc, &(id, s)| match acc {
            Some((_, b)) if score(b) >= score(s) => acc,
            _ => Some((id, s)),
        })
    };
    let describe = |s: &Stats, what: &str| {
        format!(
            "{what}: {} order{}, {} product{}, {}, last order {} ({})",
            s.invoices.len(),
            plural(s.invoices.len()),
            s.items.len(),
            plural(s.items.len()),
            // Online Retail is in pounds; the snapshot's `orders.revenue` is the same sum.
            money.format(&Price { cents: (s.net.max(0.0) * 100.0).round() as i64, currency: *b"GBP" }),
            match days_ago(s) {
                0 => "today".to_string(),
                1 => "yesterday".to_string(),
                n => format!("{n} days ago"),
            },
            s.country
        )
    };

    let recent = |max_days: i64| move |s: &Stats| now - s.last <= max_days * DAY;
    let invoices = |s: &Stats| s.invoices.len() as f64;

    if let Some((id, s)) = best(&chosen, &recent(30), &invoices) {
        let p = persona(id, "Frequent buyer", describe(s, "Most orders of anyone active this month"), "Margaret", "gold");
        chosen.push((id, p));
    }
    // A few distinct products too: the data has wholesalers who bought one item in bulk three
    // times (customer 15098, 39,916 GBP), and a profile of one product shows no personalization.
    let lapsed = |s: &Stats| s.invoices.len() >= 3 && s.items.len() >= 5 && now - s.last > 120 * DAY;
    if let Some((id, s)) = best(&chosen, &lapsed, &|s: &Stats| s.revenue) {
        let p = persona(id, "Lapsed big spender", describe(s, "Highest spend among regulars gone quiet for 4+ months"), "Oliver", "gold");
        chosen.push((id, p));
    }
    let one_time = |s: &Stats| s.invoices.len() == 1 && now - s.last <= 60 * DAY;
    if let Some((id, s)) = best(&chosen, &one_time, &|s: &Stats| s.items.len() as f64) {
        let p = persona(id, "One-time buyer", describe(s, "Biggest first basket in the last two months"), "Priya", "bronze");
        chosen.push((id, p));
    }
    // Another regular: among the ten most frequent customers active this month, the first one
    // from a different country than the frequent buyer (so the switcher also shows a profile that
    // differs in more than volume), or else simply the next most frequent one.
    let home_country = chosen.first().and_then(|(id, _)| stats.get(id)).map(|s| s.country).unwrap_or_default();
    let mut active: Vec<(&str, &Stats)> = customers.iter().copied().filter(|(id, s)| recent(30)(s) && !chosen.iter().any(|(c, _)| c == id)).collect();
    active.sort_by(|a, b| b.1.invoices.len().cmp(&a.1.invoices.len()).then(a.0.cmp(b.0)));
    active.truncate(10);
    let regular = active.iter().find(|(_, s)| s.country != home_country).or(active.first());
    if let Some(&(id, s)) = regular {
        let what = if s.country == home_country {
            "The next most frequent active customer"
        } else {
            "Another top-ten regular, from a different country than the frequent buyer"
        };
        let p = persona(id, "Loyal regular", describe(s, what), "Henrik", "silver");
        chosen.push((id, p));
    }
    Ok(chosen.into_iter().map(|(_, p)| p).collect())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn persona(customer: &str, label: &'static str, description: String, first_name: &'static str, loyalty_tier: &'static str) -> Persona {
    Persona { vid: format!("c-{customer}"), label, description, first_name, loyalty_tier }
}

#[derive(Serialize)]
struct PersonaJson<'a> {
    vid: &'a str,
    label: &'a str,
    description: &'a str,
}

#[derive(Serialize)]
struct TraitsLine<'a> {
    id: &'a str,
    traits: Traits<'a>,
}

#[derive(Serialize)]
struct Traits<'a> {
    first_name: &'a str,
    loyalty_tier: &'a str,
}

/// `personas.json`: `[{"vid","label","description"}]`, pretty-printed.
pub fn personas_json(personas: &[Persona]) -> Result<String> {
    let list: Vec<PersonaJson> = personas.iter().map(|p| PersonaJson { vid: &p.vid, label: p.label, description: &p.description }).collect();
    Ok(serde_json::to_string_pretty(&list)? + "\n")
}

/// `traits.jsonl`: one `{"id", "traits"}` line per persona (demo enrichment data).
pub fn traits_jsonl(personas: &[Persona]) -> Result<String> {
    let mut out = String::new();
    for p in personas {
        let line = TraitsLine { id: &p.vid, traits: Traits { first_name: p.first_name, loyalty_tier: p.loyalty_tier } };
        out.push_str(&serde_json::to_string(&line)?);
        out.push('\n');
    }
    Ok(out)
}

/// Writes `text` to `path`, creating the parent directory.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::{parse_orders, NOW_UNIX};

    /// Customers: 1 frequent (UK, 3 recent invoices), 2 lapsed big spender, 3 a lapsed bulk buyer
    /// of a single product (spent more than 2, but is no persona),
    /// 4 one-time buyer with 2 items, 5 one-time buyer with 1 item, 6 regular from France,
    /// 7 a UK regular with as many invoices as 6. Guests, cancellations and postage must not count.
    const CSV: &str = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n\
        101,10001,A,1,2011-12-01 10:00:00,1.0,1.0,United Kingdom\n\
        102,10001,A,1,2011-12-02 10:00:00,1.0,1.0,United Kingdom\n\
        103,10001,A,1,2011-12-03 10:00:00,1.0,1.0,United Kingdom\n\
        201,10001,A,100,2011-01-01 10:00:00,1.0,2.0,United Kingdom\n\
        201,10002,B,100,2011-01-01 10:00:00,1.0,2.0,United Kingdom\n\
        202,10003,C,100,2011-02-01 10:00:00,1.0,2.0,United Kingdom\n\
        202,10004,D,100,2011-02-01 10:00:00,1.0,2.0,United Kingdom\n\
        203,10005,E,100,2011-03-01 10:00:00,1.0,2.0,United Kingdom\n\
        301,10001,A,1000,2011-01-01 10:00:00,1.0,3.0,United Kingdom\n\
        302,10001,A,1000,2011-02-01 10:00:00,1.0,3.0,United Kingdom\n\
        303,10001,A,1000,2011-03-01 10:00:00,1.0,3.0,United Kingdom\n\
        304,POST,POSTAGE,1,2011-03-01 10:00:00,900.0,3.0,United Kingdom\n\
        401,10001,A,1,2011-11-20 10:00:00,1.0,4.0,Germany\n\
        401,10002,B,1,2011-11-20 10:00:00,1.0,4.0,Germany\n\
        501,10001,A,1,2011-11-21 10:00:00,1.0,5.0,Germany\n\
        601,10001,A,1,2011-12-04 10:00:00,1.0,6.0,France\n\
        602,10001,A,1,2011-12-05 10:00:00,1.0,6.0,France\n\
        701,10001,A,1,2011-12-04 10:00:00,1.0,7.0,United Kingdom\n\
        702,10001,A,1,2011-12-05 10:00:00,1.0,7.0,United Kingdom\n\
        C703,10001,A,-1,2011-12-06 10:00:00,1.0,7.0,United Kingdom\n\
        801,10001,A,1,2011-12-06 10:00:00,1.0,,United Kingdom\n\
        802,10001,A,1,2011-12-07 10:00:00,1.0,,United Kingdom\n\
        803,10001,A,1,2011-12-08 10:00:00,1.0,,United Kingdom\n\
        804,10001,A,1,2011-12-08 11:00:00,1.0,,United Kingdom\n";

    #[test]
    fn chooses_by_the_documented_rules() {
        let personas = choose(&parse_orders(CSV.as_bytes()).unwrap(), NOW_UNIX, &MoneyFormat::for_locale("en-GB").unwrap()).unwrap();
        let got: Vec<(&str, &str)> = personas.iter().map(|p| (p.label, p.vid.as_str())).collect();
        assert_eq!(got, [("Frequent buyer", "c-1"), ("Lapsed big spender", "c-2"), ("One-time buyer", "c-4"), ("Loyal regular", "c-6"),]);
        assert!(personas[0].description.contains("3 orders, 1 product, £3.00"), "{}", personas[0].description);
        assert!(personas[0].description.ends_with("last order 6 days ago (United Kingdom)"), "{}", personas[0].description);
    }

    #[test]
    fn loyal_regular_falls_back_to_the_same_country() {
        let only_uk: String = CSV.lines().filter(|l| !l.contains("France") && !l.starts_with("501,")).map(|l| format!("{l}\n")).collect();
        let personas = choose(&parse_orders(only_uk.as_bytes()).unwrap(), NOW_UNIX, &MoneyFormat::for_locale("de-DE").unwrap()).unwrap();
        assert_eq!(personas.last().map(|p| p.vid.as_str()), Some("c-7"));
        // Its cancellation (C703) comes off the spend shown, as in its profile.
        let shown = &personas.last().unwrap().description;
        assert!(shown.contains("2 orders, 1 product, 1,00\u{a0}£"), "{shown}");
    }

    #[test]
    fn output_formats() {
        let p = persona("17850", "Frequent buyer", "desc \"quoted\"".into(), "Margaret", "gold");
        assert_eq!(
            traits_jsonl(std::slice::from_ref(&p)).unwrap(),
            "{\"id\":\"c-17850\",\"traits\":{\"first_name\":\"Margaret\",\"loyalty_tier\":\"gold\"}}\n"
        );
        let json: serde_json::Value = serde_json::from_str(&personas_json(&[p]).unwrap()).unwrap();
        assert_eq!(json[0]["vid"], "c-17850");
        assert_eq!(json[0]["description"], "desc \"quoted\"");
    }
}
