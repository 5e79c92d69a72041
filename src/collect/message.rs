//! `CollectorMsg`: what pollers send to the single writer (`app::update`, or
//! `collect_snapshot`): parsed, typed values and collection states, never raw text or handles.

use std::time::{Duration, Instant};

use crate::envoy::StatsSet;
use crate::envoy::clusters::ClustersDump;
use crate::envoy::config_dump::ConfigDump;
use crate::envoy::server_info::ServerInfo;
use crate::metrics::Timestamp;
pub use crate::model::stats_collection;
use crate::model::{CollectionState, StatsCollection};

/// One event from a pod's poller. A `Scraped` also means the pod's state is
/// `CollectionState::Ok { at }`; failures arrive as `State`.
#[derive(Debug, Clone)]
pub enum CollectorMsg {
    /// One poll: the filtered `/stats` and, when it could be read, `/clusters?format=json`.
    Scraped {
        pod: String,
        namespace: String,
        at: Timestamp,
        stats: Box<StatsSet>,
        clusters: Option<Box<ClustersDump>>,
        /// Whether the sidecar records per-cluster stats (Istio's default does not).
        stats_collection: StatsCollection,
        /// Body bytes read in this poll.
        bytes: usize,
        /// How long the poll took.
        elapsed: Duration,
        /// Non-fatal problems (`/clusters` unreadable, damaged lines), one line each.
        issues: Vec<String>,
    },
    /// `/config_dump?resource=dynamic_active_clusters`, every 30 s and after reconnecting.
    ConfigDump {
        pod: String,
        namespace: String,
        at: Timestamp,
        dump: Box<ConfigDump>,
    },
    /// `/server_info`, read whenever a new forward was opened.
    ServerInfo {
        pod: String,
        namespace: String,
        info: Box<ServerInfo>,
    },
    /// The pod's collection state changed (pending, stale, failed, forbidden).
    State {
        pod: String,
        namespace: String,
        state: CollectionState,
    },
}

impl CollectorMsg {
    /// The pod the message is about.
    pub fn pod(&self) -> &str {
        match self {
            CollectorMsg::Scraped { pod, .. }
            | CollectorMsg::ConfigDump { pod, .. }
            | CollectorMsg::ServerInfo { pod, .. }
            | CollectorMsg::State { pod, .. } => pod,
        }
    }
}

/// The collector's monotonic clock as [`Timestamp`]s: milliseconds since `epoch`.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    epoch: Instant,
}

impl MonotonicClock {
    /// A clock whose epoch is now.
    pub fn start() -> Self {
        MonotonicClock {
            epoch: Instant::now(),
        }
    }

    /// A clock with a given epoch (for converting `Instant`s taken elsewhere).
    pub fn with_epoch(epoch: Instant) -> Self {
        MonotonicClock { epoch }
    }

    pub fn now(&self) -> Timestamp {
        self.at(Instant::now())
    }

    /// `instant` on this clock (the epoch when it is earlier).
    pub fn at(&self, instant: Instant) -> Timestamp {
        let ms = instant.saturating_duration_since(self.epoch).as_millis();
        Timestamp::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// The point of a `grid` laid from the epoch nearest to `instant` (the epoch when
    /// `instant` is earlier; `instant` itself for a zero grid).
    pub fn nearest_on_grid(&self, instant: Instant, grid: Duration) -> Instant {
        let grid_ns = grid.as_nanos();
        if grid_ns == 0 {
            return instant;
        }
        let since = instant.saturating_duration_since(self.epoch).as_nanos();
        let points = (since + grid_ns / 2) / grid_ns;
        let offset = u64::try_from(points * grid_ns).map_or(Duration::MAX, Duration::from_nanos);
        self.epoch.checked_add(offset).unwrap_or(instant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::stats_text::parse_stats_text;

    #[test]
    fn clock_counts_milliseconds_from_its_epoch() {
        let epoch = Instant::now();
        let clock = MonotonicClock::with_epoch(epoch);
        assert_eq!(
            clock.at(epoch + Duration::from_millis(2_500)).as_millis(),
            2_500
        );
        assert_eq!(clock.at(epoch), Timestamp::from_millis(0));
        let later = MonotonicClock::with_epoch(epoch + Duration::from_secs(5));
        assert_eq!(later.at(epoch), Timestamp::from_millis(0));
    }

    #[test]
    fn instants_move_to_the_nearest_point_of_the_grid() {
        let epoch = Instant::now();
        let clock = MonotonicClock::with_epoch(epoch);
        let grid = Duration::from_millis(100);
        let ms = |n: u64| epoch + Duration::from_millis(n);
        for (at, point) in [
            (0, 0),
            (49, 0),
            (50, 100),
            (149, 100),
            (2_051, 2_100),
            (2_000, 2_000),
        ] {
            assert_eq!(clock.nearest_on_grid(ms(at), grid), ms(point), "{at} ms");
        }
        assert_eq!(clock.nearest_on_grid(ms(7), Duration::ZERO), ms(7));
        let later = MonotonicClock::with_epoch(ms(500));
        assert_eq!(
            later.nearest_on_grid(epoch, grid),
            ms(500),
            "before the epoch"
        );
    }

    #[test]
    fn stats_collection_tells_default_inclusion_from_full() {
        let stock =
            parse_stats_text(b"cluster.xds-grpc.upstream_cx_total: 3\nserver.uptime: 9\n").unwrap();
        assert_eq!(
            stats_collection(&stock),
            StatsCollection::DefaultInclusionOnly
        );
        let full = parse_stats_text(
            b"cluster.outbound|8080||inv.prod.svc.cluster.local;.upstream_rq_timeout: 1\n",
        )
        .unwrap();
        assert_eq!(stats_collection(&full), StatsCollection::Full);
    }
}
