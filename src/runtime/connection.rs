//! One connection to a cluster: the discovery and Istio watches, the pollers and a one-off
//! list of the namespaces (for `:ns` completion), all feeding
//! the app's channel as [`Msg`]s. Dropped or shut down as a whole when the user switches
//! namespace or context.

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
        let (ctx, mut crx) = mpsc::channel::<CollectorMsg>(1024);
        let out = tx.clone();
        tasks.spawn(async move {
            while let Some(m) = crx.recv().await {
                if out.send(Msg::Collector(m)).await.is_err() {
                    break;
                }
            }
        });
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
