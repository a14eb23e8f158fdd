//! `/insights/`: the shop owner's page. It renders what the CLI computed — `vitrine kpis` (trends,
//! cohorts, lifecycle and RFM), `vitrine clv` (see `clv.rs`) and `vitrine uplift` over a simulated
//! experiment (`simulate.rs`) — as server-side SVG charts, each with a table of its numbers.
//!
//! The page reads the CLI's JSON as it is (`serde_json::Value`), field by field, so a field the
//! page does not know is ignored and a missing one shows as "—" rather than failing the build.

use std::fmt::Write as _;

use serde_json::Value;

use super::charts::{bar_chart, count, interval_chart, line_chart, money, money_whole, percent, points, Fmt, Series};
use super::clv;
use super::html::escape;

/// The CLI's outputs the page shows; `clv` and `uplift` are optional (the page says so if missing).
#[derive(Debug)]
pub struct Inputs {
    pub kpis: Value,
    pub uplift: Option<Value>,
    pub simulation: Option<Value>,
    pub clv: Option<Vec<clv::Prediction>>,
}

/// A number field, or `None` for a missing field or `null`.
fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `2011-11` → `Nov 2011`.
pub fn month_name(period: &str) -> String {
    const NAMES: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    match period.split_once('-') {
        Some((y, m)) => match m.parse::<usize>() {
            Ok(m @ 1..=12) => format!("{} {y}", NAMES[m - 1]),
            _ => period.to_string(),
        },
        None => period.to_string(),
    }
}

/// `2011-11` → `Nov '11`, for axes.
fn month_short(period: &str) -> String {
    let long = month_name(period);
    match long.split_once(' ') {
        Some((m, y)) if y.len() == 4 => format!("{m} '{}", &y[2..]),
        _ => long,
    }
}

/// The whole `<main>` of the page.
pub fn main_html(inputs: &Inputs) -> String {
    let k = &inputs.kpis;
    let periods: Vec<&Value> = k.get("periods").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    let as_of = text(k, "as_of");
    // A period is complete when it ends by the report's time; the last one usually does not.
    let complete = |p: &Value| !as_of.is_empty() && text(p, "end") <= as_of;
    let mut out = String::new();
    let _ = write!(
        out,
        concat!(
            r#"<nav class="crumbs" aria-label="Breadcrumb"><a href="/">Home</a><span>/</span>Insights</nav>"#,
            r#"<header class="page-head insights-head"><div><h1>Insights</h1>"#,
            r#"<p>How the shop is doing: orders, customers and what personalization earns. Data up to {as_of}, "#,
            r#"computed by <code>vitrine kpis</code> from the shop's order export (<a href="kpis.json">kpis.json</a>).</p></div></header>"#,
            "\n"
        ),
        as_of = escape(&human_time(as_of)),
    );
    out.push_str(&tiles(&periods, complete));
    out.push_str(&trends(&periods, complete));
    out.push_str(&cohorts(k));
    out.push_str(&distributions(k, &periods, complete));
    out.push_str(&clv::section(inputs.clv.as_deref()));
    out.push_str(&experiment(inputs.uplift.as_ref(), inputs.simulation.as_ref()));
    out
}

/// `2011-12-10T00:00:00Z` → `10 Dec 2011 00:00 UTC`.
fn human_time(t: &str) -> String {
    if t.len() < 16 {
        return t.to_string();
    }
    let month = month_name(&t[..7]);
    let (m, y) = month.split_once(' ').unwrap_or((&month, ""));
    format!("{} {m} {y} {} UTC", t[8..10].trim_start_matches('0'), &t[11..16])
}

