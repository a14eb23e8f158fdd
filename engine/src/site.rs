//! The site configuration: slots and their variants, list and recs settings. Conditions and
//! content templates are compiled when the configuration is loaded, so a runtime never meets a rule
//! that could have been rejected earlier.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::condition::{Condition, Env, Value};
use crate::error::{FormatError, V1};
use crate::time::Seconds;

#[derive(Debug, Clone)]
pub struct SiteConfig {
    pub slots: BTreeMap<String, Vec<Variant>>,
    pub list_boost: f64,
    pub recs_k: usize,
    /// A fixed "now" for demos on historical data; runtimes use it in place of their clock.
    pub demo_now: Option<Seconds>,
}

#[derive(Debug, Clone)]
pub struct Variant {
    pub id: String,
    pub when: Condition,
    pub when_src: String,
    pub content: BTreeMap<String, Template>,
}

/// A content string with `{path}` / `{path|fallback}` holes; it renders to text.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(Vec<Piece>);

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Hole { path: Vec<String>, fallback: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteDoc {
    v: V1,
    #[serde(default)]
    slots: BTreeMap<String, Vec<VariantDoc>>,
    #[serde(default)]
    lists: ListsDoc,
    #[serde(default)]
    recs: RecsDoc,
    #[serde(default, with = "crate::time::rfc3339_opt")]
    demo_now: Option<Seconds>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariantDoc {
    id: String,
    when: String,
    #[serde(default)]
    content: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListsDoc {
    #[serde(default = "one")]
    boost: f64,
}

impl Default for ListsDoc {
    fn default() -> Self {
        ListsDoc { boost: 1.0 }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecsDoc {
    #[serde(default = "eight")]
    k: usize,
}

impl Default for RecsDoc {
    fn default() -> Self {
        RecsDoc { k: 8 }
    }
}

fn one() -> f64 {
    1.0
}
fn eight() -> usize {
    8
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
}

impl SiteConfig {
    /// Reads and compiles `site.json`. Every broken condition or template is reported, each with
    /// its field path and a rendered `line:col` + caret inside the rule.
    pub fn from_json(text: &str) -> Result<SiteConfig, FormatError> {
        let doc: SiteDoc = crate::error::from_json("site", text)?;
        let _ = doc.v;
        let mut errors: Vec<String> = Vec::new();
        let mut slots = BTreeMap::new();
        for (slot, variants) in doc.slots {
            if !is_name(&slot) {
                errors.push(format!("field `slots.{slot}`: slot names are lowercase letters, digits, `_` and `-`"));
            }
            let mut out = Vec::new();
            for (i, v) in variants.into_iter().enumerate() {
                let at = format!("slots.{slot}[{i}]");
                if !is_name(&v.id) {
                    errors.push(format!("field `{at}.id`: expected lowercase letters, digits, `_` or `-`, found {:?}", v.id));
                }
                let when = match Condition::parse(&v.when) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        errors.push(format!("field `{at}.when`: {}", e.render(&v.when)));
                        None
                    }
                };
                let mut content = BTreeMap::new();
                for (name, src) in v.content {
                    if !is_name(&name) {
                        errors.push(format!("field `{at}.content.{name}`: field names are lowercase letters, digits, `_` and `-`"));
                    }
                    match Template::parse(&src) {
                        Ok(t) => {
                            content.insert(name, t);
                        }
                        Err(m) => errors.push(format!("field `{at}.content.{name}`: {m}")),
                    }
                }
                if let Some(when) = when {
                    out.push(Variant { id: v.id, when, when_src: v.when, content });
                }
            }
            slots.insert(slot, out);
        }
        if !errors.is_empty() {
            return Err(FormatError::rule("site", "", format!("{} error(s):\n{}", errors.len(), errors.join("\n"))));
        }
        Ok(SiteConfig { slots, list_boost: doc.lists.boost, recs_k: doc.recs.k.clamp(1, 50), demo_now: doc.demo_now })
    }
}

impl Template {
    pub fn parse(src: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = src;
        while let Some(i) = rest.find(['{', '}']) {
            text.push_str(&rest[..i]);
            let tail = &rest[i..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                text.push_str(&tail[..1]);
                rest = &tail[2..];
                continue;
            }
            if tail.starts_with('}') {
                return Err(format!("unmatched `}}` at byte {} (write `}}}}` for a literal brace)", src.len() - tail.len()));
            }
            let Some(end) = tail.find('}') else {
                return Err(format!("unclosed `{{` at byte {}", src.len() - tail.len()));
            };
            let inner = &tail[1..end];
            let (path, fallback) = inner.split_once('|').unwrap_or((inner, ""));
            let path: Vec<String> = path.trim().split('.').map(str::to_owned).collect();
            let check = Condition::parse(&path.join("."));
            if let Err(e) = check {
                return Err(format!("in `{{{inner}}}`: {}", e.kind));
            }
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(Piece::Hole { path, fallback: fallback.to_owned() });
            rest = &tail[end + 1..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template(pieces))
    }

    /// Renders to plain text (runtimes insert it as text, never as HTML).
    pub fn render(&self, env: &dyn Env) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Hole { path, fallback } => match env.lookup(path) {
                    Value::Str(s) if !s.trim().is_empty() => out.push_str(s.trim()),
                    Value::Num(n) => out.push_str(&format_num(n)),
                    Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                    Value::Time(t) => out.push_str(&crate::time::format(t)),
                    _ => out.push_str(fallback),
                },
            }
        }
        out
    }
}

fn format_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_error_with_location() {
        let text = r#"{"v":1,"slots":{"hero":[
            {"id":"a","when":"profile.orders.count >= ","content":{}},
            {"id":"B!","when":"profile.order.count > 1","content":{"headline":"Hi {profile.traits.first_name"}}]}}"#;
        let e = SiteConfig::from_json(text).unwrap_err().to_string();
        assert!(e.contains("4 error(s)"), "{e}");
        assert!(e.contains("slots.hero[0].when`: 1:25: expected a value"), "{e}");
        assert!(e.contains("did you mean `profile.orders.count`"), "{e}");
        assert!(e.contains("slots.hero[1].id"), "{e}");
        assert!(e.contains("unclosed `{`"), "{e}");
        let e = SiteConfig::from_json(r#"{"v":1,"slotz":{}}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `slotz`"), "{e}");
    }

    #[test]
    fn templates() {
        struct E;
        impl Env for E {
            fn lookup(&self, p: &[String]) -> Value {
                match p.join(".").as_str() {
                    "profile.traits.first_name" => Value::Str("<b>Ann</b>".into()),
                    "profile.orders.count" => Value::Num(3.0),
                    _ => Value::Null,
                }
            }
            fn now(&self) -> Seconds {
                0
            }
        }
        let check = |src: &str, out: &str| assert_eq!(Template::parse(src).unwrap().render(&E), out);
        check("Hi {profile.traits.first_name|friend}!", "Hi <b>Ann</b>!");
        check("Hi {profile.traits.nick|friend}!", "Hi friend!");
        check("{profile.orders.count} orders {{so far}}", "3 orders {so far}");
        assert!(Template::parse("{profile.nope}").is_err());
        assert!(Template::parse("a } b").is_err());
    }
}
