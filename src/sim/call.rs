//! One HTTP request through the mesh, from the client's sidecar to the server's app and
//! back, charged the way Envoy charges it (see `docs/SCENARIOS.md` for the table):
//!
//! - no endpoint → `upstream_cx_none_healthy`, local 503 **UH**;
//! - pending queue full → `upstream_rq_pending_overflow`, local 503 **UO**;
//! - plaintext to a STRICT server → the server's listener closes the new connection:
//!   `upstream_cx_destroy_remote_with_active_rq`, `upstream_rq_pending_failure_eject`, 503 **UC**;
//! - route timeout first → client `upstream_rq_timeout`, `upstream_rq_tx_reset`, 504 **UT**;
//!   the server's sidecar sees the stream reset: `upstream_rq_tx_reset`, code 0 **DC**;
//! - the app closes its kept-alive connection first → the server's sidecar answers 503 **UC**
//!   (`upstream_rq_pending_failure_eject`; the connection counts as destroyed remotely with an
//!   active request when the close is processed); the client sees a plain 503;
//! - the server's sidecar restarts first → client 503 **UC** and its connection destroyed
//!   remotely with an active request;
//! - otherwise the app's response (500 from a failing replica, else 200).
//!
//! Not modelled: retries (scenarios whose failures Istio would retry disable them in the VS),
//! per-try timeouts, request hedging.

use super::cluster_state::{Closer, Lease, Wire};
use super::counter::Counter;
use super::outlier::{ejected_count, record_result};
use super::runtime::{ClientResult, Due, Effect, ServerResult};
use super::traffic::{Simulation, TICK_MS};

/// One sidecar-to-sidecar hop (and sidecar to app) in milliseconds.
const HOP_MS: u64 = 1;
pub(super) const REQUEST_BYTES: u64 = 420;
pub(super) const RESPONSE_BYTES: u64 = 680;
/// Response time of a replica that fails fast with 500.
const FAILING_MEDIAN_MS: f64 = 3.0;

/// What will happen to one request, decided when it starts.
struct Exchange {
    attach: u64,
    /// When the client's request ends.
    end: u64,
    client: ClientResult,
    /// (when, server start, result) at the server's sidecar, if it ever sees the request.
    server: Option<(u64, u64, ServerResult)>,
    /// The app's keep-alive close that cuts this request.
    keepalive_cut: Option<u64>,
    /// The server's sidecar restarts while this request is in flight.
    peer_gone: bool,
}

/// Applies the first of (sidecar restart, keep-alive close, route timeout) that happens
/// before the response, if any.
fn interrupt(mut x: Exchange, ts: u64, server_start: u64, events: [Option<u64>; 3]) -> Exchange {
    let [gone, closed, deadline] = events;
    let Some(at) = events.into_iter().flatten().min() else {
        return x;
    };
    x.end = at;
    if Some(at) == gone {
        (x.client, x.server, x.peer_gone) = (ClientResult::ConnReset, None, true);
    } else if Some(at) == closed {
        x.end = at + HOP_MS;
        x.client = ClientResult::Response {
            code: 503,
            latency_ms: x.end - ts,
        };
        x.server = Some((at, server_start, ServerResult::AppClosed));
        x.keepalive_cut = Some(at);
    } else if Some(at) == deadline {
        x.client = ClientResult::Timeout;
        let reset = (at + HOP_MS, server_start, ServerResult::Disconnected);
        x.server = (at >= server_start).then_some(reset);
    }
    x
}

impl Simulation {
    /// This tick's requests of `pod` over its outbound cluster `slot`.
    pub(super) fn run_requests(&mut self, pod: usize, slot: usize, tick: u64) {
        let route = self.proxies[pod].outbound[slot].route;
        let rate = self.scenario.edges[self.routes[route].edge].rate;
        let n = self.rng.poisson(rate * TICK_MS as f64 / 1000.0);
        let mut starts: Vec<u64> = (0..n).map(|_| tick + self.rng.below(TICK_MS)).collect();
        starts.sort_unstable();
        for ts in starts {
            self.run_request(pod, slot, ts);
        }
    }

