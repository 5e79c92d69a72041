//! A parsed YAML/JSON document as a tree that remembers where each value was (`line`,
//! `column`, 1-based; unknown for objects that came from the Kubernetes API as JSON), and a
//! serde `Deserializer` over it whose errors name the field path (`spec.http[0].timeout`) and
//! the line of the offending value. This is what lets a malformed object be reported as
//! `file.yaml:12: VirtualService prod/x: spec.http[0].timeout: invalid duration "abc"` and
//! skipped, while its neighbours load.

use std::fmt;

use serde::de::{
    self, Deserialize, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde_json::Value;

pub(crate) use super::field_error::FieldError;

/// One value of a document and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub value: NodeValue,
    /// 1-based line and column, when the document came from YAML text.
    pub position: Option<(u64, u64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The value under `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            NodeValue::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn line(&self) -> Option<u64> {
        self.position.map(|(line, _)| line)
    }

    /// A tree without positions from a JSON value (objects from the Kubernetes API).
    pub fn from_json(value: Value) -> Node {
        let value = match value {
            Value::Null => NodeValue::Null,
            Value::Bool(b) => NodeValue::Bool(b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => NodeValue::UInt(u),
                (_, Some(i), _) => NodeValue::Int(i),
                (_, _, f) => NodeValue::Float(f.unwrap_or(f64::NAN)),
            },
            Value::String(s) => NodeValue::Str(s),
            Value::Array(items) => NodeValue::Seq(items.into_iter().map(Node::from_json).collect()),
            Value::Object(map) => NodeValue::Map(
                map.into_iter()
                    .map(|(k, v)| (k, Node::from_json(v)))
                    .collect(),
            ),
        };
        Node {
            value,
            position: None,
        }
    }

    /// Deserializes `T` from this subtree; errors carry the path below this node.
    pub fn deserialize<T: de::DeserializeOwned>(&self) -> Result<T, FieldError> {
        T::deserialize(NodeDeserializer(self))
    }
}

/// Reading a YAML document: each child is wrapped in `serde_saphyr::Spanned` to keep its
/// position. Mapping keys that are numbers or booleans become their text.
impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<NodeValue>::deserialize(d)?;
        let at = spanned.referenced;
        Ok(Node {
            value: spanned.value,
            position: Some((at.line(), at.column())),
        })
    }
}

impl<'de> Deserialize<'de> for NodeValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = NodeValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }
    fn visit_none<E>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<NodeValue, D::Error> {
        NodeValue::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<NodeValue, E> {
        Ok(NodeValue::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<NodeValue, E> {
        Ok(NodeValue::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<NodeValue, E> {
        Ok(NodeValue::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<NodeValue, E> {
        Ok(NodeValue::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<NodeValue, E> {
        Ok(NodeValue::Str(v.to_string()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(NodeValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<NodeValue>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key_text(key), value));
        }
        Ok(NodeValue::Map(entries))
    }
}

fn key_text(key: NodeValue) -> String {
    match key {
        NodeValue::Str(s) => s,
        NodeValue::Int(i) => i.to_string(),
        NodeValue::UInt(u) => u.to_string(),
        NodeValue::Float(f) => f.to_string(),
        NodeValue::Bool(b) => b.to_string(),
        NodeValue::Null => "null".to_string(),
        NodeValue::Seq(_) | NodeValue::Map(_) => "<complex key>".to_string(),
    }
}

struct NodeDeserializer<'a>(&'a Node);

impl<'de> de::Deserializer<'de> for NodeDeserializer<'_> {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        match &self.0.value {
            NodeValue::Null => visitor.visit_unit(),
            NodeValue::Bool(b) => visitor.visit_bool(*b),
            NodeValue::Int(i) => visitor.visit_i64(*i),
            NodeValue::UInt(u) => visitor.visit_u64(*u),
            NodeValue::Float(f) => visitor.visit_f64(*f),
            NodeValue::Str(s) => visitor.visit_str(s),
            NodeValue::Seq(items) => visitor.visit_seq(Items { items, next: 0 }),
            NodeValue::Map(entries) => visitor.visit_map(Entries {
                entries,
                next: 0,
                current: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        match self.0.value {
            NodeValue::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct Items<'a> {
    items: &'a [Node],
    next: usize,
}

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = FieldError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, FieldError> {
        let Some(item) = self.items.get(self.next) else {
            return Ok(None);
        };
        let index = self.next;
        self.next += 1;
        seed.deserialize(NodeDeserializer(item))
            .map(Some)
            .map_err(|e| e.within(format!("[{index}]"), item.line()))
    }
}

struct Entries<'a> {
    entries: &'a [(String, Node)],
    next: usize,
    current: Option<&'a (String, Node)>,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = FieldError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, FieldError> {
        let Some(entry) = self.entries.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        self.current = Some(entry);
        seed.deserialize(entry.0.as_str().into_deserializer())
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, FieldError> {
        let (key, node) = self
            .current
            .take()
            .ok_or_else(|| <FieldError as de::Error>::custom("value requested before its key"))?;
        seed.deserialize(NodeDeserializer(node))
            .map_err(|e| e.within(key.clone(), node.line()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        max_connections: Option<u32>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        host: String,
        items: Vec<Inner>,
    }

    fn parse(yaml: &str) -> Node {
        serde_saphyr::from_str::<Node>(yaml).unwrap()
    }

    #[test]
    fn positions_are_kept_per_value() {
        let node = parse("a: 1\nb:\n  c: [x, z]\n");
        assert_eq!(node.get("a").unwrap().position, Some((1, 4)));
        let c = node.get("b").unwrap().get("c").unwrap();
        assert_eq!(c.line(), Some(3));
        match &c.value {
            NodeValue::Seq(items) => assert_eq!(items[1].value, NodeValue::Str("z".into())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn type_errors_name_the_path_and_line() {
        let node = parse("host: h\nitems:\n- maxConnections: 1\n- maxConnections: lots\n");
        let err = node.deserialize::<Outer>().unwrap_err();
        assert_eq!(err.field(), "items[1].maxConnections");
        assert_eq!(err.line, Some(4));
        assert!(
            err.message.contains("invalid type: string \"lots\""),
            "{}",
            err.message
        );
    }

    #[test]
    fn missing_fields_are_part_of_the_path() {
        let node = parse("outer:\n  items: []\n");
        let err = node
            .get("outer")
            .unwrap()
            .deserialize::<Outer>()
            .unwrap_err();
        assert_eq!(err.field(), "host");
        let err = err.within("spec".into(), Some(1));
        assert_eq!(err.field(), "spec.host");
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn json_values_convert_without_positions() {
        let node =
            Node::from_json(serde_json::json!({"host": "h", "items": [{"maxConnections": 5}]}));
        let outer: Outer = node.deserialize().unwrap();
        assert_eq!(outer.items[0].max_connections, Some(5));
        assert_eq!(node.position, None);
    }
}
