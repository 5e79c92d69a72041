//! The simulator's traffic model and scenarios: determinism, monotone counters, internal
//! consistency of every cluster, the signal each scenario must make visible (docs/SCENARIOS.md),
//! Istio objects that load and resolve, and speed at scale.

use std::time::{Duration, Instant};

use meshtop::envoy::{ClusterKey, ClusterKind, Direction};
use meshtop::istio::{ResolveOptions, from_json_objects, resolve};
use meshtop::sim::model::{ProxyState, SimCluster, SimHost, StatsInclusion};
use meshtop::sim::scenario::{ScenarioName, SimConfig};
use meshtop::sim::traffic::Simulation;

const INVENTORY: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";
const PRICING_V2: &str = "outbound|8080|v2|pricing-svc.prod.svc.cluster.local";
const PRICING_V3: &str = "outbound|8080|v3|pricing-svc.prod.svc.cluster.local";
const ORDERS_DB: &str = "outbound|5432||orders-db.prod.svc.cluster.local";
const INBOUND: &str = "inbound|8080||";

fn started(scenario: ScenarioName, t_ms: u64) -> Simulation {
    let cfg = SimConfig {
        scenario,
        seed: 7,
        ..SimConfig::default()
    };
    let mut sim = Simulation::new(&cfg);
    sim.advance_to(t_ms);
    sim
}

/// Every running sidecar's state, with its workload (`order-svc`, `pricing-svc-v2`, …).
fn proxies(sim: &Simulation) -> Vec<ProxyState> {
    (sim.world().pods.iter())
        .filter_map(|p| sim.proxy(&p.namespace, &p.name))
        .collect()
}

fn of_workload<'a>(all: &'a [ProxyState], workload: &str) -> Vec<&'a ProxyState> {
    all.iter()
        .filter(|p| {
            let rest = p.pod.strip_prefix(workload).unwrap_or("");
            // `<workload>-<hash>-<suffix>`: exactly two dashes after the workload name.
            rest.starts_with('-') && rest.matches('-').count() == 2
        })
        .collect()
}

fn cluster<'a>(p: &'a ProxyState, name: &str) -> &'a SimCluster {
    (p.clusters.iter().find(|c| c.name == name))
        .unwrap_or_else(|| panic!("{} has no cluster {name}", p.pod))
}

fn counter(c: &SimCluster, name: &str) -> u64 {
    c.counters.get(name).copied().unwrap_or(0)
}

fn gauge(c: &SimCluster, name: &str) -> u64 {
    *c.gauges
        .get(name)
        .unwrap_or_else(|| panic!("{} has no gauge {name}", c.name))
}

fn sum_over(ps: &[&ProxyState], cluster_name: &str, stat: &str) -> u64 {
    ps.iter()
        .map(|p| counter(cluster(p, cluster_name), stat))
        .sum()
}

fn istio_count(p: &ProxyState, reporter: &str, code: u16, flags: &str) -> u64 {
    (p.istio_requests.iter())
        .filter(|r| r.reporter == reporter && r.response_code == code && r.response_flags == flags)
        .map(|r| r.count)
        .sum()
}

/// Records `what` when the two sides differ.
fn check(out: &mut Vec<String>, what: &str, left: u64, right: u64) {
    if left != right {
        out.push(format!("{what}: {left} != {right}"));
    }
}

