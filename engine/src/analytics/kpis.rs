//! Shop KPIs from an order export, per month, ISO week or quarter: orders, revenue, average order
//! value, active, new and returning customers, purchase frequency, repeat purchase rate, days
//! between orders, churn, revenue by lifecycle stage and by RFM segment, and the monthly cohort
//! retention matrix (docs/kpis.md has every definition).
//!
//! Nothing here redefines what `vitrine profiles` already defines. Lines count as
//! [`OrderLine::kind`] says (cancellations net out of revenue, service codes and invalid lines are
//! no orders), and a customer's lifecycle stage and RFM scores at any moment are the ones
//! `vitrine profiles --now <that moment>` would give them: one call of the shared
//! `orders::standings` per period boundary, over the orders up to it. Churn is read off those
//! stages. Pure like the rest of the engine: `now` is an option, nothing is read or written.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use vitrine_cel::{civil_from_days, days_from_civil};

use crate::base::error::V1;
use crate::base::time::Seconds;
use crate::data::orders::{self, Facts, LifecycleRules, LineKind, OrderLine, RfmSegment};
use crate::data::profile::Stage;

const DAY: Seconds = 86_400;

/// The revenue bucket of customers without an order before the period (their first orders).
pub const FIRST_ORDER: &str = "first_order";
/// The revenue bucket of lines without a customer.
pub const GUEST: &str = "guest";

/// The length of a row of the KPI table. Periods are calendar periods in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Calendar months, `2011-03`.
    Month,
    /// ISO 8601 weeks, Monday to Sunday, named by their ISO year, `2011-W09`.
    Week,
    /// Calendar quarters, `2011-Q1`.
    Quarter,
}

impl Period {
    pub const NAMES: [&'static str; 3] = ["month", "week", "quarter"];

    pub fn parse(name: &str) -> Option<Period> {
        match name {
            "month" => Some(Period::Month),
            "week" => Some(Period::Week),
            "quarter" => Some(Period::Quarter),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Week => "week",
            Period::Quarter => "quarter",
        }
    }

    /// The start of the period that holds `t`.
    pub fn start(self, t: Seconds) -> Seconds {
        let days = t.div_euclid(DAY);
        let (y, m, _) = civil_from_days(days);
        let first = match self {
            Period::Month => days_from_civil(y, m, 1),
            Period::Quarter => days_from_civil(y, (m - 1) / 3 * 3 + 1, 1),
            // 1970-01-01 was a Thursday: Monday is 3 days before it.
            Period::Week => days - (days + 3).rem_euclid(7),
        };
        first * DAY
    }

    /// The start of the period after the one starting at `start`.
    pub fn next(self, start: Seconds) -> Seconds {
        let days = start.div_euclid(DAY);
        let (y, m, _) = civil_from_days(days);
        let months_later = |k: i64| {
            let i = y * 12 + (m - 1) + k;
            days_from_civil(i.div_euclid(12), i.rem_euclid(12) + 1, 1)
        };
        let next = match self {
            Period::Month => months_later(1),
            Period::Quarter => months_later(3),
            Period::Week => days + 7,
        };
        next * DAY
    }

    /// The name of the period starting at `start`: `2011-03`, `2011-W09`, `2011-Q1`.
    pub fn label(self, start: Seconds) -> String {
        let days = start.div_euclid(DAY);
        let (y, m, _) = civil_from_days(days);
        match self {
            Period::Month => format!("{y:04}-{m:02}"),
            Period::Quarter => format!("{y:04}-Q{}", (m - 1) / 3 + 1),
            Period::Week => {
                // An ISO week belongs to the year of its Thursday, and week 1 holds the year's first Thursday.
                let thursday = days - (days + 3).rem_euclid(7) + 3;
                let (year, _, _) = civil_from_days(thursday);
                let week = (thursday - days_from_civil(year, 1, 1)) / 7 + 1;
                format!("{year:04}-W{week:02}")
            }
        }
    }
}

/// Which lines are merchandise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Products {
    /// Stock codes that start with a digit, as `vitrine profiles` without a catalog: Online Retail
    /// mixes postage and fees into its lines as word codes (POST, DOT, M, BANK CHARGES, ...).
    DigitCodes,
    /// Every line: shop exports (Shopify, Shopware) keep shipping and fees out of their lines.
    All,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KpiOptions {
    pub period: Period,
    /// The end of the data: lines after it are left out (as `profiles --now` does), and the last
    /// period's standing is taken at it. `None`: the latest line's time.
    pub now: Option<Seconds>,
    /// The lifecycle thresholds, as `vitrine profiles` takes them.
    pub lifecycle: LifecycleRules,
    pub products: Products,
}

impl Default for KpiOptions {
    fn default() -> Self {
        KpiOptions { period: Period::Month, now: None, lifecycle: LifecycleRules::default(), products: Products::DigitCodes }
    }
}

/// What the lines counted for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LineStats {
    pub lines: usize,
    pub purchase_lines: usize,
    pub cancellation_lines: usize,
    pub non_product_lines: usize,
    pub invalid_lines: usize,
    pub future_lines: usize,
    /// Lines without a customer, of any kind: in orders and revenue, in no customer count.
    pub guest_lines: usize,
}