    fn run_request(&mut self, client: usize, slot: usize, ts: u64) {
        let route = self.proxies[client].outbound[slot].route;
        let Some(host) = self.pick_host(client, slot) else {
            self.cluster(client, slot).inc(Counter::CxNoneHealthy);
            return self.reply_locally(client, slot, None, ts, "UH");
        };
        let server = self.cluster(client, slot).hosts[host].pod;
        let connect_ms = self.connect_ms();
        if self.routes[route].plaintext {
            return self.refuse_plaintext(client, slot, host, ts, connect_ms);
        }
        let limits = self.routes[route].limits;
        let lease = self
            .cluster(client, slot)
            .lease(host, ts, limits, connect_ms);
        let Lease::Attached { conn, start } = lease else {
            return self.reply_locally(client, slot, Some((host, server)), ts, "UO");
        };
        let x = self.plan_exchange(route, server, ts, start);
        self.begin_client(client, slot, host, conn, &x);
        self.begin_server(server, client, route, &x);
    }

    /// A healthy (not ejected) host, uniformly. Istio's `minHealthPercent` 0 disables Envoy's
    /// panic mode, so with every host ejected there is none.
    fn pick_host(&mut self, client: usize, slot: usize) -> Option<usize> {
        let c = &self.proxies[client].outbound[slot].state;
        if self.routes[self.proxies[client].outbound[slot].route]
            .outlier
            .is_none()
        {
            let n = c.hosts.len() as u64;
            return (n > 0).then(|| self.rng.below(n) as usize);
        }
        let healthy = c.hosts.len() - ejected_count(c);
        if healthy == 0 {
            return None;
        }
        let nth = self.rng.below(healthy as u64) as usize;
        let c = &self.proxies[client].outbound[slot].state;
        (c.hosts.iter().enumerate())
            .filter(|(_, h)| !h.outlier.is_ejected())
            .nth(nth)
            .map(|(i, _)| i)
    }

    fn reply_locally(
        &mut self,
        client: usize,
        slot: usize,
        host: Option<(usize, usize)>,
        ts: u64,
        flags: &'static str,
    ) {
        let result = ClientResult::LocalReply { flags };
        self.schedule_client(client, slot, host, ts, ts, result);
    }

    /// `host` is (slot, pod) of the endpoint, if one was chosen.
    fn schedule_client(
        &mut self,
        client: usize,
        slot: usize,
        host: Option<(usize, usize)>,
        attach: u64,
        at: u64,
        result: ClientResult,
    ) {
        let generation = self.proxies[client].generation;
        let effect = Effect::Client {
            slot,
            host,
            attach,
            result,
        };
        self.schedule(Due {
            at,
            pod: client,
            generation,
            effect,
        });
    }

    /// DR `tls.mode: DISABLE` toward a STRICT server: the TCP connection opens, the plaintext
    /// request is sent, and the server's inbound listener (no filter chain for plaintext)
    /// closes the connection.
    fn refuse_plaintext(
        &mut self,
        client: usize,
        slot: usize,
        host: usize,
        ts: u64,
        connect_ms: u64,
    ) {
        let c = self.cluster(client, slot);
        let server = c.hosts[host].pod;
        c.inc(Counter::RqPendingTotal);
        let conn = c.open_conn(host, ts, connect_ms, Wire::Http1);
        c.inc(Counter::RqTotal);
        c.hosts[host].stats.rq_total += 1;
        c.add(Counter::CxTxBytesTotal, REQUEST_BYTES);
        let end = ts + connect_ms + HOP_MS;
        c.close_conn(host, conn, end, Closer::Remote, true);
        self.proxies[server].refused_cx += 1;
        self.schedule_client(
            client,
            slot,
            Some((host, server)),
            ts + connect_ms,
            end,
            ClientResult::ConnReset,
        );
    }

