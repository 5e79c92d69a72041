//! The moving parts of one Envoy cluster in one simulated sidecar: the counters that traffic
//! increments, response-code counts, histograms, and per host the `/clusters` counters, the
//! open connections and outlier-detection state.
//!
//! The connection pool follows Envoy's rules closely enough for the circuit-breaker stats:
//! HTTP/1.1 uses one connection per in-flight request, HTTP/2 multiplexes one connection per
//! host; `maxConnections` counts across all hosts of the cluster; a request that finds no free
//! connection and may not open one counts `upstream_cx_overflow` and waits in the pending
//! queue, or fails with `upstream_rq_pending_overflow` when the queue is full.

use super::counter::{COUNTERS, Counter};
use super::histogram::Histogram;
use super::outlier::OutlierHost;

/// A host's counters as `/clusters` prints them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostCounters {
    pub cx_total: u64,
    pub cx_connect_fail: u64,
    pub rq_total: u64,
    pub rq_timeout: u64,
    pub rq_success: u64,
    pub rq_error: u64,
}

/// One open upstream connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conn {
    pub opened_at: u64,
    /// HTTP/1.1: the end of the request using it (free from then on).
    pub busy_until: u64,
}

/// One endpoint of the cluster (a pod of the destination; the app itself for inbound).
#[derive(Debug, Clone, PartialEq)]
pub struct HostState {
    /// Index of the pod in `World::pods`.
    pub pod: usize,
    pub stats: HostCounters,
    pub conns: Vec<Conn>,
    pub outlier: OutlierHost,
    /// Requests cut by this host's sidecar going away (counted when it goes).
    pub cut: u32,
}

/// Connection-pool limits of a cluster (DestinationRule `connectionPool`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLimits {
    pub max_connections: u64,
    pub max_pending: u64,
    pub http2: bool,
}

/// What a connection carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Http1,
    Http2,
    Tcp,
}

/// Which side closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closer {
    Local,
    Remote,
}

/// Where a request got a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// On connection `conn` of the host, starting at `start` (later than asked when it had to
    /// wait for a new connection or in the pending queue).
    Attached { conn: usize, start: u64 },
    /// Rejected by the pending-requests circuit breaker.
    Overflow,
}

/// One cluster's state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterState {
    counters: [u64; COUNTERS],
    /// Completed requests by response code (`upstream_rq_<code>`), sorted by code.
    pub codes: Vec<(u16, u64)>,
    pub rq_time: Histogram,
    pub cx_connect: Histogram,
    pub cx_length: Histogram,
    pub hosts: Vec<HostState>,
    /// Start times of requests that waited in the pending queue.
    pub pending: Vec<u64>,
    /// The endpoints version the host list was built from.
    pub synced: u64,
}

impl ClusterState {
    pub fn get(&self, c: Counter) -> u64 {
        self.counters[c as usize]
    }

    pub fn add(&mut self, c: Counter, n: u64) {
        self.counters[c as usize] += n;
    }

    pub fn inc(&mut self, c: Counter) {
        self.add(c, 1);
    }

    /// Counts a completed request's response code.
    pub fn count_code(&mut self, code: u16) {
        let mut i = 0;
        while i < self.codes.len() && self.codes[i].0 < code {
            i += 1;
        }
        match self.codes.get_mut(i) {
            Some(entry) if entry.0 == code => entry.1 += 1,
            _ => self.codes.insert(i, (code, 1)),
        }
    }

    /// `upstream_rq_completed`: every charged response code.
    pub fn completed(&self) -> u64 {
        self.codes.iter().map(|&(_, n)| n).sum()
    }

    pub fn host_slot(&self, pod: usize) -> Option<usize> {
        self.hosts.iter().position(|h| h.pod == pod)
    }

    /// [`Self::host_slot`] checking slot `hint` first (where the host was when the request
    /// started).
    pub fn host_slot_near(&self, hint: usize, pod: usize) -> Option<usize> {
        match self.hosts.get(hint) {
            Some(h) if h.pod == pod => Some(hint),
            _ => self.host_slot(pod),
        }
    }

    pub fn open_conns(&self) -> u64 {
        self.hosts.iter().map(|h| h.conns.len() as u64).sum()
    }