/// The KPI report (the JSON `vitrine kpis` writes).
#[derive(Debug, Clone, Serialize)]
pub struct Kpis {
    pub v: V1,
    pub period: &'static str,
    /// The end of the data (`--now`, else the latest line).
    #[serde(serialize_with = "crate::base::time::rfc3339_opt::serialize")]
    pub as_of: Option<Seconds>,
    pub lines: LineStats,
    /// The whole range as one period (`"all"`); `None` without any order or cancellation.
    pub totals: Option<PeriodKpis>,
    /// Every period from the first order's to `as_of`'s, empty ones included.
    pub periods: Vec<PeriodKpis>,
    /// One row per first-order month, oldest first.
    pub cohorts: Vec<Cohort>,
}

/// One row of the KPI table. Money is rounded to cents, shares and averages to four decimals; a
/// ratio over nothing is `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodKpis {
    pub period: String,
    #[serde(with = "crate::base::time::rfc3339")]
    pub start: Seconds,
    /// Exclusive.
    #[serde(with = "crate::base::time::rfc3339")]
    pub end: Seconds,
    /// Orders (invoices with at least one purchase line) placed in the period, guests' included.
    pub orders: u64,
    pub customer_orders: u64,
    pub guest_orders: u64,
    /// `gross_revenue` − `cancellations`.
    pub revenue: f64,
    /// The value of the period's orders.
    pub gross_revenue: f64,
    /// The value of cancellation lines dated in the period (a positive amount).
    pub cancellations: f64,
    /// `gross_revenue` / `orders`.
    pub aov: Option<f64>,
    /// Active customers: customers with an order in the period.
    pub customers: u64,
    /// Active customers whose first order ever is in the period.
    pub new_customers: u64,
    /// Active customers with an order before the period.
    pub returning_customers: u64,
    /// Active customers with two or more orders in the period.
    pub repeat_customers: u64,
    /// `customer_orders` / `customers`.
    pub purchase_frequency: Option<f64>,
    /// `repeat_customers` / `customers`.
    pub repeat_purchase_rate: Option<f64>,
    /// The median, in days, of the gaps between a customer's consecutive purchase days, over the
    /// gaps that end in the period.
    pub median_days_between_orders: Option<f64>,
    pub churn: Churn,
    /// Customers per lifecycle stage at the period's end (stage names as in profile snapshots).
    pub stages: BTreeMap<&'static str, u64>,
    /// Revenue by each customer's lifecycle stage at the period's start, plus `first_order` and `guest`.
    pub revenue_by_stage: BTreeMap<&'static str, f64>,
    /// Revenue by each customer's RFM segment at the period's start, plus `first_order` and `guest`.
    pub revenue_by_rfm: BTreeMap<&'static str, f64>,
}

/// Churn read off the lifecycle stages at the period's start and end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Churn {
    /// Customers whose stage at the start was new, active, loyal or at risk.
    pub live_at_start: u64,
    /// Of those, the ones lapsed or churned at the end.
    pub lost: u64,
    /// `lost` / `live_at_start`.
    pub rate: Option<f64>,
    /// Customers lapsed or churned at the start who ordered in the period.
    pub reactivated: u64,
}

/// One row of the cohort retention matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    /// The month of the customers' first order, `2011-03`.
    pub cohort: String,
    pub customers: u64,
    /// `active[k]`: the cohort's customers with an order k months after the cohort month (k = 0
    /// is the cohort month itself, so it equals `customers`), up to the month of `as_of`.
    pub active: Vec<u64>,
    /// `active[k]` / `customers`.
    pub retention: Vec<f64>,
}

/// A customer's orders and the values that count against their revenue, both by time.
#[derive(Default)]
struct Customer {
    /// Order times (an order's time is its earliest line's), sorted.
    orders: Vec<Seconds>,
    /// (time, value) of purchase and cancellation lines, sorted by time.
    lines: Vec<(Seconds, f64)>,
    /// `net[i]`: the sum of the values of `lines[..i]`.
    net: Vec<f64>,
}

impl Customer {
    /// What `vitrine profiles --now t` would see of this customer; `None` before their first order.
    fn facts(&self, t: Seconds) -> Option<Facts> {
        let k = self.orders.partition_point(|&o| o <= t);
        (k > 0).then(|| Facts::of(&self.orders[..k], self.net[self.lines.partition_point(|l| l.0 <= t)], t))
    }
}

struct Order {
    time: Seconds,
    customer: Option<usize>,
    value: f64,
}

/// Stage and RFM segment per customer at one moment; `None` for customers without an order yet.
type Standings = Vec<Option<(Stage, RfmSegment)>>;

