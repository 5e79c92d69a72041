//! `/server_info` (JSON): which Envoy is running, its state and uptime, and who it is (the
//! node id; for Istio sidecars the pod and namespace encoded in it).
//!
//! Lenient about what is missing (every field is optional; `admin.rst`'s own sample lacks
//! several), strict about what is not JSON: non-JSON input is a fatal [`ParseError`], a
//! present field with the wrong type becomes a [`LineIssue`] (`line` 0, message starts with
//! the JSON pointer, as in [`crate::envoy::config_dump`]). Pure: no I/O, no clock.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::config_dump::duration::{self, duration_from_json};
use super::error::{LineIssue, ParseError};

/// Envoy's server state (`ServerInfo.state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerState {
    /// Serving; `/ready` answers 200.
    Live,
    /// Draining listeners (shutdown or hot restart).
    Draining,
    /// Before the init manager runs.
    PreInitializing,
    /// Waiting for the first xDS responses (clusters, listeners).
    Initializing,
    /// A state name this version of meshtop does not know.
    Other(String),
}

impl ServerState {
    fn from_name(name: &str) -> Self {
        match name {
            "LIVE" => ServerState::Live,
            "DRAINING" => ServerState::Draining,
            "PRE_INITIALIZING" => ServerState::PreInitializing,
            "INITIALIZING" => ServerState::Initializing,
            other => ServerState::Other(other.to_string()),
        }
    }
}

impl std::fmt::Display for ServerState {
    /// The name as Envoy prints it (`LIVE`, `PRE_INITIALIZING`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ServerState::Live => "LIVE",
            ServerState::Draining => "DRAINING",
            ServerState::PreInitializing => "PRE_INITIALIZING",
            ServerState::Initializing => "INITIALIZING",
            ServerState::Other(name) => name,
        })
    }
}

/// The parts of Envoy's build string `<revision>/<version>/<status>/<build type>/<ssl>`,
/// e.g. `8a3511…/1.31.0/Clean/RELEASE/BoringSSL`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildVersion {
    pub revision: String,
    /// The release, e.g. `1.31.0` or `1.9.0-dev`.
    pub version: String,
    /// `Clean` or `Modified`.
    pub status: Option<String>,
    /// `RELEASE` or `DEBUG`.
    pub build_type: Option<String>,
    /// `BoringSSL`, `BoringSSL-FIPS`, `OpenSSL`.
    pub ssl: Option<String>,
}

/// An Istio proxy node id `<type>~<ip>~<pod>.<namespace>~<namespace>.svc.<domain>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IstioNode {
    /// `sidecar`, `router` (gateways), `waypoint`, …
    pub proxy_type: String,
    pub ip: String,
    pub pod: String,
    pub namespace: String,
    /// The DNS domain after the namespace, e.g. `ns.svc.cluster.local`.
    pub dns_domain: String,
}

/// What `/server_info` says. Missing fields are `None`; empty strings (Envoy prints `""`
/// for unset command-line options) are `None` too.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerInfo {
    /// The raw build string.
    pub version: Option<String>,
    pub build: Option<BuildVersion>,
    /// `node.user_agent_build_version` as `major.minor.patch` (see [`Self::envoy_version`]).
    pub user_agent_version: Option<String>,
    pub state: Option<ServerState>,
    #[serde(serialize_with = "duration::serialize_opt")]
    pub uptime_current_epoch: Option<Duration>,
    #[serde(serialize_with = "duration::serialize_opt")]
    pub uptime_all_epochs: Option<Duration>,
    pub hot_restart_version: Option<String>,
    pub service_node: Option<String>,
    pub service_cluster: Option<String>,
    pub node_id: Option<String>,
    /// The node id decoded, when it has Istio's four-part form.
    pub istio_node: Option<IstioNode>,
    /// `node.metadata.ISTIO_VERSION`.
    pub istio_version: Option<String>,
    pub issues: Vec<LineIssue>,
}

impl ServerInfo {
    /// The Envoy release (`1.31.0`): from the build string, else from the node's user agent.
    pub fn envoy_version(&self) -> Option<&str> {
        (self.build.as_ref().map(|b| b.version.as_str())).or(self.user_agent_version.as_deref())
    }

