//! The entry point: which DestinationRule and VirtualService routes govern an Envoy cluster
//! `outbound|port|subset|host` as seen from a client pod's namespace. Rule choice is in
//! `select.rs`, section merging in `merge.rs`, values and defaults in
//! [`super::policy`] and [`super::route`]; this file ties them together and picks the
//! VirtualServices.
//!
//! Not modelled (each can make Istio differ from what is shown): workload labels
//! (`workloadSelector`, `sourceLabels`), Sidecar resources, mesh-wide `exportTo` defaults
//! (`defaultDestinationRuleExportTo`, …), mesh-wide `defaultHttpRetryPolicy`, delegate
//! VirtualServices, creation timestamps (input order is used instead).

use serde::Serialize;

use super::host::{HostMatch, is_exported_to};
use super::load::{IstioConfig, Object};
use super::policy::{ResolvedPolicy, build_policy};
use super::route::{ResolvedRoute, RouteProtocol, Target, http_route, l4_route};
use super::source::Kind;
use super::virtual_service::{HttpMatch, VirtualService};
use crate::envoy::{ClusterKey, Direction, IstioCluster};

/// Mesh settings resolution depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolveOptions {
    /// Istio's root (config) namespace; mesh-wide rules live here.
    pub root_namespace: String,
    /// Kubernetes cluster domain used to expand short host names.
    pub cluster_domain: String,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        ResolveOptions {
            root_namespace: "istio-system".to_string(),
            cluster_domain: "cluster.local".to_string(),
        }
    }
}

/// The effective Istio policy for `cluster` as used by a client in `client_namespace`.
/// `None` for anything but an `outbound|…` cluster. With no matching DestinationRule the result
/// is all Istio defaults (and a note).
pub fn resolve(
    config: &IstioConfig,
    cluster: &ClusterKey,
    client_namespace: &str,
    opts: &ResolveOptions,
) -> Option<ResolvedPolicy> {
    let c = cluster
        .istio()
        .filter(|c| c.direction == Direction::Outbound)?;
    let scope = Scope {
        config,
        c,
        client: client_namespace,
        opts,
    };
    let mut notes = Vec::new();
    let rules = scope.choose_rules(&mut notes);
    let top = rules
        .iter()
        .copied()
        .find(|r| r.spec.traffic_policy.is_some());
    let subset = scope.find_subset(&rules, &mut notes);
    let mut policy = build_policy(top, subset, c.port);
    policy.destination_rule = rules.first().map(|r| r.object_ref(Kind::DestinationRule));
    policy.subset = (!c.subset.is_empty()).then(|| c.subset.clone());
    let known: Vec<&str> = (rules.iter())
        .flat_map(|r| r.spec.subsets.iter().map(|s| s.name.as_str()))
        .collect();
    policy.routes = scope.collect_routes(&known, &mut notes);
    if !c.subset.is_empty() && policy.routes.is_empty() {
        notes.push(format!(
            "no VirtualService visible to namespace {client_namespace} routes to subset `{}`: \
             the cluster gets traffic only through such a route, so its policy is inactive",
            c.subset
        ));
    }
    policy.notes = notes;
    Some(policy)
}

/// One resolution: the configuration, the cluster and the client namespace.
pub(super) struct Scope<'a> {
    pub config: &'a IstioConfig,
    pub c: &'a IstioCluster,
    pub client: &'a str,
    pub opts: &'a ResolveOptions,
}

impl<'a> Scope<'a> {
    /// Routes of every visible, mesh-bound VirtualService whose hosts cover the cluster host.
    fn collect_routes(
        &self,
        known_subsets: &[&str],
        notes: &mut Vec<String>,
    ) -> Vec<ResolvedRoute> {
        let mut routes = Vec::new();
        let mut services = Vec::new();
        for vs in &self.config.virtual_services {
            let best = (vs.spec.hosts.iter())
                .filter_map(|h| self.host_match(h, &vs.namespace))
                .max();
            let Some(m) = best else { continue };
            if !self.applies(vs, m, notes) {
                continue;
            }
            let target = self.target(&vs.namespace);
            self.check_subsets(vs, &target, known_subsets, notes);
            routes.extend(self.routes_of(vs, &target));
            services.push(vs.object_ref(Kind::VirtualService).to_string());
        }
        if services.len() > 1 {
            notes.push(format!(
                "{} VirtualServices cover {} ({}): for sidecars Istio uses one per host and does \
                 not merge them; all are listed",
                services.len(),
                self.c.host,
                services.join(", ")
            ));
        }
        routes
    }