    /// Replaces the host list with `pods`, keeping the state of hosts that stay (an endpoint
    /// that leaves and comes back starts with fresh stats, as in Envoy).
    pub fn sync_hosts(&mut self, pods: &[usize], version: u64) {
        self.synced = version;
        let same =
            pods.len() == self.hosts.len() && pods.iter().all(|&p| self.host_slot(p).is_some());
        if same {
            return;
        }
        let mut old = std::mem::take(&mut self.hosts);
        self.hosts = (pods.iter())
            .map(|&pod| match old.iter().position(|h| h.pod == pod) {
                Some(i) => old.swap_remove(i),
                None => HostState {
                    pod,
                    stats: HostCounters::default(),
                    conns: Vec::new(),
                    outlier: OutlierHost::default(),
                    cut: 0,
                },
            })
            .collect();
        self.inc(Counter::MembershipChange);
    }

    /// Opens a connection to host `slot` at `now`; returns its index.
    pub fn open_conn(&mut self, slot: usize, now: u64, connect_ms: u64, wire: Wire) -> usize {
        self.inc(Counter::CxTotal);
        match wire {
            Wire::Http1 => self.inc(Counter::CxHttp1Total),
            Wire::Http2 => self.inc(Counter::CxHttp2Total),
            Wire::Tcp => {}
        }
        self.cx_connect.record(connect_ms);
        let host = &mut self.hosts[slot];
        host.stats.cx_total += 1;
        host.conns.push(Conn {
            opened_at: now,
            busy_until: now + connect_ms,
        });
        host.conns.len() - 1
    }

    /// Closes connection `conn` of host `slot` at `now`.
    pub fn close_conn(
        &mut self,
        slot: usize,
        conn: usize,
        now: u64,
        by: Closer,
        with_active_rq: bool,
    ) {
        let Some(c) = self
            .hosts
            .get_mut(slot)
            .filter(|h| conn < h.conns.len())
            .map(|h| h.conns.swap_remove(conn))
        else {
            return;
        };
        self.cx_length.record(now.saturating_sub(c.opened_at));
        self.inc(Counter::CxDestroy);
        let (plain, active) = match by {
            Closer::Local => (Counter::CxDestroyLocal, Counter::CxDestroyLocalWithActiveRq),
            Closer::Remote => (
                Counter::CxDestroyRemote,
                Counter::CxDestroyRemoteWithActiveRq,
            ),
        };
        self.inc(plain);
        if with_active_rq {
            self.inc(Counter::CxDestroyWithActiveRq);
            self.inc(active);
        }
    }

    /// Finds or opens a connection for a request to host `slot` arriving at `ts`.
    pub fn lease(&mut self, slot: usize, ts: u64, limits: PoolLimits, connect_ms: u64) -> Lease {
        if let Some(lease) = self.free_conn(slot, ts, limits.http2) {
            return lease;
        }
        if limits.max_connections == u64::MAX || self.open_conns() < limits.max_connections {
            self.inc(Counter::RqPendingTotal);
            let wire = if limits.http2 {
                Wire::Http2
            } else {
                Wire::Http1
            };
            let conn = self.open_conn(slot, ts, connect_ms, wire);
            let start = ts + connect_ms;
            return Lease::Attached { conn, start };
        }
        self.inc(Counter::CxOverflow);
        self.queue(slot, ts, limits.max_pending)
    }

    /// A connection of host `slot` that can take a request now (any open HTTP/2 connection;
    /// an idle HTTP/1.1 one).
    fn free_conn(&self, slot: usize, ts: u64, http2: bool) -> Option<Lease> {
        let conns = &self.hosts[slot].conns;
        if http2 {
            // It may still be connecting: its `busy_until` is the connect time.
            let first = conns.first()?;
            return Some(Lease::Attached {
                conn: 0,
                start: first.busy_until.max(ts),
            });
        }
        let conn = conns.iter().position(|c| c.busy_until <= ts)?;
        Some(Lease::Attached { conn, start: ts })
    }

    /// Waits for the host's earliest free connection if the pending queue has room.
    fn queue(&mut self, slot: usize, ts: u64, max_pending: u64) -> Lease {
        self.pending.retain(|&p| p > ts);
        let conns = self.hosts[slot].conns.iter().enumerate();
        match conns.min_by_key(|(_, c)| c.busy_until) {
            Some((conn, c)) if (self.pending.len() as u64) < max_pending => {
                let start = c.busy_until;
                self.pending.push(start);
                self.inc(Counter::RqPendingTotal);
                Lease::Attached { conn, start }
            }
            _ => {
                self.inc(Counter::RqPendingOverflow);
                Lease::Overflow
            }
        }
    }

    /// Ends a 5 s flush interval for every histogram.
    pub fn flush_interval(&mut self) {
        self.rq_time.flush_interval();
        self.cx_connect.flush_interval();
        self.cx_length.flush_interval();
    }
}