/// Connection and membership invariants of every cluster.
fn connection_violations(c: &SimCluster) -> Vec<String> {
    let n = |s: &str| counter(c, s);
    let mut out = Vec::new();
    let with_rq = n("upstream_cx_destroy_local_with_active_rq")
        + n("upstream_cx_destroy_remote_with_active_rq");
    let what = "destroy_with_active_rq = local + remote";
    check(
        &mut out,
        what,
        n("upstream_cx_destroy_with_active_rq"),
        with_rq,
    );
    let destroyed = n("upstream_cx_destroy_local") + n("upstream_cx_destroy_remote");
    check(
        &mut out,
        "destroy = local + remote",
        n("upstream_cx_destroy"),
        destroyed,
    );
    let open_or_closed = gauge(c, "upstream_cx_active") + n("upstream_cx_destroy");
    check(
        &mut out,
        "cx_total = active + destroyed",
        n("upstream_cx_total"),
        open_or_closed,
    );
    let hosts = c.hosts.len() as u64;
    check(
        &mut out,
        "membership_total = hosts",
        gauge(c, "membership_total"),
        hosts,
    );
    let healthy = c.hosts.iter().filter(|h| h.health_flags.is_empty()).count() as u64;
    let what = "membership_healthy = unflagged hosts";
    check(&mut out, what, gauge(c, "membership_healthy"), healthy);
    out
}

/// Request invariants: every request is charged once, as completed, reset or in flight.
fn request_violations(c: &SimCluster) -> Vec<String> {
    let n = |s: &str| counter(c, s);
    let mut out = Vec::new();
    let classes = n("upstream_rq_2xx") + n("upstream_rq_4xx") + n("upstream_rq_5xx");
    let completed = n("upstream_rq_completed");
    check(&mut out, "2xx+4xx+5xx = completed", classes, completed);
    let in_flight = gauge(c, "upstream_rq_active") + gauge(c, "upstream_rq_pending_active");
    if c.name.starts_with("outbound|") {
        let local = n("upstream_rq_pending_overflow") + n("upstream_cx_none_healthy");
        let what = "rq_total + overflow + none_healthy = completed + in flight";
        check(
            &mut out,
            what,
            n("upstream_rq_total") + local,
            completed + in_flight,
        );
    } else if c.name.starts_with("inbound|") {
        let ended = completed + n("upstream_rq_tx_reset") + in_flight;
        let what = "inbound rq_total = completed + reset + active";
        check(&mut out, what, n("upstream_rq_total"), ended);
    }
    out
}

/// Per-host `/clusters` stats add up to the cluster's (real Envoy loses a host's stats when
/// the endpoint leaves, as in `churn`).
fn host_violations(c: &SimCluster) -> Vec<String> {
    let hosts = |f: fn(&SimHost) -> u64| c.hosts.iter().map(f).sum::<u64>();
    let mut out = Vec::new();
    check(
        &mut out,
        "host rq_total sum",
        hosts(|h| h.rq_total),
        counter(c, "upstream_rq_total"),
    );
    check(
        &mut out,
        "host cx_total sum",
        hosts(|h| h.cx_total),
        counter(c, "upstream_cx_total"),
    );
    check(
        &mut out,
        "host rq_timeout sum",
        hosts(|h| h.rq_timeout),
        counter(c, "upstream_rq_timeout"),
    );
    check(
        &mut out,
        "host cx_active sum",
        hosts(|h| h.cx_active),
        gauge(c, "upstream_cx_active"),
    );
    check(
        &mut out,
        "host rq_active sum",
        hosts(|h| h.rq_active),
        gauge(c, "upstream_rq_active"),
    );
    out
}

/// Every invariant of one sidecar, as `pod cluster: what: left != right` lines.
fn violations(p: &ProxyState, per_host: bool) -> Vec<String> {
    let mut out = Vec::new();
    for c in &p.clusters {
        let mut found = connection_violations(c);
        found.extend(request_violations(c));
        if per_host {
            found.extend(host_violations(c));
        }
        out.extend(
            found
                .into_iter()
                .map(|v| format!("{} {}: {v}", p.pod, c.name)),
        );
    }
    let sourced: u64 = (p.istio_requests.iter().filter(|r| r.reporter == "source"))
        .map(|r| r.count)
        .sum();
    let outbound_done: u64 = (p
        .clusters
        .iter()
        .filter(|c| c.name.starts_with("outbound|")))
    .map(|c| counter(c, "upstream_rq_completed"))
    .sum();
    check(
        &mut out,
        &format!(
            "{}: source istio_requests_total vs outbound completed",
            p.pod
        ),
        sourced,
        outbound_done,
    );
    out
}

