//! The catalog of Envoy *cluster* stat suffixes: what follows `cluster.<name>.` (or
//! `cluster.<name>;.`) in a stat name, with its kind, its section of Envoy's
//! `cluster_stats.rst` and a one-line meaning for hints and help.
//!
//! Its first job is to tell where a cluster name ends. Cluster names contain dots
//! (`outbound|80||catalog.prod.svc.cluster.local`), so `stat_name` tries each dot from the left
//! and takes the first whose rest [`is_cluster_suffix`]. Every multi-segment shape accepted here
//! therefore starts with a stat name or a scope word (`circuit_breakers`, `ssl`, `zone`, …),
//! never with a DNS label such as `svc`, `cluster`, `local` or `default`.
//!
//! Pure data and string matching: no I/O, no allocation per call; depends on nothing else in
//! the crate. To add a stat, add one `stat(…)` row to the table (placeholders are written
//! `<name>`). A row under a new first segment also needs that word in `LEAF_SCOPES` or an arm in
//! `lookup_scoped`; the unit test `every_entry_is_reachable_from_a_concrete_name` catches a row
//! that `lookup` cannot reach.

use std::sync::LazyLock;

use rustc_hash::FxHashMap;
use serde::Serialize;

/// How Envoy records a stat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StatKind {
    /// Cumulative since proxy start; rates come from deltas.
    Counter,
    /// A current level that goes up and down.
    Gauge,
    /// A distribution, printed as percentiles (`P50(…)`).
    Histogram,
    /// A string value (`version_text: "…"`).
    TextReadout,
}

/// The part of Envoy's cluster statistics documentation a stat belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Section {
    /// Connection, request, membership and discovery stats rooted at `cluster.<name>.`.
    General,
    /// `health_check.*`: active health checking.
    HealthCheck,
    /// `outlier_detection.*`: passive ejection of failing hosts.
    OutlierDetection,
    /// `circuit_breakers.<priority>.*`: breaker state and remaining capacity.
    CircuitBreakers,
    /// `upstream_rq_timeout_budget_*`: how much of a timeout requests used.
    TimeoutBudget,
    /// Per response code and class counters, request time, and origin-scoped copies.
    DynamicHttp,
    /// `retry.upstream_rq_*`: responses that triggered a retry.
    Retry,
    /// `ssl.*` and `client_ssl_socket_factory.*`: TLS handshakes, ciphers, certificates.
    Tls,
    /// `zone.<from_zone>.<to_zone>.*`: per zone pair response stats.
    PerZone,
    /// `lb_*` and `original_dst_*`: load balancer decisions.
    LoadBalancer,
    /// `lb_subsets_*`: subset load balancing.
    SubsetLb,
    /// `ring_hash_lb.*`: ring hash sizes.
    RingHashLb,
    /// `maglev_lb.*`: Maglev table entries.
    MaglevLb,
    /// Codec and socket stats: `http1.*`, `http2.*`, QUIC, `tcp_stats.*`, transport socket
    /// matches, Istio's `metadata_exchange.*`.
    Transport,
}

/// One catalog row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatInfo {
    /// The suffix as written after `cluster.<name>.`, with placeholders in angle brackets:
    /// `upstream_rq_timeout`, `circuit_breakers.<priority>.rq_open`, `upstream_rq_<code>`.
    pub pattern: &'static str,
    /// Counter, gauge, histogram or text readout.
    pub kind: StatKind,
    /// Where the stat is documented.
    pub section: Section,
    /// What the stat counts, in one plain sentence.
    pub meaning: &'static str,
}

/// Every known cluster stat: the tables of Envoy's `cluster_stats.rst` (with its TLS, certificate
/// and TCP includes) plus stats seen in real captures but not documented there (`version_text`,
/// `update_time`, `remaining_cx_pools`, `http2.*`, transport socket matches, …).
pub static CLUSTER_STATS: &[StatInfo] = table::STATS;

