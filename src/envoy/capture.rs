//! Recognising what a saved admin capture is, and parsing it with the right parser.
//!
//! People save captures with `kubectl exec … curl localhost:15000/<path>` and rarely keep the
//! path in the file name, so the kind is read from the content: JSON documents by their
//! top-level keys, text by the shape of their lines.

use serde::Serialize;
use serde_json::Value;

use super::clusters::{ClustersDump, parse_clusters_json, parse_clusters_text};
use super::config_dump::{ConfigDump, parse_config_dump};
use super::error::{ParseError, require_text};
use super::prometheus::parse_prometheus;
use super::server_info::{ServerInfo, parse_server_info};
use super::stats_json::parse_stats_json;
use super::stats_set::StatsSet;
use super::stats_text::parse_stats_text;

/// The admin endpoint a capture came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaptureKind {
    /// `/stats`
    StatsText,
    /// `/stats?format=json`
    StatsJson,
    /// `/stats/prometheus`
    StatsPrometheus,
    /// `/clusters`
    ClustersText,
    /// `/clusters?format=json`
    ClustersJson,
    /// `/config_dump`
    ConfigDump,
    /// `/server_info`
    ServerInfo,
}

impl CaptureKind {
    /// The admin path the kind corresponds to, as a user would type it.
    pub fn admin_path(self) -> &'static str {
        match self {
            CaptureKind::StatsText => "/stats",
            CaptureKind::StatsJson => "/stats?format=json",
            CaptureKind::StatsPrometheus => "/stats/prometheus",
            CaptureKind::ClustersText => "/clusters",
            CaptureKind::ClustersJson => "/clusters?format=json",
            CaptureKind::ConfigDump => "/config_dump",
            CaptureKind::ServerInfo => "/server_info",
        }
    }
}

/// A parsed capture of any kind.
#[derive(Debug, Clone)]
pub enum Capture {
    Stats(Box<StatsSet>),
    Clusters(Box<ClustersDump>),
    ConfigDump(Box<ConfigDump>),
    ServerInfo(Box<ServerInfo>),
}

/// Detects the kind of a capture and parses it.
pub fn parse_capture(bytes: &[u8]) -> Result<(CaptureKind, Capture), ParseError> {
    let text = require_text(bytes, "Envoy admin capture")?;
    let kind = detect_text_kind(text)?;
    let capture = match kind {
        CaptureKind::StatsText => Capture::Stats(Box::new(parse_stats_text(bytes)?)),
        CaptureKind::StatsJson => Capture::Stats(Box::new(parse_stats_json(bytes)?)),
        CaptureKind::StatsPrometheus => Capture::Stats(Box::new(parse_prometheus(text)?)),
        CaptureKind::ClustersText => Capture::Clusters(Box::new(parse_clusters_text(text)?)),
        CaptureKind::ClustersJson => Capture::Clusters(Box::new(parse_clusters_json(text)?)),
        CaptureKind::ConfigDump => Capture::ConfigDump(Box::new(parse_config_dump(text)?)),
        CaptureKind::ServerInfo => Capture::ServerInfo(Box::new(parse_server_info(text)?)),
    };
    Ok((kind, capture))
}

/// Tells which admin output `bytes` holds, without parsing it fully.
pub fn detect(bytes: &[u8]) -> Result<CaptureKind, ParseError> {
    detect_text_kind(require_text(bytes, "Envoy admin capture")?)
}

/// [`detect`] on input already checked to be text.
fn detect_text_kind(text: &str) -> Result<CaptureKind, ParseError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return detect_json(text);
    }
    detect_text(text)
}

fn detect_json(text: &str) -> Result<CaptureKind, ParseError> {
    match serde_json::from_str::<Value>(text) {
        Ok(doc) => json_kind(&doc).ok_or_else(|| {
            let keys: Vec<&str> = doc
                .as_object()
                .map(|o| o.keys().map(String::as_str).take(5).collect())
                .unwrap_or_default();
            ParseError::UnknownKind(format!(
                "JSON with top-level keys {keys:?} is not /stats, /clusters, /config_dump or /server_info output"
            ))
        }),
        // Broken JSON: guess from the keys so the matching parser reports the exact position.
        Err(e) => guess_json_kind(text).ok_or_else(|| ParseError::from_json(&e)),
    }
}

fn json_kind(doc: &Value) -> Option<CaptureKind> {
    let has = |k: &str| doc.get(k).is_some();
    if has("stats") {
        Some(CaptureKind::StatsJson)
    } else if has("cluster_statuses") || has("clusterStatuses") {
        Some(CaptureKind::ClustersJson)
    } else if has("configs") {
        Some(CaptureKind::ConfigDump)
    } else if has("command_line_options") || (has("version") && has("state")) {
        Some(CaptureKind::ServerInfo)
    } else {
        None
    }
}

fn guess_json_kind(text: &str) -> Option<CaptureKind> {
    let head = &text[..text.len().min(4096)];
    [
        ("\"stats\"", CaptureKind::StatsJson),
        ("\"cluster_statuses\"", CaptureKind::ClustersJson),
        ("\"clusterStatuses\"", CaptureKind::ClustersJson),
        ("\"configs\"", CaptureKind::ConfigDump),
        ("\"command_line_options\"", CaptureKind::ServerInfo),
    ]
    .into_iter()
    .find(|(key, _)| head.contains(key))
    .map(|(_, kind)| kind)
}

