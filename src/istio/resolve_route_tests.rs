//! Unit tests for VirtualService routes and the remaining resolution rules (same-host merge,
//! non-outbound clusters, serialisation), with inline YAML.

use super::*;
use std::time::Duration;

use super::tests::{REVIEWS, ROUTED, config, dr, run, source, timeout_body, vs};
use crate::istio::route::DEFAULT_RETRY_ON;
use crate::istio::source::{Limit, Sourced};

fn reviews_subsets() -> String {
    dr(
        "prod",
        "reviews",
        "  host: reviews\n  subsets:\n  - name: v1\n  - name: v2",
    )
}

#[test]
fn virtual_service_timeouts_and_retries() {
    let cfg = config(&(reviews_subsets() + &vs("prod", "reviews", ROUTED)));
    let p = run(
        &cfg,
        "outbound|9080|v1|reviews.prod.svc.cluster.local",
        "frontend",
    );
    let fields: Vec<&str> = p.routes.iter().map(|r| r.field.as_str()).collect();
    assert_eq!(
        fields,
        ["http[0]", "http[1]", "http[2]"],
        "http[3] targets port 1"
    );
    let r0 = &p.routes[0];
    assert_eq!(
        (r0.name.as_deref(), r0.matches.as_slice()),
        (Some("slow-path"), &["uri prefix /slow".to_string()][..])
    );
    assert_eq!(r0.timeout.value, Some(Duration::from_secs(2)));
    assert_eq!(
        r0.timeout.source.to_string(),
        "VirtualService prod/reviews http[0].timeout"
    );
    assert_eq!(r0.weight.value, 80);
    let retries = r0.retries.as_ref().unwrap();
    assert_eq!(retries.attempts.value, 3);
    assert_eq!(
        retries.per_try_timeout.value,
        Some(Duration::from_millis(500))
    );
    assert_eq!(
        retries.retry_on,
        Sourced::default_value(DEFAULT_RETRY_ON.to_string())
    );
    let r1 = &p.routes[1];
    assert_eq!(r1.timeout, Sourced::default_value(None));
    assert_eq!(r1.weight, Sourced::default_value(100));
    let retries = r1.retries.as_ref().unwrap();
    assert_eq!(retries.attempts, Sourced::default_value(2));
    assert_eq!(retries.per_try_timeout, Sourced::default_value(None));
    let disabled = p.routes[2].retries.as_ref().unwrap();
    assert_eq!(disabled.attempts.value, 0);
    assert_eq!(
        disabled.attempts.source.to_string(),
        "VirtualService prod/reviews http[2].retries.attempts"
    );
    let p = run(
        &cfg,
        "outbound|1|v1|reviews.prod.svc.cluster.local",
        "frontend",
    );
    let no_attempts = p.routes.last().unwrap().retries.as_ref().unwrap();
    assert_eq!(
        no_attempts.attempts.value, 0,
        "retries without attempts disables them"
    );
    assert_eq!(no_attempts.retry_on.value, "5xx");
    let p = run(
        &cfg,
        "outbound|9080|v2|reviews.prod.svc.cluster.local",
        "frontend",
    );
    assert_eq!(p.routes.len(), 1);
    assert_eq!(p.routes[0].weight.value, 20);
    let p = run(&cfg, REVIEWS, "frontend");
    assert!(p.routes.is_empty(), "plain cluster gets no subset routes");
}

#[test]
fn gateway_only_virtual_services_do_not_apply_to_sidecars() {
    let gw = "  hosts: [reviews]\n  gateways: [ingress]\n  http:\n  - timeout: 1s\n    route:\n    - destination: {host: reviews}";
    let both = "  hosts: [reviews]\n  gateways: [ingress, mesh]\n  http:\n  - timeout: 3s\n    route:\n    - destination: {host: reviews}";
    let cfg = config(&(vs("prod", "edge", gw) + &vs("prod", "both", both)));
    let p = run(&cfg, REVIEWS, "prod");
    assert_eq!(p.routes.len(), 1);
    assert_eq!(p.routes[0].virtual_service.name, "both");
    assert_eq!(p.routes[0].timeout.value, Some(Duration::from_secs(3)));
    assert!(p.notes.iter().any(|n| n == "VirtualService prod/edge covers reviews.prod.svc.cluster.local but is bound only to gateways [\"ingress\"], not `mesh`: its routes do not apply to sidecars"), "{:?}", p.notes);
}

#[test]
fn routes_to_undefined_subsets_are_noted() {
    let body =
        "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v9}";
    let cfg = config(&(reviews_subsets() + &vs("prod", "typo", body)));
    let p = run(&cfg, REVIEWS, "prod");
    assert!(p.notes.iter().any(|n| n == "VirtualService prod/typo http[0] routes to subset `v9` of reviews.prod.svc.cluster.local, which no DestinationRule visible to namespace prod defines (IST0101): such requests fail (503 NC)"), "{:?}", p.notes);
}

#[test]
fn same_host_rules_in_one_namespace_are_merged() {
    let first = "  host: reviews\n  subsets:\n  - name: v1";
    let second = "  host: reviews\n  trafficPolicy:\n    tls: {mode: DISABLE}\n  subsets:\n  - name: v2\n    trafficPolicy:\n      connectionPool:\n        tcp: {maxConnections: 4}";
    let cfg = config(&(dr("prod", "a", first) + &dr("prod", "b", second)));
    let p = run(
        &cfg,
        "outbound|9080|v2|reviews.prod.svc.cluster.local",
        "prod",
    );
    assert_eq!(p.destination_rule.as_ref().unwrap().name, "a");
    assert_eq!(p.max_connections.value, Limit::At(4));
    assert_eq!(
        p.tls_mode.source.to_string(),
        source("prod/b", "trafficPolicy.tls.mode")
    );
    assert!(
        p.notes[1].starts_with("2 DestinationRules in prod share this host (a, b)"),
        "{:?}",
        p.notes
    );
}

#[test]
fn non_outbound_clusters_resolve_to_nothing() {
    let cfg = IstioConfig::default();
    let opts = ResolveOptions::default();
    for name in ["inbound|9080||", "BlackHoleCluster", "service1"] {
        assert_eq!(resolve(&cfg, &ClusterKey::parse(name), "prod", &opts), None);
    }
}

#[test]
fn resolved_policy_serialises_durations_as_milliseconds() {
    let p = run(
        &config(&dr("prod", "r", &timeout_body("reviews", 3))),
        REVIEWS,
        "prod",
    );
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["connect_timeout"]["value"], 3000);
    assert_eq!(
        json["connect_timeout"]["source"]["field"],
        "trafficPolicy.connectionPool.tcp.connectTimeout"
    );
    assert_eq!(
        json["max_connection_duration"]["value"],
        serde_json::Value::Null
    );
    assert_eq!(json["max_connections"]["value"], "unlimited");
    assert_eq!(json["tcp_idle_timeout"]["source"]["type"], "istio_default");
}