/// Looks up a concrete suffix as it appears after `cluster.<name>.` (or `cluster.<name>;.`):
/// `upstream_rq_503` → `upstream_rq_<code>`, `circuit_breakers.high.rq_open` →
/// `circuit_breakers.<priority>.rq_open`. `None` for anything not in the catalog, including
/// partial host names followed by a stat (`svc.cluster.local.upstream_rq_total`).
pub fn lookup(suffix: &str) -> Option<&'static StatInfo> {
    let index = &*INDEX;
    match suffix.split_once('.') {
        None => index
            .exact(suffix)
            .or_else(|| index.template(response_pattern(Scope::Root, suffix)?)),
        Some((head, rest)) => lookup_scoped(index, suffix, head, rest),
    }
}

/// True when `suffix` is shaped like a cluster stat suffix: a catalog entry, or a
/// forward-compatible shape such as a new `upstream_*` leaf or a new `http2.<leaf>`.
pub fn is_cluster_suffix(suffix: &str) -> bool {
    lookup(suffix).is_some() || has_cluster_shape(suffix)
}

/// Leaf prefixes that Envoy uses only for cluster stats; a new dot-free stat starting with one
/// of them is accepted before the catalog knows it.
const LEAF_PREFIXES: [&str; 12] = [
    "upstream_",
    "lb_",
    "membership_",
    "update_",
    "assignment_",
    "original_dst_",
    "retry_or_shadow_",
    "bind_errors",
    "max_host_weight",
    "version",
    "init_fetch_timeout",
    "warming_state",
];

/// Scope words whose children are single dot-free leaves.
const LEAF_SCOPES: [&str; 11] = [
    "http1",
    "http2",
    "http3",
    "tcp_stats",
    "client_ssl_socket_factory",
    "metadata_exchange",
    "ext_authz",
    "outlier_detection",
    "health_check",
    "ring_hash_lb",
    "maglev_lb",
];

/// The catalog indexed for lookups, built once.
struct Index {
    /// Patterns without placeholders, by their literal text.
    exact: FxHashMap<&'static str, &'static StatInfo>,
    /// Patterns with placeholders, by the pattern text.
    templates: FxHashMap<&'static str, &'static StatInfo>,
    /// Circuit breaker stats, by the leaf after `circuit_breakers.<priority>.`.
    breakers: FxHashMap<&'static str, &'static StatInfo>,
}

impl Index {
    fn exact(&self, suffix: &str) -> Option<&'static StatInfo> {
        self.exact.get(suffix).copied()
    }

    fn template(&self, pattern: &str) -> Option<&'static StatInfo> {
        self.templates.get(pattern).copied()
    }
}

static INDEX: LazyLock<Index> = LazyLock::new(build_index);

const BREAKER_PREFIX: &str = "circuit_breakers.<priority>.";

fn build_index() -> Index {
    let mut index = Index {
        exact: FxHashMap::default(),
        templates: FxHashMap::default(),
        breakers: FxHashMap::default(),
    };
    for info in CLUSTER_STATS {
        if let Some(leaf) = info.pattern.strip_prefix(BREAKER_PREFIX) {
            index.breakers.insert(leaf, info);
        } else if info.pattern.contains('<') {
            index.templates.insert(info.pattern, info);
        } else {
            index.exact.insert(info.pattern, info);
        }
    }
    index
}

/// Where a response-code counter lives: directly under the cluster or under a scope word.
#[derive(Clone, Copy)]
enum Scope {
    Root,
    Canary,
    Internal,
    External,
    Retry,
    Zone,
}

/// Resolves `suffix` = `<head>.<rest>` by its first segment, so that a host label (`svc`,
/// `local`, `default`) is rejected without hashing; the only shape with a free first segment is
/// a transport socket match name followed by exactly `total_match_count`.
fn lookup_scoped(index: &Index, suffix: &str, head: &str, rest: &str) -> Option<&'static StatInfo> {
    let scoped = |scope| index.template(response_pattern(scope, rest)?);
    match head {
        "circuit_breakers" => {
            let (priority, leaf) = rest.split_once('.')?;
            let known = matches!(priority, "default" | "high");
            known.then(|| index.breakers.get(leaf).copied()).flatten()
        }
        "canary" => index.exact(suffix).or_else(|| scoped(Scope::Canary)),
        "internal" => index.exact(suffix).or_else(|| scoped(Scope::Internal)),
        "external" => index.exact(suffix).or_else(|| scoped(Scope::External)),
        "retry" => scoped(Scope::Retry),
        "zone" => lookup_zone(index, rest),
        "ssl" => index.exact(suffix).or_else(|| lookup_ssl(index, rest)),
        "upstream" => lookup_quic(index, rest),
        "http3" => index
            .exact(suffix)
            .or_else(|| lookup_quic(index, rest.strip_prefix("upstream.")?)),
        _ if LEAF_SCOPES.contains(&head) => index.exact(suffix),
        _ if !head.is_empty() && rest == "total_match_count" => {
            index.template("<match_name>.total_match_count")
        }
        _ => None,
    }
}

