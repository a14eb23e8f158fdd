//! The `vitrine` command: train the recommender, batch-recommend, build profile snapshots from
//! order exports, compile the bundle the runtimes load, measure experiments' uplift and the shop's KPIs,
//! predict customer lifetime value.
//!
//! Every command checks its inputs before it writes anything, and writes through temporary files
//! renamed into place once everything has succeeded (`vitrine_cli::output`), so a malformed input,
//! a failure or an interruption (SIGINT, SIGTERM) leaves no partial or temporary output. Input
//! errors (and bad flag values) name `file:line:col` and the field, and exit with code 2.

mod eval;
mod privacy;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use vitrine_engine::analytics::clv;
use vitrine_engine::analytics::kpis::{KpiOptions, Period, Products};
use vitrine_engine::model::{Similarity, TrainOptions};
use vitrine_engine::orders::{build_profiles, LifecycleRules, ProfileRules};
use vitrine_engine::profile::{Clv, Stage};
use vitrine_engine::site::{CompileError, Target};
use vitrine_engine::{Bundle, Catalog, Model, ProfileSnapshot, SiteConfig};

use vitrine_cli::input::{self, InputError};
use vitrine_cli::output::{self, write_atomic, Outputs};
use vitrine_edge::cookie;

/// The most recommendations per user `recommend --k` asks for.
const MAX_K: u64 = 1000;
/// The most neighbours per item `train --neighbors` keeps.
const MAX_NEIGHBORS: u64 = 1000;
/// The largest local EASE solve `train --neighborhood` allows (its cost grows with the cube).
const MAX_NEIGHBORHOOD: u64 = 2000;
/// A flag's value: a finite number above zero.
fn positive(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("expected a finite number > 0, found {s:?}")),
    }
}

