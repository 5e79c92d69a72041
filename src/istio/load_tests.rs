//! Unit tests for `load.rs`: documents, lists, kinds, malformed objects and syntax errors.

use std::time::Duration;

use super::*;

const DR_AND_VS: &str = "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: inventory
  namespace: prod
spec:
  host: inventory
  trafficPolicy:
    connectionPool:
      tcp:
        connectTimeout: 250ms
        maxConnections: 100
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: inventory
spec:
  hosts: [inventory]
  http:
  - timeout: 1h30m
    route:
    - destination: {host: inventory}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec: {}
";

#[test]
fn documents_of_each_kind_load_with_metadata_and_source_lines() {
    let cfg = load_yaml(DR_AND_VS, "a.yaml");
    assert_eq!(cfg.destination_rules.len(), 1);
    assert_eq!(cfg.virtual_services.len(), 1);
    assert_eq!(cfg.ignored_kinds, 1);
    let dr = &cfg.destination_rules[0];
    assert_eq!(
        (dr.namespace.as_str(), dr.name.as_str()),
        ("prod", "inventory")
    );
    assert!(!dr.namespace_defaulted);
    assert_eq!(dr.api_version, "networking.istio.io/v1");
    assert_eq!(dr.source, "a.yaml:1");
    let tcp = dr
        .spec
        .traffic_policy
        .as_ref()
        .unwrap()
        .connection_pool
        .as_ref()
        .unwrap();
    let tcp = tcp.tcp.as_ref().unwrap();
    assert_eq!(tcp.connect_timeout, Some(Duration::from_millis(250)));
    assert_eq!(tcp.max_connections, Some(100));
    let vs = &cfg.virtual_services[0];
    assert_eq!(vs.source, "a.yaml:14");
    assert_eq!(vs.api_version, "networking.istio.io/v1beta1");
    assert_eq!(
        (vs.namespace.as_str(), vs.namespace_defaulted),
        ("default", true)
    );
    assert_eq!(vs.spec.http[0].timeout, Some(Duration::from_secs(5400)));
    assert_eq!(cfg.issues.len(), 1);
    assert_eq!(cfg.issues[0].kind, IssueKind::Note);
    assert!(
        cfg.issues[0]
            .message
            .starts_with("1 object(s) have no metadata.namespace")
    );
}

#[test]
fn a_kubectl_list_is_unpacked() {
    let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: networking.istio.io/v1alpha3
  kind: DestinationRule
  metadata: {name: a, namespace: x}
  spec: {host: a}
- apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: {name: b, namespace: x}
  spec: {hosts: [b]}
- apiVersion: v1
  kind: Service
  metadata: {name: c}
metadata:
  resourceVersion: \"\"
";
    let cfg = load_yaml(text, "list.yaml");
    assert_eq!(cfg.destination_rules.len(), 1);
    assert_eq!(cfg.destination_rules[0].source, "list.yaml:4");
    assert_eq!(cfg.virtual_services[0].source, "list.yaml:8");
    assert_eq!(cfg.ignored_kinds, 1);
    assert!(cfg.issues.is_empty(), "{:?}", cfg.issues);
}

#[test]
fn malformed_objects_are_skipped_with_location_object_and_field() {
    let text = "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: bad-duration, namespace: prod}
spec:
  host: a
  trafficPolicy:
    connectionPool:
      tcp:
        connectTimeout: soon
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: no-host, namespace: prod}
spec:
  subsets: []
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: wrong-type, namespace: prod}
spec:
  hosts: [a]
  http:
  - retries:
      attempts: many
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: good, namespace: prod}
spec: {host: a}
";
    let cfg = load_yaml(text, "m.yaml");
    let names: Vec<&str> = cfg
        .destination_rules
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(names, ["good"]);
    assert!(cfg.virtual_services.is_empty());
    let shown: Vec<String> = cfg.issues.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 3, "{shown:#?}");
    assert_eq!(
        shown[0],
        "m.yaml:9: DestinationRule prod/bad-duration: spec.trafficPolicy.connectionPool.tcp.\
         connectTimeout: invalid duration \"soon\": expected a number (expected e.g. 1s, 0.5s, \
         100ms, 1h30m) (skipped)"
    );
    assert_eq!(
        shown[1],
        "m.yaml:15: DestinationRule prod/no-host: spec.host: missing or empty; a \
         DestinationRule needs a host (skipped)"
    );
    assert_eq!(
        shown[2],
        "m.yaml:24: VirtualService prod/wrong-type: spec.http[0].retries.attempts: invalid \
         type: string \"many\", expected u32 (skipped)"
    );
    assert!(cfg.issues.iter().all(|i| i.kind == IssueKind::Skipped));
}

