//! `istio::find_subset_policies` over the real DestinationRule/VirtualService YAML in
//! `$MESHTOP_FIXTURES/istio-crds/`. Checked by hand (PyYAML over every fixture): the only
//! subset with its own `trafficPolicy` is `v2` of `testns/destall` (a `loadBalancer`), and no
//! VirtualService in the fixtures routes to it; bookinfo's subsets carry no policy of their own.

mod common;

use std::path::Path;

use meshtop::istio::{IstioConfig, find_subset_policies, load_yaml};

fn load(dir: &Path, files: &[&str]) -> IstioConfig {
    let mut cfg = IstioConfig::default();
    for rel in files {
        let path = dir.join("istio-crds").join(rel);
        let text = std::fs::read_to_string(&path).expect("fixture is UTF-8");
        cfg.merge(load_yaml(&text, rel));
    }
    cfg
}

fn yaml_files(dir: &Path, out: &mut Vec<String>, base: &Path) {
    for entry in std::fs::read_dir(dir).expect("fixture dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out, base);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            let rel = path.strip_prefix(base).expect("under base");
            out.push(rel.to_string_lossy().into_owned());
        }
    }
}

#[test]
fn every_fixture_together_has_one_unrouted_subset_policy() {
    let Some(dir) = common::fixtures_dir("every_fixture_together_has_one_unrouted_subset_policy")
    else {
        return;
    };
    let base = dir.join("istio-crds");
    let mut files = Vec::new();
    yaml_files(&base, &mut files, &base);
    files.sort();
    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
    let cfg = load(&dir, &refs);
    // PyYAML counts 31 DestinationRule documents over all fixture files.
    assert_eq!(cfg.destination_rules.len(), 31);
    let uses = find_subset_policies(&cfg, "cluster.local");
    assert_eq!(uses.len(), 1, "{uses:?}");
    let u = &uses[0];
    assert_eq!(
        (
            u.destination_rule.namespace.as_str(),
            u.destination_rule.name.as_str()
        ),
        ("testns", "destall")
    );
    assert_eq!(u.host, "destall.default.svc.cluster.local");
    assert_eq!(u.subset, "v2");
    assert_eq!(u.sections, vec!["loadBalancer"]);
    assert!(u.routed_by.is_empty());
}

#[test]
fn bookinfo_subsets_without_own_policies_are_not_listed() {
    let Some(dir) = common::fixtures_dir("bookinfo_subsets_without_own_policies_are_not_listed")
    else {
        return;
    };
    let cfg = load(
        &dir,
        &[
            "istio-samples-bookinfo/destination-rule-all.yaml",
            "istio-samples-bookinfo/destination-rule-reviews.yaml",
            "istio-samples-bookinfo/virtual-service-all-v1.yaml",
            "istio-samples-bookinfo/virtual-service-reviews-jason-v2-v3.yaml",
        ],
    );
    // 5 DestinationRules with 13 subsets between them, 5 VirtualServices: nothing to activate.
    assert_eq!(cfg.destination_rules.len(), 5);
    let subsets: usize = (cfg.destination_rules.iter())
        .map(|d| d.spec.subsets.len())
        .sum();
    assert_eq!(subsets, 13);
    assert_eq!(cfg.virtual_services.len(), 5);
    assert!(find_subset_policies(&cfg, "cluster.local").is_empty());
}

/// `build_snapshot` fills `subset_policies` from the Istio objects, and R21 reads them.
#[test]
fn snapshot_carries_subset_policies_for_r21() {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use meshtop::istio::ResolveOptions;
    use meshtop::metrics::{DEFAULT_RETENTION, MetricsStore, Timestamp, TrackedStats};
    use meshtop::model::{SnapshotInput, build_snapshot};

    let yaml = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
        metadata: {name: pricing-svc, namespace: prod}\nspec:\n  host: pricing-svc\n  subsets:\n\
        \x20 - name: v1\n    labels: {version: v1}\n    trafficPolicy:\n      connectionPool:\n        tcp: {maxConnections: 1}\n\
        \x20 - name: v2\n    labels: {version: v2}\n    trafficPolicy:\n      outlierDetection: {consecutive5xxErrors: 2}\n---\n\
        apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: pricing-svc, namespace: prod}\n\
        spec:\n  hosts: [pricing-svc]\n  http:\n  - route: [{destination: {host: pricing-svc, subset: v2}}]\n";
    let istio = load_yaml(yaml, "t.yaml");
    let store = MetricsStore::new(TrackedStats::default(), DEFAULT_RETENTION);
    let input = SnapshotInput {
        store: &store,
        now: Timestamp::from_secs(30),
        window: Duration::from_secs(30),
        context: None,
        namespace: Some("prod".into()),
        taken_at_unix_ms: None,
        sources: Vec::new(),
        endpoints: BTreeMap::new(),
        config_dumps: BTreeMap::new(),
        istio: Some(&istio),
        resolve: ResolveOptions::default(),
        per_pod: false,
        hosts: None,
        series: None,
    };
    let snap = build_snapshot(&input);
    /// (rule, host, subset, sections, routed_by).
    type Row<'a> = (&'a str, &'a str, &'a str, Vec<String>, Vec<String>);
    let got: Vec<Row> = (snap.subset_policies.iter())
        .map(|p| {
            let (dr, host, subset) = (&p.destination_rule, &p.host, &p.subset);
            (
                dr.as_str(),
                host.as_str(),
                subset.as_str(),
                p.sections.clone(),
                p.routed_by.clone(),
            )
        })
        .collect();
    let host = "pricing-svc.prod.svc.cluster.local";
    assert_eq!(
        got,
        vec![
            (
                "prod/pricing-svc",
                host,
                "v1",
                vec!["connectionPool".to_string()],
                vec![]
            ),
            (
                "prod/pricing-svc",
                host,
                "v2",
                vec!["outlierDetection".to_string()],
                vec!["VirtualService prod/pricing-svc http[0]".to_string()]
            ),
        ]
    );
    let findings = meshtop::diagnosis::evaluate(&snap);
    let r21: Vec<&str> = (findings.iter())
        .filter(|f| f.rule == "R21")
        .map(|f| f.title.as_str())
        .collect();
    assert_eq!(
        r21,
        vec![
            "DestinationRule prod/pricing-svc subset v1: its connectionPool policy is inactive — no VirtualService routes to the subset"
        ]
    );
}
