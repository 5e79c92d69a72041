//! Unit tests for resolution: one rule of Istio's behaviour per test, with inline YAML.

use std::time::Duration;

use super::*;
use crate::istio::load::{IssueKind, load_yaml};
use crate::istio::source::{Limit, Source, Sourced};

pub(super) fn config(yaml: &str) -> IstioConfig {
    let cfg = load_yaml(yaml, "t.yaml");
    let bad: Vec<_> = cfg
        .issues
        .iter()
        .filter(|i| i.kind != IssueKind::Note)
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    cfg
}

pub(super) fn run(cfg: &IstioConfig, cluster: &str, client: &str) -> ResolvedPolicy {
    let key = ClusterKey::parse(cluster);
    resolve(cfg, &key, client, &ResolveOptions::default()).expect("outbound cluster")
}

pub(super) fn dr(ns: &str, name: &str, body: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, \
         namespace: {ns}}}\nspec:\n{body}\n---\n"
    )
}

pub(super) fn vs(ns: &str, name: &str, body: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {name}, \
         namespace: {ns}}}\nspec:\n{body}\n---\n"
    )
}

pub(super) fn source(policy_dr: &str, field: &str) -> String {
    format!("DestinationRule {policy_dr} {field}")
}

pub(super) const REVIEWS: &str = "outbound|9080||reviews.prod.svc.cluster.local";

pub(super) fn timeout_body(host: &str, secs: u32) -> String {
    format!(
        "  host: {host}\n  trafficPolicy:\n    connectionPool:\n      tcp:\n        connectTimeout: {secs}s"
    )
}

#[test]
fn short_names_resolve_in_the_rule_namespace() {
    let yaml = dr("prod", "own", &timeout_body("reviews", 3))
        + &dr("default", "elsewhere", &timeout_body("reviews", 4));
    let p = run(&config(&yaml), REVIEWS, "prod");
    assert_eq!(p.connect_timeout.value, Duration::from_secs(3));
    assert_eq!(
        p.connect_timeout.source.to_string(),
        source(
            "prod/own",
            "trafficPolicy.connectionPool.tcp.connectTimeout"
        )
    );
    // `reviews` in `default` means reviews.default.svc.cluster.local: not this cluster.
    let p = run(
        &config(&dr("default", "elsewhere", &timeout_body("reviews", 4))),
        REVIEWS,
        "default",
    );
    assert_eq!(p.destination_rule, None);
    assert_eq!(
        p.connect_timeout,
        Sourced::default_value(Duration::from_secs(10))
    );
}

#[test]
fn dotted_partial_names_are_not_expanded_and_say_so() {
    let yaml = dr("prod", "partial", &timeout_body("reviews.prod", 3));
    let p = run(&config(&yaml), REVIEWS, "prod");
    assert_eq!(p.destination_rule, None);
    assert!(
        p.notes[0].starts_with(
            "DestinationRule prod/partial host `reviews.prod` is not expanded by Istio"
        ),
        "{:?}",
        p.notes
    );
}

#[test]
fn the_most_specific_host_wins() {
    let yaml = dr("prod", "all", &timeout_body("\"*\"", 1))
        + &dr("prod", "local", &timeout_body("\"*.local\"", 2))
        + &dr(
            "prod",
            "ns",
            &timeout_body("\"*.prod.svc.cluster.local\"", 3),
        )
        + &dr(
            "prod",
            "exact",
            &timeout_body("reviews.prod.svc.cluster.local", 4),
        );
    let cfg = config(&yaml);
    assert_eq!(
        run(&cfg, REVIEWS, "prod").connect_timeout.value,
        Duration::from_secs(4)
    );
    let ratings = "outbound|9080||ratings.prod.svc.cluster.local";
    let p = run(&cfg, ratings, "prod");
    assert_eq!(p.connect_timeout.value, Duration::from_secs(3));
    assert_eq!(p.destination_rule.unwrap().name, "ns");
    let external = "outbound|443||api.example.com";
    assert_eq!(
        run(&cfg, external, "prod").connect_timeout.value,
        Duration::from_secs(1)
    );
    let shadowed = p.notes.iter().filter(|n| n.contains("shadowed")).count();
    assert_eq!(shadowed, 2, "{:?}", p.notes);
}

