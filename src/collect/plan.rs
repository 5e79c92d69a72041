//! The poller planner: from the pollers running and the pods discovery reports, which pollers
//! to start, stop and restart. Pure (no I/O, no clock), so every rule is tested with exact
//! plans; [`super::PollerSet::apply`] executes a plan (STYLE.md: pure planners decide,
//! executors do).
//!
//! Rules: only `Running` pods are polled (a pending or finished pod has no Envoy to read). A
//! pod recreated under the same name (new uid) or with another admin port gets a new poller,
//! since its forward points at the wrong pod or port. A proxy restart inside the same pod
//! (restart count, readiness) changes nothing here: the poller's forward reconnects by itself
//! and the counters show the reset.

use std::collections::BTreeMap;

use crate::kube::{MeshPod, PodEvent};

/// What a running poller was started for: a change of either needs a new poller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodIdentity {
    /// `metadata.uid` of the pod.
    pub uid: String,
    pub admin_port: u16,
}

impl PodIdentity {
    /// The identity of `pod`.
    pub fn of(pod: &MeshPod) -> Self {
        PodIdentity {
            uid: pod.uid.clone(),
            admin_port: pod.admin_port,
        }
    }
}

/// The changes that take the running pollers to the desired ones, each list sorted by
/// [`poller_key`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollerPlan {
    /// Running pods without a poller.
    pub start: Vec<MeshPod>,
    /// Keys of pollers whose pod is gone or no longer `Running`.
    pub stop: Vec<String>,
    /// Pods whose poller must be replaced: recreated (new uid) or another admin port.
    pub restart: Vec<MeshPod>,
}

impl PollerPlan {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.start.is_empty() && self.stop.is_empty() && self.restart.is_empty()
    }
}

/// `namespace/name`: how pollers are keyed, whatever name their messages use.
pub fn poller_key(pod: &MeshPod) -> String {
    format!("{}/{}", pod.namespace, pod.name)
}

/// Plans the pollers for `desired` (the pods discovery knows now) given the `running` ones
/// (keyed by [`poller_key`]). When `desired` names a pod twice, the last entry counts.
pub fn plan_pollers(running: &BTreeMap<String, PodIdentity>, desired: &[MeshPod]) -> PollerPlan {
    let wanted: BTreeMap<String, &MeshPod> = desired
        .iter()
        .filter(|pod| pod.phase == "Running")
        .map(|pod| (poller_key(pod), pod))
        .collect();
    let mut plan = PollerPlan::default();
    for (key, pod) in &wanted {
        match running.get(key) {
            None => plan.start.push((*pod).clone()),
            Some(identity) if *identity != PodIdentity::of(pod) => {
                plan.restart.push((*pod).clone());
            }
            Some(_) => {}
        }
    }
    plan.stop = (running.keys())
        .filter(|key| !wanted.contains_key(*key))
        .cloned()
        .collect();
    plan
}

