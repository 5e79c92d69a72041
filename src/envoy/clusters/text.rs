//! The plain-text `/clusters` rendering: one `cluster::host:port::stat::value` line per
//! fact, plus cluster-wide `::default_priority::max_*`, `::outlier::*` and `::added_via_api`
//! lines. Owns the line classifier and the builder that groups lines into clusters and hosts.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{
    CircuitThresholds, ClusterStatus, ClustersDump, ClustersFormat, HealthFlags, HostCounters,
    HostStatus, RoutingPriority, clip, known_rate,
};
use crate::envoy::{LineIssue, ParseError};

/// Parses the plain-text `/clusters` output (`cluster::host:port::stat::value` lines).
///
/// Lines that cannot be understood are reported in [`ClustersDump::issues`] with their 1-based
/// line number. An input where no line could be used is a fatal error.
pub fn parse_clusters_text(input: &str) -> Result<ClustersDump, ParseError> {
    if input.trim().is_empty() {
        return Err(ParseError::Empty("/clusters capture"));
    }
    let mut builder = DumpBuilder::default();
    let mut dump = ClustersDump::empty(ClustersFormat::Text);
    for (index, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_text_line(line) {
            Ok(TextRecord::VersionInfo(version)) => dump.version_info = Some(version.to_string()),
            Ok(record) => builder.apply(record),
            Err(message) => {
                dump.issues.push(LineIssue {
                    line: index + 1,
                    message,
                });
                continue;
            }
        }
        dump.parsed_lines += 1;
    }
    if dump.parsed_lines == 0 {
        let (line, reason) = dump
            .issues
            .first()
            .map_or((1, String::new()), |i| (i.line, i.message.clone()));
        return Err(ParseError::syntax(
            line,
            0,
            format!(
                "no /clusters line found (expected `cluster::host:port::stat::value`): {reason}"
            ),
        ));
    }
    dump.clusters = builder.finish().into_iter().map(Arc::new).collect();
    Ok(dump)
}