#[test]
fn export_to_dot_hides_a_rule_from_other_namespaces() {
    let body = timeout_body("reviews", 3) + "\n  exportTo: [\".\"]";
    let cfg = config(&dr("prod", "private", &body));
    assert_eq!(
        run(&cfg, REVIEWS, "prod").connect_timeout.value,
        Duration::from_secs(3)
    );
    let p = run(&cfg, REVIEWS, "frontend");
    assert_eq!(p.destination_rule, None);
    assert_eq!(
        p.notes[0],
        "DestinationRule prod/private matches reviews.prod.svc.cluster.local but is not visible \
         to namespace frontend (exportTo [\".\"])"
    );
    let listed = timeout_body("reviews", 5) + "\n  exportTo: [frontend]";
    let cfg = config(&dr("prod", "listed", &listed));
    assert_eq!(
        run(&cfg, REVIEWS, "frontend").connect_timeout.value,
        Duration::from_secs(5)
    );
    assert_eq!(run(&cfg, REVIEWS, "other").destination_rule, None);
}

#[test]
fn precedence_is_client_then_service_then_root_namespace() {
    let root = dr("istio-system", "mesh", &timeout_body("\"*.local\"", 1));
    let service = dr("prod", "svc", &timeout_body("reviews", 2));
    let client = dr(
        "frontend",
        "client",
        &timeout_body("reviews.prod.svc.cluster.local", 3),
    );
    let all = config(&(root.clone() + &service + &client));
    assert_eq!(
        run(&all, REVIEWS, "frontend").connect_timeout.value,
        Duration::from_secs(3)
    );
    assert_eq!(
        run(&all, REVIEWS, "billing").connect_timeout.value,
        Duration::from_secs(2)
    );
    let p = run(&config(&root), REVIEWS, "billing");
    assert_eq!(p.connect_timeout.value, Duration::from_secs(1));
    assert_eq!(
        p.notes,
        [
            "DestinationRule istio-system/mesh (host `*.local`) applies: found in the root namespace istio-system"
        ]
    );
    let p = run(&all, REVIEWS, "billing");
    assert_eq!(
        p.notes[0],
        "DestinationRule istio-system/mesh also matches reviews.prod.svc.cluster.local but is shadowed: Istio applies one DestinationRule per host, with no merging across namespaces or hosts"
    );
    assert!(p.notes[1].starts_with("DestinationRule frontend/client matches reviews.prod.svc.cluster.local but Istio does not look in namespace frontend"));
}

#[test]
fn subset_sections_replace_top_level_sections_whole() {
    let body = "  host: reviews
  trafficPolicy:
    connectionPool:
      tcp: {connectTimeout: 2s, maxConnections: 50}
    outlierDetection: {consecutive5xxErrors: 3}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      connectionPool:
        http: {http1MaxPendingRequests: 7}
  - name: v2
    labels: {version: v2}";
    let cfg = config(&dr("prod", "reviews", body));
    let p = run(
        &cfg,
        "outbound|9080|v1|reviews.prod.svc.cluster.local",
        "prod",
    );
    assert_eq!(p.subset.as_deref(), Some("v1"));
    assert_eq!(
        p.connect_timeout,
        Sourced::default_value(Duration::from_secs(10))
    );
    assert_eq!(p.max_connections, Sourced::default_value(Limit::Unlimited));
    assert_eq!(p.http1_max_pending_requests.value, Limit::At(7));
    assert_eq!(
        p.http1_max_pending_requests.source.to_string(),
        source(
            "prod/reviews",
            "subsets[v1].trafficPolicy.connectionPool.http.http1MaxPendingRequests"
        )
    );
    let od = p.outlier_detection.as_ref().unwrap();
    assert_eq!(
        od.consecutive_5xx_errors.value, 3,
        "outlier section inherited from top level"
    );
    let p = run(
        &cfg,
        "outbound|9080|v2|reviews.prod.svc.cluster.local",
        "prod",
    );
    assert_eq!(p.connect_timeout.value, Duration::from_secs(2));
    assert_eq!(p.max_connections.value, Limit::At(50));
}

