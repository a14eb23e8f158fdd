//! `vitrine-demo`: generates the Vitrine demo shop (data subset, catalog, static pages, personas)
//! from the real Online Retail orders.
//!
//! Three steps, each a subcommand, each deterministic so their outputs can be committed:
//! `derive-data` cuts a small subset of the full data set, `catalog` turns the subset into a
//! catalog.json, and `site` writes the static shop with the `data-vitrine-*` markup.
//! Two more make the owner's page, `/insights/`: `simulate-experiment` writes a clearly labelled
//! simulation of an experiment over the real customers (what `vitrine uplift` reads), and
//! `insights` renders the CLI's reports (`vitrine kpis`, `clv`, `uplift`) as the page.

mod catalog;
mod categories;
mod derive;
mod orders;
mod personas;
mod simulate;
mod site;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "vitrine-demo", version, about = "Generates the Vitrine demo shop from real Online Retail orders.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Cuts the committed order subset from the full Online Retail data set.
    DeriveData {
        /// The full data set (gzipped CSV).
        #[arg(long)]
        from: PathBuf,
        /// Where to write the subset (gzipped CSV).
        #[arg(long)]
        out: PathBuf,
        /// Keep the products bought by this many most distinct customers.
        #[arg(long, default_value_t = 1000)]
        products: usize,
        /// Keep one in this many guest invoices.
        #[arg(long, default_value_t = 4)]
        guest_every: u64,
    },
    /// Writes the catalog (catalog.json, "v": 1) for every product in the orders.
    Catalog {
        /// Orders (gzipped CSV), usually demo-shop/data/orders.csv.gz.
        #[arg(long)]
        orders: PathBuf,
        /// Where to write the catalog JSON.
        #[arg(long)]
        out: PathBuf,
    },
    /// Writes the static shop: pages, images, CSS, JS and personas.json.
    Site {
        /// Orders (gzipped CSV), for popularity and personas.
        #[arg(long)]
        orders: PathBuf,
        /// The catalog written by `catalog`.
        #[arg(long)]
        catalog: PathBuf,
        /// Output directory, e.g. demo-shop/dist.
        #[arg(long)]
        out: PathBuf,
        /// Also write the personas' demo traits (JSON lines) here, e.g. demo-shop/data/traits.jsonl.
        #[arg(long)]
        traits_out: Option<PathBuf>,
    },
    /// Simulates an experiment of the site over the real customers' profile snapshots: exposures
    /// and conversions for `vitrine uplift`, and simulation.json (what was planted). Made-up data.
    SimulateExperiment {
        /// The site configuration (demo-shop/site.json).
        #[arg(long)]
        site: PathBuf,
        /// Profile snapshots (`vitrine profiles --out`).
        #[arg(long)]
        profiles: PathBuf,
        /// Orders (gzipped CSV): the customers' real orders before the experiment are its history.
        #[arg(long)]
        orders: PathBuf,
        /// The experiment's id in the site configuration.
        #[arg(long, default_value = "winback-holdout")]
        experiment: String,
        /// The absolute uplift in conversion rate to plant in the arms (0.03: three points).
        #[arg(long, default_value_t = 0.03)]
        planted_uplift: f64,
        #[arg(long, default_value_t = 11)]
        seed: u64,
        /// Output directory: exposures.jsonl, conversions.jsonl, simulation.json.
        #[arg(long)]
        out: PathBuf,
    },
    /// Writes the owner's page, insights/index.html, from the CLI's reports.
    Insights {
        /// Orders and catalog, for the shop's header and footer.
        #[arg(long)]
        orders: PathBuf,
        #[arg(long)]
        catalog: PathBuf,
        /// `vitrine kpis --out`.
        #[arg(long)]
        kpis: PathBuf,
        /// `vitrine uplift --out`.
        #[arg(long)]
        uplift: Option<PathBuf>,
        /// simulation.json from `simulate-experiment`.
        #[arg(long)]
        simulation: Option<PathBuf>,
        /// `vitrine clv --out` (JSON lines).
        #[arg(long)]
        clv: Option<PathBuf>,
        /// The shop's output directory.
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::DeriveData { from, out, products, guest_every } => {
            let s = derive::run(&from, &out, derive::Cut { products, guest_every })?;
            println!(
                "wrote {}: {} rows ({} cancellations, {} guest rows, {} non-product rows), \
                 {} products, {} invoices, {} customers, {} bytes",
                out.display(),
                s.rows,
                s.cancellations,
                s.guest_rows,
                s.non_product_rows,
                s.products,
                s.invoices,
                s.customers,
                s.bytes
            );
        }
        Command::Catalog { orders, out } => {
            let catalog = catalog::build(&orders::load_orders(&orders)?);
            catalog.write(&out)?;
            println!("wrote {}: {} products", out.display(), catalog.products.len());
            let total = catalog.products.len().max(1);
            for (category, n) in catalog::distribution(&catalog) {
                println!("  {category:<22} {n:>4}  {:>5.1} %", n as f64 * 100.0 / total as f64);
            }
            let out_of_stock = catalog.products.iter().filter(|p| p.availability == "out_of_stock").count();
            println!("  out of stock: {out_of_stock}");
        }
        Command::Site { orders, catalog, out, traits_out } => {
            let s = site::run(&site::Options { orders: &orders, catalog: &catalog, out: &out, traits_out: traits_out.as_deref() })?;
            println!("wrote {}: {} pages, {} images", out.display(), s.pages, s.images);
            print!("{}", personas::personas_json(&s.personas)?);
            if let Some(path) = traits_out {
                println!("wrote {}", path.display());
            }
        }
        Command::SimulateExperiment { site, profiles, orders, experiment, planted_uplift, seed, out } => {
            let model = simulate::Model { seed, planted_uplift, ..simulate::Model::default() };
            let s = simulate::run(&site, &profiles, &orders, &experiment, orders::NOW_UNIX, &model, &out)?;
            println!(
                "SIMULATED {}: {} of {} profiles in the experiment {:?}, mean baseline {:.1} %, planted +{:.1} points; \
                 {} exposures, {} simulated conversions, {} real earlier orders -> {}",
                s.experiment,
                s.eligible,
                s.profiles,
                s.arms,
                s.mean_baseline * 100.0,
                planted_uplift * 100.0,
                s.exposures,
                s.conversions,
                s.history_orders,
                out.display()
            );
        }
        Command::Insights { orders, catalog, kpis, uplift, simulation, clv, out } => {
            site::insights(&site::InsightsOptions {
                orders: &orders,
                catalog: &catalog,
                kpis: &kpis,
                uplift: uplift.as_deref(),
                simulation: simulation.as_deref(),
                clv: clv.as_deref(),
                out: &out,
            })?;
            println!("wrote {}", out.join("insights/index.html").display());
        }
    }
    Ok(())
}
