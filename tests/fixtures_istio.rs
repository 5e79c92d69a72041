//! Istio loading and resolution over the real DestinationRule/VirtualService YAML in
//! `$MESHTOP_FIXTURES/istio-crds/` (bookinfo samples, istio/istio test data, "Istio in Action").
//! Expected counts and values were checked by hand (PyYAML `safe_load_all` kind counts and
//! reading each file).

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use meshtop::envoy::ClusterKey;
use meshtop::istio::{
    DEFAULT_RETRY_ON, IssueKind, IstioConfig, Limit, ResolveOptions, ResolvedPolicy, Sourced,
    load_yaml, resolve,
};

const DIR: &str = "istio-crds";

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("fixture dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// Loads fixture files (relative to `istio-crds/`) into one configuration.
fn load(test: &str, files: &[&str]) -> Option<IstioConfig> {
    let dir = common::fixtures_dir(test)?.join(DIR);
    let mut cfg = IstioConfig::default();
    for rel in files {
        let text = std::fs::read_to_string(dir.join(rel)).expect("fixture is UTF-8");
        cfg.merge(load_yaml(&text, rel));
    }
    Some(cfg)
}

/// Like `kubectl apply -n NS`: objects without a namespace land in `ns`.
fn load_into(test: &str, files: &[&str], ns: &str) -> Option<IstioConfig> {
    let mut cfg = load(test, files)?;
    for o in cfg
        .destination_rules
        .iter_mut()
        .filter(|o| o.namespace_defaulted)
    {
        o.namespace = ns.to_string();
    }
    for o in cfg
        .virtual_services
        .iter_mut()
        .filter(|o| o.namespace_defaulted)
    {
        o.namespace = ns.to_string();
    }
    Some(cfg)
}

fn policy(cfg: &IstioConfig, cluster: &str, client: &str) -> ResolvedPolicy {
    resolve(
        cfg,
        &ClusterKey::parse(cluster),
        client,
        &ResolveOptions::default(),
    )
    .expect("outbound cluster")
}

fn skipped(cfg: &IstioConfig) -> Vec<String> {
    let bad = cfg.issues.iter().filter(|i| i.kind != IssueKind::Note);
    bad.map(ToString::to_string).collect()
}

/// (file, DestinationRules, VirtualServices, other kinds) for every fixture YAML.
const COUNTS: &[(&str, usize, usize, usize)] = &[
    ("crd-destinationrules.networking.istio.io.gen.yaml", 0, 0, 1),
    ("crd-virtualservices.networking.istio.io.gen.yaml", 0, 0, 1),
    ("istio-samples-bookinfo/bookinfo-gateway.yaml", 0, 1, 1),
    (
        "istio-samples-bookinfo/destination-rule-all-mtls.yaml",
        4,
        0,
        0,
    ),
    ("istio-samples-bookinfo/destination-rule-all.yaml", 4, 0, 0),
    (
        "istio-samples-bookinfo/destination-rule-reviews.yaml",
        1,
        0,
        0,
    ),
    (
        "istio-samples-bookinfo/egress-rule-google-apis.yaml",
        1,
        1,
        1,
    ),
    (
        "istio-samples-bookinfo/fault-injection-details-v1.yaml",
        1,
        1,
        0,
    ),
    (
        "istio-samples-bookinfo/virtual-service-all-v1.yaml",
        0,
        4,
        0,
    ),
    (
        "istio-samples-bookinfo/virtual-service-ratings-test-abort.yaml",
        0,
        1,
        0,
    ),
    (
        "istio-samples-bookinfo/virtual-service-ratings-test-delay.yaml",
        0,
        1,
        0,
    ),
    (
        "istio-samples-bookinfo/virtual-service-reviews-50-v3.yaml",
        0,
        1,
        0,
    ),
    (
        "istio-samples-bookinfo/virtual-service-reviews-jason-v2-v3.yaml",
        0,
        1,
        0,
    ),
    (
        "istio-tests/analyzer-destinationrule-mutual-port.yaml",
        1,
        0,
        0,
    ),
    (
        "istio-tests/analyzer-virtualservice_conflictingmeshgatewayhosts_with_exportto.yaml",
        0,
        8,
        0,
    ),
    (
        "istio-tests/analyzer-virtualservice_destinationhosts.yaml",
        0,
        20,
        9,
    ),
    (
        "istio-tests/e2e-artifact-DestinationRule-idletimeout.yaml",
        1,
        0,
        0,
    ),
    (
        "istio-tests/e2e-artifact-DestinationRule-use-client-protocol.yaml",
        1,
        0,
        0,
    ),
    (
        "istio-tests/e2e-artifact-VirtualService-retry_conditions.yaml",
        0,
        1,
        0,
    ),
    (
        "istio-tests/samples-multicluster-expose-istiod-https.yaml",
        1,
        1,
        1,
    ),
    (
        "istio-tests/tests-testdata-config-destination-rule-all.yaml",
        1,
        0,
        1,
    ),
    (
        "istio-tests/validation-destinationrule-invalid.yaml",
        3,
        0,
        0,
    ),
    ("istio-tests/validation-destinationrule-valid.yaml", 4, 0, 0),
    (
        "istioinaction-book/ch10_catalog-destinationrule-v1-v2.yaml",
        1,
        0,
        0,
    ),
    (
        "istioinaction-book/ch10_catalog-virtualservice-subsets-v1-v2-timeouts.yaml",
        0,
        1,
        0,
    ),
    (
        "istioinaction-book/ch12_locality-aware_west_simple-backend-dr.yaml",
        1,
        0,
        0,
    ),
    ("istioinaction-book/ch5_catalog-dest-rule.yaml", 1, 0, 0),
    (
        "istioinaction-book/ch5_catalog-vs-v2-request-mesh.yaml",
        0,
        1,
        0,
    ),
    (
        "istioinaction-book/ch6_simple-backend-dr-conn-limit.yaml",
        1,
        0,
        0,
    ),
    (
        "istioinaction-book/ch6_simple-backend-dr-max-retries.yaml",
        1,
        0,
        0,
    ),
    (
        "istioinaction-book/ch6_simple-backend-dr-outlier-5s.yaml",
        1,
        0,
        0,
    ),
    (
        "istioinaction-book/ch6_simple-backend-dr-outlier-locality.yaml",
        1,
        0,
        0,
    ),
    (
        "istioinaction-book/ch6_simple-backend-dr-outlier.yaml",
        1,
        0,
        0,
    ),
    (
        "istioinaction-book/ch6_simple-backend-ef-retry-budgets.yaml",
        0,
        0,
        1,
    ),
    (
        "istioinaction-book/ch6_simple-backend-enable-retry.yaml",
        0,
        1,
        0,
    ),
    (
        "istioinaction-book/ch6_simple-backend-vs-retry-500.yaml",
        0,
        1,
        0,
    ),
    (
        "istioinaction-book/ch6_simple-backend-vs-retry-on.yaml",
        0,
        1,
        0,
    ),
    (
        "istioinaction-book/ch6_simple-backend-vs-timeout.yaml",
        0,
        1,
        0,
    ),
    (
        "istioinaction-book/ch6_simple-service-disable-retry.yaml",
        0,
        2,
        0,
    ),
    ("istioinaction-book/ch6_simple-web-stats-incl.yaml", 0, 0, 3),
    (
        "istioinaction-book/ch7_webapp-deployment-stats-inclusion.yaml",
        0,
        0,
        1,
    ),
];

#[test]
fn every_fixture_yaml_loads_with_exact_counts_and_no_skips() {
    let Some(root) = common::fixtures_dir("every_fixture_yaml_loads") else {
        return;
    };
    let dir = root.join(DIR);
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    files.sort();
    assert_eq!(
        files.len(),
        COUNTS.len(),
        "a fixture YAML without expected counts"
    );
    for path in &files {
        let rel = path
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let expected = COUNTS.iter().find(|(f, ..)| *f == rel);
        let (_, drs, vss, other) = expected.unwrap_or_else(|| panic!("no expectation for {rel}"));
        let cfg = load_yaml(&std::fs::read_to_string(path).unwrap(), &rel);
        let got = (
            cfg.destination_rules.len(),
            cfg.virtual_services.len(),
            cfg.ignored_kinds,
        );
        assert_eq!(got, (*drs, *vss, *other), "{rel}");
        assert_eq!(skipped(&cfg), Vec::<String>::new(), "{rel}");
    }
}

#[test]
fn destination_rule_all_fields() {
    let file = "istio-tests/tests-testdata-config-destination-rule-all.yaml";
    let Some(cfg) = load("destination_rule_all_fields", &[file]) else {
        return;
    };
    let dr = &cfg.destination_rules[0];
    assert_eq!(
        (dr.namespace.as_str(), dr.name.as_str()),
        ("testns", "destall")
    );
    assert_eq!(dr.source, format!("{file}:20"));
    let subsets: Vec<&str> = dr.spec.subsets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(subsets, ["v1", "v2"]);
    let p = policy(
        &cfg,
        "outbound|81|v2|destall.default.svc.cluster.local",
        "testns",
    );
    assert_eq!(
        p.destination_rule.as_ref().unwrap().to_string(),
        "DestinationRule testns/destall"
    );
    assert_eq!(p.connect_timeout.value, Duration::from_secs(6));
    assert_eq!(
        p.connect_timeout.source.to_string(),
        "DestinationRule testns/destall trafficPolicy.connectionPool.tcp.connectTimeout"
    );
    assert_eq!(p.max_connections.value, Limit::At(99));
    assert_eq!(p.http2_max_requests.value, Limit::At(33));
    assert_eq!(p.max_requests_per_connection.value, Limit::At(65));
    assert_eq!(p.max_retries.value, Limit::At(4));
    assert_eq!(p.http1_max_pending_requests.value, Limit::At(14));
    assert_eq!(p.tls_mode.value.as_deref(), Some("DISABLE"));
    let od = p.outlier_detection.as_ref().unwrap();
    assert_eq!(od.interval.value, Duration::from_millis(8));
    assert_eq!(od.base_ejection_time.value, Duration::from_secs(60));
    assert_eq!(od.max_ejection_percent.value, 11);
    assert_eq!(od.consecutive_5xx_errors, Sourced::default_value(5));
    let lb = p.load_balancer.value.as_ref().unwrap();
    assert_eq!(lb["consistentHash"]["minimumRingSize"], 42);
    assert_eq!(
        p.load_balancer.source.to_string(),
        "DestinationRule testns/destall subsets[v2].trafficPolicy.loadBalancer"
    );
    // From another namespace the rule is found in none of client/service/root namespaces.
    let p = policy(
        &cfg,
        "outbound|81|v2|destall.default.svc.cluster.local",
        "default",
    );
    assert_eq!(p.destination_rule, None);
}

#[test]
fn e2e_artifacts_idle_timeout_client_protocol_and_retry_conditions() {
    let files = [
        "istio-tests/e2e-artifact-DestinationRule-idletimeout.yaml",
        "istio-tests/e2e-artifact-DestinationRule-use-client-protocol.yaml",
        "istio-tests/e2e-artifact-VirtualService-retry_conditions.yaml",
    ];
    let Some(cfg) = load("e2e_artifacts", &files) else {
        return;
    };
    let p = policy(
        &cfg,
        "outbound|80||c.echo-2-88348.svc.cluster.local",
        "echo-2-88348",
    );
    assert_eq!(p.http_idle_timeout.value, Duration::from_secs(100));
    assert_eq!(
        p.http_idle_timeout.source.to_string(),
        "DestinationRule echo-2-88348/idletimeout-dr trafficPolicy.connectionPool.http.idleTimeout"
    );
    assert_eq!(
        p.tcp_idle_timeout,
        Sourced::default_value(Duration::from_secs(3600))
    );
    assert_eq!(p.tls_mode.value.as_deref(), Some("DISABLE"));
    let p = policy(
        &cfg,
        "outbound|80||c.echo-2-20468.svc.cluster.local",
        "echo-2-20468",
    );
    assert!(p.use_client_protocol.value);
    let p = policy(
        &cfg,
        "outbound|80||b.echo-2-98059.svc.cluster.local",
        "echo-2-98059",
    );
    assert_eq!(p.routes.len(), 1);
    let retries = p.routes[0].retries.as_ref().unwrap();
    assert_eq!(retries.attempts.value, 3);
    assert_eq!(retries.per_try_timeout.value, Some(Duration::from_secs(2)));
    assert_eq!(
        retries.retry_on.value,
        "gateway-error,connect-failure,refused-stream"
    );
    assert!(retries.retry_remote_localities.value);
    assert_eq!(
        retries.per_try_timeout.source.to_string(),
        "VirtualService echo-2-98059/default http[0].retries.perTryTimeout"
    );
    assert_eq!(p.routes[0].timeout, Sourced::default_value(None));
}

#[test]
fn istio_in_action_chapter_6_limits_outliers_timeouts_retries() {
    let files = [
        "istioinaction-book/ch6_simple-backend-dr-conn-limit.yaml",
        "istioinaction-book/ch6_simple-backend-vs-timeout.yaml",
    ];
    let Some(cfg) = load_into("ch6", &files, "istioinaction") else {
        return;
    };
    let cluster = "outbound|80||simple-backend.istioinaction.svc.cluster.local";
    let p = policy(&cfg, cluster, "istioinaction");
    for limit in [
        &p.max_connections,
        &p.http1_max_pending_requests,
        &p.max_requests_per_connection,
        &p.max_retries,
        &p.http2_max_requests,
    ] {
        assert_eq!(limit.value, Limit::At(1));
    }
    assert_eq!(p.routes.len(), 1);
    assert_eq!(p.routes[0].timeout.value, Some(Duration::from_millis(500)));
    assert_eq!(
        p.routes[0].retries.as_ref().unwrap().retry_on.value,
        DEFAULT_RETRY_ON
    );

    let files = [
        "istioinaction-book/ch6_simple-backend-dr-outlier.yaml",
        "istioinaction-book/ch6_simple-service-disable-retry.yaml",
    ];
    let Some(cfg) = load_into("ch6", &files, "istioinaction") else {
        return;
    };
    let p = policy(&cfg, cluster, "istioinaction");
    let od = p.outlier_detection.as_ref().unwrap();
    assert_eq!(
        (
            od.consecutive_5xx_errors.value,
            od.max_ejection_percent.value
        ),
        (1, 100)
    );
    assert_eq!(
        (od.interval.value, od.base_ejection_time.value),
        (Duration::from_secs(5), Duration::from_secs(30))
    );
    assert_eq!(od.min_health_percent, Sourced::default_value(0));
    assert_eq!(p.routes.len(), 1);
    assert_eq!(p.routes[0].virtual_service.name, "simple-backend-vs");
    assert_eq!(p.routes[0].retries.as_ref().unwrap().attempts.value, 0);
    let web = policy(
        &cfg,
        "outbound|80||simple-web.istioinaction.svc.cluster.local",
        "istioinaction",
    );
    assert!(
        web.routes.is_empty(),
        "simple-web-vs-for-gateway is gateway-only"
    );

    let files = ["istioinaction-book/ch6_simple-backend-vs-retry-on.yaml"];
    let Some(cfg) = load_into("ch6", &files, "istioinaction") else {
        return;
    };
    let retries = policy(&cfg, cluster, "istioinaction").routes[0]
        .retries
        .clone()
        .unwrap();
    assert_eq!(
        (retries.attempts.value, retries.retry_on.value.as_str()),
        (2, "5xx,retriable-status-codes")
    );
}

#[test]
fn unnamespaced_files_resolve_in_default_and_say_so() {
    let file = "istioinaction-book/ch6_simple-backend-dr-conn-limit.yaml";
    let Some(cfg) = load("unnamespaced", &[file]) else {
        return;
    };
    assert_eq!(cfg.issues.len(), 1);
    assert!(
        cfg.issues[0]
            .message
            .starts_with("1 object(s) have no metadata.namespace; assumed `default`")
    );
    let cluster = "outbound|80||simple-backend.istioinaction.svc.cluster.local";
    assert_eq!(
        policy(&cfg, cluster, "default").max_connections.value,
        Limit::At(1)
    );
    let p = policy(&cfg, cluster, "istioinaction");
    assert_eq!(p.destination_rule, None);
    assert!(
        p.notes[0]
            .contains("Istio does not look in namespace default for clients in istioinaction"),
        "{:?}",
        p.notes
    );
}

#[test]
fn istio_in_action_subsets_gateway_vs_and_locality_dr() {
    let files = [
        "istioinaction-book/ch5_catalog-dest-rule.yaml",
        "istioinaction-book/ch5_catalog-vs-v2-request-mesh.yaml",
        "istioinaction-book/ch10_catalog-virtualservice-subsets-v1-v2-timeouts.yaml",
        "istioinaction-book/ch12_locality-aware_west_simple-backend-dr.yaml",
    ];
    let Some(cfg) = load_into("ch5_ch10_ch12", &files, "istioinaction") else {
        return;
    };
    let p = policy(
        &cfg,
        "outbound|80|version-v2|catalog.istioinaction.svc.cluster.local",
        "istioinaction",
    );
    // ch10's VS is for `catalog.istioinaction.io` on `catalog-gateway`: not this mesh host.
    assert_eq!(p.routes.len(), 1);
    assert_eq!(p.routes[0].virtual_service.name, "catalog");
    assert_eq!(
        p.routes[0].matches,
        ["header x-istio-cohort exact internal"]
    );
    assert!(
        !p.notes.iter().any(|n| n.contains("catalog-v1-v2")),
        "{:?}",
        p.notes
    );

    let p = policy(
        &cfg,
        "outbound|80|version-v1|catalog.istioinaction.svc.cluster.local",
        "istioinaction",
    );
    assert_eq!(p.routes[0].field, "http[1]");
    assert_eq!(p.routes[0].weight, Sourced::default_value(100));
    let p = policy(
        &cfg,
        "outbound|80||simple-backend.istioinaction.svc.cluster.local",
        "web",
    );
    assert_eq!(p.http2_max_requests.value, Limit::At(10));
    assert_eq!(
        p.outlier_detection.as_ref().unwrap().interval.value,
        Duration::from_secs(20)
    );
    assert!(
        p.notes[0].ends_with("found in the service namespace istioinaction"),
        "{:?}",
        p.notes
    );
}

#[test]
fn validation_invalid_destination_rules_load_because_semantic_checks_are_istios() {
    // Each document carries an extra top-level `_err` key and an out-of-range
    // `loadBalancer.warmup` value. meshtop ignores unknown keys and keeps `loadBalancer` as
    // JSON without validating it, so all three load; only the namespace note is reported.
    let file = "istio-tests/validation-destinationrule-invalid.yaml";
    let Some(cfg) = load("validation_invalid", &[file]) else {
        return;
    };
    assert_eq!(cfg.destination_rules.len(), 3);
    assert_eq!(skipped(&cfg), Vec::<String>::new());
    assert_eq!(cfg.issues.len(), 1);
    assert_eq!(cfg.issues[0].kind, IssueKind::Note);
    let lb = |i: usize| {
        cfg.destination_rules[i]
            .spec
            .traffic_policy
            .clone()
            .unwrap()
            .load_balancer
            .unwrap()
    };
    assert_eq!(lb(0)["warmup"]["minimumPercent"], 150.0);
    assert_eq!(lb(2)["warmup"]["aggression"], -0.1);
    let sources: Vec<&str> = cfg
        .destination_rules
        .iter()
        .map(|o| o.source.as_str())
        .collect();
    assert_eq!(
        sources,
        [
            format!("{file}:1"),
            format!("{file}:14"),
            format!("{file}:26")
        ]
    );
}

#[test]
fn bookinfo_subsets_header_routes_and_fault() {
    let files = [
        "istio-samples-bookinfo/destination-rule-all-mtls.yaml",
        "istio-samples-bookinfo/virtual-service-reviews-jason-v2-v3.yaml",
        "istio-samples-bookinfo/virtual-service-ratings-test-delay.yaml",
    ];
    let Some(cfg) = load("bookinfo", &files) else {
        return;
    };
    let reviews =
        |subset: &str| format!("outbound|9080|{subset}|reviews.default.svc.cluster.local");
    let p = policy(&cfg, &reviews("v2"), "default");
    assert_eq!(
        p.destination_rule.as_ref().unwrap().to_string(),
        "DestinationRule default/reviews"
    );
    assert_eq!(p.subset.as_deref(), Some("v2"));
    assert_eq!(p.tls_mode.value.as_deref(), Some("ISTIO_MUTUAL"));
    assert_eq!(
        p.tls_mode.source.to_string(),
        "DestinationRule default/reviews trafficPolicy.tls.mode"
    );
    assert_eq!(p.routes.len(), 1);
    assert_eq!(p.routes[0].matches, ["header end-user exact jason"]);
    assert_eq!(
        p.routes[0].retries.as_ref().unwrap().attempts,
        Sourced::default_value(2)
    );
    let p = policy(&cfg, &reviews("v3"), "default");
    assert_eq!(
        (p.routes[0].field.as_str(), p.routes[0].matches.len()),
        ("http[1]", 0)
    );
    let p = policy(&cfg, &reviews("v1"), "default");
    assert!(p.routes.is_empty());
    assert!(
        p.notes
            .last()
            .unwrap()
            .starts_with("no VirtualService visible to namespace default routes to subset `v1`")
    );
    let p = policy(
        &cfg,
        "outbound|9080|v1|ratings.default.svc.cluster.local",
        "default",
    );
    let faults: Vec<Option<&str>> = p.routes.iter().map(|r| r.fault.as_deref()).collect();
    assert_eq!(faults, [Some("delay 7s (100.0%)"), None]);
    assert_eq!(p.routes[0].timeout.value, None);
    // Subset from a cluster name no DestinationRule defines.
    let p = policy(&cfg, &reviews("v9"), "default");
    assert!(
        p.notes
            .iter()
            .any(|n| n.starts_with("cluster subset `v9` is not defined")),
        "{:?}",
        p.notes
    );
}

#[test]
fn bookinfo_weighted_and_duplicate_rules() {
    let files = [
        "istio-samples-bookinfo/destination-rule-all.yaml",
        "istio-samples-bookinfo/destination-rule-reviews.yaml",
        "istio-samples-bookinfo/virtual-service-reviews-50-v3.yaml",
        "istio-samples-bookinfo/virtual-service-all-v1.yaml",
    ];
    let Some(cfg) = load("bookinfo_weighted", &files) else {
        return;
    };
    let p = policy(
        &cfg,
        "outbound|9080|v3|reviews.default.svc.cluster.local",
        "default",
    );
    assert_eq!(p.routes.len(), 1);
    assert_eq!(p.routes[0].weight.value, 50);
    assert_eq!(
        p.routes[0].weight.source.to_string(),
        "VirtualService default/reviews http[0].route[1].weight"
    );
    assert_eq!(p.load_balancer.value.as_ref().unwrap()["simple"], "RANDOM");
    assert!(
        p.notes
            .iter()
            .any(|n| n
                .starts_with("2 DestinationRules in default share this host (reviews, reviews)")),
        "{:?}",
        p.notes
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.starts_with("2 VirtualServices cover reviews.default.svc.cluster.local")),
        "{:?}",
        p.notes
    );
}

