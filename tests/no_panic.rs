//! Property tests: no Envoy admin parser panics, whatever the bytes, and the text `/stats`
//! parser's reusable [`StatsSet`] survives garbage.
//!
//! Random bytes rarely get past the first checks (UTF-8, `{`, `: `), so most strategies build
//! input shaped like the real formats (`/stats` lines, Prometheus samples, `/clusters` lines)
//! from parts that are known to be awkward: names with `| . ; :`, `P0(nan,1)` tokens, quotes,
//! numbers above `u64::MAX`, IPv6 hosts. The JSON parsers get every truncation and many one-byte
//! changes of small valid documents. Failure persistence is off so a failing case never writes
//! files into the project; proptest prints the minimal input instead.

use std::time::Duration;

use meshtop::envoy::capture::{detect, parse_capture};
use meshtop::envoy::clusters::{parse_clusters_json, parse_clusters_text};
use meshtop::envoy::config_dump::{RouteTimeout, parse_config_dump};
use meshtop::envoy::prometheus::{istio_requests, parse_prometheus, parse_prometheus_into};
use meshtop::envoy::server_info::parse_server_info;
use meshtop::envoy::stats_json::parse_stats_json;
use meshtop::envoy::stats_text::{parse_stats_text, parse_stats_text_into};
use meshtop::envoy::{StatValue, StatsFormat, StatsSet};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Runs every parser (and both entry points of the text `/stats` parser) on `bytes`.
fn run_every_parser(bytes: &[u8]) {
    let _ = detect(bytes);
    let _ = parse_capture(bytes);
    let _ = parse_stats_text(bytes);
    let _ = parse_stats_json(bytes);
    let text = String::from_utf8_lossy(bytes);
    let _ = parse_prometheus(&text);
    let _ = istio_requests(&text);
    let _ = parse_clusters_text(&text);
    let _ = parse_clusters_json(&text);
    let _ = parse_config_dump(&text);
    let _ = parse_server_info(&text);
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// A valid text capture and what it must parse to
// ---------------------------------------------------------------------------------------------

const CAT: &str = "outbound|80||catalog.istioinaction.svc.cluster.local";
const REVIEWS: &str = "outbound|9080||reviews.default.svc.cluster.local";

/// Covers readouts, a big gauge, a `;.` delimiter, a `spiffe://` name, all histogram forms.
const VALID_STATS: &str = "\
cluster.outbound|80||catalog.istioinaction.svc.cluster.local.version_text: \"2025-05-03T12:39:09Z/11\"
control_plane.identifier: \"\"
cluster.outbound|80||catalog.istioinaction.svc.cluster.local.circuit_breakers.default.remaining_cx_pools: 18446744073709551614
cluster.outbound|80||catalog.istioinaction.svc.cluster.local.ssl.versions.TLSv1.3: 1
cluster.outbound|80||catalog.istioinaction.svc.cluster.local.upstream_rq_timeout: 7
cluster.outbound|9080||reviews.default.svc.cluster.local;.upstream_rq_total: 42
cluster_manager.cds.version: 11549674845441926298
istiocustom.istio_requests_total.source_principal.spiffe://cluster.local/ns/a/sa/b.response_code.200: 4
server.uptime: 3630
cluster.outbound|80||catalog.istioinaction.svc.cluster.local.upstream_cx_length_ms: No recorded values
cluster.outbound|80||catalog.istioinaction.svc.cluster.local.upstream_rq_time: P0(nan,1.0) P50(2,11.5) P99(nan,929.9999999999999) P100(nan,1200)
";

/// Checks that `set` holds exactly `VALID_STATS`.
fn assert_valid_stats(set: &StatsSet) -> Result<(), TestCaseError> {
    prop_assert_eq!(set.format, StatsFormat::Text);
    prop_assert_eq!(set.stat_count, 11);
    prop_assert!(set.issues().is_empty(), "{:?}", set.issues());
    // Sorted: a reused set lists clusters in the order it first saw them, garbage included.
    let mut names: Vec<&str> = set.clusters().map(|c| c.name()).collect();
    names.sort_unstable();
    prop_assert_eq!(names, vec![CAT, REVIEWS]);
    let cat = set.cluster(CAT).unwrap();
    prop_assert_eq!(cat.stats.len(), 6);
    prop_assert_eq!(
        cat.get("version_text"),
        Some(&StatValue::Text("2025-05-03T12:39:09Z/11".into()))
    );
    prop_assert_eq!(
        cat.int("circuit_breakers.default.remaining_cx_pools"),
        Some(18446744073709551614)
    );
    prop_assert_eq!(cat.int("ssl.versions.TLSv1.3"), Some(1));
    prop_assert_eq!(cat.int("upstream_rq_timeout"), Some(7));
    prop_assert!(cat.histogram("upstream_cx_length_ms").unwrap().is_empty());
    let h = cat.histogram("upstream_rq_time").unwrap();
    prop_assert_eq!(h.quantiles.len(), 4);
    prop_assert_eq!(h.interval(50.0), Some(2.0));
    prop_assert_eq!(h.cumulative(99.0), Some(929.9999999999999));
    prop_assert_eq!(h.interval(0.0), None);
    let reviews = set.cluster(REVIEWS).unwrap();
    prop_assert_eq!(reviews.stats.len(), 1);
    prop_assert_eq!(reviews.int("upstream_rq_total"), Some(42));
    prop_assert_eq!(set.other().len(), 4);
    prop_assert_eq!(
        set.other().get("cluster_manager.cds.version"),
        Some(&StatValue::Int(11549674845441926298))
    );
    prop_assert_eq!(
        set.other().get("control_plane.identifier"),
        Some(&StatValue::Text(String::new()))
    );
    prop_assert_eq!(set.uptime_seconds(), Some(3630));
    Ok(())
}

/// Invariants of any set, whatever was parsed into it: lengths agree with the iterators, every
/// listed cluster can be looked up, issues come in line order.
fn assert_consistent(set: &StatsSet) -> Result<(), TestCaseError> {
    prop_assert_eq!(set.cluster_count(), set.clusters().count());
    for c in set.clusters() {
        prop_assert!(!c.stats.is_empty());
        prop_assert_eq!(c.stats.len(), c.stats.iter().count(), "{}", c.name());
        prop_assert_eq!(set.cluster(c.name()).map(|x| x.name()), Some(c.name()));
        for (suffix, value) in c.stats.iter() {
            prop_assert_eq!(c.get(suffix), Some(value));
        }
    }
    prop_assert_eq!(set.other().len(), set.other().iter().count());
    for (name, value) in set.other().iter() {
        prop_assert_eq!(set.other().get(name), Some(value));
    }
    let lines: Vec<usize> = set.issues().iter().map(|i| i.line).collect();
    prop_assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{:?}", lines);
    Ok(())
}

/// Every non-empty line is stored (`stat_count`) or reported (an issue), or both; none is
/// dropped and none is counted twice as a stat.
fn assert_accounted(input: &[u8], set: &StatsSet) -> Result<(), TestCaseError> {
    let lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    let non_empty = lines
        .iter()
        .filter(|l| !l.strip_suffix(b"\r").unwrap_or(l).is_empty())
        .count();
    let issue_lines: std::collections::BTreeSet<usize> =
        set.issues().iter().map(|i| i.line).collect();
    prop_assert!(set.stat_count <= non_empty);
    prop_assert!(
        set.stat_count + issue_lines.len() >= non_empty,
        "{} stats + {} lines with issues < {} lines",
        set.stat_count,
        issue_lines.len(),
        non_empty
    );
    prop_assert!(
        set.issues()
            .iter()
            .all(|i| i.line >= 1 && i.line <= lines.len())
    );
    Ok(())
}

/// Per cluster (in order) and for the other stats: the `iter()` output, owned.
type Snapshot = (
    Vec<(String, Vec<(String, StatValue)>)>,
    Vec<(String, StatValue)>,
);

fn snapshot(set: &StatsSet) -> Snapshot {
    let own = |it: &mut dyn Iterator<Item = (&str, &StatValue)>| -> Vec<(String, StatValue)> {
        it.map(|(n, v)| (n.to_string(), v.clone())).collect()
    };
    let clusters = set
        .clusters()
        .map(|c| (c.name().to_string(), own(&mut c.stats.iter())))
        .collect();
    (clusters, own(&mut set.other().iter()))
}

/// The same, sorted: for sets whose history may have changed the first-seen order.
fn sorted(set: &StatsSet) -> Snapshot {
    let (mut clusters, mut other) = snapshot(set);
    clusters.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, stats) in &mut clusters {
        stats.sort_by(|a, b| a.0.cmp(&b.0));
    }
    other.sort_by(|a, b| a.0.cmp(&b.0));
    (clusters, other)
}

