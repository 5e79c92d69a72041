//! Which DestinationRule policy sections apply to one cluster, in the order istiod's
//! `MergeSubsetTrafficPolicy` (pilot/pkg/networking/util) applies them:
//! 1. Top-level `trafficPolicy`; if it has a `portLevelSettings` entry for the cluster's port,
//!    that entry's `connectionPool`, `outlierDetection`, `loadBalancer` and `tls` **replace**
//!    the top-level ones wholesale (a section the entry omits falls back to Istio's default,
//!    it is not inherited — as the DestinationRule reference says).
//! 2. The subset's `trafficPolicy` (subset clusters only): each of the four sections it sets
//!    replaces the one from step 1 as a whole — no field-by-field merge inside a section, so a
//!    subset `connectionPool.http` drops a top-level `connectionPool.tcp`.
//! 3. If the subset policy has a port-level entry for the port, that entry replaces all four
//!    sections, again with defaults for what it omits.

use serde_json::Value;

use super::destination_rule::{
    ClientTlsSettings, ConnectionPoolSettings, DestinationRule, OutlierDetection, Subset,
    TrafficPolicy,
};
use super::load::Object;
use super::source::{Kind, ObjectRef, Sourced};

/// One policy section and the object/field prefix it came from.
pub(super) struct Part<'a, T> {
    pub value: &'a T,
    pub object: ObjectRef,
    /// `trafficPolicy`, `subsets[v1].trafficPolicy.portLevelSettings[8080]`, …
    pub prefix: String,
}

impl<T> Part<'_, T> {
    /// `value` as configured at `<prefix>.<field>`.
    pub fn sourced<U>(&self, value: U, field: &str) -> Sourced<U> {
        Sourced::configured(value, &self.object, format!("{}.{field}", self.prefix))
    }

    /// Overwrites `slot` with `value` (set at `<prefix>.<section>.<name>`) when it is `Some`.
    pub fn apply<U>(&self, slot: &mut Sourced<U>, section: &str, name: &str, value: Option<U>) {
        if let Some(value) = value {
            *slot = self.sourced(value, &format!("{section}.{name}"));
        }
    }
}

/// The four sections Istio replaces as wholes.
pub(super) struct Sections<'a> {
    pub pool: Option<Part<'a, ConnectionPoolSettings>>,
    pub outlier: Option<Part<'a, OutlierDetection>>,
    pub lb: Option<Part<'a, Value>>,
    pub tls: Option<Part<'a, ClientTlsSettings>>,
}

fn part<'a, T>(value: Option<&'a T>, object: &ObjectRef, prefix: &str) -> Option<Part<'a, T>> {
    value.map(|value| Part {
        value,
        object: object.clone(),
        prefix: prefix.to_string(),
    })
}

/// The sections of `policy` for `port`, and whether a port-level entry supplied them.
fn sections_of<'a>(
    policy: &'a TrafficPolicy,
    object: &ObjectRef,
    prefix: &str,
    port: u16,
) -> (Sections<'a>, bool) {
    if let Some(p) = policy.port_level(port) {
        let prefix = format!("{prefix}.portLevelSettings[{port}]");
        let s = Sections {
            pool: part(p.connection_pool.as_ref(), object, &prefix),
            outlier: part(p.outlier_detection.as_ref(), object, &prefix),
            lb: part(p.load_balancer.as_ref(), object, &prefix),
            tls: part(p.tls.as_ref(), object, &prefix),
        };
        return (s, true);
    }
    let s = Sections {
        pool: part(policy.connection_pool.as_ref(), object, prefix),
        outlier: part(policy.outlier_detection.as_ref(), object, prefix),
        lb: part(policy.load_balancer.as_ref(), object, prefix),
        tls: part(policy.tls.as_ref(), object, prefix),
    };
    (s, false)
}

/// Steps 1–3 of the module doc. `top` is the DR supplying the top-level policy, `subset` the
/// DR and subset of a subset cluster (they can differ when several DRs are merged).
pub(super) fn effective_sections<'a>(
    top: Option<&'a Object<DestinationRule>>,
    subset: Option<(&'a Object<DestinationRule>, &'a Subset)>,
    port: u16,
) -> Sections<'a> {
    let dr = |o: &Object<DestinationRule>| o.object_ref(Kind::DestinationRule);
    let top = top.and_then(|o| Some((dr(o), o.spec.traffic_policy.as_ref()?)));
    let mut merged = match top {
        Some((object, tp)) => sections_of(tp, &object, "trafficPolicy", port).0,
        None => Sections::none(),
    };
    let Some((o, s)) = subset else {
        return merged;
    };
    let Some(tp) = &s.traffic_policy else {
        return merged;
    };
    let prefix = format!("subsets[{}].trafficPolicy", s.name);
    let (sub, port_level) = sections_of(tp, &dr(o), &prefix, port);
    merged.replace_with(sub, port_level);
    merged
}

impl Sections<'_> {
    fn none() -> Self {
        Sections {
            pool: None,
            outlier: None,
            lb: None,
            tls: None,
        }
    }
}

impl<'a> Sections<'a> {
    /// Step 2/3: each section `sub` sets replaces ours; a port-level `sub` replaces all four.
    fn replace_with(&mut self, sub: Sections<'a>, port_level: bool) {
        if sub.pool.is_some() || port_level {
            self.pool = sub.pool;
        }
        if sub.outlier.is_some() || port_level {
            self.outlier = sub.outlier;
        }
        if sub.lb.is_some() || port_level {
            self.lb = sub.lb;
        }
        if sub.tls.is_some() || port_level {
            self.tls = sub.tls;
        }
    }
}