#[test]
fn same_seed_gives_the_same_mesh_however_the_clock_is_advanced() {
    let once = started(ScenarioName::GrpcKeepalive, 60_000);
    let mut steps = started(ScenarioName::GrpcKeepalive, 10_500);
    steps.advance_to(35_000);
    steps.advance_to(60_000);
    assert_eq!(once.world(), steps.world());
    assert_eq!(proxies(&once), proxies(&steps));
    assert_eq!(once.now_ms(), 60_000);
    steps.advance_to(30_000);
    assert_eq!(steps.now_ms(), 60_000, "the clock never goes back");
    assert_eq!(proxies(&once), proxies(&steps));
}

#[test]
fn another_seed_gives_other_names_and_numbers() {
    let a = started(ScenarioName::GrpcKeepalive, 30_000);
    let cfg = SimConfig {
        seed: 8,
        ..SimConfig::default()
    };
    let mut b = Simulation::new(&cfg);
    b.advance_to(30_000);
    assert_ne!(a.world().pods[0].name, b.world().pods[0].name);
    let totals = |sim: &Simulation| -> Vec<u64> {
        let all = proxies(sim);
        of_workload(&all, "order-svc")
            .iter()
            .map(|p| counter(cluster(p, INVENTORY), "upstream_rq_total"))
            .collect()
    };
    assert_ne!(totals(&a), totals(&b));
}

#[test]
fn every_scenario_keeps_its_counters_consistent() {
    for name in ScenarioName::ALL {
        let t = if name == ScenarioName::Churn {
            610_000
        } else {
            60_000
        };
        let sim = started(name, t);
        let all = proxies(&sim);
        assert!(all.len() >= 9, "{name}: {} proxies up", all.len());
        let problems: Vec<String> = all
            .iter()
            .flat_map(|p| violations(p, name != ScenarioName::Churn))
            .collect();
        assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
        for p in &all {
            for c in &p.clusters {
                let key = ClusterKey::parse(&c.name);
                assert!(
                    !matches!(key.kind, ClusterKind::Plain),
                    "{name}: {} is not an Istio/special name",
                    c.name
                );
            }
        }
    }
}

#[test]
fn counters_only_grow_while_no_proxy_restarts() {
    for name in [
        ScenarioName::GrpcKeepalive,
        ScenarioName::CircuitBreaker,
        ScenarioName::OutlierEjection,
    ] {
        let mut sim = started(name, 30_000);
        let before = proxies(&sim);
        sim.advance_to(90_000);
        let after = proxies(&sim);
        for (b, a) in before.iter().zip(&after) {
            assert_eq!(a.uptime_secs, b.uptime_secs + 60);
            for (cb, ca) in b.clusters.iter().zip(&a.clusters) {
                assert_eq!(cb.name, ca.name);
                for (stat, &v) in &cb.counters {
                    let later = counter(ca, stat);
                    assert!(
                        later >= v,
                        "{name} {} {} {stat}: {v} -> {later}",
                        b.pod,
                        cb.name
                    );
                }
            }
        }
    }
}