fn standings_at(customers: &[Customer], t: Seconds, rules: &LifecycleRules) -> Standings {
    let (who, facts): (Vec<usize>, Vec<Facts>) = customers.iter().enumerate().filter_map(|(i, c)| Some((i, c.facts(t)?))).unzip();
    let mut out = vec![None; customers.len()];
    for (i, s) in who.into_iter().zip(orders::standings(&facts, rules)) {
        out[i] = Some((s.stage, RfmSegment::of(s.r, s.f)));
    }
    out
}

fn is_gone(stage: Stage) -> bool {
    matches!(stage, Stage::Lapsed | Stage::Churned)
}

/// The KPIs of `lines` per `options.period`.
pub fn compute(lines: &[OrderLine], options: &KpiOptions) -> Kpis {
    let mut stats = LineStats { lines: lines.len(), ..LineStats::default() };
    let now = options.now.or_else(|| lines.iter().map(|l| l.time).max());
    let mut report = Kpis { v: V1, period: options.period.as_str(), as_of: now, lines: stats.clone(), totals: None, periods: Vec::new(), cohorts: Vec::new() };
    let Some(now) = now else { return report };
    let is_product = |code: &str| options.products == Products::All || orders::is_product(code, None);

    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut customers: Vec<Customer> = Vec::new();
    let mut order_index: HashMap<(Option<usize>, &str), usize> = HashMap::new();
    let mut order_list: Vec<Order> = Vec::new();
    let mut cancellations: Vec<(Seconds, Option<usize>, f64)> = Vec::new();
    for l in lines {
        let kind = l.kind(now, is_product);
        let customer = match (&kind, l.visitor()) {
            (_, None) => {
                stats.guest_lines += 1;
                None
            }
            (LineKind::Purchase(_) | LineKind::Cancellation(_), Some(id)) => Some(*ids.entry(id).or_insert_with(|| {
                customers.push(Customer::default());
                customers.len() - 1
            })),
            (_, Some(_)) => None,
        };
        match kind {
            LineKind::Future => stats.future_lines += 1,
            LineKind::NonProduct => stats.non_product_lines += 1,
            LineKind::Invalid => stats.invalid_lines += 1,
            LineKind::Cancellation(value) => {
                stats.cancellation_lines += 1;
                cancellations.push((l.time, customer, value));
                if let Some(c) = customer {
                    customers[c].lines.push((l.time, value));
                }
            }
            LineKind::Purchase(value) => {
                stats.purchase_lines += 1;
                // As in profiles, an order is one customer's invoice.
                let i = *order_index.entry((customer, l.invoice.as_str())).or_insert_with(|| {
                    order_list.push(Order { time: l.time, customer, value: 0.0 });
                    order_list.len() - 1
                });
                let o = &mut order_list[i];
                o.time = o.time.min(l.time);
                o.value += value;
                if let Some(c) = customer {
                    customers[c].lines.push((l.time, value));
                }
            }
        }
    }
    report.lines = stats;
    for o in &order_list {
        if let Some(c) = o.customer {
            customers[c].orders.push(o.time);
        }
    }
    for c in &mut customers {
        c.orders.sort_unstable();
        c.lines.sort_by_key(|l| l.0);
        c.net = std::iter::once(0.0)
            .chain(c.lines.iter().scan(0.0, |sum, l| {
                *sum += l.1;
                Some(*sum)
            }))
            .collect();
    }
    let Some(first) = order_list.iter().map(|o| o.time).chain(cancellations.iter().map(|c| c.0)).min() else { return report };

    let period = options.period;
    let mut starts = vec![period.start(first)];
    while let Some(&last) = starts.last() {
        let next = period.next(last);
        if next > now {
            break;
        }
        starts.push(next);
    }
    let end = period.next(starts[starts.len() - 1]);
    // A period's standing at its start is the one as of the second before it (the orders before
    // the period); at its end, as of its last second, or `now` for the last period.
    let mut moments: Vec<Seconds> = starts.iter().map(|s| s - 1).collect();
    moments.push(now);
    let standings: Vec<Standings> = moments.iter().map(|&t| standings_at(&customers, t, &options.lifecycle)).collect();
    let data = Data { customers: &customers, orders: &order_list, cancellations: &cancellations };

    report.periods = data.table(&starts, end, &standings, |s| period.label(s));
    let whole = [standings[0].clone(), standings[standings.len() - 1].clone()];
    report.totals = data.table(&starts[..1], end, &whole, |_| "all".to_owned()).pop();
    report.cohorts = cohorts(&customers, now);
    report
}

struct Data<'a> {
    customers: &'a [Customer],
    orders: &'a [Order],
    cancellations: &'a [(Seconds, Option<usize>, f64)],
}

#[derive(Default)]
struct Acc {
    orders: u64,
    customer_orders: u64,
    gross: f64,
    cancelled: f64,
    customers: u64,
    new_customers: u64,
    repeat_customers: u64,
    reactivated: u64,
    gaps: Vec<f64>,
    by_stage: BTreeMap<&'static str, f64>,
    by_rfm: BTreeMap<&'static str, f64>,
}

