//! `Node`: a JSON value together with its JSON-pointer path, with typed readers that record a
//! [`LineIssue`] naming the path when a field has the wrong type or a bad value. Every reader
//! treats an absent field as `None`; only present-but-wrong fields produce issues.

use std::cell::RefCell;
use std::time::Duration;

use serde_json::Value;

use crate::envoy::error::json_type_name;

use super::duration::duration_from_json;
use crate::envoy::error::LineIssue;

/// A position in the parsed dump. `issues` is shared by every node of one parse.
#[derive(Clone)]
pub(super) struct Node<'a> {
    pub value: &'a Value,
    pub path: String,
    issues: &'a RefCell<Vec<LineIssue>>,
}

/// Escapes one JSON-pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`).
fn escape_segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

impl<'a> Node<'a> {
    /// The document root (path `""`).
    pub fn root(value: &'a Value, issues: &'a RefCell<Vec<LineIssue>>) -> Self {
        Node {
            value,
            path: String::new(),
            issues,
        }
    }

    /// Records a warning about this node. JSON has no useful line here, so `line` is 0 and
    /// the message starts with the JSON pointer.
    pub fn warn(&self, message: impl std::fmt::Display) {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        self.issues.borrow_mut().push(LineIssue {
            line: 0,
            message: format!("{path}: {message}"),
        });
    }

    /// The child `key`, if this is an object that has it (JSON `null` counts as absent).
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        let value = self.value.get(key).filter(|v| !v.is_null())?;
        Some(Node {
            value,
            path: format!("{}/{}", self.path, escape_segment(key)),
            issues: self.issues,
        })
    }

    /// The child `key` if it is an object; a warning if it is present with another type.
    pub fn object(&self, key: &str) -> Option<Node<'a>> {
        let child = self.get(key)?;
        if child.value.is_object() {
            Some(child)
        } else {
            child.warn(format_args!(
                "expected an object, found {}",
                json_type_name(child.value)
            ));
            None
        }
    }

    /// The elements of the array `key` (empty when absent; a warning if not an array).
    pub fn items(&self, key: &str) -> Vec<Node<'a>> {
        let Some(child) = self.get(key) else {
            return Vec::new();
        };
        let Some(array) = child.value.as_array() else {
            child.warn(format_args!(
                "expected an array, found {}",
                json_type_name(child.value)
            ));
            return Vec::new();
        };
        let issues = self.issues;
        (array.iter().enumerate())
            .map(|(i, value)| Node {
                value,
                path: format!("{}/{i}", child.path),
                issues,
            })
            .collect()
    }

    /// This node as a string, warning if it is another type.
    pub fn as_str(&self) -> Option<&'a str> {
        let s = self.value.as_str();
        if s.is_none() {
            self.warn(format_args!(
                "expected a string, found {}",
                json_type_name(self.value)
            ));
        }
        s
    }

    /// The string field `key`.
    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.get(key)?.as_str()
    }

    /// The string field `key`, owned.
    pub fn string(&self, key: &str) -> Option<String> {
        self.str(key).map(str::to_owned)
    }

    /// The strings of the array `key`; non-string elements are warned about and skipped.
    pub fn strings(&self, key: &str) -> Vec<String> {
        let items = self.items(key);
        items
            .iter()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect()
    }

    /// This node as an unsigned integer: a JSON number, or a decimal string (protobuf JSON
    /// writes 64-bit integers as strings).
    pub fn as_uint(&self) -> Option<u64> {
        let n = match self.value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        if n.is_none() {
            self.warn(format_args!(
                "expected an unsigned integer, found {}",
                self.value
            ));
        }
        n
    }

    /// The unsigned integer field `key`.
    pub fn uint(&self, key: &str) -> Option<u64> {
        self.get(key)?.as_uint()
    }

    /// This node as a `u32` (protobuf `UInt32Value`), warning when out of range.
    pub fn as_u32(&self) -> Option<u32> {
        let n = self.as_uint()?;
        let n32 = u32::try_from(n).ok();
        if n32.is_none() {
            self.warn(format_args!("{n} does not fit in 32 bits"));
        }
        n32
    }

    /// The `u32` field `key`.
    pub fn u32(&self, key: &str) -> Option<u32> {
        self.get(key)?.as_u32()
    }

    /// The boolean field `key`.
    pub fn bool(&self, key: &str) -> Option<bool> {
        let child = self.get(key)?;
        let b = child.value.as_bool();
        if b.is_none() {
            child.warn(format_args!(
                "expected true or false, found {}",
                child.value
            ));
        }
        b
    }

    /// The duration field `key` (`"1.5s"` or `{"seconds", "nanos"}`).
    pub fn duration(&self, key: &str) -> Option<Duration> {
        let child = self.get(key)?;
        duration_from_json(child.value)
            .map_err(|e| child.warn(e))
            .ok()
    }

    /// The `@type` URL of this node, if any.
    pub fn type_url(&self) -> Option<&'a str> {
        self.value.get("@type").and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn readers_warn_with_the_json_pointer_of_the_bad_field() {
        let value = json!({"a/b": {"n": "x", "t": "5", "big": 5_000_000_000u64, "d": "1m"}});
        let issues = RefCell::new(Vec::new());
        let root = Node::root(&value, &issues);
        let inner = root.object("a/b").unwrap();
        assert_eq!(inner.path, "/a~1b");
        assert_eq!(inner.uint("n"), None);
        assert_eq!(inner.uint("t"), Some(5));
        assert_eq!(inner.u32("big"), None);
        assert_eq!(inner.duration("d"), None);
        assert_eq!(inner.str("missing"), None);
        assert_eq!(root.items("a/b").len(), 0);
        let messages: Vec<String> = issues.into_inner().into_iter().map(|i| i.message).collect();
        assert_eq!(
            messages,
            [
                "/a~1b/n: expected an unsigned integer, found \"x\"",
                "/a~1b/big: 5000000000 does not fit in 32 bits",
                "/a~1b/d: invalid duration \"1m\" (expected e.g. \"1.5s\")",
                "/a~1b: expected an array, found an object",
            ]
        );
    }
}
