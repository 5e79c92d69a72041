//! The simulator's Envoy admin emulator: renders what a sidecar's admin port (15000) answers,
//! from a [`ProxyState`], byte-compatible with Envoy 1.30 in an Istio 1.22 sidecar.
//!
//! Served (GET only): `/stats` (text, `?format=json`, `?format=prometheus`, with `usedonly`
//! and `filter`), `/stats/prometheus`, `/clusters` (text and `?format=json`), `/config_dump`
//! (full or `?resource=`), `/server_info`, `/ready`. [`parse_admin_path`] reads a request line,
//! [`respond`] renders; [`respond_to_path`] does both and turns errors into Envoy's error
//! responses. One renderer per output lives in its own file; `stat_set` decides which stats
//! exist and are selected (Istio's stats matcher, `usedonly`, `filter`) and in what order.
//!
//! This module must not use the client's parsers (the top-level `envoy` module is the
//! opponent whose bugs it must not mirror): it has its own writers, and its tests read the
//! output back with those parsers and check it against real captures. To emulate a new endpoint, add an
//! [`AdminRequest`] variant, teach `path` to read it and add a renderer file.

mod clusters_json;
mod clusters_text;
mod config_cluster;
mod config_dump;
mod config_route;
mod identity;
mod istio_stats;
mod json;
mod number;
mod path;
mod prometheus;
mod proxy_stats;
#[cfg(test)]
mod sample_sidecar;
mod server_info;
mod stat_set;
mod stats_json;
mod stats_text;
mod tag_extract;
mod upstream;

pub use config_cluster::xds_pipe_address;
pub use path::{AdminError, parse_admin_path};
pub use prometheus::DEFAULT_BUCKETS as ENVOY_DEFAULT_BUCKETS;

use crate::sim::model::ProxyState;

use stat_set::{Selection, collect_stats};

/// `Content-Type` of Envoy's text answers (stats, clusters, ready, errors).
pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=UTF-8";
/// `Content-Type` of Envoy's JSON answers.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// The output format of a `/stats` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsFormat {
    Text,
    Json,
    Prometheus,
}

/// A read-only admin request the emulator serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminRequest {
    /// `/stats`, `/stats?format=…`, `/stats/prometheus`; `filter` is a regex (partial match).
    Stats {
        used_only: bool,
        filter: Option<String>,
        format: StatsFormat,
    },
    /// `/clusters` or `/clusters?format=json`.
    Clusters {
        json: bool,
    },
    /// `/config_dump`, or only the items of one repeated field with `?resource=`.
    ConfigDump {
        resource: Option<String>,
    },
    ServerInfo,
    /// `/ready`: `LIVE`.
    Ready,
}

/// What the admin port answers: HTTP status, `Content-Type` and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl AdminResponse {
    fn ok(content_type: &'static str, body: String) -> AdminResponse {
        AdminResponse {
            status: 200,
            content_type,
            body,
        }
    }
}

/// Renders the answer to `req` for the sidecar `state`.
pub fn respond(state: &ProxyState, req: &AdminRequest) -> AdminResponse {
    match req {
        AdminRequest::Stats {
            used_only,
            filter,
            format,
        } => stats_response(state, *used_only, filter.as_deref(), *format),
        AdminRequest::Clusters { json: false } => AdminResponse::ok(
            TEXT_CONTENT_TYPE,
            clusters_text::render_clusters_text(&state.clusters),
        ),
        AdminRequest::Clusters { json: true } => AdminResponse::ok(
            JSON_CONTENT_TYPE,
            clusters_json::render_clusters_json(&state.clusters),
        ),
        AdminRequest::ConfigDump { resource } => {
            match config_dump::render_config_dump(state, resource.as_deref()) {
                Ok(body) => AdminResponse::ok(JSON_CONTENT_TYPE, body),
                Err(e) => AdminResponse {
                    status: e.status,
                    content_type: TEXT_CONTENT_TYPE,
                    body: e.message,
                },
            }
        }
        AdminRequest::ServerInfo => {
            AdminResponse::ok(JSON_CONTENT_TYPE, server_info::render_server_info(state))
        }
        AdminRequest::Ready => AdminResponse::ok(TEXT_CONTENT_TYPE, "LIVE\n".to_string()),
    }
}

/// Parses `path_and_query` and renders the answer, or Envoy's error response.
pub fn respond_to_path(state: &ProxyState, path_and_query: &str) -> AdminResponse {
    match parse_admin_path(path_and_query) {
        Ok(req) => respond(state, &req),
        Err(e) => e.response(),
    }
}

fn stats_response(
    state: &ProxyState,
    used_only: bool,
    filter: Option<&str>,
    format: StatsFormat,
) -> AdminResponse {
    let filter = match filter.map(regex::Regex::new).transpose() {
        Ok(filter) => filter,
        Err(_) => {
            let message = "Invalid re2 regex".to_string();
            return AdminError::BadRequest { message }.response();
        }
    };
    let set = collect_stats(state, &Selection { used_only, filter });
    match format {
        StatsFormat::Text => {
            AdminResponse::ok(TEXT_CONTENT_TYPE, stats_text::render_stats_text(&set))
        }
        StatsFormat::Json => {
            AdminResponse::ok(JSON_CONTENT_TYPE, stats_json::render_stats_json(&set))
        }
        StatsFormat::Prometheus => {
            AdminResponse::ok(TEXT_CONTENT_TYPE, prometheus::render_prometheus(&set))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sample_sidecar::sidecar;
    use super::*;

    #[test]
    fn responses_carry_envoys_status_and_content_type() {
        let state = sidecar();
        let ready = respond(&state, &AdminRequest::Ready);
        assert_eq!(ready, AdminResponse::ok(TEXT_CONTENT_TYPE, "LIVE\n".into()));
        let info = respond_to_path(&state, "/server_info");
        assert_eq!((info.status, info.content_type), (200, JSON_CONTENT_TYPE));
        let prom = respond_to_path(&state, "/stats/prometheus");
        assert_eq!((prom.status, prom.content_type), (200, TEXT_CONTENT_TYPE));
        let quit = respond_to_path(&state, "/quitquitquit");
        assert_eq!(
            (quit.status, quit.body.as_str()),
            (405, "Method GET not allowed, POST required.")
        );
        let missing = respond_to_path(&state, "/config_dump?resource=dynamic_listeners");
        assert_eq!(missing.status, 404);
        assert_eq!(missing.body, "dynamic_listeners not found in config dump");
    }
}