#[derive(Parser)]
#[command(
    name = "vitrine",
    version,
    about = "Vitrine personalization engine: train, recommend, build profiles, compile bundles, measure uplift and KPIs, predict customer lifetime value"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train the item-to-item model from an interactions CSV (`user,item,timestamp[,event][,quantity]`).
    Train {
        #[arg(long)]
        interactions: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Neighbours kept per item (1 to 1000).
        #[arg(long, default_value_t = vitrine_engine::model::DEFAULT_K as u64, value_parser = clap::value_parser!(u64).range(1..=MAX_NEIGHBORS))]
        neighbors: u64,
        /// Item-item weights: `ease` (local EASE, the default) or `cosine`.
        #[arg(long, value_parser = ["ease", "cosine"], default_value = "ease")]
        similarity: String,
        /// EASE ridge strength λ (a finite number > 0).
        #[arg(long, default_value_t = 400.0, value_parser = positive)]
        lambda: f64,
        /// EASE neighbourhood: items in each local solve, 2 to 2000 (cost grows with its cube).
        #[arg(long, default_value_t = 150, value_parser = clap::value_parser!(u64).range(2..=MAX_NEIGHBORHOOD))]
        neighborhood: u64,
        /// Interactions lose half their weight every this many days before the newest one. For
        /// recommendations served after the training window (a shop's case), 60 days scored best
        /// on Online Retail's next-order validation (bench/eval); unset, time plays no part (a
        /// finite number > 0).
        #[arg(long, value_parser = positive)]
        half_life_days: Option<f64>,
    },
    /// Recommend for each user of a JSON-lines history file; prints one JSON line per input line
    /// (streamed, after every history has been read and checked).
    Recommend {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        histories: PathBuf,
        /// Recommendations per user, 1 to 1000.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_K))]
        k: u64,
        /// Write the lines to this file (renamed into place when complete) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Leave out items already in the user's history.
        #[arg(long)]
        exclude_history: bool,
    },
    /// Build profile snapshots (JSON lines) from an order export shaped like Online Retail.
    Profiles {
        /// An order export: Online Retail's columns, or others named by --columns.
        #[arg(long)]
        orders: PathBuf,
        /// Column mapping, as `kpis` takes it (a preset: `online-retail`, `shopify`, `shopware5`,
        /// and/or `field=Header` pairs). A mapped export needs --catalog: its product ids are the
        /// catalog's.
        #[arg(long)]
        columns: Option<String>,
        /// "Now" for recency: RFC 3339 or `YYYY-MM-DD HH:MM:SS`.
        #[arg(long)]
        now: String,
        #[arg(long)]
        out: PathBuf,
        /// Catalog (JSON, or Merchant Center TSV by extension): restricts products to it and
        /// enables category affinities.
        #[arg(long)]
        catalog: Option<PathBuf>,
        /// Enrichment traits, JSON lines `{"id": "c-1", "traits": {...}}`, merged into the profiles;
        /// a line's `"consent": {"personalization": true|false}` is that customer's consent.
        #[arg(long)]
        traits: Option<PathBuf>,
        /// Consent recorded in the snapshots of customers whose --traits line records none. An
        /// order export carries none, so none is assumed.
        #[arg(long, value_parser = ["granted", "denied"], default_value = "denied")]
        consent: String,
        /// Add `clv` to each snapshot: expected orders and value over this many days and the
        /// probability the customer is alive, from BG/NBD + Gamma-Gamma fitted on every line up to
        /// --now (docs/clv.md).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        clv_horizon_days: Option<u32>,
        #[command(flatten)]
        lifecycle: LifecycleArgs,
    },
    /// Turn an order export into the interactions CSV `train` reads (valid purchase lines only).
    Interactions {
        /// An order export: Online Retail's columns, or others named by --columns.
        #[arg(long)]
        orders: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Column mapping, as `kpis` takes it. A mapped export needs --catalog.
        #[arg(long)]
        columns: Option<String>,
        /// Catalog (JSON, or Merchant Center TSV by extension): only its products become
        /// interactions [default: stock codes starting with a digit, as Online Retail's].
        #[arg(long)]
        catalog: Option<PathBuf>,
    },
    /// Validate a site configuration and compile it with a catalog and a model into a bundle.
    Bundle {
        #[arg(long)]
        site: PathBuf,
        #[arg(long)]
        catalog: PathBuf,
        #[arg(long)]
        model: PathBuf,
        /// The full bundle: what the edge and native runtimes load. With --shards it also names the
        /// browser's shard layout (`browser_shards`), so the edge can preload them.
        #[arg(long)]
        out: PathBuf,
        /// Also write a browser bundle whose model is split into this many shards, so a page view
        /// fetches only the rows its visitor needs (requires --sharded-out): 1 to 1,048,576, and at
        /// most one shard per model item or catalog product (whichever are more), so that no
        /// shard file is empty by construction and the files written stay bounded by the inputs.
        #[arg(long, requires = "sharded_out", value_parser = clap::value_parser!(u32).range(1..=i64::from(vitrine_engine::shard::MAX_SHARDS)))]
        shards: Option<u32>,
        /// Directory for the browser bundle: `bundle.json` (model head) and `m-<hash>/<n>.vtm`.
        #[arg(long, requires = "shards")]
        sharded_out: Option<PathBuf>,
    },
    /// Validate a site configuration; prints every error.
    Check {
        #[arg(long)]
        site: PathBuf,
        /// Also list, for every rule, the fields it reads.
        #[arg(long)]
        fields: bool,
    },
    /// Evaluate one CEL expression: prints the result in the conformance suite's typed JSON encoding
    /// (exit 0), `{"error": ...}` for an evaluation error (exit 1), or the located parse/check
    /// error on stderr (exit 2).
    Eval {
        #[arg(long)]
        expr: String,
        /// JSON object from variable name to typed value (`{"x": {"int": "5"}}`).
        #[arg(long)]
        vars: Option<PathBuf>,
    },
    /// Experiment uplift: each arm against its holdout or control, with 95 % intervals, a
    /// sample-ratio-mismatch check and CUPED (docs/uplift.md).
    Uplift {
        /// JSON lines `{"visitor","experiment","arm","time"}`, or GA4 BigQuery export rows
        /// (`experience_impression` events; other events are skipped).
        #[arg(long)]
        exposures: PathBuf,
        /// JSON lines `{"visitor","time","value"}`.
        #[arg(long)]
        conversions: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// The site configuration the experiments ran with: its holdout shares and arm weights are
        /// the expected split (without it, the arms are assumed equal and the holdout's share is
        /// taken as observed).
        #[arg(long)]
        site: Option<PathBuf>,
    },
    /// Shop KPIs per month, ISO week or quarter from an order export: orders, revenue, customers,
    /// frequency, repeat rate, churn, revenue by lifecycle stage and RFM segment, cohort retention
    /// (docs/kpis.md).
    Kpis {
        /// An order export: Online Retail's columns, or others named by --columns.
        #[arg(long)]
        orders: PathBuf,
        #[arg(long, value_parser = vitrine_engine::analytics::kpis::Period::NAMES, default_value = "month")]
        period: String,
        /// The report, JSON.
        #[arg(long)]
        out: PathBuf,
        /// Also write the per-period table and the cohort matrix as `periods.csv` and `cohorts.csv` here.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Column mapping: a preset (`online-retail`, `shopify`, `shopware5`) and/or `field=Header` pairs,
        /// comma-separated (fields: invoice, product, quantity, time, price, customer, country,
        /// cancelled); `@FILE` reads them from a file, one per line.
        #[arg(long)]
        columns: Option<String>,
        /// Which lines are merchandise: `digits` (stock codes starting with a digit, as `profiles`)
        /// or `all` [default: digits with Online Retail's columns, all with --columns].
        #[arg(long, value_parser = ["digits", "all"])]
        products: Option<String>,
        /// The end of the data (lines after it are left out): RFC 3339 or `YYYY-MM-DD HH:MM:SS`
        /// [default: the latest line's time].
        #[arg(long)]
        now: Option<String>,
        #[command(flatten)]
        lifecycle: LifecycleArgs,
    },
    /// Customer lifetime value: BG/NBD purchase counts and Gamma-Gamma spend, fitted on the lines
    /// before --calibration-end; one JSON line per customer `{"customer", "expected_orders",
    /// "expected_value", "p_alive", ...}` over the next --horizon-days (docs/clv.md).
    Clv {
        /// An order export: Online Retail's columns, or others named by --columns.
        #[arg(long)]
        orders: PathBuf,
        /// Only lines before this day (UTC midnight) are used: `YYYY-MM-DD`, or a time as --now takes it.
        #[arg(long)]
        calibration_end: String,
        /// The prediction horizon after --calibration-end, in days.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        horizon_days: u32,
        #[arg(long)]
        out: PathBuf,
        /// Column mapping, as `kpis` takes it.
        #[arg(long)]
        columns: Option<String>,
        /// Which lines are merchandise, as `kpis` decides it.
        #[arg(long, value_parser = ["digits", "all"])]
        products: Option<String>,
        /// L2 penalty on the BG/NBD parameters, as Python `lifetimes`' `penalizer_coef` (0: plain
        /// maximum likelihood; Gamma-Gamma is never penalized). A finite number >= 0.
        #[arg(long, default_value_t = 0.0)]
        penalizer: f64,
    },
    /// Write profile snapshots as a Workers KV bulk-upload file (`profile:<id>` keys).
    KvBulk {
        #[arg(long)]
        profiles: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// A data subject's requests against the profile store: export or delete customers' snapshots.
    #[command(subcommand)]
    Privacy(privacy::Privacy),
    /// What this visitor would see on this page, and why: reads the page's `data-vitrine-*` markup
    /// as the edge does and prints the decision (JSON) for every slot, list and widget, in
    /// document order.
    Decide {
        /// The bundle (`vitrine bundle --out`).
        #[arg(long)]
        bundle: PathBuf,
        /// The visitor's profile snapshot (one JSON document, e.g. a line of `vitrine profiles`);
        /// without it, an anonymous visitor.
        #[arg(long)]
        profile: Option<PathBuf>,
        /// The page (HTML), as the shop serves it.
        #[arg(long)]
        page: PathBuf,
        /// This session's GA4 events so far: a JSON array, oldest first.
        #[arg(long)]
        events: Option<PathBuf>,
        /// The instant to decide at (RFC 3339); default the site's `demo_now`, else now.
        #[arg(long)]
        now: Option<String>,
        /// Explain every placement: segments, each variant's rule and result, experiment arms.
        #[arg(long)]
        trace: bool,
    },
    /// Sign a visitor id for the `vitrine_vid` cookie the edge reads (what a shop's backend sets
    /// when a customer logs in; README, "Deploying"). The secret is read from the environment
    /// variable VITRINE_COOKIE_SECRET, the worker's secret of the same name.
    Cookie {
        /// The visitor id: the `id` of the customer's profile snapshot (letters, digits and
        /// `-_.:`, at most 128 characters).
        #[arg(long)]
        id: String,
        /// Print a whole `Set-Cookie` header value (Path=/, HttpOnly, SameSite=Lax, Secure, a
        /// year) instead of the cookie's value alone.
        #[arg(long)]
        set_cookie: bool,
    },
}

