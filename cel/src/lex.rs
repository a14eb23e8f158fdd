//! The CEL lexer: source text to tokens with byte spans, collecting every lexical error.

use super::{CelError, CelErrorKind, Span};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// The magnitude of an int literal; the parser applies a leading `-` and checks the range.
    Int(u64),
    Uint(u64),
    Double(f64),
    Str(String),
    Bytes(Vec<u8>),
    Ident(String),
    /// A backquoted field name, `` `content-type` ``.
    Quoted(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Dot,
    Comma,
    Colon,
    Question,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Eof,
}

impl Tok {
    /// How the token reads in an "expected X, found Y" message.
    pub fn describe(&self) -> String {
        let punct = match self {
            Tok::Int(n) | Tok::Uint(n) => return format!("number {n}"),
            Tok::Double(d) => return format!("number {d}"),
            Tok::Str(_) => return "a string literal".into(),
            Tok::Bytes(_) => return "a bytes literal".into(),
            Tok::Ident(name) | Tok::Quoted(name) => return format!("`{name}`"),
            Tok::Eof => return "the end of the expression".into(),
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Dot => ".",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::Question => "?",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Bang => "!",
            Tok::EqEq => "==",
            Tok::NotEq => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
        };
        format!("`{punct}`")
    }
}

/// Tokenizes `src`; the token list always ends with `Eof`.
pub(crate) fn lex(src: &str) -> (Vec<(Tok, Span)>, Vec<CelError>) {
    let mut lx = Lexer { src, b: src.as_bytes(), pos: 0, toks: Vec::new(), errors: Vec::new() };
    lx.run();
    let end = src.len();
    lx.toks.push((Tok::Eof, (end, end)));
    (lx.toks, lx.errors)
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    toks: Vec<(Tok, Span)>,
    errors: Vec<CelError>,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> u8 {
        self.b.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn run(&mut self) {
        while self.pos < self.b.len() {
            let start = self.pos;
            let c = self.b[start];
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => self.pos += 1,
                b'/' if self.peek(1) == b'/' => {
                    while self.pos < self.b.len() && self.b[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                b'0'..=b'9' => self.number(start),
                b'.' if self.peek(1).is_ascii_digit() => self.number(start),
                b'\'' | b'"' => self.string(start, false, false),
                b'`' => self.quoted_ident(start),
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                    // A string prefix (r, b, rb, br in either case) directly before a quote.
                    let (mut raw, mut bytes, mut j) = (false, false, start);
                    for _ in 0..2 {
                        match self.b.get(j) {
                            Some(b'r' | b'R') if !raw => raw = true,
                            Some(b'b' | b'B') if !bytes => bytes = true,
                            _ => break,
                        }
                        j += 1;
                    }
                    if j > start && matches!(self.b.get(j), Some(b'\'' | b'"')) {
                        self.pos = j;
                        self.string(start, raw, bytes);
                    } else {
                        while self.pos < self.b.len() && (self.b[self.pos].is_ascii_alphanumeric() || self.b[self.pos] == b'_') {
                            self.pos += 1;
                        }
                        self.push(Tok::Ident(self.src[start..self.pos].to_string()), start);
                    }
                }
                _ => self.punct(start, c),
            }
        }
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.toks.push((tok, (start, self.pos)));
    }

    fn error(&mut self, span: Span, kind: CelErrorKind) {
        self.errors.push(CelError::new(span, kind));
    }

    fn punct(&mut self, start: usize, c: u8) {
        let two = match (c, self.peek(1)) {
            (b'=', b'=') => Some(Tok::EqEq),
            (b'!', b'=') => Some(Tok::NotEq),
            (b'<', b'=') => Some(Tok::Le),
            (b'>', b'=') => Some(Tok::Ge),
            (b'&', b'&') => Some(Tok::AndAnd),
            (b'|', b'|') => Some(Tok::OrOr),
            _ => None,
        };
        if let Some(tok) = two {
            self.pos += 2;
            return self.push(tok, start);
        }
        let tok = match c {
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b'{' => Tok::LBrace,
            b'}' => Tok::RBrace,
            b'.' => Tok::Dot,
            b',' => Tok::Comma,
            b':' => Tok::Colon,
            b'?' => Tok::Question,
            b'+' => Tok::Plus,
            b'-' => Tok::Minus,
            b'*' => Tok::Star,
            b'/' => Tok::Slash,
            b'%' => Tok::Percent,
            b'!' => Tok::Bang,
            b'<' => Tok::Lt,
            b'>' => Tok::Gt,
            _ => {
                let ch = self.src[start..].chars().next().unwrap_or('\0');
                self.pos += ch.len_utf8().max(1);
                return self.error((start, self.pos), CelErrorKind::UnexpectedChar(ch));
            }
        };
        self.pos += 1;
        self.push(tok, start);
    }

    fn number(&mut self, start: usize) {
        let b = self.b;
        let digits = |mut i: usize, hex: bool| {
            while i < b.len() && (if hex { b[i].is_ascii_hexdigit() } else { b[i].is_ascii_digit() }) {
                i += 1;
            }
            i
        };
        if b[start] == b'0' && matches!(self.peek(1), b'x' | b'X') {
            let end = digits(start + 2, true);
            self.pos = end;
            let value = u64::from_str_radix(&self.src[start + 2..end], 16);
            return self.integer(start, value.ok());
        }
        let mut i = digits(start, false);
        let mut float = false;
        if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i = digits(i + 1, false);
            float = true;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if b.get(j).is_some_and(u8::is_ascii_digit) {
                i = digits(j, false);
                float = true;
            }
        }
        self.pos = i;
        if float {
            match self.src[start..i].parse::<f64>() {
                Ok(d) => self.push(Tok::Double(d), start),
                Err(_) => self.error((start, i), CelErrorKind::InvalidNumber(self.src[start..i].to_string())),
            }
        } else {
            let value = self.src[start..i].parse::<u64>();
            self.integer(start, value.ok());
        }
    }

    fn integer(&mut self, start: usize, value: Option<u64>) {
        let unsigned = matches!(self.peek(0), b'u' | b'U');
        if unsigned {
            self.pos += 1;
        }
        match value {
            Some(v) if unsigned => self.push(Tok::Uint(v), start),
            Some(v) => self.push(Tok::Int(v), start),
            None => self.error((start, self.pos), CelErrorKind::InvalidNumber(self.src[start..self.pos].to_string())),
        }
    }

    fn quoted_ident(&mut self, start: usize) {
        let rest = &self.src[start + 1..];
        match rest.find(['`', '\n', '\r']) {
            Some(len) if len > 0 && rest.as_bytes()[len] == b'`' => {
                self.pos = start + 1 + len + 1;
                self.push(Tok::Quoted(rest[..len].to_string()), start);
            }
            _ => {
                self.pos = self.b.len();
                self.error((start, start + 1), CelErrorKind::UnterminatedString);
            }
        }
    }

    /// A string or bytes literal; `self.pos` is at the opening quote, `start` at any prefix.
    fn string(&mut self, start: usize, raw: bool, bytes: bool) {
        let b = self.b;
        let q = b[self.pos];
        let triple = self.peek(1) == q && self.peek(2) == q;
        self.pos += if triple { 3 } else { 1 };
        let mut out: Vec<u8> = Vec::new();
        let mut ok = true;
        loop {
            let Some(&c) = b.get(self.pos) else {
                self.error((start, self.pos), CelErrorKind::UnterminatedString);
                return;
            };
            if c == q {
                if !triple {
                    self.pos += 1;
                    break;
                }
                if self.peek(1) == q && self.peek(2) == q {
                    self.pos += 3;
                    break;
                }
            }
            if !triple && (c == b'\n' || c == b'\r') {
                self.error((start, self.pos), CelErrorKind::UnterminatedString);
                // Resume after the line so later errors are still reported.
                self.pos += 1;
                return;
            }
            if c == b'\\' && !raw {
                ok &= self.escape(&mut out, bytes);
            } else {
                // Copying byte by byte keeps multi-byte characters whole: the loop only stops at
                // ASCII bytes, which never occur inside a UTF-8 sequence.
                out.push(c);
                self.pos += 1;
            }
        }
        if !ok {
            return;
        }
        if bytes {
            self.push(Tok::Bytes(out), start);
        } else {
            match String::from_utf8(out) {
                Ok(s) => self.push(Tok::Str(s), start),
                Err(_) => self.error((start, self.pos), CelErrorKind::InvalidEscape("producing invalid UTF-8".into())),
            }
        }
    }

    /// One escape sequence at `self.pos` (the backslash). Returns false after reporting an error.
    fn escape(&mut self, out: &mut Vec<u8>, bytes: bool) -> bool {
        let start = self.pos;
        let c = self.peek(1);
        self.pos += 2;
        let simple = match c {
            b'\\' => Some(b'\\'),
            b'?' => Some(b'?'),
            b'"' => Some(b'"'),
            b'\'' => Some(b'\''),
            b'`' => Some(b'`'),
            b'a' => Some(7),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            return true;
        }
        let (radix, len) = match c {
            b'x' | b'X' => (16, 2),
            b'0'..=b'3' => {
                self.pos -= 1; // the first octal digit is part of the value
                (8, 3)
            }
            b'u' if !bytes => (16, 4),
            b'U' if !bytes => (16, 8),
            _ => {
                // Step over a whole (possibly multi-byte) character so spans stay on boundaries.
                let width = self.src.get(start + 1..).and_then(|r| r.chars().next()).map_or(0, char::len_utf8);
                self.pos = (start + 1 + width).min(self.b.len());
                self.error((start, self.pos), CelErrorKind::InvalidEscape(self.src[start..self.pos].to_string()));
                return false;
            }
        };
        // Take only the digits that are there, so a short escape does not swallow the quote.
        let is_digit = |c: &u8| {
            if radix == 8 {
                (b'0'..=b'7').contains(c)
            } else {
                c.is_ascii_hexdigit()
            }
        };
        let found = self.b[self.pos..].iter().take(len).take_while(|c| is_digit(c)).count();
        let digits = &self.src[self.pos..self.pos + found];
        self.pos += found;
        let value = u32::from_str_radix(digits, radix).ok().filter(|&v| found == len && (radix != 8 || v <= 0o377));
        let Some(value) = value else {
            self.error((start, self.pos), CelErrorKind::InvalidEscape(self.src[start..self.pos].to_string()));
            return false;
        };
        let end = self.pos;
        if bytes {
            // \x and octal escapes are octets in bytes literals (\u is rejected above).
            out.push(value as u8);
            return true;
        }
        match char::from_u32(value) {
            Some(ch) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                true
            }
            None => {
                self.error((start, end), CelErrorKind::InvalidEscape(self.src[start..end].to_string()));
                false
            }
        }
    }
}
