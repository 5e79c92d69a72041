//! Unit tests for resolution: one rule of Istio's behaviour per test, with inline YAML.

use std::time::Duration;

use super::*;
use crate::istio::load::{IssueKind, load_yaml};
use crate::istio::route::DEFAULT_RETRY_ON;
use crate::istio::source::{Limit, Source, Sourced};

fn config(yaml: &str) -> IstioConfig {
    let cfg = load_yaml(yaml, "t.yaml");
    let bad: Vec<_> = cfg
        .issues
        .iter()
        .filter(|i| i.kind != IssueKind::Note)
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    cfg
}

fn run(cfg: &IstioConfig, cluster: &str, client: &str) -> ResolvedPolicy {
    let key = ClusterKey::parse(cluster);
    resolve(cfg, &key, client, &ResolveOptions::default()).expect("outbound cluster")
}

fn dr(ns: &str, name: &str, body: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, \
         namespace: {ns}}}\nspec:\n{body}\n---\n"
    )
}

fn vs(ns: &str, name: &str, body: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {name}, \
         namespace: {ns}}}\nspec:\n{body}\n---\n"
    )
}

fn source(policy_dr: &str, field: &str) -> String {
    format!("DestinationRule {policy_dr} {field}")
}

const REVIEWS: &str = "outbound|9080||reviews.prod.svc.cluster.local";

fn timeout_body(host: &str, secs: u32) -> String {
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

const ROUTED: &str = "  hosts: [reviews]
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
