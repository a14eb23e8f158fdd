//! The insights page's customer lifetime value section, from `vitrine clv`'s output: one JSON line
//! per customer, `{"customer": "...", "expected_orders": X, "expected_value": Y, "p_alive": Z}`
//! (more fields are ignored). Kept apart from the rest of the page: it is the only part that reads
//! the CLV contract.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::charts::{count, decimal, histogram, money, money_whole, percent, COLOURS};
use super::html::escape;
use super::insights::card;

/// The horizon and calibration end the build runs `vitrine clv` with (scripts/build.sh), stated
/// on the page.
pub const HORIZON_DAYS: u32 = 90;

/// One customer's prediction (the fields the page reads).
#[derive(Debug, Clone, Deserialize)]
pub struct Prediction {
    pub customer: String,
    pub expected_orders: f64,
    pub expected_value: f64,
    pub p_alive: f64,
}

/// Reads `vitrine clv --out FILE.jsonl`; errors name the line.
pub fn parse(text: &str, name: &str) -> Result<Vec<Prediction>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{name}:{}: not a CLV prediction", i + 1)))
        .collect()
}

/// Expected-value buckets (GBP over the horizon): lower bounds, the last open-ended.
const VALUE_EDGES: [f64; 8] = [0.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0];

/// Short axis labels for the same buckets.
const VALUE_AXIS: [&str; 8] = ["£0–50", "£50–100", "£100–250", "£250–500", "£500–1k", "£1k–2.5k", "£2.5k–5k", "£5k+"];

/// The bucket labels: `£0–50`, …, `£5,000+`.
fn value_labels() -> Vec<String> {
    VALUE_EDGES
        .iter()
        .enumerate()
        .map(|(i, lo)| match VALUE_EDGES.get(i + 1) {
            Some(hi) => format!("{}–{}", money_whole(*lo), count(*hi)),
            None => format!("{}+", money_whole(*lo)),
        })
        .collect()
}

fn value_bin(v: f64) -> usize {
    VALUE_EDGES.iter().rposition(|lo| v >= *lo).unwrap_or(0)
}

