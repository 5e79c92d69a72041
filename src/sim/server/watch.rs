//! `?watch=true` streams: JSON lines of `{"type": …, "object": …}`. The stream opens with an
//! `ADDED` event per current object (the API server's answer to a watch without a usable
//! resourceVersion; no history is kept), then polls the world and sends `ADDED`, `MODIFIED`
//! and `DELETED` as objects change, and ends after `timeoutSeconds` (default 30 s), when the
//! client goes away or when the server shuts down. kube-rs's watcher then re-watches.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::objects::SimObject;
use super::resource::{Target, snapshot, stamp};
use super::selector::Selector;
use super::state::ServerState;

/// Watch length when the client gives no `timeoutSeconds`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often (real time) the world is compared with what the client has seen.
const POLL: Duration = Duration::from_millis(250);

/// Starts a watch stream for `target`.
pub fn respond(
    state: Arc<ServerState>,
    target: Target,
    selector: Selector,
    timeout: Option<Duration>,
) -> Response {
    let (tx, mut rx) = mpsc::channel::<Bytes>(16);
    let deadline = Instant::now() + timeout.unwrap_or(DEFAULT_TIMEOUT);
    tokio::spawn(pump(state, target, selector, deadline, tx));
    let stream = futures::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|line| line.map(Ok::<_, Infallible>))
    });
    (
        [(CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn pump(
    state: Arc<ServerState>,
    target: Target,
    selector: Selector,
    deadline: Instant,
    tx: mpsc::Sender<Bytes>,
) {
    let mut seen = BTreeMap::new();
    loop {
        let (objects, _) = snapshot(&state, &target, &selector);
        for (kind, mut object) in diff(&mut seen, objects) {
            stamp(&mut object, state.next_revision());
            let mut line = json!({"type": kind, "object": object})
                .to_string()
                .into_bytes();
            line.push(b'\n');
            if tx.send(Bytes::from(line)).await.is_err() {
                return;
            }
        }
        let wake = (Instant::now() + POLL).min(deadline);
        tokio::select! {
            () = sleep_until(wake) => {}
            () = tx.closed() => return,
            () = state.stopped() => return,
        }
        if Instant::now() >= deadline {
            return;
        }
    }
}

/// Events that take a client from `seen` to `current`, in name order; updates `seen`.
fn diff(seen: &mut BTreeMap<String, Value>, current: Vec<SimObject>) -> Vec<(&'static str, Value)> {
    let mut events = Vec::new();
    let mut next = BTreeMap::new();
    for object in current {
        let meta = &object.json["metadata"];
        let key = format!(
            "{}/{}",
            meta["namespace"].as_str().unwrap_or(""),
            meta["name"].as_str().unwrap_or("")
        );
        match seen.remove(&key) {
            None => events.push(("ADDED", object.json.clone())),
            Some(old) if old != object.json => events.push(("MODIFIED", object.json.clone())),
            Some(_) => {}
        }
        next.insert(key, object.json);
    }
    events.extend(
        std::mem::take(seen)
            .into_values()
            .map(|gone| ("DELETED", gone)),
    );
    *seen = next;
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(name: &str, phase: &str) -> SimObject {
        SimObject {
            json: json!({"metadata": {"name": name, "namespace": "prod"}, "status": {"phase": phase}}),
            created_unix: 0,
        }
    }

    #[test]
    fn diff_reports_added_modified_deleted() {
        let mut seen = BTreeMap::new();
        let first = diff(
            &mut seen,
            vec![object("a", "Running"), object("b", "Running")],
        );
        assert_eq!(
            first.iter().map(|e| e.0).collect::<Vec<_>>(),
            ["ADDED", "ADDED"]
        );
        assert!(
            diff(
                &mut seen,
                vec![object("a", "Running"), object("b", "Running")]
            )
            .is_empty()
        );
        let second = diff(
            &mut seen,
            vec![object("a", "Pending"), object("c", "Running")],
        );
        let summary: Vec<(&str, &str)> = second
            .iter()
            .map(|(t, o)| (*t, o["metadata"]["name"].as_str().unwrap()))
            .collect();
        assert_eq!(
            summary,
            [("MODIFIED", "a"), ("ADDED", "c"), ("DELETED", "b")]
        );
        assert_eq!(seen.len(), 2);
    }
}
