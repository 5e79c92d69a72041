//! `PollFailure`: why one poll of a pod failed, and the collection state that makes it —
//! `Forbidden` for RBAC, `Stale` when the pod was read before (its data is still shown),
//! `Failed` when it never was.

use crate::kube::AdminError;
use crate::metrics::Timestamp;
use crate::model::CollectionState;

/// Why one poll failed.
#[derive(Debug)]
pub(super) enum PollFailure {
    Admin(AdminError),
    Parse(String),
}

impl PollFailure {
    /// The collection state after this failure in a streak that began at `since`, with the
    /// last good poll at `last_ok` (`None` = never read).
    pub(super) fn state(&self, since: Timestamp, last_ok: Option<Timestamp>) -> CollectionState {
        let reason = match self {
            PollFailure::Admin(AdminError::Forbidden(what)) => {
                return CollectionState::Forbidden {
                    reason: what.clone(),
                };
            }
            PollFailure::Admin(e) => e.to_string(),
            PollFailure::Parse(e) => e.clone(),
        };
        match last_ok {
            Some(last_ok) => CollectionState::Stale {
                since,
                last_ok,
                reason,
            },
            None => CollectionState::Failed { since, reason },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_become_forbidden_stale_or_failed() {
        let (since, last) = (Timestamp::from_millis(5_000), Timestamp::from_millis(3_000));
        let denied = PollFailure::Admin(AdminError::Forbidden(
            "create pods/portforward in prod".into(),
        ));
        assert_eq!(
            denied.state(since, Some(last)),
            CollectionState::Forbidden {
                reason: "create pods/portforward in prod".into()
            }
        );
        let timeout = PollFailure::Admin(AdminError::Timeout {
            path: "/stats".into(),
            after: std::time::Duration::from_secs(5),
        });
        assert_eq!(
            timeout.state(since, Some(last)),
            CollectionState::Stale {
                since,
                last_ok: last,
                reason: "/stats: no complete answer within 5s".into()
            }
        );
        let parse = PollFailure::Parse("/stats: 1: empty input (expected a /stats capture)".into());
        assert_eq!(
            parse.state(since, None),
            CollectionState::Failed {
                since,
                reason: "/stats: 1: empty input (expected a /stats capture)".into()
            }
        );
    }
}
