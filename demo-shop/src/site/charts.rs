//! Charts for the insights page, drawn on the server as inline SVG: no JavaScript is needed to see
//! a number. Every chart has a title and description for screen readers, a `<title>` tooltip on
//! each mark, and the caller puts a table of its numbers beside it (see `insights.rs`).
//!
//! The charts scale with their container (`viewBox`, width 100 %). Their coordinate space is kept
//! narrow (560 units) so that labels stay legible on a phone, where it shrinks to about 350 px.

use std::fmt::Write as _;

use super::html::escape;

/// Chart width and height in SVG units.
const W: f64 = 560.0;
const H: f64 = 260.0;
/// Plot margins: left leaves room for y labels, bottom for x labels.
const LEFT: f64 = 64.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 34.0;

/// The series colours, told apart by lightness as well as hue.
pub const COLOURS: [&str; 4] = ["#b4532a", "#3d6fb4", "#2f7d4f", "#8a5cb8"];

/// How a chart's values are written on axes and in tooltips.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fmt {
    /// `£12,345` (axis) / `£12,345.67` (tooltip).
    Money,
    /// `1,234`.
    Count,
    /// `12.3 %` from a share in [0, 1].
    Percent,
}

impl Fmt {
    /// The full value, as tables and tooltips show it.
    pub fn full(self, v: f64) -> String {
        match self {
            Fmt::Money => money(v),
            Fmt::Count => count(v),
            Fmt::Percent => percent(v),
        }
    }

    /// A short axis label.
    fn axis(self, v: f64) -> String {
        match self {
            Fmt::Money if v.abs() >= 1_000_000.0 => format!("£{}m", trim_zero(v / 1_000_000.0)),
            Fmt::Money if v.abs() >= 1_000.0 => format!("£{}k", trim_zero(v / 1_000.0)),
            Fmt::Money => format!("£{}", count(v)),
            Fmt::Count if v.abs() >= 10_000.0 => format!("{}k", trim_zero(v / 1_000.0)),
            Fmt::Count => count(v),
            Fmt::Percent => format!("{} %", trim_zero(v * 100.0)),
        }
    }
}

/// `1.50` → `1.5`, `2.00` → `2`: axis ticks are round numbers.
fn trim_zero(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Groups an integer's digits in threes: `1234567` → `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1234.5` → `£1,234.50`, `-3` → `-£3.00` (as `Intl.NumberFormat('en-GB', GBP)` writes it).
pub fn money(v: f64) -> String {
    let cents = (v * 100.0).round();
    let sign = if cents < 0.0 { "-" } else { "" };
    let cents = cents.abs() as u64;
    format!("{sign}£{}.{:02}", group(cents / 100), cents % 100)
}

/// `1234.4` → `£1,234`: whole pounds, for tiles and axes.
pub fn money_whole(v: f64) -> String {
    let sign = if v.round() < 0.0 { "-" } else { "" };
    format!("{sign}£{}", group(v.abs().round() as u64))
}

/// `1234` → `1,234`.
pub fn count(v: f64) -> String {
    let sign = if v.round() < 0.0 { "-" } else { "" };
    format!("{sign}{}", group(v.abs().round() as u64))
}

/// `0.1234` → `12.3 %`.
pub fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// `v` with `places` decimals and grouped thousands.
pub fn decimal(v: f64, places: usize) -> String {
    let s = format!("{:.*}", places, v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let sign = if v < 0.0 && s.bytes().any(|b| (b'1'..=b'9').contains(&b)) { "-" } else { "" };
    let int = group(int.parse().unwrap_or(0));
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// Round tick values covering `[lo, hi]`: 1, 2 or 5 times a power of ten apart, about `n` of them.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = (hi - lo).max(f64::EPSILON);
    let raw = span / n.max(1) as f64;
    let pow = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * pow).find(|s| *s >= raw).unwrap_or(10.0 * pow);
    let first = (lo / step).floor();
    let mut out = Vec::new();
    // From the tick at or below `lo` to the first at or above `hi` (a small tolerance, so that
    // 0.1 + 0.2 counts as reaching 0.3); multiples of the step, not sums, to keep them round.
    for k in 0..20 {
        let t = (first + f64::from(k)) * step;
        out.push(t);
        if t >= hi - step * 1e-9 {
            break;
        }
    }
    out
}

/// One line of a line chart.
#[derive(Debug)]
pub struct Series<'a> {
    pub name: &'a str,
    /// One value per x label; `None` leaves a gap (a ratio over nothing).
    pub values: Vec<Option<f64>>,
}

/// The opening of every chart: an accessible, scalable SVG `height` units tall (the width is `W`)
/// with its title and description.
fn open(id: &str, title: &str, desc: &str, height: f64) -> String {
    format!(
        r#"<svg class="chart" viewBox="0 0 {W} {height}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        escape(title),
        escape(desc),
    )
}

