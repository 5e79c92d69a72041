//! The subcommands that need an async runtime: `meshtop sim` (serve the simulated cluster)
//! and `meshtop snapshot` (collect from a cluster and write the `MeshSnapshot`). They compose
//! the I/O modules; the work itself lives in `sim`, `kube` and `collect`.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cli::{SimArgs, SnapshotArgs};
use crate::collect::{CollectOptions, collect_snapshot};
use crate::kube::ClientOptions;
use crate::sim::scenario::{ScenarioName, SimConfig};
use crate::sim::server::{ClockMode, SimServerConfig, start, write_kubeconfig};
use crate::sim::traffic::Simulation;

/// `meshtop sim`: serves until Ctrl+C.
pub async fn run_sim(args: &SimArgs) -> ExitCode {
    let scenario: ScenarioName = match args.scenario.parse() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("meshtop sim: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = SimConfig {
        scenario,
        seed: args.seed,
        pods: args.pods,
        extra_clusters_per_pod: args.clusters_per_pod,
    };
    let sim = Arc::new(Mutex::new(Simulation::new(&cfg)));
    let server_cfg = SimServerConfig {
        listen: args.listen,
        token: args.token.clone(),
        deny_portforward: args.deny_portforward,
        allow_anonymous: !args.require_token,
        clock: ClockMode::Realtime { speed: args.speed },
        ..SimServerConfig::default()
    };
    let server = match start(sim, server_cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("meshtop sim: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(2);
        }
    };
    println!(
        "meshtop sim: scenario {} serving the Kubernetes API on {}",
        scenario.as_str(),
        server.url()
    );
    if let Some(path) = &args.write_kubeconfig {
        if let Err(e) = write_kubeconfig(path, server.addr(), &args.token, "prod") {
            eprintln!("meshtop sim: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
        println!(
            "kubeconfig written to {} (try: kubectl --kubeconfig {} get pods -n prod)",
            path.display(),
            path.display()
        );
    }
    let _ = tokio::signal::ctrl_c().await;
    let _ = server.shutdown().await;
    ExitCode::SUCCESS
}

/// `meshtop snapshot`: collects for the window and writes the JSON; exit 3 when nothing could
/// be collected.
pub async fn run_snapshot(args: &SnapshotArgs) -> ExitCode {
    let opts = CollectOptions {
        client: ClientOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            namespace: args.namespace.clone(),
            all_namespaces: args.all_namespaces,
        },
        admin_port: args.admin_port,
        ..CollectOptions::default()
    };
    let window = Duration::from_secs_f64(args.window);
    let interval = Duration::from_secs_f64(args.interval);
    let snapshot = match collect_snapshot(&opts, window, interval).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("meshtop snapshot: {e}");
            return ExitCode::from(3);
        }
    };
    let json = match serde_json::to_string_pretty(&snapshot) {
        Ok(j) => j + "\n",
        Err(e) => {
            eprintln!("meshtop snapshot: cannot serialise: {e}");
            return ExitCode::from(2);
        }
    };
    let written = match &args.output {
        Some(path) => {
            std::fs::write(path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(json.as_bytes())
                .map_err(|e| format!("cannot write stdout: {e}"))
        }
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meshtop snapshot: {e}");
            ExitCode::from(2)
        }
    }
}