/// Headline tiles: the last complete month against the one before, with the change.
fn tiles(periods: &[&Value], complete: impl Fn(&Value) -> bool) -> String {
    let full: Vec<&Value> = periods.iter().copied().filter(|p| complete(p)).collect();
    let (Some(cur), Some(prev)) = (full.last(), full.len().checked_sub(2).and_then(|i| full.get(i))) else {
        return String::new();
    };
    // (label, key, format, whether up is good); `churn` is the churn object's rate.
    const TILES: [(&str, &str, Fmt, bool); 7] = [
        ("Revenue", "revenue", Fmt::Money, true),
        ("Orders", "orders", Fmt::Count, true),
        ("Active customers", "customers", Fmt::Count, true),
        ("New customers", "new_customers", Fmt::Count, true),
        ("Average order value", "aov", Fmt::Money, true),
        ("Repeat purchase rate", "repeat_purchase_rate", Fmt::Percent, true),
        ("Churn", "churn", Fmt::Percent, false),
    ];
    let value = |p: &Value, key: &str| if key == "churn" { p.get("churn").and_then(|c| num(c, "rate")) } else { num(p, key) };
    let (cur_name, prev_name) = (month_name(text(cur, "period")), month_name(text(prev, "period")));
    let mut out = format!(
        r#"<section class="section" aria-labelledby="tiles-h"><div class="section-head"><h2 id="tiles-h">{} at a glance</h2><p>The last full month, compared with {}.</p></div><ul class="kpi-tiles">"#,
        escape(&cur_name),
        escape(&prev_name)
    );
    for (label, key, fmt, up_good) in TILES {
        let (v, p) = (value(cur, key), value(prev, key));
        let value = match (v, fmt) {
            (Some(v), Fmt::Money) if key == "revenue" => money_whole(v),
            (Some(v), f) => f.full(v),
            (None, _) => "—".into(),
        };
        let change = match (v, p, fmt) {
            (Some(v), Some(p), Fmt::Percent) => Some((v - p, points(v - p))),
            (Some(v), Some(p), _) if p != 0.0 => Some((v - p, format!("{:+.1} %", (v / p - 1.0) * 100.0))),
            _ => None,
        };
        let change = match change {
            Some((d, s)) => {
                let good = if d == 0.0 {
                    "flat"
                } else if (d > 0.0) == up_good {
                    "good"
                } else {
                    "bad"
                };
                let arrow = if d > 0.0 {
                    "▲"
                } else if d < 0.0 {
                    "▼"
                } else {
                    "■"
                };
                format!(
                    r#"<span class="change {good}"><span aria-hidden="true">{arrow}</span> {} <span class="vs">vs {}</span></span>"#,
                    escape(&s),
                    escape(&prev_name)
                )
            }
            None => String::new(),
        };
        let _ = write!(
            out,
            r#"<li class="kpi" data-kpi="{key}"><span class="kpi-label">{}</span><strong class="kpi-value">{}</strong>{change}</li>"#,
            escape(label),
            escape(&value),
        );
    }
    out.push_str("</ul></section>\n");
    out
}

/// One chart card: heading, note, chart, and its numbers in a table under "Show the numbers".
pub(super) fn card(id: &str, heading: &str, note: &str, chart: &str, table: &str) -> String {
    format!(
        r#"<figure class="chart-card" id="{id}"><figcaption><h3>{}</h3><p>{}</p></figcaption>{chart}<details><summary>Show the numbers</summary><div class="table-scroll">{table}</div></details></figure>"#,
        escape(heading),
        escape(note),
    )
}

