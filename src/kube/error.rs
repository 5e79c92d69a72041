//! `ClientError`: everything that can go wrong talking to the Kubernetes API, worded so the
//! person at the terminal knows what to do next (which kubeconfig, which context, which RBAC
//! permission), and [`classify`], which turns a `kube::Error` into one of them.

use std::fmt;

use thiserror::Error;

/// What meshtop was doing when the API answered: the RBAC verb, the resource (with its
/// subresource, `pods/portforward`) and the namespace (`None` = all namespaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAction {
    pub verb: &'static str,
    pub resource: String,
    pub namespace: Option<String>,
    /// The resource has no namespace (`namespaces`, `nodes`).
    pub cluster_scoped: bool,
}

impl ApiAction {
    /// `verb` on `resource` in `namespace` (`None` = all namespaces).
    pub fn new(verb: &'static str, resource: impl Into<String>, namespace: Option<&str>) -> Self {
        ApiAction {
            verb,
            resource: resource.into(),
            namespace: namespace.map(str::to_string),
            cluster_scoped: false,
        }
    }

    /// `verb` on a cluster-scoped `resource`.
    pub fn cluster(verb: &'static str, resource: impl Into<String>) -> Self {
        ApiAction {
            cluster_scoped: true,
            ..ApiAction::new(verb, resource, None)
        }
    }

    /// The `kubectl auth can-i` line that checks this permission.
    pub fn can_i(&self) -> String {
        let scope = match (&self.namespace, self.cluster_scoped) {
            (_, true) => String::new(),
            (Some(ns), false) => format!(" -n {ns}"),
            (None, false) => " -A".to_string(),
        };
        format!("kubectl auth can-i {} {}{scope}", self.verb, self.resource)
    }
}

impl fmt::Display for ApiAction {
    /// `create pods/portforward in prod`, `list pods in all namespaces`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.namespace, self.cluster_scoped) {
            (_, true) => write!(f, "{} {}", self.verb, self.resource),
            (Some(ns), false) => write!(f, "{} {} in {ns}", self.verb, self.resource),
            (None, false) => write!(f, "{} {} in all namespaces", self.verb, self.resource),
        }
    }
}

/// A failure to reach or use the Kubernetes API.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error(
        "no kubeconfig found ({looked_at}) and not running inside a cluster ({in_cluster}); \
         pass --kubeconfig PATH or set KUBECONFIG"
    )]
    NoKubeconfig {
        looked_at: String,
        in_cluster: String,
    },
    #[error("cannot use kubeconfig {path}: {reason}")]
    BadKubeconfig { path: String, reason: String },
    #[error("context \"{name}\" is not in the kubeconfig; available contexts: {}", list(.available))]
    UnknownContext {
        name: String,
        available: Vec<String>,
    },
    #[error(
        "the kubeconfig has no current-context; pick one with --context NAME (available: {})",
        list(.available)
    )]
    NoCurrentContext { available: Vec<String> },
    #[error(
        "cannot reach the Kubernetes API server at {url}: {reason}; check that the cluster is \
         up and reachable (VPN, proxy) and that the context is the right one"
    )]
    Unreachable { url: String, reason: String },
    #[error(
        "the Kubernetes API server at {url} rejected the credentials (401 Unauthorized); \
         log in again or refresh the token of the context's user"
    )]
    Unauthorized { url: String },
    #[error("access denied: cannot {action} (RBAC); check with `{}`", .action.can_i())]
    Forbidden { action: ApiAction },
    #[error("{action} failed: HTTP {code}: {message}")]
    Api {
        action: ApiAction,
        code: u16,
        message: String,
    },
    #[error("{action} failed: {reason}")]
    Transport { action: ApiAction, reason: String },
}

fn list(names: &[String]) -> String {
    match names.is_empty() {
        true => "none".to_string(),
        false => names.join(", "),
    }
}

/// Turns a `kube::Error` from `action` against the API server at `url` into a [`ClientError`]:
/// 401 → `Unauthorized`, 403 → `Forbidden` naming the action, other statuses → `Api`, and
/// connection-level failures → `Transport`.
pub fn classify(err: kube::Error, action: ApiAction, url: &str) -> ClientError {
    match err {
        kube::Error::Api(status) => match status.code {
            401 => ClientError::Unauthorized {
                url: url.to_string(),
            },
            403 => ClientError::Forbidden { action },
            code => ClientError::Api {
                action,
                code,
                message: status.message.clone(),
            },
        },
        other => ClientError::Transport {
            action,
            reason: chain(&other),
        },
    }
}

/// The HTTP status of an API error, when the error is one.
pub fn api_status(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

/// An error with its sources, `outer: inner: innermost`, without repeating a source whose text
/// the outer message already contains.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure(message, "Forbidden")
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn forbidden_names_verb_resource_and_namespace() {
        let action = ApiAction::new("create", "pods/portforward", Some("prod"));
        let err = classify(status(403, "nope"), action, "https://k8s:6443");
        assert_eq!(
            err.to_string(),
            "access denied: cannot create pods/portforward in prod (RBAC); check with \
             `kubectl auth can-i create pods/portforward -n prod`"
        );
        let all = ApiAction::new("list", "pods", None);
        assert_eq!(all.to_string(), "list pods in all namespaces");
        assert_eq!(all.can_i(), "kubectl auth can-i list pods -A");
    }

    #[test]
    fn unauthorized_and_other_statuses_are_told_apart() {
        let action = ApiAction::new("list", "pods", Some("prod"));
        let err = classify(
            status(401, "Unauthorized"),
            action.clone(),
            "https://k8s:6443",
        );
        assert_eq!(
            err.to_string(),
            "the Kubernetes API server at https://k8s:6443 rejected the credentials (401 \
             Unauthorized); log in again or refresh the token of the context's user"
        );
        let err = classify(status(500, "etcd down"), action, "https://k8s:6443");
        assert_eq!(
            err.to_string(),
            "list pods in prod failed: HTTP 500: etcd down"
        );
    }

    #[test]
    fn context_errors_list_the_alternatives() {
        let err = ClientError::UnknownContext {
            name: "prd".into(),
            available: vec!["prod".into(), "staging".into()],
        };
        assert_eq!(
            err.to_string(),
            "context \"prd\" is not in the kubeconfig; available contexts: prod, staging"
        );
        let err = ClientError::NoKubeconfig {
            looked_at: "/home/me/.kube/config".into(),
            in_cluster: "KUBERNETES_SERVICE_HOST is not set".into(),
        };
        assert_eq!(
            err.to_string(),
            "no kubeconfig found (/home/me/.kube/config) and not running inside a cluster \
             (KUBERNETES_SERVICE_HOST is not set); pass --kubeconfig PATH or set KUBECONFIG"
        );
        let err = ClientError::NoCurrentContext { available: vec![] };
        assert_eq!(
            err.to_string(),
            "the kubeconfig has no current-context; pick one with --context NAME (available: none)"
        );
    }
}
