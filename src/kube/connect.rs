//! Connecting like `kubectl`: `--kubeconfig`, else `$KUBECONFIG` (a merged list), else
//! `~/.kube/config`, else the in-cluster service account; `--context` or the current context;
//! `-n` or the context's namespace (`-A` = all namespaces). The API server is asked for its
//! version once, so a wrong URL, a dead cluster or expired credentials fail here with a message
//! a person can act on, not later in the middle of a screen.
//!
//! Timeouts and retries: kube's default `read_timeout` is none and its default retry layer
//! retries 429/503/504 up to three times (0.5–5 s). meshtop's pollers have their own backoff
//! and per-request timeout, so the retry layer is switched off (a poll must not stall for
//! seconds inside kube) and every API response must start within [`API_READ_TIMEOUT`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

use super::error::{ClientError, chain};

/// How long an API response (or a port-forward stream) may stay silent. A forward idle for
/// longer is closed by kube and reopened by the next poll.
pub const API_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the initial version check may take before the server counts as unreachable.
const VERSION_CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// Which cluster and namespace to talk to, as given on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientOptions {
    /// `--kubeconfig PATH`; overrides `$KUBECONFIG` and `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context NAME`; default: the kubeconfig's current context.
    pub context: Option<String>,
    /// `-n NAMESPACE`; default: the context's namespace, else `default`.
    pub namespace: Option<String>,
    /// `-A`: every namespace (overrides `namespace`).
    pub all_namespaces: bool,
}

/// Where [`connect`] ended up: the context used (`None` in-cluster) and the namespace to
/// collect from (`None` = all namespaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTarget {
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// The API server URL, for messages.
    pub server: String,
}

/// Builds a client the way `kubectl` would and checks that the API server answers.
pub async fn connect(opts: &ClientOptions) -> Result<(Client, ResolvedTarget), ClientError> {
    let (mut config, context) = load_config(opts).await?;
    config.apply_debug_overrides();
    config.read_timeout = Some(API_READ_TIMEOUT);
    config.reset_reader_on_write = true;
    config.default_retry = false;
    if let Some(ns) = &opts.namespace {
        config.default_namespace = ns.clone();
    }
    let server = config.cluster_url.to_string();
    let namespace = match opts.all_namespaces {
        true => None,
        false => Some(config.default_namespace.clone()),
    };
    let client = Client::try_from(config).map_err(|e| ClientError::BadKubeconfig {
        path: describe_source(opts),
        reason: chain(&e),
    })?;
    check_reachable(&client, &server).await?;
    let target = ResolvedTarget {
        context,
        namespace,
        server,
    };
    Ok((client, target))
}

/// Asks for `/version`: connection failures become `Unreachable`, 401 `Unauthorized`; any
/// other answer (even 403) proves the server is there and knows us.
async fn check_reachable(client: &Client, server: &str) -> Result<(), ClientError> {
    let unreachable = |reason: String| ClientError::Unreachable {
        url: server.to_string(),
        reason,
    };
    match tokio::time::timeout(VERSION_CHECK_TIMEOUT, client.apiserver_version()).await {
        Err(_) => Err(unreachable(format!(
            "no answer within {}s",
            VERSION_CHECK_TIMEOUT.as_secs()
        ))),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(kube::Error::Api(status))) if status.code == 401 => Err(ClientError::Unauthorized {
            url: server.to_string(),
        }),
        Ok(Err(kube::Error::Api(_))) => Ok(()),
        Ok(Err(other)) => Err(unreachable(chain(&other))),
    }
}

/// The kubeconfig (or in-cluster) `Config` and the context name it came from.
async fn load_config(opts: &ClientOptions) -> Result<(Config, Option<String>), ClientError> {
    let Some(kubeconfig) = read_kubeconfig(opts)? else {
        return match Config::incluster() {
            Ok(config) => Ok((config, None)),
            Err(e) => Err(ClientError::NoKubeconfig {
                looked_at: describe_source(opts),
                in_cluster: chain(&e),
            }),
        };
    };
    let context = choose_context(&kubeconfig, opts.context.as_deref())?;
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| bad_kubeconfig(opts, &e))?;
    Ok((config, Some(context)))
}

/// The kubeconfig to use; `None` when there is none at all (then in-cluster is tried).
fn read_kubeconfig(opts: &ClientOptions) -> Result<Option<Kubeconfig>, ClientError> {
    if let Some(path) = &opts.kubeconfig {
        return Kubeconfig::read_from(path)
            .map(Some)
            .map_err(|e| bad_kubeconfig(opts, &e));
    }
    match Kubeconfig::from_env() {
        Ok(Some(config)) => return Ok(Some(config)),
        Ok(None) => {}
        Err(e) => return Err(bad_kubeconfig(opts, &e)),
    }
    match default_kubeconfig_path() {
        Some(path) if path.is_file() => Kubeconfig::read_from(&path)
            .map(Some)
            .map_err(|e| bad_kubeconfig(opts, &e)),
        _ => Ok(None),
    }
}