// ---------------------------------------------------------------------------------------------
// Strategies: mostly well-formed parts (so lines get deep into the parsers), some damaged ones.
// ---------------------------------------------------------------------------------------------

/// One of the literal strings with its weight (literals, not regexes: `.` and `(` stay
/// themselves).
fn weighted(items: &'static [(u32, &'static str)]) -> impl Strategy<Value = String> + Clone {
    prop::strategy::Union::new_weighted(
        items
            .iter()
            .map(|&(weight, s)| (weight, Just(s.to_string())))
            .collect(),
    )
}

/// Names as Envoy and Istio make them.
fn clean_cluster_name() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => weighted(&[
            (1, CAT),
            (1, REVIEWS),
            (1, "inbound|8080||"),
            (1, "xds-grpc"),
            (1, "service1"),
            (1, "outbound|80||metadata.google.internal"),
            (1, "outbound|443||api.stripe.com"),
        ]),
        1 => "(outbound|inbound)\\|[0-9]{1,5}\\|[a-z0-9]{0,3}\\|[a-z0-9-]{1,8}(\\.[a-z0-9-]{1,8}){0,3}",
    ]
}

fn cluster_name() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        4 => clean_cluster_name(),
        1 => "[a-z0-9|.;:/_ -]{0,24}",
        1 => "\\PC{0,6}",
    ]
}