#[test]
fn port_level_settings_replace_sections_for_their_port() {
    let body = "  host: db.prod.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp: {connectTimeout: 2s}
    tls: {mode: ISTIO_MUTUAL}
    portLevelSettings:
    - port: {number: 5432}
      connectionPool:
        tcp: {maxConnections: 9}
  subsets:
  - name: v1
    trafficPolicy:
      portLevelSettings:
      - port: {number: 8080}
        outlierDetection: {interval: 1s}";
    let cfg = config(&dr("prod", "db", body));
    let p = run(&cfg, "outbound|5432||db.prod.svc.cluster.local", "prod");
    assert_eq!(p.max_connections.value, Limit::At(9));
    assert_eq!(
        p.max_connections.source.to_string(),
        source(
            "prod/db",
            "trafficPolicy.portLevelSettings[5432].connectionPool.tcp.maxConnections"
        )
    );
    assert!(
        p.connect_timeout.source.is_default(),
        "port level does not inherit"
    );
    assert!(
        p.tls_mode.source.is_default(),
        "tls dropped by the port-level entry"
    );
    let p = run(&cfg, "outbound|80||db.prod.svc.cluster.local", "prod");
    assert_eq!(p.connect_timeout.value, Duration::from_secs(2));
    assert_eq!(p.tls_mode.value.as_deref(), Some("ISTIO_MUTUAL"));
    let p = run(&cfg, "outbound|8080|v1|db.prod.svc.cluster.local", "prod");
    assert!(
        p.connect_timeout.source.is_default(),
        "subset port level replaces all"
    );
    assert!(p.tls_mode.source.is_default());
    let od = p.outlier_detection.unwrap();
    assert_eq!(od.interval.value, Duration::from_secs(1));
    assert_eq!(
        od.interval.source.to_string(),
        source(
            "prod/db",
            "subsets[v1].trafficPolicy.portLevelSettings[8080].outlierDetection.interval"
        )
    );
    let p = run(&cfg, "outbound|80|v1|db.prod.svc.cluster.local", "prod");
    assert_eq!(
        p.connect_timeout.value,
        Duration::from_secs(2),
        "subset without a section inherits"
    );
}

#[test]
fn defaults_are_filled_in_and_marked() {
    let p = run(&IstioConfig::default(), REVIEWS, "prod");
    let d = Source::IstioDefault;
    assert_eq!(
        p.connect_timeout,
        Sourced {
            value: Duration::from_secs(10),
            source: d.clone()
        }
    );
    assert_eq!(p.tcp_idle_timeout.value, Duration::from_secs(3600));
    assert_eq!(p.http_idle_timeout.value, Duration::from_secs(3600));
    for limit in [
        &p.max_connections,
        &p.http1_max_pending_requests,
        &p.http2_max_requests,
        &p.max_requests_per_connection,
        &p.max_retries,
    ] {
        assert_eq!(
            limit,
            &Sourced {
                value: Limit::Unlimited,
                source: d.clone()
            }
        );
    }
    assert_eq!(p.max_connection_duration.value, None);
    assert_eq!(p.h2_upgrade_policy.value, "DEFAULT");
    assert_eq!(p.outlier_detection, None);
    assert_eq!(p.tls_mode.value, None);
    assert!(p.routes.is_empty());
    assert_eq!(
        p.notes,
        [
            "no DestinationRule visible to namespace prod applies to reviews.prod.svc.cluster.local: Istio defaults"
        ]
    );
    let od = "  host: reviews\n  trafficPolicy:\n    outlierDetection: {baseEjectionTime: 1m}";
    let p = run(&config(&dr("prod", "r", od)), REVIEWS, "prod");
    let od = p.outlier_detection.unwrap();
    assert_eq!(
        (od.consecutive_5xx_errors.value, od.interval.value),
        (5, Duration::from_secs(10))
    );
    assert_eq!(
        (od.max_ejection_percent.value, od.min_health_percent.value),
        (10, 0)
    );
    assert!(od.consecutive_5xx_errors.source.is_default());
    assert_eq!(od.base_ejection_time.value, Duration::from_secs(60));
    assert!(!od.base_ejection_time.source.is_default());
}

#[test]
fn deprecated_consecutive_errors_counts_gateway_errors_only() {
    let body = "  host: reviews\n  trafficPolicy:\n    outlierDetection: {consecutiveErrors: 7}";
    let p = run(&config(&dr("prod", "r", body)), REVIEWS, "prod");
    let od = p.outlier_detection.unwrap();
    assert_eq!(
        (
            od.consecutive_gateway_errors.value,
            od.consecutive_5xx_errors.value
        ),
        (7, 0)
    );
    assert_eq!(
        od.consecutive_5xx_errors.source.to_string(),
        source("prod/r", "trafficPolicy.outlierDetection.consecutiveErrors")
    );
}

pub(super) const ROUTED: &str = "  hosts: [reviews]
  http:
  - name: slow-path
    match:
    - uri: {prefix: /slow}
    timeout: 2s
    retries: {attempts: 3, perTryTimeout: 500ms}
    route:
    - destination: {host: reviews, subset: v1}
      weight: 80
    - destination: {host: reviews, subset: v2}
      weight: 20
  - route:
    - destination: {host: reviews, subset: v1}
  - retries: {attempts: 0}
    route:
    - destination: {host: reviews.prod.svc.cluster.local, subset: v1, port: {number: 9080}}
  - retries: {retryOn: 5xx}
    route:
    - destination: {host: reviews, subset: v1, port: {number: 1}}";
