//! `site`: writes the static demo shop (home, category and product pages, images, CSS, JS) with
//! the `data-vitrine-*` markup of docs/markup.md.
//!
//! The pages are a complete shop on their own: without the Vitrine loader every slot, list and
//! widget keeps the shop's default content (empty recommendation widgets stay hidden). With it,
//! the edge or the snippet personalizes exactly the marked-up parts.

mod charts;
mod clv;
mod html;
mod insights;
mod svg;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use vitrine_engine::{MoneyFormat, Price, SiteConfig};

use crate::catalog::{Catalog, Product, BRAND};
use crate::categories::{slug, CATEGORIES};
use crate::orders::{distinct_buyers, load_orders, NOW_UNIX};
use crate::personas::{self, Persona};
use html::{escape, query_value, safe_url, script_json};

const SHOP_CSS: &str = include_str!("../../assets/shop.css");
/// The demo's site configuration: its `locale` is how the pages show prices, as Vitrine's
/// recommendations do, so the grid and the widgets agree.
const SITE_JSON: &str = include_str!("../../site.json");
/// Free delivery from this order value (in the catalog's currency).
const FREE_DELIVERY: &str = "50 GBP";
const SHOP_JS: &str = include_str!("../../assets/shop.js");

/// Products on the home grid and, at most, on a category page.
const HOME_GRID: usize = 24;
const CATEGORY_GRID: usize = 48;
/// "More in `<category>`" under a product: one row of the grid's six columns.
const MORE_IN: usize = 6;

/// The attribution the data licence (CC BY 4.0) asks for, shown in every footer.
const ATTRIBUTION: &str = "Product and order data: Online Retail data set (Daqing Chen), UCI Machine Learning Repository, CC BY 4.0";

/// Inputs and outputs of the `site` subcommand.
#[derive(Debug)]
pub struct Options<'a> {
    pub orders: &'a Path,
    pub catalog: &'a Path,
    pub out: &'a Path,
    pub traits_out: Option<&'a Path>,
}

/// What was written, for the log.
#[derive(Debug)]
pub struct Summary {
    pub pages: usize,
    pub images: usize,
    pub personas: Vec<Persona>,
}

/// Inputs of the `insights` subcommand: the shop's data (for the page's header and footer) and
/// the CLI's reports.
#[derive(Debug)]
pub struct InsightsOptions<'a> {
    pub orders: &'a Path,
    pub catalog: &'a Path,
    /// `vitrine kpis --out`.
    pub kpis: &'a Path,
    /// `vitrine uplift --out` and the simulation's `simulation.json`, if there is a report.
    pub uplift: Option<&'a Path>,
    pub simulation: Option<&'a Path>,
    /// `vitrine clv --out`, if the build has it.
    pub clv: Option<&'a Path>,
    /// The shop's output directory: the page goes to `insights/index.html` in it.
    pub out: &'a Path,
}

/// Writes `/insights/` (index.html and its style sheet) into `opts.out`.
pub fn insights(opts: &InsightsOptions) -> Result<()> {
    let read = |p: &Path| fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()));
    let json = |p: &Path| -> Result<serde_json::Value> { serde_json::from_str(&read(p)?).with_context(|| format!("{} is not JSON", p.display())) };
    let inputs = insights::Inputs {
        kpis: json(opts.kpis)?,
        uplift: opts.uplift.map(json).transpose()?,
        simulation: opts.simulation.map(json).transpose()?,
        clv: match opts.clv {
            Some(p) => Some(clv::parse(&read(p)?, &p.display().to_string())?),
            None => None,
        },
    };
    let lines = load_orders(opts.orders)?;
    let catalog = Catalog::read(opts.catalog)?;
    let buyers = distinct_buyers(&lines);
    let personas = personas::choose(&lines, NOW_UNIX, &site_money()?)?;
    let shop = Shop::new(&catalog, &buyers, &personas)?;
    let page = shop.layout(&PageInfo {
        title: format!("Insights · {BRAND}"),
        path: "/insights/".to_string(),
        body_attrs: r#"data-vitrine-page="other" class="insights""#.to_string(),
        current_category: None,
        main: insights::main_html(&inputs),
        head: r#"<link rel="stylesheet" href="/insights/insights.css">"#,
        // The owner's page: nothing on it is personalized, and the owner's visits are not tracked.
        snippet: false,
    });
    write(opts.out, "insights/index.html", &page)?;
    write(opts.out, "insights/insights.css", insights::CSS)
}