fn clean_stat_suffix() -> impl Strategy<Value = String> + Clone {
    weighted(&[
        (1, "upstream_rq_total"),
        (1, "upstream_rq_timeout"),
        (1, "upstream_rq_time"),
        (1, "upstream_cx_length_ms"),
        (1, "version_text"),
        (1, "circuit_breakers.default.remaining_cx_pools"),
        (1, "circuit_breakers.high.rq_open"),
        (1, "ssl.versions.TLSv1.3"),
        (1, "ssl.ciphers.TLS_AES_128_GCM_SHA256"),
        (1, "internal.upstream_rq_200"),
        (1, "external.upstream_rq_5xx"),
        (1, "tlsMode-istio.total_match_count"),
        (1, "zone.a.b.upstream_rq_2xx"),
        (1, "http2.streams_active"),
        (1, "outlier_detection.ejections_active"),
    ])
}

fn stat_suffix() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        4 => clean_stat_suffix(),
        1 => "(upstream|http2|ssl|zone|internal|circuit_breakers)[a-z_.0-9]{0,16}",
        1 => "[a-zA-Z0-9_.;:/-]{0,16}",
    ]
}

fn float_text() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        2 => Just("nan".to_string()),
        3 => (0u32..100_000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b}")),
        2 => (0u32..5000).prop_map(|a| a.to_string()),
        1 => any::<f64>().prop_map(|f| f.to_string()),
        1 => weighted(&[
            (1, "inf"),
            (1, "-0"),
            (1, "1e400"),
            (1, "929.9999999999999"),
            (1, "2.0986000000000002"),
            (1, "1234567890123456789.5"),
            (1, ""),
            (1, "1.2.3"),
        ]),
    ]
}

/// `P99(1.5,nan)` with a real percentile.
fn quantile_token() -> impl Strategy<Value = String> + Clone {
    let p = weighted(&[
        (1, "0"),
        (1, "25"),
        (1, "50"),
        (1, "75"),
        (1, "90"),
        (1, "95"),
        (1, "99"),
        (1, "99.5"),
        (1, "99.9"),
        (1, "100"),
    ]);
    (p, float_text(), float_text()).prop_map(|(p, i, c)| format!("P{p}({i},{c})"))
}

/// `P99(1.5,nan)`, `B0.5(0,0)` and damaged variants of them.
fn damaged_token() -> impl Strategy<Value = String> + Clone {
    (
        weighted(&[(3, "P"), (2, "B"), (1, "X"), (1, "")]),
        float_text(),
        weighted(&[(4, "("), (1, ""), (1, "((")]),
        float_text(),
        weighted(&[(4, ","), (1, ""), (1, ",,")]),
        float_text(),
        weighted(&[(4, ")"), (1, ""), (1, "))")]),
    )
        .prop_map(|(l, p, o, i, c, v, e)| format!("{l}{p}{o}{i}{c}{v}{e}"))
}

fn stat_value() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        4 => any::<u64>().prop_map(|v| v.to_string()),
        2 => (0u64..2000).prop_map(|v| v.to_string()),
        1 => weighted(&[
            (1, "18446744073709551616"),
            (1, "99999999999999999999999"),
            (1, "-1"),
            (1, "1.5"),
            (1, "\"\""),
            (1, "\""),
            (1, "No recorded values"),
            (1, "No recorded"),
            (1, "P0(nan,1) P25(nan,1.0269230769230768) P100(nan,2.1)"),
        ]),
        1 => "\"[ -~]{0,16}\"?",
        3 => vec(quantile_token(), 1..11).prop_map(|t| t.join(" ")),
        1 => vec(damaged_token(), 0..6).prop_map(|t| t.join(" ")),
        1 => "\\PC{0,12}",
    ]
}

fn clean_stat_value() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        4 => any::<u64>().prop_map(|v| v.to_string()),
        2 => (0u64..2000).prop_map(|v| v.to_string()),
        1 => weighted(&[(1, "\"\""), (1, "\"2025-05-03T12:39:09Z/11\""), (2, "No recorded values")]),
        3 => vec(quantile_token(), 10..=10).prop_map(|t| t.join(" ")),
    ]
}

/// A line Envoy could have printed.
fn clean_stats_line() -> impl Strategy<Value = String> {
    (
        clean_cluster_name(),
        weighted(&[(3, "."), (1, ";.")]),
        clean_stat_suffix(),
        clean_stat_value(),
    )
        .prop_map(|(c, d, s, v)| format!("cluster.{c}{d}{s}: {v}\n"))
}

/// One line shaped like `cluster.<name>.<suffix>: <value>`, with damage anywhere.
fn damaged_stats_line() -> impl Strategy<Value = String> {
    (
        weighted(&[
            (10, "cluster."),
            (1, "luster."),
            (1, ""),
            (1, "http."),
            (1, "istiocustom."),
            (1, "c"),
        ]),
        cluster_name(),
        weighted(&[(8, "."), (3, ";."), (1, ";"), (1, "")]),
        stat_suffix(),
        weighted(&[(12, ": "), (1, ":"), (1, " "), (1, ": : "), (1, ":  ")]),
        stat_value(),
        weighted(&[(12, "\n"), (1, "\r\n"), (1, "\r"), (1, ""), (1, "\n\n")]),
    )
        .prop_map(|(p, c, d, s, sep, v, eol)| format!("{p}{c}{d}{s}{sep}{v}{eol}"))
}

