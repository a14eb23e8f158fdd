//! Located errors for every boundary format the engine reads (catalog, profile, events, site
//! configuration, model): where (line, column, field path), what was expected, what was found.

use std::fmt;

/// An input document that could not be read. `line`/`column` are 1-based and 0 when unknown.
#[derive(Debug, Clone, PartialEq)]
pub struct FormatError {
    /// Which format was being read, e.g. `"catalog"`.
    pub format: &'static str,
    pub line: usize,
    pub column: usize,
    /// Dotted path of the offending field, e.g. `products[3].price`; empty for the document itself.
    pub field: String,
    pub kind: FormatErrorKind,
}

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FormatErrorKind {
    /// The text is not valid JSON (or TSV) at all.
    Syntax(String),
    /// A value has the wrong type or shape; the message says expected vs found.
    Invalid(String),
    /// The `v` field names a version this engine does not read.
    Version { found: u64, supported: u64 },
    /// A value is well formed but breaks a rule of the format (duplicate id, dangling reference...).
    Rule(String),
}

impl FormatError {
    pub(crate) fn rule(format: &'static str, field: impl Into<String>, msg: impl Into<String>) -> Self {
        FormatError { format, line: 0, column: 0, field: field.into(), kind: FormatErrorKind::Rule(msg.into()) }
    }
}

impl FormatError {
    /// The message without its `line:col: ` prefix, for callers that prefix a file name too.
    pub fn describe(&self) -> String {
        Describe(self).to_string()
    }
}

struct Describe<'a>(&'a FormatError);

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: ", self.line, self.column)?;
        }
        Describe(self).fmt(f)
    }
}

impl fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        write!(f, "{}", e.format)?;
        if !e.field.is_empty() {
            write!(f, " field `{}`", e.field)?;
        }
        match &e.kind {
            FormatErrorKind::Syntax(m) => write!(f, ": syntax error: {m}"),
            FormatErrorKind::Invalid(m) => write!(f, ": {m}"),
            FormatErrorKind::Version { found, supported } => {
                write!(f, ": unsupported version: expected {supported}, found {found}")
            }
            FormatErrorKind::Rule(m) => write!(f, ": {m}"),
        }
    }
}

impl std::error::Error for FormatError {}

impl From<Box<FormatError>> for FormatError {
    fn from(e: Box<FormatError>) -> FormatError {
        *e
    }
}

/// Reads a versioned JSON document, turning serde's error into a located [`FormatError`] without
/// serde's own " at line X column Y" suffix. With the `field-paths` feature (the CLI's) the error also
/// names the field path; the Wasm builds leave it off, since it doubles every deserializer's code
/// (26 KB gzip of the snippet) for messages that only reach a console.
#[cfg(not(feature = "field-paths"))]
pub(crate) fn from_json<'de, T: serde::Deserialize<'de>>(format: &'static str, text: &'de str) -> Result<T, FormatError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = T::deserialize(&mut de).map_err(|e| located(format, String::new(), &e))?;
    de.end().map_err(|e| located(format, String::new(), &e))?;
    Ok(v)
}

#[cfg(feature = "field-paths")]
pub(crate) fn from_json<'de, T: serde::Deserialize<'de>>(format: &'static str, text: &'de str) -> Result<T, FormatError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let result = serde_path_to_error::deserialize(&mut de);
    let result = match result {
        Ok(v) => match de.end() {
            Ok(()) => return Ok(v),
            Err(e) => return Err(located(format, String::new(), &e)),
        },
        Err(e) => e,
    };
    let field = result.path().to_string();
    // "." is the document itself; "?" is serde_path_to_error's "before any field" (a syntax error
    // at the start or the end of the document): neither names a field.
    let field = if field == "." || field == "?" { String::new() } else { field };
    Err(located(format, field, result.inner()))
}

fn located(format: &'static str, field: String, inner: &serde_json::Error) -> FormatError {
    {
        let mut msg = inner.to_string();
        if let Some(at) = msg.rfind(" at line ") {
            msg.truncate(at);
        }
        let kind = if inner.is_syntax() || inner.is_eof() {
            FormatErrorKind::Syntax(msg)
        } else if let Some(found) = msg.strip_prefix(VERSION_MARK).and_then(|m| m.parse().ok()) {
            FormatErrorKind::Version { found, supported: 1 }
        } else {
            FormatErrorKind::Invalid(msg)
        };
        FormatError { format, line: inner.line(), column: inner.column(), field, kind }
    }
}

const VERSION_MARK: &str = "unsupported version ";

/// The `"v": 1` field every boundary format carries; any other value is a located error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct V1;

impl serde::Serialize for V1 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(1)
    }
}

impl<'de> serde::Deserialize<'de> for V1 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u64::deserialize(d)?;
        if v == 1 {
            Ok(V1)
        } else {
            Err(serde::de::Error::custom(format!("{VERSION_MARK}{v}")))
        }
    }
}

/// The field path a test expects in an error: only builds with `field-paths` record it.
#[cfg(test)]
pub(crate) fn expected_field(path: &str) -> &str {
    if cfg!(feature = "field-paths") {
        path
    } else {
        ""
    }
}