    /// The pod name, when the node id has Istio's form.
    pub fn pod_name(&self) -> Option<&str> {
        self.istio_node.as_ref().map(|n| n.pod.as_str())
    }

    /// The pod's namespace, when the node id has Istio's form.
    pub fn pod_namespace(&self) -> Option<&str> {
        self.istio_node.as_ref().map(|n| n.namespace.as_str())
    }
}

/// Parses a `/server_info` response.
pub fn parse_server_info(input: &str) -> Result<ServerInfo, ParseError> {
    if input.trim().is_empty() {
        return Err(ParseError::Empty("server_info"));
    }
    let value: Value = serde_json::from_str(input).map_err(|e| ParseError::from_json(&e))?;
    if !value.is_object() {
        return Err(ParseError::UnknownKind(
            "server_info must be a JSON object".into(),
        ));
    }
    let mut issues = Vec::new();
    let mut text = |pointer: &str| read_text(&value, pointer, &mut issues);
    let version = text("/version");
    let state = text("/state").map(|s| ServerState::from_name(&s));
    let hot_restart_version = text("/hot_restart_version");
    let service_node = text("/command_line_options/service_node");
    let service_cluster = text("/command_line_options/service_cluster");
    let node_id = text("/node/id");
    let istio_version = text("/node/metadata/ISTIO_VERSION");
    let build = version.as_deref().and_then(parse_build_version);
    Ok(ServerInfo {
        uptime_current_epoch: read_duration(&value, "/uptime_current_epoch", &mut issues),
        uptime_all_epochs: read_duration(&value, "/uptime_all_epochs", &mut issues),
        istio_node: node_id.as_deref().and_then(parse_istio_node),
        version,
        build,
        user_agent_version: user_agent_version(&value),
        state,
        hot_restart_version,
        service_node,
        service_cluster,
        node_id,
        istio_version,
        issues,
    })
}

/// A non-empty string at `pointer`; a warning when it has another type.
fn read_text(value: &Value, pointer: &str, issues: &mut Vec<LineIssue>) -> Option<String> {
    match value.pointer(pointer)? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => {
            issues.push(LineIssue {
                line: 0,
                message: format!("{pointer}: expected a string, found {other}"),
            });
            None
        }
    }
}

fn read_duration(value: &Value, pointer: &str, issues: &mut Vec<LineIssue>) -> Option<Duration> {
    let found = value.pointer(pointer).filter(|v| !v.is_null())?;
    match duration_from_json(found) {
        Ok(d) => Some(d),
        Err(e) => {
            issues.push(LineIssue {
                line: 0,
                message: format!("{pointer}: {e}"),
            });
            None
        }
    }
}

/// Splits Envoy's build string; `None` unless it has at least `<revision>/<version>`.
pub fn parse_build_version(text: &str) -> Option<BuildVersion> {
    let mut parts = text.split('/').map(str::trim);
    let revision = parts.next().filter(|s| !s.is_empty())?;
    let version = parts.next().filter(|s| !s.is_empty())?;
    let mut rest = parts.map(str::to_string);
    Some(BuildVersion {
        revision: revision.to_string(),
        version: version.to_string(),
        status: rest.next(),
        build_type: rest.next(),
        ssl: rest.next(),
    })
}

/// `node.user_agent_build_version.version` as `major.minor.patch`.
fn user_agent_version(value: &Value) -> Option<String> {
    let v = value.pointer("/node/user_agent_build_version/version")?;
    let part = |key: &str| v.get(key).and_then(Value::as_u64);
    Some(format!(
        "{}.{}.{}",
        part("major_number")?,
        part("minor_number")?,
        part("patch").unwrap_or(0)
    ))
}