impl Data<'_> {
    /// One row per period starting at `starts` (the last ending at `end`); `standings[i]` is the
    /// standing at the start of period i, `standings[i + 1]` at its end.
    fn table(&self, starts: &[Seconds], end: Seconds, standings: &[Standings], label: impl Fn(Seconds) -> String) -> Vec<PeriodKpis> {
        let index = |t: Seconds| starts.partition_point(|&s| s <= t).saturating_sub(1);
        let mut acc: Vec<Acc> = starts
            .iter()
            .map(|_| {
                let mut a = Acc::default();
                for key in Stage::ALL.iter().map(|s| s.as_str()).chain([FIRST_ORDER, GUEST]) {
                    a.by_stage.insert(key, 0.0);
                }
                for key in RfmSegment::ALL.iter().map(|s| s.as_str()).chain([FIRST_ORDER, GUEST]) {
                    a.by_rfm.insert(key, 0.0);
                }
                a
            })
            .collect();
        let buckets = |p: usize, customer: Option<usize>| match customer {
            None => (GUEST, GUEST),
            Some(c) => match standings[p][c] {
                Some((stage, segment)) => (stage.as_str(), segment.as_str()),
                None => (FIRST_ORDER, FIRST_ORDER),
            },
        };
        for o in self.orders {
            let p = index(o.time);
            let a = &mut acc[p];
            a.orders += 1;
            a.customer_orders += u64::from(o.customer.is_some());
            a.gross += o.value;
            let (stage, segment) = buckets(p, o.customer);
            *a.by_stage.entry(stage).or_default() += o.value;
            *a.by_rfm.entry(segment).or_default() += o.value;
        }
        for &(time, customer, value) in self.cancellations {
            let p = index(time);
            let a = &mut acc[p];
            a.cancelled -= value;
            let (stage, segment) = buckets(p, customer);
            *a.by_stage.entry(stage).or_default() += value;
            *a.by_rfm.entry(segment).or_default() += value;
        }
        let mut churn: Vec<(u64, u64)> = vec![(0, 0); starts.len()];
        let mut stages: Vec<BTreeMap<&'static str, u64>> = vec![Stage::ALL.iter().map(|s| (s.as_str(), 0)).collect(); starts.len()];
        for (c, customer) in self.customers.iter().enumerate() {
            // Orders are sorted, so each period's orders are one run.
            let first_period = customer.orders.first().map(|&t| index(t));
            let mut i = 0;
            while i < customer.orders.len() {
                let p = index(customer.orders[i]);
                let n = customer.orders[i..].iter().take_while(|&&t| index(t) == p).count();
                let a = &mut acc[p];
                a.customers += 1;
                a.new_customers += u64::from(first_period == Some(p));
                a.repeat_customers += u64::from(n >= 2);
                a.reactivated += u64::from(standings[p][c].is_some_and(|(s, _)| is_gone(s)));
                i += n;
            }
            // Gaps between purchase days, as the lifecycle's rhythm measures them.
            let mut days: Vec<i64> = customer.orders.iter().map(|t| t.div_euclid(DAY)).collect();
            days.dedup();
            for w in days.windows(2) {
                acc[index(w[1] * DAY)].gaps.push((w[1] - w[0]) as f64);
            }
            for p in 0..starts.len() {
                if let Some((stage, _)) = standings[p + 1][c] {
                    *stages[p].entry(stage.as_str()).or_default() += 1;
                }
                if standings[p][c].is_some_and(|(s, _)| !is_gone(s)) {
                    churn[p].0 += 1;
                    churn[p].1 += u64::from(standings[p + 1][c].is_some_and(|(s, _)| is_gone(s)));
                }
            }
        }
        acc.into_iter()
            .zip(churn)
            .zip(stages)
            .enumerate()
            .map(|(p, ((mut a, (live, lost)), stages))| {
                let revenue = a.gross - a.cancelled;
                PeriodKpis {
                    period: label(starts[p]),
                    start: starts[p],
                    end: starts.get(p + 1).copied().unwrap_or(end),
                    orders: a.orders,
                    customer_orders: a.customer_orders,
                    guest_orders: a.orders - a.customer_orders,
                    revenue: cents(revenue),
                    gross_revenue: cents(a.gross),
                    cancellations: cents(a.cancelled),
                    aov: ratio(a.gross, a.orders as f64).map(cents),
                    customers: a.customers,
                    new_customers: a.new_customers,
                    returning_customers: a.customers - a.new_customers,
                    repeat_customers: a.repeat_customers,
                    purchase_frequency: ratio(a.customer_orders as f64, a.customers as f64).map(four),
                    repeat_purchase_rate: ratio(a.repeat_customers as f64, a.customers as f64).map(four),
                    median_days_between_orders: orders::median(&mut a.gaps),
                    churn: Churn { live_at_start: live, lost, rate: ratio(lost as f64, live as f64).map(four), reactivated: a.reactivated },
                    stages,
                    revenue_by_stage: a.by_stage.into_iter().map(|(k, v)| (k, cents(v))).collect(),
                    revenue_by_rfm: a.by_rfm.into_iter().map(|(k, v)| (k, cents(v))).collect(),
                }
            })
            .collect()
    }
}

