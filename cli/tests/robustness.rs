//! Issue 12, "CLI robustness": every finding of the hostile probe as a test. Nothing a user can
//! type or feed the CLI panics; every input error is located (`file:line:col`) and exits with 2;
//! no failure or interruption leaves partial or temporary output behind.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;
use common::{data, stderr, tmp, vitrine};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every name under `dir`, recursively, sorted (directories end with `/`).
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            if p.is_dir() {
                out.push(format!("{rel}/"));
                walk(base, &p, out);
            } else {
                out.push(rel);
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn no_temporaries(dir: &Path) {
    let names = listing(dir);
    assert!(!names.iter().any(|n| n.contains(".tmp")), "temporary output left behind: {names:?}");
}

fn trained(dir: &Path) -> PathBuf {
    let model = dir.join("model.json");
    let o = vitrine(&["train", "--interactions", &data("interactions.csv"), "--out", s(&model)]);
    assert!(o.status.success(), "{}", stderr(&o));
    model
}

const SITE: &str = r#"{"v":1,"slots":{"hero":[{"id":"garden","when":"page.category == 'Garden'","content":{"headline":"Spring","cta_href":"/c/garden"}}]}}"#;

/// A catalog JSON with every item of the test interactions.
fn catalog(dir: &Path) -> PathBuf {
    let mut products = Vec::new();
    for family in ["garden", "kitchen"] {
        for i in 0..10 {
            products.push(serde_json::json!({"id": format!("{family}-{i}"), "title": format!("{family} {i}"), "link": format!("/p/{family}-{i}"), "price": "4.50 GBP", "product_type": family}));
        }
    }
    let path = dir.join("catalog.json");
    std::fs::write(&path, serde_json::json!({"v": 1, "products": products}).to_string()).unwrap();
    path
}

#[test]
fn issue_12_recommend_bounds_k() {
    let dir = tmp("k");
    let model = trained(&dir);
    for k in ["18446744073709551615", "100000000000", "1001", "0", "-1"] {
        let o = vitrine(&["recommend", "--model", s(&model), "--histories", &data("histories.jsonl"), "--k", k]);
        assert_eq!(o.status.code(), Some(2), "--k {k}: {}", stderr(&o));
        assert!(stderr(&o).contains("--k"), "{}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
    let o = vitrine(&["recommend", "--model", s(&model), "--histories", &data("histories.jsonl"), "--k", "1000"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn issue_12_every_numeric_flag_is_validated() {
    let dir = tmp("flags");
    let out = dir.join("out");
    let orders = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo-shop/data/orders.csv.gz");
    let (orders, o) = (orders.to_str().unwrap(), s(&out));
    let interactions = data("interactions.csv");
    let train =
        |extra: &[&'static str]| -> Vec<String> { ["train", "--interactions", &interactions, "--out", o].iter().chain(extra).map(|a| a.to_string()).collect() };
    let profiles = |extra: &[&'static str]| -> Vec<String> {
        ["profiles", "--orders", orders, "--now", "2011-12-10 00:00:00", "--out", o].iter().chain(extra).map(|a| a.to_string()).collect()
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--half-life-days", "0"], "--half-life-days"),
        (vec!["--half-life-days", "NaN"], "--half-life-days"),
        (vec!["--half-life-days=-3"], "--half-life-days"),
        (vec!["--lambda", "inf"], "--lambda"),
        (vec!["--lambda", "NaN"], "--lambda"),
        (vec!["--lambda", "0"], "--lambda"),
        (vec!["--neighborhood", "0"], "--neighborhood"),
        (vec!["--neighborhood", "1"], "--neighborhood"),
        (vec!["--neighborhood", "1000000"], "--neighborhood"),
        (vec!["--neighbors", "0"], "--neighbors"),
        (vec!["--neighbors", "18446744073709551615"], "--neighbors"),
    ];
    for (extra, flag) in &cases {
        let args = train(extra);
        let r = vitrine(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", stderr(&r));
        assert!(stderr(&r).contains(flag), "{args:?}: {}", stderr(&r));
    }
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--at-risk-ratio", "NaN"], "--at-risk-ratio"),
        (vec!["--lapsed-ratio", "inf"], "--lapsed-ratio"),
        (vec!["--min-gap-days=-1"], "--min-gap-days"),
        (vec!["--default-gap-days", "0"], "--default-gap-days"),
        (vec!["--loyal-orders", "0"], "--loyal-orders"),
        (vec!["--clv-horizon-days", "0"], "--clv-horizon-days"),
        (vec!["--new-days=-1"], "--new-days"),
    ];
    for (extra, flag) in &cases {
        let args = profiles(extra);
        let r = vitrine(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", stderr(&r));
        assert!(stderr(&r).contains(flag), "{args:?}: {}", stderr(&r));
    }
    let r = vitrine(&["clv", "--orders", orders, "--calibration-end", "2011-06-01", "--horizon-days", "90", "--out", o, "--penalizer", "NaN"]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stderr(&r).contains("--penalizer"), "{}", stderr(&r));
    assert!(!out.exists(), "no output from a refused flag");
    no_temporaries(&dir);
}

#[test]
fn issue_12_out_onto_a_directory_leaves_nothing() {
    let dir = tmp("isdir");
    let target = dir.join("isdir");
    std::fs::create_dir(&target).unwrap();
    let orders = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo-shop/data/orders.csv.gz");
    for args in [
        vec!["train", "--interactions", &data("interactions.csv"), "--out", s(&target)],
        vec!["profiles", "--orders", orders.to_str().unwrap(), "--now", "2011-12-10 00:00:00", "--out", s(&target)],
    ] {
        let o = vitrine(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
        assert_eq!(listing(&dir), ["isdir/"], "{args:?}");
    }
}

#[test]
fn issue_12_bundle_writes_all_its_outputs_or_none() {
    let dir = tmp("bundle");
    let model = trained(&dir);
    let catalog = catalog(&dir);
    let site = dir.join("site.json");
    std::fs::write(&site, SITE).unwrap();
    let before = listing(&dir);
    let browser = dir.join("browser");
    let bundle = |out: &Path, shards: &str| {
        vitrine(&[
            "bundle",
            "--site",
            s(&site),
            "--catalog",
            s(&catalog),
            "--model",
            s(&model),
            "--out",
            s(out),
            "--shards",
            shards,
            "--sharded-out",
            s(&browser),
        ])
    };
    // --out is a directory: refused before any shard is written.
    std::fs::create_dir(dir.join("taken")).unwrap();
    let o = bundle(&dir.join("taken"), "2");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!browser.exists(), "{:?}", listing(&dir));
    std::fs::remove_dir(dir.join("taken")).unwrap();
    // --out under a file: its directory cannot be made, and nothing else is written either.
    let o = bundle(&site.join("bundle.json"), "2");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!browser.exists(), "{:?}", listing(&dir));
    assert_eq!(listing(&dir), before);
    // --shards beyond the model's items or the CLI's bound.
    for shards in ["1048577", "0"] {
        let o = bundle(&dir.join("b.json"), shards);
        assert_eq!(o.status.code(), Some(2), "{shards}: {}", stderr(&o));
        assert!(stderr(&o).contains("--shards"), "{}", stderr(&o));
    }
    for shards in ["1048576", "21"] {
        let o = bundle(&dir.join("b.json"), shards);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("--shards: expected at most one shard per model item or catalog product (10 items"), "{}", stderr(&o));
    }
    assert_eq!(listing(&dir), before);
    // And when everything is right, everything is there.
    let o = bundle(&dir.join("b.json"), "3");
    assert!(o.status.success(), "{}", stderr(&o));
    let names = listing(&browser);
    assert!(names.contains(&"bundle.json".to_owned()) && names.iter().any(|n| n.ends_with(".vtm")), "{names:?}");
    assert!(dir.join("b.json").is_file());
    no_temporaries(&dir);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn issue_12_gzip_bombs_are_bounded() {
    let dir = tmp("bomb");
    let mut text = b"user,item,timestamp\n".to_vec();
    while text.len() < 3 << 20 {
        text.extend_from_slice(b"u1,a,2011-01-01 10:00:00\n");
    }
    let bomb = dir.join("bomb.csv.gz");
    std::fs::write(&bomb, gzip(&text)).unwrap();
    let out = dir.join("model.json");
    let o = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["train", "--interactions", s(&bomb), "--out", s(&out)])
        .env("VITRINE_MAX_INFLATED_MB", "2")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("{}: inflates to more than 2 MB", bomb.display())), "{}", stderr(&o));
    assert!(!out.exists());
    // Under the default limit the same file is read.
    let o = vitrine(&["train", "--interactions", s(&bomb), "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A truncated gzip stream is an input error too.
    let mut cut = gzip(&text);
    cut.truncate(cut.len() / 2);
    std::fs::write(&bomb, cut).unwrap();
    let o = vitrine(&["train", "--interactions", s(&bomb), "--out", s(&dir.join("m2.json"))]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("bomb.csv.gz: not valid gzip"), "{}", stderr(&o));
    no_temporaries(&dir);
}

#[test]
fn issue_12_non_utf8_input_is_located_with_exit_2() {
    let dir = tmp("utf8");
    let model = trained(&dir);
    let catalog = catalog(&dir);
    let site = dir.join("site.json");
    std::fs::write(&site, SITE).unwrap();
    let out = dir.join("out");
    let bad = |name: &str, before: &[u8], after: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, [before, &[0xff, 0xfe], after].concat()).unwrap();
        p
    };
    let csv = bad("i.csv", "user,item,timestamp\nü1,".as_bytes(), b"a,2011-01-01 10:00:00\n");
    let tsv = bad("c.tsv", b"id\ttitle\tlink\tprice\nA\tT", b"\t/p/A\t1 GBP\n");
    let json = bad("s.json", b"{\"v\":1,\n \"slots\": {\"", b"\": []}}");
    let jsonl = bad("p.jsonl", b"{\"v\":1}\n{", b"}\n");
    let gz = dir.join("i.csv.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&csv).unwrap())).unwrap();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["train", "--interactions", s(&csv), "--out", s(&out)], format!("{}:2:4:", csv.display())),
        (vec!["train", "--interactions", s(&gz), "--out", s(&out)], format!("{}:2:4:", gz.display())),
        (vec!["bundle", "--site", s(&site), "--catalog", s(&tsv), "--model", s(&model), "--out", s(&out)], format!("{}:2:4:", tsv.display())),
        (vec!["bundle", "--site", s(&json), "--catalog", s(&catalog), "--model", s(&model), "--out", s(&out)], format!("{}:2:13:", json.display())),
        (vec!["check", "--site", s(&json)], format!("{}:2:13:", json.display())),
        (vec!["kv-bulk", "--profiles", s(&jsonl), "--out", s(&out)], format!("{}:2:2:", jsonl.display())),
        (vec!["recommend", "--model", s(&model), "--histories", s(&jsonl), "--k", "2"], format!("{}:2:2:", jsonl.display())),
        (vec!["eval", "--expr", "x", "--vars", s(&jsonl)], format!("{}:2:2:", jsonl.display())),
    ];
    for (args, at) in &cases {
        let o = vitrine(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(&format!("{at} expected UTF-8 text, found the byte 0xff")), "{args:?}: {}", stderr(&o));
        assert!(!out.exists());
    }
    no_temporaries(&dir);
}

#[test]
fn issue_12_order_lines_whose_amount_overflows_are_rejected() {
    let dir = tmp("amount");
    let orders = dir.join("orders.csv");
    let header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";
    let good = "536365,85123A,HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n";
    std::fs::write(&orders, format!("{header}{good}536366,22423,STAND,1e308,2010-12-02 08:26:00,1e308,17850.0,United Kingdom\n")).unwrap();
    let out = dir.join("profiles.jsonl");
    let o = vitrine(&["profiles", "--orders", s(&orders), "--now", "2011-12-10 00:00:00", "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{}:3:20: field `Quantity`: expected quantity × price within ±1e15, found 1e308 × 1e308 = inf", orders.display())),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    for cmd in [&["kpis", "--orders", s(&orders), "--out", s(&out)][..], &["interactions", "--orders", s(&orders), "--out", s(&out)]] {
        let o = vitrine(cmd);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {}", stderr(&o));
        assert!(!out.exists());
    }
    // Negative quantities are Online Retail's returns and cancellations: still read.
    std::fs::write(&orders, format!("{header}{good}C536379,85123A,HOLDER,-6,2010-12-03 08:26:00,2.55,17850.0,United Kingdom\n")).unwrap();
    let o = vitrine(&["profiles", "--orders", s(&orders), "--now", "2011-12-10 00:00:00", "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 cancellation"), "{}", stderr(&o));
    let profile = vitrine_engine::ProfileSnapshot::from_json(std::fs::read_to_string(&out).unwrap().lines().next().unwrap()).unwrap();
    assert!(profile.orders.revenue.is_finite());
    no_temporaries(&dir);
}

#[test]
fn issue_12_check_rejects_unsafe_hrefs_with_their_field_path() {
    let dir = tmp("href");
    let site = dir.join("site.json");
    std::fs::write(&site, SITE.replace("/c/garden", "javascript:alert(1)")).unwrap();
    let o = vitrine(&["check", "--site", s(&site)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("slots.hero[0].content.cta_href") && stderr(&o).contains("expected a relative or http(s) URL"), "{}", stderr(&o));
    std::fs::write(&site, SITE).unwrap();
    assert!(vitrine(&["check", "--site", s(&site)]).status.success());
}

#[test]
fn issue_12_rows_that_cannot_be_right_are_located() {
    let dir = tmp("rows");
    let model = trained(&dir);
    let site = dir.join("site.json");
    std::fs::write(&site, SITE).unwrap();
    // A catalog TSV row with more fields than the header.
    let tsv = dir.join("feed.tsv");
    std::fs::write(&tsv, "id\ttitle\tlink\tprice\ngarden-0\tTrowel\t/p/g0\t4.50 GBP\textra\n").unwrap();
    let out = dir.join("bundle.json");
    let o = vitrine(&["bundle", "--site", s(&site), "--catalog", s(&tsv), "--model", s(&model), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("{}:2:32:", tsv.display())) && stderr(&o).contains("expected at most 4 tab-separated fields"), "{}", stderr(&o));
    // A negative interaction quantity (a weight: nothing means "less than not interacting").
    let csv = dir.join("i.csv");
    std::fs::write(&csv, "user,item,timestamp,event,quantity\nu1,a,2011-01-01 10:00:00,purchase,-2\n").unwrap();
    let o = vitrine(&["train", "--interactions", s(&csv), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("{}:2:35: field `quantity`: expected a quantity >= 0, found -2", csv.display())), "{}", stderr(&o));
    assert!(!out.exists());
    no_temporaries(&dir);
}

/// `count` histories over the test model's items.
fn histories(dir: &Path, count: usize) -> PathBuf {
    let path = dir.join("histories.jsonl");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..count {
        writeln!(w, r#"{{"user":"u{i}","items":["garden-{}","kitchen-{}"]}}"#, i % 10, (i / 10) % 10).unwrap();
    }
    w.flush().unwrap();
    path
}

#[test]
fn issue_12_recommend_streams_into_out() {
    let dir = tmp("stream");
    let model = trained(&dir);
    let hist = histories(&dir, 500);
    let out = dir.join("recs.jsonl");
    let stdout = vitrine(&["recommend", "--model", s(&model), "--histories", s(&hist), "--k", "4"]);
    assert!(stdout.status.success(), "{}", stderr(&stdout));
    let o = vitrine(&["recommend", "--model", s(&model), "--histories", s(&hist), "--k", "4", "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), stdout.stdout, "the same lines, to a file");
    assert!(o.stdout.is_empty());
    // A bad history anywhere: nothing on stdout, no file.
    std::fs::OpenOptions::new().append(true).open(&hist).unwrap().write_all(b"{\"user\": 1}\n").unwrap();
    std::fs::remove_file(&out).unwrap();
    for extra in [&[][..], &["--out", s(&out)]] {
        let o = vitrine(&[&["recommend", "--model", s(&model), "--histories", s(&hist), "--k", "4"][..], extra].concat());
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("histories.jsonl:501:"), "{}", stderr(&o));
        assert!(o.stdout.is_empty() && !out.exists());
    }
    no_temporaries(&dir);
}

/// Starts `args`, waits until a temporary output appears under `watch`, sends `signal`, and checks
/// the process exits 130 leaving no temporary or final output.
fn interrupt(args: &[&str], watch: &Path, finals: &[&Path], signal: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vitrine")).args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let started = std::time::Instant::now();
    loop {
        if listing(watch).iter().any(|n| n.contains(".tmp")) {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{args:?} finished ({status}) before a temporary output was seen: make the input bigger");
        }
        assert!(started.elapsed().as_secs() < 120, "no temporary output after 120 s");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let kill = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{signal}: {}", stderr(&out));
    no_temporaries(watch);
    for f in finals {
        assert!(!f.exists(), "{} exists after {signal}", f.display());
    }
}

#[test]
fn issue_12_interrupted_runs_leave_no_temporary_output() {
    let dir = tmp("signal");
    let model = trained(&dir);
    let hist = histories(&dir, 400_000);
    let out = dir.join("recs.jsonl");
    for signal in ["-INT", "-TERM"] {
        interrupt(&["recommend", "--model", s(&model), "--histories", s(&hist), "--k", "20", "--out", s(&out)], &dir, &[&out], signal);
    }
    // A sharded bundle, interrupted while its shard directories are being written.
    let site = dir.join("site.json");
    std::fs::write(&site, SITE).unwrap();
    let catalog = catalog(&dir);
    let browser = dir.join("browser");
    let bundle = dir.join("bundle.json");
    let args =
        ["bundle", "--site", s(&site), "--catalog", s(&catalog), "--model", s(&model), "--out", s(&bundle), "--shards", "20", "--sharded-out", s(&browser)];
    // The bundle is small: run it until one is caught in the act (each try is a few milliseconds).
    for signal in ["-INT", "-TERM"] {
        let child = Command::new(env!("CARGO_BIN_EXE_vitrine")).args(args).stderr(Stdio::piped()).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1));
        let _ = Command::new("kill").args([signal, &child.id().to_string()]).status();
        let out = child.wait_with_output().unwrap();
        let status = out.status;
        no_temporaries(&dir);
        // 130: the handler cleaned up; no code: killed before the handler was installed.
        if status.code() == Some(130) || status.code().is_none() {
            assert!(!bundle.exists() && !browser.exists(), "{signal}: interrupted, yet output was written: {:?}", listing(&dir));
        } else {
            assert!(status.success() && bundle.exists(), "{signal}: {status}: {}", stderr(&out));
            std::fs::remove_file(&bundle).unwrap();
            let _ = std::fs::remove_dir_all(&browser);
        }
    }
}

/// xorshift64*: fixed pseudo-random corruptions per seed.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// `bytes` with one corruption: cut short, a byte changed, a delimiter or invalid byte inserted,
/// or a line repeated.
fn corrupt(bytes: &[u8], state: &mut u64) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let at = (next(state) as usize) % (out.len() + 1);
    match next(state) % 5 {
        0 => out.truncate(at),
        1 if at < out.len() => out[at] = (next(state) % 256) as u8,
        2 => {
            let specials: [&[u8]; 10] = [b",", b"\t", b"\"", b"\n", &[0xff], b"{", b"}", b"-", b"1e308", b"javascript:"];
            let s = specials[(next(state) % 10) as usize];
            out.splice(at..at, s.iter().copied());
        }
        _ => {
            let start = out[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let end = out[at..].iter().position(|&b| b == b'\n').map_or(out.len(), |i| at + i + 1);
            let line = out[start..end].to_vec();
            out.splice(start..start, line);
        }
    }
    out
}

/// The "no partial output" property for every input format: whatever one corruption of a valid
/// input does, the command succeeds (exit 0, output present) or refuses the input (exit 2, no
/// output), never panics or fails otherwise, and never leaves a temporary file.
#[test]
fn issue_12_corrupted_inputs_never_leave_partial_output() {
    let dir = tmp("property");
    let model = trained(&dir);
    let catalog = catalog(&dir);
    let site = dir.join("site.json");
    std::fs::write(&site, SITE).unwrap();
    let header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";
    let orders = format!(
        "{header}536365,85123A,HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n536366,22423,STAND,2,2010-12-02 09:00:00,12.75,13047.0,France\nC536379,85123A,HOLDER,-1,2010-12-03 08:26:00,2.55,17850.0,United Kingdom\n"
    );
    let tsv = "id\ttitle\tlink\tprice\tavailability\tproduct_type\ngarden-0\tTrowel\t/p/g0\t4.50 GBP\tin stock\tGarden\nkitchen-1\tPan\t/p/k1\t9.00 GBP\tout of stock\tKitchen\n";
    let formats: Vec<(&str, Vec<u8>)> = vec![
        ("orders.csv", orders.into_bytes()),
        ("interactions.csv", std::fs::read(data("interactions.csv")).unwrap()),
        ("catalog.tsv", tsv.as_bytes().to_vec()),
        ("catalog.json", std::fs::read(&catalog).unwrap()),
        ("site.json", SITE.as_bytes().to_vec()),
        ("histories.jsonl", std::fs::read(data("histories.jsonl")).unwrap()),
    ];
    let work = dir.join("work");
    let mut state = 0x1234_5678_9abc_def1;
    for (name, valid) in &formats {
        for round in 0..40 {
            let _ = std::fs::remove_dir_all(&work);
            std::fs::create_dir_all(&work).unwrap();
            let input = work.join(name);
            let bytes = if round == 0 { valid.clone() } else { corrupt(valid, &mut state) };
            std::fs::write(&input, &bytes).unwrap();
            let out = work.join("out").join("result");
            let browser = work.join("browser");
            let (i, o, m, c, b) = (s(&input), s(&out), s(&model), s(&catalog), s(&browser));
            let args: Vec<&str> = match *name {
                "orders.csv" => vec!["profiles", "--orders", i, "--now", "2011-12-10 00:00:00", "--out", o],
                "interactions.csv" => vec!["train", "--interactions", i, "--out", o],
                "catalog.tsv" | "catalog.json" => {
                    vec!["bundle", "--site", s(&site), "--catalog", i, "--model", m, "--out", o, "--shards", "2", "--sharded-out", b]
                }
                "site.json" => vec!["bundle", "--site", i, "--catalog", c, "--model", m, "--out", o, "--shards", "2", "--sharded-out", b],
                _ => vec!["recommend", "--model", m, "--histories", i, "--k", "3", "--out", o],
            };
            let r = vitrine(&args);
            let what = format!("{name} round {round}: {:?}", String::from_utf8_lossy(&bytes));
            match r.status.code() {
                Some(0) => assert!(out.is_file(), "{what}: success without output"),
                Some(2) => {
                    assert!(stderr(&r).contains(&input.display().to_string()), "{what}: the error names the file: {}", stderr(&r));
                    assert_eq!(listing(&work), [name.to_string()], "{what}: output after a refusal");
                }
                _ => panic!("{what}: {:?}: {}", r.status, stderr(&r)),
            }
            assert!(round > 0 || r.status.success(), "{what}: the valid input must pass: {}", stderr(&r));
            no_temporaries(&work);
        }
    }
}
