//! `AdminPath`: the allowlist of Envoy admin endpoints meshtop may read. The admin API also
//! has endpoints that change the proxy (`/quitquitquit`, `/logging`, `/runtime_modify`,
//! `/healthcheck/fail`, `/drain_listeners`); meshtop can only build requests from this enum,
//! and only GETs, so it cannot reach them.

/// A read-only Envoy admin request: one variant per allowed endpoint, with its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminPath {
    /// `/stats` text; `used_only` adds `usedonly`, `filter` a regex on stat names.
    Stats {
        used_only: bool,
        filter: Option<String>,
    },
    /// `/stats/prometheus` (Istio's `istio_requests_total` lives here).
    StatsPrometheus,
    /// `/clusters`, as JSON (`?format=json`) or text.
    Clusters { json: bool },
    /// `/config_dump`, optionally one `resource=` (e.g. `dynamic_active_clusters`).
    ConfigDump { resource: Option<String> },
    /// `/server_info`.
    ServerInfo,
    /// `/ready`.
    Ready,
}

impl AdminPath {
    /// `/stats?usedonly&filter=<regex>`: what every poll reads.
    pub fn filtered_stats(filter: &str) -> Self {
        AdminPath::Stats {
            used_only: true,
            filter: Some(filter.to_string()),
        }
    }

    /// `/config_dump?resource=dynamic_active_clusters`.
    pub fn active_clusters() -> Self {
        AdminPath::ConfigDump {
            resource: Some("dynamic_active_clusters".to_string()),
        }
    }

    /// `/config_dump?resource=dynamic_route_configs` (route timeouts and retry policies).
    pub fn route_configs() -> Self {
        AdminPath::ConfigDump {
            resource: Some("dynamic_route_configs".to_string()),
        }
    }

    /// The path without query (`/stats`, `/clusters`, …).
    pub fn path(&self) -> &'static str {
        match self {
            AdminPath::Stats { .. } => "/stats",
            AdminPath::StatsPrometheus => "/stats/prometheus",
            AdminPath::Clusters { .. } => "/clusters",
            AdminPath::ConfigDump { .. } => "/config_dump",
            AdminPath::ServerInfo => "/server_info",
            AdminPath::Ready => "/ready",
        }
    }

    /// The request target (path and percent-encoded query) to send.
    pub fn to_uri(&self) -> String {
        let mut params: Vec<String> = Vec::new();
        match self {
            AdminPath::Stats { used_only, filter } => {
                if *used_only {
                    params.push("usedonly".to_string());
                }
                if let Some(f) = filter {
                    params.push(format!("filter={}", percent_encode(f)));
                }
            }
            AdminPath::Clusters { json: true } => params.push("format=json".to_string()),
            AdminPath::ConfigDump {
                resource: Some(resource),
            } => params.push(format!("resource={}", percent_encode(resource))),
            _ => {}
        }
        match params.is_empty() {
            true => self.path().to_string(),
            false => format!("{}?{}", self.path(), params.join("&")),
        }
    }
}

/// Percent-encodes everything except RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`),
/// so regex metacharacters (`|`, `^`, `$`, `(`, `+`, …) and `&`/`=` survive the query.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            _ => {
                // Every poll encodes the stats filter: a table, not `write!`.
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0x0f)]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_allowed_endpoint_and_its_query() {
        let cases = [
            (
                AdminPath::filtered_stats("a|b"),
                "/stats?usedonly&filter=a%7Cb",
            ),
            (
                AdminPath::Stats {
                    used_only: false,
                    filter: None,
                },
                "/stats",
            ),
            (AdminPath::StatsPrometheus, "/stats/prometheus"),
            (AdminPath::Clusters { json: true }, "/clusters?format=json"),
            (AdminPath::Clusters { json: false }, "/clusters"),
            (
                AdminPath::active_clusters(),
                "/config_dump?resource=dynamic_active_clusters",
            ),
            (AdminPath::ConfigDump { resource: None }, "/config_dump"),
            (AdminPath::ServerInfo, "/server_info"),
            (AdminPath::Ready, "/ready"),
        ];
        for (path, uri) in cases {
            assert_eq!(path.to_uri(), uri);
            assert!(uri.starts_with(path.path()));
        }
    }

    #[test]
    fn regex_and_query_metacharacters_are_encoded() {
        let uri =
            AdminPath::filtered_stats(r"^cluster\.(outbound\|.*)\.upstream_rq_(total|5xx)$ &x=1")
                .to_uri();
        assert_eq!(
            uri,
            "/stats?usedonly&filter=%5Ecluster%5C.%28outbound%5C%7C.%2A%29%5C.upstream_rq_\
             %28total%7C5xx%29%24%20%26x%3D1"
        );
        assert_eq!(percent_encode("a-b.c_d~9Z"), "a-b.c_d~9Z");
        assert_eq!(percent_encode("é;"), "%C3%A9%3B");
    }
}