/// `<from_zone>.<to_zone>.<leaf>`: each zone is one non-empty dot-free segment.
fn lookup_zone(index: &Index, rest: &str) -> Option<&'static StatInfo> {
    let (from, tail) = rest.split_once('.')?;
    let (to, leaf) = tail.split_once('.')?;
    if from.is_empty() || to.is_empty() {
        return None;
    }
    if leaf == "upstream_rq_time" {
        return index.template("zone.<from_zone>.<to_zone>.upstream_rq_time");
    }
    index.template(response_pattern(Scope::Zone, leaf)?)
}

/// `ssl.<family>.<value>` (the value may contain dots: `versions.TLSv1.3`) and
/// `ssl.certificate.<cert_name>.<leaf>`; plain `ssl.<leaf>` rows are exact entries.
fn lookup_ssl(index: &Index, rest: &str) -> Option<&'static StatInfo> {
    let (family, value) = rest.split_once('.')?;
    if value.is_empty() {
        return None;
    }
    let pattern = match family {
        "ciphers" => "ssl.ciphers.<cipher>",
        "curves" => "ssl.curves.<curve>",
        "sigalgs" => "ssl.sigalgs.<sigalg>",
        "versions" => "ssl.versions.<version>",
        "certificate" => {
            let (name, leaf) = value.rsplit_once('.')?;
            if name.is_empty() || leaf != "seconds_since_epoch_of_expiration" {
                return None;
            }
            "ssl.certificate.<cert_name>.seconds_since_epoch_of_expiration"
        }
        _ => return None,
    };
    index.template(pattern)
}

/// `<tx|rx>.quic_connection_close_error_code_<code>` or `…quic_reset_stream_error_code_<code>`.
fn lookup_quic(index: &Index, rest: &str) -> Option<&'static StatInfo> {
    let (direction, leaf) = rest.split_once('.')?;
    if !matches!(direction, "tx" | "rx") {
        return None;
    }
    let has_code = |prefix: &str| leaf.strip_prefix(prefix).is_some_and(is_leaf);
    let pattern = if has_code("quic_connection_close_error_code_") {
        "upstream.<tx/rx>.quic_connection_close_error_code_<error_code>"
    } else if has_code("quic_reset_stream_error_code_") {
        "upstream.<tx/rx>.quic_reset_stream_error_code_<error_code>"
    } else {
        return None;
    };
    index.template(pattern)
}

/// The pattern for a per-status counter (`upstream_rq_503`, `upstream_rq_5xx`) in `scope`.
fn response_pattern(scope: Scope, leaf: &str) -> Option<&'static str> {
    let status = leaf.strip_prefix("upstream_rq_")?.as_bytes();
    let is_class = matches!(status, [d, b'x', b'x'] if d.is_ascii_digit());
    let is_code = status.len() == 3 && status.iter().all(u8::is_ascii_digit);
    if !is_class && !is_code {
        return None;
    }
    Some(match (scope, is_class) {
        (Scope::Root, true) => "upstream_rq_<Nxx>",
        (Scope::Root, false) => "upstream_rq_<code>",
        (Scope::Canary, true) => "canary.upstream_rq_<Nxx>",
        (Scope::Canary, false) => "canary.upstream_rq_<code>",
        (Scope::Internal, true) => "internal.upstream_rq_<Nxx>",
        (Scope::Internal, false) => "internal.upstream_rq_<code>",
        (Scope::External, true) => "external.upstream_rq_<Nxx>",
        (Scope::External, false) => "external.upstream_rq_<code>",
        (Scope::Retry, true) => "retry.upstream_rq_<Nxx>",
        (Scope::Retry, false) => "retry.upstream_rq_<code>",
        (Scope::Zone, true) => "zone.<from_zone>.<to_zone>.upstream_rq_<Nxx>",
        (Scope::Zone, false) => "zone.<from_zone>.<to_zone>.upstream_rq_<code>",
    })
}