    /// Whether a VS whose hosts cover the cluster applies to this client's sidecar.
    fn applies(&self, vs: &Object<VirtualService>, m: HostMatch, notes: &mut Vec<String>) -> bool {
        let r = vs.object_ref(Kind::VirtualService);
        let (host, client, spec) = (&self.c.host, self.client, &vs.spec);
        if !is_exported_to(&spec.export_to, &vs.namespace, client) {
            let export = &spec.export_to;
            notes.push(format!(
                "{r} covers {host} but is not exported to namespace {client} (exportTo {export:?})"
            ));
            return false;
        }
        if !bound_to_mesh(&spec.gateways) {
            let gateways = &spec.gateways;
            notes.push(format!(
                "{r} covers {host} but is bound only to gateways {gateways:?}, not `mesh`: its \
                 routes do not apply to sidecars"
            ));
            return false;
        }
        if !m.is_applied() {
            let hosts = &spec.hosts;
            notes.push(format!("{r} lists the host as {hosts:?}: its routes apply only to requests addressed with exactly that name"));
        }
        true
    }

    fn target(&self, vs_namespace: &'a str) -> Target<'a> {
        Target {
            host: &self.c.host,
            subset: &self.c.subset,
            port: self.c.port,
            vs_namespace,
            domain: &self.opts.cluster_domain,
        }
    }

    fn routes_of(&self, vs: &Object<VirtualService>, target: &Target<'_>) -> Vec<ResolvedRoute> {
        let r = vs.object_ref(Kind::VirtualService);
        let spec = &vs.spec;
        let mut routes: Vec<ResolvedRoute> = (spec.http.iter().enumerate())
            .filter(|(_, h)| applies_to_mesh(&spec.gateways, &h.matches, self.client))
            .filter_map(|(i, h)| http_route(target, &r, i, h))
            .collect();
        for (protocol, rules) in [
            (RouteProtocol::Tcp, &spec.tcp),
            (RouteProtocol::Tls, &spec.tls),
        ] {
            let l4 = rules.iter().enumerate();
            routes.extend(l4.filter_map(|(i, t)| l4_route(target, &r, (protocol, i), t)));
        }
        routes
    }

    /// IST0101-style: routes to a subset of this host that no visible DestinationRule defines.
    fn check_subsets(
        &self,
        vs: &Object<VirtualService>,
        target: &Target<'_>,
        known: &[&str],
        notes: &mut Vec<String>,
    ) {
        let spec = &vs.spec;
        let http = (spec.http.iter().enumerate()).map(|(i, h)| (format!("http[{i}]"), &h.route));
        let tcp = (spec.tcp.iter().enumerate()).map(|(i, t)| (format!("tcp[{i}]"), &t.route));
        let tls = (spec.tls.iter().enumerate()).map(|(i, t)| (format!("tls[{i}]"), &t.route));
        let (host, client) = (&self.c.host, self.client);
        for (field, route) in http.chain(tcp).chain(tls) {
            for d in route.iter().filter_map(|rd| rd.destination.as_ref()) {
                let Some(subset) = d.subset.as_deref() else {
                    continue;
                };
                if target.host_of(d) == *host && !known.contains(&subset) {
                    notes.push(format!(
                        "{} {field} routes to subset `{subset}` of {host}, which no \
                         DestinationRule visible to namespace {client} defines (IST0101): such \
                         requests fail (503 NC)",
                        vs.object_ref(Kind::VirtualService)
                    ));
                }
            }
        }
    }
}

/// No `gateways` means `mesh`.
fn bound_to_mesh(gateways: &[String]) -> bool {
    gateways.is_empty() || gateways.iter().any(|g| g == "mesh")
}

/// An HTTP rule applies to sidecars when it has no match, or a match entry bound to `mesh`
/// (its own `gateways` override the VS's) and not limited to another `sourceNamespace`.
fn applies_to_mesh(vs_gateways: &[String], matches: &[HttpMatch], client: &str) -> bool {
    if matches.is_empty() {
        return bound_to_mesh(vs_gateways);
    }
    matches.iter().any(|m| {
        let gateways = if m.gateways.is_empty() {
            vs_gateways
        } else {
            &m.gateways
        };
        bound_to_mesh(gateways) && m.source_namespace.as_deref().is_none_or(|ns| ns == client)
    })
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "resolve_route_tests.rs"]
mod route_tests;
