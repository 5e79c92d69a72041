//! Istio's host-name rules: short-name expansion (`ResolveShortnameToFQDN`), wildcard matching
//! with "most specific wins", and `exportTo` visibility.
//!
//! Short names: Istio expands only names **without a dot** (`reviews` in namespace `prod` →
//! `reviews.prod.svc.cluster.local`). A dotted partial name such as `reviews.prod` is taken
//! literally by istiod, so a DestinationRule with `host: reviews.prod` does not apply to the
//! `reviews.prod.svc.cluster.local` cluster; [`HostMatch::KubernetesAlias`] lets callers say so.

use serde::Serialize;

/// How a rule's host matched a cluster host. Ordered: a greater value is more specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum HostMatch {
    /// A dotted Kubernetes short form (`reviews.prod`, `reviews.prod.svc`) of the host. Istio
    /// does not expand it: Envoy answers to it only as an HTTP `Host`/authority alias.
    KubernetesAlias,
    /// `*`, `*.prod.svc.cluster.local`: the number is the pattern length (longer = more specific).
    Wildcard(usize),
    Exact,
}

impl HostMatch {
    /// True for the matches istiod itself applies (exact or wildcard).
    pub fn is_applied(self) -> bool {
        !matches!(self, HostMatch::KubernetesAlias)
    }
}

/// Istio's `ResolveShortnameToFQDN`: a name without dots becomes
/// `<name>.<namespace>.svc.<domain>`; `*`, dotted names and IP addresses are kept as written.
pub fn resolve_host(host: &str, namespace: &str, domain: &str) -> String {
    if host == "*" || host.contains('.') || host.contains(':') || host.is_empty() {
        return host.to_string();
    }
    format!("{host}.{namespace}.svc.{domain}")
}

/// Whether the (already resolved) `pattern` covers `host`, and how specifically.
pub fn match_host(pattern: &str, host: &str, domain: &str) -> Option<HostMatch> {
    if pattern == host {
        return Some(HostMatch::Exact);
    }
    if pattern == "*" {
        return Some(HostMatch::Wildcard(1));
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        // `*.example.com` covers `a.example.com` and `a.b.example.com`, not `example.com`.
        return (suffix.starts_with('.') && host.ends_with(suffix) && host.len() > suffix.len())
            .then_some(HostMatch::Wildcard(pattern.len()));
    }
    is_kubernetes_alias(pattern, host, domain).then_some(HostMatch::KubernetesAlias)
}

/// `reviews.prod` or `reviews.prod.svc` naming `reviews.prod.svc.<domain>`.
fn is_kubernetes_alias(pattern: &str, host: &str, domain: &str) -> bool {
    let Some(service_part) = host
        .strip_suffix(domain)
        .and_then(|h| h.strip_suffix(".svc."))
    else {
        return false;
    };
    pattern == service_part || pattern.strip_suffix(".svc") == Some(service_part)
}

/// Istio's `exportTo` visibility of an object in `object_ns` for a client in `client_ns`:
/// empty = everywhere, `*` = everywhere, `.` = own namespace, else the listed namespaces.
/// (Mesh-wide `defaultDestinationRuleExportTo`/`defaultVirtualServiceExportTo` are not
/// modelled: an empty list always means "everywhere".)
pub fn is_exported_to(export_to: &[String], object_ns: &str, client_ns: &str) -> bool {
    export_to.is_empty()
        || export_to
            .iter()
            .any(|e| e == "*" || e == client_ns || (e == "." && object_ns == client_ns))
}

/// Istio's "private" rule: exported only to its own namespace (`["."]` or `[<own ns>]`).
/// Such DestinationRules are never found from other namespaces, even from the root namespace.
pub fn is_private(export_to: &[String], object_ns: &str) -> bool {
    matches!(export_to, [only] if only == "." || only == object_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "cluster.local";

    #[test]
    fn short_names_expand_in_the_rule_namespace_only_without_dots() {
        assert_eq!(
            resolve_host("reviews", "prod", D),
            "reviews.prod.svc.cluster.local"
        );
        assert_eq!(resolve_host("reviews.prod", "default", D), "reviews.prod");
        assert_eq!(resolve_host("*", "prod", D), "*");
        assert_eq!(resolve_host("10.0.0.1", "prod", D), "10.0.0.1");
        assert_eq!(resolve_host("*.example.com", "prod", D), "*.example.com");
    }

    #[test]
    fn wildcards_and_specificity() {
        let h = "reviews.prod.svc.cluster.local";
        assert_eq!(match_host(h, h, D), Some(HostMatch::Exact));
        let ns = match_host("*.prod.svc.cluster.local", h, D).unwrap();
        let local = match_host("*.local", h, D).unwrap();
        let all = match_host("*", h, D).unwrap();
        assert!(HostMatch::Exact > ns && ns > local && local > all);
        assert_eq!(
            match_host("*.example.com", "a.b.example.com", D),
            Some(HostMatch::Wildcard(13))
        );
        assert_eq!(match_host("*.example.com", "example.com", D), None);
        assert_eq!(match_host("*.other.svc.cluster.local", h, D), None);
        assert_eq!(match_host("ratings.prod.svc.cluster.local", h, D), None);
    }

    #[test]
    fn dotted_short_names_are_only_aliases() {
        let h = "reviews.prod.svc.cluster.local";
        assert_eq!(
            match_host("reviews.prod", h, D),
            Some(HostMatch::KubernetesAlias)
        );
        assert_eq!(
            match_host("reviews.prod.svc", h, D),
            Some(HostMatch::KubernetesAlias)
        );
        assert_eq!(match_host("reviews.dev", h, D), None);
        assert!(!HostMatch::KubernetesAlias.is_applied());
    }

    #[test]
    fn export_to_rules() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(is_exported_to(&[], "prod", "dev"));
        assert!(is_exported_to(&v(&["*"]), "prod", "dev"));
        assert!(is_exported_to(&v(&["."]), "prod", "prod"));
        assert!(!is_exported_to(&v(&["."]), "prod", "dev"));
        assert!(is_exported_to(&v(&[".", "dev"]), "prod", "dev"));
        assert!(!is_exported_to(&v(&["qa"]), "prod", "dev"));
        assert!(is_private(&v(&["."]), "prod"));
        assert!(is_private(&v(&["prod"]), "prod"));
        assert!(!is_private(&v(&[".", "dev"]), "prod"));
        assert!(!is_private(&[], "prod"));
    }
}