/// Forward-compatible shapes for stats the catalog does not list yet.
fn has_cluster_shape(suffix: &str) -> bool {
    let Some((head, rest)) = suffix.split_once('.') else {
        return LEAF_PREFIXES
            .iter()
            .any(|prefix| suffix.starts_with(prefix));
    };
    match head {
        "circuit_breakers" => rest.split_once('.').is_some_and(|(priority, leaf)| {
            matches!(priority, "default" | "high") && is_leaf(leaf)
        }),
        "ssl" => has_ssl_shape(rest),
        _ => LEAF_SCOPES.contains(&head) && is_leaf(rest),
    }
}

/// `ssl.<leaf>`, `ssl.{ciphers,curves,sigalgs,versions}.<value>`, `ssl.certificate.<name>.<leaf>`.
fn has_ssl_shape(rest: &str) -> bool {
    match rest.split_once('.') {
        None => is_leaf(rest),
        Some(("ciphers" | "curves" | "sigalgs" | "versions", value)) => !value.is_empty(),
        Some(("certificate", tail)) => tail
            .split_once('.')
            .is_some_and(|(name, leaf)| is_leaf(name) && is_leaf(leaf)),
        Some(_) => false,
    }
}

/// A non-empty, dot-free segment.
fn is_leaf(segment: &str) -> bool {
    !segment.is_empty() && !segment.contains('.')
}

mod table;

#[cfg(test)]
mod tests {
    use super::*;