/// Generates the whole shop into `opts.out`.
pub fn run(opts: &Options) -> Result<Summary> {
    let lines = load_orders(opts.orders)?;
    let catalog = Catalog::read(opts.catalog)?;
    let buyers = distinct_buyers(&lines);
    let personas = personas::choose(&lines, NOW_UNIX, &site_money()?)?;
    let shop = Shop::new(&catalog, &buyers, &personas)?;
    let out = opts.out;
    let mut pages = 0;
    let mut images = 0;

    write(out, "shop.css", SHOP_CSS)?;
    write(out, "shop.js", SHOP_JS)?;
    write(out, "favicon.svg", &svg::logo())?;
    write(out, "img/hero.svg", &svg::hero())?;
    write(out, "personas.json", &personas::personas_json(&personas)?)?;
    if let Some(path) = opts.traits_out {
        personas::write_file(path, &personas::traits_jsonl(&personas)?)?;
    }

    write(out, "index.html", &shop.home())?;
    pages += 1;
    for (category, products) in &shop.categories {
        write(out, &format!("c/{}.html", slug(category)), &shop.category_page(category, products))?;
        write(out, &format!("img/cat-{}.svg", slug(category)), &svg::category(category))?;
        pages += 1;
        images += 1;
    }
    for p in &shop.products {
        write(out, &format!("p/{}.html", file_name(&p.id)?), &shop.product_page(p))?;
        write(out, &format!("img/{}.svg", file_name(&p.id)?), &svg::product(&p.id, &p.title, &p.product_type))?;
        pages += 1;
        images += 1;
    }
    Ok(Summary { pages, images, personas })
}

fn write(out: &Path, relative: &str, text: &str) -> Result<()> {
    let path = out.join(relative);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The price format of the demo's site.json (its `locale`), as `vitrine bundle` compiles it.
fn site_money() -> Result<MoneyFormat> {
    Ok(SiteConfig::from_json(SITE_JSON).map_err(|e| anyhow::anyhow!("demo-shop/site.json: {e}"))?.money)
}

/// Product ids become file names; Online Retail stock codes are letters and digits only, and
/// anything else is refused rather than written outside the output directory.
fn file_name(id: &str) -> Result<&str> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        Ok(id)
    } else {
        anyhow::bail!("product id {id:?} cannot be used as a file name")
    }
}

/// The catalog arranged for the pages.
struct Shop<'a> {
    /// Most popular first.
    products: Vec<&'a Product>,
    /// Categories in navigation order, each with its products, most popular first.
    categories: Vec<(&'a str, Vec<&'a Product>)>,
    personas: &'a [Persona],
    /// Distinct buyers per product id.
    buyers: &'a HashMap<String, usize>,
    /// The site's price format (its `locale`), the one the engine shows recommendations' prices in.
    money: MoneyFormat,
}

impl<'a> Shop<'a> {
    fn new(catalog: &'a Catalog, buyers: &'a HashMap<String, usize>, personas: &'a [Persona]) -> Result<Self> {
        let popularity = |p: &Product| buyers.get(&p.id).copied().unwrap_or(0);
        let mut products: Vec<&Product> = catalog.products.iter().collect();
        products.sort_by(|a, b| popularity(b).cmp(&popularity(a)).then(a.id.cmp(&b.id)));

        // Known categories in their fixed order, then any others a hand-edited catalog brings.
        let mut names: Vec<&str> = CATEGORIES.to_vec();
        for p in &products {
            if !names.contains(&p.product_type.as_str()) {
                names.push(&p.product_type);
            }
        }
        let categories = names
            .into_iter()
            .map(|c| (c, products.iter().copied().filter(|p| p.product_type == c).collect::<Vec<_>>()))
            .filter(|(_, ps)| !ps.is_empty())
            .collect();
        Ok(Shop { products, categories, personas, buyers, money: site_money()? })
    }

    /// `"12.75 GBP"` as the site's locale shows it (`£12.75`), by the engine's formatter.
    fn price(&self, price: &str) -> String {
        Price::parse(price).map_or_else(|| price.to_owned(), |p| self.money.format(&p))
    }

