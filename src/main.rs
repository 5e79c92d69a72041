//! The `meshtop` binary: parses the command line and runs the subcommand.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use meshtop::cli::{Cli, Command, DemoArgs, InspectArgs, OutputFormat};
use meshtop::envoy::capture::parse_capture;
use meshtop::inspect::findings::capture_findings;
use meshtop::inspect::report::{LoadedInput, Report, attach_istio_config, build_report};
use meshtop::inspect::{load_inputs, load_istio_config, text};

/// mimalloc instead of the system allocator: the idle dashboard makes and frees many small
/// values every poll (parsed captures, per-pod windows, frames), and glibc's `malloc`/`free`
/// were a fifth of its CPU; mimalloc took 15-22 % off the idle CPU at 50 sidecars in A/B runs
/// (docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => with_runtime(Flavor::OneWorker, || {
            meshtop::dashboard::run_dashboard(&cli.tui)
        }),
        Some(Command::Inspect(args)) => inspect(&args),
        Some(Command::Demo(args)) if args.captures => demo(&args),
        Some(Command::Demo(args)) => {
            with_runtime(Flavor::Workers, || meshtop::dashboard::run_demo(&args))
        }
        Some(Command::Sim(args)) => {
            with_runtime(Flavor::Workers, || meshtop::command::run_sim(&args))
        }
        Some(Command::Snapshot(args)) => {
            with_runtime(Flavor::Workers, || meshtop::command::run_snapshot(&args))
        }
        Some(Command::Check(args)) => {
            with_runtime(Flavor::Workers, || meshtop::command::run_check(&args))
        }
    }
}

/// Which tokio runtime a subcommand runs on.
enum Flavor {
    /// One worker thread for every spawned task (pollers, forwards, watches), the app loop
    /// on the calling thread. The dashboard: its pollers mostly wait, and handing wake-ups
    /// between two workers cost more than the work, while one thread for everything lets a
    /// rebuild or a burst of parsing delay keys. At 50 sidecars every 2 s (docs/PERFORMANCE.md)
    /// idle CPU is 1.60–1.80 % of a core against 1.90–1.93 % on two workers in one A/B
    /// run; at 1,000 sidecars 73 % against 81 %, and `?` drawn within 24–37 ms against
    /// 21–206 ms (one thread for everything: 12–342 ms).
    OneWorker,
    /// A worker per core: the simulator, which serves many connections at once, and the
    /// headless commands, whose poll cycle is what they wait for. `demo` runs the simulator
    /// in the same process, so it is here too.
    Workers,
}

/// Runs an async subcommand on a tokio runtime of the given flavor.
fn with_runtime<F: std::future::Future<Output = ExitCode>>(
    flavor: Flavor,
    make: impl FnOnce() -> F,
) -> ExitCode {
    let runtime = match flavor {
        Flavor::OneWorker => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build(),
        Flavor::Workers => tokio::runtime::Runtime::new(),
    };
    match runtime {
        Ok(rt) => rt.block_on(make()),
        Err(e) => {
            eprintln!("meshtop: cannot start the async runtime: {e}");
            ExitCode::from(2)
        }
    }
}

fn inspect(args: &InspectArgs) -> ExitCode {
    let inputs = load_inputs(&args.files);
    let mut report = build_report(&inputs, args.interval);
    let mut istio = None;
    if !args.config.is_empty() {
        let loaded = load_istio_config(&args.config);
        attach_istio_config(
            &mut report,
            &loaded.istio,
            loaded.files,
            args.namespace.as_deref(),
        );
        report.config_issues.extend(loaded.unreadable);
        istio = Some(loaded.istio);
    }
    let namespace = args.namespace.as_deref();
    report.findings = capture_findings(&inputs, args.interval, istio.as_ref(), namespace);
    if let Some(filter) = &args.cluster {
        report.retain_clusters_containing(filter);
    }
    emit(&report, args.output)
}

/// Prints the report; failed inputs go to stderr as `FILE:LINE: reason` and exit 2.
fn emit(report: &Report, format: OutputFormat) -> ExitCode {
    let body = match format {
        OutputFormat::Text => text::render(report),
        OutputFormat::Json => match serde_json::to_string_pretty(report) {
            Ok(json) => json + "\n",
            Err(e) => {
                eprintln!("meshtop: cannot serialise the report: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(body.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(2); // stdout closed (e.g. piped into `head`): nothing to add
    }
    for input in &report.inputs {
        if let Some(e) = &input.error {
            eprintln!("meshtop: {e}");
        }
    }
    if report.has_failed_input() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// The sample incident shipped in `tests/data/order-svc/`, embedded in the binary.
const DEMO_CAPTURES: &[(&str, &[u8])] = &[
    (
        "order-svc/stats-before.txt",
        include_bytes!("../tests/data/order-svc/stats-before.txt"),
    ),
    (
        "order-svc/stats-after.txt",
        include_bytes!("../tests/data/order-svc/stats-after.txt"),
    ),
    (
        "order-svc/clusters.txt",
        include_bytes!("../tests/data/order-svc/clusters.txt"),
    ),
    (
        "order-svc/config_dump.json",
        include_bytes!("../tests/data/order-svc/config_dump.json"),
    ),
    (
        "order-svc/server_info.json",
        include_bytes!("../tests/data/order-svc/server_info.json"),
    ),
];

fn demo(args: &DemoArgs) -> ExitCode {
    eprintln!(
        "meshtop demo: the built-in order-svc sample (two /stats captures 30 s apart, /clusters,\n\
         /config_dump, /server_info), analysed as `meshtop inspect` would. `meshtop demo` without\n\
         --captures runs the live dashboard on the simulated mesh.\n"
    );
    let inputs: Vec<LoadedInput> = DEMO_CAPTURES
        .iter()
        .map(|(path, bytes)| LoadedInput {
            path: (*path).to_string(),
            result: parse_capture(bytes),
        })
        .collect();
    let mut report = build_report(&inputs, None);
    report.findings = capture_findings(&inputs, None, None, None);
    emit(&report, args.output)
}