/// What one text line says, before it is applied to the model.
#[derive(Debug, PartialEq)]
enum TextRecord<'a> {
    VersionInfo(&'a str),
    AddedViaApi(&'a str, bool),
    Threshold(&'a str, RoutingPriority, CircuitLimit, u64),
    Outlier(&'a str, OutlierField, Option<f64>),
    Host(&'a str, &'a str, HostField<'a>),
    Attribute(&'a str, &'a str, &'a str),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CircuitLimit {
    Connections,
    PendingRequests,
    Requests,
    Retries,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum OutlierField {
    SuccessRateAverage,
    SuccessRateEjectionThreshold,
    LocalOriginSuccessRateAverage,
    LocalOriginSuccessRateEjectionThreshold,
}

/// One per-host `stat::value` pair, with the value already parsed.
#[derive(Debug, PartialEq)]
enum HostField<'a> {
    Counter(&'a str, u64),
    Hostname(&'a str),
    Health(HealthFlags),
    Weight(u32),
    Priority(u32),
    Canary(bool),
    Region(&'a str),
    Zone(&'a str),
    SubZone(&'a str),
    SuccessRate(Option<f64>),
    LocalOriginSuccessRate(Option<f64>),
}

/// Per-host field names that are not counters.
const HOST_PROPERTIES: [&str; 10] = [
    "hostname",
    "health_flags",
    "weight",
    "priority",
    "canary",
    "region",
    "zone",
    "sub_zone",
    "success_rate",
    "local_origin_success_rate",
];

fn is_known_host_field(stat: &str) -> bool {
    HOST_PROPERTIES.contains(&stat) || HostCounters::is_known(stat)
}

/// Classifies one non-empty line. The cluster name ends at the first `::` (Envoy cluster names
/// contain `|` and `.`, not `::`); what follows decides the kind.
fn parse_text_line(line: &str) -> Result<TextRecord<'_>, String> {
    let Some((cluster, rest)) = line.split_once("::") else {
        return Err(format!("no `::` separator in {:?}", clip(line)));
    };
    if cluster.is_empty() {
        return Err("empty cluster name".to_string());
    }
    if cluster == "version_info" && !rest.contains("::") {
        return Ok(TextRecord::VersionInfo(rest));
    }
    if let Some(value) = rest.strip_prefix("added_via_api::") {
        return parse_bool(value).map(|v| TextRecord::AddedViaApi(cluster, v));
    }
    if let Some(rest) = rest.strip_prefix("outlier::") {
        return parse_outlier(cluster, rest);
    }
    if let Some((priority, rest)) = rest.split_once("::")
        && priority.ends_with("_priority")
    {
        return parse_threshold(cluster, priority, rest);
    }
    // Newer Envoy prints cluster-wide `observability_name::…` and `eds_service_name::…`.
    // A host address always has `:`, `.`, `[` or `/`; an attribute key is a plain word.
    if let Some((key, value)) = rest.split_once("::")
        && !key.is_empty()
        && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        return Ok(TextRecord::Attribute(cluster, key, value));
    }
    let (address, stat, value) = split_host_line(rest).ok_or_else(|| {
        format!(
            "expected `cluster::host:port::stat::value`, found {} `::`-separated parts",
            line.split("::").count()
        )
    })?;
    let field = parse_host_field(stat, value)?;
    Ok(TextRecord::Host(cluster, address, field))
}

fn parse_threshold<'a>(
    cluster: &'a str,
    priority: &str,
    rest: &str,
) -> Result<TextRecord<'a>, String> {
    let priority = match priority {
        "default_priority" => RoutingPriority::Default,
        "high_priority" => RoutingPriority::High,
        other => return Err(format!("unknown circuit-breaker priority {other:?}")),
    };
    let (name, value) = rest
        .split_once("::")
        .ok_or_else(|| format!("circuit-breaker line without a value: {rest:?}"))?;
    let field = match name {
        "max_connections" => CircuitLimit::Connections,
        "max_pending_requests" => CircuitLimit::PendingRequests,
        "max_requests" => CircuitLimit::Requests,
        "max_retries" => CircuitLimit::Retries,
        other => return Err(format!("unknown circuit-breaker setting {other:?}")),
    };
    Ok(TextRecord::Threshold(
        cluster,
        priority,
        field,
        parse_u64(name, value)?,
    ))
}

fn parse_outlier<'a>(cluster: &'a str, rest: &str) -> Result<TextRecord<'a>, String> {
    let (name, value) = rest
        .split_once("::")
        .ok_or_else(|| format!("outlier line without a value: {rest:?}"))?;
    let field = match name {
        "success_rate_average" => OutlierField::SuccessRateAverage,
        "success_rate_ejection_threshold" => OutlierField::SuccessRateEjectionThreshold,
        "local_origin_success_rate_average" => OutlierField::LocalOriginSuccessRateAverage,
        "local_origin_success_rate_ejection_threshold" => {
            OutlierField::LocalOriginSuccessRateEjectionThreshold
        }
        other => return Err(format!("unknown outlier field {other:?}")),
    };
    Ok(TextRecord::Outlier(
        cluster,
        field,
        parse_rate(name, value)?,
    ))
}

/// Splits `host::stat::value`. The host may itself contain `::` (a bare IPv6 address such as
/// `fd00::1:8080`; Envoy prints `[fd00::1]:8080`), and a text value may too, so the first
/// split whose stat is a known per-host field wins. Otherwise (a stat this version does not
/// know, whose value is numeric) the last two `::` separate stat and value.
fn split_host_line(rest: &str) -> Option<(&str, &str, &str)> {
    for (at, _) in rest.match_indices("::") {
        let (address, tail) = (&rest[..at], &rest[at + 2..]);
        let Some((stat, value)) = tail.split_once("::") else {
            break;
        };
        if !address.is_empty() && is_known_host_field(stat) {
            return Some((address, stat, value));
        }
    }
    let (head, value) = rest.rsplit_once("::")?;
    let (address, stat) = head.rsplit_once("::")?;
    (!address.is_empty() && !stat.is_empty()).then_some((address, stat, value))
}

fn parse_host_field<'a>(stat: &'a str, value: &'a str) -> Result<HostField<'a>, String> {
    Ok(match stat {
        "hostname" => HostField::Hostname(value),
        "health_flags" => HostField::Health(parse_health_flags(value)?),
        "weight" => HostField::Weight(parse_u32(stat, value)?),
        "priority" => HostField::Priority(parse_u32(stat, value)?),
        "canary" => HostField::Canary(parse_bool(value)?),
        "region" => HostField::Region(value),
        "zone" => HostField::Zone(value),
        "sub_zone" => HostField::SubZone(value),
        "success_rate" => HostField::SuccessRate(parse_rate(stat, value)?),
        "local_origin_success_rate" => HostField::LocalOriginSuccessRate(parse_rate(stat, value)?),
        counter => HostField::Counter(counter, parse_u64(counter, value)?),
    })
}

/// `healthy`, or flags each introduced by `/`: `/failed_active_hc/failed_outlier_check`.
fn parse_health_flags(value: &str) -> Result<HealthFlags, String> {
    let mut flags = HealthFlags::default();
    match value.trim() {
        "healthy" => {}
        "" => return Err("empty health_flags".to_string()),
        text => text
            .split('/')
            .filter(|f| !f.is_empty())
            .for_each(|f| flags.set(f)),
    }
    Ok(flags)
}

fn parse_u64(name: &str, value: &str) -> Result<u64, String> {
    value.trim().parse().map_err(|_| {
        format!(
            "{name}: expected a non-negative integer, found {:?}",
            clip(value)
        )
    })
}

fn parse_u32(name: &str, value: &str) -> Result<u32, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{name}: expected an integer, found {:?}", clip(value)))
}

fn parse_rate(name: &str, value: &str) -> Result<Option<f64>, String> {
    match value.trim().parse::<f64>() {
        Ok(rate) => Ok(known_rate(rate)),
        Err(_) => Err(format!(
            "{name}: expected a number, found {:?}",
            clip(value)
        )),
    }
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("expected true or false, found {:?}", clip(other))),
    }
}

/// Collects records into clusters and hosts, keeping the order of first appearance.
#[derive(Default)]
struct DumpBuilder {
    entries: Vec<ClusterEntry>,
    by_name: FxHashMap<String, usize>,
}

struct ClusterEntry {
    status: ClusterStatus,
    host_index: FxHashMap<String, usize>,
}

impl DumpBuilder {
    fn apply(&mut self, record: TextRecord<'_>) {
        match record {
            TextRecord::VersionInfo(_) => {}
            TextRecord::AddedViaApi(cluster, value) => {
                self.cluster_mut(cluster).status.added_via_api = Some(value);
            }
            TextRecord::Threshold(cluster, priority, field, value) => {
                let status = &mut self.cluster_mut(cluster).status;
                *threshold_slot(status, priority, field) = Some(value);
            }
            TextRecord::Outlier(cluster, field, value) => {
                let outlier = &mut self.cluster_mut(cluster).status.outlier;
                *match field {
                    OutlierField::SuccessRateAverage => &mut outlier.success_rate_average,
                    OutlierField::SuccessRateEjectionThreshold => {
                        &mut outlier.success_rate_ejection_threshold
                    }
                    OutlierField::LocalOriginSuccessRateAverage => {
                        &mut outlier.local_origin_success_rate_average
                    }
                    OutlierField::LocalOriginSuccessRateEjectionThreshold => {
                        &mut outlier.local_origin_success_rate_ejection_threshold
                    }
                } = value;
            }
            TextRecord::Host(cluster, address, field) => {
                apply_host_field(self.cluster_mut(cluster).host_mut(address), field);
            }
            TextRecord::Attribute(cluster, key, value) => {
                let status = &mut self.cluster_mut(cluster).status;
                status.attributes.push((key.to_string(), value.to_string()));
            }
        }
    }

    fn cluster_mut(&mut self, name: &str) -> &mut ClusterEntry {
        let last = self.entries.len().checked_sub(1);
        let last = last.filter(|&i| self.entries[i].status.name == name);
        let index = match last.or_else(|| self.by_name.get(name).copied()) {
            Some(index) => index,
            None => {
                self.by_name.insert(name.to_string(), self.entries.len());
                self.entries.push(ClusterEntry {
                    status: ClusterStatus::new(name),
                    host_index: FxHashMap::default(),
                });
                self.entries.len() - 1
            }
        };
        &mut self.entries[index]
    }

    fn finish(self) -> Vec<ClusterStatus> {
        self.entries.into_iter().map(|e| e.status).collect()
    }
}

impl ClusterEntry {
    fn host_mut(&mut self, address: &str) -> &mut HostStatus {
        let hosts = &mut self.status.hosts;
        let last = hosts
            .len()
            .checked_sub(1)
            .filter(|&i| hosts[i].address == address);
        let index = match last.or_else(|| self.host_index.get(address).copied()) {
            Some(index) => index,
            None => {
                self.host_index.insert(address.to_string(), hosts.len());
                hosts.push(HostStatus::new(address));
                hosts.len() - 1
            }
        };
        &mut hosts[index]
    }
}

fn threshold_slot(
    status: &mut ClusterStatus,
    priority: RoutingPriority,
    field: CircuitLimit,
) -> &mut Option<u64> {
    let position = status
        .thresholds
        .iter()
        .position(|t| t.priority == priority);
    let index = position.unwrap_or_else(|| {
        status.thresholds.push(CircuitThresholds::new(priority));
        status.thresholds.len() - 1
    });
    let thresholds = &mut status.thresholds[index];
    match field {
        CircuitLimit::Connections => &mut thresholds.max_connections,
        CircuitLimit::PendingRequests => &mut thresholds.max_pending_requests,
        CircuitLimit::Requests => &mut thresholds.max_requests,
        CircuitLimit::Retries => &mut thresholds.max_retries,
    }
}

fn apply_host_field(host: &mut HostStatus, field: HostField<'_>) {
    match field {
        HostField::Counter(name, value) => host.stats.set(name, value),
        HostField::Hostname(v) => host.hostname = v.to_string(),
        HostField::Health(flags) => host.health = flags,
        HostField::Weight(v) => host.weight = Some(v),
        HostField::Priority(v) => host.priority = Some(v),
        HostField::Canary(v) => host.canary = Some(v),
        HostField::Region(v) => host.region = v.to_string(),
        HostField::Zone(v) => host.zone = v.to_string(),
        HostField::SubZone(v) => host.sub_zone = v.to_string(),
        HostField::SuccessRate(v) => host.success_rate = v,
        HostField::LocalOriginSuccessRate(v) => host.local_origin_success_rate = v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::clusters::OutlierSummary;

    const SAMPLE: &str = "\
outbound|9080||reviews.prod.svc.cluster.local::outlier::success_rate_average::-1
outbound|9080||reviews.prod.svc.cluster.local::outlier::success_rate_ejection_threshold::87.5
outbound|9080||reviews.prod.svc.cluster.local::outlier::local_origin_success_rate_average::99
outbound|9080||reviews.prod.svc.cluster.local::outlier::local_origin_success_rate_ejection_threshold::-1
outbound|9080||reviews.prod.svc.cluster.local::default_priority::max_connections::4294967295
outbound|9080||reviews.prod.svc.cluster.local::default_priority::max_pending_requests::100
outbound|9080||reviews.prod.svc.cluster.local::default_priority::max_requests::1024
outbound|9080||reviews.prod.svc.cluster.local::default_priority::max_retries::3
outbound|9080||reviews.prod.svc.cluster.local::high_priority::max_connections::1024
outbound|9080||reviews.prod.svc.cluster.local::high_priority::max_retries::5
outbound|9080||reviews.prod.svc.cluster.local::added_via_api::true
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::cx_active::2
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::cx_connect_fail::4
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::rq_timeout::7
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::rq_error::11
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::hostname::
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::health_flags::healthy
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::weight::6
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::region::
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::zone::us-east1-b
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::sub_zone::
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::canary::false
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::priority::1
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::success_rate::-1.0
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.1:9080::local_origin_success_rate::97.25
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.2:9080::rq_timeout::3
outbound|9080||reviews.prod.svc.cluster.local::10.0.0.2:9080::health_flags::/failed_outlier_check
xds-grpc::default_priority::max_connections::1024
xds-grpc::added_via_api::false
";

    #[test]
    fn newer_envoy_cluster_attributes_are_kept() {
        let text = "outbound|80||a.b.svc.cluster.local::observability_name::outbound|80||a.b.svc.cluster.local\n\
                    outbound|80||a.b.svc.cluster.local::eds_service_name::outbound|80||a.b.svc.cluster.local\n\
                    outbound|80||a.b.svc.cluster.local::10.0.0.1:80::rq_total::4\n";
        let dump = parse_clusters_text(text).unwrap();
        assert!(dump.issues.is_empty(), "{:?}", dump.issues);
        let c = &dump.clusters[0];
        assert_eq!(c.attributes.len(), 2);
        assert_eq!(
            c.attributes[0],
            (
                "observability_name".to_string(),
                "outbound|80||a.b.svc.cluster.local".to_string()
            )
        );
        assert_eq!(c.hosts[0].stats.rq_total, Some(4));
    }

    #[test]
    fn cluster_wide_lines_and_host_fields() {
        let dump = parse_clusters_text(SAMPLE).unwrap();
        assert_eq!(dump.issues, vec![]);
        assert_eq!(dump.parsed_lines, 29);
        assert_eq!(dump.format, ClustersFormat::Text);
        let names: Vec<&str> = dump.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["outbound|9080||reviews.prod.svc.cluster.local", "xds-grpc"]
        );

        let reviews = &dump.clusters[0];
        assert!(reviews.key.is_outbound());
        assert_eq!(reviews.added_via_api, Some(true));
        assert_eq!(
            reviews.outlier,
            OutlierSummary {
                success_rate_average: None,
                success_rate_ejection_threshold: Some(87.5),
                local_origin_success_rate_average: Some(99.0),
                local_origin_success_rate_ejection_threshold: None,
            }
        );
        assert_eq!(
            reviews.thresholds,
            vec![
                CircuitThresholds {
                    priority: RoutingPriority::Default,
                    max_connections: Some(4294967295),
                    max_pending_requests: Some(100),
                    max_requests: Some(1024),
                    max_retries: Some(3),
                },
                CircuitThresholds {
                    priority: RoutingPriority::High,
                    max_connections: Some(1024),
                    max_pending_requests: None,
                    max_requests: None,
                    max_retries: Some(5),
                },
            ]
        );
        let xds = &dump.clusters[1];
        assert_eq!(xds.added_via_api, Some(false));
        let default = xds.threshold(RoutingPriority::Default).unwrap();
        assert_eq!(default.max_connections, Some(1024));
        assert_eq!(xds.threshold(RoutingPriority::High), None);
        assert!(xds.hosts.is_empty());
        assert_eq!(xds.rq_timeout_total(), None, "no host reports it");
    }

    #[test]
    fn host_fields_and_totals() {
        let dump = parse_clusters_text(SAMPLE).unwrap();
        let reviews = &dump.clusters[0];
        let host = &reviews.hosts[0];
        assert_eq!(host.address, "10.0.0.1:9080");
        assert_eq!(host.stats.cx_active, Some(2));
        assert_eq!(host.stats.cx_connect_fail, Some(4));
        assert_eq!(host.stats.rq_timeout, Some(7));
        assert_eq!(host.stats.rq_error, Some(11));
        assert_eq!(host.stats.rq_total, None, "no rq_total line");
        assert_eq!((host.hostname.as_str(), host.region.as_str()), ("", ""));
        assert_eq!(
            (host.zone.as_str(), host.sub_zone.as_str()),
            ("us-east1-b", "")
        );
        assert_eq!(
            (host.weight, host.priority, host.canary),
            (Some(6), Some(1), Some(false))
        );
        assert_eq!(host.success_rate, None, "-1.0 means not enough data");
        assert_eq!(host.local_origin_success_rate, Some(97.25));
        assert!(host.health.is_healthy());

        assert_eq!(reviews.total_count(), 2);
        assert_eq!(reviews.healthy_count(), 1);
        assert_eq!(reviews.ejected_count(), 1);
        assert_eq!(reviews.rq_timeout_total(), Some(10));
        assert_eq!(reviews.rq_error_total(), Some(11));
        assert_eq!(reviews.cx_connect_fail_total(), Some(4));
    }

    #[test]
    fn ipv6_hosts_bracketed_and_bare() {
        let input = "\
outbound|80||x::[fd00::1]:8080::cx_total::5
outbound|80||x::[fd00::1]:8080::hostname::
outbound|80||x::[fd00::1]:8080::zone::a::b
outbound|80||x::fd00::2:8080::rq_timeout::3
outbound|80||x::[::1]:80::health_flags::healthy
outbound|80||x::::1:81::rq_error::2
outbound|80||x::[fd00::1]:8080::new_counter::9
";
        let dump = parse_clusters_text(input).unwrap();
        assert_eq!(dump.issues, vec![]);
        let hosts = &dump.clusters[0].hosts;
        let addresses: Vec<&str> = hosts.iter().map(|h| h.address.as_str()).collect();
        assert_eq!(
            addresses,
            ["[fd00::1]:8080", "fd00::2:8080", "[::1]:80", "::1:81"]
        );
        assert_eq!(hosts[0].stats.cx_total, Some(5));
        assert_eq!(hosts[0].hostname, "");
        assert_eq!(hosts[0].zone, "a::b", "a text value may contain `::`");
        assert_eq!(hosts[0].stats.extra, vec![("new_counter".to_string(), 9)]);
        assert_eq!(hosts[1].stats.rq_timeout, Some(3));
        assert_eq!(hosts[3].stats.rq_error, Some(2));
    }

    #[test]
    fn health_flag_combinations() {
        let flags = parse_health_flags("/failed_active_hc/failed_outlier_check").unwrap();
        assert!(flags.failed_active_hc && flags.failed_outlier_check);
        assert!(!flags.failed_eds_health && !flags.is_healthy());

        let flags = parse_health_flags("/failed_eds_health/pending_dynamic_removal").unwrap();
        assert!(flags.failed_eds_health && flags.pending_dynamic_removal && !flags.is_healthy());

        let flags =
            parse_health_flags("/pending_active_hc/excluded_via_immediate_hc_fail").unwrap();
        assert!(flags.pending_active_hc && flags.excluded_via_immediate_hc_fail);
        assert!(flags.is_healthy(), "pending and excluded are not failures");

        let flags = parse_health_flags("/degraded_active_hc/degraded_eds_health").unwrap();
        assert!(flags.is_healthy() && flags.is_degraded());

        let flags = parse_health_flags("/eds_status_draining/active_hc_timeout/new_flag").unwrap();
        assert!(flags.eds_status_draining && flags.active_hc_timeout && !flags.is_healthy());
        assert_eq!(flags.other, vec!["new_flag".to_string()]);

        assert_eq!(
            parse_health_flags("healthy").unwrap(),
            HealthFlags::default()
        );
        assert!(parse_health_flags("").is_err());
    }

    #[test]
    fn damaged_lines_are_reported_with_line_numbers() {
        let input = "\
a::10.0.0.1:80::rq_total::5

just-a-name::x
a::10.0.0.1:80::rq_total::many
a::10.0.0.1:80::weight::-3
a::low_priority::max_connections::1
a::default_priority::max_connections::lots
a::default_priority::max_streams::1
a::outlier::success_rate_average::n/a
a::added_via_api::yes
a::10.0.0.1:80::cx_total
no separator at all
b::10.0.0.2:80::canary::maybe
c::10.0.0.3:80::rq_total::1
";
        let dump = parse_clusters_text(input).unwrap();
        let lines: Vec<usize> = dump.issues.iter().map(|i| i.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
        assert_eq!(dump.parsed_lines, 2);
        assert_eq!(
            dump.parsed_lines + dump.issues.len(),
            input.lines().filter(|l| !l.is_empty()).count()
        );
        assert!(
            dump.issues[1].message.contains("rq_total"),
            "{}",
            dump.issues[1]
        );
        assert!(
            dump.issues[3].message.contains("low_priority"),
            "{}",
            dump.issues[3]
        );
        assert!(
            dump.issues[8].message.contains("4 `::`") || dump.issues[8].message.contains("3 `::`"),
            "{}",
            dump.issues[8]
        );
        // Damaged lines create no cluster: `b` only had a bad line.
        let names: Vec<&str> = dump.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(dump.clusters[0].hosts[0].stats.rq_total, Some(5));
        assert_eq!(dump.clusters[0].hosts[0].weight, None);
    }

    #[test]
    fn nothing_parseable_is_fatal() {
        let err =
            parse_clusters_text("cluster.a.upstream_rq_total: 5\nserver.uptime: 3\n").unwrap_err();
        assert_eq!(err.line(), 1);
        assert!(err.to_string().contains("no /clusters line found"), "{err}");
        assert_eq!(
            parse_clusters_text(" \n\n"),
            Err(ParseError::Empty("/clusters capture"))
        );
    }

    #[test]
    fn version_info_crlf_and_first_appearance_order() {
        let input = "version_info::static\r\nb::1.1.1.1:1::rq_total::1\r\na::2.2.2.2:2::rq_total::2\r\nb::3.3.3.3:3::rq_total::3\r\nb::1.1.1.1:1::rq_error::4\r\n";
        let dump = parse_clusters_text(input).unwrap();
        assert_eq!(dump.issues, vec![]);
        assert_eq!(dump.version_info.as_deref(), Some("static"));
        assert_eq!(dump.parsed_lines, 5);
        let names: Vec<&str> = dump.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        let b = &dump.clusters[0];
        let addresses: Vec<&str> = b.hosts.iter().map(|h| h.address.as_str()).collect();
        assert_eq!(
            addresses,
            ["1.1.1.1:1", "3.3.3.3:3"],
            "a host seen again is the same host"
        );
        assert_eq!(
            (b.hosts[0].stats.rq_total, b.hosts[0].stats.rq_error),
            (Some(1), Some(4))
        );
    }

    #[test]
    fn pipe_addresses_and_unknown_stats() {
        let input = "sds-grpc::./etc/istio/proxy/SDS::rq_active::2\nsds-grpc::./etc/istio/proxy/SDS::odd_stat::7\nsds-grpc::./etc/istio/proxy/SDS::odd_text::x\n";
        let dump = parse_clusters_text(input).unwrap();
        let host = &dump.clusters[0].hosts[0];
        assert_eq!(host.address, "./etc/istio/proxy/SDS");
        assert_eq!(host.stats.rq_active, Some(2));
        assert_eq!(host.stats.extra, vec![("odd_stat".to_string(), 7)]);
        assert_eq!(dump.issues.len(), 1);
        assert_eq!(dump.issues[0].line, 3);
    }

    #[test]
    fn host_lines_split_on_the_known_field() {
        assert_eq!(
            split_host_line("10.0.0.1:80::rq_total::5"),
            Some(("10.0.0.1:80", "rq_total", "5"))
        );
        assert_eq!(
            split_host_line("fd00::1:80::hostname::"),
            Some(("fd00::1:80", "hostname", ""))
        );
        assert_eq!(
            split_host_line("[::]:80::unknown::1"),
            Some(("[::]:80", "unknown", "1"))
        );
        assert_eq!(split_host_line("10.0.0.1:80::rq_total"), None);
        assert_eq!(split_host_line("::rq_total::5"), None);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(input in "\\PC{0,200}") {
            let _ = parse_clusters_text(&input);
        }

        #[test]
        fn clusters_shaped_text_never_panics(input in "([a-z|.\\[\\]:0-9/]{0,12}(::)?){0,8}(\n|\r\n)?") {
            if let Ok(dump) = parse_clusters_text(&input) {
                let lines = input.lines().filter(|l| !l.trim().is_empty()).count();
                proptest::prop_assert_eq!(dump.parsed_lines + dump.issues.len(), lines);
            }
        }
    }
}