#[test]
fn a_syntax_error_keeps_the_documents_before_it() {
    let text = "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: first, namespace: prod}
spec: {host: a}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: broken, namespace: prod
spec: {host: b}
";
    let cfg = load_yaml(text, "s.yaml");
    assert_eq!(cfg.destination_rules.len(), 1);
    assert_eq!(cfg.destination_rules[0].name, "first");
    assert_eq!(cfg.issues.len(), 1, "{:?}", cfg.issues);
    let issue = &cfg.issues[0];
    assert_eq!(issue.kind, IssueKind::Syntax);
    assert!(issue.location.starts_with("s.yaml:"), "{}", issue.location);
    assert_eq!(issue.location.matches(':').count(), 2, "file:line:column");
    assert!(
        issue.message.starts_with("YAML error: "),
        "{}",
        issue.message
    );
}

#[test]
fn other_api_groups_and_kindless_documents() {
    let text = "\
apiVersion: example.com/v1
kind: DestinationRule
metadata: {name: x}
spec: {host: a}
---
just: a map
---
- a list
";
    let cfg = load_yaml(text, "o.yaml");
    assert!(cfg.destination_rules.is_empty());
    assert_eq!(cfg.ignored_kinds, 1);
    let shown: Vec<String> = cfg.issues.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "o.yaml:6: not a Kubernetes object (no `kind`) (skipped)",
            "o.yaml:8: not a Kubernetes object (no `kind`) (skipped)"
        ]
    );
}

#[test]
fn json_objects_from_the_api_and_merge() {
    let objects = vec![
        serde_json::json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": "r", "namespace": "prod"},
            "spec": {"host": "r", "trafficPolicy": {"connectionPool": {"http": {"idleTimeout": "100s"}}}}}),
        serde_json::json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": "bad", "namespace": "prod"}, "spec": {"host": 5}}),
    ];
    let mut cfg = from_json_objects(objects, "kube");
    assert_eq!(cfg.destination_rules.len(), 1);
    assert_eq!(cfg.destination_rules[0].source, "kube");
    let http = cfg.destination_rules[0]
        .spec
        .traffic_policy
        .as_ref()
        .unwrap();
    let http = http
        .connection_pool
        .as_ref()
        .unwrap()
        .http
        .as_ref()
        .unwrap();
    assert_eq!(http.idle_timeout, Some(Duration::from_secs(100)));
    assert_eq!(
        cfg.issues[0].to_string(),
        "kube: DestinationRule prod/bad: spec.host: invalid type: integer `5`, expected a string (skipped)"
    );
    cfg.merge(load_yaml(DR_AND_VS, "a.yaml"));
    assert_eq!(cfg.destination_rules.len(), 2);
    assert_eq!(cfg.issues.len(), 2);
    assert_eq!(cfg.ignored_kinds, 1);
}

#[test]
fn empty_and_garbage_inputs_do_not_panic() {
    for text in [
        "",
        "---\n---\n",
        "\u{0}\u{1}",
        "key: [unclosed",
        ": :",
        "a: *nope\n",
    ] {
        let cfg = load_yaml(text, "g.yaml");
        assert!(cfg.destination_rules.is_empty());
    }
}

#[test]
fn deep_nesting_and_alias_bombs_are_errors_not_crashes() {
    let block_map: String = (0..3000)
        .map(|i| format!("{}b:\n", " ".repeat(i)))
        .collect();
    let block_seq: String = (0..3000)
        .map(|i| format!("{}-\n", " ".repeat(2 * i)))
        .collect();
    let flow = "[".repeat(3000) + &"]".repeat(3000);
    let flow_map = "{a: ".repeat(60) + "1" + &"}".repeat(60);
    let bomb = "a: &a [1,2,3]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n\
                d: &d [*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d]\n\
                f: &f [*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f]\n";
    for text in [&block_map, &block_seq, &flow, &flow_map, bomb, "&a [*a]\n"] {
        let cfg = load_yaml(text, "deep.yaml");
        assert_eq!(cfg.issues.len(), 1, "{:?}", cfg.issues);
        assert_eq!(cfg.issues[0].kind, IssueKind::Syntax);
    }
    let mut deep = serde_json::json!(1);
    for _ in 0..100 {
        deep = serde_json::json!([deep]);
    }
    let cfg = from_json_objects([deep], "kube");
    assert_eq!(
        cfg.issues[0].to_string(),
        "kube: object nested deeper than 40 levels (skipped)"
    );
    let at_limit: String = (0..40).map(|i| format!("{}b:\n", " ".repeat(i))).collect();
    let cfg = load_yaml(&at_limit, "deep.yaml");
    assert_eq!(cfg.issues[0].message, "not a Kubernetes object (no `kind`)");
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(200))]

    /// Damaged copies of a real document (a byte range replaced by arbitrary text) never panic
    /// and never invent objects.
    #[test]
    fn damaged_documents_never_panic(start in 0usize..400, len in 0usize..40, junk in "\\PC{0,12}") {
        let cut = start.min(DR_AND_VS.len());
        let end = (cut + len).min(DR_AND_VS.len());
        if DR_AND_VS.is_char_boundary(cut) && DR_AND_VS.is_char_boundary(end) {
            let text = format!("{}{junk}{}", &DR_AND_VS[..cut], &DR_AND_VS[end..]);
            let cfg = load_yaml(&text, "p.yaml");
            let objects = cfg.destination_rules.len() + cfg.virtual_services.len();
            proptest::prop_assert!(objects <= 2);
        }
    }
}
