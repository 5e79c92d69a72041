//! One connection to a cluster: the discovery and Istio watches, the pollers and a one-off
//! list of the namespaces (for `:ns` completion), all feeding
//! the app's channel as [`Msg`]s. Dropped or shut down as a whole when the user switches
//! namespace or context.

use std::time::Duration;

use futures::StreamExt;
use kube::Client;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::app::Msg;
use crate::collect::{CollectorMsg, MonotonicClock, PollerConfig, PollerSet, plan_pollers};
use crate::kube::{MeshPod, ResolvedTarget, list_namespaces, watch_istio_objects, watch_mesh_pods};

/// The running watches and pollers of one cluster/namespace.
pub struct Connection {
    pollers: PollerSet,
    tasks: JoinSet<()>,
}

fn pod_name(pod: &MeshPod) -> String {
    pod.name.clone()
}

fn qualified_name(pod: &MeshPod) -> String {
    format!("{}/{}", pod.namespace, pod.name)
}

impl Connection {
    /// Starts the watches; pollers start when discovery reports pods (`sync`).
    pub fn start(
        client: Client,
        target: ResolvedTarget,
        admin_port: Option<u16>,
        poller: &PollerConfig,
        clock: MonotonicClock,
        tx: &mpsc::Sender<Msg>,
    ) -> Connection {
        let mut tasks = JoinSet::new();
        let ns = target.namespace.clone();
        let pods = watch_mesh_pods(client.clone(), ns.clone(), admin_port, &target.server);
        let out = tx.clone();
        tasks.spawn(forward(pods, out, Msg::Pods));
        let istio = watch_istio_objects(client.clone(), ns.clone(), &target.server);
        tasks.spawn(forward(istio, tx.clone(), Msg::Istio));
        let (list_client, server, out) = (client.clone(), target.server.clone(), tx.clone());
        tasks.spawn(async move {
            let names = list_namespaces(&list_client, &server).await;
            let _ = out
                .send(Msg::Namespaces(names.map_err(|e| e.to_string())))
                .await;
        });
        let (ctx, crx) = mpsc::channel::<CollectorMsg>(1024);
        tasks.spawn(hand_over_in_batches(crx, tx.clone()));
        let key = match ns {
            Some(_) => pod_name,
            None => qualified_name,
        };
        let pollers = PollerSet::new(&client, poller, clock, key, &ctx);
        Connection { pollers, tasks }
    }

    /// Makes the running pollers match `pods` (plan with the pure planner, then apply).
    pub async fn sync(&mut self, pods: &[MeshPod]) {
        let plan = plan_pollers(self.pollers.running(), pods);
        self.pollers.apply(plan).await;
    }

    /// Stops everything and waits until it has ended.
    pub async fn shutdown(mut self) {
        self.pollers
            .apply(plan_pollers(self.pollers.running(), &[]))
            .await;
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// How long collector messages are gathered before they are handed to the app. The screen
/// changes only on a tick (1 s) and the snapshot is rebuilt at most once per poll interval, so
/// applying a poll up to this much later changes nothing shown, while the app's thread wakes a
/// few times a second instead of once per poll (25 a second at 50 sidecars every 2 s).
const BATCH_EVERY: Duration = Duration::from_millis(250);

/// Hands the collector's messages to the app in batches ([`Msg::Collected`]), in order: a batch
/// starts with the first message after a quiet spell and ends [`BATCH_EVERY`] later (or when
/// the collector stops).
async fn hand_over_in_batches(mut crx: mpsc::Receiver<CollectorMsg>, tx: mpsc::Sender<Msg>) {
    while let Some(first) = crx.recv().await {
        let mut batch = vec![first];
        let until = tokio::time::Instant::now() + BATCH_EVERY;
        // Closed (`Ok(None)`) or time is up: hand over; a closed channel then ends the loop.
        while let Ok(Some(m)) = tokio::time::timeout_at(until, crx.recv()).await {
            batch.push(m);
        }
        if tx.send(Msg::Collected(batch)).await.is_err() {
            break;
        }
    }
}

/// Sends every item of `stream` as a message until the app's channel closes.
async fn forward<S, T>(stream: S, tx: mpsc::Sender<Msg>, wrap: fn(T) -> Msg)
where
    S: futures::Stream<Item = T> + Send,
{
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        if tx.send(wrap(item)).await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CollectionState;

    fn state(pod: &str) -> CollectorMsg {
        CollectorMsg::State {
            pod: pod.into(),
            namespace: "prod".into(),
            state: CollectionState::Pending,
        }
    }

    fn pods(msg: Option<Msg>) -> Vec<String> {
        match msg {
            Some(Msg::Collected(batch)) => batch.iter().map(|m| m.pod().to_string()).collect(),
            other => panic!("expected a batch, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn collector_messages_reach_the_app_in_order_in_batches() {
        let (ctx, crx) = mpsc::channel(16);
        let (tx, mut rx) = mpsc::channel(16);
        let task = tokio::spawn(hand_over_in_batches(crx, tx));
        for pod in ["a", "b", "c"] {
            ctx.send(state(pod)).await.unwrap();
        }
        // The task first runs when this test waits, so the batch cannot close before this.
        let started = std::time::Instant::now();
        assert_eq!(pods(rx.recv().await), ["a", "b", "c"]);
        assert!(
            started.elapsed() >= BATCH_EVERY,
            "gathered for {BATCH_EVERY:?}"
        );

        // A message after a quiet spell starts a new batch; the collector stopping ends it
        // at once, and then the task.
        ctx.send(state("d")).await.unwrap();
        ctx.send(state("e")).await.unwrap();
        drop(ctx);
        assert_eq!(pods(rx.recv().await), ["d", "e"]);
        assert!(
            rx.recv().await.is_none(),
            "nothing after the collector stopped"
        );
        task.await.unwrap();
    }
}