/// Lifecycle thresholds of `vitrine profiles` (docs/formats.md, "Lifecycle stage").
#[derive(clap::Args)]
struct LifecycleArgs {
    /// `new`: a single purchase day, at most this many days ago.
    #[arg(long, default_value_t = 30)]
    new_days: u32,
    /// `at_risk`: more days since the last order than this many expected gaps.
    #[arg(long, default_value_t = 1.5)]
    at_risk_ratio: f64,
    /// `lapsed`: more days since the last order than this many expected gaps.
    #[arg(long, default_value_t = 3.0)]
    lapsed_ratio: f64,
    /// `churned`: more days since the last order than this, whatever the customer's rhythm.
    #[arg(long, default_value_t = 365)]
    churned_days: u32,
    /// `loyal`: at least this many orders (and --loyal-tenure-days, and not at risk).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    loyal_orders: u32,
    /// `loyal`: the first order at least this many days ago.
    #[arg(long, default_value_t = 180)]
    loyal_tenure_days: u32,
    /// Floor on a customer's expected gap between orders, in days.
    #[arg(long, default_value_t = 7.0)]
    min_gap_days: f64,
    /// Expected gap of customers with a single purchase day [default: the median of everyone else's].
    #[arg(long)]
    default_gap_days: Option<f64>,
}

