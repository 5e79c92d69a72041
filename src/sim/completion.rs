//! The end of a request: charging its outcome to the client's outbound cluster, the server's
//! inbound cluster and both sidecars' `istio_requests_total`, when it happens (see `call.rs`
//! for how the outcome is decided).

use super::call::RESPONSE_BYTES;
use super::cluster_state::HostCounters;
use super::counter::Counter;
use super::runtime::{ClientResult, IstioSeries, ServerResult};
use super::traffic::Simulation;

/// Who a request went between.
#[derive(Debug, Clone, Copy)]
struct Peers {
    client: usize,
    server: Option<usize>,
    route: usize,
}

impl HostCounters {
    /// A response charged to the host: `rq_error` for 5xx, else `rq_success`.
    fn count_response(&mut self, code: u16) {
        if code >= 500 {
            self.rq_error += 1;
        } else {
            self.rq_success += 1;
        }
    }
}

impl Simulation {
    /// Charges a finished request to the client's cluster and `istio_requests_total`; `host`
    /// is (slot when the request started, pod).
    pub(super) fn finish_client(
        &mut self,
        pod: usize,
        slot: usize,
        host: Option<(usize, usize)>,
        result: ClientResult,
    ) {
        let route = self.proxies[pod].outbound[slot].route;
        let c = self.cluster(pod, slot);
        let (code, flags) = match result {
            ClientResult::Response { code, latency_ms } => {
                c.rq_time.record(latency_ms);
                c.add(Counter::CxRxBytesTotal, RESPONSE_BYTES);
                (code, "-")
            }
            ClientResult::LocalReply { flags } => (503, flags),
            ClientResult::Timeout => {
                c.inc(Counter::RqTimeout);
                c.inc(Counter::RqTxReset);
                (504, "UT")
            }
            ClientResult::ConnReset => {
                c.inc(Counter::RqPendingFailureEject);
                (503, "UC")
            }
        };
        c.count_code(code);
        let found = host.and_then(|(hint, p)| c.host_slot_near(hint, p));
        if let Some(h) = found.map(|i| &mut c.hosts[i].stats) {
            h.rq_timeout += u64::from(result == ClientResult::Timeout);
            h.count_response(code);
        }
        let peers = Peers {
            client: pod,
            server: host.map(|h| h.1),
            route,
        };
        self.record_istio(pod, true, peers, code, flags);
    }

    /// Charges a finished request to the server's inbound cluster and `istio_requests_total`
    /// (a downstream disconnect has code 0 and charges no response).
    pub(super) fn finish_server(
        &mut self,
        pod: usize,
        client: usize,
        route: usize,
        result: ServerResult,
    ) {
        let c = &mut self.proxies[pod].inbound;
        let (code, flags) = match result {
            ServerResult::Response { code, latency_ms } => {
                c.rq_time.record(latency_ms);
                c.add(Counter::CxRxBytesTotal, RESPONSE_BYTES);
                (code, "-")
            }
            ServerResult::AppClosed => {
                c.inc(Counter::RqPendingFailureEject);
                (503, "UC")
            }
            ServerResult::Disconnected => {
                c.inc(Counter::RqTxReset);
                (0, "DC")
            }
        };
        if code != 0 {
            c.count_code(code);
            if let Some(h) = c.hosts.first_mut() {
                h.stats.count_response(code);
            }
        }
        let peers = Peers {
            client,
            server: Some(pod),
            route,
        };
        self.record_istio(pod, false, peers, code, flags);
    }

    /// Counts one request in `istio_requests_total` of the sidecar of `at`.
    fn record_istio(
        &mut self,
        at: usize,
        by_source: bool,
        p: Peers,
        code: u16,
        flags: &'static str,
    ) {
        let key = IstioSeries {
            source_reporter: by_source,
            client: self.roles[p.client].deployment,
            server: p.server.map(|s| self.roles[s].deployment),
            service: self.routes[p.route].to,
            code,
            flags,
            count: 0,
        };
        let series = &mut self.proxies[at].istio;
        match series
            .iter_mut()
            .find(|s| IstioSeries { count: 0, ..**s } == key)
        {
            Some(s) => s.count += 1,
            None => series.push(IstioSeries { count: 1, ..key }),
        }
    }
}