/// The monthly cohort retention matrix.
fn cohorts(customers: &[Customer], now: Seconds) -> Vec<Cohort> {
    let month = |t: Seconds| {
        let (y, m, _) = civil_from_days(t.div_euclid(DAY));
        y * 12 + m - 1
    };
    let last = month(now);
    let mut rows: BTreeMap<i64, (u64, Vec<u64>)> = BTreeMap::new();
    for c in customers {
        let Some(&first) = c.orders.first() else { continue };
        let cohort = month(first);
        let row = rows.entry(cohort).or_insert_with(|| (0, vec![0; (last - cohort + 1).max(1) as usize]));
        row.0 += 1;
        let mut months: Vec<i64> = c.orders.iter().map(|&t| month(t) - cohort).collect();
        months.dedup();
        for k in months {
            if let Some(n) = row.1.get_mut(k as usize) {
                *n += 1;
            }
        }
    }
    rows.into_iter()
        .map(|(cohort, (customers, active))| Cohort {
            cohort: format!("{:04}-{:02}", cohort.div_euclid(12), cohort.rem_euclid(12) + 1),
            customers,
            retention: active.iter().map(|&n| four(n as f64 / customers as f64)).collect(),
            active,
        })
        .collect()
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

/// Rounded to cents (and never `-0`).
fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0 + 0.0
}

fn four(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0 + 0.0
}