/// The section: summary figures, the distribution of expected value and of the probability of
/// being alive, each with its table. Without predictions, a note says how to produce them.
pub fn section(predictions: Option<&[Prediction]>) -> String {
    let mut out =
        String::from(r#"<section class="section" id="clv" aria-labelledby="clv-h"><div class="section-head"><h2 id="clv-h">Customer lifetime value</h2>"#);
    let Some(p) = predictions.filter(|p| !p.is_empty()) else {
        out.push_str(r#"<p>Predictions from <code>vitrine clv</code> are not in this build.</p></div></section>"#);
        out.push('\n');
        return out;
    };
    let _ = write!(
        out,
        r#"<p>What each customer is expected to order in the next {HORIZON_DAYS} days (BG/NBD and Gamma-Gamma models fitted on the order history by <code>vitrine clv</code>), and how likely they are still a customer at all.</p></div>"#
    );
    let n = p.len() as f64;
    let total: f64 = p.iter().map(|c| c.expected_value).sum();
    let orders: f64 = p.iter().map(|c| c.expected_orders).sum();
    let mut values: Vec<f64> = p.iter().map(|c| c.expected_value).collect();
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    let at_risk = p.iter().filter(|c| c.p_alive < 0.5).count();
    // The top fifth's share of the expected value: how concentrated the shop's future is.
    let top: f64 = values.iter().rev().take(values.len().div_ceil(5)).sum();
    let _ = write!(
        out,
        concat!(
            r#"<ul class="kpi-tiles clv-tiles">"#,
            r#"<li class="kpi" data-kpi="clv-customers"><span class="kpi-label">Customers predicted</span><strong class="kpi-value">{}</strong></li>"#,
            r#"<li class="kpi" data-kpi="clv-total"><span class="kpi-label">Expected revenue, next {} days</span><strong class="kpi-value">{}</strong></li>"#,
            r#"<li class="kpi" data-kpi="clv-orders"><span class="kpi-label">Expected orders</span><strong class="kpi-value">{}</strong></li>"#,
            r#"<li class="kpi" data-kpi="clv-median"><span class="kpi-label">Median value per customer</span><strong class="kpi-value">{}</strong></li>"#,
            r#"<li class="kpi" data-kpi="clv-top"><span class="kpi-label">Share from the top 20 %</span><strong class="kpi-value">{}</strong></li>"#,
            r#"<li class="kpi" data-kpi="clv-at-risk"><span class="kpi-label">Probably gone (alive &lt; 50 %)</span><strong class="kpi-value">{}</strong></li>"#,
            "</ul>"
        ),
        count(n),
        HORIZON_DAYS,
        money_whole(total),
        count(orders),
        money(median),
        percent(if total > 0.0 { top / total } else { 0.0 }),
        count(at_risk as f64),
    );

    out.push_str(r#"<div class="chart-grid">"#);
    let labels = value_labels();
    let mut bins = vec![(0usize, 0.0f64); labels.len()];
    for c in p {
        let b = &mut bins[value_bin(c.expected_value)];
        b.0 += 1;
        b.1 += c.expected_value;
    }
    let hist: Vec<(String, String, f64)> = VALUE_AXIS.iter().zip(&labels).zip(&bins).map(|((a, l), b)| ((*a).to_string(), l.clone(), b.0 as f64)).collect();
    let heading = format!("Customers by expected value, next {HORIZON_DAYS} days");
    let chart = histogram("clv-value-chart", &heading, "Histogram: number of customers per band of expected value over the horizon.", &hist, COLOURS[0]);
    let mut table = String::from(
        r#"<table class="numbers"><caption>Customers by expected value</caption><thead><tr><th scope="col">Expected value</th><th scope="col" class="num">Customers</th><th scope="col" class="num">Expected revenue</th></tr></thead><tbody>"#,
    );
    for (l, b) in labels.iter().zip(&bins) {
        let _ = write!(
            table,
            r#"<tr><th scope="row">{}</th><td class="num" data-k="customers">{}</td><td class="num">{}</td></tr>"#,
            escape(l),
            count(b.0 as f64),
            money(b.1)
        );
    }
    table.push_str("</tbody></table>");
    out.push_str(&card("clv-value", &heading, "Most customers are worth little in the next months; a few are worth a lot.", &chart, &table));

    let mut alive = [0usize; 10];
    for c in p {
        alive[((c.p_alive.clamp(0.0, 1.0) * 10.0) as usize).min(9)] += 1;
    }
    let labels: Vec<String> = (0..10).map(|i| format!("{}–{} %", i * 10, i * 10 + 10)).collect();
    let hist: Vec<(String, String, f64)> =
        labels.iter().zip(alive).enumerate().map(|(i, (l, n))| (format!("{}–{}", i * 10, i * 10 + 10), l.clone(), n as f64)).collect();
    let heading = "Customers by probability of being alive (%)";
    let chart =
        histogram("clv-alive-chart", heading, "Histogram: number of customers per band of probability that they are still customers.", &hist, COLOURS[1]);
    let mut table = String::from(
        r#"<table class="numbers"><caption>Customers by probability of being alive</caption><thead><tr><th scope="col">Probability alive</th><th scope="col" class="num">Customers</th></tr></thead><tbody>"#,
    );
    for (l, n) in labels.iter().zip(alive) {
        let _ = write!(table, r#"<tr><th scope="row">{}</th><td class="num">{}</td></tr>"#, escape(l), count(n as f64));
    }
    table.push_str("</tbody></table>");
    out.push_str(&card("clv-alive", heading, "Low: the customer has probably left for good. High: still buying at their own pace.", &chart, &table));
    out.push_str("</div>");

    // The customers most worth a personal touch: high predicted value, at risk.
    let mut watch: Vec<&Prediction> = p.iter().filter(|c| c.p_alive < 0.5).collect();
    watch.sort_by(|a, b| b.expected_value.total_cmp(&a.expected_value).then(a.customer.cmp(&b.customer)));
    if !watch.is_empty() {
        out.push_str(r#"<details class="watch"><summary>The 10 most valuable customers who are probably leaving</summary><div class="table-scroll"><table class="numbers"><thead><tr><th scope="col">Customer</th><th scope="col" class="num">Expected orders</th><th scope="col" class="num">Expected value</th><th scope="col" class="num">Probability alive</th></tr></thead><tbody>"#);
        for c in watch.iter().take(10) {
            let _ = write!(
                out,
                r#"<tr><th scope="row">{}</th><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
                escape(&c.customer),
                decimal(c.expected_orders, 2),
                money(c.expected_value),
                percent(c.p_alive)
            );
        }
        out.push_str("</tbody></table></div></details>");
    }
    out.push_str("</section>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_contract_and_ignores_extra_fields() {
        let p = parse("{\"customer\":\"c-1\",\"expected_orders\":1.5,\"expected_value\":120.0,\"p_alive\":0.9,\"extra\":1}\n\n", "clv.jsonl").unwrap();
        assert_eq!((p[0].customer.as_str(), p[0].expected_value), ("c-1", 120.0));
        let e = parse("{\"customer\":\"c-1\"}\n", "clv.jsonl").unwrap_err();
        assert!(format!("{e:#}").starts_with("clv.jsonl:1:"), "{e:#}");
    }

    #[test]
    fn section_bins_and_escapes() {
        let p = vec![
            Prediction { customer: "<i>x</i>".into(), expected_orders: 0.2, expected_value: 30.0, p_alive: 0.2 },
            Prediction { customer: "b".into(), expected_orders: 3.0, expected_value: 6_000.0, p_alive: 0.95 },
        ];
        let html = section(Some(&p));
        assert!(html.contains(r#"data-kpi="clv-customers"><span class="kpi-label">Customers predicted</span><strong class="kpi-value">2</strong>"#));
        assert!(html.contains("£6,030"));
        assert!(html.contains("&lt;i&gt;x&lt;/i&gt;") && !html.contains("<i>x"));
        assert_eq!(value_bin(30.0), 0);
        assert_eq!(value_bin(6_000.0), VALUE_EDGES.len() - 1);
        assert!(section(None).contains("not in this build"));
    }
}