/// The y axis: grid lines and labels for `ticks`, mapped by `y`.
fn y_axis(out: &mut String, ticks: &[f64], y: impl Fn(f64) -> f64, fmt: Fmt) {
    for &t in ticks {
        let py = y(t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{py:.1}" y2="{py:.1}"/><text class="tick" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - RIGHT,
            LEFT - 8.0,
            py + 4.0,
            escape(&fmt.axis(t)),
        );
    }
}

/// The value axis of a horizontal chart: vertical grid lines from `TOP` to `bottom` and their
/// labels for `ticks`, mapped by `x`; with `zero_axis`, the line at zero is drawn as the axis.
fn x_axis(out: &mut String, ticks: &[f64], x: impl Fn(f64) -> f64, bottom: f64, zero_axis: bool, label: impl Fn(f64) -> String) {
    for &t in ticks {
        let px = x(t);
        let class = if zero_axis && t.abs() < 1e-12 { "axis" } else { "grid" };
        let _ = write!(
            out,
            r#"<line class="{class}" x1="{px:.1}" x2="{px:.1}" y1="{TOP}" y2="{bottom}"/><text class="tick" x="{px:.1}" y="{}" text-anchor="middle">{}</text>"#,
            bottom + 18.0,
            escape(&label(t))
        );
    }
}

