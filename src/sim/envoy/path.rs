//! Reading an admin request line (`/stats?usedonly&filter=…`) into an [`AdminRequest`], and
//! the errors Envoy answers instead.
//!
//! As in Envoy's admin: the path before `?` must equal a handler's path exactly; query
//! parameters are split on `&` and `=`, percent-decoded (`+` stays `+`, it is a regex
//! quantifier), and the first occurrence of a name wins; unknown parameters are ignored. A
//! handler that changes server state (`/quitquitquit`, `/reset_counters`, `/logging`,
//! `/healthcheck/fail`, `/drain_listeners`, …) is refused with 405 `Method GET not allowed,
//! POST required.` because the emulator serves GET only; an invalid `filter` regex is 400
//! `Invalid re2 regex`; an unknown path is 404 `invalid path. admin commands are: …`. Real
//! read-only endpoints the emulator does not produce (`/listeners`, `/certs`, …) and options
//! it does not emulate (`histogram_buckets`, `mask`, …) are 501, so nothing is faked.

use regex::Regex;

use super::{AdminRequest, AdminResponse, StatsFormat, TEXT_CONTENT_TYPE};

/// Why an admin request gets no normal answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// No handler has this path (Envoy: 404 with the list of commands).
    #[error("invalid path {path}")]
    NotFound { path: String },
    /// A state-changing handler asked for with GET (Envoy: 405).
    #[error("{path} changes server state and requires POST")]
    MethodNotAllowed { path: String },
    /// A bad parameter value (Envoy: 400 with this message).
    #[error("{message}")]
    BadRequest { message: String },
    /// A real Envoy endpoint or option that the emulator does not produce.
    #[error("meshtop sim does not emulate {what}")]
    NotEmulated { what: String },
}

impl AdminError {
    /// The response Envoy (or, for [`AdminError::NotEmulated`], the emulator) sends.
    pub fn response(&self) -> AdminResponse {
        let (status, body) = match self {
            AdminError::NotFound { .. } => (404, not_found_body()),
            AdminError::MethodNotAllowed { .. } => {
                (405, "Method GET not allowed, POST required.".to_string())
            }
            AdminError::BadRequest { message } => (400, message.clone()),
            AdminError::NotEmulated { .. } => (501, format!("{self}\n")),
        };
        AdminResponse {
            status,
            content_type: TEXT_CONTENT_TYPE,
            body,
        }
    }
}

/// Handlers that change server state (POST-only in Envoy).
const MUTATING_PATHS: [&str; 14] = [
    "/cpuprofiler",
    "/drain_listeners",
    "/healthcheck/fail",
    "/healthcheck/ok",
    "/heapprofiler",
    "/logging",
    "/quitquitquit",
    "/reopen_logs",
    "/reset_counters",
    "/runtime_modify",
    "/stats/recentlookups/clear",
    "/stats/recentlookups/disable",
    "/stats/recentlookups/enable",
    "/tap",
];

/// Read-only Envoy handlers the emulator does not produce.
const OTHER_ENVOY_PATHS: [&str; 12] = [
    "/",
    "/certs",
    "/contention",
    "/heap_dump",
    "/help",
    "/hot_restart_version",
    "/hystrix_event_stream",
    "/init_dump",
    "/listeners",
    "/memory",
    "/runtime",
    "/stats/recentlookups",
];

/// The handlers the emulator serves, with Envoy's help text.
const SERVED: [(&str, &str); 6] = [
    ("/clusters", "upstream cluster status"),
    ("/config_dump", "dump current Envoy configs (experimental)"),
    (
        "/ready",
        "print server state, return 200 if LIVE, otherwise return 503",
    ),
    ("/server_info", "print server version/status information"),
    ("/stats", "print server stats"),
    (
        "/stats/prometheus",
        "print server stats in prometheus format",
    ),
];

fn not_found_body() -> String {
    let mut body = String::from("invalid path. admin commands are:\n");
    for (path, help) in SERVED {
        body.push_str(&format!("  {path}: {help}\n"));
    }
    body
}

