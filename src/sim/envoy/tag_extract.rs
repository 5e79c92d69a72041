//! Envoy's tag extraction with Istio 1.22's `stats_config.stats_tags`: how a flat stat name
//! becomes a Prometheus family name plus labels.
//!
//! Each extractor is a regex whose first capture group is cut out of the name and whose second
//! group (if any) is the tag value. All extractors look at the original name; the cut ranges
//! are removed together at the end. Envoy runs the extractors without a literal prefix first
//! (in configuration order), then those whose prefix equals the name's first token, which is
//! why `upstream_rq_504` prints `{response_code="504",cluster_name="…"}`. The `cluster_name`
//! regex is Istio's pre-1.23 one: it stops at the first dot unless a `.svc.cluster.local` host
//! follows, so `outbound|443||api.stripe.com` becomes `cluster_name="outbound|443||api"` and the
//! family `envoy_cluster_stripe_com_…`, as real Istio 1.22 sidecars print it.
//!
//! The table is also the bootstrap's `stats_tags` in `/config_dump`.

use std::sync::LazyLock;

use regex::Regex;

/// One `stats_tags` entry: the tag name, Istio's regex as written in the bootstrap, and the
/// first-token prefix Envoy derives from a `^prefix\.` regex.
pub(super) struct TagRule {
    pub name: &'static str,
    pub regex: &'static str,
    prefix: Option<&'static str>,
}

/// Istio 1.22's `stats_tags`, in bootstrap order.
pub(super) const ISTIO_TAG_RULES: [TagRule; 15] = [
    rule(
        "cluster_name",
        r"^cluster\.((.+?(\..+?\.svc\.cluster\.local)?)\.)",
        "cluster",
    ),
    rule("tcp_prefix", r"^tcp\.((.*?)\.)\w+?$", "tcp"),
    rule("response_code", r"_rq(_(\d{3}))$", ""),
    rule("response_code_class", r"_rq(_(\dxx))$", ""),
    rule(
        "http_conn_manager_listener_prefix",
        r"^listener(?=\.).*?\.http\.(((?:[_.[:digit:]]*|[_\[\]aAbBcCdDeEfF[:digit:]]*))\.)",
        "listener",
    ),
    rule(
        "http_conn_manager_prefix",
        r"^http\.(((?:[_.[:digit:]]*|[_\[\]aAbBcCdDeEfF[:digit:]]*))\.)",
        "http",
    ),
    rule(
        "listener_address",
        r"^listener\.(((?:[_.[:digit:]]*|[_\[\]aAbBcCdDeEfF[:digit:]]*))\.)",
        "listener",
    ),
    rule(
        "mongo_prefix",
        r"^mongo\.(.+?)\.(collection|cmd|cx_|op_|delays_|decoding_)(.*?)$",
        "mongo",
    ),
    rule("cache", r"(cache\.(.+?)\.)", ""),
    rule("component", r"(component\.(.+?)\.)", ""),
    rule("tag", r"(tag\.(.+?);\.)", ""),
    rule("wasm_filter", r"(wasm_filter\.(.+?)\.)", ""),
    rule("authz_enforce_result", r"rbac(\.(allowed|denied))", ""),
    rule(
        "authz_dry_run_action",
        r"(\.istio_dry_run_(allow|deny)_)",
        "",
    ),
    rule("authz_dry_run_result", r"(\.shadow_(allowed|denied))", ""),
];

const fn rule(name: &'static str, regex: &'static str, prefix: &'static str) -> TagRule {
    TagRule {
        name,
        regex,
        prefix: if prefix.is_empty() {
            None
        } else {
            Some(prefix)
        },
    }
}

/// The compiled rules, in Envoy's application order (prefix-less rules first).
static COMPILED: LazyLock<Vec<(&'static TagRule, Option<Regex>)>> = LazyLock::new(|| {
    let (free, prefixed): (Vec<&TagRule>, Vec<&TagRule>) =
        ISTIO_TAG_RULES.iter().partition(|r| r.prefix.is_none());
    free.into_iter()
        .chain(prefixed)
        .map(|r| (r, Regex::new(&rust_syntax(r.regex)).ok()))
        .collect()
});

