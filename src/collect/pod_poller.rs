//! One pod's poller: the task that owns the pod's [`AdminConnection`] and polls it,
//! sequentially, every interval (or after a [`Backoff`](super::Backoff) delay after a failure),
//! sending everything a poll learns as [`CollectorMsg`]s. Started and stopped by
//! [`super::PollerSet`]; a shared semaphore bounds the polls in flight across all pods.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{Semaphore, mpsc};

use super::backoff::jitter;
use super::failure::PollFailure;
use super::message::{CollectorMsg, MonotonicClock, stats_collection};
use super::poller::PollerConfig;
use crate::envoy::clusters::{ClustersDump, ClustersReparser};
use crate::envoy::config_dump::parse_config_dump;
use crate::envoy::error::require_text;
use crate::envoy::server_info::parse_server_info;
use crate::envoy::{StatsFormat, StatsReparser, StatsSet};
use crate::kube::{AdminConnection, AdminPath};
use crate::metrics::Timestamp;
use crate::model::CollectionState;

/// The state of one pod's poller task.
pub(super) struct PodPoller {
    pub conn: AdminConnection,
    /// The pod's name in messages.
    pub pod: String,
    pub namespace: String,
    pub config: Arc<PollerConfig>,
    pub permits: Arc<Semaphore>,
    pub clock: MonotonicClock,
    pub tx: mpsc::Sender<CollectorMsg>,
    /// The forward generation `/server_info` was last read for.
    pub seen_generation: u64,
    pub next_config_dump: Option<Instant>,
    pub next_clusters: Option<Instant>,
    /// `/stats?usedonly&filter=…`, built once per poller.
    pub stats_path: AdminPath,
    /// Parses this proxy's `/stats` captures, re-parsing when the stats listed are the same.
    pub stats_parser: StatsReparser,
    /// Parses this proxy's `/clusters` captures, reading again only the clusters that changed.
    pub clusters_parser: ClustersReparser,
    /// The `/config_dump` answers last sent (to skip sending the same dump again).
    pub sent_config: Option<ConfigSignature>,
}

/// Polls of different pods that fall due within the same tenth of a second start together,
/// so the runtime wakes once for them rather than once per pod: each next poll is moved to the
/// nearest point of a 100 ms grid shared by every poller (the clock's epoch). Each due time is
/// one interval after the previous unrounded one and only then rounded, so a pod is polled
/// once per interval on average whatever the interval (rates use each scrape's own time
/// either way). Not for intervals under 0.4 s.
const WAKE_GRID: Duration = Duration::from_millis(100);

/// When the poll after one that started at `started` is due: one interval after `scheduled`
/// (when the poll that just ran was due, unrounded), or after `started` when that poll began
/// more than an interval late or is the first; then rounded to the wake-up grid. Returns the
/// unrounded time (the next `scheduled`) and the time to wake up.
fn next_poll(
    clock: &MonotonicClock,
    scheduled: Option<Instant>,
    started: Instant,
    interval: Duration,
) -> (Instant, Instant) {
    let next = match scheduled {
        Some(s) if started.saturating_duration_since(s) < interval => s + interval,
        _ => started + interval,
    };
    let due = match interval >= WAKE_GRID * 4 {
        true => clock.nearest_on_grid(next, WAKE_GRID),
        false => next,
    };
    (next, due)
}

impl PodPoller {
    /// Polls until the receiver is gone (or the task is aborted).
    pub async fn run(mut self) {
        let (mut failures, mut since, mut last_ok) = (0u32, None, None);
        // When the current poll was due, before rounding to the wake-up grid.
        let mut scheduled: Option<Instant> = None;
        if !self
            .deliver(vec![self.state(CollectionState::Pending)])
            .await
        {
            return;
        }
        loop {
            let started = Instant::now();
            let outcome = match self.permits.clone().acquire_owned().await {
                Ok(_permit) => self.poll_once().await,
                Err(_) => return,
            };
            let interval = self.config.interval;
            let (messages, due) = match outcome {
                Ok(batch) => {
                    (failures, since, last_ok) = (0, None, Some(self.clock.at(started)));
                    let (next, due) = next_poll(&self.clock, scheduled, started, interval);
                    scheduled = Some(next);
                    (batch, due)
                }
                Err(failure) => {
                    failures = failures.saturating_add(1);
                    scheduled = None;
                    let since = *since.get_or_insert(self.clock.at(started));
                    let state = self.state(failure.state(since, last_ok));
                    let delay = self.config.backoff.delay(failures, jitter());
                    let now = Instant::now();
                    (
                        vec![state],
                        now.checked_add(delay).unwrap_or(now + interval),
                    )
                }
            };
            if !self.deliver(messages).await {
                return;
            }
            tokio::time::sleep_until(due.into()).await;
        }
    }