/// X labels under the plot, thinned so that they never overlap (every k-th, the last always).
/// Every other label shown is classed `alt`, which a phone's style sheet hides: the chart is
/// drawn once, and a narrow screen has room for half the labels.
fn x_labels(out: &mut String, labels: &[String], x: impl Fn(usize) -> f64) {
    let max = ((W - LEFT - RIGHT) / 46.0).floor() as usize;
    let every = labels.len().div_ceil(max.max(1)).max(1);
    let mut shown = 0;
    for (i, label) in labels.iter().enumerate() {
        // Every k-th label and the last, but none so close before the last that they overlap.
        let last = i + 1 == labels.len();
        if !last && (i % every != 0 || labels.len() - 1 - i < every) {
            continue;
        }
        let alt = if shown % 2 == 1 && labels.len() > 5 { " alt" } else { "" };
        shown += 1;
        let _ = write!(out, r#"<text class="tick{alt}" x="{:.1}" y="{}" text-anchor="middle">{}</text>"#, x(i), H - BOTTOM + 18.0, escape(label),);
    }
}

/// A line chart over `labels` (e.g. months) with one or more series, a legend when there are
/// several, and a tooltip on every point.
pub fn line_chart(id: &str, title: &str, desc: &str, labels: &[String], series: &[Series], fmt: Fmt) -> String {
    let values = series.iter().flat_map(|s| s.values.iter().flatten().copied());
    let (lo, hi) = values.fold((0.0f64, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let hi = if hi <= lo { lo + 1.0 } else { hi };
    let ticks = ticks(lo, hi, 4);
    let (t0, t1) = (ticks[0], ticks[ticks.len() - 1].max(hi));
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - (v - t0) / (t1 - t0));
    let n = labels.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            (LEFT + W - RIGHT) / 2.0
        } else {
            LEFT + 8.0 + (W - LEFT - RIGHT - 16.0) * i as f64 / (n - 1) as f64
        }
    };
    let mut out = open(id, title, desc, H);
    y_axis(&mut out, &ticks, y, fmt);
    let _ = write!(out, r#"<line class="axis" x1="{LEFT}" x2="{}" y1="{}" y2="{}"/>"#, W - RIGHT, H - BOTTOM, H - BOTTOM);
    x_labels(&mut out, labels, x);
    for (k, s) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        // A gap (None) ends one path and starts the next.
        let mut d = String::new();
        let mut pen_down = false;
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(d, "{}{:.1} {:.1}", if pen_down { "L" } else { "M" }, x(i), y(*v));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let _ = write!(out, r#"<path class="line" d="{d}" stroke="{colour}"/>"#);
        for (i, v) in s.values.iter().enumerate() {
            if let Some(v) = v {
                let label = labels.get(i).map_or("", String::as_str);
                let _ = write!(
                    out,
                    r#"<circle class="dot" cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"><title>{}</title></circle>"#,
                    x(i),
                    y(*v),
                    escape(&format!("{}, {label}: {}", s.name, fmt.full(*v))),
                );
            }
        }
    }
    out.push_str("</svg>");
    if series.len() > 1 {
        out.push_str(&legend(series.iter().map(|s| s.name)));
    }
    out
}

/// The legend under a chart (HTML, so it wraps on a phone).
pub fn legend<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::from(r#"<ul class="legend">"#);
    for (k, name) in names.enumerate() {
        let _ = write!(out, r#"<li><span class="swatch" style="background:{}"></span>{}</li>"#, COLOURS[k % COLOURS.len()], escape(name));
    }
    out.push_str("</ul>");
    out
}

/// Horizontal bars, one per (label, value), largest scale first as given; for distributions
/// over named buckets (lifecycle stages, RFM segments). Negative values draw leftwards of zero.
pub fn bar_chart(id: &str, title: &str, desc: &str, bars: &[(String, f64)], fmt: Fmt) -> String {
    let row = 24.0;
    let height = TOP + row * bars.len() as f64 + BOTTOM;
    let label_w = 150.0;
    let lo = bars.iter().map(|b| b.1).fold(0.0f64, f64::min);
    let hi = bars.iter().map(|b| b.1).fold(0.0f64, f64::max).max(lo + 1.0);
    let ticks = ticks(lo, hi, 4);
    let (t0, t1) = (ticks[0], ticks[ticks.len() - 1].max(hi));
    let x = |v: f64| label_w + (W - label_w - RIGHT - 8.0) * (v - t0) / (t1 - t0);
    let mut out = open(id, title, desc, height);
    let bottom = height - BOTTOM;
    x_axis(&mut out, &ticks, x, bottom, false, |t| fmt.axis(t));
    for (i, (label, v)) in bars.iter().enumerate() {
        let top = TOP + row * i as f64 + 4.0;
        let (a, b) = (x(0.0).min(x(*v)), x(0.0).max(x(*v)));
        let _ = write!(
            out,
            r#"<text class="label" x="{}" y="{:.1}" text-anchor="end">{}</text><rect class="bar" x="{a:.1}" y="{top:.1}" width="{:.1}" height="{}" fill="{}"><title>{}</title></rect>"#,
            label_w - 8.0,
            top + row / 2.0 + 2.0,
            escape(label),
            (b - a).max(0.5),
            row - 8.0,
            if *v < 0.0 { "#a33b3b" } else { COLOURS[0] },
            escape(&format!("{label}: {}", fmt.full(*v))),
        );
    }
    out.push_str("</svg>");
    out
}

/// Vertical columns over ordered buckets (a histogram): `(axis label, full label, count)`; the
/// axis label is short (`£1k–2.5k`), the full one goes in the tooltip.
pub fn histogram(id: &str, title: &str, desc: &str, bins: &[(String, String, f64)], colour: &str) -> String {
    let hi = bins.iter().map(|b| b.2).fold(0.0f64, f64::max).max(1.0);
    let ticks = ticks(0.0, hi, 4);
    let t1 = ticks[ticks.len() - 1].max(hi);
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - v / t1);
    let n = bins.len().max(1) as f64;
    let slot = (W - LEFT - RIGHT) / n;
    let x = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let mut out = open(id, title, desc, H);
    y_axis(&mut out, &ticks, y, Fmt::Count);
    let labels: Vec<String> = bins.iter().map(|b| b.0.clone()).collect();
    x_labels(&mut out, &labels, x);
    for (i, (_, label, v)) in bins.iter().enumerate() {
        let top = y(*v);
        let _ = write!(
            out,
            r#"<rect class="bar" x="{:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{}</title></rect>"#,
            x(i) - slot * 0.4,
            slot * 0.8,
            (H - BOTTOM - top).max(0.0),
            escape(&format!("{label}: {}", count(*v))),
        );
    }
    let _ = write!(out, r#"<line class="axis" x1="{LEFT}" x2="{}" y1="{}" y2="{}"/>"#, W - RIGHT, H - BOTTOM, H - BOTTOM);
    out.push_str("</svg>");
    out
}

/// An interval plot: each row an estimate with its 95 % interval, against a zero line and an
/// optional reference (what the simulation planted). Values are shares (percentage points).
pub fn interval_chart(id: &str, title: &str, desc: &str, rows: &[(String, f64, f64, f64)], reference: Option<(&str, f64)>) -> String {
    let row = 40.0;
    let height = TOP + row * rows.len() as f64 + BOTTOM;
    let label_w = 130.0;
    let mut lo = rows.iter().map(|r| r.2).fold(0.0f64, f64::min);
    let mut hi = rows.iter().map(|r| r.3).fold(0.0f64, f64::max);
    if let Some((_, r)) = reference {
        lo = lo.min(r);
        hi = hi.max(r);
    }
    let ticks = ticks(lo, hi.max(lo + 0.01), 4);
    let (t0, t1) = (ticks[0], ticks[ticks.len() - 1].max(hi));
    let x = |v: f64| label_w + (W - label_w - RIGHT - 8.0) * (v - t0) / (t1 - t0);
    let mut out = open(id, title, desc, height);
    let bottom = height - BOTTOM;
    x_axis(&mut out, &ticks, x, bottom, true, axis_points);
    if let Some((name, r)) = reference {
        let px = x(r);
        let _ = write!(
            out,
            r#"<line class="planted" x1="{px:.1}" x2="{px:.1}" y1="{TOP}" y2="{bottom}"><title>{}</title></line>"#,
            escape(&format!("{name}: {}", points(r)))
        );
    }
    for (i, (label, est, a, b)) in rows.iter().enumerate() {
        let cy = TOP + row * i as f64 + row / 2.0;
        let _ = write!(
            out,
            r#"<text class="label" x="{}" y="{:.1}" text-anchor="end">{}</text><g><title>{}</title><line class="ci" x1="{:.1}" x2="{:.1}" y1="{cy:.1}" y2="{cy:.1}" stroke="{c}"/><line class="ci" x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{c}"/><line class="ci" x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{c}"/><circle cx="{:.1}" cy="{cy:.1}" r="6" fill="{c}"/></g>"#,
            label_w - 10.0,
            cy + 4.0,
            escape(label),
            escape(&format!("{label}: {} (95 % interval {} to {})", points(*est), points(*a), points(*b))),
            x(*a),
            x(*b),
            x(*a),
            x(*a),
            cy - 7.0,
            cy + 7.0,
            x(*b),
            x(*b),
            cy - 7.0,
            cy + 7.0,
            x(*est),
            c = COLOURS[i % COLOURS.len()],
        );
    }
    out.push_str("</svg>");
    out
}

/// An axis label in percentage points, without the unit (the caption says it): `0.1` → `+10`.
fn axis_points(d: f64) -> String {
    let v = (d * 100.0 * 10.0).round() / 10.0;
    if v == 0.0 {
        "0".into()
    } else {
        format!("{}{}", if v > 0.0 { "+" } else { "−" }, trim_zero(v.abs()))
    }
}

/// A difference of shares in percentage points: `0.0312` → `+3.1 pts`.
pub fn points(d: f64) -> String {
    let v = d * 100.0;
    if v.abs() < 0.05 {
        "0.0 pts".into()
    } else {
        format!("{v:+.1} pts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_humans() {
        let cases = [
            (money(1234.5), "£1,234.50"),
            (money(-3.0), "-£3.00"),
            (money(0.004), "£0.00"),
            (money(9_792_310.43), "£9,792,310.43"),
            (money_whole(1234.5), "£1,235"),
            (count(1_234_567.0), "1,234,567"),
            (count(12.0), "12"),
            (percent(0.1234), "12.3 %"),
            (decimal(1234.567, 2), "1,234.57"),
            (decimal(-0.001, 2), "0.00"),
            (points(0.0312), "+3.1 pts"),
            (points(-0.004), "-0.4 pts"),
            (Fmt::Money.axis(250_000.0), "£250k"),
            (Fmt::Money.axis(1_500_000.0), "£1.5m"),
            (Fmt::Percent.axis(0.25), "25 %"),
        ];
        for (got, expected) in cases {
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 9.3, 4), [0.0, 5.0, 10.0]);
        assert_eq!(ticks(0.0, 7.0, 4), [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(ticks(0.0, 1_432_731.7, 4), [0.0, 500_000.0, 1_000_000.0, 1_500_000.0]);
        let t = ticks(-0.05, 0.12, 5);
        assert!(t[0] <= -0.05 && *t.last().unwrap() >= 0.12, "{t:?}");
    }

    #[test]
    fn charts_escape_their_text_and_give_every_mark_a_tooltip() {
        let labels = vec!["<b>".to_string(), "Feb".to_string()];
        let svg = line_chart("c", "Revenue & more", "desc", &labels, &[Series { name: "a\"b", values: vec![Some(1.0), None] }], Fmt::Money);
        assert!(svg.contains("<title id=\"c-t\">Revenue &amp; more</title>"));
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
        assert!(svg.contains("<title>a&quot;b, &lt;b&gt;: £1.00</title>"));
        assert_eq!(svg.matches("<circle").count(), 1, "a gap draws no point");
        let bars = bar_chart("b", "t", "d", &[("x<".into(), 5.0), ("y".into(), -2.0)], Fmt::Money);
        assert_eq!(bars.matches("<rect").count(), 2);
        assert!(bars.contains("x&lt;: £5.00"));
        let hist = histogram("h", "t", "d", &[("0–10".into(), "0–10 %".into(), 3.0)], COLOURS[1]);
        assert!(hist.contains("<title>0–10 %: 3</title>") && hist.contains(">0–10</text>"));
        let ci = interval_chart("i", "t", "d", &[("winback".into(), 0.03, -0.01, 0.07)], Some(("planted", 0.03)));
        assert!(ci.contains("winback: +3.0 pts (95 % interval -1.0 pts to +7.0 pts)"));
    }
}
