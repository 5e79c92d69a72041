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