#[test]
fn port_level_tls_and_h2_upgrade() {
    let files = [
        "istio-samples-bookinfo/egress-rule-google-apis.yaml",
        "istio-tests/samples-multicluster-expose-istiod-https.yaml",
    ];
    let Some(cfg) = load("port_level", &files) else {
        return;
    };
    let p = policy(&cfg, "outbound|443||www.googleapis.com", "default");
    assert_eq!(p.tls_mode.value.as_deref(), Some("SIMPLE"));
    assert_eq!(
        p.tls_mode.source.to_string(),
        "DestinationRule default/originate-tls-for-googleapis trafficPolicy.portLevelSettings[443].tls.mode"
    );
    assert_eq!(
        p.load_balancer,
        Sourced::default_value(None),
        "port level does not inherit"
    );
    assert_eq!(p.routes.len(), 1);
    assert_eq!(p.routes[0].matches, ["port 80"]);
    let p = policy(&cfg, "outbound|80||www.googleapis.com", "default");
    assert_eq!(
        p.load_balancer.value.as_ref().unwrap()["simple"],
        "ROUND_ROBIN"
    );
    assert!(
        p.routes.is_empty(),
        "the VS sends port 80 requests to port 443"
    );
    let p = policy(
        &cfg,
        "outbound|15012||istiod.istio-system.svc.cluster.local",
        "default",
    );
    assert_eq!(p.h2_upgrade_policy.value, "UPGRADE");
    assert_eq!(
        p.h2_upgrade_policy.source.to_string(),
        "DestinationRule default/istiod-dr trafficPolicy.portLevelSettings[15012].connectionPool.http.h2UpgradePolicy"
    );
    assert!(
        p.routes.is_empty(),
        "istiod-vs is bound to istiod-gateway only"
    );
}

#[test]
fn export_to_in_the_analyzer_fixture() {
    let file = "istio-tests/analyzer-virtualservice_conflictingmeshgatewayhosts_with_exportto.yaml";
    let Some(cfg) = load("analyzer_export_to", &[file]) else {
        return;
    };
    let cluster = "outbound|9080||x.productpage.b";
    let p = policy(&cfg, cluster, "foo");
    let hidden: Vec<&String> = p
        .notes
        .iter()
        .filter(|n| n.contains("not exported"))
        .collect();
    assert_eq!(hidden, [&"VirtualService bar/productpage-b covers x.productpage.b but is not exported to namespace foo (exportTo [\".\"])".to_string()]);
    let p = policy(&cfg, cluster, "bar");
    let hidden: Vec<&String> = p
        .notes
        .iter()
        .filter(|n| n.contains("not exported"))
        .collect();
    assert_eq!(hidden, [&"VirtualService foo/productpage-b covers x.productpage.b but is not exported to namespace bar (exportTo [\"foo\"])".to_string()]);
    let p = policy(&cfg, "outbound|9080||x.productpage.d", "qa");
    assert!(p.notes.iter().any(|n| n.starts_with(
        "VirtualService foo/productpage-d covers x.productpage.d but is not exported"
    )));
}
