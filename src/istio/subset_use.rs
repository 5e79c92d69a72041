//! Which DestinationRule subsets carry their own `trafficPolicy`, and which VirtualService
//! rules send traffic to them (HINTS.md R21: a subset policy only takes effect on the subset's
//! own cluster `outbound|port|subset|host`, and Envoy only uses that cluster when a route
//! names the subset — istio.io "Destination rule policy not activated").
//!
//! Hosts are resolved like istiod: short names (no dot) in the object's own namespace; a
//! wildcard DestinationRule host covers the destinations under it; a dotted partial name
//! (`reviews.prod`) is taken literally and matches nothing else. `http[i].route`,
//! `http[i].mirror`, `tcp[i].route` and `tls[i].route` count, whatever gateways the
//! VirtualService is bound to (a route on a gateway still activates the policy there).
//! Not modelled: `exportTo` visibility between the rule, the route and the client, and
//! delegate VirtualServices.

use serde::Serialize;

use super::destination_rule::{Subset, TrafficPolicy};
use super::host::{match_host, resolve_host};
use super::load::{IstioConfig, Object};
use super::source::{Kind, ObjectRef};
use super::virtual_service::{Destination, RouteDestination, VirtualService};

/// A DestinationRule subset with its own `trafficPolicy`, and the routes that target it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubsetUse {
    pub destination_rule: ObjectRef,
    /// The rule's host, resolved (`reviews.prod.svc.cluster.local`, or a wildcard).
    pub host: String,
    pub subset: String,
    /// The policy sections the subset sets, in a fixed order: `loadBalancer`,
    /// `connectionPool`, `outlierDetection`, `tls`, `portLevelSettings`.
    pub sections: Vec<String>,
    /// `VirtualService prod/reviews http[0]` (or `… http[1].mirror`, `tcp[0]`, `tls[0]`)
    /// for every rule whose destination is this host and subset.
    pub routed_by: Vec<String>,
}

/// Every subset with a non-empty `trafficPolicy`, in input order, with the VirtualService
/// rules that route to it. `domain` is the cluster domain used to expand short names
/// (`cluster.local`).
pub fn find_subset_policies(config: &IstioConfig, domain: &str) -> Vec<SubsetUse> {
    let mut out = Vec::new();
    for dr in &config.destination_rules {
        let host = resolve_host(&dr.spec.host, &dr.namespace, domain);
        for subset in &dr.spec.subsets {
            let sections = subset.traffic_policy.as_ref().map_or(Vec::new(), sections);
            if sections.is_empty() {
                continue;
            }
            let target = SubsetTarget {
                host: &host,
                subset,
                domain,
            };
            out.push(SubsetUse {
                destination_rule: dr.object_ref(Kind::DestinationRule),
                routed_by: target.routes(&config.virtual_services),
                host: host.clone(),
                subset: subset.name.clone(),
                sections,
            });
        }
    }
    out
}

/// The sections a policy sets (an empty `portLevelSettings` list sets nothing).
fn sections(p: &TrafficPolicy) -> Vec<String> {
    let set = [
        ("loadBalancer", p.load_balancer.is_some()),
        ("connectionPool", p.connection_pool.is_some()),
        ("outlierDetection", p.outlier_detection.is_some()),
        ("tls", p.tls.is_some()),
        ("portLevelSettings", !p.port_level_settings.is_empty()),
    ];
    set.into_iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| name.to_string())
        .collect()
}

/// One subset of one rule, to compare route destinations with.
struct SubsetTarget<'a> {
    host: &'a str,
    subset: &'a Subset,
    domain: &'a str,
}