    /// The pattern that `suffix` resolves to.
    fn pattern(suffix: &str) -> Option<&'static str> {
        lookup(suffix).map(|info| info.pattern)
    }

    /// A concrete suffix for a pattern, with every placeholder filled in.
    fn example(pattern: &str) -> String {
        [
            ("<priority>", "high"),
            ("<Nxx>", "5xx"),
            ("<code>", "503"),
            ("<from_zone>", "us-east-1a"),
            ("<to_zone>", "us-east-1b"),
            ("<cipher>", "TLS_AES_128_GCM_SHA256"),
            ("<curve>", "X25519"),
            ("<sigalg>", "rsa_pss_rsae_sha256"),
            ("<version>", "TLSv1.3"),
            ("<cert_name>", "ROOTCA"),
            ("<match_name>", "tlsMode-istio"),
            ("<tx/rx>", "rx"),
            ("<error_code>", "QUIC_NO_ERROR"),
        ]
        .iter()
        .fold(pattern.to_owned(), |s, (from, to)| s.replace(from, to))
    }

    #[test]
    fn patterns_are_unique_and_meanings_are_short_sentences() {
        let mut seen = std::collections::HashSet::new();
        for info in CLUSTER_STATS {
            assert!(seen.insert(info.pattern), "duplicate {}", info.pattern);
            assert!(
                !info.meaning.is_empty() && info.meaning.len() <= 90,
                "{}",
                info.pattern
            );
            assert!(!info.meaning.ends_with('.'), "{}", info.pattern);
        }
        assert_eq!(CLUSTER_STATS.len(), 239);
    }

    #[test]
    fn every_entry_is_reachable_from_a_concrete_name() {
        for info in CLUSTER_STATS {
            let concrete = example(info.pattern);
            assert!(
                !concrete.contains('<'),
                "unfilled placeholder in {}",
                info.pattern
            );
            assert_eq!(pattern(&concrete), Some(info.pattern), "{concrete}");
            assert!(is_cluster_suffix(&concrete), "{concrete}");
        }
    }

    #[test]
    fn exact_names_resolve_with_kind_and_section() {
        let timeout = lookup("upstream_rq_timeout").unwrap();
        assert_eq!(
            (timeout.kind, timeout.section),
            (StatKind::Counter, Section::General)
        );
        let text = lookup("version_text").unwrap();
        assert_eq!(
            (text.kind, text.section),
            (StatKind::TextReadout, Section::General)
        );
        let time = lookup("upstream_rq_time").unwrap();
        assert_eq!(
            (time.kind, time.section),
            (StatKind::Histogram, Section::DynamicHttp)
        );
        assert_eq!(lookup("upstream_cx_active").unwrap().kind, StatKind::Gauge);
        assert_eq!(pattern("upstream_rq_0rtt"), Some("upstream_rq_0rtt"));
        let budget = lookup("upstream_rq_timeout_budget_percent_used").unwrap();
        assert_eq!(
            (budget.kind, budget.section),
            (StatKind::Histogram, Section::TimeoutBudget)
        );
    }

    #[test]
    fn circuit_breakers_take_default_and_high_priorities_only() {
        for priority in ["default", "high"] {
            let info = lookup(&format!("circuit_breakers.{priority}.rq_open")).unwrap();
            assert_eq!(info.pattern, "circuit_breakers.<priority>.rq_open");
            assert_eq!(
                (info.kind, info.section),
                (StatKind::Gauge, Section::CircuitBreakers)
            );
        }
        assert_eq!(
            pattern("circuit_breakers.default.remaining_cx_pools"),
            Some("circuit_breakers.<priority>.remaining_cx_pools")
        );
        assert_eq!(pattern("circuit_breakers.low.rq_open"), None);
        assert_eq!(pattern("circuit_breakers.default.rq_open.x"), None);
        assert_eq!(pattern("circuit_breakers.rq_open"), None);
        assert!(!is_cluster_suffix("circuit_breakers.low.rq_open"));
    }

    #[test]
    fn outlier_detection_and_health_check_resolve() {
        let active = lookup("outlier_detection.ejections_active").unwrap();
        assert_eq!(
            (active.kind, active.section),
            (StatKind::Gauge, Section::OutlierDetection)
        );
        let attempt = lookup("health_check.attempt").unwrap();
        assert_eq!(
            (attempt.kind, attempt.section),
            (StatKind::Counter, Section::HealthCheck)
        );
        assert_eq!(pattern("outlier_detection.ejections_brand_new"), None);
        assert!(is_cluster_suffix("outlier_detection.ejections_brand_new"));
        assert!(!is_cluster_suffix("outlier_detection.a.b"));
    }

    #[test]
    fn response_codes_resolve_in_every_scope() {
        assert_eq!(pattern("upstream_rq_200"), Some("upstream_rq_<code>"));
        assert_eq!(pattern("upstream_rq_5xx"), Some("upstream_rq_<Nxx>"));
        assert_eq!(
            pattern("upstream_rq_completed"),
            Some("upstream_rq_completed")
        );
        for scope in ["internal", "external", "canary"] {
            assert_eq!(
                pattern(&format!("{scope}.upstream_rq_200")),
                Some(format!("{scope}.upstream_rq_<code>").as_str())
            );
            assert_eq!(
                pattern(&format!("{scope}.upstream_rq_2xx")),
                Some(format!("{scope}.upstream_rq_<Nxx>").as_str())
            );
            for leaf in ["upstream_rq_completed", "upstream_rq_time"] {
                let concrete = format!("{scope}.{leaf}");
                assert_eq!(pattern(&concrete), Some(concrete.as_str()));
            }
        }
        assert_eq!(pattern("upstream_rq_20"), None);
        assert_eq!(pattern("upstream_rq_2000"), None);
        assert_eq!(pattern("upstream_rq_x5x"), None);
        assert_eq!(pattern("internal.upstream_rq_total"), None);
    }

    #[test]
    fn retry_scope_has_only_response_codes() {
        let code = lookup("retry.upstream_rq_503").unwrap();
        assert_eq!(
            (code.pattern, code.section),
            ("retry.upstream_rq_<code>", Section::Retry)
        );
        assert_eq!(
            pattern("retry.upstream_rq_5xx"),
            Some("retry.upstream_rq_<Nxx>")
        );
        assert_eq!(pattern("retry.upstream_rq_completed"), None);
        assert!(!is_cluster_suffix("retry.upstream_rq_time"));
    }

    #[test]
    fn zone_stats_take_exactly_two_zone_segments() {
        let info = lookup("zone.us-east-1a.us-east-1b.upstream_rq_200").unwrap();
        assert_eq!(
            info.pattern,
            "zone.<from_zone>.<to_zone>.upstream_rq_<code>"
        );
        assert_eq!(info.section, Section::PerZone);
        assert_eq!(
            pattern("zone.a.b.upstream_rq_time"),
            Some("zone.<from_zone>.<to_zone>.upstream_rq_time")
        );
        assert_eq!(pattern("zone.a.upstream_rq_200"), None);
        assert_eq!(pattern("zone.a.b.c.upstream_rq_200"), None);
        assert_eq!(pattern("zone..b.upstream_rq_200"), None);
        assert_eq!(pattern("zone.a.b.upstream_rq_completed"), None);
    }

    #[test]
    fn ssl_stats_resolve_to_the_tls_section() {
        for (suffix, expected) in [
            ("ssl.handshake", "ssl.handshake"),
            ("ssl.versions.TLSv1.3", "ssl.versions.<version>"),
            ("ssl.ciphers.TLS_AES_128_GCM_SHA256", "ssl.ciphers.<cipher>"),
            ("ssl.curves.X25519", "ssl.curves.<curve>"),
            ("ssl.sigalgs.rsa_pss_rsae_sha256", "ssl.sigalgs.<sigalg>"),
            (
                "ssl.certificate.ROOTCA.seconds_since_epoch_of_expiration",
                "ssl.certificate.<cert_name>.seconds_since_epoch_of_expiration",
            ),
        ] {
            let info = lookup(suffix).unwrap();
            assert_eq!(
                (info.pattern, info.section),
                (expected, Section::Tls),
                "{suffix}"
            );
        }
        assert_eq!(pattern("ssl.versions."), None);
        assert_eq!(pattern("ssl.new_counter"), None);
        assert!(is_cluster_suffix("ssl.new_counter"));
        assert!(is_cluster_suffix(
            "ssl.certificate.ROOTCA.expiration_unix_time_seconds"
        ));
        assert!(!is_cluster_suffix("ssl.certificate.ROOTCA"));
        assert!(!is_cluster_suffix(
            "ssl.svc.cluster.local.upstream_rq_total"
        ));
    }

    #[test]
    fn transport_socket_match_needs_one_name_and_the_exact_tail() {
        for name in ["default", "tlsMode-istio", "tlsMode-disabled"] {
            let info = lookup(&format!("{name}.total_match_count")).unwrap();
            assert_eq!(info.pattern, "<match_name>.total_match_count");
            assert_eq!(
                (info.kind, info.section),
                (StatKind::Counter, Section::Transport)
            );
        }
        assert_eq!(pattern("local.default.total_match_count"), None);
        assert_eq!(pattern(".total_match_count"), None);
        assert_eq!(pattern("default.total_match_count_x"), None);
        assert!(!is_cluster_suffix("default.upstream_rq_total"));
        assert!(!is_cluster_suffix(
            "default.svc.cluster.local.upstream_rq_total"
        ));
    }

    #[test]
    fn load_balancer_stats_resolve() {
        let cases = [
            ("lb_healthy_panic", Section::LoadBalancer, StatKind::Counter),
            (
                "original_dst_host_invalid",
                Section::LoadBalancer,
                StatKind::Counter,
            ),
            ("lb_subsets_active", Section::SubsetLb, StatKind::Gauge),
            ("lb_subsets_fallback", Section::SubsetLb, StatKind::Counter),
            ("ring_hash_lb.size", Section::RingHashLb, StatKind::Gauge),
            (
                "maglev_lb.max_entries_per_host",
                Section::MaglevLb,
                StatKind::Gauge,
            ),
        ];
        for (suffix, section, kind) in cases {
            let info = lookup(suffix).unwrap();
            assert_eq!((info.section, info.kind), (section, kind), "{suffix}");
        }
    }

    #[test]
    fn quic_error_codes_resolve_with_and_without_the_http3_scope() {
        let close = "upstream.<tx/rx>.quic_connection_close_error_code_<error_code>";
        assert_eq!(
            pattern("upstream.tx.quic_connection_close_error_code_QUIC_NO_ERROR"),
            Some(close)
        );
        assert_eq!(
            pattern("http3.upstream.rx.quic_connection_close_error_code_7"),
            Some(close)
        );
        assert_eq!(
            pattern("upstream.rx.quic_reset_stream_error_code_1"),
            Some("upstream.<tx/rx>.quic_reset_stream_error_code_<error_code>")
        );
        assert_eq!(pattern("upstream.up.quic_reset_stream_error_code_1"), None);
        assert_eq!(pattern("upstream.tx.quic_reset_stream_error_code_"), None);
        assert!(!is_cluster_suffix(
            "upstream.svc.cluster.local.upstream_rq_total"
        ));
    }

    #[test]
    fn forward_compatible_shapes_are_accepted() {
        for suffix in [
            "upstream_rq_brand_new",
            "lb_new_policy_counter",
            "membership_new",
            "update_new",
            "assignment_new",
            "original_dst_new",
            "retry_or_shadow_new",
            "versionless",
            "http1.new_counter",
            "http2.keepalive_timeout",
            "http3.new_counter",
            "tcp_stats.new_counter",
            "client_ssl_socket_factory.new_counter",
            "metadata_exchange.new_counter",
            "ext_authz.disabled",
            "circuit_breakers.high.new_gauge",
            "health_check.new_counter",
        ] {
            assert_eq!(
                lookup(suffix),
                None,
                "{suffix} should not be in the catalog"
            );
            assert!(is_cluster_suffix(suffix), "{suffix}");
        }
        assert!(!is_cluster_suffix("http2.a.b"));
        assert!(!is_cluster_suffix("http2."));
        assert!(!is_cluster_suffix("upstream_rq_total.x"));
    }

    #[test]
    fn partial_host_names_before_a_stat_are_rejected() {
        for suffix in [
            "svc.cluster.local.upstream_rq_total",
            "local.upstream_rq_total",
            "cluster.local.upstream_cx_total",
            "istioinaction.svc.cluster.local.version_text",
            "istioinaction.svc.cluster.local.upstream_rq_total",
            "default.svc.cluster.local.upstream_rq_total",
            "canary.svc.cluster.local.upstream_rq_200",
            "internal.svc.cluster.local.upstream_rq_200",
            "zone.svc.cluster.local.upstream_rq_200",
            "http2.svc.cluster.local.upstream_rq_total",
            "local.tlsMode-istio.total_match_count",
            "local.circuit_breakers.default.rq_open",
            "local.ssl.versions.TLSv1.3",
        ] {
            assert!(!is_cluster_suffix(suffix), "{suffix}");
        }
    }

    #[test]
    fn leftmost_split_finds_the_istio_cluster_name() {
        let cluster = "outbound|80||catalog.istioinaction.svc.cluster.local";
        for suffix in [
            "upstream_rq_total",
            "version_text",
            "default.total_match_count",
            "circuit_breakers.high.rq_open",
            "ssl.versions.TLSv1.3",
            "internal.upstream_rq_200",
            "zone.a.b.upstream_rq_2xx",
        ] {
            let rest = format!("{cluster}.{suffix}");
            let split = rest
                .match_indices('.')
                .map(|(i, _)| i)
                .find(|&i| is_cluster_suffix(&rest[i + 1..]));
            assert_eq!(split, Some(cluster.len()), "{rest}");
        }
    }

    #[test]
    fn odd_input_is_rejected_without_panicking() {
        for suffix in [
            "",
            ".",
            "..",
            "...",
            "ssl.",
            "zone...",
            "circuit_breakers..",
            "é.ü",
        ] {
            assert!(!is_cluster_suffix(suffix), "{suffix:?}");
        }
        assert_eq!(pattern("upstream_rq_é"), None);
        assert_eq!(pattern("upstream_rq_5é"), None);
        assert_eq!(pattern("zone.é.ü.upstream_rq_2é"), None);
    }
}