/// The `regex` crate has no look-ahead; `^listener(?=\.).*?` means `^listener\.` followed by
/// anything lazily, except that the dot may also be the one before `http`.
fn rust_syntax(re2: &str) -> String {
    re2.replace(
        r"^listener(?=\.).*?\.http\.",
        r"^listener(?:\..*?)?\.http\.",
    )
}

/// A stat name split into its tag-extracted name and its tags (in extraction order).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tagged {
    pub extracted: String,
    pub tags: Vec<(&'static str, String)>,
}

/// Applies Istio's tag rules to a full stat name.
pub(super) fn extract_tags(name: &str) -> Tagged {
    let first_token = name.split('.').next().unwrap_or("");
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut tags = Vec::new();
    for (rule, regex) in COMPILED.iter() {
        if rule.prefix.is_some_and(|p| p != first_token) {
            continue;
        }
        let Some(caps) = regex.as_ref().and_then(|re| re.captures(name)) else {
            continue;
        };
        let Some(remove) = caps.get(1) else { continue };
        let value = if caps.len() > 2 {
            caps.get(2).map_or("", |m| m.as_str())
        } else {
            remove.as_str()
        };
        tags.push((rule.name, value.to_string()));
        cuts.push((remove.start(), remove.end()));
    }
    let extracted = name
        .char_indices()
        .filter(|(i, _)| !cuts.iter().any(|&(s, e)| (s..e).contains(i)))
        .map(|(_, c)| c)
        .collect();
    Tagged { extracted, tags }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged(name: &str) -> (String, Vec<(&'static str, String)>) {
        let t = extract_tags(name);
        (t.extracted, t.tags)
    }

    #[test]
    fn every_rule_compiles() {
        assert_eq!(COMPILED.len(), ISTIO_TAG_RULES.len());
        for (rule, regex) in COMPILED.iter() {
            assert!(regex.is_some(), "{}", rule.name);
        }
    }

    #[test]
    fn cluster_names_and_response_codes() {
        let inv = "outbound|8080||inventory-svc.prod.svc.cluster.local";
        assert_eq!(
            tagged(&format!("cluster.{inv}.upstream_rq_504")),
            (
                "cluster.upstream_rq".to_string(),
                vec![
                    ("response_code", "504".into()),
                    ("cluster_name", inv.into())
                ]
            )
        );
        assert_eq!(
            tagged(&format!("cluster.{inv}.internal.upstream_rq_5xx")).1[0],
            ("response_code_class", "5xx".into())
        );
        assert_eq!(
            tagged("cluster.inbound|8080||.upstream_cx_total"),
            (
                "cluster.upstream_cx_total".to_string(),
                vec![("cluster_name", "inbound|8080||".into())]
            )
        );
        assert_eq!(
            tagged("cluster.outbound|443||api.stripe.com.upstream_cx_total"),
            (
                "cluster.stripe.com.upstream_cx_total".to_string(),
                vec![("cluster_name", "outbound|443||api".into())]
            )
        );
    }

    #[test]
    fn proxy_wide_names() {
        assert_eq!(tagged("server.uptime"), ("server.uptime".into(), vec![]));
        assert_eq!(
            tagged("tcp.outbound|5432||db.prod.svc.cluster.local.downstream_cx_total").1,
            vec![(
                "tcp_prefix",
                "outbound|5432||db.prod.svc.cluster.local".into()
            )]
        );
        assert_eq!(
            tagged("listener.0.0.0.0_15006.downstream_cx_active"),
            (
                "listener.downstream_cx_active".into(),
                vec![("listener_address", "0.0.0.0_15006".into())]
            )
        );
        assert_eq!(
            tagged("listener.0.0.0.0_15006.http.10.0.0.1_80.downstream_rq_total").1[0],
            ("http_conn_manager_listener_prefix", "10.0.0.1_80".into())
        );
    }
}