impl SubsetTarget<'_> {
    /// True when `d` (written in namespace `ns`) is this host and subset.
    fn is_target(&self, d: &Destination, ns: &str) -> bool {
        if d.subset.as_deref() != Some(self.subset.name.as_str()) {
            return false;
        }
        let dest = resolve_host(&d.host, ns, self.domain);
        match_host(self.host, &dest, self.domain).is_some_and(|m| m.is_applied())
    }

    /// True when one of `route`'s destinations (written in namespace `ns`) is the subset.
    fn any_target(&self, route: &[RouteDestination], ns: &str) -> bool {
        (route.iter())
            .filter_map(|r| r.destination.as_ref())
            .any(|d| self.is_target(d, ns))
    }

    /// The rules of every VirtualService that send traffic to the subset.
    fn routes(&self, services: &[Object<VirtualService>]) -> Vec<String> {
        let mut out = Vec::new();
        for vs in services {
            let name = vs.object_ref(Kind::VirtualService);
            let ns = vs.namespace.as_str();
            for (i, h) in vs.spec.http.iter().enumerate() {
                if self.any_target(&h.route, ns) {
                    out.push(format!("{name} http[{i}]"));
                }
                if h.mirror.as_ref().is_some_and(|d| self.is_target(d, ns)) {
                    out.push(format!("{name} http[{i}].mirror"));
                }
            }
            for (kind, rules) in [("tcp", &vs.spec.tcp), ("tls", &vs.spec.tls)] {
                for (i, rule) in rules.iter().enumerate() {
                    if self.any_target(&rule.route, ns) {
                        out.push(format!("{name} {kind}[{i}]"));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::istio::load::{IssueKind, load_yaml};

    const D: &str = "cluster.local";

    fn config(yaml: &str) -> IstioConfig {
        let cfg = load_yaml(yaml, "t.yaml");
        let bad: Vec<_> = (cfg.issues.iter())
            .filter(|i| i.kind != IssueKind::Note)
            .collect();
        assert!(bad.is_empty(), "{bad:?}");
        cfg
    }

    fn object(kind: &str, ns: &str, name: &str, body: &str) -> String {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: {kind}\nmetadata: {{name: {name}, \
             namespace: {ns}}}\nspec:\n{body}\n---\n"
        )
    }

    /// Bookinfo's `destination-rule-reviews.yaml` with a connection pool on v2 and outlier
    /// detection + TLS on v3, and `virtual-service-reviews-jason-v2-v3.yaml`.
    fn bookinfo() -> String {
        let dr = "  host: reviews\n  trafficPolicy:\n    loadBalancer: {simple: RANDOM}\n  subsets:\n\
                  \x20 - {name: v1, labels: {version: v1}}\n\
                  \x20 - name: v2\n    labels: {version: v2}\n    trafficPolicy:\n      connectionPool:\n        http: {http1MaxPendingRequests: 1}\n\
                  \x20 - name: v3\n    labels: {version: v3}\n    trafficPolicy:\n      outlierDetection: {consecutive5xxErrors: 3}\n      tls: {mode: ISTIO_MUTUAL}\n";
        let vs = "  hosts: [reviews]\n  http:\n  - match: [{headers: {end-user: {exact: jason}}}]\n    route:\n    - destination: {host: reviews, subset: v2}\n\
                  \x20 - route:\n    - destination: {host: reviews, subset: v3}\n";
        object("DestinationRule", "prod", "reviews", dr)
            + &object("VirtualService", "prod", "reviews", vs)
    }

    fn labels(uses: &[SubsetUse]) -> Vec<(String, String, Vec<String>, Vec<String>)> {
        uses.iter()
            .map(|u| {
                let dr = format!(
                    "{}/{}",
                    u.destination_rule.namespace, u.destination_rule.name
                );
                (
                    dr,
                    u.subset.clone(),
                    u.sections.clone(),
                    u.routed_by.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn bookinfo_subsets_with_policies_and_their_routes() {
        let uses = find_subset_policies(&config(&bookinfo()), D);
        let s = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            labels(&uses),
            vec![
                (
                    "prod/reviews".to_string(),
                    "v2".to_string(),
                    s(&["connectionPool"]),
                    s(&["VirtualService prod/reviews http[0]"]),
                ),
                (
                    "prod/reviews".to_string(),
                    "v3".to_string(),
                    s(&["outlierDetection", "tls"]),
                    s(&["VirtualService prod/reviews http[1]"]),
                ),
            ]
        );
        assert_eq!(uses[0].host, "reviews.prod.svc.cluster.local");
    }

    #[test]
    fn a_subset_policy_without_a_route_has_no_routes() {
        let dr = "  host: pricing-svc\n  subsets:\n  - name: v1\n    labels: {version: v1}\n\
                  \x20   trafficPolicy:\n      connectionPool:\n        tcp: {maxConnections: 1}\n      portLevelSettings:\n      - port: {number: 8080}\n        loadBalancer: {simple: ROUND_ROBIN}\n\
                  \x20 - {name: v2, labels: {version: v2}}\n";
        let vs = "  hosts: [pricing-svc]\n  http:\n  - route: [{destination: {host: pricing-svc, subset: v2}}]\n";
        let yaml = object("DestinationRule", "prod", "pricing-svc", dr)
            + &object("VirtualService", "prod", "pricing-svc", vs);
        let uses = find_subset_policies(&config(&yaml), D);
        assert_eq!(uses.len(), 1);
        assert_eq!(uses[0].subset, "v1");
        assert_eq!(
            uses[0].sections,
            vec!["connectionPool", "portLevelSettings"]
        );
        assert!(uses[0].routed_by.is_empty());
    }

    #[test]
    fn hosts_resolve_in_each_objects_namespace() {
        let dr = "  host: reviews\n  subsets:\n  - name: v1\n    trafficPolicy: {loadBalancer: {simple: RANDOM}}\n";
        // `reviews` in namespace `dev` is another service; the FQDN and a mirror count.
        let other = "  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews, subset: v1}}]\n";
        let fqdn = "  hosts: [reviews.prod.svc.cluster.local]\n  http:\n  - route: [{destination: {host: ratings}}]\n\
                    \x20   mirror: {host: reviews.prod.svc.cluster.local, subset: v1}\n  tcp:\n  - route: [{destination: {host: reviews.prod.svc.cluster.local, subset: v1}}]\n";
        // A dotted partial name is taken literally by istiod: not this host.
        let partial = "  hosts: [reviews.prod]\n  tls:\n  - route: [{destination: {host: reviews.prod, subset: v1}}]\n";
        let yaml = object("DestinationRule", "prod", "reviews", dr)
            + &object("VirtualService", "dev", "reviews", other)
            + &object("VirtualService", "web", "mirror", fqdn)
            + &object("VirtualService", "web", "partial", partial);
        let uses = find_subset_policies(&config(&yaml), D);
        assert_eq!(uses.len(), 1);
        assert_eq!(
            uses[0].routed_by,
            vec![
                "VirtualService web/mirror http[0].mirror",
                "VirtualService web/mirror tcp[0]"
            ]
        );
    }

    #[test]
    fn wildcard_rule_hosts_cover_destinations_and_empty_policies_are_skipped() {
        let dr = "  host: '*.prod.svc.cluster.local'\n  subsets:\n  - name: canary\n    trafficPolicy: {tls: {mode: DISABLE}}\n\
                  \x20 - name: empty\n    trafficPolicy: {portLevelSettings: []}\n";
        let vs = "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: canary}\n      weight: 10\n    - destination: {host: reviews, subset: canary, port: {number: 9080}}\n      weight: 90\n";
        let yaml = object("DestinationRule", "istio-system", "all", dr)
            + &object("VirtualService", "prod", "reviews", vs);
        let uses = find_subset_policies(&config(&yaml), D);
        assert_eq!(uses.len(), 1, "{uses:?}");
        assert_eq!(uses[0].host, "*.prod.svc.cluster.local");
        // Two destinations in one rule name the rule once.
        assert_eq!(
            uses[0].routed_by,
            vec!["VirtualService prod/reviews http[0]"]
        );
    }
}