impl LifecycleArgs {
    /// Checks the thresholds clap cannot (finite, positive, ordered); their messages are part of
    /// the CLI's contract, so they stay here rather than in value parsers.
    fn rules(&self) -> Result<LifecycleRules, InputError> {
        let positive =
            |flag: &str, x: f64| if x.is_finite() && x > 0.0 { Ok(x) } else { Err(InputError(format!("{flag}: expected a positive number, found {x}"))) };
        let (at_risk_ratio, lapsed_ratio) = (positive("--at-risk-ratio", self.at_risk_ratio)?, positive("--lapsed-ratio", self.lapsed_ratio)?);
        if at_risk_ratio > lapsed_ratio {
            return Err(InputError(format!("--at-risk-ratio ({at_risk_ratio}) must not exceed --lapsed-ratio ({lapsed_ratio})")));
        }
        if !(self.min_gap_days.is_finite() && self.min_gap_days >= 0.0) {
            return Err(InputError(format!("--min-gap-days: expected a number >= 0, found {}", self.min_gap_days)));
        }
        Ok(LifecycleRules {
            new_days: self.new_days,
            at_risk_ratio,
            lapsed_ratio,
            churned_days: self.churned_days,
            loyal_orders: self.loyal_orders,
            loyal_tenure_days: self.loyal_tenure_days,
            min_gap_days: self.min_gap_days,
            default_gap_days: self.default_gap_days.map(|d| positive("--default-gap-days", d)).transpose()?,
        })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    output::install_signal_handler();
    if let Command::Eval { expr, vars } = &cli.command {
        return eval::run(expr, vars.as_deref());
    }
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vitrine: error: {e:#}");
            if e.downcast_ref::<InputError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Train { interactions, out, neighbors, similarity, lambda, neighborhood, half_life_days } => {
            let rows = input::read_interactions(&interactions)?;
            let similarity = match similarity.as_str() {
                "cosine" => Similarity::Cosine,
                _ => Similarity::LocalEase { lambda, neighborhood: usize::try_from(neighborhood)? },
            };
            let options = TrainOptions { k: usize::try_from(neighbors)?, similarity, half_life_days };
            let model = Model::train(&rows, &options);
            // `.vtm`: the compact binary snapshot; anything else: the JSON snapshot.
            let bytes = if out.extension().is_some_and(|e| e == "vtm") { model.to_bytes() } else { model.to_json().into_bytes() };
            write_atomic(&out, &bytes)?;
            eprintln!("vitrine: trained on {} interactions: {} items -> {}", rows.len(), model.len(), out.display());
        }
        Command::Recommend { model, histories, k, out, exclude_history } => {
            let model = load_model(&model)?;
            // Every input is read and checked before the first line is written, so an input error
            // prints nothing; the lines themselves are streamed, not held.
            let histories = input::read_histories(&histories)?;
            let k = usize::try_from(k)?;
            let write = |w: &mut dyn Write| -> anyhow::Result<()> {
                for h in &histories {
                    let items: Vec<&str> = h.items.iter().map(String::as_str).collect();
                    let recs = model.for_you(&items, k, &|c| exclude_history && items.contains(&c));
                    serde_json::to_writer(&mut *w, &serde_json::json!({"user": h.user, "items": recs}))?;
                    w.write_all(b"\n")?;
                }
                w.flush()?;
                Ok(())
            };
            match out {
                Some(path) => {
                    let mut staged = Outputs::new();
                    let mut file = staged.file(&path)?;
                    write(&mut file).with_context(|| format!("writing {}", path.display()))?;
                    drop(file);
                    staged.commit()?;
                }
                None => write(&mut std::io::BufWriter::new(std::io::stdout().lock()))?,
            }
        }
        Command::Profiles { orders, columns, now, out, catalog, traits, consent, clv_horizon_days, lifecycle } => {
            let lifecycle = lifecycle.rules()?;
            let now = vitrine_engine::time::parse_export(&now)
                .ok_or_else(|| InputError(format!("--now: expected RFC 3339 or `YYYY-MM-DD HH:MM:SS`, found {now:?}")))?;
            let catalog = catalog.as_deref().map(load_catalog).transpose()?;
            let lines = read_mapped_orders(&orders, columns.as_deref(), catalog.is_some())?;
            let enrichment = traits.map(|t| input::read_traits(&t)).transpose()?.unwrap_or_default();
            let rules = ProfileRules { consent: consent == "granted", lifecycle, ..ProfileRules::default() };
            let (mut profiles, stats) = build_profiles(&lines, now, catalog.as_ref(), &rules);
            merge_traits(&mut profiles, enrichment);
            if let Some(horizon_days) = clv_horizon_days {
                // Fitted on what the snapshots describe: the same lines, products and `now`.
                let (customers, _) = clv::summaries(&lines, now + 1, |c| vitrine_engine::orders::is_product(c, catalog.as_ref()));
                let (model, elapsed) = fit_clv(&orders, &customers, 0.0)?;
                let by_id: HashMap<&str, &clv::Customer> = customers.iter().map(|c| (c.id.as_str(), c)).collect();
                for p in &mut profiles {
                    if let Some(c) = by_id.get(p.id.as_str()) {
                        let x = model.predict(c, f64::from(horizon_days));
                        p.clv = Some(Clv { expected_orders: x.expected_orders, expected_value: x.expected_value, p_alive: x.p_alive, horizon_days });
                    }
                }
                eprintln!("vitrine: {}", clv_summary(&model, elapsed, &customers));
            }
            let mut text = String::new();
            for p in &profiles {
                text.push_str(&p.to_json());
                text.push('\n');
            }
            write_atomic(&out, text.as_bytes())?;
            eprintln!(
                "vitrine: {} profiles from {} lines ({} guest, {} cancellation, {} non-product, {} invalid, {} after --now) -> {}",
                profiles.len(),
                stats.lines,
                stats.guest_lines,
                stats.cancellation_lines,
                stats.non_product_lines,
                stats.invalid_lines,
                stats.future_lines,
                out.display()
            );
            let stages: Vec<String> =
                Stage::ALL.iter().map(|s| format!("{s} {}", profiles.iter().filter(|p| p.lifecycle.as_ref().is_some_and(|l| l.stage == *s)).count())).collect();
            eprintln!("vitrine: lifecycle stages: {}", stages.join(", "));
            // The two reasons a first trial shows nothing personal, said where they arise.
            let consented = profiles.iter().filter(|p| p.consent.personalization).count();
            eprintln!(
                "vitrine: consent recorded for {consented} of {} snapshots (--traits, else --consent {consent}): the others are decided as anonymous until the visitor grants consent on the page",
                profiles.len()
            );
            if catalog.is_none() {
                eprintln!("vitrine: no --catalog: the snapshots have no category affinities, so lists are not reordered by them");
            }
        }
        Command::Interactions { orders, out, columns, catalog } => {
            let catalog = catalog.as_deref().map(load_catalog).transpose()?;
            let lines = read_mapped_orders(&orders, columns.as_deref(), catalog.is_some())?;
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["user", "item", "timestamp", "event", "quantity"])?;
            let mut n = 0;
            for l in &lines {
                let Some(c) = l.customer.as_deref().filter(|c| !c.is_empty()) else { continue };
                if l.is_cancellation() || l.quantity <= 0.0 || l.unit_price <= 0.0 || !vitrine_engine::orders::is_product(&l.stock_code, catalog.as_ref()) {
                    continue;
                }
                let ts = vitrine_engine::time::format(l.time);
                w.write_record([vitrine_engine::orders::visitor_id(c), l.stock_code.clone(), ts, "purchase".into(), l.quantity.to_string()])?;
                n += 1;
            }
            write_atomic(&out, &w.into_inner().context("writing CSV")?)?;
            eprintln!("vitrine: {n} interactions -> {}", out.display());
        }
        Command::Bundle { site, catalog, model, out, shards, sharded_out } => {
            // Rules are checked and compiled here, once: runtimes load the compiled form (no CEL
            // parser ships to browsers) without the sources, which only traces would show.
            let mut config = load_site(&site)?;
            // `matches()`, `format()`, the strings extension's text editing and `duration()` of a
            // computed string are not in the browser's build (its regex engine would be 8 % of it,
            // exact float printing 4 %, text editing 2 %): say which placements the browser
            // leaves to the edge.
            for (field, target, why) in config.edge_only_report() {
                let what = match &target {
                    None => "every placement whose rules read this segment".to_owned(),
                    Some(Target::Slot(s)) => format!("slot `{s}`"),
                    Some(Target::List(l)) if l.is_empty() => "every list".to_owned(),
                    Some(Target::List(l)) => format!("list `{l}`"),
                    Some(Target::Widget(w)) => format!("widget `{w}`"),
                };
                eprintln!("vitrine: {}: `{field}` {why}: only the edge evaluates it, and the browser leaves {what} as served", site.display());
            }
            // A bundle carries the JSON snapshot (a binary one is converted), except with a sharded
            // browser bundle (below): the edge's then carries the binary snapshot, and the browser's
            // the binary shard head.
            let full = load_model(&model)?;
            let m = full.to_json();
            // A Merchant Center TSV export is converted; the bundle always carries catalog JSON.
            let (c, products) = if is_tsv(&catalog) {
                let products = load(&catalog, Catalog::from_tsv)?;
                (products.to_json(), products)
            } else {
                let products = load(&catalog, Catalog::from_json)?;
                (input::read_text(&catalog)?, products)
            };
            // Prices are shown in the site's locale from a format resolved when it was compiled; the
            // bundle keeps the symbols of the currencies its catalog prices in (one, in most shops),
            // so the browser's head carries a few bytes of it, the same as the edge's bundle.
            for code in config.keep_currencies(&products) {
                eprintln!(
                    "vitrine: {}: locale {} has no symbol for {} (in {}): its prices show the ISO code",
                    site.display(),
                    config.money.locale(),
                    String::from_utf8_lossy(&code),
                    catalog.display()
                );
            }
            let s = config.to_compiled_json(false);
            let mut bundle = Bundle::assemble(&s, &c, &m);
            // Every output (shard directories, the browser bundle, --out) is staged and renamed into
            // place together at the end: a failure anywhere leaves none of them.
            let mut staged = Outputs::new();
            if let (Some(count), Some(dir)) = (shards, &sharded_out) {
                // The catalog too: the head keeps the products every widget's fallback starts with.
                let products = Catalog::from_json(&c).map_err(|e| InputError(format!("{}: {e}", catalog.display())))?;
                let most = full.len().max(products.len()).max(1);
                if count as usize > most {
                    return Err(InputError(format!(
                        "--shards: expected at most one shard per model item or catalog product ({} items in {}, {} products in {}), found {count}",
                        full.len(),
                        model.display(),
                        products.len(),
                        catalog.display()
                    ))
                    .into());
                }
                let browser = Bundle::split(&s, &products, &full, count, full.head_products()).map_err(|e| {
                    let path = if e.format == "catalog" { &catalog } else { &model };
                    InputError(format!("{}: {e}", path.display()))
                })?;
                // --out is checked first: a bad one must not cost the shards' writing.
                staged.write(&out, b"")?;
                for (base, files) in &browser.dirs {
                    if !base.is_empty() {
                        // The base names the content, so an existing directory already holds these bytes.
                        staged.dir(&dir.join(base.trim_end_matches('/')), files)?;
                    }
                }
                staged.write(&dir.join("bundle.json"), browser.head.as_bytes())?;
                let bytes: usize = browser.dirs.iter().flat_map(|(_, files)| files).map(|(_, b)| b.len()).sum();
                let files: usize = browser.dirs.iter().map(|(_, files)| files.len()).sum();
                eprintln!("vitrine: browser bundle {} bytes + {files} shard files ({bytes} bytes) -> {}", browser.head.len(), dir.display());
                // The full-model bundle names the browser's shards, so the edge can preload them, and
                // carries the binary model (base64), which the edge's Wasm loads in half the time:
                // the browser loads the head written above, never this one.
                bundle = Bundle::assemble_with_shards(&s, &c, &full.to_bundle_part(), &browser.model_head);
            }
            staged.write(&out, bundle.as_bytes())?;
            staged.commit()?;
            eprintln!("vitrine: bundle {} bytes -> {}", bundle.len(), out.display());
        }
        Command::Check { site, fields } => {
            let config = load_site(&site)?;
            if fields {
                for (rule, reads) in config.rule_fields() {
                    println!("{rule}: {}", reads.join(", "));
                }
            }
            eprintln!("vitrine: {} is valid", site.display());
        }
        Command::Eval { .. } => unreachable!("handled in main"),
        Command::Uplift { exposures, conversions, out, site } => {
            let designs = match site {
                Some(s) => vitrine_engine::analytics::uplift::Design::from_site(&load_site(&s)?),
                None => Default::default(),
            };
            let (exposure_lines, skipped) = input::read_exposures(&exposures)?;
            let conversion_lines = input::read_conversions(&conversions)?;
            let report = vitrine_engine::analytics::uplift::analyze(&exposure_lines, &conversion_lines, &designs);
            let mut text = serde_json::to_string_pretty(&report)?;
            text.push('\n');
            write_atomic(&out, text.as_bytes())?;
            let skipped = if skipped > 0 { format!(" ({skipped} rows of other GA4 events skipped)") } else { String::new() };
            eprintln!(
                "vitrine: {} experiments from {} exposures{skipped} and {} conversions -> {}",
                report.experiments.len(),
                exposure_lines.len(),
                conversion_lines.len(),
                out.display()
            );
            for (id, x) in &report.experiments {
                if x.srm_flag {
                    eprintln!(
                        "vitrine: warning: experiment {id}: sample ratio mismatch (p = {:.2e}): the counts do not fit the {} split; distrust its uplift",
                        x.srm_p.unwrap_or(0.0),
                        x.split
                    );
                }
                if x.excluded_multiple_arms > 0 {
                    eprintln!("vitrine: warning: experiment {id}: {} visitors saw more than one arm and are left out", x.excluded_multiple_arms);
                }
                if x.control_group.is_none() {
                    eprintln!("vitrine: warning: experiment {id}: no holdout or control arm was exposed; no uplift computed");
                }
            }
        }
        Command::Kpis { orders, period, out, csv, columns, products, now, lifecycle } => {
            let lifecycle = lifecycle.rules()?;
            let now = now
                .map(|n| {
                    vitrine_engine::time::parse_export(&n).ok_or_else(|| InputError(format!("--now: expected RFC 3339 or `YYYY-MM-DD HH:MM:SS`, found {n:?}")))
                })
                .transpose()?;
            let mapping = columns.as_deref().map(input::Columns::parse).transpose()?;
            let products = products_of(products.as_deref(), mapping.is_some());
            let (lines, cancelled_orders) = input::read_order_export(&orders, &mapping.unwrap_or_else(input::Columns::online_retail))?;
            let period = Period::parse(&period).unwrap_or(Period::Month);
            let kpis = vitrine_engine::analytics::kpis::compute(&lines, &KpiOptions { period, now, lifecycle, products });
            // Everything is computed before anything is written.
            let mut json = serde_json::to_string_pretty(&kpis)?;
            json.push('\n');
            let tables = csv.map(|dir| -> anyhow::Result<_> { Ok((dir, csv_bytes(&kpis.period_rows())?, csv_bytes(&kpis.cohort_rows())?)) }).transpose()?;
            let mut staged = Outputs::new();
            staged.write(&out, json.as_bytes())?;
            if let Some((dir, periods, cohorts)) = &tables {
                staged.write(&dir.join("periods.csv"), periods)?;
                staged.write(&dir.join("cohorts.csv"), cohorts)?;
            }
            staged.commit()?;
            let l = &kpis.lines;
            let skipped = if cancelled_orders > 0 { format!(", {cancelled_orders} of cancelled orders left out") } else { String::new() };
            eprintln!(
                "vitrine: {} {}s from {} lines ({} purchase, {} cancellation, {} non-product, {} invalid, {} after --now, {} guest{skipped}) -> {}",
                kpis.periods.len(),
                kpis.period,
                l.lines,
                l.purchase_lines,
                l.cancellation_lines,
                l.non_product_lines,
                l.invalid_lines,
                l.future_lines,
                l.guest_lines,
                out.display()
            );
            if let Some(t) = &kpis.totals {
                eprintln!(
                    "vitrine: {} orders, revenue {:.2}, {} customers, repeat purchase rate {:.1} %",
                    t.orders,
                    t.revenue,
                    t.customers,
                    t.repeat_purchase_rate.unwrap_or(0.0) * 100.0
                );
            }
        }
        Command::Clv { orders, calibration_end, horizon_days, out, columns, products, penalizer } => {
            let end = parse_day(&calibration_end).ok_or_else(|| InputError(format!("--calibration-end: expected `YYYY-MM-DD`, found {calibration_end:?}")))?;
            if !(penalizer.is_finite() && penalizer >= 0.0) {
                return Err(InputError(format!("--penalizer: expected a number >= 0, found {penalizer}")).into());
            }
            let mapping = columns.as_deref().map(input::Columns::parse).transpose()?;
            let products = products_of(products.as_deref(), mapping.is_some());
            let (lines, cancelled_orders) = input::read_order_export(&orders, &mapping.unwrap_or_else(input::Columns::online_retail))?;
            let (customers, stats) = clv::summaries(&lines, end, |c| products == Products::All || vitrine_engine::orders::is_product(c, None));
            let (model, elapsed) = fit_clv(&orders, &customers, penalizer)?;
            // Everything is computed before anything is written.
            let mut text = String::new();
            for c in &customers {
                let x = model.predict(c, f64::from(horizon_days));
                let line = ClvLine {
                    customer: &c.id,
                    expected_orders: x.expected_orders,
                    expected_value: x.expected_value,
                    p_alive: x.p_alive,
                    frequency: c.frequency,
                    recency: c.recency,
                    t: c.age,
                    monetary_value: c.monetary,
                };
                text.push_str(&serde_json::to_string(&line)?);
                text.push('\n');
            }
            write_atomic(&out, text.as_bytes())?;
            let skipped = if cancelled_orders > 0 { format!(", {cancelled_orders} of cancelled orders left out") } else { String::new() };
            eprintln!(
                "vitrine: {} customers from {} lines ({} guest, {} cancellation, {} non-product, {} invalid, {} from --calibration-end on{skipped}) -> {}",
                customers.len(),
                stats.lines,
                stats.guest_lines,
                stats.cancellation_lines,
                stats.non_product_lines,
                stats.invalid_lines,
                stats.future_lines,
                out.display()
            );
            eprintln!("vitrine: {}", clv_summary(&model, elapsed, &customers));
        }
        Command::KvBulk { profiles, out } => {
            let text = input::read_text(&profiles)?;
            let mut entries = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let p = ProfileSnapshot::from_json(line).map_err(|e| located(&profiles, i + 1, &e))?;
                entries.push(serde_json::json!({"key": format!("profile:{}", p.id), "value": p.to_json()}));
            }
            write_atomic(&out, serde_json::to_string(&entries)?.as_bytes())?;
            eprintln!("vitrine: {} KV entries -> {}", entries.len(), out.display());
        }
        Command::Privacy(request) => request.run()?,
        Command::Decide { bundle, profile, page, events, now, trace } => {
            let bundle = vitrine_engine::Bundle::from_json(&input::read_text(&bundle)?).map_err(|e| InputError(format!("{}: {e}", bundle.display())))?;
            let snapshot = match &profile {
                Some(path) => ProfileSnapshot::from_json(input::read_text(path)?.trim()).map_err(|e| InputError(format!("{}: {e}", path.display())))?,
                None => ProfileSnapshot::anonymous(),
            };
            let now = match now {
                Some(t) => vitrine_engine::time::parse_export(&t).ok_or_else(|| InputError(format!("--now: expected RFC 3339, found {t:?}")))?,
                None => {
                    bundle.site.demo_now.unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64))
                }
            };
            let mut visitor = vitrine_engine::LiveProfile::new(snapshot);
            if let Some(path) = &events {
                let text = input::read_text(path)?;
                let list: Vec<&serde_json::value::RawValue> = serde_json::from_str(&text)
                    .map_err(|e| InputError(format!("{}:{}:{}: expected a JSON array of GA4 events: {e}", path.display(), e.line(), e.column())))?;
                for (i, raw) in list.iter().enumerate() {
                    let event = vitrine_engine::Event::from_json(raw.get()).map_err(|e| InputError(format!("{}: event [{i}]: {e}", path.display())))?;
                    visitor.apply_with_catalog(&event, now, &bundle.catalog);
                }
            }
            let html = input::read_text(&page)?;
            let mut markup = vitrine_edge::scan::scan(&html).ok_or_else(|| InputError(format!("{}: lol_html could not read the page", page.display())))?;
            markup.request.trace = trace;
            let ctx = vitrine_engine::Context { bundle: &bundle, profile: &visitor, page: &markup.request.page, now };
            let decision = markup.widgets(ctx.decide(&markup.request));
            let pretty: serde_json::Value = serde_json::from_str(&decision.to_json())?;
            println!("{}", serde_json::to_string_pretty(&pretty)?);
        }
        Command::Cookie { id, set_cookie } => {
            let secret = std::env::var("VITRINE_COOKIE_SECRET").unwrap_or_default();
            if secret.is_empty() {
                return Err(InputError("VITRINE_COOKIE_SECRET: expected the worker's cookie secret in the environment, found none".into()).into());
            }
            if secret == cookie::DEV_SECRET {
                eprintln!("vitrine: warning: VITRINE_COOKIE_SECRET is the demo's published secret; a deployed worker refuses cookies signed with it");
            }
            let value =
                cookie::sign(&secret, &id).ok_or_else(|| InputError(format!("--id: expected letters, digits and -_.: (1 to 128 characters), found {id:?}")))?;
            println!("{}", if set_cookie { cookie::set_cookie_header(Some(&value), true) } else { value });
        }
    }
    Ok(())
}