/// Reads `path_and_query` (as in an HTTP request line) into an [`AdminRequest`].
pub fn parse_admin_path(path_and_query: &str) -> Result<AdminRequest, AdminError> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let params = Query::parse(query);
    match path {
        "/stats" => stats_request(&params, None),
        "/stats/prometheus" => stats_request(&params, Some(StatsFormat::Prometheus)),
        "/clusters" => Ok(AdminRequest::Clusters {
            json: params.first("format") == Some("json"),
        }),
        "/config_dump" => config_dump_request(&params),
        "/server_info" => Ok(AdminRequest::ServerInfo),
        "/ready" => Ok(AdminRequest::Ready),
        p if MUTATING_PATHS.contains(&p) => Err(AdminError::MethodNotAllowed { path: p.into() }),
        p if OTHER_ENVOY_PATHS.contains(&p) => Err(AdminError::NotEmulated { what: p.into() }),
        p => Err(AdminError::NotFound { path: p.into() }),
    }
}

fn stats_request(params: &Query, fixed: Option<StatsFormat>) -> Result<AdminRequest, AdminError> {
    let emulated =
        |option: &str, value: &str| value.is_empty() || (option, value) == ("hidden", "exclude");
    if let Some(option) = ["histogram_buckets", "type", "hidden"]
        .into_iter()
        .find(|o| params.first(o).is_some_and(|v| !emulated(o, v)))
    {
        return Err(AdminError::NotEmulated {
            what: format!("the /stats option {option}"),
        });
    }
    let format = match fixed {
        Some(format) => format,
        None => stats_format(params.first("format"))?,
    };
    let filter = params
        .first("filter")
        .filter(|f| !f.is_empty())
        .map(str::to_string);
    if let Some(f) = &filter {
        Regex::new(f).map_err(|_| bad("Invalid re2 regex"))?;
    }
    Ok(AdminRequest::Stats {
        used_only: params.first("usedonly").is_some(),
        filter,
        format,
    })
}

/// The `format=` of `/stats`; HTML formats are refused as in an Envoy built without them.
fn stats_format(value: Option<&str>) -> Result<StatsFormat, AdminError> {
    match value.filter(|f| !f.is_empty()) {
        None | Some("text") => Ok(StatsFormat::Text),
        Some("json") => Ok(StatsFormat::Json),
        Some("prometheus") => Ok(StatsFormat::Prometheus),
        Some("html") => Err(bad(
            "HTML output was disabled by building with --define=admin_html=disabled",
        )),
        Some("active-html") => Err(bad(
            "Active HTML output was disabled by building with --define=admin_html=disabled",
        )),
        Some(_) => Err(bad(
            "usage: /stats?format=(html|active-html|json|prometheus|text)\n\n",
        )),
    }
}

fn config_dump_request(params: &Query) -> Result<AdminRequest, AdminError> {
    if let Some(option) = ["mask", "name_regex", "include_eds"]
        .into_iter()
        .find(|o| params.first(o).is_some())
    {
        return Err(AdminError::NotEmulated {
            what: format!("the /config_dump option {option}"),
        });
    }
    let resource = params.first("resource").filter(|r| !r.is_empty());
    Ok(AdminRequest::ConfigDump {
        resource: resource.map(str::to_string),
    })
}

fn bad(message: &str) -> AdminError {
    AdminError::BadRequest {
        message: message.to_string(),
    }
}

/// Decoded query parameters in request order.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: &str) -> Query {
        let pairs = (query.split('&'))
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        Query(pairs)
    }

    /// The first value of parameter `name` (`""` for a bare `usedonly`).
    fn first(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `%XX` → byte; anything else (including `+` and a broken `%`) is kept as is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_keeps_plus_and_broken_escapes() {
        assert_eq!(percent_decode("a%7Cb%5C.c+d"), "a|b\\.c+d");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn first_parameter_wins() {
        let q = Query::parse("format=json&format=text&usedonly");
        assert_eq!(q.first("format"), Some("json"));
        assert_eq!(q.first("usedonly"), Some(""));
        assert_eq!(q.first("filter"), None);
    }
}
