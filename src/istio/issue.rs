//! Problems found while loading Istio objects: each names where (`file:line`), which object
//! and which field, so the user can fix it. Loading goes on after every one of them.

use std::fmt;

use serde::Serialize;

/// What went wrong while loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// The YAML text is broken from here on; later documents were not read.
    Syntax,
    /// One object or document could not be used and was skipped.
    Skipped,
    /// Loaded, but worth knowing (e.g. namespace assumed).
    Note,
}

/// A problem found while loading, with enough context to find and fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigIssue {
    pub kind: IssueKind,
    /// `file.yaml:12` or `file.yaml:12:7` (syntax errors), or just the source name.
    pub location: String,
    /// `DestinationRule prod/reviews` when known.
    pub object: Option<String>,
    /// `spec.trafficPolicy.connectionPool.tcp.connectTimeout` when known.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location)?;
        if let Some(object) = &self.object {
            write!(f, "{object}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)?;
        if self.kind == IssueKind::Skipped {
            f.write_str(" (skipped)")?;
        }
        Ok(())
    }
}