/// `--products`: what `kpis` and `clv` count as merchandise (digit codes with Online Retail's
/// columns, every line with a mapping of one's own, unless said).
/// An order export's lines, in Online Retail's columns or mapped by `--columns`. A mapped export's
/// product codes (a shop's SKUs) cannot be told from postage and fees by their shape, as Online
/// Retail's digits can: the catalog says which are products, so it is required.
fn read_mapped_orders(orders: &Path, columns: Option<&str>, has_catalog: bool) -> Result<Vec<vitrine_engine::orders::OrderLine>, InputError> {
    match columns {
        None => input::read_orders(orders),
        Some(_) if !has_catalog => {
            Err(InputError("--columns: a mapped export's product ids are the catalog's: add --catalog (your product feed, JSON or Merchant Center TSV)".into()))
        }
        Some(map) => Ok(input::read_order_export(orders, &input::Columns::parse(map)?)?.0),
    }
}

fn products_of(flag: Option<&str>, mapped: bool) -> Products {
    match flag {
        Some("all") => Products::All,
        Some(_) => Products::DigitCodes,
        None if mapped => Products::All,
        None => Products::DigitCodes,
    }
}

/// `YYYY-MM-DD` as its UTC midnight, or a time as `--now` takes it.
fn parse_day(s: &str) -> Option<i64> {
    if s.len() == 10 {
        return vitrine_engine::time::parse_export(&format!("{s} 00:00:00"));
    }
    vitrine_engine::time::parse_export(s)
}