/// A table: header cells, then rows of (cell text, data attribute for tests and scripts).
fn table(caption: &str, head: &[&str], rows: &[Vec<(String, &str)>]) -> String {
    let mut out = format!(r#"<table class="numbers"><caption>{}</caption><thead><tr>"#, escape(caption));
    for (i, h) in head.iter().enumerate() {
        let _ = write!(out, r#"<th scope="col"{}>{}</th>"#, if i > 0 { r#" class="num""# } else { "" }, escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (i, (cell, key)) in row.iter().enumerate() {
            let attr = if key.is_empty() { String::new() } else { format!(r#" data-k="{}""#, escape(key)) };
            if i == 0 {
                let _ = write!(out, r#"<th scope="row"{attr}>{}</th>"#, escape(cell));
            } else {
                let _ = write!(out, r#"<td class="num"{attr}>{}</td>"#, escape(cell));
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// The trend charts over every period.
fn trends(periods: &[&Value], complete: impl Fn(&Value) -> bool) -> String {
    if periods.is_empty() {
        return String::new();
    }
    // The partial last month is marked, in labels and in the note.
    let labels: Vec<String> = periods.iter().map(|p| format!("{}{}", month_short(text(p, "period")), if complete(p) { "" } else { "*" })).collect();
    let names: Vec<String> = periods.iter().map(|p| format!("{}{}", month_name(text(p, "period")), if complete(p) { "" } else { " (to date)" })).collect();
    let partial = periods.last().is_some_and(|p| !complete(p));
    let note = |what: &str| {
        if partial {
            format!("{what} * The last month is not over yet.")
        } else {
            what.to_string()
        }
    };
    let col = |key: &str| periods.iter().map(|p| num(p, key)).collect::<Vec<_>>();
    let churn: Vec<Option<f64>> = periods.iter().map(|p| p.get("churn").and_then(|c| num(c, "rate"))).collect();
    let single = |id: &str, heading: &str, what: &str, key: &str, values: Vec<Option<f64>>, fmt: Fmt| {
        let chart = line_chart(
            &format!("{id}-chart"),
            heading,
            &format!("Line chart of {} per month, {} to {}.", heading.to_lowercase(), names[0], names[names.len() - 1]),
            &labels,
            &[Series { name: heading, values: values.clone() }],
            fmt,
        );
        let rows: Vec<Vec<(String, &str)>> =
            names.iter().zip(&values).map(|(n, v)| vec![(n.clone(), ""), (v.map_or("—".into(), |v| fmt.full(v)), key)]).collect();
        card(id, heading, &note(what), &chart, &table(heading, &["Month", heading], &rows))
    };
    let mut out = String::from(
        r#"<section class="section" aria-labelledby="trends-h"><div class="section-head"><h2 id="trends-h">Trends</h2><p>Month by month since the first order.</p></div><div class="chart-grid">"#,
    );
    out.push_str(&single("revenue", "Revenue", "Orders' value less cancellations, in GBP.", "revenue", col("revenue"), Fmt::Money));
    out.push_str(&single("orders", "Orders", "Orders placed, guests' included.", "orders", col("orders"), Fmt::Count));
    // Active customers, split into new and returning.
    let (new, returning) = (col("new_customers"), col("returning_customers"));
    let chart = line_chart(
        "customers-chart",
        "Active customers: new and returning",
        &format!("Line chart of new and returning customers per month, {} to {}.", names[0], names[names.len() - 1]),
        &labels,
        &[Series { name: "New", values: new.clone() }, Series { name: "Returning", values: returning.clone() }],
        Fmt::Count,
    );
    let rows: Vec<Vec<(String, &str)>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let f = |v: Option<f64>| v.map_or("—".into(), count);
            vec![(n.clone(), ""), (f(num(periods[i], "customers")), "customers"), (f(new[i]), "new_customers"), (f(returning[i]), "returning_customers")]
        })
        .collect();
    out.push_str(&card(
        "customers",
        "Active customers: new and returning",
        &note("Customers with an order in the month; new ones ordered for the first time."),
        &chart,
        &table("Active customers", &["Month", "Active", "New", "Returning"], &rows),
    ));
    out.push_str(&single("aov", "Average order value", "Orders' value divided by orders, in GBP.", "aov", col("aov"), Fmt::Money));
    out.push_str(&single(
        "repeat",
        "Repeat purchase rate",
        "Share of the month's customers who ordered twice or more in it.",
        "repeat_purchase_rate",
        col("repeat_purchase_rate"),
        Fmt::Percent,
    ));
    out.push_str(&single(
        "churn",
        "Churn",
        "Share of live customers at the month's start who lapsed by its end, by their own purchase rhythm.",
        "churn",
        churn,
        Fmt::Percent,
    ));
    out.push_str("</div></section>\n");
    out
}

/// The cohort retention heatmap: an HTML table (so it is its own text alternative) coloured by
/// retention.
fn cohorts(k: &Value) -> String {
    let Some(cohorts) = k.get("cohorts").and_then(Value::as_array).filter(|c| !c.is_empty()) else {
        return String::new();
    };
    let months = cohorts.iter().filter_map(|c| c.get("retention").and_then(Value::as_array)).map(Vec::len).max().unwrap_or(0);
    let mut out = String::from(concat!(
        r#"<section class="section" aria-labelledby="cohorts-h"><div class="section-head"><h2 id="cohorts-h">Cohort retention</h2>"#,
        r#"<p>Customers by the month of their first order (rows), and the share of them who ordered again 1, 2, 3… months later (columns). Darker is better.</p></div>"#,
        r#"<div class="table-scroll heatmap-wrap"><table class="heatmap" id="cohort-table"><caption>Share of each cohort with an order in the n-th month after its first</caption><thead><tr><th scope="col">Cohort</th><th scope="col" class="num">Customers</th>"#
    ));
    for m in 0..months {
        let _ = write!(out, r#"<th scope="col" class="num">M{m}</th>"#);
    }
    out.push_str("</tr></thead><tbody>");
    for c in cohorts {
        let name = month_name(text(c, "cohort"));
        let _ = write!(
            out,
            r#"<tr><th scope="row">{}</th><td class="num" data-k="customers">{}</td>"#,
            escape(&name),
            num(c, "customers").map_or("—".into(), count)
        );
        let retention = c.get("retention").and_then(Value::as_array).cloned().unwrap_or_default();
        let active = c.get("active").and_then(Value::as_array).cloned().unwrap_or_default();
        for m in 0..months {
            match retention.get(m).and_then(Value::as_f64) {
                Some(r) => {
                    // M0 is 100 % by definition: shown, but not coloured, so the eye goes to M1+.
                    let style = if m == 0 {
                        String::new()
                    } else {
                        let a = (r / 0.6).clamp(0.0, 1.0);
                        format!(r#" style="--a:{a:.2}""#)
                    };
                    let n = active.get(m).and_then(Value::as_f64).map_or(String::new(), count);
                    let _ = write!(
                        out,
                        r#"<td class="num cell{}"{style} title="{}">{:.0} %</td>"#,
                        if r >= 0.35 { " dark" } else { "" },
                        escape(&format!("{name}, month {m}: {n} customers, {}", percent(r))),
                        // Half away from zero, not the formatter's half to even: 36.5 % shows 37 %.
                        (r * 100.0).round()
                    );
                }
                None => out.push_str(r#"<td class="empty"></td>"#),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></section>\n");
    out
}

/// Stable display names for the KPI report's bucket keys.
fn bucket_name(key: &str) -> String {
    match key {
        "first_order" => "First orders".into(),
        "guest" => "Guests".into(),
        "at_risk" => "At risk".into(),
        "cant_lose" => "Can't lose".into(),
        "new_customer" => "New customer".into(),
        "potential_loyalist" => "Potential loyalist".into(),
        "about_to_sleep" => "About to sleep".into(),
        "need_attention" => "Need attention".into(),
        other => {
            let s = other.replace('_', " ");
            let mut c = s.chars();
            c.next().map_or(String::new(), |f| f.to_uppercase().collect::<String>() + c.as_str())
        }
    }
}

/// `(display name, value)` for every key of an object, largest first.
fn buckets(v: Option<&Value>) -> Vec<(String, String, f64)> {
    let mut out: Vec<(String, String, f64)> =
        v.and_then(Value::as_object).map(|o| o.iter().filter_map(|(k, v)| v.as_f64().map(|x| (k.clone(), bucket_name(k), x))).collect()).unwrap_or_default();
    out.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    out
}

/// Revenue by lifecycle stage and RFM segment (last full month), and customers by stage today.
fn distributions(k: &Value, periods: &[&Value], complete: impl Fn(&Value) -> bool) -> String {
    let Some(month) = periods.iter().rev().find(|p| complete(p)) else {
        return String::new();
    };
    let name = month_name(text(month, "period"));
    let mut out = format!(
        r#"<section class="section" aria-labelledby="dist-h"><div class="section-head"><h2 id="dist-h">Where revenue comes from</h2><p>{}'s revenue by what each customer was when the month began, and today's customers by lifecycle stage.</p></div><div class="chart-grid">"#,
        escape(&name)
    );
    let money_card = |id: &str, heading: &str, note: &str, data: Vec<(String, String, f64)>| {
        let bars: Vec<(String, f64)> = data.iter().map(|(_, n, v)| (n.clone(), *v)).collect();
        let chart = bar_chart(&format!("{id}-chart"), heading, &format!("Bar chart: {heading}."), &bars, Fmt::Money);
        let rows: Vec<Vec<(String, &str)>> = data.iter().map(|(k, n, v)| vec![(n.clone(), ""), (money(*v), k.as_str())]).collect();
        card(id, heading, note, &chart, &table(heading, &["Bucket", "Revenue"], &rows))
    };
    out.push_str(&money_card(
        "by-stage",
        &format!("Revenue by lifecycle stage, {name}"),
        "Stages are measured against each customer's own purchase rhythm.",
        buckets(month.get("revenue_by_stage")),
    ));
    out.push_str(&money_card(
        "by-rfm",
        &format!("Revenue by RFM segment, {name}"),
        "Segments from recency and frequency scores (quintiles).",
        buckets(month.get("revenue_by_rfm")),
    ));
    let stages = buckets(k.get("totals").and_then(|t| t.get("stages")));
    if !stages.is_empty() {
        let bars: Vec<(String, f64)> = stages.iter().map(|(_, n, v)| (n.clone(), *v)).collect();
        let heading = "Customers by lifecycle stage today";
        let chart = bar_chart("stages-chart", heading, "Bar chart: customers per lifecycle stage at the report's time.", &bars, Fmt::Count);
        let rows: Vec<Vec<(String, &str)>> = stages.iter().map(|(k, n, v)| vec![(n.clone(), ""), (count(*v), k.as_str())]).collect();
        out.push_str(&card(
            "stages",
            heading,
            "Who to win back (at risk, lapsed) and who to thank (loyal).",
            &chart,
            &table(heading, &["Stage", "Customers"], &rows),
        ));
    }
    out.push_str("</div></section>\n");
    out
}

/// The experiment report, over the simulated exposures and conversions.
fn experiment(uplift: Option<&Value>, simulation: Option<&Value>) -> String {
    let mut out = String::from(
        r#"<section class="section experiment" aria-labelledby="exp-h"><div class="section-head"><h2 id="exp-h">Experiment: does the winback banner earn its keep? <span class="badge-sim">Simulated</span></h2></div>"#,
    );
    let Some(experiments) = uplift.and_then(|u| u.get("experiments")).and_then(Value::as_object).filter(|e| !e.is_empty()) else {
        out.push_str(r#"<p class="empty-note">No experiment report in this build.</p></section>"#);
        return out;
    };
    let sim = simulation.cloned().unwrap_or(Value::Null);
    let model = sim.get("model").cloned().unwrap_or(Value::Null);
    let planted = num(&model, "planted_uplift");
    let _ = write!(
        out,
        concat!(
            r#"<div class="sim-note" role="note"><strong>Simulated data, real customers.</strong> "#,
            r#"The demo has no visitors, so this report is computed by <code>vitrine uplift</code> over a simulation: "#,
            r#"the {eligible} real customers in the experiment's audience, each put in the holdout or the winback arm by the engine's own assignment. "#,
            r#"Their visits and orders after the visit are made up by a seeded model (seed {seed}): each customer's chance to order within {window} days follows their own purchase rhythm "#,
            r#"(on average {base}), and <strong>an uplift of {planted} was planted</strong> in the winback arm. "#,
            r#"Their earlier orders are their real ones. A good report finds the planted effect inside its interval.</div>"#
        ),
        eligible = num(&sim, "eligible").map_or("—".into(), count),
        seed = num(&model, "seed").map_or("—".into(), count),
        window = num(&model, "window_days").map_or("—".into(), count),
        base = num(&sim, "mean_baseline").map_or("—".into(), percent),
        planted = planted.map_or("—".into(), points),
    );
    for (id, e) in experiments {
        let control = text(e, "control");
        let srm = num(e, "srm_p");
        let flagged = e.get("srm_flag").and_then(Value::as_bool).unwrap_or(false);
        let _ = write!(
            out,
            r#"<div class="exp" data-experiment="{}"><h3><code>{}</code> against its {}</h3>"#,
            escape(id),
            escape(id),
            escape(if control == "holdout" { "holdout" } else { control }),
        );
        let mut rows: Vec<Vec<(String, &str)>> = Vec::new();
        let group_row = |name: &str, g: &Value| {
            vec![
                (name.to_string(), ""),
                (num(g, "visitors").map_or("—".into(), count), "visitors"),
                (num(g, "conversions").map_or("—".into(), count), "conversions"),
                (num(g, "conversion_rate").map_or("—".into(), percent), "conversion_rate"),
                (num(g, "revenue_per_visitor").map_or("—".into(), money), "revenue_per_visitor"),
            ]
        };
        if let Some(g) = e.get("control_group") {
            rows.push(group_row(&format!("{control} (control)"), g));
        }
        let arms = e.get("arms").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut intervals = Vec::new();
        for (arm, a) in &arms {
            rows.push(group_row(arm, a));
            if let Some(u) = a.get("uplift").filter(|u| !u.is_null()) {
                if let (Some(d), Some(lo), Some(hi)) = (num(u, "abs"), num(u, "lo"), num(u, "hi")) {
                    intervals.push((arm.clone(), d, lo, hi));
                }
            }
            if let Some(c) = a.get("cuped").and_then(|c| c.get("conversion")).filter(|c| !c.is_null()) {
                if let (Some(d), Some(lo), Some(hi)) = (num(c, "abs"), num(c, "lo"), num(c, "hi")) {
                    intervals.push((format!("{arm} (CUPED)"), d, lo, hi));
                }
            }
        }
        out.push_str(r#"<div class="exp-grid"><div><div class="table-scroll">"#);
        out.push_str(&table("Visitors and conversions per group", &["Group", "Visitors", "Converted", "Conversion rate", "Revenue per visitor"], &rows));
        out.push_str("</div>");
        // The headline: each arm's uplift with its interval, in words.
        for (arm, a) in &arms {
            let Some(u) = a.get("uplift").filter(|u| !u.is_null()) else { continue };
            let (d, lo, hi) = (num(u, "abs").unwrap_or(0.0), num(u, "lo").unwrap_or(0.0), num(u, "hi").unwrap_or(0.0));
            let verdict = if lo > 0.0 {
                "The arm converts better than the holdout: the whole interval is above zero."
            } else if hi < 0.0 {
                "The arm converts worse than the holdout."
            } else {
                "Not distinguishable from no effect yet: the interval includes zero. A larger holdout or a longer run would narrow it."
            };
            let _ = write!(
                out,
                r#"<p class="uplift" data-arm="{}">Uplift of <strong>{}</strong>: <strong data-k="uplift-abs">{}</strong> in conversion rate (95 % interval <span data-k="uplift-lo">{}</span> to <span data-k="uplift-hi">{}</span>). {}</p>"#,
                escape(arm),
                escape(arm),
                escape(&points(d)),
                escape(&points(lo)),
                escape(&points(hi)),
                escape(verdict),
            );
            if let Some(c) = a.get("cuped").and_then(|c| c.get("conversion")).filter(|c| !c.is_null()) {
                let _ = write!(
                    out,
                    r#"<p class="cuped">With CUPED (adjusting for each customer's orders before the experiment): {} (95 % interval {} to {}), variance {} lower.</p>"#,
                    escape(&num(c, "abs").map_or("—".into(), points)),
                    escape(&num(c, "lo").map_or("—".into(), points)),
                    escape(&num(c, "hi").map_or("—".into(), points)),
                    escape(&num(c, "variance_reduction").map_or("—".into(), percent)),
                );
            }
        }
        // What these group sizes can detect: the minimum detectable effect at 5 % significance and
        // 80 % power, 2.80 standard errors of the difference at the pooled rate.
        if let (Some(c), Some((_, a))) = (e.get("control_group"), arms.iter().next()) {
            let (nc, na) = (num(c, "visitors").unwrap_or(0.0), num(a, "visitors").unwrap_or(0.0));
            let (xc, xa) = (num(c, "conversions").unwrap_or(0.0), num(a, "conversions").unwrap_or(0.0));
            if nc > 0.0 && na > 0.0 {
                let p = (xc + xa) / (nc + na);
                let mde = 2.80 * (p * (1.0 - p) * (1.0 / nc + 1.0 / na)).sqrt();
                let _ = write!(
                    out,
                    r#"<p class="mde">With {} customers in the {} and {} in the arm, only an effect of about <strong>{}</strong> would be detected reliably (5 % significance, 80 % power).</p>"#,
                    count(nc),
                    escape(control),
                    count(na),
                    escape(&points(mde).replace('+', "±")),
                );
            }
        }
        let _ = write!(
            out,
            r#"<p class="srm{}">Sample ratio check: p = <span data-k="srm-p">{}</span>{}</p>"#,
            if flagged { " flagged" } else { "" },
            escape(&srm.map_or("—".into(), |p| format!("{p:.3}"))),
            if flagged {
                " — the split between the groups is not what the configuration asks for; do not trust this report until the cause is found."
            } else {
                " — the groups are split as configured."
            },
        );
        out.push_str("</div><div>");
        if !intervals.is_empty() {
            let chart = interval_chart(
                &format!("exp-{}-chart", charts_id(id)),
                "Uplift in conversion rate (percentage points) with 95 % intervals",
                "Each arm's difference in conversion rate against the holdout, with its 95 % confidence interval; the dashed line is the uplift planted in the simulation.",
                &intervals,
                planted.map(|p| ("Planted in the simulation", p)),
            );
            let mut rows: Vec<Vec<(String, &str)>> =
                intervals.iter().map(|(n, d, lo, hi)| vec![(n.clone(), ""), (points(*d), ""), (points(*lo), ""), (points(*hi), "")]).collect();
            if let Some(p) = planted {
                rows.push(vec![("Planted in the simulation".into(), ""), (points(p), ""), (String::new(), ""), (String::new(), "")]);
            }
            out.push_str(&card(
                &format!("exp-{}", charts_id(id)),
                "Uplift against the holdout",
                "In percentage points of conversion rate. Dot: estimate; bar: 95 % interval; dashed: what the simulation planted.",
                &chart,
                &table("Uplift in conversion rate", &["Comparison", "Uplift", "95 % low", "95 % high"], &rows),
            ));
        }
        out.push_str("</div></div></div>");
    }
    out.push_str(r#"<p class="small">The report as JSON: <a href="uplift.json">uplift.json</a>; the simulation's settings: <a href="simulation.json">simulation.json</a>.</p></section>"#);
    out.push('\n');
    out
}

/// An experiment id made safe for an element id.
fn charts_id(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

/// The page's own style sheet (only this page loads it).
pub const CSS: &str = include_str!("../../assets/insights.css");

#[cfg(test)]
mod tests {
    use super::*;

    fn period(p: &str, end: &str, revenue: f64) -> Value {
        serde_json::json!({"period": p, "start": "", "end": end, "orders": 10, "revenue": revenue, "aov": 12.5, "customers": 8,
            "new_customers": 3, "returning_customers": 5, "repeat_purchase_rate": 0.25, "churn": {"rate": null},
            "revenue_by_stage": {"loyal": 100.0, "first_order": 20.0}, "revenue_by_rfm": {"champions": 120.0}})
    }

    fn kpis() -> Value {
        serde_json::json!({"v": 1, "as_of": "2011-12-10T00:00:00Z",
          "totals": {"stages": {"active": 4, "lapsed": 2}},
          "periods": [period("2011-10", "2011-11-01T00:00:00Z", 1000.0), period("2011-11", "2011-12-01T00:00:00Z", 1250.0), period("2011-12", "2012-01-01T00:00:00Z", 99.0)],
          "cohorts": [{"cohort": "2011-10", "customers": 5, "active": [5, 2], "retention": [1.0, 0.4]}]})
    }

    #[test]
    fn tiles_compare_the_last_full_month_with_the_one_before() {
        let html = main_html(&Inputs { kpis: kpis(), uplift: None, simulation: None, clv: None });
        assert!(html.contains("Nov 2011 at a glance"));
        assert!(
            html.contains(r#"<li class="kpi" data-kpi="revenue"><span class="kpi-label">Revenue</span><strong class="kpi-value">£1,250</strong>"#),
            "{html}"
        );
        assert!(html.contains("+25.0 %"));
        assert!(html.contains("Dec 2011 (to date)"));
        assert!(html.contains(r#"<td class="num" data-k="revenue">£1,250.00</td>"#));
        assert!(html.contains(r#"<td class="num" data-k="customers">5</td>"#));
        assert!(html.contains("No experiment report in this build."));
    }

    #[test]
    fn every_string_from_the_json_is_escaped() {
        let mut k = kpis();
        k["periods"][1]["revenue_by_rfm"] = serde_json::json!({"<script>x</script>": 5.0});
        k["cohorts"][0]["cohort"] = "<img src=x onerror=alert(1)>".into();
        let uplift = serde_json::json!({"experiments": {"<b>e</b>": {"control": "holdout", "srm_p": 0.5, "control_group": {"visitors": 10},
            "arms": {"a\"rm": {"visitors": 9, "uplift": {"abs": 0.03, "lo": -0.01, "hi": 0.07}}}}}});
        let html = main_html(&Inputs { kpis: k, uplift: Some(uplift), simulation: None, clv: None });
        assert!(!html.contains("<script>x") && !html.contains("<img src=x") && !html.contains("<b>e</b>") && !html.contains("a\"rm"));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains(r#"<strong data-k="uplift-abs">+3.0 pts</strong>"#));
    }

    #[test]
    fn names() {
        assert_eq!(month_name("2011-12"), "Dec 2011");
        assert_eq!(month_short("2010-01"), "Jan '10");
        assert_eq!(month_name("2011-W01"), "2011-W01");
        assert_eq!(human_time("2011-12-10T00:00:00Z"), "10 Dec 2011 00:00 UTC");
        assert_eq!(bucket_name("cant_lose"), "Can't lose");
        assert_eq!(bucket_name("loyal"), "Loyal");
    }
}