    /// The home grid: round-robin over the categories, the most popular category first, taking
    /// each category's next best seller in stock. Several categories are visible at once, so when
    /// Vitrine moves a visitor's favourite category up, the change is easy to see.
    fn home_grid(&self) -> Vec<&'a Product> {
        let mut queues: Vec<(usize, Vec<&Product>)> = self
            .categories
            .iter()
            .map(|(_, ps)| {
                let in_stock: Vec<&Product> = ps.iter().copied().filter(|p| p.availability != "out_of_stock").collect();
                // A category is as popular as the distinct buyers of all its products together.
                let rank: usize = ps.iter().map(|p| self.buyers.get(&p.id).copied().unwrap_or(0)).sum();
                (rank, in_stock)
            })
            .collect();
        queues.sort_by_key(|q| std::cmp::Reverse(q.0));
        let mut grid = Vec::with_capacity(HOME_GRID);
        let mut round = 0;
        while grid.len() < HOME_GRID && queues.iter().any(|(_, q)| q.len() > round) {
            for (_, q) in &queues {
                if let Some(p) = q.get(round) {
                    if grid.len() < HOME_GRID {
                        grid.push(*p);
                    }
                }
            }
            round += 1;
        }
        grid
    }

    fn home(&self) -> String {
        let mut main = String::new();
        main.push_str(concat!(
            r#"<section class="hero" data-vitrine-slot="hero">"#,
            "\n  ",
            r#"<h1 data-vitrine-field="headline">Gifts for every occasion</h1>"#,
            "\n  ",
            r#"<p data-vitrine-field="body">Hand-picked homeware, stationery and little treats, wrapped with care since 2010.</p>"#,
            "\n  ",
            r##"<a class="btn" data-vitrine-field="cta" data-vitrine-href="cta_href" href="#bestsellers">Shop bestsellers</a>"##,
            "\n</section>\n",
        ));
        main.push_str(&recs_section(
            "Picked for you",
            r#"data-vitrine-recs="for-you" data-vitrine-strategy="for_you" data-vitrine-k="6" data-vitrine-max-per-category="2""#,
        ));
        main.push_str(concat!(
            r#"<section class="section" id="bestsellers">"#,
            r#"<div class="section-head"><h2>Bestsellers</h2><p>What our customers come back for, across the shop.</p></div>"#,
            "\n",
            r#"<ul class="grid" data-vitrine-list="home-grid">"#,
            "\n"
        ));
        for p in self.home_grid() {
            let _ = writeln!(main, "{}", grid_item(p, true, &self.price(&p.price)));
        }
        main.push_str("</ul>\n</section>\n");
        main.push_str(r#"<section class="section"><div class="section-head"><h2>Shop by category</h2></div><ul class="tiles">"#);
        for (category, products) in &self.categories {
            let _ = write!(
                main,
                r#"<li><a class="tile" href="/c/{slug}"><img src="/img/cat-{slug}.svg" alt="" width="96" height="96"><span class="tile-name">{name}</span><span class="tile-count">{n} products</span></a></li>"#,
                slug = slug(category),
                name = escape(category),
                n = products.len(),
            );
        }
        main.push_str("</ul></section>\n");
        self.layout(&PageInfo {
            title: format!("{BRAND} — Gifts for every occasion"),
            path: "/".to_string(),
            body_attrs: r#"data-vitrine-page="home""#.to_string(),
            current_category: None,
            main,
            head: "",
            snippet: true,
        })
    }

    fn category_page(&self, category: &str, products: &[&Product]) -> String {
        let shown = &products[..products.len().min(CATEGORY_GRID)];
        let mut main = format!(
            concat!(
                r#"<nav class="crumbs" aria-label="Breadcrumb"><a href="/">Home</a><span>/</span>{name}</nav>"#,
                "\n",
                r#"<header class="page-head"><img src="/img/cat-{slug}.svg" alt="" width="72" height="72"><div><h1>{name}</h1><p>{n} products, most loved first</p></div></header>"#,
                "\n"
            ),
            name = escape(category),
            slug = slug(category),
            n = products.len(),
        );
        main.push_str(&recs_section(
            // recs_section escapes the heading.
            &format!("Trending in {category}"),
            &format!(r#"data-vitrine-recs="trending" data-vitrine-strategy="trending" data-vitrine-filter-category="{}" data-vitrine-k="6""#, escape(category)),
        ));
        main.push_str("<section class=\"section\">\n<ul class=\"grid\" data-vitrine-list=\"category-grid\">\n");
        for p in shown {
            let _ = writeln!(main, "{}", grid_item(p, true, &self.price(&p.price)));
        }
        main.push_str("</ul>\n</section>\n");
        self.layout(&PageInfo {
            title: format!("{category} · {BRAND}"),
            path: format!("/c/{}", slug(category)),
            body_attrs: format!(r#"data-vitrine-page="category" data-vitrine-category="{}""#, escape(category)),
            current_category: Some(category.to_string()),
            main,
            head: "",
            snippet: true,
        })
    }

    fn product_page(&self, p: &Product) -> String {
        let in_stock = p.availability != "out_of_stock";
        let (availability_class, availability_text) = match p.availability.replace(' ', "_").as_str() {
            "out_of_stock" => ("out", "Out of stock"),
            "preorder" => ("soon", "Available to pre-order"),
            "backorder" => ("soon", "On back order, ships soon"),
            _ => ("in", "In stock, ships in 1–2 days"),
        };
        let button = if in_stock {
            r#"<button class="btn btn-primary btn-large" type="button" data-add-to-cart>Add to basket</button>"#
        } else {
            r#"<button class="btn btn-primary btn-large" type="button" disabled>Out of stock</button>"#
        };
        let mut main = format!(
            concat!(
                r#"<nav class="crumbs" aria-label="Breadcrumb"><a href="/">Home</a><span>/</span><a href="/c/{slug}">{category}</a><span>/</span>{title}</nav>"#,
                "\n",
                r#"<article class="product">"#,
                r#"<div class="product-media"><img src="{img}" alt="{title}" width="480" height="480"></div>"#,
                r#"<div class="product-info">"#,
                r#"<a class="product-cat" href="/c/{slug}">{category}</a>"#,
                r#"<h1>{title}</h1>"#,
                r#"<p class="product-price">{price}</p>"#,
                r#"<p class="stock stock-{availability_class}">{availability_text}</p>"#,
                r#"<div class="product-actions">{button}<span class="added" role="status" aria-live="polite"></span></div>"#,
                r#"<dl class="product-facts"><dt>Brand</dt><dd>{brand}</dd><dt>Stock code</dt><dd>{id}</dd><dt>Delivery</dt><dd>Free UK delivery over {free}</dd></dl>"#,
                "</div></article>\n"
            ),
            slug = slug(&p.product_type),
            category = escape(&p.product_type),
            title = escape(&p.title),
            img = escape(safe_url(&p.image_link)),
            price = escape(&self.price(&p.price)),
            free = escape(&self.price(FREE_DELIVERY)),
            availability_class = availability_class,
            availability_text = availability_text,
            button = button,
            brand = escape(&p.brand),
            id = escape(&p.id),
        );
        main.push_str(&recs_section(
            "Customers who bought this also bought",
            &format!(r#"data-vitrine-recs="also-bought" data-vitrine-strategy="also_bought" data-vitrine-product="{}" data-vitrine-k="6""#, escape(&p.id)),
        ));
        main.push_str(&recs_section(
            "You may also like",
            &format!(r#"data-vitrine-recs="similar" data-vitrine-strategy="similar" data-vitrine-product="{}" data-vitrine-k="6""#, escape(&p.id)),
        ));
        // A plain, unpersonalized row, so a product page is complete without Vitrine too.
        let more: Vec<&Product> = self
            .categories
            .iter()
            .find(|(c, _)| *c == p.product_type)
            .map(|(_, ps)| ps.iter().copied().filter(|q| q.id != p.id).take(MORE_IN).collect())
            .unwrap_or_default();
        if !more.is_empty() {
            let _ = write!(
                main,
                r#"<section class="section"><div class="section-head"><h2>More in {}</h2><p><a href="/c/{}">See all</a></p></div>{}<ul class="grid">{}"#,
                escape(&p.product_type),
                slug(&p.product_type),
                "\n",
                "\n"
            );
            for q in more {
                let _ = writeln!(main, "{}", grid_item(q, false, &self.price(&q.price)));
            }
            main.push_str("</ul>\n</section>\n");
        }
        let _ = writeln!(
            main,
            "<script>(function(e){{window.dataLayer=window.dataLayer||[];window.shopItem=e.ecommerce.items[0];window.shopCurrency=e.ecommerce.currency;window.dataLayer.push(e);}})({});</script>",
            script_json(&view_item_json(p))
        );
        self.layout(&PageInfo {
            title: format!("{} · {BRAND}", p.title),
            path: format!("/p/{}", p.id),
            body_attrs: format!(r#"data-vitrine-page="product" data-vitrine-product="{}""#, escape(&p.id)),
            current_category: Some(p.product_type.clone()),
            main,
            head: "",
            snippet: true,
        })
    }

    /// The frame every page shares: head, header with navigation, footer, consent banner and
    /// the visitor switcher.
    fn layout(&self, page: &PageInfo) -> String {
        let mut nav = String::new();
        for (category, _) in &self.categories {
            let current = if page.current_category.as_deref() == Some(*category) { r#" aria-current="page""# } else { "" };
            let _ = write!(nav, r#"<a href="/c/{}"{current}>{}</a>"#, slug(category), escape(short_name(category)));
        }
        let mut footer_nav = String::new();
        for (category, _) in &self.categories {
            let _ = write!(footer_nav, r#"<a href="/c/{}">{}</a>"#, slug(category), escape(category));
        }
        let mut switcher = String::new();
        let next = query_value(&page.path);
        for p in self.personas {
            let _ = write!(
                switcher,
                r#"<li><a href="/__vitrine/demo/become?vid={vid}&amp;next={next}"><strong>{label}</strong><code>{vid_text}</code><span>{description}</span></a></li>"#,
                vid = query_value(&p.vid),
                next = next,
                label = escape(p.label),
                vid_text = escape(&p.vid),
                description = escape(&p.description),
            );
        }
        let _ = write!(
            switcher,
            r#"<li><a href="/__vitrine/demo/become?vid=&amp;next={next}"><strong>New visitor</strong><span>No history, no consent yet: the shop's default page.</span></a></li>"#
        );
        let logo = svg::logo();
        format!(
            r##"<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<meta name="description" content="{brand} — a demo gift shop for Vitrine, with real products and orders.">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/shop.css">
<script src="/shop.js"></script>
{snippet}{head}</head>
<body {body_attrs}>
<a class="skip" href="#main">Skip to content</a>
<header class="site-header">
<div class="wrap header-bar">
<a class="logo" href="/">{logo}<span>{brand}</span></a>
<p class="header-note">Free UK delivery over {free}</p>
<a class="header-link" href="/insights/"{insights_current}>Insights</a>
<a class="basket" href="#" aria-label="Basket"><svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path d="M6 7h12l-1 13H7zM9 7a3 3 0 016 0" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"/></svg><span class="basket-count" id="basket-count">0</span></a>
</div>
<nav class="cat-nav" aria-label="Categories"><div class="wrap">{nav}</div></nav>
</header>
<main id="main" class="wrap">
{main}</main>
<footer class="site-footer">
<div class="wrap">
<div class="footer-brand"><a class="logo" href="/">{logo}<span>{brand}</span></a><p>Gifts, homeware and stationery. A demo shop for Vitrine, the open-source on-site personalization engine.</p></div>
<nav class="footer-nav" aria-label="All categories">{footer_nav}</nav>
<p class="attribution">{attribution}</p>
<p class="footer-small">Prices, stock and customer names are illustrative. <a href="/insights/">Shop insights</a> (demo: the owner's KPI page).{privacy}</p>
</div>
</footer>
{visitor_ui}</body>
</html>
"##,
            title = escape(&page.title),
            brand = escape(BRAND),
            body_attrs = page.body_attrs,
            logo = logo,
            nav = nav,
            footer_nav = footer_nav,
            main = page.main,
            attribution = escape(ATTRIBUTION),
            snippet = if page.snippet { "<script async src=\"/vitrine/vitrine.js\"></script>\n" } else { "" },
            privacy = if page.snippet { r#" <button type="button" class="linklike" data-consent-open>Privacy settings</button>"# } else { "" },
            // The consent banner and the visitor switcher belong to pages that personalize.
            visitor_ui = if page.snippet { visitor_ui(&switcher) } else { String::new() },
            head = page.head,
            insights_current = if page.path == "/insights/" { r#" aria-current="page""# } else { "" },
            free = escape(&self.price(FREE_DELIVERY)),
        )
    }
}

/// The consent banner and the demo's visitor switcher (`switcher`: its list items, HTML).
fn visitor_ui(switcher: &str) -> String {
    format!(
        r#"<div id="consent" class="consent" role="dialog" aria-label="Personalization consent" hidden>
<p><strong>Make this shop yours?</strong> With your permission we use what you browse and buy here to pick products for you. You can change your mind any time under Privacy settings.</p>
<div class="consent-actions"><button type="button" class="btn btn-ghost" data-consent="denied">Decline</button><button type="button" class="btn btn-primary" data-consent="granted">Accept</button></div>
</div>
<details class="switcher">
<summary><svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><circle cx="12" cy="8" r="4" fill="currentColor"/><path d="M4 21a8 8 0 0116 0z" fill="currentColor"/></svg>Preview as…</summary>
<div class="switcher-body">
<p>Developer preview: view this page as a real customer from the order history.</p>
<ul>{switcher}</ul>
</div>
</details>
"#
    )
}

/// The header navigation's label: "Candles & Lights" → "Candles", so all categories fit in one
/// row; pages, tiles and the footer use the full name.
fn short_name(category: &str) -> &str {
    category.split(" & ").next().unwrap_or(category)
}

/// Per-page parts of [`Shop::layout`]; `body_attrs` and `main` are HTML already.
struct PageInfo {
    title: String,
    path: String,
    body_attrs: String,
    current_category: Option<String>,
    main: String,
    /// More `<head>` elements (HTML).
    head: &'static str,
    /// Whether the page loads the Vitrine snippet (every shop page does).
    snippet: bool,
}

/// A product card, in a list item marked `data-vitrine-item` when `reorderable` (inside a
/// `data-vitrine-list`). The card has the structure of the recommendation template (markup.md),
/// so the shop's cards and Vitrine's look alike.
fn grid_item(p: &Product, reorderable: bool, price: &str) -> String {
    let item = if reorderable { format!(r#" data-vitrine-item="{}""#, escape(&p.id)) } else { String::new() };
    let badge = if p.availability == "out_of_stock" { r#"<span class="badge">Out of stock</span>"# } else { "" };
    format!(
        concat!(
            r#"<li{item}><a class="card" href="{link}">"#,
            r#"<img src="{img}" alt="{title}" width="200" height="200" loading="lazy">{badge}"#,
            r#"<span class="card-cat">{category}</span><span class="title">{title}</span>"#,
            r#"<span class="price">{price}</span></a></li>"#
        ),
        item = item,
        link = escape(safe_url(&p.link)),
        img = escape(safe_url(&p.image_link)),
        title = escape(&p.title),
        badge = badge,
        category = escape(&p.product_type),
        price = escape(price),
    )
}

/// A recommendation widget with its heading; `attrs` are the widget's `data-vitrine-*`
/// attributes. The section is hidden by CSS until Vitrine fills the widget.
fn recs_section(heading: &str, attrs: &str) -> String {
    format!(
        concat!(
            r#"<section class="section recs-section"><div class="section-head"><h2>{heading}</h2></div>"#,
            "\n",
            r#"<div class="recs" {attrs}>"#,
            "\n  <template>\n    ",
            r#"<a class="card" data-vitrine-bind-href="link">"#,
            "\n      ",
            r#"<img data-vitrine-bind-src="image_link" data-vitrine-bind-alt="title" alt="">"#,
            "\n      ",
            r#"<span class="card-cat" data-vitrine-bind="product_type"></span>"#,
            "\n      ",
            r#"<span class="title" data-vitrine-bind="title"></span>"#,
            "\n      ",
            r#"<span class="price" data-vitrine-bind="price"></span>"#,
            "\n    </a>\n  </template>\n</div>\n</section>\n"
        ),
        heading = escape(heading),
        attrs = attrs,
    )
}

/// The GA4 `view_item` event of a product page (formats.md, live events).
#[derive(Serialize)]
struct ViewItem<'a> {
    event: &'static str,
    ecommerce: Ecommerce<'a>,
}

#[derive(Serialize)]
struct Ecommerce<'a> {
    currency: &'a str,
    value: f64,
    items: [Item<'a>; 1],
}

#[derive(Serialize)]
struct Item<'a> {
    item_id: &'a str,
    item_name: &'a str,
    item_category: &'a str,
    price: f64,
}

fn view_item_json(p: &Product) -> String {
    let (amount, currency) = p.price.split_once(' ').unwrap_or((&p.price, "GBP"));
    let price = amount.parse::<f64>().unwrap_or(0.0);
    let event = ViewItem {
        event: "view_item",
        ecommerce: Ecommerce { currency, value: price, items: [Item { item_id: &p.id, item_name: &p.title, item_category: &p.product_type, price }] },
    };
    // Serializing plain strings and finite numbers cannot fail.
    serde_json::to_string(&event).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: &str, title: &str, category: &str, availability: &str) -> Product {
        Product {
            id: id.into(),
            title: title.into(),
            link: format!("/p/{id}"),
            price: "2.55 GBP".into(),
            availability: availability.into(),
            product_type: category.into(),
            brand: BRAND.into(),
            image_link: format!("/img/{id}.svg"),
        }
    }

    #[test]
    fn product_page_escapes_catalog_strings_and_pushes_view_item() {
        let catalog = Catalog { v: 1, products: vec![product("22041", "Record Frame 7\" Single <b>&</b>", "Home Decor", "in_stock")] };
        let buyers = HashMap::new();
        let shop = Shop::new(&catalog, &buyers, &[]).unwrap();
        let html = shop.product_page(&catalog.products[0]);
        assert!(html.contains(r#"<h1>Record Frame 7&quot; Single &lt;b&gt;&amp;&lt;/b&gt;</h1>"#));
        assert!(!html.contains("<b>&</b>"));
        assert!(html.contains(r#"<body data-vitrine-page="product" data-vitrine-product="22041">"#));
        assert!(html.contains(r#"data-vitrine-recs="also-bought" data-vitrine-strategy="also_bought" data-vitrine-product="22041" data-vitrine-k="6""#));
        assert!(html.contains(r#""item_name":"Record Frame 7\" Single \u003cb\u003e\u0026\u003c/b\u003e""#));
        assert!(html.contains(r#"<script async src="/vitrine/vitrine.js"></script>"#));
        assert!(html.contains("become?vid=&amp;next=/p/22041"));
        assert!(html.contains(ATTRIBUTION));
        // Issue 13: prices as the site's locale shows them, by the engine's formatter (the
        // recommendations' `price`); the GA4 event keeps the number.
        assert!(html.contains(r#"<p class="product-price">£2.55</p>"#), "{html}");
        assert!(html.contains("Free UK delivery over £50.00") && !html.contains("GBP</"), "{html}");
        assert!(html.contains(r#""currency":"GBP","value":2.55"#));
    }

    #[test]
    fn home_grid_round_robins_categories_and_skips_out_of_stock() {
        let catalog = Catalog {
            v: 1,
            products: vec![
                product("10001", "A1", "Home Decor", "in_stock"),
                product("10002", "A2", "Home Decor", "in_stock"),
                product("10003", "A3", "Home Decor", "out_of_stock"),
                product("20001", "B1", "Toys & Kids", "in_stock"),
                product("20002", "B2", "Toys & Kids", "in_stock"),
            ],
        };
        let buyers: HashMap<String, usize> =
            [("10001", 50), ("10002", 40), ("10003", 45), ("20001", 30), ("20002", 5)].into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let shop = Shop::new(&catalog, &buyers, &[]).unwrap();
        let ids: Vec<&str> = shop.home_grid().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["10001", "20001", "10002", "20002"]);
        let home = shop.home();
        assert!(home.contains(r#"<ul class="grid" data-vitrine-list="home-grid">"#));
        assert!(home.contains(r#"<li data-vitrine-item="10001">"#));
        assert!(home.contains(r#"<span class="price">£2.55</span>"#));
        assert!(home.contains(r#"data-vitrine-href="cta_href""#));
    }

    #[test]
    fn file_names_are_checked() {
        assert!(file_name("85123A").is_ok());
        assert!(file_name("../etc").is_err());
        assert!(file_name("").is_err());
    }
}
