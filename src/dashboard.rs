//! The dashboard commands: `meshtop [-n NS]` (live, against the kubeconfig's cluster) and
//! `meshtop demo` (the simulated cluster started in-process, read through the same kube-rs
//! path). Both resolve the theme and settings, then hand over to `runtime::run`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cli::{CollectArgs, DemoArgs, LookArgs, TuiArgs};
use crate::collect::PollerConfig;
use crate::config::load_settings;
use crate::kube::ClientOptions;
use crate::runtime::{TuiOptions, run};
use crate::sim::scenario::{ScenarioName, SimConfig};
use crate::sim::server::{ClockMode, SimServerConfig, start, write_kubeconfig};
use crate::sim::traffic::Simulation;
use crate::ui::theme_file::resolve_theme_from_env;

/// How often the TUI reads each sidecar's `/clusters` (endpoint health and per-host counters):
/// its JSON is most of a poll's bytes and parse time, while the cluster counters the table
/// shows come from `/stats` every poll. Measured in docs/PERFORMANCE.md (idle CPU).
const TUI_CLUSTERS_EVERY: Duration = Duration::from_secs(10);

/// `meshtop [-n NS]`: the live dashboard.
pub async fn run_dashboard(args: &TuiArgs) -> ExitCode {
    let client = client_options(&args.collect);
    let interval = Duration::from_secs_f64(args.collect.interval);
    let window = Duration::from_secs_f64(args.collect.window);
    let opts = match tui_options(
        client,
        args.collect.admin_port,
        interval,
        window,
        &args.look,
    ) {
        Ok(o) => o,
        Err(code) => return code,
    };
    start_tui(opts).await
}

/// `meshtop demo`: the simulated mesh in-process, then the dashboard against it.
pub async fn run_demo(args: &DemoArgs) -> ExitCode {
    let scenario: ScenarioName = match args.scenario.parse() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("meshtop demo: {e}");
            return ExitCode::from(2);
        }
    };
    let sim = Arc::new(Mutex::new(Simulation::new(&SimConfig {
        scenario,
        ..SimConfig::default()
    })));
    let server_cfg = SimServerConfig {
        clock: ClockMode::Realtime { speed: args.speed },
        ..SimServerConfig::default()
    };
    let token = server_cfg.token.clone();
    let server = match start(sim, server_cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("meshtop demo: cannot start the simulated cluster: {e}");
            return ExitCode::from(2);
        }
    };
    let dir = match tempfile_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("meshtop demo: {e}");
            return ExitCode::from(2);
        }
    };
    let kubeconfig = dir.join("kubeconfig");
    if let Err(e) = write_kubeconfig(&kubeconfig, server.addr(), &token, "prod") {
        eprintln!("meshtop demo: cannot write {}: {e}", kubeconfig.display());
        return ExitCode::from(2);
    }
    let client = ClientOptions {
        kubeconfig: Some(kubeconfig),
        namespace: Some("prod".into()),
        ..ClientOptions::default()
    };
    let interval = Duration::from_secs_f64(args.interval);
    let window = Duration::from_secs_f64(args.window);
    let mut opts = match tui_options(client, None, interval, window, &args.look) {
        Ok(o) => o,
        Err(code) => return code,
    };
    opts.notice.get_or_insert_with(|| {
        format!(
            "demo: simulated mesh, scenario {} — ? for keys, Enter to drill in, s to snapshot",
            scenario.as_str()
        )
    });
    let code = start_tui(opts).await;
    let _ = server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    code
}

fn client_options(c: &CollectArgs) -> ClientOptions {
    ClientOptions {
        kubeconfig: c.kubeconfig.clone(),
        context: c.context.clone(),
        namespace: c.namespace.clone(),
        all_namespaces: c.all_namespaces,
    }
}

/// Settings, themes and polling; bad settings stop with exit 2 and the file named.
fn tui_options(
    client: ClientOptions,
    admin_port: Option<u16>,
    interval: Duration,
    window: Duration,
    look: &LookArgs,
) -> Result<TuiOptions, ExitCode> {
    let settings = load_settings(look.config_file.as_deref()).map_err(|e| {
        eprintln!("meshtop: {e}");
        ExitCode::from(2)
    })?;
    let (themes, warnings) = resolve_theme_from_env(look.theme.as_deref());
    Ok(TuiOptions {
        client,
        admin_port,
        poller: PollerConfig {
            interval,
            // At least three reads per window, so host counters have a window too.
            clusters_every: TUI_CLUSTERS_EVERY.min(window / 3),
            ..PollerConfig::default()
        },
        window,
        themes,
        thresholds: settings.thresholds,
        snapshot_dir: look.snapshot_dir.clone(),
        notice: (!warnings.is_empty()).then(|| warnings.join("; ")),
    })
}

async fn start_tui(opts: TuiOptions) -> ExitCode {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "meshtop: the dashboard needs a terminal (stdin/stdout are not a TTY). For scripts use \
             `meshtop snapshot --format text|markdown|json` or `meshtop check`."
        );
        return ExitCode::from(2);
    }
    match run(opts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meshtop: {e}");
            ExitCode::from(2)
        }
    }
}

/// A private directory for the demo's kubeconfig.
fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("meshtop-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}
