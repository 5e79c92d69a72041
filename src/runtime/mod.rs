//! The TUI runtime: connects, sets up the terminal, starts the watches, pollers, the input
//! reader and the tick, then runs the one loop — receive a [`Msg`], let [`update`] change the
//! app, perform the [`Effect`]s, draw. Bursts of messages are coalesced into one frame, and
//! frames are drawn only for a tick (1 s), input or a resize — never in a busy loop.
//!
//! I/O module. It composes small pieces: `terminal` (setup, teardown, panic hook),
//! `connection` (watches + pollers of one cluster/namespace), `input` (keys, mouse, resize,
//! tick). The app logic lives in `app`, the drawing in `ui`.

mod connection;
mod input;
pub mod terminal;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::app::{App, Effect, MeshState, Msg, Session, update};
use crate::collect::{MonotonicClock, PollerConfig};
use crate::diagnosis::Thresholds;
use crate::export::{ExportFormat, write_snapshot};
use crate::kube::{ClientOptions, connect, context_names};
use crate::ui::theme::Theme;
use crate::ui::theme_file::ThemeSet;
use connection::Connection;
use terminal::TerminalGuard;

/// Everything the TUI needs to start.
pub struct TuiOptions {
    pub client: ClientOptions,
    pub admin_port: Option<u16>,
    pub poller: PollerConfig,
    /// The window rates and findings cover.
    pub window: Duration,
    /// The themes `t` cycles through, with the one to start with selected.
    pub themes: ThemeSet,
    pub thresholds: Thresholds,
    /// Where `s` writes snapshots (`None`: the current directory).
    pub snapshot_dir: Option<PathBuf>,
    /// Shown in the status bar at start (theme warnings, demo hints).
    pub notice: Option<String>,
}

/// The formats `s` writes: Markdown to paste, SVG to attach.
pub const SNAPSHOT_FORMATS: &[ExportFormat] = &[ExportFormat::Markdown, ExportFormat::Svg];

/// Runs the TUI until the user quits. Connection problems before the terminal is taken over
/// are returned as errors (printed by the caller).
pub async fn run(opts: TuiOptions) -> Result<(), String> {
    let (client, target) = connect(&opts.client).await.map_err(|e| e.to_string())?;
    let mut guard =
        TerminalGuard::enter().map_err(|e| format!("cannot set up the terminal: {e}"))?;
    let (tx, mut rx) = mpsc::channel::<Msg>(4096);
    let clock = MonotonicClock::start();
    let mut conn = Connection::start(
        client,
        target.clone(),
        opts.admin_port,
        &opts.poller,
        clock,
        &tx,
    );
    let input = input::spawn(tx.clone(), clock);
    let mut app = App::new(
        MeshState::new(opts.thresholds.clone(), target.namespace.is_none()),
        session(&opts, &target),
    );
    if let Some(notice) = &opts.notice {
        app.status.text = notice.clone();
    }
    if let Ok(size) = guard.terminal.size() {
        update(
            &mut app,
            Msg::Resize {
                width: size.width,
                height: size.height,
            },
        );
    }
    // A draw error ends the loop like a quit: the same shutdown, then the error.
    let mut outcome = Ok(());
    while let Some(first) = rx.recv().await {
        let mut redraw = needs_redraw(&first);
        let mut effects = update(&mut app, first);
        while let Ok(msg) = rx.try_recv() {
            redraw |= needs_redraw(&msg);
            effects.extend(update(&mut app, msg));
        }
        for effect in effects {
            conn = perform(effect, &mut app, &opts, conn, clock, &tx).await;
        }
        if app.quitting {
            break;
        }
        if redraw {
            let theme = theme_of(&opts, &app);
            let drawn = guard.draw(|frame| crate::ui::draw(frame, &app, theme));
            if let Err(e) = drawn {
                outcome = Err(format!("cannot draw: {e}"));
                break;
            }
        }
    }
    input.stop();
    conn.shutdown().await;
    drop(guard);
    outcome
}

fn theme_of<'a>(opts: &'a TuiOptions, app: &App) -> &'a Theme {
    opts.themes.get(app.session.theme)
}

fn session(opts: &TuiOptions, target: &crate::kube::ResolvedTarget) -> Session {
    Session {
        context: target.context.clone(),
        namespace: target.namespace.clone(),
        interval: opts.poller.interval,
        window: opts.window,
        themes: opts.themes.names(),
        theme: opts.themes.selected_index(),
        contexts: context_names(&opts.client),
        namespaces: target.namespace.iter().cloned().collect(),
        namespaces_error: None,
        snapshot_dir: opts.snapshot_dir.clone(),
    }
}

/// Messages after which the screen changes visibly right away.
fn needs_redraw(msg: &Msg) -> bool {
    matches!(
        msg,
        Msg::Tick { .. }
            | Msg::Key(_)
            | Msg::Mouse(_)
            | Msg::Resize { .. }
            | Msg::SnapshotWritten(_)
    )
}

/// Performs one effect; returns the (possibly new) connection.
async fn perform(
    effect: Effect,
    app: &mut App,
    opts: &TuiOptions,
    mut conn: Connection,
    clock: MonotonicClock,
    tx: &mpsc::Sender<Msg>,
) -> Connection {
    match effect {
        Effect::Quit => {}
        Effect::SyncPollers(pods) => conn.sync(&pods).await,
        Effect::WriteSnapshot => {
            let dir = app
                .session
                .snapshot_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("."));
            let written = write_snapshot(app, theme_of(opts, app), &dir, SNAPSHOT_FORMATS)
                .and_then(|paths| {
                    paths
                        .into_iter()
                        .next()
                        .ok_or_else(|| "nothing written".to_string())
                });
            update(app, Msg::SnapshotWritten(written));
        }
        Effect::SwitchNamespace(ns) => {
            let client = ClientOptions {
                namespace: Some(ns),
                all_namespaces: false,
                context: app.session.context.clone(),
                ..opts.client.clone()
            };
            conn = reconnect(conn, client, app, opts, clock, tx).await;
        }
        Effect::SwitchContext(ctx) => {
            let client = ClientOptions {
                context: Some(ctx),
                namespace: app.session.namespace.clone(),
                ..opts.client.clone()
            };
            conn = reconnect(conn, client, app, opts, clock, tx).await;
        }
    }
    conn
}

/// Replaces the connection; on failure the old one keeps running and the status says why.
async fn reconnect(
    conn: Connection,
    client: ClientOptions,
    app: &mut App,
    opts: &TuiOptions,
    clock: MonotonicClock,
    tx: &mpsc::Sender<Msg>,
) -> Connection {
    match connect(&client).await {
        Ok((kube, target)) => {
            conn.shutdown().await;
            update(
                app,
                Msg::Connected {
                    context: target.context.clone(),
                    namespace: target.namespace.clone(),
                },
            );
            Connection::start(kube, target, opts.admin_port, &opts.poller, clock, tx)
        }
        Err(e) => {
            update(app, Msg::ConnectFailed(e.to_string()));
            conn
        }
    }
}
