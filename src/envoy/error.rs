//! Errors and warnings shared by every Envoy admin parser.
//!
//! A *fatal* [`ParseError`] means the input as a whole could not be read (not JSON at all, empty,
//! binary, unknown kind). A [`LineIssue`] is a warning about one damaged line or object: the
//! parser skipped it, recorded where it was, and went on.

use std::fmt;

/// Where in an input something was found. Lines and columns are 1-based; `byte` is the 0-based
/// offset of the start of the line (or of the offending byte when `column` is set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub byte: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column > 0 {
            write!(f, "{}:{}", self.line, self.column)
        } else {
            write!(f, "{}", self.line)
        }
    }
}

/// A line (or JSON object) that was skipped or only partly understood. Parsing continued.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineIssue {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LineIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.line, self.message)
    }
}

/// The input could not be parsed at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("1: empty input (expected a {0})")]
    Empty(&'static str),
    #[error(
        "{line}: binary data at byte offset {byte} (0-based), not text; is this really an Envoy admin capture?"
    )]
    Binary { line: usize, byte: usize },
    #[error("{}: {reason}", .position)]
    Syntax { position: Position, reason: String },
    #[error("1: unknown kind of input: {0}")]
    UnknownKind(String),
}

impl ParseError {
    /// A syntax error at a 1-based line and column (0 = unknown column).
    pub fn syntax(line: usize, column: usize, reason: impl Into<String>) -> Self {
        ParseError::Syntax {
            position: Position {
                line,
                column,
                byte: 0,
            },
            reason: reason.into(),
        }
    }

    /// Converts a serde_json error into a positioned syntax error.
    pub fn from_json(err: &serde_json::Error) -> Self {
        let reason = err.to_string();
        // serde_json appends " at line L column C"; keep the reason without it.
        let reason = match reason.rfind(" at line ") {
            Some(i) => reason[..i].to_string(),
            None => reason,
        };
        Self::syntax(err.line(), err.column(), reason)
    }

    /// The 1-based line the error points at.
    pub fn line(&self) -> usize {
        match self {
            ParseError::Empty(_) | ParseError::UnknownKind(_) => 1,
            ParseError::Binary { line, .. } => *line,
            ParseError::Syntax { position, .. } => position.line,
        }
    }
}

/// A short name for a JSON value's type, for messages ("expected a string, found a number").
pub fn json_type_name(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks that a capture is non-empty text and returns it as `&str`.
///
/// `what` names the expected kind for the message ("stats capture"). Invalid UTF-8 or a NUL
/// byte means binary data: the error names the line and byte where it was found.
pub fn require_text<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a str, ParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty(what));
    }
    let bad = match std::str::from_utf8(bytes) {
        Ok(text) => match memchr::memchr(0, bytes) {
            None => return Ok(text),
            Some(nul) => nul,
        },
        Err(e) => e.valid_up_to(),
    };
    let line = 1 + memchr::memchr_iter(b'\n', &bytes[..bad]).count();
    Err(ParseError::Binary { line, byte: bad })
}

/// Like [`require_text`] but only looks at the start of the input (and scans on only while it
/// is blank), for parsers that validate the rest line by line as they go.
pub fn require_text_start(bytes: &[u8], what: &'static str) -> Result<(), ParseError> {
    const HEAD: usize = 4096;
    let head = &bytes[..bytes.len().min(HEAD)];
    if head.iter().all(u8::is_ascii_whitespace) && bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty(what));
    }
    let bad = match std::str::from_utf8(head) {
        // A multi-byte character cut by the 4 KiB window is not binary data.
        Err(e) if e.error_len().is_some() => Some(e.valid_up_to()),
        _ => memchr::memchr(0, head),
    };
    match bad {
        None => Ok(()),
        Some(byte) => {
            let line = 1 + memchr::memchr_iter(b'\n', &bytes[..byte]).count();
            Err(ParseError::Binary { line, byte })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_whitespace_inputs_are_reported_as_empty() {
        assert_eq!(require_text(b"", "stats"), Err(ParseError::Empty("stats")));
        assert_eq!(
            require_text(b" \n\t\n", "stats"),
            Err(ParseError::Empty("stats"))
        );
    }

    #[test]
    fn binary_input_names_line_and_byte() {
        let err = require_text(b"a: 1\nb: \x00\x01", "stats").unwrap_err();
        assert_eq!(err, ParseError::Binary { line: 2, byte: 8 });
        assert_eq!(err.line(), 2);
        let err = require_text(b"ok\n\xff\xfe", "stats").unwrap_err();
        assert_eq!(err, ParseError::Binary { line: 2, byte: 3 });
    }

    #[test]
    fn text_start_check_looks_at_the_head_only() {
        assert_eq!(
            require_text_start(b"  \n", "stats"),
            Err(ParseError::Empty("stats"))
        );
        assert_eq!(
            require_text_start(b"a: 1\n\x00", "stats"),
            Err(ParseError::Binary { line: 2, byte: 5 })
        );
        let mut big = vec![b'a'; 5000];
        big.push(0);
        assert_eq!(
            require_text_start(&big, "stats"),
            Ok(()),
            "beyond the head: the parser's job"
        );
        let mut cut = vec![b'a'; 4095];
        cut.extend_from_slice("é".as_bytes());
        assert_eq!(require_text_start(&cut, "stats"), Ok(()));
    }

    #[test]
    fn json_errors_keep_line_and_column() {
        let err = serde_json::from_str::<serde_json::Value>("{\n  \"a\": ,\n}").unwrap_err();
        let err = ParseError::from_json(&err);
        assert_eq!(err.line(), 2);
        assert!(err.to_string().starts_with("2:8: expected value"), "{err}");
    }
}
