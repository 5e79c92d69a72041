//! A small hand-built sidecar for the renderers' unit tests: one outbound EDS cluster with
//! outlier detection, mTLS, HTTP/2 and an ejected host; one STRICT_DNS cluster with an IPv6
//! host; the bootstrap `xds-grpc` cluster on its pipe.

use std::collections::BTreeMap;

use crate::sim::model::{
    ProxyState, SimCluster, SimClusterConfig, SimHost, SimRoute, StatsInclusion,
};

pub(super) const INVENTORY: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";
pub(super) const STRIPE: &str = "outbound|443||api.stripe.com";

pub(super) fn config(discovery: &str) -> SimClusterConfig {
    SimClusterConfig::istio_default(discovery, false)
}

pub(super) fn host(address: &str, flags: &[&str]) -> SimHost {
    SimHost {
        address: address.into(),
        health_flags: flags.iter().map(|f| f.to_string()).collect(),
        cx_total: 451,
        cx_active: 2,
        cx_connect_fail: 0,
        rq_total: 59_248,
        rq_timeout: 148,
        rq_success: 58_729,
        rq_error: 497,
        rq_active: 13,
        weight: 1,
        zone: "us-east-1b".into(),
    }
}

fn cluster(name: &str, config: SimClusterConfig, hosts: Vec<SimHost>) -> SimCluster {
    SimCluster {
        name: name.into(),
        counters: BTreeMap::new(),
        gauges: BTreeMap::new(),
        histograms: BTreeMap::new(),
        hosts,
        config,
        routes: Vec::new(),
    }
}

fn inventory() -> SimCluster {
    let mut inventory = cluster(
        INVENTORY,
        SimClusterConfig {
            connect_timeout_ms: 2_000,
            idle_timeout_ms: Some(3_600_000),
            http2: true,
            max_connections: 100,
            max_pending_requests: 1024,
            max_requests: 1024,
            max_retries: 3,
            outlier_detection: Some((5, 10_000, 30_000, 10)),
            istio_mtls: true,
            ..config("EDS")
        },
        vec![
            host("10.4.2.7:8080", &[]),
            host("10.4.3.19:8080", &["/failed_outlier_check"]),
        ],
    );
    inventory.routes.push(SimRoute {
        route_config: "8080".into(),
        virtual_host: "inventory-svc.prod.svc.cluster.local:8080".into(),
        domains: vec!["inventory-svc".into()],
        timeout_ms: Some(1_000),
        num_retries: 0,
        per_try_timeout_ms: None,
        retry_on: String::new(),
    });
    inventory
}

pub(super) fn sidecar() -> ProxyState {
    let inventory = inventory();
    let stripe = cluster(
        STRIPE,
        config("STRICT_DNS"),
        vec![host("[2600:1f18::1]:443", &[])],
    );
    let xds_config = SimClusterConfig {
        max_connections: 100_000,
        max_pending_requests: 100_000,
        max_requests: 100_000,
        max_retries: 3,
        http2: true,
        ..config("STATIC")
    };
    let xds = cluster(
        "xds-grpc",
        xds_config,
        vec![host("./etc/istio/proxy/XDS", &[])],
    );
    ProxyState {
        pod: "order-svc-7d9f8b6c5-x2x4q".into(),
        namespace: "prod".into(),
        pod_ip: "10.4.0.5".into(),
        envoy_version: "1.30.4".into(),
        istio_version: "1.22.3".into(),
        uptime_secs: 3630,
        inclusion: StatsInclusion::Full,
        clusters: vec![inventory, stripe, xds],
        proxy_counters: BTreeMap::new(),
        istio_requests: Vec::new(),
    }
}
