//! Where a stat name's cluster part ends: `cluster.<cluster name>.<suffix>` or, since Istio
//! 1.23, `cluster.<cluster name>;.<suffix>`.
//!
//! Cluster names contain dots and pipes (`outbound|80||catalog.prod.svc.cluster.local`), so the
//! name is never split on the first dot. Instead the split is the leftmost dot after which the
//! rest is a known cluster stat suffix ([`catalog::is_cluster_suffix`]); when no suffix is
//! recognised, a cluster name already seen in the same capture is used; failing that, the stat
//! is unattributed and reported.

use super::catalog;
use super::stats_set::{StatTable, StatsSet};
use super::stats_text::clip;

/// Where one stat goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatTarget<'a> {
    /// Belongs to the cluster at this offset from the set's cluster cursor (0 = the cluster of
    /// the previous line, 1 = the one after it): the common case for sorted captures.
    Cursor { offset: usize, suffix: &'a str },
    /// Belongs to the named cluster.
    Cluster { name: &'a str, suffix: &'a str },
    /// Not a cluster stat (`server.uptime`, `http.…`, `istiocustom.…`).
    Other,
    /// Starts with `cluster.` but no cluster/suffix split could be found.
    Unattributed,
}

/// Splits a full stat name with knowledge of the clusters already in `set`.
pub fn target<'a>(set: &StatsSet, name: &'a str) -> StatTarget<'a> {
    let Some(rest) = name.strip_prefix("cluster.") else {
        return StatTarget::Other;
    };
    for offset in 0..2 {
        let known = match offset {
            0 => set.current_cluster(),
            _ => set.next_cluster(),
        };
        if let Some(suffix) = known.and_then(|cluster| strip_cluster(rest, cluster))
            && (set.cluster_knows(offset, suffix)
                || set.suffix_accepted(suffix)
                || catalog::is_cluster_suffix(suffix))
        {
            return StatTarget::Cursor { offset, suffix };
        }
    }
    if let Some((name, suffix)) = split_on_known(set, rest) {
        return StatTarget::Cluster { name, suffix };
    }
    if let Some((name, suffix)) = split_cluster_stat(rest) {
        return StatTarget::Cluster { name, suffix };
    }
    match set.longest_known_prefix(rest) {
        Some((name, suffix)) => StatTarget::Cluster { name, suffix },
        None => StatTarget::Unattributed,
    }
}

/// The table a stat belongs in and its name there (the suffix for cluster stats). A
/// `cluster.` stat whose cluster cannot be found, or a name that looks like a cut cluster stat,
/// is kept under its full name among the non-cluster stats and reported at `line`, so nothing
/// is silently dropped.
pub fn table_for<'s, 'n>(
    set: &'s mut StatsSet,
    name: &'n str,
    line: usize,
) -> (&'s mut StatTable, &'n str) {
    match target(set, name) {
        StatTarget::Cursor { offset, suffix } => {
            set.accept_suffix(suffix);
            (set.advance_cursor_mut(offset), suffix)
        }
        StatTarget::Cluster {
            name: cluster,
            suffix,
        } => (set.cluster_mut(cluster), suffix),
        StatTarget::Other => {
            if looks_cut(name) {
                let msg = format!(
                    "`{}` looks like a cut cluster stat; kept unattributed",
                    clip(name)
                );
                set.push_issue(line, msg);
            }
            (set.other_mut(), name)
        }
        StatTarget::Unattributed => {
            let msg = format!(
                "cannot tell where the cluster name ends in `{}` (unknown stat suffix); kept unattributed",
                clip(name)
            );
            set.push_issue(line, msg);
            (set.other_mut(), name)
        }
    }
}

/// A line whose start was lost (`luster.outbound|…`, `outbound|80||…`): the first segment is a
/// tail of `cluster` or an Istio cluster name. Names like `tcp.outbound|443||x.…` are fine.
fn looks_cut(name: &str) -> bool {
    let first = name.split('.').next().unwrap_or_default();
    (!first.is_empty() && "cluster".ends_with(first) && name.contains('|'))
        || first.starts_with("outbound|")
        || first.starts_with("inbound|")
}

