//! Command-line interface: the subcommands and their flags (clap derive). Parsing only; the
//! work is done in `main.rs` and the modules it calls.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::export::ExportFormat;

#[derive(Debug, Parser)]
#[command(
    name = "meshtop",
    version,
    about = "On-call dashboard for Envoy/Istio meshes: per-upstream-cluster counters next to the config that governs them",
    long_about = None
)]
pub struct Cli {
    /// Without a subcommand: the live dashboard (`meshtop -n prod`).
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub tui: TuiArgs,
}

/// The live dashboard's options (`meshtop [-n NS] [--theme NAME] …`).
#[derive(Debug, clap::Args)]
pub struct TuiArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    #[command(flatten)]
    pub look: LookArgs,
}

/// Theme, snapshot and settings options shared by the dashboard and the demo.
#[derive(Debug, clap::Args)]
pub struct LookArgs {
    /// Theme: a name (default, dark, light, high-contrast, colorblind-safe, mono, or a user
    /// theme in $XDG_CONFIG_HOME/meshtop/themes/) or a path to a .toml file. Default:
    /// $MESHTOP_THEME, else default. NO_COLOR is honoured.
    #[arg(long, value_name = "NAME|PATH")]
    pub theme: Option<String>,
    /// Where `s` writes snapshots (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub snapshot_dir: Option<PathBuf>,
    /// meshtop's settings file (thresholds); default $XDG_CONFIG_HOME/meshtop/config.yaml.
    #[arg(long, value_name = "PATH")]
    pub config_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse saved Envoy admin captures (/stats, /stats/prometheus, /clusters, /config_dump,
    /// /server_info; text or JSON) and print the per-cluster view.
    ///
    /// Give two /stats captures of the same proxy (before, after) for deltas and rates.
    Inspect(InspectArgs),
    /// The dashboard on the built-in simulated mesh (started in-process, read through the
    /// real Kubernetes client path). `--captures` analyses the embedded sample captures instead.
    Demo(DemoArgs),
    /// Run the simulated cluster: a Kubernetes API on 127.0.0.1 with Istio sidecars whose
    /// Envoy admin answers through port-forward, for tests, kubectl and game days.
    Sim(SimArgs),
    /// Collect from the sidecars of a namespace for a window and write the snapshot (JSON).
    Snapshot(SnapshotArgs),
    /// Collect for a window and print the root-cause findings. Exit 0: nothing above info,
    /// 1: warnings, 2: critical findings, 3: nothing could be collected.
    Check(CheckArgs),
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

/// Which cluster and sidecars to collect from, and for how long (shared by `snapshot` and
/// `check`).
#[derive(Debug, clap::Args)]
pub struct CollectArgs {
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
    /// How long to collect (`10s`, `1m`): rates and findings cover this window.
    #[arg(long, default_value = "30s", value_parser = parse_interval_arg)]
    pub window: f64,
    /// Time between polls of one sidecar.
    #[arg(long, default_value = "2s", value_parser = parse_interval_arg)]
    pub interval: f64,
    /// Envoy admin port of every sidecar (default: from the pod, else 15000).
    #[arg(long)]
    pub admin_port: Option<u16>,
}

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    /// Output format: the dashboard's screen as text, markdown, ansi or svg, or the snapshot
    /// as json.
    #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
    pub format: ExportFormat,
    /// Theme for ansi and svg (as for the dashboard).
    #[arg(long, value_name = "NAME|PATH")]
    pub theme: Option<String>,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    /// Output format: text for people, json for scripts.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// meshtop's config file (thresholds); default $XDG_CONFIG_HOME/meshtop/config.yaml when
    /// it exists.
    #[arg(long, value_name = "PATH")]
    pub config_file: Option<PathBuf>,
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
    /// Scenario of the simulated mesh: grpc-keepalive, circuit-breaker, mtls-mismatch,
    /// no-healthy-upstream, outlier-ejection, stats-not-enabled, healthy, churn.
    #[arg(long, default_value = "grpc-keepalive")]
    pub scenario: String,
    /// Simulated time runs this many times faster than real time.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Time between polls of one sidecar.
    #[arg(long, default_value = "2s", value_parser = parse_interval_arg)]
    pub interval: f64,
    /// The window rates and findings cover.
    #[arg(long, default_value = "30s", value_parser = parse_interval_arg)]
    pub window: f64,
    #[command(flatten)]
    pub look: LookArgs,
    /// Print `meshtop inspect`'s analysis of the embedded order-svc sample captures instead.
    #[arg(long)]
    pub captures: bool,
    /// Output format of `--captures`.
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
