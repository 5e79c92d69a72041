//! The error of the located-tree deserializer ([`super::node`]): the field path below the
//! deserialized node and the line of the offending value, so a bad object can be reported as
//! `file:line: Kind ns/name: spec.http[0].timeout: invalid duration "abc"`.

use std::fmt;

use serde::de;

/// A value that did not fit the schema: where (`path`, `line`) and why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    /// Path segments from the node that was deserialized: `spec`, `http`, `[0]`, `timeout`.
    pub path: Vec<String>,
    pub line: Option<u64>,
    pub message: String,
}

impl FieldError {
    /// Adds the enclosing segment; the first (innermost) node with a position sets the line.
    pub fn within(mut self, segment: String, line: Option<u64>) -> Self {
        self.path.insert(0, segment);
        self.line = self.line.or(line);
        self
    }

    /// `spec.http[0].timeout`; a serde "missing field `host`" adds `host` to the path.
    pub fn field(&self) -> String {
        let mut out = String::new();
        let missing = self
            .message
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'));
        for seg in self.path.iter().map(String::as_str).chain(missing) {
            if !out.is_empty() && !seg.starts_with('[') {
                out.push('.');
            }
            out.push_str(seg);
        }
        out
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field(), self.message)
    }
}

impl std::error::Error for FieldError {}

impl de::Error for FieldError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        FieldError {
            path: Vec::new(),
            line: None,
            message: msg.to_string(),
        }
    }
}
