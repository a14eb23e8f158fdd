//! Issue 12, consent and privacy in the CLI: consent per customer from `profiles --traits`, and the
//! data-subject request kit `vitrine privacy export|delete`.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::PathBuf;

mod common;
use common::{stderr, tmp, vitrine};

/// Three customers' orders; `c-101`, `c-102`, `c-103`.
fn orders(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("orders.csv");
    let mut csv = String::from("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n");
    for (i, c) in ["101.0", "102.0", "103.0"].iter().enumerate() {
        csv += &format!("A{i},22423,CAKE STAND,1,2011-11-0{} 10:00:00,10.00,{c},United Kingdom\n", i + 1);
    }
    std::fs::write(&path, csv).unwrap();
    path
}

fn consents(profiles: &std::path::Path) -> Vec<(String, bool)> {
    std::fs::read_to_string(profiles)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|p| (p["id"].as_str().unwrap().to_owned(), p["consent"]["personalization"].as_bool().unwrap()))
        .collect()
}

#[test]
fn issue_12_profiles_take_consent_per_customer_from_the_traits_file() {
    let dir = tmp("consent");
    let orders = orders(&dir);
    let traits = dir.join("traits.jsonl");
    // c-101 granted, c-102 withdrew (a consent line without traits), c-103 has no record.
    std::fs::write(
        &traits,
        "{\"id\": \"c-101\", \"traits\": {\"tier\": \"gold\"}, \"consent\": {\"personalization\": true}}\n{\"id\": \"c-102\", \"consent\": {\"personalization\": false}}\n",
    )
    .unwrap();
    let out = dir.join("profiles.jsonl");
    for (default, c103) in [("denied", false), ("granted", true)] {
        let o = vitrine(&[
            "profiles",
            "--orders",
            orders.to_str().unwrap(),
            "--now",
            "2011-12-10 00:00:00",
            "--traits",
            traits.to_str().unwrap(),
            "--consent",
            default,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(consents(&out), [("c-101".into(), true), ("c-102".into(), false), ("c-103".into(), c103)], "--consent {default}");
    }
    // A consent that is not a boolean is located.
    std::fs::write(&traits, "{\"id\": \"c-101\", \"consent\": {\"personalization\": \"yes\"}}\n").unwrap();
    let o = vitrine(&[
        "profiles",
        "--orders",
        orders.to_str().unwrap(),
        "--now",
        "2011-12-10 00:00:00",
        "--traits",
        traits.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(&format!("{}:1:", traits.display())), "{}", stderr(&o));
}

#[test]
fn issue_12_privacy_export_and_delete_against_the_kv_store_files() {
    let dir = tmp("dsr");
    let orders = orders(&dir);
    let profiles = dir.join("profiles.jsonl");
    let bulk = dir.join("kv.json");
    let o = vitrine(&[
        "profiles",
        "--orders",
        orders.to_str().unwrap(),
        "--now",
        "2011-12-10 00:00:00",
        "--consent",
        "granted",
        "--out",
        profiles.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = vitrine(&["kv-bulk", "--profiles", profiles.to_str().unwrap(), "--out", bulk.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (p, b) = (profiles.to_str().unwrap(), bulk.to_str().unwrap());

    // Export: the snapshot as stored, one JSON line per id.
    let o = vitrine(&["privacy", "export", "--id", "c-102", "--kv-bulk", b]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], "c-102");
    assert_eq!(lines[0]["orders"]["count"], 1);

    // An id stored nowhere is an error, and nothing is written.
    let before = std::fs::read(&bulk).unwrap();
    let o = vitrine(&["privacy", "delete", "--id", "c-102", "--id", "c-999", "--kv-bulk", b, "--profiles", p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no stored profile for c-999"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&bulk).unwrap(), before);

    // Delete: both files lose the customer, and the wrangler command for the live store is printed.
    let o = vitrine(&["privacy", "delete", "--id", "c-102", "--kv-bulk", b, "--profiles", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8(o.stdout).unwrap(), "wrangler kv key delete --binding PROFILES --remote profile:c-102\n");
    let kv: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&bulk).unwrap()).unwrap();
    assert_eq!(kv.iter().map(|e| e["key"].as_str().unwrap()).collect::<Vec<_>>(), ["profile:c-101", "profile:c-103"]);
    assert_eq!(consents(&profiles).into_iter().map(|(id, _)| id).collect::<Vec<_>>(), ["c-101", "c-103"]);
    let o = vitrine(&["privacy", "export", "--id", "c-102", "--kv-bulk", b]);
    assert_eq!(o.status.code(), Some(2));

    // Several at once: a `wrangler kv bulk delete` key list.
    let list = dir.join("delete.json");
    let o = vitrine(&["privacy", "delete", "--id", "c-101", "--id", "c-103", "--kv-bulk", b, "--delete-list", list.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&list).unwrap(), r#"["profile:c-101","profile:c-103"]"#);
    assert!(String::from_utf8(o.stdout).unwrap().starts_with("wrangler kv bulk delete --binding PROFILES --remote --force "));
    assert_eq!(std::fs::read_to_string(&bulk).unwrap(), "[]");
    // No store named: an input error.
    assert_eq!(vitrine(&["privacy", "export", "--id", "c-101"]).status.code(), Some(2));
}
