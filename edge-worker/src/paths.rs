//! Which asset URLs the worker treats specially.

/// Where the snippet lives and what sits beside it: `vitrine.js`, the browser's `bundle.json` and its
/// shards (`m-<hash>/…`, `c-<hash>/…`), which the snippet fetches relative to its own URL.
pub const SNIPPET_DIR: &str = "/vitrine/";

/// Whether a `<script src>` is the snippet's loader served by this worker: `/vitrine/vitrine.js`,
/// root-relative (any query). A snippet on another host fetches its shards from there, which the
/// worker cannot name.
pub fn is_snippet(src: &str) -> bool {
    without_query(src).strip_prefix(SNIPPET_DIR) == Some("vitrine.js")
}

fn without_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or("")
}

/// A shard file, named after its content's hash, so it never changes: a model shard
/// (`/vitrine/m-<16 hex>/<n>.vtm` or `.../v<n>.vtm`) or a catalog shard (`/vitrine/c-<16 hex>/<n>.json`
/// or `.../s<n>.json`).
pub fn is_shard(url: &str) -> bool {
    let path = url.split_once("://").map_or(url, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    let path = without_query(path);
    let (rest, ext, prefix) = if let Some(rest) = path.strip_prefix("/vitrine/m-") {
        (rest, ".vtm", 'v')
    } else if let Some(rest) = path.strip_prefix("/vitrine/c-") {
        (rest, ".json", 's')
    } else {
        return false;
    };
    let Some((hash, file)) = rest.split_once('/') else { return false };
    let Some(n) = file.strip_suffix(ext) else { return false };
    let n = n.strip_prefix(prefix).unwrap_or(n);
    hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::{is_shard, is_snippet};

    #[test]
    fn the_snippet_is_vitrine_js_in_its_directory() {
        for yes in ["/vitrine/vitrine.js", "/vitrine/vitrine.js?v=3"] {
            assert!(is_snippet(yes), "{yes}");
        }
        let elsewhere = ["https://cdn.example/vitrine/vitrine.js", "//cdn.example/vitrine/vitrine.js"];
        for no in ["/vitrine.js", "/vitrine/vitrine.json", "/js/vitrine/vitrine.js", "vitrine/vitrine.js", ""].iter().chain(&elsewhere) {
            assert!(!is_snippet(no), "{no}");
        }
    }

    #[test]
    fn only_content_addressed_shards_are_immutable() {
        for yes in [
            "https://shop.example/vitrine/m-0123456789abcdef/0.vtm",
            "/vitrine/m-0123456789ABCDEF/511.vtm",
            "/vitrine/m-0123456789abcdef/v3.vtm",
            "http://h/vitrine/m-0123456789abcdef/7.vtm?x=1",
            "/vitrine/c-0123456789abcdef/0.json",
            "/vitrine/c-0123456789abcdef/s12.json",
        ] {
            assert!(is_shard(yes), "{yes}");
        }
        for no in [
            "/vitrine/bundle.json",
            "/vitrine/m-0123456789abcdef/",
            "/vitrine/m-0123456789abcde/1.vtm",
            "/vitrine/m-0123456789abcdeg/1.vtm",
            "/vitrine/m-0123456789abcdef/x.vtm",
            "/vitrine/m-0123456789abcdef/v.vtm",
            "/vitrine/m-0123456789abcdef/1.vtm/x",
            "/other/vitrine/m-0123456789abcdef/1.vtm",
            "https://h/p?/vitrine/m-0123456789abcdef/1.vtm",
            "/vitrine/c-0123456789abcdef/1.vtm",
            "/vitrine/m-0123456789abcdef/1.json",
            "/vitrine/c-0123456789abcdef/v1.json",
            "/vitrine/c-0123456789abcdef/s.json",
            "/vitrine/c-0123456789abcde/1.json",
        ] {
            assert!(!is_shard(no), "{no}");
        }
    }
}