/// Decodes an Istio node id (`sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local`). The namespace
/// is the last dot-separated label of the third part (namespaces have no dots; pod names
/// may) and must start the fourth part.
pub fn parse_istio_node(id: &str) -> Option<IstioNode> {
    let mut parts = id.split('~');
    let (proxy_type, ip, pod_ns, dns_domain) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (pod, namespace) = pod_ns.rsplit_once('.')?;
    let domain_ns = dns_domain.split('.').next()?;
    if proxy_type.is_empty() || pod.is_empty() || namespace.is_empty() || domain_ns != namespace {
        return None;
    }
    Some(IstioNode {
        proxy_type: proxy_type.to_string(),
        ip: ip.to_string(),
        pod: pod.to_string(),
        namespace: namespace.to_string(),
        dns_domain: dns_domain.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample from Envoy's `docs/root/operations/admin.rst` (`/server_info`).
    const ADMIN_RST_SAMPLE: &str = r#"{
      "version": "b050513e840aa939a01f89b07c162f00ab3150eb/1.9.0-dev/Modified/DEBUG",
      "state": "LIVE",
      "command_line_options": {
        "base_id": "0", "concurrency": 8, "config_path": "config.yaml",
        "hot_restart_version": false, "service_cluster": "", "service_node": "",
        "mode": "Serve", "restart_epoch": 0, "drain_time": "600s"
      },
      "uptime_current_epoch": "6s",
      "uptime_all_epochs": "6s",
      "node": {
        "id": "node1", "cluster": "cluster1", "user_agent_name": "envoy",
        "user_agent_build_version": {"version": {"major_number": 1, "minor_number": 15, "patch": 0}},
        "metadata": {}, "extensions": [], "client_features": [], "listening_addresses": []
      }
    }"#;

    #[test]
    fn admin_rst_sample() {
        let info = parse_server_info(ADMIN_RST_SAMPLE).unwrap();
        let build = BuildVersion {
            revision: "b050513e840aa939a01f89b07c162f00ab3150eb".into(),
            version: "1.9.0-dev".into(),
            status: Some("Modified".into()),
            build_type: Some("DEBUG".into()),
            ssl: None,
        };
        assert_eq!(info.build, Some(build));
        assert_eq!(info.envoy_version(), Some("1.9.0-dev"));
        assert_eq!(info.user_agent_version.as_deref(), Some("1.15.0"));
        assert_eq!(info.state, Some(ServerState::Live));
        assert_eq!(info.uptime_current_epoch, Some(Duration::from_secs(6)));
        assert_eq!(info.uptime_all_epochs, Some(Duration::from_secs(6)));
        assert_eq!(
            info.hot_restart_version, None,
            "the sample has only the CLI flag"
        );
        assert_eq!((info.service_node, info.service_cluster), (None, None));
        assert_eq!(info.node_id.as_deref(), Some("node1"));
        assert_eq!((info.istio_node, info.istio_version), (None, None));
        assert!(info.issues.is_empty(), "{:?}", info.issues);
    }

    #[test]
    fn istio_sidecar_node_and_metadata() {
        let input = r#"{
            "version": "8a3511baac4f20ff7761c2efaf13e2dbda7901ca/1.31.0/Clean/RELEASE/BoringSSL",
            "state": "DRAINING",
            "hot_restart_version": "11.104",
            "uptime_current_epoch": "0.500s",
            "command_line_options": {"service_node": "sidecar~10.0.0.1~reviews-v1-7bbd.prod~prod.svc.cluster.local",
                                     "service_cluster": "reviews.prod"},
            "node": {"id": "sidecar~10.0.0.1~reviews-v1-7bbd.prod~prod.svc.cluster.local",
                     "metadata": {"ISTIO_VERSION": "1.21.0"}}
        }"#;
        let info = parse_server_info(input).unwrap();
        assert_eq!(info.envoy_version(), Some("1.31.0"));
        assert_eq!(
            info.build.as_ref().and_then(|b| b.ssl.as_deref()),
            Some("BoringSSL")
        );
        assert_eq!(info.state, Some(ServerState::Draining));
        assert_eq!(info.hot_restart_version.as_deref(), Some("11.104"));
        assert_eq!(info.uptime_current_epoch, Some(Duration::from_millis(500)));
        assert_eq!(info.uptime_all_epochs, None);
        assert_eq!(info.service_cluster.as_deref(), Some("reviews.prod"));
        assert_eq!(info.istio_version.as_deref(), Some("1.21.0"));
        let node = IstioNode {
            proxy_type: "sidecar".into(),
            ip: "10.0.0.1".into(),
            pod: "reviews-v1-7bbd".into(),
            namespace: "prod".into(),
            dns_domain: "prod.svc.cluster.local".into(),
        };
        assert_eq!(info.istio_node, Some(node));
        assert_eq!(
            (info.pod_name(), info.pod_namespace()),
            (Some("reviews-v1-7bbd"), Some("prod"))
        );
    }

    #[test]
    fn istio_node_ids_are_checked() {
        let gw = parse_istio_node(
            "router~10.1.2.3~istio-ingressgateway-5d.istio-system~istio-system.svc.cluster.local",
        );
        assert_eq!(
            gw.map(|n| (n.proxy_type, n.pod)),
            Some(("router".into(), "istio-ingressgateway-5d".into()))
        );
        let dotted = parse_istio_node("sidecar~::1~web.v2.shop~shop.svc.cluster.local").unwrap();
        assert_eq!((dotted.ip.as_str(), dotted.pod.as_str()), ("::1", "web.v2"));
        for bad in [
            "node1",
            "sidecar~ip~podns~ns.svc",
            "sidecar~ip~pod.ns~other.svc",
            "a~b~c.d~d~e",
            "~ip~p.ns~ns.svc",
        ] {
            assert_eq!(parse_istio_node(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_state_and_lenient_fields() {
        for (name, state) in [
            ("PRE_INITIALIZING", ServerState::PreInitializing),
            ("INITIALIZING", ServerState::Initializing),
            ("LIVE", ServerState::Live),
            ("HIBERNATING", ServerState::Other("HIBERNATING".into())),
        ] {
            let info = parse_server_info(&format!(r#"{{"state": "{name}"}}"#)).unwrap();
            assert_eq!(info.state.as_ref(), Some(&state));
            assert_eq!(state.to_string(), name);
        }
        let info =
            parse_server_info(r#"{"version": "garbage", "uptime_all_epochs": "6 s", "state": 1}"#)
                .unwrap();
        assert_eq!((&info.build, info.envoy_version()), (&None, None));
        assert_eq!(info.version.as_deref(), Some("garbage"));
        let messages: Vec<&str> = info.issues.iter().map(|i| i.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "/state: expected a string, found 1",
                "/uptime_all_epochs: invalid duration \"6 s\" (expected e.g. \"1.5s\")",
            ]
        );
    }

    #[test]
    fn non_json_is_fatal() {
        assert_eq!(
            parse_server_info(" \n"),
            Err(ParseError::Empty("server_info"))
        );
        let err = parse_server_info("LIVE\n").unwrap_err();
        assert_eq!(err.line(), 1);
        assert!(matches!(err, ParseError::Syntax { .. }), "{err:?}");
        assert!(matches!(
            parse_server_info("[1]"),
            Err(ParseError::UnknownKind(_))
        ));
    }

    #[test]
    fn serializes_durations_as_protobuf_strings() {
        let info =
            parse_server_info(r#"{"uptime_current_epoch": "90s", "state": "LIVE"}"#).unwrap();
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["uptime_current_epoch"], "90s");
        assert_eq!(json["uptime_all_epochs"], serde_json::Value::Null);
        assert_eq!(json["state"], "live");
    }

    #[test]
    fn wrong_types_in_any_field_never_panic() {
        let sample: serde_json::Value = serde_json::from_str(ADMIN_RST_SAMPLE).unwrap();
        let paths = [
            "/version",
            "/state",
            "/uptime_current_epoch",
            "/uptime_all_epochs",
            "/command_line_options",
            "/command_line_options/service_node",
            "/node",
            "/node/id",
            "/node/metadata",
            "/node/user_agent_build_version/version",
            "/node/user_agent_build_version/version/major_number",
        ];
        let swaps = [
            serde_json::json!(null),
            serde_json::json!(-1),
            serde_json::json!([]),
            serde_json::json!({"seconds": "x"}),
            serde_json::json!("~~~~"),
            serde_json::json!("/"),
        ];
        for path in paths {
            for swap in &swaps {
                let mut mutated = sample.clone();
                *mutated.pointer_mut(path).unwrap() = swap.clone();
                let info = parse_server_info(&mutated.to_string()).unwrap();
                assert!(info.issues.iter().all(|i| i.line == 0));
            }
        }
    }
}
