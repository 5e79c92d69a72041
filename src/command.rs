//! The subcommands that need an async runtime: `meshtop sim` (serve the simulated cluster),
//! `meshtop snapshot` (collect from a cluster and write the `MeshSnapshot`) and `meshtop check`
//! (collect, evaluate the diagnosis rules, print findings, exit by severity). They compose
//! the I/O modules; the work itself lives in `sim`, `kube` and `collect`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cli::{CheckArgs, CollectArgs, OutputFormat, SimArgs, SnapshotArgs};
use serde::Serialize;

use crate::app::{App, IstioState, MeshState, Session, Shown};
use crate::collect::{CollectOptions, collect_with_config};
use crate::config::load_settings;
use crate::diagnosis::{Finding, evaluate, evaluate_with, exit_code, human_ms, render_findings};
use crate::export;
use crate::istio::IstioConfig;
use crate::kube::ClientOptions;
use crate::model::{CollectionState, MeshSnapshot, SourceState};
use crate::sim::scenario::{ScenarioName, SimConfig};
use crate::sim::server::{ClockMode, SimServerConfig, start, write_kubeconfig};
use crate::sim::traffic::Simulation;
use crate::ui::theme_file::resolve_theme_from_env;

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

/// The collection options of `snapshot` and `check`.
fn collect_options(args: &CollectArgs) -> CollectOptions {
    CollectOptions {
        client: ClientOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            namespace: args.namespace.clone(),
            all_namespaces: args.all_namespaces,
        },
        admin_port: args.admin_port,
        ..CollectOptions::default()
    }
}

/// Collects for the window (and the Istio objects resolved against, or why there are none);
/// the error is printed with the command's name.
async fn collect(
    command: &str,
    args: &CollectArgs,
) -> Result<(MeshSnapshot, Result<IstioConfig, String>), ExitCode> {
    let window = Duration::from_secs_f64(args.window);
    let interval = Duration::from_secs_f64(args.interval);
    collect_with_config(&collect_options(args), window, interval)
        .await
        .map_err(|e| {
            eprintln!("meshtop {command}: {e}");
            ExitCode::from(3)
        })
}