/// The contexts of the kubeconfig `opts` would use, for `:ctx` completion; empty when there is
/// none or it cannot be read (connecting reports that).
pub fn context_names(opts: &ClientOptions) -> Vec<String> {
    match read_kubeconfig(opts) {
        Ok(Some(config)) => config.contexts.into_iter().map(|c| c.name).collect(),
        _ => Vec::new(),
    }
}

/// The named context, or the current one; an error lists the contexts that do exist.
pub fn choose_context(config: &Kubeconfig, wanted: Option<&str>) -> Result<String, ClientError> {
    let available: Vec<String> = config.contexts.iter().map(|c| c.name.clone()).collect();
    let name = match wanted.or(config.current_context.as_deref()) {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => return Err(ClientError::NoCurrentContext { available }),
    };
    match available.contains(&name) {
        true => Ok(name),
        false => Err(ClientError::UnknownContext { name, available }),
    }
}

fn bad_kubeconfig(opts: &ClientOptions, err: &KubeconfigError) -> ClientError {
    let (path, reason) = match err {
        KubeconfigError::ReadConfig(io, path) => (path.display().to_string(), io.to_string()),
        other => (describe_source(opts), chain(other)),
    };
    ClientError::BadKubeconfig { path, reason }
}

fn default_kubeconfig_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| Path::new(&home).join(".kube").join("config"))
}

/// Where the kubeconfig was looked for, for messages.
fn describe_source(opts: &ClientOptions) -> String {
    if let Some(path) = &opts.kubeconfig {
        return format!("--kubeconfig {}", path.display());
    }
    match std::env::var("KUBECONFIG") {
        Ok(v) if !v.is_empty() => format!("KUBECONFIG={v}"),
        _ => match default_kubeconfig_path() {
            Some(p) => p.display().to_string(),
            None => "~/.kube/config (HOME is not set)".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_CONTEXTS: &str = "apiVersion: v1\nkind: Config\ncurrent-context: fake-prod\n\
clusters:\n- name: fake\n  cluster: {server: 'http://127.0.0.1:1'}\n\
users:\n- name: u\n  user: {token: t}\n\
contexts:\n- name: fake-prod\n  context: {cluster: fake, user: u, namespace: prod}\n\
- name: fake-staging\n  context: {cluster: fake, user: u, namespace: staging}\n";

    #[test]
    fn context_names_come_from_the_kubeconfig_given() {
        let dir = std::env::temp_dir().join(format!("meshtop-ctx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config");
        std::fs::write(&path, TWO_CONTEXTS).unwrap();
        let opts = ClientOptions {
            kubeconfig: Some(path.clone()),
            ..ClientOptions::default()
        };
        assert_eq!(context_names(&opts), ["fake-prod", "fake-staging"]);
        let missing = ClientOptions {
            kubeconfig: Some(dir.join("absent")),
            ..ClientOptions::default()
        };
        assert!(context_names(&missing).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn context_is_chosen_like_kubectl() {
        let config = Kubeconfig::from_yaml(TWO_CONTEXTS).unwrap();
        assert_eq!(choose_context(&config, None).unwrap(), "fake-prod");
        assert_eq!(
            choose_context(&config, Some("fake-staging")).unwrap(),
            "fake-staging"
        );
        let err = choose_context(&config, Some("prd")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "context \"prd\" is not in the kubeconfig; available contexts: fake-prod, fake-staging"
        );
    }

    #[tokio::test]
    async fn a_missing_kubeconfig_file_names_the_path() {
        let opts = ClientOptions {
            kubeconfig: Some(PathBuf::from("/nonexistent/meshtop-kubeconfig")),
            ..ClientOptions::default()
        };
        let Err(err) = connect(&opts).await else {
            panic!("connected without a kubeconfig file");
        };
        let text = err.to_string();
        assert!(
            text.starts_with("cannot use kubeconfig /nonexistent/meshtop-kubeconfig: "),
            "{text}"
        );
        assert!(text.contains("No such file"), "{text}");
    }

    #[tokio::test]
    async fn a_dead_server_is_reported_unreachable_with_its_url() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, TWO_CONTEXTS).unwrap();
        let opts = ClientOptions {
            kubeconfig: Some(path),
            context: Some("fake-staging".into()),
            ..ClientOptions::default()
        };
        let Err(err) = connect(&opts).await else {
            panic!("connected to a dead server");
        };
        let text = err.to_string();
        assert!(
            text.starts_with("cannot reach the Kubernetes API server at http://127.0.0.1:1/: "),
            "{text}"
        );
        assert!(
            text.ends_with("and that the context is the right one"),
            "{text}"
        );
    }
}