impl Kpis {
    /// The per-period table as CSV rows, the header first: the JSON's scalar fields, then
    /// `churn_*`, `stage_<stage>`, `revenue_stage_<bucket>` and `revenue_rfm_<bucket>` columns.
    pub fn period_rows(&self) -> Vec<Vec<String>> {
        let mut header: Vec<String> = [
            "period",
            "start",
            "end",
            "orders",
            "customer_orders",
            "guest_orders",
            "revenue",
            "gross_revenue",
            "cancellations",
            "aov",
            "customers",
            "new_customers",
            "returning_customers",
            "repeat_customers",
            "purchase_frequency",
            "repeat_purchase_rate",
            "median_days_between_orders",
            "churn_live_at_start",
            "churn_lost",
            "churn_rate",
            "churn_reactivated",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let stage_keys: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
        let stage_buckets: Vec<&str> = stage_keys.iter().copied().chain([FIRST_ORDER, GUEST]).collect();
        let rfm_buckets: Vec<&str> = RfmSegment::ALL.iter().map(|s| s.as_str()).chain([FIRST_ORDER, GUEST]).collect();
        header.extend(stage_keys.iter().map(|k| format!("stage_{k}")));
        header.extend(stage_buckets.iter().map(|k| format!("revenue_stage_{k}")));
        header.extend(rfm_buckets.iter().map(|k| format!("revenue_rfm_{k}")));
        let opt = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
        let mut rows = vec![header];
        for p in &self.periods {
            let mut row = vec![
                p.period.clone(),
                crate::base::time::format(p.start),
                crate::base::time::format(p.end),
                p.orders.to_string(),
                p.customer_orders.to_string(),
                p.guest_orders.to_string(),
                p.revenue.to_string(),
                p.gross_revenue.to_string(),
                p.cancellations.to_string(),
                opt(p.aov),
                p.customers.to_string(),
                p.new_customers.to_string(),
                p.returning_customers.to_string(),
                p.repeat_customers.to_string(),
                opt(p.purchase_frequency),
                opt(p.repeat_purchase_rate),
                opt(p.median_days_between_orders),
                p.churn.live_at_start.to_string(),
                p.churn.lost.to_string(),
                opt(p.churn.rate),
                p.churn.reactivated.to_string(),
            ];
            row.extend(stage_keys.iter().map(|k| p.stages.get(k).copied().unwrap_or(0).to_string()));
            row.extend(stage_buckets.iter().map(|k| p.revenue_by_stage.get(k).copied().unwrap_or(0.0).to_string()));
            row.extend(rfm_buckets.iter().map(|k| p.revenue_by_rfm.get(k).copied().unwrap_or(0.0).to_string()));
            rows.push(row);
        }
        rows
    }

    /// The cohort matrix as CSV rows, the header first: `cohort`, `customers`, then the retention
    /// share `m0`, `m1`, ... months after the first order (empty past `as_of`).
    pub fn cohort_rows(&self) -> Vec<Vec<String>> {
        let width = self.cohorts.iter().map(|c| c.retention.len()).max().unwrap_or(0);
        let mut rows = vec![["cohort", "customers"].iter().map(|s| (*s).to_owned()).chain((0..width).map(|k| format!("m{k}"))).collect()];
        for c in &self.cohorts {
            let mut row = vec![c.cohort.clone(), c.customers.to_string()];
            row.extend((0..width).map(|k| c.retention.get(k).map(|r| r.to_string()).unwrap_or_default()));
            rows.push(row);
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::orders::{build_profiles, ProfileRules};

    fn at(s: &str) -> Seconds {
        crate::base::time::parse_export(s).unwrap()
    }

    fn line(invoice: &str, code: &str, qty: f64, time: &str, price: f64, customer: Option<&str>) -> OrderLine {
        OrderLine {
            invoice: invoice.into(),
            stock_code: code.into(),
            quantity: qty,
            time: at(time),
            unit_price: price,
            customer: customer.map(Into::into),
            country: "United Kingdom".into(),
        }
    }

    /// Four customers and a guest over January to April 2011; docs/kpis.md works this example.
    /// A buys on Jan 3 and 10, Feb 7, Mar 7 (10.00 each) and cancels 10.00 on Feb 20; B on Jan 5
    /// (20.00) and Apr 4 (30.00); C twice on Feb 14 (invoices K1, K2: 25.00 each; an invoice
    /// starting with C is a cancellation); D on Mar 1 and 20 (40.00 each);
    /// a guest on Jan 15 (100.00). Postage, a zero quantity and an order after `now` count for nothing.
    fn shop() -> Vec<OrderLine> {
        vec![
            line("A1", "22423", 1.0, "2011-01-03 10:00:00", 10.0, Some("1.0")),
            line("A1", "POST", 1.0, "2011-01-03 10:00:00", 18.0, Some("1.0")),
            line("B1", "22423", 2.0, "2011-01-05 10:00:00", 10.0, Some("2.0")),
            line("A2", "22423", 1.0, "2011-01-10 10:00:00", 10.0, Some("1.0")),
            line("G1", "85123A", 4.0, "2011-01-15 10:00:00", 25.0, None),
            line("A3", "22423", 1.0, "2011-02-07 10:00:00", 10.0, Some("1.0")),
            line("K1", "22423", 1.0, "2011-02-14 10:00:00", 25.0, Some("3.0")),
            line("K2", "22423", 1.0, "2011-02-14 15:00:00", 25.0, Some("3.0")),
            line("CA", "22423", -1.0, "2011-02-20 10:00:00", 10.0, Some("1.0")),
            line("D1", "22423", 1.0, "2011-03-01 10:00:00", 40.0, Some("4.0")),
            line("A4", "22423", 1.0, "2011-03-07 10:00:00", 10.0, Some("1.0")),
            line("D2", "22423", 1.0, "2011-03-20 10:00:00", 40.0, Some("4.0")),
            line("D3", "22423", 0.0, "2011-03-25 10:00:00", 40.0, Some("4.0")),
            line("B2", "22423", 3.0, "2011-04-04 10:00:00", 10.0, Some("2.0")),
            line("A5", "22423", 1.0, "2011-05-02 10:00:00", 10.0, Some("1.0")),
        ]
    }

    const NOW: &str = "2011-04-30 12:00:00";

    fn kpis(period: Period) -> Kpis {
        compute(&shop(), &KpiOptions { period, now: Some(at(NOW)), ..KpiOptions::default() })
    }

    /// The non-zero entries of a bucket map, as `key value` pairs.
    fn nonzero<T: PartialEq + Default + std::fmt::Display>(map: &BTreeMap<&'static str, T>) -> String {
        map.iter().filter(|(_, v)| **v != T::default()).map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
    }

    #[test]
    fn monthly_kpis_known_answers() {
        let k = kpis(Period::Month);
        assert_eq!(
            k.lines,
            LineStats { lines: 15, purchase_lines: 11, cancellation_lines: 1, non_product_lines: 1, invalid_lines: 1, future_lines: 1, guest_lines: 1 }
        );
        let p = &k.periods;
        assert_eq!(p.iter().map(|p| p.period.as_str()).collect::<Vec<_>>(), ["2011-01", "2011-02", "2011-03", "2011-04"]);
        assert_eq!((p[0].start, p[0].end, p[3].end), (at("2011-01-01T00:00:00Z"), at("2011-02-01T00:00:00Z"), at("2011-05-01T00:00:00Z")));
        let money: Vec<(u64, u64, f64, f64, f64, Option<f64>)> =
            p.iter().map(|p| (p.orders, p.guest_orders, p.gross_revenue, p.cancellations, p.revenue, p.aov)).collect();
        assert_eq!(
            money,
            [
                (4, 1, 140.0, 0.0, 140.0, Some(35.0)),
                (3, 0, 60.0, 10.0, 50.0, Some(20.0)),
                (3, 0, 90.0, 0.0, 90.0, Some(30.0)),
                (1, 0, 30.0, 0.0, 30.0, Some(30.0))
            ]
        );
        type People = (u64, u64, u64, u64, Option<f64>, Option<f64>);
        let people: Vec<People> =
            p.iter().map(|p| (p.customers, p.new_customers, p.returning_customers, p.repeat_customers, p.purchase_frequency, p.repeat_purchase_rate)).collect();
        // C's two invoices of Feb 14 are two orders (as in profiles), so C is a repeat customer in February.
        assert_eq!(
            people,
            [(2, 2, 0, 1, Some(1.5), Some(0.5)), (2, 1, 1, 1, Some(1.5), Some(0.5)), (2, 1, 1, 1, Some(1.5), Some(0.5)), (1, 0, 1, 0, Some(1.0), Some(0.0))]
        );
        // Gaps between purchase days: A 7 (Jan), 28 (Feb), 28 (Mar); D 19 (Mar); B 89 (Apr).
        assert_eq!(p.iter().map(|p| p.median_days_between_orders).collect::<Vec<_>>(), [Some(7.0), Some(28.0), Some(23.5), Some(89.0)]);

        // Stages at each month's end, as `vitrine profiles --now <its last second>` gives them.
        // End of January: A (gap 7, 21 days since) at risk, B new. End of February: B (54 days,
        // default gap 17.5) lapsed, A active, C new. End of March: C (45 days, default gap 23.5) at
        // risk. At `now`: A (54 days, gap 28), C and D (41 days, gap 19) at risk, B active again.
        let stages: Vec<String> = p.iter().map(|p| nonzero(&p.stages)).collect();
        assert_eq!(stages, ["at_risk 1, new 1", "active 1, lapsed 1, new 1", "active 2, at_risk 1, lapsed 1", "active 1, at_risk 3"]);
        let churn: Vec<&Churn> = p.iter().map(|p| &p.churn).collect();
        assert_eq!(
            churn,
            [
                &Churn { live_at_start: 0, lost: 0, rate: None, reactivated: 0 },
                &Churn { live_at_start: 2, lost: 1, rate: Some(0.5), reactivated: 0 },
                &Churn { live_at_start: 2, lost: 0, rate: Some(0.0), reactivated: 0 },
                &Churn { live_at_start: 3, lost: 0, rate: Some(0.0), reactivated: 1 },
            ]
        );
        // Revenue by the stage and RFM segment each customer had when the month began; A's
        // cancellation comes off the bucket A was in.
        let by_stage: Vec<String> = p.iter().map(|p| nonzero(&p.revenue_by_stage)).collect();
        assert_eq!(by_stage, ["first_order 40, guest 100", "first_order 50", "active 10, first_order 80", "lapsed 30"]);
        let by_rfm: Vec<String> = p.iter().map(|p| nonzero(&p.revenue_by_rfm)).collect();
        assert_eq!(by_rfm, ["first_order 40, guest 100", "first_order 50", "first_order 80, loyal 10", "hibernating 30"]);
        for p in p {
            assert_eq!(p.revenue_by_stage.values().sum::<f64>(), p.revenue, "{}", p.period);
            assert_eq!(p.revenue_by_rfm.values().sum::<f64>(), p.revenue, "{}", p.period);
            assert_eq!(p.revenue_by_stage.len(), 8);
            assert_eq!(p.revenue_by_rfm.len(), 12);
        }

        let t = k.totals.as_ref().unwrap();
        assert_eq!((t.period.as_str(), t.orders, t.revenue, t.aov, t.customers, t.new_customers), ("all", 11, 310.0, Some(29.09), 4, 4));
        assert_eq!((t.purchase_frequency, t.repeat_purchase_rate, t.median_days_between_orders), (Some(2.5), Some(1.0), Some(28.0)));
        assert_eq!(t.stages, p[3].stages);

        let cohorts: Vec<(&str, u64, &[u64], &[f64])> = k.cohorts.iter().map(|c| (c.cohort.as_str(), c.customers, &c.active[..], &c.retention[..])).collect();
        assert_eq!(
            cohorts,
            [
                ("2011-01", 2, &[2, 1, 1, 1][..], &[1.0, 0.5, 0.5, 0.5][..]),
                ("2011-02", 1, &[1, 0, 0][..], &[1.0, 0.0, 0.0][..]),
                ("2011-03", 1, &[1, 0][..], &[1.0, 0.0][..]),
            ]
        );
    }

    #[test]
    fn stages_are_the_profiles_stages() {
        // At every period's end the stage counts are what build_profiles says as of that moment.
        for period in [Period::Week, Period::Month, Period::Quarter] {
            let k = kpis(period);
            for p in &k.periods {
                let moment = (p.end - 1).min(at(NOW));
                let (profiles, _) = build_profiles(&shop(), moment, None, &ProfileRules::default());
                let mut expected: BTreeMap<&'static str, u64> = Stage::ALL.iter().map(|s| (s.as_str(), 0)).collect();
                for profile in &profiles {
                    *expected.get_mut(profile.lifecycle.as_ref().unwrap().stage.as_str()).unwrap() += 1;
                }
                assert_eq!(p.stages, expected, "{} {}", period.as_str(), p.period);
            }
        }
    }

    #[test]
    fn quarters_and_iso_weeks() {
        let q = kpis(Period::Quarter);
        let rows: Vec<(&str, u64, f64, u64, u64)> = q.periods.iter().map(|p| (p.period.as_str(), p.orders, p.revenue, p.customers, p.new_customers)).collect();
        assert_eq!(rows, [("2011-Q1", 10, 280.0, 4, 4), ("2011-Q2", 1, 30.0, 1, 0)]);
        // The second quarter starts where April did: B lapsed, A, C, D live, none lost by `now`.
        assert_eq!(q.periods[1].churn, Churn { live_at_start: 3, lost: 0, rate: Some(0.0), reactivated: 1 });
        assert_eq!(q.cohorts, kpis(Period::Month).cohorts, "cohorts are monthly whatever the period");

        let w = kpis(Period::Week);
        // Monday 3 January 2011 starts ISO week 1; Saturday 30 April is in week 17.
        assert_eq!(w.periods.len(), 17);
        assert_eq!((w.periods[0].period.as_str(), w.periods[16].period.as_str()), ("2011-W01", "2011-W17"));
        let first: Vec<(&str, u64, u64, Option<f64>)> =
            w.periods[..3].iter().map(|p| (p.period.as_str(), p.orders, p.customers, p.median_days_between_orders)).collect();
        assert_eq!(first, [("2011-W01", 2, 2, None), ("2011-W02", 2, 1, Some(7.0)), ("2011-W03", 0, 0, None)]);
        assert_eq!(w.periods.iter().map(|p| p.orders).sum::<u64>(), 11);
    }

    fn check_period(period: Period, t: &str, label: &str, start: &str, next: &str) {
        let s = period.start(at(t));
        assert_eq!((period.label(s).as_str(), s, period.next(s)), (label, at(start), at(next)), "{} of {t}", period.as_str());
    }

    #[test]
    fn period_boundaries() {
        check_period(Period::Month, "2011-12-09T12:50:00Z", "2011-12", "2011-12-01T00:00:00Z", "2012-01-01T00:00:00Z");
        check_period(Period::Month, "2012-02-29T23:59:59Z", "2012-02", "2012-02-01T00:00:00Z", "2012-03-01T00:00:00Z");
        check_period(Period::Quarter, "2011-12-09T12:50:00Z", "2011-Q4", "2011-10-01T00:00:00Z", "2012-01-01T00:00:00Z");
        check_period(Period::Quarter, "2011-04-01T00:00:00Z", "2011-Q2", "2011-04-01T00:00:00Z", "2011-07-01T00:00:00Z");
        check_period(Period::Week, "2011-12-09T12:50:00Z", "2011-W49", "2011-12-05T00:00:00Z", "2011-12-12T00:00:00Z");
        // ISO weeks belong to the year of their Thursday.
        check_period(Period::Week, "2011-01-01T10:00:00Z", "2010-W52", "2010-12-27T00:00:00Z", "2011-01-03T00:00:00Z");
        check_period(Period::Week, "2008-12-31T10:00:00Z", "2009-W01", "2008-12-29T00:00:00Z", "2009-01-05T00:00:00Z");
        check_period(Period::Week, "2010-01-03T23:59:59Z", "2009-W53", "2009-12-28T00:00:00Z", "2010-01-04T00:00:00Z");
        check_period(Period::Week, "1970-01-01T00:00:00Z", "1970-W01", "1969-12-29T00:00:00Z", "1970-01-05T00:00:00Z");
    }

    #[test]
    fn every_line_is_merchandise_when_asked_and_nothing_is_an_empty_report() {
        let options = KpiOptions { now: Some(at(NOW)), products: Products::All, ..KpiOptions::default() };
        let k = compute(&shop(), &options);
        assert_eq!(k.periods[0].gross_revenue, 158.0, "postage counts as a sale");
        let empty = compute(&[], &KpiOptions::default());
        assert_eq!((empty.as_of, empty.totals.is_none(), empty.periods.len(), empty.cohorts.len()), (None, true, 0, 0));
    }

    #[test]
    fn csv_rows() {
        let k = kpis(Period::Month);
        let rows = k.period_rows();
        assert_eq!(rows.len(), 5);
        assert!(rows.iter().all(|r| r.len() == rows[0].len()));
        let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
        assert_eq!(rows[2][col("period")], "2011-02");
        assert_eq!(rows[2][col("revenue")], "50");
        assert_eq!(rows[1][col("churn_rate")], "", "no ratio over nothing");
        assert_eq!(rows[3][col("median_days_between_orders")], "23.5");
        assert_eq!(rows[4][col("revenue_rfm_hibernating")], "30");
        let cohorts = k.cohort_rows();
        assert_eq!(cohorts[0], ["cohort", "customers", "m0", "m1", "m2", "m3"]);
        assert_eq!(cohorts[3], ["2011-03", "1", "1", "0", "", ""]);
    }
}