/// One line of `vitrine clv`'s output: the contract's four fields first, then the summary they
/// were predicted from (`lifetimes`' names).
#[derive(serde::Serialize)]
struct ClvLine<'a> {
    customer: &'a str,
    expected_orders: f64,
    expected_value: f64,
    p_alive: f64,
    frequency: u32,
    recency: f64,
    #[serde(rename = "T")]
    t: f64,
    monetary_value: f64,
}

/// Fits the CLV models, timed; a data set they cannot be fitted to is the input's fault (exit 2).
fn fit_clv(orders: &Path, customers: &[clv::Customer], penalizer: f64) -> anyhow::Result<(clv::Model, std::time::Duration)> {
    let started = std::time::Instant::now();
    let model = clv::fit(customers, &clv::FitOptions { penalizer }).map_err(|e| InputError(format!("{}: cannot fit the CLV models: {e}", orders.display())))?;
    Ok((model, started.elapsed()))
}

fn clv_summary(model: &clv::Model, elapsed: std::time::Duration, customers: &[clv::Customer]) -> String {
    let (p, s) = (&model.purchases, &model.spend);
    let repeat = customers.iter().filter(|c| c.frequency > 0).count();
    let warning = if s.q <= 1.0 { " (q <= 1: the population's mean spend is unbounded)" } else { "" };
    format!(
        "CLV fitted on {} customers ({repeat} repeat) in {:.3} s ({} evaluations): BG/NBD r={:.6e} alpha={:.6e} a={:.6e} b={:.6e} (mean -LL {:.6}); Gamma-Gamma p={:.6e} q={:.6e} v={:.6e} (mean -LL {:.6}){warning}",
        customers.len(), elapsed.as_secs_f64(), model.evaluations, p.r, p.alpha, p.a, p.b, model.purchases_nll, s.p, s.q, s.v, model.spend_nll
    )
}

