//! Who a simulated sidecar is, as several admin outputs must agree: the Envoy build string and
//! the `server.version` number derived from it, Istio's node id and workload name, the xDS
//! version strings and the fixed timestamps of the simulated config pushes.
//!
//! Everything is derived deterministically from the [`ProxyState`]; the simulator has no wall
//! clock. Real Envoy builds carry a git SHA; the emulator makes one from the Envoy version.

use crate::sim::model::ProxyState;

/// Unix seconds of the simulated epoch: 2026-11-26T08:30:00Z (the sample story's start).
pub(super) const SIM_EPOCH_UNIX_SECS: u64 = 1_795_681_800;
/// The simulated epoch as protobuf prints a timestamp.
pub(super) const SIM_EPOCH_RFC3339: &str = "2026-11-26T08:30:00Z";
/// `last_updated` of the bootstrap and static resources in `/config_dump`.
pub(super) const BOOTSTRAP_LOADED: &str = "2026-11-26T08:30:00.398Z";
/// `last_updated` of the dynamic (xDS) resources in `/config_dump`.
pub(super) const XDS_APPLIED: &str = "2026-11-26T08:30:01.118Z";
/// Where Istio's sidecar bootstrap lives (`{{ .config.ConfigPath }}`): the xDS pipe is there.
pub(super) const CONFIG_PATH: &str = "./etc/istio/proxy";

/// The 40-hex-digit source revision the simulated Envoy was "built" from.
pub(super) fn build_sha(state: &ProxyState) -> String {
    let mut seed = fnv1a(format!("envoy-{}", state.envoy_version).as_bytes());
    let mut sha = String::with_capacity(48);
    while sha.len() < 40 {
        sha.push_str(&format!("{seed:016x}"));
        seed = fnv1a(&seed.to_le_bytes());
    }
    sha.truncate(40);
    sha
}

/// Envoy's build string: `<sha>/<version>/Clean/RELEASE/BoringSSL`.
pub(super) fn build_version(state: &ProxyState) -> String {
    format!(
        "{}/{}/Clean/RELEASE/BoringSSL",
        build_sha(state),
        state.envoy_version
    )
}

/// The `server.version` gauge: the first six hex digits of the revision as a number (Envoy
/// 1.30.4's `6b5d6b…` gives 7036267).
pub(super) fn server_version_number(state: &ProxyState) -> u64 {
    let sha = build_sha(state);
    u64::from_str_radix(sha.get(..6).unwrap_or("0"), 16).unwrap_or(0)
}

/// Istio's node id: `sidecar~<pod ip>~<pod>.<namespace>~<namespace>.svc.cluster.local`.
pub(super) fn node_id(state: &ProxyState) -> String {
    format!(
        "sidecar~{}~{}.{}~{}.svc.cluster.local",
        state.pod_ip, state.pod, state.namespace, state.namespace
    )
}

/// The workload a pod belongs to: the pod name without the ReplicaSet and pod hashes
/// (`order-svc-7d9f8b6c5-x2x4q` → `order-svc`); names without them are kept.
pub(super) fn workload_name(pod: &str) -> &str {
    let mut parts = pod.rsplitn(3, '-');
    let (Some(pod_hash), Some(rs_hash), Some(rest)) = (parts.next(), parts.next(), parts.next())
    else {
        return pod;
    };
    let alnum = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric());
    let rs_like = (6..=10).contains(&rs_hash.len()) && rs_hash.chars().any(|c| c.is_ascii_digit());
    if pod_hash.len() == 5 && alnum(pod_hash) && alnum(rs_hash) && rs_like {
        rest
    } else {
        pod
    }
}

/// Istio's node cluster (`--serviceCluster`): `<workload>.<namespace>`.
pub(super) fn node_cluster(state: &ProxyState) -> String {
    format!("{}.{}", workload_name(&state.pod), state.namespace)
}

/// The number of worker threads: `server.concurrency` from the state, else Istio's 2.
pub(super) fn concurrency(state: &ProxyState) -> u64 {
    (state.proxy_counters.get("server.concurrency").copied()).unwrap_or(2)
}

/// How many CDS updates the proxy accepted (`cluster_manager.cds.update_success`, at least 1).
pub(super) fn cds_updates(state: &ProxyState) -> u64 {
    (state
        .proxy_counters
        .get("cluster_manager.cds.update_success")
        .copied())
    .unwrap_or(1)
    .max(1)
}

/// Istio's xDS version string, `<push time>/<push number>`; the push number is the count of
/// accepted CDS updates.
pub(super) fn xds_version(state: &ProxyState) -> String {
    format!("{SIM_EPOCH_RFC3339}/{}", cds_updates(state))
}

/// FNV-1a, 64 bit: a stable hash for derived identifiers (never for security).
pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::model::StatsInclusion;

    fn state() -> ProxyState {
        ProxyState {
            pod: "order-svc-7d9f8b6c5-x2x4q".into(),
            namespace: "prod".into(),
            pod_ip: "10.4.0.5".into(),
            envoy_version: "1.30.4".into(),
            istio_version: "1.22.3".into(),
            uptime_secs: 3630,
            inclusion: StatsInclusion::Full,
            clusters: Vec::new(),
            proxy_counters: Default::default(),
            istio_requests: Vec::new(),
        }
    }

    #[test]
    fn build_string_and_version_number_agree() {
        let s = state();
        let sha = build_sha(&s);
        assert_eq!(sha.len(), 40);
        assert!(sha.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            build_version(&s),
            format!("{sha}/1.30.4/Clean/RELEASE/BoringSSL")
        );
        let number = server_version_number(&s);
        assert_eq!(format!("{number:06x}"), sha[..6]);
        assert_eq!(build_sha(&s), sha, "deterministic");
    }

    #[test]
    fn istio_identity() {
        let s = state();
        assert_eq!(
            node_id(&s),
            "sidecar~10.4.0.5~order-svc-7d9f8b6c5-x2x4q.prod~prod.svc.cluster.local"
        );
        assert_eq!(node_cluster(&s), "order-svc.prod");
        assert_eq!(workload_name("ratings-v1-5f9699cfdf-lw8pm"), "ratings-v1");
        assert_eq!(workload_name("db-0"), "db-0");
        assert_eq!(workload_name("api-gateway-proxy"), "api-gateway-proxy");
        assert_eq!(workload_name("plain"), "plain");
        assert_eq!(xds_version(&s), "2026-11-26T08:30:00Z/1");
        assert_eq!(concurrency(&s), 2);
    }
}
