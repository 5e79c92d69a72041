//! `labelSelector` and `fieldSelector`, minimally: comma-separated (AND) terms of the
//! equality forms `k=v`, `k==v`, `k!=v`, and for labels also `k` (exists) and `!k`.
//! Field selectors know `metadata.name`, `metadata.namespace` and `status.phase`.
//! Set-based terms (`k in (a,b)`) and other fields are rejected with 400 rather than
//! silently ignored, so a client never mistakes an unfiltered list for a filtered one.

use serde_json::Value;

/// One parsed term.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
}

/// A parsed label plus field selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    labels: Vec<Term>,
    fields: Vec<Term>,
}

const FIELDS: [&str; 3] = ["metadata.name", "metadata.namespace", "status.phase"];

impl Selector {
    /// Parses the two query parameters; the error is the message for a 400 `Status`.
    pub fn parse(label: Option<&str>, field: Option<&str>) -> Result<Self, String> {
        let labels = parse_terms(label.unwrap_or(""), true)?;
        let fields = parse_terms(field.unwrap_or(""), false)?;
        if let Some(bad) = fields.iter().map(term_key).find(|k| !FIELDS.contains(k)) {
            return Err(format!("field label not supported by the simulator: {bad}"));
        }
        Ok(Self { labels, fields })
    }

    /// Whether the rendered object satisfies every term.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = &object["metadata"]["labels"];
        let label_ok = self
            .labels
            .iter()
            .all(|t| holds(t, |k| labels.get(k).and_then(Value::as_str)));
        let field_ok = self.fields.iter().all(|t| {
            holds(t, |k| match k {
                "metadata.name" => object["metadata"]["name"].as_str(),
                "metadata.namespace" => object["metadata"]["namespace"].as_str(),
                _ => object["status"]["phase"].as_str(),
            })
        });
        label_ok && field_ok
    }
}

fn term_key(term: &Term) -> &str {
    match term {
        Term::Equals(k, _) | Term::NotEquals(k, _) | Term::Exists(k) | Term::Absent(k) => k,
    }
}

fn holds<'a>(term: &Term, lookup: impl Fn(&str) -> Option<&'a str>) -> bool {
    match term {
        Term::Equals(k, v) => lookup(k) == Some(v.as_str()),
        Term::NotEquals(k, v) => lookup(k) != Some(v.as_str()),
        Term::Exists(k) => lookup(k).is_some(),
        Term::Absent(k) => lookup(k).is_none(),
    }
}

fn parse_terms(text: &str, allow_existence: bool) -> Result<Vec<Term>, String> {
    let mut terms = Vec::new();
    for raw in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let term = if let Some((k, v)) = raw.split_once("!=") {
            Term::NotEquals(k.trim().to_string(), v.trim().to_string())
        } else if let Some((k, v)) = raw.split_once("==").or_else(|| raw.split_once('=')) {
            Term::Equals(k.trim().to_string(), v.trim().to_string())
        } else if raw.contains([' ', '(', ')']) {
            return Err(format!(
                "unsupported selector term {raw:?} (set-based terms are not simulated)"
            ));
        } else if !allow_existence {
            return Err(format!("invalid field selector term {raw:?}"));
        } else if let Some(k) = raw.strip_prefix('!') {
            Term::Absent(k.trim().to_string())
        } else {
            Term::Exists(raw.to_string())
        };
        if term_key(&term).is_empty() {
            return Err(format!("invalid selector term {raw:?}"));
        }
        terms.push(term);
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({"metadata": {"name": "a-1", "namespace": "prod", "labels": {"app": "a", "v": "1"}},
               "status": {"phase": "Running"}})
    }

    #[test]
    fn equality_existence_and_fields_combine_with_and() {
        let ok =
            Selector::parse(Some("app=a,v!=2,!missing,v"), Some("metadata.name==a-1")).unwrap();
        assert!(ok.matches(&pod()));
        let miss = Selector::parse(Some("app=b"), None).unwrap();
        assert!(!miss.matches(&pod()));
        let phase = Selector::parse(None, Some("status.phase!=Running")).unwrap();
        assert!(!phase.matches(&pod()));
        assert!(Selector::default().matches(&pod()));
    }

    #[test]
    fn unsupported_terms_are_rejected() {
        assert!(Selector::parse(Some("app in (a,b)"), None).is_err());
        assert!(Selector::parse(None, Some("spec.nodeName=x")).is_err());
        assert!(Selector::parse(None, Some("metadata.name")).is_err());
        assert!(Selector::parse(Some("=x"), None).is_err());
    }
}
