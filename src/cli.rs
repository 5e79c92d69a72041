//! Command-line interface: the subcommands and their flags (clap derive). Parsing only; the
//! work is done in `main.rs` and the modules it calls.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "meshtop",
    version,
    about = "On-call dashboard for Envoy/Istio meshes: per-upstream-cluster counters next to the config that governs them",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse saved Envoy admin captures (/stats, /stats/prometheus, /clusters, /config_dump,
    /// /server_info; text or JSON) and print the per-cluster view.
    ///
    /// Give two /stats captures of the same proxy (before, after) for deltas and rates.
    Inspect(InspectArgs),
    /// Show meshtop on its built-in sample mesh (the order-svc → inventory-svc incident).
    Demo(DemoArgs),
    /// Run the simulated cluster: a Kubernetes API on 127.0.0.1 with Istio sidecars whose
    /// Envoy admin answers through port-forward, for tests, kubectl and game days.
    Sim(SimArgs),
    /// Collect from the sidecars of a namespace for a window and write the snapshot (JSON).
    Snapshot(SnapshotArgs),
}

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Scenario: grpc-keepalive, circuit-breaker, mtls-mismatch, no-healthy-upstream,
    /// outlier-ejection, stats-not-enabled, healthy, churn.
    #[arg(long, default_value = "grpc-keepalive")]
    pub scenario: String,
    /// Total meshed pods (spread over the scenario's deployments).
    #[arg(long)]
    pub pods: Option<usize>,
    /// Idle extra outbound clusters per sidecar (for scale runs).
    #[arg(long, default_value_t = 0)]
    pub clusters_per_pod: usize,
    /// Address to listen on (loopback only; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// Write a kubeconfig for this server (usable by meshtop and kubectl).
    #[arg(long, value_name = "PATH")]
    pub write_kubeconfig: Option<PathBuf>,
    /// Seed of the deterministic traffic model.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Bearer token clients must send.
    #[arg(long, default_value = "meshtop-sim-token")]
    pub token: String,
    /// Refuse pods/portforward with 403, as RBAC would.
    #[arg(long)]
    pub deny_portforward: bool,
    /// Refuse requests without a token too. By default a request with no token is served
    /// (kubectl never sends a token to an http:// server); a wrong token is always 401.
    #[arg(long)]
    pub require_token: bool,
    /// Simulated time runs this many times faster than real time.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
}

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Namespace (default: the context's namespace).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Every namespace.
    #[arg(long, short = 'A')]
    pub all_namespaces: bool,
    /// How long to collect before writing (`10s`, `1m`).
    #[arg(long, default_value = "30s", value_parser = parse_interval_arg)]
    pub window: f64,
    /// Time between polls of one sidecar.
    #[arg(long, default_value = "2s", value_parser = parse_interval_arg)]
    pub interval: f64,
    /// Envoy admin port of every sidecar (default: from the pod, else 15000).
    #[arg(long)]
    pub admin_port: Option<u16>,
    /// Output format (only json for now; text/markdown/svg come with the TUI's export).
    #[arg(long, value_enum, default_value_t = SnapshotFormat::Json)]
    pub format: SnapshotFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SnapshotFormat {
    Json,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Capture files; the kind of each is detected from its content.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Time between the first and last /stats capture (`30s`, `2m`, `1m30s`); by default
    /// taken from the captures' `server.uptime`.
    #[arg(long, value_name = "DURATION", value_parser = parse_interval_arg)]
    pub interval: Option<f64>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Only clusters whose name contains this text.
    #[arg(long, value_name = "TEXT")]
    pub cluster: Option<String>,
    /// Istio DestinationRules and VirtualServices (a YAML file, or a folder of them; e.g. the
    /// output of `kubectl get dr,vs -A -o yaml`): shows the configured values with their
    /// sources next to each cluster. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub config: Vec<PathBuf>,
    /// Namespace of the client pod the captures come from, for resolving Istio config
    /// (default: from /server_info, else the cluster's own namespace).
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

fn parse_interval_arg(s: &str) -> Result<f64, String> {
    crate::inspect::parse_interval(s)
}