    /// Sends `messages`; `false` (after closing the forward) when nobody listens any more.
    async fn deliver(&mut self, messages: Vec<CollectorMsg>) -> bool {
        for msg in messages {
            if self.tx.send(msg).await.is_err() {
                self.conn.close().await;
                return false;
            }
        }
        true
    }

    fn state(&self, state: CollectionState) -> CollectorMsg {
        CollectorMsg::State {
            pod: self.pod.clone(),
            namespace: self.namespace.clone(),
            state,
        }
    }

    /// `/stats` (required), then `/server_info` after a reconnect, and when due `/clusters`
    /// and `/config_dump` (optional: their failures become issues of the `Scraped`).
    async fn poll_once(&mut self) -> Result<Vec<CollectorMsg>, PollFailure> {
        let started = Instant::now();
        let body = (self.conn.get(&self.stats_path).await).map_err(PollFailure::Admin)?;
        let at = self.clock.now();
        let stats = match body.iter().all(u8::is_ascii_whitespace) {
            // `usedonly` with nothing matching the filter yet: no stats, not an error.
            true => StatsSet::new(StatsFormat::Text),
            // Re-parsed into the previous poll's set when it lists the same stats (what a
            // fresh parse gives, for less than half the cost: `cargo bench --bench parse --
            // stats_poll`).
            false => (self.stats_parser.parse(&body))
                .map_err(|e| PollFailure::Parse(format!("/stats: {e}")))?,
        };
        let mut issues: Vec<String> = stats
            .issues()
            .iter()
            .map(|i| format!("/stats:{i}"))
            .collect();
        let info = self.read_server_info_if_new(&mut issues).await;
        let (clusters, clusters_bytes) = match self.next_clusters {
            Some(due) if Instant::now() < due => (None, 0),
            _ => {
                self.next_clusters = Some(started + self.config.clusters_every);
                self.read_clusters(&mut issues).await
            }
        };
        let dump = self.read_config_dump_if_due(at, &mut issues).await;
        let scraped = CollectorMsg::Scraped {
            pod: self.pod.clone(),
            namespace: self.namespace.clone(),
            at,
            stats_collection: stats_collection(&stats),
            stats: Box::new(stats),
            clusters,
            bytes: body.len() + clusters_bytes,
            elapsed: started.elapsed(),
            issues,
        };
        Ok(std::iter::once(scraped).chain(info).chain(dump).collect())
    }

    /// `/clusters?format=json` and its size; `None` (and an issue) when it cannot be read.
    async fn read_clusters(
        &mut self,
        issues: &mut Vec<String>,
    ) -> (Option<Box<ClustersDump>>, usize) {
        let body = match self.conn.get(&AdminPath::Clusters { json: true }).await {
            Ok(body) => body,
            Err(e) => {
                issues.push(e.to_string());
                return (None, 0);
            }
        };
        let text = require_text(&body, "/clusters");
        match text.and_then(|text| self.clusters_parser.parse(text)) {
            Ok(dump) => (Some(Box::new(dump)), body.len()),
            Err(e) => {
                issues.push(format!("/clusters?format=json: {e}"));
                (None, body.len())
            }
        }
    }

    /// `/server_info` when a new forward was opened since the last poll (the proxy may have
    /// restarted); the config dump then becomes due too.
    async fn read_server_info_if_new(&mut self, issues: &mut Vec<String>) -> Option<CollectorMsg> {
        if self.conn.generation() == self.seen_generation {
            return None;
        }
        self.seen_generation = self.conn.generation();
        self.next_config_dump = None;
        self.next_clusters = None;
        self.read_server_info()
            .await
            .map_err(|e| issues.push(e))
            .ok()
    }

    async fn read_config_dump_if_due(
        &mut self,
        at: Timestamp,
        issues: &mut Vec<String>,
    ) -> Option<CollectorMsg> {
        if self
            .next_config_dump
            .is_some_and(|due| Instant::now() < due)
        {
            return None;
        }
        self.next_config_dump = Some(Instant::now() + self.config.config_dump_every);
        self.read_config_dump(at)
            .await
            .map_err(|e| issues.push(e))
            .ok()
            .flatten()
    }

    async fn read_server_info(&mut self) -> Result<CollectorMsg, String> {
        let body = self
            .conn
            .get(&AdminPath::ServerInfo)
            .await
            .map_err(|e| e.to_string())?;
        let info = require_text(&body, "/server_info")
            .and_then(parse_server_info)
            .map_err(|e| format!("/server_info: {e}"))?;
        Ok(CollectorMsg::ServerInfo {
            pod: self.pod.clone(),
            namespace: self.namespace.clone(),
            info: Box::new(info),
        })
    }

