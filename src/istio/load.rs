//! Loading DestinationRules and VirtualServices from YAML files (one or many `---` documents,
//! or a `kind: List` as `kubectl get dr,vs -A -o yaml` prints) and from JSON objects as the
//! Kubernetes API returns them. Nothing here is fatal: a YAML syntax error keeps the documents
//! before it, a malformed object is reported (file:line, namespace/name, field) and skipped,
//! other kinds are counted and ignored.

use std::io::Cursor;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::destination_rule::DestinationRule;
pub use super::issue::{ConfigIssue, IssueKind};
use super::node::{FieldError, Node, NodeValue};
use super::source::{Kind, ObjectRef};
use super::virtual_service::VirtualService;

/// The API group every accepted object must belong to (v1, v1beta1 or v1alpha3).
const GROUP: &str = "networking.istio.io/";
const VERSIONS: &[&str] = &["v1", "v1beta1", "v1alpha3"];

/// YAML nesting limit. Building the located tree recurses once per level, so this bounds the
/// stack (a debug build on a 2 MiB thread overflows near 50). The deepest real documents, the
/// Istio CRD schemas, nest 28 levels; a DestinationRule about 10.
const MAX_DEPTH: usize = 40;

/// One loaded object with its metadata.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Object<T> {
    /// `metadata.namespace`, or `default` when absent (see `namespace_defaulted`).
    pub namespace: String,
    /// True when the object had no namespace and `default` was assumed, as `kubectl apply`
    /// without `-n` would do.
    pub namespace_defaulted: bool,
    pub name: String,
    /// `networking.istio.io/v1`, `…/v1beta1` or `…/v1alpha3`.
    pub api_version: String,
    pub spec: T,
    /// `file.yaml:LINE` of the object's first line, or the source name (e.g. `kube`).
    pub source: String,
}

impl<T> Object<T> {
    pub fn object_ref(&self, kind: Kind) -> ObjectRef {
        ObjectRef {
            kind,
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// Every DestinationRule and VirtualService loaded, in input order, plus what went wrong.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct IstioConfig {
    pub destination_rules: Vec<Object<DestinationRule>>,
    pub virtual_services: Vec<Object<VirtualService>>,
    pub issues: Vec<ConfigIssue>,
    /// Objects of other kinds (Gateway, ServiceEntry, Deployment, CRDs, …) that were ignored.
    pub ignored_kinds: usize,
}

impl IstioConfig {
    /// Appends another load (e.g. the next file); input order is kept, which matters for the
    /// "first one wins" rule among equal DestinationRules.
    pub fn merge(&mut self, other: IstioConfig) {
        self.destination_rules.extend(other.destination_rules);
        self.virtual_services.extend(other.virtual_services);
        self.issues.extend(other.issues);
        self.ignored_kinds += other.ignored_kinds;
    }
}

/// Loads every document of a YAML text. `source` names it in issues and `Object::source`.
pub fn load_yaml(text: &str, source: &str) -> IstioConfig {
    let mut loader = Loader::new(source);
    let mut reader = Cursor::new(text.as_bytes());
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    for document in serde_saphyr::read_with_options::<_, Node>(&mut reader, options) {
        match document {
            Ok(node) => loader.ingest(&node),
            Err(err) => loader.yaml_error(&err),
        }
    }
    loader.finish()
}

/// Loads objects as returned by the Kubernetes API (each `{apiVersion, kind, metadata, spec}`,
/// or a `…List` with `items`). `source` (e.g. `kube`) is recorded as each object's source.
pub fn from_json_objects(
    values: impl IntoIterator<Item = serde_json::Value>,
    source: &str,
) -> IstioConfig {
    let mut loader = Loader::new(source);
    for value in values {
        if json_depth(&value) > MAX_DEPTH {
            let msg = format!("object nested deeper than {MAX_DEPTH} levels");
            loader.issue(IssueKind::Skipped, None, None, msg);
            continue;
        }
        loader.ingest(&Node::from_json(value));
    }
    loader.finish()
}

/// Nesting depth of a JSON value, without recursion.
fn json_depth(value: &serde_json::Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1)];
    while let Some((v, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match v {
            serde_json::Value::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            serde_json::Value::Object(map) => stack.extend(map.values().map(|i| (i, depth + 1))),
            _ => {}
        }
    }
    deepest
}

struct Loader<'a> {
    source: &'a str,
    config: IstioConfig,
    defaulted_namespaces: usize,
}

impl<'a> Loader<'a> {
    fn new(source: &'a str) -> Self {
        Loader {
            source,
            config: IstioConfig::default(),
            defaulted_namespaces: 0,
        }
    }

    fn location(&self, line: Option<u64>) -> String {
        match line {
            Some(line) => format!("{}:{line}", self.source),
            None => self.source.to_string(),
        }
    }

    fn issue(
        &mut self,
        kind: IssueKind,
        line: Option<u64>,
        object: Option<String>,
        message: String,
    ) {
        let location = self.location(line);
        self.config.issues.push(ConfigIssue {
            kind,
            location,
            object,
            field: None,
            message,
        });
    }