/// Votes over the first non-empty lines, so one damaged line does not decide.
fn detect_text(text: &str) -> Result<CaptureKind, ParseError> {
    let mut votes = [0usize; 3]; // stats text, prometheus, clusters text
    let mut first_line = "";
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(50)
    {
        if first_line.is_empty() {
            first_line = line;
        }
        match line_kind(line) {
            Some(CaptureKind::StatsText) => votes[0] += 1,
            Some(CaptureKind::StatsPrometheus) => votes[1] += 1,
            Some(CaptureKind::ClustersText) => votes[2] += 1,
            _ => {}
        }
    }
    let kinds = [
        CaptureKind::StatsText,
        CaptureKind::StatsPrometheus,
        CaptureKind::ClustersText,
    ];
    match votes.iter().enumerate().max_by_key(|(_, v)| **v) {
        Some((i, v)) if *v > 0 => Ok(kinds[i]),
        _ => Err(ParseError::UnknownKind(format!(
            "not an Envoy admin capture (expected /stats, /stats/prometheus, /clusters, /config_dump or /server_info output); first line: {:?}",
            super::stats_text::clip(first_line)
        ))),
    }
}

fn line_kind(line: &str) -> Option<CaptureKind> {
    if line.starts_with("# TYPE ") || line.starts_with("# HELP ") {
        return Some(CaptureKind::StatsPrometheus);
    }
    let first_token = line.split(' ').next().unwrap_or("");
    if line.contains("::") && !first_token.ends_with(':') {
        return Some(CaptureKind::ClustersText);
    }
    if first_token.len() > 1 && first_token.ends_with(':') && !first_token.contains('{') {
        let value = &line[first_token.len()..].trim_start();
        let stat_value = value.starts_with(|c: char| c.is_ascii_digit() || c == '"')
            || value.starts_with("P0(")
            || value.starts_with("B0")
            || *value == "No recorded values";
        return stat_value.then_some(CaptureKind::StatsText);
    }
    let name_end = first_token.find('{').unwrap_or(first_token.len());
    let name = &first_token[..name_end];
    let is_metric_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
        && !name.as_bytes()[0].is_ascii_digit();
    let value = line.rsplit(' ').next().unwrap_or("");
    let numeric = value.parse::<f64>().is_ok() || matches!(value, "NaN" | "+Inf" | "-Inf");
    (is_metric_name && numeric && line.contains(' ')).then_some(CaptureKind::StatsPrometheus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_kinds_are_told_apart() {
        assert_eq!(
            detect(b"cluster.a.upstream_rq_total: 1\nserver.uptime: 5\n"),
            Ok(CaptureKind::StatsText)
        );
        assert_eq!(
            detect(b"# TYPE envoy_cluster_upstream_rq_total counter\nenvoy_cluster_upstream_rq_total{envoy_cluster_name=\"a\"} 1\n"),
            Ok(CaptureKind::StatsPrometheus)
        );
        assert_eq!(
            detect(b"envoy_server_uptime{} 5\n"),
            Ok(CaptureKind::StatsPrometheus)
        );
        assert_eq!(
            detect(b"outbound|80||a.b.svc.cluster.local::10.0.0.1:80::rq_total::5\n"),
            Ok(CaptureKind::ClustersText)
        );
        assert_eq!(
            detect(b"uster.a.upstream_rq_total: 1\ncluster.a.upstream_rq_timeout: 1\n"),
            Ok(CaptureKind::StatsText),
            "a cut first line does not change the verdict"
        );
    }

    #[test]
    fn json_kinds_by_top_level_keys() {
        assert_eq!(detect(br#"{"stats":[]}"#), Ok(CaptureKind::StatsJson));
        assert_eq!(
            detect(br#"{"cluster_statuses":[]}"#),
            Ok(CaptureKind::ClustersJson)
        );
        assert_eq!(detect(br#"{"configs":[]}"#), Ok(CaptureKind::ConfigDump));
        assert_eq!(
            detect(br#"{"version":"x/1.31.0/Clean/RELEASE/BoringSSL","state":"LIVE"}"#),
            Ok(CaptureKind::ServerInfo)
        );
        assert_eq!(
            detect(b"{\"configs\": [\n{\"@type\": "),
            Ok(CaptureKind::ConfigDump),
            "broken JSON is guessed"
        );
    }

    #[test]
    fn unknown_inputs_get_a_clear_message() {
        let err = detect(b"apiVersion: v1\nkind: Pod\n").unwrap_err();
        assert!(
            err.to_string().contains("not an Envoy admin capture"),
            "{err}"
        );
        let err = detect(br#"{"kind":"Pod"}"#).unwrap_err();
        assert!(err.to_string().contains("is not /stats"), "{err}");
        assert!(matches!(detect(b""), Err(ParseError::Empty(_))));
        assert!(matches!(
            detect(b"\x00\xff"),
            Err(ParseError::Binary { .. })
        ));
    }
}
