//! Next steps: the verify commands a finding offers (`istioctl proxy-config …`, `kubectl get
//! destinationrule …`), filled in with the real pod, namespace and cluster names.

use crate::model::ClusterSnapshot;

use super::context::{Context, fqdn};
use super::finding::NextStep;

impl<'a> Context<'a> {
    /// `istioctl proxy-config <what> <pod>.<ns> <args>` for a client pod of the cluster.
    pub fn istioctl_pc(&self, c: &ClusterSnapshot, what: &str, args: &str) -> String {
        let pod = self.client_pod(c);
        let ns = self.namespace_of(&pod);
        let args = args
            .replace("{cluster}", &c.key.name)
            .replace("{fqdn}", &fqdn(c));
        format!("istioctl proxy-config {what} {pod}.{ns} {args}")
            .trim_end()
            .to_string()
    }

    /// [`istioctl_pc`](Self::istioctl_pc) run against a chosen pod (one that shows the
    /// problem) instead of the cluster's first client.
    pub fn istioctl_pc_on(&self, pod: &str, c: &ClusterSnapshot, what: &str, args: &str) -> String {
        let ns = self.namespace_of(pod);
        let args = args
            .replace("{cluster}", &c.key.name)
            .replace("{fqdn}", &fqdn(c));
        format!("istioctl proxy-config {what} {pod}.{ns} {args}")
            .trim_end()
            .to_string()
    }

    /// `kubectl get destinationrule -n <ns> <name> -o yaml` for the DestinationRule in effect,
    /// else every DestinationRule of the service's namespace.
    pub fn destination_rule_step(&self, c: &ClusterSnapshot) -> NextStep {
        let dr = (c.config.as_ref()).and_then(|cfg| cfg.destination_rule.as_deref());
        match dr.and_then(|d| d.split_once('/')) {
            Some((ns, name)) => NextStep::run(
                format!("Read the DestinationRule {ns}/{name}"),
                format!("kubectl get destinationrule -n {ns} {name} -o yaml"),
            ),
            None => {
                let (_, ns) = self.service_of(c);
                NextStep::run(
                    format!("No DestinationRule applies here; list the ones in {ns}"),
                    format!("kubectl get destinationrule -n {ns} -o yaml"),
                )
            }
        }
    }

    /// `istioctl proxy-config cluster <pod>.<ns> --fqdn <host> [--subset s] -o json` on `pod`:
    /// the cluster as Envoy runs it (circuit breakers, transport socket, timeouts).
    pub fn cluster_step(&self, pod: &str, c: &ClusterSnapshot, text: &str) -> NextStep {
        let subset = c.key.istio().map_or("", |k| k.subset.as_str());
        let args = match subset.is_empty() {
            true => "--fqdn {fqdn} -o json".to_string(),
            false => format!("--fqdn {{fqdn}} --subset {subset} -o json"),
        };
        NextStep::run(text, self.istioctl_pc_on(pod, c, "cluster", &args))
    }

    /// Reads a sidecar's `/stats` for one cluster, keeping the stats matching `stats` (an
    /// extended regex): `kubectl exec … -- pilot-agent request GET stats | grep -F … | grep -E …`.
    pub fn proxy_stats_step(&self, pod: &str, text: &str, cluster: &str, stats: &str) -> NextStep {
        let ns = self.namespace_of(pod);
        NextStep::run(
            text,
            format!(
                "kubectl exec -n {ns} {pod} -c istio-proxy -- pilot-agent request GET stats \
                 | grep -F 'cluster.{cluster}.' | grep -E '{stats}'"
            ),
        )
    }

    /// [`route_step`](Self::route_step) on a chosen pod (one that shows the problem).
    pub fn route_step_on(&self, pod: &str, c: &ClusterSnapshot) -> NextStep {
        let port = c
            .key
            .istio()
            .map_or(String::from("<port>"), |k| k.port.to_string());
        NextStep::run(
            "Check the route Envoy runs with (timeout, retry_policy)",
            self.istioctl_pc_on(pod, c, "route", &format!("--name {port} -o json")),
        )
    }

    /// The standard "look at the route" step.
    pub fn route_step(&self, c: &ClusterSnapshot) -> NextStep {
        let port = c
            .key
            .istio()
            .map_or(String::from("<port>"), |k| k.port.to_string());
        NextStep::run(
            "Check the route Envoy runs with (timeout, retry_policy)",
            self.istioctl_pc(c, "route", &format!("--name {port} -o json")),
        )
    }
}