/// The leftmost split into a cluster this set already has and a suffix it already accepted:
/// cheap hash lookups that spare the catalog when Envoy's output revisits every cluster
/// (text readouts first, histograms last).
fn split_on_known<'a>(set: &StatsSet, rest: &'a str) -> Option<(&'a str, &'a str)> {
    memchr::memchr_iter(b'.', rest.as_bytes())
        .map(|i| (&rest[..i], &rest[i + 1..]))
        .find(|(name, suffix)| set.suffix_accepted(suffix) && set.has_cluster(name))
}

/// `rest` without the leading `cluster` name and its delimiter (`.` or `;.`).
fn strip_cluster<'a>(rest: &'a str, cluster: &str) -> Option<&'a str> {
    let tail = rest.strip_prefix(cluster)?;
    tail.strip_prefix(";.").or_else(|| tail.strip_prefix('.'))
}

/// Splits what follows `cluster.` into (cluster name, stat suffix) without context: the
/// Istio ≥ 1.23 `;.` delimiter when present, else the leftmost dot followed by a known suffix.
pub fn split_cluster_stat(rest: &str) -> Option<(&str, &str)> {
    if let Some(i) = memchr::memmem::find(rest.as_bytes(), b";.") {
        return Some((&rest[..i], &rest[i + 2..]));
    }
    memchr::memchr_iter(b'.', rest.as_bytes())
        .filter(|&i| i > 0)
        .map(|i| (&rest[..i], &rest[i + 1..]))
        .find(|(_, suffix)| catalog::is_cluster_suffix(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOG: &str = "outbound|80||catalog.istioinaction.svc.cluster.local";

    #[test]
    fn splits_on_the_known_suffix_not_the_first_dot() {
        for suffix in [
            "upstream_rq_total",
            "circuit_breakers.default.remaining_cx_pools",
            "internal.upstream_rq_200",
            "ssl.versions.TLSv1.3",
            "ssl.ciphers.TLS_AES_128_GCM_SHA256",
            "tlsMode-istio.total_match_count",
            "default.total_match_count",
            "upstream_rq_time",
            "version_text",
        ] {
            let rest = format!("{CATALOG}.{suffix}");
            assert_eq!(split_cluster_stat(&rest), Some((CATALOG, suffix)), "{rest}");
        }
    }

    #[test]
    fn istio_123_delimiter_wins() {
        let rest = "outbound|9080||reviews.default.svc.cluster.local;.upstream_rq_total";
        assert_eq!(
            split_cluster_stat(rest),
            Some((
                "outbound|9080||reviews.default.svc.cluster.local",
                "upstream_rq_total"
            ))
        );
        assert_eq!(
            split_cluster_stat("httpbin.default_8000;.upstream_cx_total"),
            Some(("httpbin.default_8000", "upstream_cx_total"))
        );
    }

    #[test]
    fn target_uses_the_previous_cluster_and_falls_back_to_known_names() {
        let mut set = StatsSet::default();
        set.cluster_mut("weird.name")
            .set_int("upstream_rq_total", 1);
        assert_eq!(
            target(&set, "cluster.weird.name.some_future_stat"),
            StatTarget::Cluster {
                name: "weird.name",
                suffix: "some_future_stat"
            }
        );
        assert_eq!(
            target(&set, "cluster.weird.name.upstream_rq_total"),
            StatTarget::Cursor {
                offset: 0,
                suffix: "upstream_rq_total"
            }
        );
        assert_eq!(target(&set, "server.uptime"), StatTarget::Other);
        assert_eq!(
            target(&set, "cluster.nothing_known"),
            StatTarget::Unattributed
        );
    }

    #[test]
    fn a_cluster_whose_name_extends_the_previous_one_is_not_merged() {
        let mut set = StatsSet::default();
        set.cluster_mut("foo").set_int("upstream_rq_total", 1);
        assert_eq!(
            target(&set, "cluster.foo.bar.upstream_rq_total"),
            StatTarget::Cluster {
                name: "foo.bar",
                suffix: "upstream_rq_total"
            }
        );
    }
}