/// Reads a model snapshot in either form, telling them apart by the binary form's magic bytes.
fn load_model(path: &Path) -> anyhow::Result<Model> {
    let bytes = std::fs::read(path).map_err(|e| InputError(format!("{}: {e}", path.display())))?;
    if vitrine_engine::model_bin::is_binary(&bytes) {
        return Model::from_bytes(&bytes).map_err(|e| InputError(format!("{}: {}", path.display(), e.describe())).into());
    }
    load(path, Model::from_json)
}

/// A catalog file: Merchant Center TSV by its extension, else catalog JSON.
fn load_catalog(path: &Path) -> anyhow::Result<Catalog> {
    load(path, if is_tsv(path) { Catalog::from_tsv } else { Catalog::from_json })
}

/// Merchant Center exports are `.tsv` or `.txt`; anything else is read as JSON.
fn is_tsv(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv") || e.eq_ignore_ascii_case("txt"))
}

/// Reads a whole-document input, locating errors in it as `file:line:col`.
fn load<T>(path: &Path, parse: impl Fn(&str) -> Result<T, vitrine_engine::FormatError>) -> anyhow::Result<T> {
    let text = input::read_text(path)?;
    parse(&text).map_err(|e| {
        let at = if e.line > 0 { format!("{}:{}:{}", path.display(), e.line, e.column) } else { path.display().to_string() };
        InputError(format!("{at}: {}", e.describe())).into()
    })
}

