//! A large catalog for scale tests and benchmarks: a real catalog (the demo's) padded with synthetic
//! products up to N. Synthetic titles come from their own 5,000-word vocabulary (common words
//! commoner), in 2,000 product types of their own and 50 brands, so they share no title word,
//! type or brand with the real products: a page about real products decides exactly as with the
//! real catalog alone, while every file holding the catalog is as large as N makes it.
//!
//!     cargo run --release -p vitrine-cli --example big_catalog -- CATALOG N OUT

use vitrine_engine::Catalog;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, n, out] = args.as_slice() else {
        anyhow::bail!("usage: big_catalog CATALOG N OUT");
    };
    let n: usize = n.parse()?;
    let real = Catalog::from_json(&std::fs::read_to_string(input)?).map_err(|e| anyhow::anyhow!("{input}: {e}"))?;
    // xorshift64: a fixed catalog for a fixed N.
    let mut state = 88_172_645_463_325_252u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let vocab: Vec<String> = (0..5000).map(|i| format!("Zq{i}")).collect();
    let mut products: Vec<String> = real.products().iter().map(serde_json::to_string).collect::<Result<_, _>>()?;
    for i in products.len()..n {
        let words = 2 + (next() % 4) as usize;
        let title: Vec<&str> = (0..words)
            .map(|_| {
                let r = next() % 5000;
                vocab[(next() % (r + 1)) as usize].as_str()
            })
            .collect();
        let (ty, brand, pence) = (next() % 2000, next() % 50, 50 + next() % 5000);
        products.push(format!(
            r#"{{"id":"S{i:06}","title":"{}","link":"/p/S{i:06}","price":"{}.{:02} GBP","availability":"in_stock","product_type":"Synthetic {ty}","brand":"Maker {brand}","image_link":"/img/S{i:06}.svg"}}"#,
            title.join(" "),
            pence / 100,
            pence % 100
        ));
    }
    let text = format!("{{\"v\":1,\"products\":[\n{}\n]}}\n", products.join(",\n"));
    // Checked as any catalog before it is written.
    Catalog::from_json(&text).map_err(|e| anyhow::anyhow!("generated catalog: {e}"))?;
    std::fs::write(out, text)?;
    eprintln!("big_catalog: {} real + {} synthetic products -> {out}", real.len(), n.saturating_sub(real.len()));
    Ok(())
}