fn stats_line() -> impl Strategy<Value = String> {
    prop_oneof![4 => clean_stats_line(), 1 => damaged_stats_line()]
}

fn stats_capture() -> impl Strategy<Value = String> {
    vec(stats_line(), 0..24).prop_map(|lines| lines.concat())
}

fn label_key() -> impl Strategy<Value = String> + Clone {
    weighted(&[
        (3, "cluster_name"),
        (2, "envoy_cluster_name"),
        (2, "le"),
        (1, "quantile"),
        (2, "response_code"),
        (1, "response_code_class"),
        (1, "response_flags"),
        (1, "reporter"),
        (1, "source_workload"),
    ])
}

fn label_value() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => clean_cluster_name(),
        2 => weighted(&[
            (1, "+Inf"),
            (1, "0.5"),
            (1, "2500"),
            (1, "5xx"),
            (1, "503"),
            (1, "UT"),
            (1, "source"),
            (1, "outbound|443||api"),
            (1, ""),
        ]),
        1 => "[a-z0-9|.,={} \\\\\"\n-]{0,16}",
        1 => "\\PC{0,6}",
    ]
}

/// `k="v"` escaped as Envoy does (`\\`, `\"`, `\n`).
fn clean_label() -> impl Strategy<Value = String> + Clone {
    (label_key(), label_value()).prop_map(|(k, v)| {
        let v = v
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        format!("{k}=\"{v}\"")
    })
}

/// A label with a missing `=` or quote, a bad key, or an unescaped quote.
fn damaged_label() -> impl Strategy<Value = String> + Clone {
    (
        prop_oneof![3 => label_key(), 1 => weighted(&[(1, ""), (1, "x y"), (1, "9")])],
        weighted(&[(1, "=\""), (1, "="), (1, "\"")]),
        label_value(),
        weighted(&[(1, "\""), (1, ""), (1, "\\\"")]),
    )
        .prop_map(|(k, open, v, close)| format!("{k}{open}{v}{close}"))
}

fn prometheus_name() -> impl Strategy<Value = String> + Clone {
    weighted(&[
        (1, "envoy_cluster_upstream_rq"),
        (1, "envoy_cluster_upstream_rq_timeout"),
        (1, "envoy_cluster_upstream_rq_time_bucket"),
        (1, "envoy_cluster_upstream_rq_time_sum"),
        (1, "envoy_cluster_upstream_rq_time_count"),
        (1, "envoy_cluster_upstream_rq_time"),
        (1, "envoy_cluster_upstream_cx_active"),
        (
            1,
            "envoy_cluster_circuit_breakers_default_remaining_cx_pools",
        ),
        (1, "istio_requests_total"),
        (1, "istio_request_duration_milliseconds_bucket"),
        (1, "envoy_server_uptime"),
        (1, "envoy_cluster_stripe_com_upstream_cx_total"),
    ])
}

fn prometheus_value() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        4 => any::<u64>().prop_map(|v| v.to_string()),
        2 => float_text(),
        1 => weighted(&[
            (1, "NaN"),
            (1, "+Inf"),
            (1, "-Inf"),
            (1, "1e400"),
            (1, "-5"),
            (1, "0x10"),
        ]),
    ]
}

/// `name{k="v\"x",…} value` or a `# TYPE` line, as Envoy prints them.
fn clean_prometheus_line() -> impl Strategy<Value = String> {
    let sample = (
        prometheus_name(),
        vec(clean_label(), 0..5),
        prometheus_value(),
    )
        .prop_map(|(n, labels, v)| format!("{n}{{{}}} {v}", labels.join(",")));
    let kind = weighted(&[(1, "counter"), (1, "gauge"), (1, "histogram")]);
    let comment = (prometheus_name(), kind).prop_map(|(n, k)| format!("# TYPE {n} {k}"));
    prop_oneof![5 => sample, 1 => comment]
}

/// The same with damage anywhere: braces, separators, names, timestamps, comments.
fn damaged_prometheus_line() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        4 => prometheus_name(),
        1 => "[a-zA-Z_:][a-zA-Z0-9_:]{0,20}",
        1 => weighted(&[(1, "9bad"), (1, ""), (1, "{")]),
    ];
    let label = prop_oneof![1 => clean_label(), 1 => damaged_label()];
    let sample = (
        name.clone(),
        weighted(&[(4, "{"), (1, ""), (1, "{{")]),
        vec(label, 0..5),
        weighted(&[(4, ","), (1, ", "), (1, "")]),
        weighted(&[(4, "}"), (1, ""), (1, "}}")]),
        weighted(&[(4, " "), (1, ""), (1, "\t"), (1, "  ")]),
        prometheus_value(),
        weighted(&[(2, ""), (1, " 1700000000000"), (1, " x")]),
    )
        .prop_map(|(n, o, labels, sep, c, sp, v, ts)| {
            format!("{n}{o}{}{c}{sp}{v}{ts}", labels.join(&sep))
        });
    let comment = (
        weighted(&[(3, "# TYPE "), (1, "# HELP "), (1, "#"), (1, "# ")]),
        name,
        weighted(&[(1, " summary"), (1, " untyped"), (1, " x"), (1, "")]),
    )
        .prop_map(|(h, n, t)| format!("{h}{n}{t}"));
    prop_oneof![4 => sample, 1 => comment]
}

