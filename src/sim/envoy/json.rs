//! A small JSON value that keeps key order, with the two layouts Envoy's admin uses.
//!
//! Envoy serialises protobuf messages with keys in field-number order, and `serde_json`'s map
//! (without `preserve_order`) would sort them; so the emulator builds its documents with this
//! type instead. [`Json::pretty`] is protobuf's pretty printer as Envoy calls it (`/clusters?
//! format=json`, `/config_dump`, `/server_info`): one space of indent per level, `"key": value`,
//! `{}` / `[]` for empty containers and a final newline. [`Json::compact`] is the one-line form
//! of `/stats?format=json`. Strings are escaped by `serde_json`.

/// An ordered JSON document. Numbers are kept as their printed text so that each writer
/// decides the number format (u64 exactly, Envoy's double format, protobuf's int64 strings).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json {
    Null,
    Bool(bool),
    Number(String),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// An empty object, to be filled with [`Json::with`].
    pub(super) fn object() -> Json {
        Json::Object(Vec::new())
    }

    pub(super) fn str(text: impl Into<String>) -> Json {
        Json::Str(text.into())
    }

    pub(super) fn uint(value: u64) -> Json {
        Json::Number(value.to_string())
    }

    pub(super) fn array(items: impl IntoIterator<Item = Json>) -> Json {
        Json::Array(items.into_iter().collect())
    }

    /// Appends `key: value` to an object (ignored on other values).
    pub(super) fn with(mut self, key: &str, value: Json) -> Json {
        if let Json::Object(fields) = &mut self {
            fields.push((key.to_string(), value));
        }
        self
    }

    /// Appends `key: value` when there is a value: protobuf leaves unset fields out.
    pub(super) fn with_some(self, key: &str, value: Option<Json>) -> Json {
        match value {
            Some(v) => self.with(key, v),
            None => self,
        }
    }

    /// One line, no spaces: `{"a":1,"b":[true,null]}`.
    pub(super) fn compact(&self) -> String {
        let mut out = String::new();
        self.write_compact(&mut out);
        out
    }

    /// Protobuf's pretty layout (see the module header), ending with a newline.
    pub(super) fn pretty(&self) -> String {
        let mut out = String::new();
        self.write_pretty(&mut out, 0);
        out.push('\n');
        out
    }

    fn write_scalar(&self, out: &mut String) -> bool {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(n),
            Json::Str(s) => push_string(out, s),
            Json::Array(_) | Json::Object(_) => return false,
        }
        true
    }

    fn write_compact(&self, out: &mut String) {
        if self.write_scalar(out) {
            return;
        }
        match self {
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_compact(out);
                }
                out.push(']');
            }
            Json::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_string(out, key);
                    out.push(':');
                    value.write_compact(out);
                }
                out.push('}');
            }
            _ => {}
        }
    }

    fn write_pretty(&self, out: &mut String, depth: usize) {
        if self.write_scalar(out) {
            return;
        }
        let (open, close, entries): (char, char, Vec<(Option<&str>, &Json)>) = match self {
            Json::Array(items) => ('[', ']', items.iter().map(|v| (None, v)).collect()),
            Json::Object(fields) => (
                '{',
                '}',
                fields.iter().map(|(k, v)| (Some(k.as_str()), v)).collect(),
            ),
            _ => return,
        };
        out.push(open);
        for (i, (key, value)) in entries.iter().enumerate() {
            out.push_str(if i > 0 { ",\n" } else { "\n" });
            out.push_str(&" ".repeat(depth + 1));
            if let Some(key) = key {
                push_string(out, key);
                out.push_str(": ");
            }
            value.write_pretty(out, depth + 1);
        }
        if !entries.is_empty() {
            out.push('\n');
            out.push_str(&" ".repeat(depth));
        }
        out.push(close);
    }
}

fn push_string(out: &mut String, text: &str) {
    match serde_json::to_string(text) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Json {
        Json::object()
            .with("name", Json::str("a|b"))
            .with("list", Json::array([Json::uint(1), Json::Null]))
            .with("empty", Json::object())
            .with("none", Json::array([]))
            .with_some("skipped", None)
            .with("flag", Json::Bool(true))
    }

    #[test]
    fn pretty_is_protobufs_one_space_layout() {
        let expected = "{\n \"name\": \"a|b\",\n \"list\": [\n  1,\n  null\n ],\n \"empty\": {},\n \"none\": [],\n \"flag\": true\n}\n";
        assert_eq!(sample().pretty(), expected);
    }

    #[test]
    fn compact_keeps_key_order_and_escapes() {
        assert_eq!(
            sample().compact(),
            r#"{"name":"a|b","list":[1,null],"empty":{},"none":[],"flag":true}"#
        );
        assert_eq!(Json::str("q\"\n").compact(), r#""q\"\n""#);
    }
}