#[test]
fn churn_restarts_one_sidecar_at_a_time_and_resets_its_counters() {
    let mut sim = started(ScenarioName::Churn, 119_000);
    let first = sim.world().pods[0].name.clone();
    let order = "outbound|8080||order-svc.prod.svc.cluster.local";
    let before = sim.proxy("prod", &first).expect("up before its restart");
    assert_eq!(before.uptime_secs, 119);
    let sent = counter(cluster(&before, order), "upstream_rq_total");
    assert!(sent > 1000, "{sent}");
    sim.advance_to(125_000);
    assert!(
        sim.proxy("prod", &first).is_none(),
        "admin port refuses while restarting"
    );
    let pod = &sim.world().pods[0];
    assert_eq!((pod.ready, pod.restarts), (false, 1));
    assert_eq!(sim.world().pods.iter().filter(|p| !p.ready).count(), 1);
    sim.advance_to(131_000);
    let after = sim.proxy("prod", &first).expect("back after 10 s");
    assert_eq!(after.uptime_secs, 1);
    assert!(counter(cluster(&after, order), "upstream_rq_total") < sent / 50);
    assert!(sim.world().pods[0].ready);
    // 360 s: the first order-svc pod restarts; frontends lose their connections to it.
    sim.advance_to(371_000);
    let all = proxies(&sim);
    let frontends = of_workload(&all, "frontend");
    assert!(sum_over(&frontends, order, "upstream_cx_destroy_remote") > 0);
    assert!(
        frontends
            .iter()
            .all(|p| counter(cluster(p, order), "membership_change") >= 3)
    );
    let restarts: Vec<u32> = sim.world().pods.iter().map(|p| p.restarts).collect();
    assert_eq!(restarts, vec![1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn grpc_keepalive_clients_see_timeouts_on_inventory_only() {
    let sim = started(ScenarioName::GrpcKeepalive, 60_000);
    let all = proxies(&sim);
    let orders = of_workload(&all, "order-svc");
    assert_eq!(orders.len(), 2);
    for p in &orders {
        let inv = cluster(p, INVENTORY);
        assert!(counter(inv, "upstream_rq_timeout") > 0, "{}", p.pod);
        assert_eq!(
            counter(inv, "upstream_rq_timeout"),
            counter(inv, "upstream_rq_504")
        );
        assert_eq!(
            counter(inv, "upstream_rq_timeout"),
            istio_count(p, "source", 504, "UT")
        );
        assert!(inv.hosts.iter().map(|h| h.rq_timeout).sum::<u64>() > 0);
        assert!(inv.config.http2);
        assert_eq!(inv.config.idle_timeout_ms, Some(3_600_000));
        assert_eq!(inv.routes.len(), 1);
        assert_eq!(
            (inv.routes[0].timeout_ms, inv.routes[0].num_retries),
            (Some(1000), 0)
        );
        let pricing = cluster(p, PRICING_V2);
        assert!(counter(pricing, "upstream_rq_2xx") > 500);
        assert_eq!(
            counter(pricing, "upstream_rq_timeout") + counter(pricing, "upstream_rq_5xx"),
            0
        );
        assert_eq!(gauge(cluster(p, ORDERS_DB), "upstream_cx_active"), 4);
        assert!(counter(cluster(p, ORDERS_DB), "upstream_cx_tx_bytes_total") > 0);
    }
    let p99 = cluster(orders[0], INVENTORY).histograms["upstream_rq_time"].cumulative[6];
    assert_eq!(p99.0, 99.0);
    assert!(
        p99.1 > 800.0 && p99.1 < 1001.0,
        "timed-out requests are not recorded: {p99:?}"
    );
}

#[test]
fn grpc_keepalive_servers_see_disconnects_and_their_app_closing_connections() {
    let sim = started(ScenarioName::GrpcKeepalive, 60_000);
    let all = proxies(&sim);
    let (orders, inventory) = (
        of_workload(&all, "order-svc"),
        of_workload(&all, "inventory-svc"),
    );
    assert_eq!(inventory.len(), 3);
    assert!(
        sum_over(
            &inventory,
            INBOUND,
            "upstream_cx_destroy_remote_with_active_rq"
        ) > 0
    );
    let dc: u64 = inventory
        .iter()
        .map(|p| istio_count(p, "destination", 0, "DC"))
        .sum();
    let ut: u64 = orders
        .iter()
        .map(|p| istio_count(p, "source", 504, "UT"))
        .sum();
    assert_eq!(
        dc, ut,
        "every client timeout is a downstream disconnect at the server"
    );
    assert_eq!(dc, sum_over(&inventory, INBOUND, "upstream_rq_tx_reset"));
    let uc: u64 = inventory
        .iter()
        .map(|p| istio_count(p, "destination", 503, "UC"))
        .sum();
    assert!(uc > 0);
    assert_eq!(
        uc,
        sum_over(&inventory, INBOUND, "upstream_rq_pending_failure_eject")
    );
    let plain_503: u64 = orders
        .iter()
        .map(|p| istio_count(p, "source", 503, "-"))
        .sum();
    assert_eq!(
        plain_503, uc,
        "the client sees the server sidecar's 503 as a response"
    );
}

#[test]
fn circuit_breaker_overflows_the_pending_queue() {
    let sim = started(ScenarioName::CircuitBreaker, 60_000);
    let all = proxies(&sim);
    for p in of_workload(&all, "order-svc") {
        let c = cluster(p, PRICING_V2);
        assert!(
            counter(c, "upstream_rq_pending_overflow") > 100,
            "{}",
            p.pod
        );
        assert_eq!(
            counter(c, "upstream_rq_pending_overflow"),
            istio_count(p, "source", 503, "UO")
        );
        assert!(counter(c, "upstream_cx_overflow") > 0);
        assert_eq!(gauge(c, "upstream_cx_active"), 1);
        assert_eq!(
            (c.config.max_connections, c.config.max_pending_requests),
            (1, 1)
        );
        assert_eq!(gauge(c, "circuit_breakers.default.remaining_cx"), 0);
    }
}

#[test]
fn mtls_mismatch_closes_every_plaintext_connection() {
    let sim = started(ScenarioName::MtlsMismatch, 60_000);
    let all = proxies(&sim);
    for p in of_workload(&all, "order-svc") {
        let c = cluster(p, PRICING_V2);
        let failed = counter(c, "upstream_cx_destroy_remote_with_active_rq");
        assert!(failed > 100);
        assert_eq!(counter(c, "upstream_rq_pending_failure_eject"), failed);
        assert_eq!(istio_count(p, "source", 503, "UC"), failed);
        assert!(!c.config.istio_mtls);
        assert!(
            !c.counters.contains_key("ssl.handshake"),
            "no TLS transport socket"
        );
        assert!(counter(cluster(p, INVENTORY), "ssl.handshake") > 0);
    }
    let server = of_workload(&all, "pricing-svc-v2")[0];
    assert!(server.proxy_counters["listener.0.0.0.0_15006.no_filter_chain_match"] > 200);
    assert_eq!(counter(cluster(server, INBOUND), "upstream_rq_total"), 0);
}

#[test]
fn no_healthy_upstream_for_a_subset_without_pods() {
    let sim = started(ScenarioName::NoHealthyUpstream, 60_000);
    let all = proxies(&sim);
    for p in of_workload(&all, "order-svc") {
        let c = cluster(p, PRICING_V3);
        assert_eq!(
            (gauge(c, "membership_total"), gauge(c, "membership_healthy")),
            (0, 0)
        );
        assert!(counter(c, "upstream_cx_none_healthy") > 100);
        assert_eq!(
            counter(c, "upstream_cx_none_healthy"),
            istio_count(p, "source", 503, "UH")
        );
        assert!(
            p.istio_requests
                .iter()
                .any(|r| r.response_flags == "UH" && r.destination_workload == "unknown")
        );
        assert_eq!(c.routes.len(), 1, "the VS routes to v3");
        assert!(cluster(p, PRICING_V2).routes.is_empty());
    }
}

#[test]
fn outlier_detection_ejects_the_failing_replica() {
    let sim = started(ScenarioName::OutlierEjection, 60_000);
    let all = proxies(&sim);
    let failing_ip = &sim.world().pods[5].ip; // inventory replica 1
    for p in of_workload(&all, "order-svc") {
        let c = cluster(p, INVENTORY);
        let flagged: Vec<&str> = (c
            .hosts
            .iter()
            .filter(|h| h.health_flags == ["/failed_outlier_check"]))
        .map(|h| h.address.as_str())
        .collect();
        assert_eq!(flagged, vec![format!("{failing_ip}:8080")]);
        assert_eq!(gauge(c, "outlier_detection.ejections_active"), 1);
        assert_eq!(
            (gauge(c, "membership_total"), gauge(c, "membership_healthy")),
            (3, 2)
        );
        assert!(counter(c, "outlier_detection.ejections_enforced_total") >= 2);
        assert!(counter(c, "upstream_rq_500") > 0);
        assert_eq!(c.config.outlier_detection, Some((5, 10_000, 30_000, 50)));
    }
}

#[test]
fn stats_not_enabled_still_shows_host_timeouts() {
    let sim = started(ScenarioName::StatsNotEnabled, 60_000);
    let all = proxies(&sim);
    assert!(
        all.iter()
            .all(|p| p.inclusion == StatsInclusion::IstioDefault)
    );
    assert!(
        sim.world()
            .pods
            .iter()
            .all(|p| !p.annotations.contains_key("proxy.istio.io/config"))
    );
    for p in of_workload(&all, "order-svc") {
        let timeouts: u64 = cluster(p, INVENTORY)
            .hosts
            .iter()
            .map(|h| h.rq_timeout)
            .sum();
        assert!(timeouts > 0);
        assert!(istio_count(p, "source", 504, "UT") > 0);
    }
    let full = started(ScenarioName::GrpcKeepalive, 1000);
    assert!(
        proxies(&full)
            .iter()
            .all(|p| p.inclusion == StatsInclusion::Full)
    );
}

#[test]
fn healthy_mesh_has_no_errors() {
    let sim = started(ScenarioName::Healthy, 120_000);
    let all = proxies(&sim);
    let mut requests = 0;
    for p in &all {
        for c in &p.clusters {
            assert_eq!(
                counter(c, "upstream_rq_5xx") + counter(c, "upstream_rq_timeout"),
                0,
                "{} {}",
                p.pod,
                c.name
            );
            assert_eq!(counter(c, "upstream_cx_destroy_with_active_rq"), 0);
            requests += counter(c, "upstream_rq_2xx");
        }
        assert!(
            p.istio_requests
                .iter()
                .all(|r| r.response_code == 200 && r.response_flags == "-")
        );
    }
    // 60 requests/s, counted by client and server over 120 s.
    assert!(requests > 13_000, "{requests}");
}

#[test]
fn histograms_summarise_like_envoy() {
    let sim = started(ScenarioName::Healthy, 60_000);
    let all = proxies(&sim);
    let h = &cluster(of_workload(&all, "order-svc")[0], INVENTORY).histograms["upstream_rq_time"];
    let percentiles: Vec<f64> = h.cumulative.iter().map(|q| q.0).collect();
    assert_eq!(
        percentiles,
        vec![0.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 100.0]
    );
    assert!(h.cumulative.windows(2).all(|w| w[0].1 <= w[1].1));
    assert_eq!(h.interval.len(), 10, "the 55–60 s interval had traffic");
    assert_eq!(h.buckets.len(), 19);
    assert_eq!(h.buckets.last().map(|b| b.1), Some(h.count));
    assert!(h.buckets.windows(2).all(|w| w[0].1 <= w[1].1));
    let median = h.cumulative[2].1;
    assert!(
        (30.0..60.0).contains(&median),
        "healthy inventory median ≈ 40 ms: {median}"
    );
}

#[test]
fn clusters_per_pod_adds_idle_outbound_clusters() {
    let cfg = SimConfig {
        extra_clusters_per_pod: 50,
        ..SimConfig::default()
    };
    let mut sim = Simulation::new(&cfg);
    sim.advance_to(5000);
    let p = &proxies(&sim)[0];
    assert_eq!(p.clusters.len(), 15 + 50);
    let idle = cluster(p, "outbound|80||svc-49.prod.svc.cluster.local");
    assert_eq!(
        (
            gauge(idle, "membership_total"),
            counter(idle, "upstream_rq_total")
        ),
        (1, 0)
    );
    assert_eq!(idle.hosts[0].address, "10.8.0.50:8080");
    assert!(
        sim.world()
            .services
            .iter()
            .any(|s| s.name == "svc-49" && s.selector.is_empty())
    );
    let names: Vec<&str> = p.clusters.iter().map(|c| c.name.as_str()).collect();
    for special in [
        "BlackHoleCluster",
        "PassthroughCluster",
        "InboundPassthroughCluster",
        "xds-grpc",
        "sds-grpc",
        "agent",
        "prometheus_stats",
        INBOUND,
    ] {
        assert!(names.contains(&special), "{special}");
    }
}

#[test]
fn unknown_pods_have_no_proxy() {
    let sim = started(ScenarioName::Healthy, 0);
    let name = sim.world().pods[0].name.clone();
    assert!(sim.proxy("prod", &name).is_some());
    assert!(sim.proxy("default", &name).is_none());
    assert!(sim.proxy("prod", "nope-7d9f8b6c5-x2x4q").is_none());
}

fn loaded(sim: &Simulation) -> meshtop::istio::IstioConfig {
    let w = sim.world();
    from_json_objects(
        w.destination_rules
            .iter()
            .chain(&w.virtual_services)
            .cloned(),
        "kube",
    )
}

#[test]
fn istio_objects_of_every_scenario_load_cleanly() {
    for name in ScenarioName::ALL {
        let sim = started(name, 0);
        let config = loaded(&sim);
        assert!(config.issues.is_empty(), "{name}: {:?}", config.issues);
        assert_eq!(
            config.destination_rules.len(),
            sim.world().destination_rules.len()
        );
        assert_eq!(
            config.virtual_services.len(),
            sim.world().virtual_services.len()
        );
    }
}

#[test]
fn istio_objects_resolve_to_the_values_the_traffic_obeys() {
    let config = loaded(&started(ScenarioName::GrpcKeepalive, 0));
    let key = ClusterKey::parse(INVENTORY);
    assert_eq!(key.istio().map(|c| c.direction), Some(Direction::Outbound));
    let opts = ResolveOptions::default();
    let policy = resolve(&config, &key, "prod", &opts).expect("outbound");
    assert_eq!(policy.routes.len(), 1);
    assert_eq!(policy.routes[0].timeout.value, Some(Duration::from_secs(1)));
    assert_eq!(
        policy.routes[0].retries.as_ref().map(|r| r.attempts.value),
        Some(0)
    );
    assert_eq!(policy.http_idle_timeout.value, Duration::from_secs(3600));
    let v2 = resolve(&config, &ClusterKey::parse(PRICING_V2), "prod", &opts).expect("outbound");
    assert_eq!(v2.subset.as_deref(), Some("v2"));
    assert_eq!(v2.routes.len(), 1);
}

#[test]
fn two_hundred_pods_for_ten_minutes_run_fast() {
    let start = Instant::now();
    let cfg = SimConfig {
        pods: Some(200),
        ..SimConfig::default()
    };
    let mut sim = Simulation::new(&cfg);
    sim.advance_to(600_000);
    let advanced = start.elapsed();
    let render = Instant::now();
    let all = proxies(&sim);
    println!(
        "200 pods, 10 min virtual: advance {advanced:?}, render all {:?}",
        render.elapsed()
    );
    assert_eq!(all.len(), 200);
    let orders = of_workload(&all, "order-svc");
    assert_eq!(orders.len(), 40);
    assert!(sum_over(&orders, INVENTORY, "upstream_rq_total") > 200_000);
    assert!(sum_over(&orders, INVENTORY, "upstream_rq_timeout") > 0);
    assert_eq!(gauge(cluster(orders[0], INVENTORY), "membership_total"), 60);
    assert!(advanced < Duration::from_secs(30), "{advanced:?}");
}