/// Folds a discovery event into the pods known now, keyed by [`poller_key`]: the `desired`
/// input of [`plan_pollers`]. A `Resynced` replaces them; an `Error` changes nothing.
pub fn apply_pod_event(desired: &mut BTreeMap<String, MeshPod>, event: &PodEvent) {
    match event {
        PodEvent::Upsert(pod) => {
            desired.insert(poller_key(pod), pod.clone());
        }
        PodEvent::Removed { namespace, name } => {
            desired.remove(&format!("{namespace}/{name}"));
        }
        PodEvent::Resynced(pods) => {
            *desired = pods.iter().map(|p| (poller_key(p), p.clone())).collect();
        }
        PodEvent::Error(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, uid: &str, phase: &str, port: u16) -> MeshPod {
        MeshPod {
            name: name.into(),
            namespace: "prod".into(),
            uid: uid.into(),
            phase: phase.into(),
            ready: true,
            proxy_restarts: 0,
            admin_port: port,
        }
    }

    fn running(pods: &[(&str, &str, u16)]) -> BTreeMap<String, PodIdentity> {
        (pods.iter())
            .map(|&(name, uid, port)| {
                let identity = PodIdentity {
                    uid: uid.into(),
                    admin_port: port,
                };
                (format!("prod/{name}"), identity)
            })
            .collect()
    }

    #[test]
    fn nothing_running_starts_every_running_pod() {
        let desired = [
            pod("b", "u-b", "Running", 15000),
            pod("a", "u-a", "Running", 15000),
            pod("p", "u-p", "Pending", 15000),
        ];
        let plan = plan_pollers(&BTreeMap::new(), &desired);
        assert_eq!(
            plan,
            PollerPlan {
                start: vec![desired[1].clone(), desired[0].clone()],
                stop: vec![],
                restart: vec![],
            }
        );
    }

    #[test]
    fn gone_and_finished_pods_stop_recreated_and_moved_ones_restart() {
        let now = running(&[
            ("same", "u-1", 15000),
            ("gone", "u-2", 15000),
            ("done", "u-3", 15000),
            ("recreated", "u-4", 15000),
            ("moved", "u-5", 15000),
        ]);
        let mut restarted = pod("same", "u-1", "Running", 15000);
        restarted.ready = false;
        restarted.proxy_restarts = 4;
        let desired = [
            restarted,
            pod("done", "u-3", "Succeeded", 15000),
            pod("recreated", "u-9", "Running", 15000),
            pod("moved", "u-5", "Running", 15001),
            pod("new", "u-6", "Running", 15000),
            pod("waiting", "u-7", "Pending", 15000),
        ];
        let plan = plan_pollers(&now, &desired);
        assert_eq!(
            plan,
            PollerPlan {
                start: vec![desired[4].clone()],
                stop: vec!["prod/done".into(), "prod/gone".into()],
                restart: vec![desired[3].clone(), desired[2].clone()],
            }
        );
        assert!(!plan.is_empty());
    }

    #[test]
    fn an_unchanged_set_plans_nothing_and_duplicates_take_the_last() {
        let now = running(&[("a", "u-a", 15000)]);
        let same = [pod("a", "u-a", "Running", 15000)];
        assert!(plan_pollers(&now, &same).is_empty());
        let twice = [
            pod("a", "u-a", "Running", 15000),
            pod("a", "u-a2", "Running", 15000),
        ];
        assert_eq!(plan_pollers(&now, &twice).restart, [twice[1].clone()]);
        let everything_gone = plan_pollers(&now, &[]);
        assert_eq!(everything_gone.stop, ["prod/a"]);
        assert_eq!(poller_key(&same[0]), "prod/a");
    }

    #[test]
    fn events_fold_into_the_desired_pods() {
        let mut desired = BTreeMap::new();
        let (a, b) = (
            pod("a", "u-a", "Running", 15000),
            pod("b", "u-b", "Running", 15000),
        );
        apply_pod_event(
            &mut desired,
            &PodEvent::Resynced(vec![a.clone(), b.clone()]),
        );
        let mut a2 = a.clone();
        a2.proxy_restarts = 1;
        apply_pod_event(&mut desired, &PodEvent::Upsert(a2.clone()));
        let removed = PodEvent::Removed {
            namespace: "prod".into(),
            name: "b".into(),
        };
        apply_pod_event(&mut desired, &removed);
        apply_pod_event(&mut desired, &PodEvent::Error("watch failed".into()));
        assert_eq!(desired, BTreeMap::from([("prod/a".to_string(), a2)]));
        apply_pod_event(&mut desired, &PodEvent::Resynced(vec![b.clone()]));
        assert_eq!(desired, BTreeMap::from([("prod/b".to_string(), b)]));
    }

    #[test]
    fn identity_is_uid_and_admin_port() {
        let a = pod("a", "u-a", "Running", 15001);
        assert_eq!(
            PodIdentity::of(&a),
            PodIdentity {
                uid: "u-a".into(),
                admin_port: 15001
            }
        );
    }
}