fn prometheus_capture() -> impl Strategy<Value = String> {
    let line = prop_oneof![4 => clean_prometheus_line(), 1 => damaged_prometheus_line()];
    vec(line, 0..24).prop_map(|lines| lines.join("\n"))
}

/// `cluster::host:port::stat::value` and the cluster-wide lines, sometimes damaged.
fn clusters_line() -> impl Strategy<Value = String> {
    let host = weighted(&[
        (4, "10.4.1.33:8080"),
        (2, "[2600:1f18::1]:443"),
        (1, "[::1]:80"),
        (1, "::"),
        (1, "10.4.1.33"),
        (1, ""),
        (2, "default_priority"),
        (2, "high_priority"),
        (2, "outlier"),
        (1, "added_via_api"),
        (1, "observability_name"),
        (1, "eds_service_name"),
    ]);
    let field = weighted(&[
        (2, "cx_total"),
        (2, "rq_timeout"),
        (1, "rq_error"),
        (1, "cx_connect_fail"),
        (2, "health_flags"),
        (1, "weight"),
        (1, "priority"),
        (1, "canary"),
        (1, "region"),
        (1, "zone"),
        (1, "sub_zone"),
        (1, "success_rate"),
        (1, "local_origin_success_rate"),
        (1, "hostname"),
        (1, "max_connections"),
        (1, "max_retries"),
        (1, "success_rate_average"),
        (1, "true"),
        (1, ""),
    ]);
    let value = prop_oneof![
        3 => (0u64..5000).prop_map(|v| v.to_string()),
        3 => weighted(&[
            (1, "-1"),
            (1, "-1.0"),
            (1, "99.5"),
            (1, "true"),
            (1, "false"),
            (1, "healthy"),
            (1, "/failed_active_hc/failed_eds_health"),
            (1, "/failed_outlier_check"),
            (1, "4294967295"),
            (1, "99999999999999999999999"),
            (1, ""),
        ]),
        1 => any::<u64>().prop_map(|v| v.to_string()),
        1 => any::<f64>().prop_map(|v| v.to_string()),
        1 => "[a-z0-9/:._-]{0,12}",
        1 => "\\PC{0,6}",
    ];
    let fact =
        (cluster_name(), host, field, value).prop_map(|(c, h, f, v)| format!("{c}::{h}::{f}::{v}"));
    prop_oneof![
        10 => fact,
        1 => "version_info::[ -~]{0,12}",
        1 => "[a-z|:.]{0,20}(::)?[ -~]{0,12}",
    ]
}