    fn plan_exchange(&mut self, route: usize, server: usize, ts: u64, attach: u64) -> Exchange {
        let r = &self.routes[route];
        let (timeout_ms, svc) = (r.timeout_ms, &self.scenario.services[r.to]);
        let failing = svc
            .failing
            .is_some_and(|(k, n)| self.roles[server].replica % n.max(1) == k);
        let (median, sigma) = (svc.latency.median_ms, svc.latency.sigma());
        let (code, app_ms) = match failing {
            true => (500, self.sample_ms(FAILING_MEDIAN_MS, 0.3)),
            false => (200, self.sample_ms(median, sigma)),
        };
        let server_start = attach + HOP_MS;
        let app_end = server_start + app_ms;
        let natural_end = app_end + HOP_MS;
        let gone = self.restart_in(server, ts, natural_end);
        let closed = self.keepalive_close_in(server, server_start, app_end);
        let deadline = timeout_ms.map(|t| ts + t).filter(|&d| d < natural_end);
        let x = Exchange {
            attach,
            end: natural_end,
            client: ClientResult::Response {
                code,
                latency_ms: natural_end - ts,
            },
            server: Some((
                app_end,
                server_start,
                ServerResult::Response {
                    code,
                    latency_ms: app_ms,
                },
            )),
            keepalive_cut: None,
            peer_gone: false,
        };
        interrupt(x, ts, server_start, [gone, closed, deadline])
    }

    fn begin_client(&mut self, client: usize, slot: usize, host: usize, conn: usize, x: &Exchange) {
        let route = self.proxies[client].outbound[slot].route;
        let (http2, outlier) = (self.routes[route].limits.http2, self.routes[route].outlier);
        let c = self.cluster(client, slot);
        let server = c.hosts[host].pod;
        c.inc(Counter::RqTotal);
        c.add(Counter::CxTxBytesTotal, REQUEST_BYTES);
        c.hosts[host].stats.rq_total += 1;
        if x.peer_gone {
            c.hosts[host].cut += 1;
        }
        if let Some(spec) = outlier {
            let is_5xx = !matches!(x.client, ClientResult::Response { code, .. } if code < 500);
            record_result(c, host, is_5xx, x.end, &spec);
        }
        if !http2 && x.client == ClientResult::Timeout {
            // HTTP/1.1 cannot cancel a request: the connection is reset (HINTS.md R2).
            c.close_conn(host, conn, x.end, Closer::Local, true);
        } else if let Some(cx) = c.hosts[host].conns.get_mut(conn).filter(|_| !http2) {
            cx.busy_until = x.end;
        }
        self.schedule_client(
            client,
            slot,
            Some((host, server)),
            x.attach,
            x.end,
            x.client,
        );
    }

    fn begin_server(&mut self, server: usize, client: usize, route: usize, x: &Exchange) {
        let Some((at, start, result)) = x.server else {
            return;
        };
        let http2 = self.routes[route].limits.http2;
        let rt = &mut self.proxies[server];
        if rt.down_until.is_some() {
            return;
        }
        rt.inbound.inc(Counter::RqTotal);
        rt.inbound.add(Counter::CxTxBytesTotal, REQUEST_BYTES);
        if let Some(host) = rt.inbound.hosts.first_mut() {
            host.stats.rq_total += 1;
        }
        if http2 && rt.inbound.open_conns() == 0 {
            rt.inbound.inc(Counter::RqPendingTotal);
            rt.inbound.open_conn(0, start, 0, Wire::Http2);
        } else if !http2 {
            rt.inbound_busy_ms += at.saturating_sub(start);
        }
        if let Some(close) = x.keepalive_cut {
            match rt.keepalive_cuts.iter_mut().find(|(c, _)| *c == close) {
                Some(entry) => entry.1 += 1,
                None => rt.keepalive_cuts.push((close, 1)),
            }
        }
        let effect = Effect::Server {
            client,
            route,
            start,
            result,
        };
        let generation = rt.generation;
        self.schedule(Due {
            at,
            pod: server,
            generation,
            effect,
        });
    }
}