    fn yaml_error(&mut self, err: &serde_saphyr::Error) {
        let location = match err.location() {
            Some(at) => format!("{}:{}:{}", self.source, at.line(), at.column()),
            None => self.source.to_string(),
        };
        self.config.issues.push(ConfigIssue {
            kind: IssueKind::Syntax,
            location,
            object: None,
            field: None,
            message: format!("YAML error: {}", err.without_snippet()),
        });
    }

    /// One document or list item: dispatch on `kind`.
    fn ingest(&mut self, node: &Node) {
        if let NodeValue::Null = node.value {
            return;
        }
        let kind = node.get("kind").and_then(Node::as_str);
        let api_version = text_at(node, "apiVersion");
        let istio = api_version
            .strip_prefix(GROUP)
            .is_some_and(|v| VERSIONS.contains(&v));
        match (kind, &node.get("items").map(|n| &n.value)) {
            (Some("DestinationRule"), _) if istio => {
                if let Some(o) = self.object(node, Kind::DestinationRule) {
                    self.config.destination_rules.push(o);
                }
            }
            (Some("VirtualService"), _) if istio => {
                if let Some(o) = self.object(node, Kind::VirtualService) {
                    self.config.virtual_services.push(o);
                }
            }
            (Some(k), Some(NodeValue::Seq(items))) if k.ends_with("List") => {
                items.iter().for_each(|item| self.ingest(item));
            }
            (Some(_), _) => self.config.ignored_kinds += 1,
            (None, _) => {
                let msg = "not a Kubernetes object (no `kind`)".to_string();
                self.issue(IssueKind::Skipped, node.line(), None, msg);
            }
        }
    }

    /// Metadata and typed spec of one object, or an issue and `None`.
    fn object<T: DeserializeOwned + SpecCheck>(
        &mut self,
        node: &Node,
        kind: Kind,
    ) -> Option<Object<T>> {
        let meta = node.get("metadata");
        let text = |key: &str| meta.and_then(|m| m.get(key)).and_then(Node::as_str);
        let Some(name) = text("name").filter(|n| !n.is_empty()).map(str::to_string) else {
            let msg = format!("{kind} without metadata.name");
            self.issue(IssueKind::Skipped, node.line(), None, msg);
            return None;
        };
        let namespace = text("namespace").filter(|n| !n.is_empty());
        let spec = match spec_of::<T>(node) {
            Ok(spec) => spec,
            Err(err) => {
                let label = format!("{kind} {}/{name}", namespace.unwrap_or("default"));
                self.config.issues.push(ConfigIssue {
                    kind: IssueKind::Skipped,
                    location: self.location(err.line.or(node.line())),
                    object: Some(label),
                    field: Some(err.field()),
                    message: err.message,
                });
                return None;
            }
        };
        self.defaulted_namespaces += usize::from(namespace.is_none());
        Some(Object {
            namespace: namespace.unwrap_or("default").to_string(),
            namespace_defaulted: namespace.is_none(),
            name,
            api_version: text_at(node, "apiVersion").to_string(),
            spec,
            source: self.location(node.line()),
        })
    }

    fn finish(mut self) -> IstioConfig {
        if self.defaulted_namespaces > 0 {
            let msg = format!(
                "{} object(s) have no metadata.namespace; assumed `default` (as `kubectl apply` \
                 without -n would); short hosts in them resolve in `default`",
                self.defaulted_namespaces
            );
            self.issue(IssueKind::Note, None, None, msg);
        }
        self.config
    }
}

/// The typed `spec` of an object, or the first field that does not fit.
fn spec_of<T: DeserializeOwned + SpecCheck>(node: &Node) -> Result<T, FieldError> {
    let Some(spec) = node.get("spec") else {
        return Err(FieldError {
            path: vec!["spec".into()],
            line: node.line(),
            message: "missing".into(),
        });
    };
    let typed = (spec.deserialize::<T>()).map_err(|e| e.within("spec".into(), spec.line()))?;
    typed.check().map_err(|e| FieldError {
        line: e.line.or(spec.line()),
        ..e
    })?;
    Ok(typed)
}

/// The string at `key`, or "" when absent or not a string.
fn text_at<'n>(node: &'n Node, key: &str) -> &'n str {
    node.get(key).and_then(Node::as_str).unwrap_or("")
}

/// Checks after deserialization that serde defaults cannot express (required `spec.host`).
trait SpecCheck {
    fn check(&self) -> Result<(), FieldError>;
}

impl SpecCheck for DestinationRule {
    fn check(&self) -> Result<(), FieldError> {
        if self.host.trim().is_empty() {
            return Err(FieldError {
                path: vec!["spec".into(), "host".into()],
                line: None,
                message: "missing or empty; a DestinationRule needs a host".into(),
            });
        }
        Ok(())
    }
}

impl SpecCheck for VirtualService {
    fn check(&self) -> Result<(), FieldError> {
        Ok(())
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
