//! One pod's poller: the task that owns the pod's [`AdminConnection`] and polls it,
//! sequentially, every interval (or after a [`Backoff`](super::Backoff) delay after a failure),
//! sending everything a poll learns as [`CollectorMsg`]s. Started and stopped by
//! [`super::PollerSet`]; a shared semaphore bounds the polls in flight across all pods.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};

use super::backoff::jitter;
use super::failure::PollFailure;
use super::message::{CollectorMsg, MonotonicClock, stats_collection};
use super::poller::PollerConfig;
use crate::envoy::clusters::{ClustersDump, parse_clusters_json};
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
}

/// Polls of different pods that fall due within the same tenth of a second start together,
/// so the runtime wakes once for them rather than once per pod: each next poll is moved to the
/// nearest point of a 100 ms grid shared by every poller (the clock's epoch). The nearest, not
/// the next, so a pod is still polled once per interval on average (rates use each scrape's
/// own time either way). Not for intervals under 0.4 s.
const WAKE_GRID: Duration = Duration::from_millis(100);

impl PodPoller {
    /// Polls until the receiver is gone (or the task is aborted).
    pub async fn run(mut self) {
        let (mut failures, mut since, mut last_ok) = (0u32, None, None);
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
            let (messages, wait) = match outcome {
                Ok(batch) => {
                    (failures, since, last_ok) = (0, None, Some(self.clock.at(started)));
                    let mut due = started + self.config.interval;
                    if self.config.interval >= WAKE_GRID * 4 {
                        due = self.clock.nearest_on_grid(due, WAKE_GRID);
                    }
                    (batch, due.saturating_duration_since(Instant::now()))
                }
                Err(failure) => {
                    failures = failures.saturating_add(1);
                    let since = *since.get_or_insert(self.clock.at(started));
                    let state = self.state(failure.state(since, last_ok));
                    (vec![state], self.config.backoff.delay(failures, jitter()))
                }
            };
            if !self.deliver(messages).await {
                return;
            }
            tokio::time::sleep(wait).await;
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
        match require_text(&body, "/clusters").and_then(parse_clusters_json) {
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

    async fn read_config_dump(&mut self, at: Timestamp) -> Result<CollectorMsg, String> {
        let body = self
            .conn
            .get(&AdminPath::active_clusters())
            .await
            .map_err(|e| e.to_string())?;
        let mut dump = require_text(&body, "/config_dump")
            .and_then(parse_config_dump)
            .map_err(|e| format!("/config_dump: {e}"))?;
        // Routes carry the effective route timeouts and retry policies; a failure here keeps
        // the clusters (and is reported with the dump's issues).
        let routes = self.conn.get(&AdminPath::route_configs()).await;
        match routes.map_err(|e| e.to_string()).and_then(|body| {
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
        Ok(CollectorMsg::ConfigDump {
            pod: self.pod.clone(),
            namespace: self.namespace.clone(),
            at,
            dump: Box::new(dump),
        })
    }
}
