//! Which asset URLs the worker treats specially.

/// `/vitrine/m-<16 hex>/<n>.vtm` or `.../v<n>.vtm`: a model shard, named after the model's content, so it never changes.
pub fn is_model_shard(url: &str) -> bool {
    let path = url.split_once("://").map_or(url, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    let path = path.split(['?', '#']).next().unwrap_or("");
    let Some(rest) = path.strip_prefix("/vitrine/m-") else { return false };
    let Some((hash, file)) = rest.split_once('/') else { return false };
    let Some(n) = file.strip_suffix(".vtm") else { return false };
    let n = n.strip_prefix('v').unwrap_or(n);
    hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
}


#[cfg(test)]
mod tests {
    use super::is_model_shard;

    #[test]
    fn only_content_addressed_shards_are_immutable() {
        for yes in ["https://shop.example/vitrine/m-0123456789abcdef/0.vtm", "/vitrine/m-0123456789ABCDEF/511.vtm", "/vitrine/m-0123456789abcdef/v3.vtm", "http://h/vitrine/m-0123456789abcdef/7.vtm?x=1"] {
            assert!(is_model_shard(yes), "{yes}");
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
        ] {
            assert!(!is_model_shard(no), "{no}");
        }
    }
}