    /// `/config_dump` (clusters, then routes), or `None` when both answers are the same as
    /// the ones last sent: the app still holds that dump, and a proxy's config rarely changes
    /// between two reads, so it is neither parsed nor sent again.
    async fn read_config_dump(&mut self, at: Timestamp) -> Result<Option<CollectorMsg>, String> {
        let body = self
            .conn
            .get(&AdminPath::active_clusters())
            .await
            .map_err(|e| e.to_string())?;
        let routes = self.conn.get(&AdminPath::route_configs()).await;
        let routes = routes.map_err(|e| e.to_string());
        let signature = ConfigSignature::of(&body, &routes);
        if self.sent_config.as_ref() == Some(&signature) {
            return Ok(None);
        }
        self.sent_config = None;
        let mut dump = require_text(&body, "/config_dump")
            .and_then(parse_config_dump)
            .map_err(|e| format!("/config_dump: {e}"))?;
        // Routes carry the effective route timeouts and retry policies; a failure here keeps
        // the clusters (and is reported with the dump's issues).
        match routes.and_then(|body| {
            require_text(&body, "/config_dump")
                .and_then(parse_config_dump)
                .map_err(|e| e.to_string())
        }) {
            Ok(r) => dump.routes.extend(r.routes),
            Err(e) => dump.issues.push(crate::envoy::LineIssue {
                line: 0,
                message: format!("/config_dump?resource=dynamic_route_configs: {e}"),
            }),
        }
        self.sent_config = Some(signature);
        Ok(Some(CollectorMsg::ConfigDump {
            pod: self.pod.clone(),
            namespace: self.namespace.clone(),
            at,
            dump: Box::new(dump),
        }))
    }
}

/// What two `/config_dump` answers (clusters; routes or why they failed) were: each body's
/// length and 64-bit hash, so that an unchanged config is recognised without keeping its
/// bodies (hundreds of KB per sidecar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ConfigSignature {
    clusters: (usize, u64),
    routes: Result<(usize, u64), String>,
}

impl ConfigSignature {
    fn of(clusters: &[u8], routes: &Result<Bytes, String>) -> Self {
        let print = |body: &[u8]| {
            let mut hasher = DefaultHasher::new();
            body.hash(&mut hasher);
            (body.len(), hasher.finish())
        };
        ConfigSignature {
            clusters: print(clusters),
            routes: routes.as_ref().map(|b| print(b)).map_err(Clone::clone),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_is_the_same_only_when_both_answers_are() {
        let ok = |b: &'static str| Ok(Bytes::from_static(b.as_bytes()));
        let of = ConfigSignature::of;
        assert_eq!(of(b"{c}", &ok("{r}")), of(b"{c}", &ok("{r}")));
        assert_ne!(
            of(b"{c}", &ok("{r}")),
            of(b"{C}", &ok("{r}")),
            "clusters changed"
        );
        assert_ne!(
            of(b"{c}", &ok("{r}")),
            of(b"{c}", &ok("{r} ")),
            "routes grew"
        );
        let failed = Err("timed out".to_string());
        assert_ne!(of(b"{c}", &ok("{r}")), of(b"{c}", &failed), "routes failed");
        assert_eq!(of(b"{c}", &failed), of(b"{c}", &failed));
    }

    /// Polls that start when they are woken: the period is the interval on average for any
    /// interval, each wake-up is on the grid, and a poll that starts late does not shift the
    /// schedule unless it is more than an interval late.
    #[test]
    fn polls_keep_the_interval_on_average_and_wake_on_the_grid() {
        let epoch = Instant::now();
        let clock = MonotonicClock::with_epoch(epoch);
        for interval_ms in [400, 450, 1_040, 1_250, 2_000, 2_030] {
            let interval = Duration::from_millis(interval_ms);
            let (mut scheduled, mut started) = (None, epoch + Duration::from_millis(37));
            let first = started;
            for _ in 0..100 {
                let (next, due) = next_poll(&clock, scheduled, started, interval);
                let on_grid = due.duration_since(epoch).as_millis() % 100;
                assert_eq!(on_grid, 0, "{interval_ms} ms: wakes on the grid");
                assert!(due.max(next) - due.min(next) <= WAKE_GRID / 2);
                (scheduled, started) = (Some(next), due);
            }
            let mean = started.duration_since(first).as_secs_f64() / 100.0;
            let error = (mean - interval.as_secs_f64()).abs();
            assert!(error < 0.002, "{interval_ms} ms: mean period {mean} s");
        }
        // Late by less than an interval: still on the schedule; by more: from the late start.
        let interval = Duration::from_secs(2);
        let s = epoch + Duration::from_secs(10);
        let late = s + Duration::from_millis(1_500);
        assert_eq!(next_poll(&clock, Some(s), late, interval).0, s + interval);
        let very_late = s + Duration::from_millis(2_500);
        assert_eq!(
            next_poll(&clock, Some(s), very_late, interval).0,
            very_late + interval
        );
        // Short intervals are not moved.
        let short = Duration::from_millis(250);
        let (next, due) = next_poll(&clock, None, s + Duration::from_millis(3), short);
        assert_eq!(next, due);
    }
}