/// Writes `body` to `path`, or to stdout.
fn write_output(command: &str, path: Option<&Path>, body: &str) -> Result<(), ExitCode> {
    let written = match path {
        Some(path) => {
            std::fs::write(path, body).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(body.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write stdout: {e}"))
        }
    };
    written.map_err(|e| {
        eprintln!("meshtop {command}: {e}");
        ExitCode::from(2)
    })
}

/// `meshtop snapshot`: collects for the window and writes the JSON; exit 3 when nothing could
/// be collected.
pub async fn run_snapshot(args: &SnapshotArgs) -> ExitCode {
    let (snapshot, istio) = match collect("snapshot", &args.collect).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (themes, warnings) = resolve_theme_from_env(args.theme.as_deref());
    for w in warnings {
        eprintln!("meshtop snapshot: {w}");
    }
    let mut app = offscreen_app(snapshot, &args.collect);
    app.mesh.istio = match istio {
        Ok(config) => IstioState::Available {
            config,
            missing: Vec::new(),
        },
        Err(reason) => IstioState::NotAvailable { reason },
    };
    let theme = themes.get(app.session.theme);
    let body = export::render(&app, theme, args.format, app.view.size);
    match write_output("snapshot", args.output.as_deref(), &body) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

/// An app showing `snapshot` (live view, overview, 120×40) for offscreen rendering.
fn offscreen_app(snapshot: MeshSnapshot, args: &CollectArgs) -> App {
    let findings = evaluate(&snapshot);
    let mut mesh = MeshState::new(Default::default(), snapshot.namespace.is_none());
    let session = Session {
        context: snapshot.context.clone(),
        namespace: snapshot.namespace.clone(),
        interval: Duration::from_secs_f64(args.interval),
        window: Duration::from_secs(snapshot.window_seconds.round() as u64),
        themes: Vec::new(),
        theme: 0,
        contexts: Vec::new(),
        namespaces: Vec::new(),
        namespaces_error: None,
        snapshot_dir: None,
    };
    let unix_ms = snapshot.taken_at_unix_ms.unwrap_or(0);
    mesh.live = Shown::new(snapshot, findings);
    mesh.dirty = false;
    let mut app = App::new(mesh, session);
    app.clock.unix_ms = unix_ms;
    app.view.size = (120, 40);
    app
}

/// What `meshtop check --output json` prints.
#[derive(Debug, Serialize)]
pub struct CheckReport<'a> {
    pub meshtop_version: &'a str,
    pub context: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub window_seconds: f64,
    /// 0 healthy, 1 warnings, 2 critical, 3 nothing collected.
    pub exit_code: u8,
    /// Why nothing could be collected (exit 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_collected: Option<String>,
    pub sources: &'a [SourceState],
    pub findings: &'a [Finding],
}

/// `meshtop check`: collects, evaluates the rules and prints the findings. Exit 0 without
/// warnings or criticals, 1 for warnings, 2 for a critical finding, 3 when nothing could be
/// collected.
pub async fn run_check(args: &CheckArgs) -> ExitCode {
    let settings = match load_settings(args.config_file.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("meshtop check: {e}");
            return ExitCode::from(3);
        }
    };
    let (snapshot, _) = match collect("check", &args.collect).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let findings = evaluate_with(&snapshot, &settings.thresholds);
    let not_collected = nothing_collected(&snapshot);
    let code = match &not_collected {
        Some(_) => 3,
        None => exit_code(&findings) as u8,
    };
    let body = match args.output {
        OutputFormat::Text => check_text(&snapshot, &findings, not_collected.as_deref()),
        OutputFormat::Json => {
            let report = CheckReport {
                meshtop_version: &snapshot.meshtop_version,
                context: snapshot.context.as_deref(),
                namespace: snapshot.namespace.as_deref(),
                window_seconds: snapshot.window_seconds,
                exit_code: code,
                not_collected: not_collected.clone(),
                sources: &snapshot.sources,
                findings: &findings,
            };
            match serde_json::to_string_pretty(&report) {
                Ok(j) => j + "\n",
                Err(e) => {
                    eprintln!("meshtop check: cannot serialise: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    if let Err(code) = write_output("check", None, &body) {
        return code;
    }
    if let Some(reason) = &not_collected {
        eprintln!("meshtop check: nothing could be collected: {reason}");
    }
    ExitCode::from(code)
}

/// `Some(reason)` when no sidecar could be read at all.
fn nothing_collected(snapshot: &MeshSnapshot) -> Option<String> {
    if snapshot.sources.iter().any(|s| s.state.is_ok()) {
        return None;
    }
    let mut reasons: Vec<String> = snapshot
        .sources
        .iter()
        .map(|s| match &s.state {
            CollectionState::Failed { reason, .. }
            | CollectionState::Stale { reason, .. }
            | CollectionState::Forbidden { reason }
            | CollectionState::NotCollected { reason } => format!("{}: {reason}", s.pod),
            other => format!("{}: {}", s.pod, other.word()),
        })
        .collect();
    reasons.truncate(5);
    Some(match reasons.is_empty() {
        true => "no sidecars".to_string(),
        false => reasons.join("; "),
    })
}

fn check_text(
    snapshot: &MeshSnapshot,
    findings: &[Finding],
    not_collected: Option<&str>,
) -> String {
    let ok = snapshot.sources.iter().filter(|s| s.state.is_ok()).count();
    let mut out = format!(
        "meshtop check {} — context {}, namespace {}, window {}, sidecars {ok}/{} read\n",
        snapshot.meshtop_version,
        snapshot.context.as_deref().unwrap_or("?"),
        snapshot.namespace.as_deref().unwrap_or("(all)"),
        human_ms(snapshot.window_seconds * 1000.0),
        snapshot.sources.len(),
    );
    for s in snapshot.sources.iter().filter(|s| !s.state.is_ok()) {
        out.push_str(&format!("  {} {}\n", s.pod, s.state.word()));
    }
    if let Some(reason) = not_collected {
        out.push_str(&format!("nothing could be collected: {reason}\n"));
        return out;
    }
    out.push('\n');
    out.push_str(&render_findings(findings));
    out
}