fn clusters_capture() -> impl Strategy<Value = String> {
    vec(clusters_line(), 0..24).prop_map(|lines| lines.join("\n"))
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

// Case counts keep this file under ~10 s in a debug build on two cores; generating the shaped
// strings costs more than parsing them.

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn arbitrary_bytes_never_panic_any_parser(bytes in vec(any::<u8>(), 0..4096)) {
        run_every_parser(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics_any_parser(text in "\\PC{0,400}") {
        run_every_parser(text.as_bytes());
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn stats_shaped_input_never_panics_and_drops_no_line(input in stats_capture()) {
        run_every_parser(input.as_bytes());
        if let Ok(mut set) = parse_stats_text(input.as_bytes()) {
            assert_consistent(&set)?;
            assert_accounted(input.as_bytes(), &set)?;
            // The second parse of the same bytes takes the in-order fast path where it can;
            // the result must not differ from the first. Known bug, skipped here and pinned by
            // `reparse_attributes_lines_like_the_first_parse`: names that need knowledge from
            // a *later* line (an unattributed line, the ambiguous `metadata.google.internal`) are split
            // with that knowledge only in the second parse.
            let ambiguous = input.contains("metadata.google.internal")
                || set.issues().iter().any(|i| i.message.contains("unattributed"));
            if ambiguous {
                return Ok(());
            }
            let first = snapshot(&set);
            let (count, issues) = (set.stat_count, set.issues().to_vec());
            parse_stats_text_into(input.as_bytes(), &mut set).unwrap();
            prop_assert_eq!(snapshot(&set), first);
            prop_assert_eq!(set.stat_count, count);
            prop_assert_eq!(set.issues(), issues.as_slice());
        }
    }

}

proptest! {
    #![proptest_config(config(192))]

    #[test]
    fn prometheus_shaped_input_never_panics(input in prometheus_capture()) {
        run_every_parser(input.as_bytes());
        let fresh = parse_prometheus(&input);
        if let Ok(set) = &fresh {
            assert_consistent(set)?;
        }
        let mut set = StatsSet::default();
        for _ in 0..2 {
            let again = parse_prometheus_into(&input, &mut set);
            prop_assert_eq!(again.is_ok(), fresh.is_ok());
            if let (Ok(()), Ok(fresh)) = (again, &fresh) {
                assert_consistent(&set)?;
                prop_assert_eq!(sorted(&set), sorted(fresh));
                prop_assert_eq!(set.issues(), fresh.issues());
            }
        }
    }

    #[test]
    fn clusters_shaped_input_never_panics(input in clusters_capture()) {
        run_every_parser(input.as_bytes());
        if let Ok(dump) = parse_clusters_text(&input) {
            let non_empty = input.lines().filter(|l| !l.trim().is_empty()).count();
            prop_assert_eq!(dump.parsed_lines + dump.issues.len(), non_empty);
        }
    }

}

proptest! {
    #![proptest_config(config(256))]

    /// Garbage between two parses of a valid capture leaves no trace in the reused set.
    #[test]
    fn reparse_after_garbage_gives_the_right_values(
        garbage in prop_oneof![
            stats_capture().prop_map(String::into_bytes),
            vec(any::<u8>(), 0..1024),
        ],
        valid_first in any::<bool>(),
    ) {
        let mut set = StatsSet::default();
        if valid_first {
            parse_stats_text_into(VALID_STATS.as_bytes(), &mut set).unwrap();
        }
        for _ in 0..2 {
            if parse_stats_text_into(&garbage, &mut set).is_ok() {
                assert_consistent(&set)?;
                assert_accounted(&garbage, &set)?;
            }
        }
        parse_stats_text_into(VALID_STATS.as_bytes(), &mut set).unwrap();
        assert_consistent(&set)?;
        assert_valid_stats(&set)?;
        // Twice: the second parse takes the in-order fast path.
        parse_stats_text_into(VALID_STATS.as_bytes(), &mut set).unwrap();
        assert_valid_stats(&set)?;
    }

}

proptest! {
    #![proptest_config(config(96))]

    /// The same, with the garbage glued to the valid capture (a cut or concatenated capture).
    #[test]
    fn valid_lines_survive_garbage_around_them(
        before in stats_capture(),
        after in stats_capture(),
    ) {
        let input = format!("{before}\n{VALID_STATS}{after}");
        let set = parse_stats_text(input.as_bytes()).unwrap();
        assert_consistent(&set)?;
        assert_accounted(input.as_bytes(), &set)?;
        // Every valid line kept its value, unless a later line may have set the same stat.
        let valid = parse_stats_text(VALID_STATS.as_bytes()).unwrap();
        for c in valid.clusters() {
            for (suffix, value) in c.stats.iter().filter(|(s, _)| !after.contains(s)) {
                let got = set.cluster(c.name()).and_then(|x| x.get(suffix));
                prop_assert_eq!(got, Some(value), "{} {}", c.name(), suffix);
            }
        }
        for (name, value) in valid.other().iter().filter(|(n, _)| !after.contains(n)) {
            prop_assert_eq!(set.other().get(name), Some(value), "{}", name);
        }
    }

}

proptest! {
    #![proptest_config(config(512))]

    /// One changed byte anywhere in a small valid JSON document (and that byte removed).
    #[test]
    fn json_documents_with_one_byte_changed_never_panic(
        doc in 0..JSON_DOCS.len(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut bytes = JSON_DOCS[doc].as_bytes().to_vec();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        run_every_parser(&bytes);
        bytes.remove(i);
        run_every_parser(&bytes);
    }
}

// ---------------------------------------------------------------------------------------------
// Small valid JSON documents, every truncation, selected byte substitutions
// ---------------------------------------------------------------------------------------------

const CONFIG_DUMP: &str = r#"{"configs":[{"@type":"type.googleapis.com/envoy.admin.v3.ClustersConfigDump","dynamic_active_clusters":[{"cluster":{"@type":"type.googleapis.com/envoy.config.cluster.v3.Cluster","name":"outbound|8080||inv.prod.svc.cluster.local","type":"EDS","connect_timeout":"2s","circuit_breakers":{"thresholds":[{"max_connections":100,"max_retries":3}]},"outlier_detection":{"consecutive_5xx":5,"interval":"10s"}}}]},{"@type":"type.googleapis.com/envoy.admin.v3.RoutesConfigDump","dynamic_route_configs":[{"route_config":{"@type":"type.googleapis.com/envoy.config.route.v3.RouteConfiguration","name":"8080","virtual_hosts":[{"name":"inv:8080","domains":["inv"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"outbound|8080||inv.prod.svc.cluster.local","timeout":"1s","retry_policy":{"retry_on":"5xx","num_retries":2}}}]}]}}]}]}"#;

const CLUSTERS_JSON: &str = r#"{"cluster_statuses":[{"name":"outbound|8080||inv.prod.svc.cluster.local","added_via_api":true,"circuit_breakers":{"thresholds":[{"max_connections":100},{"priority":"HIGH","max_retries":3}]},"host_statuses":[{"address":{"socket_address":{"address":"10.4.1.33","port_value":8080}},"stats":[{"name":"cx_connect_fail"},{"value":"20","name":"rq_timeout"},{"type":"GAUGE","value":"2","name":"cx_active"}],"health_status":{"eds_health_status":"HEALTHY"},"weight":1,"success_rate":{"value":-1}}]}]}"#;

const STATS_JSON: &str = r#"{"stats":[{"name":"cluster.outbound|80||a.b.svc.cluster.local.version_text","value":"v7"},{"name":"cluster.outbound|80||a.b.svc.cluster.local.upstream_rq_timeout","value":3},{"name":"cluster_manager.cds.version","value":11549674845441926298},{"histograms":{"supported_quantiles":[0,50,99,100],"computed_quantiles":[{"name":"cluster.outbound|80||a.b.svc.cluster.local.upstream_rq_time","values":[{"interval":null,"cumulative":1},{"interval":2,"cumulative":3},{"interval":null,"cumulative":1400},{"interval":null,"cumulative":null}]}]}}]}"#;

const STATS_JSON_BUCKETS: &str = r#"{"stats":[{"name":"cluster.x.upstream_rq_total","value":1},{"histograms":[{"name":"cluster.x.upstream_rq_time","buckets":[{"upper_bound":1,"interval":0,"cumulative":2},{"upper_bound":5,"interval":1,"cumulative":9}]}]}]}"#;

const SERVER_INFO: &str = r#"{"version":"8a3511baac4f20ff7761c2efaf13e2dbda7901ca/1.31.0/Clean/RELEASE/BoringSSL","state":"LIVE","uptime_current_epoch":"3630s","command_line_options":{"concurrency":2},"node":{"id":"sidecar~10.4.0.5~order-svc-7d9f8b6c5-x2x4q.prod~prod.svc.cluster.local","metadata":{"ISTIO_VERSION":"1.22.3"},"user_agent_build_version":{"version":{"major_number":1,"minor_number":31}}}}"#;

const JSON_DOCS: [&str; 5] = [
    CONFIG_DUMP,
    CLUSTERS_JSON,
    STATS_JSON,
    STATS_JSON_BUCKETS,
    SERVER_INFO,
];

/// The documents are valid and say what they should, so the mutations start from real input.
#[test]
fn the_json_documents_parse_as_written() {
    let dump = parse_config_dump(CONFIG_DUMP).unwrap();
    assert_eq!(dump.issues, vec![]);
    let inv = "outbound|8080||inv.prod.svc.cluster.local";
    let cluster = dump.cluster(inv).unwrap();
    assert_eq!(cluster.connect_timeout, Some(Duration::from_secs(2)));
    assert_eq!(cluster.circuit_breakers[0].max_connections, Some(100));
    let od = cluster.outlier_detection.as_ref().unwrap();
    assert_eq!(od.interval, Some(Duration::from_secs(10)));
    let route = dump.routes_to(inv).next().unwrap();
    assert_eq!(route.timeout, RouteTimeout::After(Duration::from_secs(1)));
    assert_eq!(route.retry_policy.as_ref().unwrap().num_retries, Some(2));

    let clusters = parse_clusters_json(CLUSTERS_JSON).unwrap();
    assert_eq!(clusters.issues, vec![]);
    let c = clusters.cluster(inv).unwrap();
    assert_eq!(c.added_via_api, Some(true));
    assert_eq!(c.hosts.len(), 1);
    assert_eq!(c.rq_timeout_total(), Some(20));
    assert_eq!(c.hosts[0].stats.cx_active, Some(2));

    let stats = parse_stats_json(STATS_JSON.as_bytes()).unwrap();
    assert_eq!(stats.issues(), &[]);
    assert_eq!(stats.stat_count, 4);
    let a = stats.cluster("outbound|80||a.b.svc.cluster.local").unwrap();
    assert_eq!(a.int("upstream_rq_timeout"), Some(3));
    assert_eq!(
        a.histogram("upstream_rq_time").unwrap().cumulative(99.0),
        Some(1400.0)
    );
    let buckets = parse_stats_json(STATS_JSON_BUCKETS.as_bytes()).unwrap();
    assert_eq!(buckets.stat_count, 2);
    assert_eq!(
        buckets
            .cluster("x")
            .unwrap()
            .histogram("upstream_rq_time")
            .unwrap()
            .buckets
            .len(),
        2
    );

    let info = parse_server_info(SERVER_INFO).unwrap();
    assert_eq!(info.issues, vec![]);
    assert_eq!(info.envoy_version(), Some("1.31.0"));
    assert_eq!(info.pod_name(), Some("order-svc-7d9f8b6c5-x2x4q"));
    assert_eq!(info.istio_version.as_deref(), Some("1.22.3"));
    assert_eq!(info.uptime_current_epoch, Some(Duration::from_secs(3630)));

    for doc in JSON_DOCS {
        assert!(parse_capture(doc.as_bytes()).is_ok(), "{doc}");
    }
}

/// Every prefix of every document: a capture cut short by a timeout or a size cap.
#[test]
fn json_documents_cut_at_every_byte_never_panic() {
    for doc in JSON_DOCS {
        for end in 0..doc.len() {
            run_every_parser(&doc.as_bytes()[..end]);
        }
    }
    // Cut inside a multi-byte character.
    let wide = STATS_JSON.replace("v7", "vé7€");
    for end in 0..wide.len() {
        run_every_parser(&wide.as_bytes()[..end]);
    }
}

/// Every byte replaced by each of the bytes that change JSON structure or value types.
#[test]
fn json_documents_with_structural_bytes_swapped_never_panic() {
    let swaps = b"{}[]\",:0\xff";
    for doc in JSON_DOCS {
        let mut bytes = doc.as_bytes().to_vec();
        for i in 0..bytes.len() {
            let original = bytes[i];
            for &b in swaps {
                bytes[i] = b;
                // Detects, then runs the parser for what it detected.
                let _ = parse_capture(&bytes);
            }
            bytes[i] = original;
        }
    }
}

/// Values of the wrong JSON type in every field of the documents.
#[test]
fn json_values_of_the_wrong_type_never_panic() {
    use serde_json::Value;
    let replacements = [
        Value::Null,
        Value::Bool(true),
        serde_json::json!(-1),
        serde_json::json!(1.5),
        serde_json::json!(u64::MAX),
        serde_json::json!("x"),
        serde_json::json!([]),
        serde_json::json!({}),
    ];
    for doc in JSON_DOCS {
        let original: Value = serde_json::from_str(doc).unwrap();
        let mut paths = Vec::new();
        collect_pointers(&original, String::new(), &mut paths);
        for path in &paths {
            for swap in &replacements {
                let mut mutated = original.clone();
                *mutated.pointer_mut(path).unwrap() = swap.clone();
                let text = mutated.to_string();
                let _ = parse_capture(text.as_bytes());
                let _ = parse_config_dump(&text);
                let _ = parse_clusters_json(&text);
                let _ = parse_stats_json(text.as_bytes());
                let _ = parse_server_info(&text);
            }
        }
    }
}

fn collect_pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = k.replace('~', "~0").replace('/', "~1");
                collect_pointers(v, format!("{at}/{key}"), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

// ---------------------------------------------------------------------------------------------
// Re-parsing the same capture gives the first answer (once a known parser bug; a regression test)
// ---------------------------------------------------------------------------------------------

/// Parsing the same bytes twice into one set must give the same answer. It does not when a
/// name can only be split with knowledge from a later line of the same capture: the first
/// parse lacks it, the second has it from the first (`longest_known_prefix`, and the suffixes
/// and clusters that `split_on_known` remembers across parses). Both inputs were found by
/// `stats_shaped_input_never_panics_and_drops_no_line` and shrunk by proptest.
#[test]
fn reparse_attributes_lines_like_the_first_parse() {
    let inputs = [
        // First parse: line 1 is unattributed (`xds-grpc` is not known yet) and reported;
        // second parse: stored as xds-grpc's `upstream`, no issue.
        "cluster.xds-grpc.upstream: 0\ncluster.xds-grpc.upstream_rq_total: 0\n",
        // First parse: line 5 goes to `outbound|80||metadata.google` as
        // `internal.upstream_rq_time`; second parse: to `…metadata.google.internal` as
        // `upstream_rq_time`, because line 7 taught the set the suffix `upstream_rq_time`.
        "cluster.outbound|80||metadata.google.internal.upstream_cx_length_ms: 0\n\
         cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_total: 0\n\
         cluster.inbound|8080||.upstream_rq_total: 0\n\
         cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_total: 0\n\
         cluster.outbound|80||metadata.google.internal.upstream_rq_time: 0\n\
         cluster.outbound|443||api.stripe.com.upstream_rq_total: 0\n\
         cluster.outbound|443||api.stripe.com.upstream_rq_time: 0\n",
        // First parse: two issues for line 1, "kept unattributed" (although the value is then
        // rejected and nothing is kept) and "bad histogram token"; second parse: only the
        // second. The `\r` is not a line end, so the value runs into the next stat.
        "cluster.outbound|80||catalog.istioinaction.svc.cluster.local.upstream: P0(nan,nan)\r\
         cluster.outbound|80||catalog.istioinaction.svc.cluster.local.upstream_rq_total: 0\n\
         cluster.outbound|80||catalog.istioinaction.svc.cluster.local.upstream_rq_total: 0\n",
    ];
    let mut failures = Vec::new();
    for input in inputs {
        let mut set = parse_stats_text(input.as_bytes()).unwrap();
        let (first, first_issues) = (snapshot(&set), set.issues().to_vec());
        parse_stats_text_into(input.as_bytes(), &mut set).unwrap();
        if snapshot(&set) != first || set.issues() != first_issues.as_slice() {
            failures.push(format!(
                "{input:?}\n  first:  {first:?} {first_issues:?}\n  second: {:?} {:?}",
                snapshot(&set),
                set.issues()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