/// Reads a site configuration (its source or compiled form). A source with several errors lists
/// every one on a line of its own, each where it is: `file:line:col` for a structural error, the
/// field path and the rule's own `line:col` and caret for a rule.
fn load_site(path: &Path) -> anyhow::Result<SiteConfig> {
    let text = input::read_text(path)?;
    let e = match SiteConfig::from_json(&text) {
        Ok(site) => return Ok(site),
        Err(e) => e,
    };
    if let Err(CompileError::Rules(errors)) = SiteConfig::compile(&text) {
        if errors.len() > 1 {
            let at = path.display();
            let lines: Vec<String> = errors.iter().map(|e| if e.json && e.line > 0 { format!("{at}:{e}") } else { format!("{at}: {e}") }).collect();
            return Err(InputError(format!("{} error(s):\n{}", errors.len(), lines.join("\n"))).into());
        }
    }
    let at = if e.line > 0 { format!("{}:{}:{}", path.display(), e.line, e.column) } else { path.display().to_string() };
    Err(InputError(format!("{at}: {}", e.describe())).into())
}

/// A JSON-lines error: the engine's column is within the line; the line is the file's.
fn located(path: &Path, line: usize, e: &vitrine_engine::FormatError) -> InputError {
    InputError(format!("{}:{line}:{}: {}", path.display(), e.column, e.describe()))
}

/// Merges the traits file into the snapshots: its traits, and its consent over `--consent` (the
/// default for customers the file records none for).
fn merge_traits(profiles: &mut [ProfileSnapshot], enrichment: HashMap<String, input::TraitsLine>) {
    for p in profiles {
        if let Some(t) = enrichment.get(&p.id) {
            p.traits.extend(t.traits.iter().map(|(k, v)| (k.clone(), v.clone())));
            if let Some(c) = &t.consent {
                p.consent.personalization = c.personalization;
            }
        }
    }
}

fn csv_bytes(rows: &[Vec<String>]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(row)?;
    }
    w.into_inner().context("writing CSV")
}
