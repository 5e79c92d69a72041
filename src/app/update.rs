//! `update`: the single writer. One short arm per message; key handling goes through the
//! keymap to an [`Action`] and one arm per action.

use std::time::Duration;

use super::action::Action;
use super::mesh::RebuildAt;
use super::view_state::{Filter, Focus, Input};
use super::{App, Effect, Msg, Status};
use crate::kube::IstioEvent;

/// Screen row of the overview table's first data row (header 3 lines, table border and
/// column titles 2); the overview view draws to this layout.
pub const OVERVIEW_FIRST_ROW: u16 = 5;

/// Applies one message and returns what the runtime must do. The overview's row order is
/// brought up to date after every message, so frames and keys only read it.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let effects = apply(app, msg);
    app.rows.refresh(app.mesh.shown(), &app.view);
    effects
}

fn apply(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Collector(m) => {
            app.mesh.apply_collector(m);
            Vec::new()
        }
        Msg::Collected(batch) => {
            for m in batch {
                app.mesh.apply_collector(m);
            }
            Vec::new()
        }
        Msg::Pods(event) => {
            app.mesh.apply_pods(event);
            vec![Effect::SyncPollers(
                app.mesh.pods.values().cloned().collect(),
            )]
        }
        Msg::Istio(IstioEvent::Objects(objects)) => {
            app.mesh.apply_istio(objects);
            Vec::new()
        }
        Msg::Istio(IstioEvent::Error(e)) => {
            set_status(app, format!("Istio config: {e}"), true);
            Vec::new()
        }
        Msg::Tick { now, unix_ms } => {
            tick(app, now, unix_ms);
            Vec::new()
        }
        Msg::Key(key) => {
            let action = app.keymap.action(app.view.focus, &app.view.input, key);
            action.map_or_else(Vec::new, |a| act(app, a))
        }
        Msg::Mouse(event) => {
            let action = app.keymap.mouse_action(event);
            action.map_or_else(Vec::new, |a| act(app, a))
        }
        Msg::Resize { width, height } => {
            app.view.size = (width, height);
            clamp_cursors(app);
            Vec::new()
        }
        Msg::Connected { context, namespace } => {
            let qualified = namespace.is_none();
            app.mesh = super::MeshState::new(app.mesh.thresholds.clone(), qualified);
            app.session.context = context;
            app.session.namespaces = namespace.iter().cloned().collect();
            app.session.namespaces_error = None;
            app.session.namespace = namespace;
            app.view.overview = Default::default();
            app.view.pods = Default::default();
            let scope = app.session.namespace.as_deref().unwrap_or("all namespaces");
            set_status(app, format!("collecting from {scope}"), false);
            Vec::new()
        }
        Msg::ConnectFailed(e) => {
            set_status(app, e, true);
            Vec::new()
        }
        Msg::Namespaces(listed) => {
            let session = &mut app.session;
            match listed {
                Ok(names) => {
                    session.namespaces = names;
                    session.namespaces_error = None;
                }
                Err(e) => session.namespaces_error = Some(e),
            }
            if let Some(ns) = &session.namespace
                && !session.namespaces.contains(ns)
            {
                session.namespaces.push(ns.clone());
                session.namespaces.sort();
            }
            Vec::new()
        }
        Msg::SnapshotWritten(result) => {
            match result {
                Ok(path) => set_status(app, format!("snapshot written: {}", path.display()), false),
                Err(e) => set_status(app, format!("snapshot failed: {e}"), true),
            }
            Vec::new()
        }
    }
}

fn tick(app: &mut App, now: crate::metrics::Timestamp, unix_ms: u64) {
    app.clock.now = now;
    app.clock.unix_ms = unix_ms;
    let recent = (app.session.interval * 2).max(Duration::from_secs(1));
    let at = RebuildAt {
        now,
        unix_ms,
        window: app.session.window,
        recent,
        // A little under the interval, so a tick that comes early does not skip a round.
        min_gap: app
            .session
            .interval
            .saturating_sub(Duration::from_millis(250)),
        context: app.session.context.as_deref(),
        namespace: app.session.namespace.as_deref(),
    };
    app.mesh.rebuild(at);
    clamp_cursors(app);
}

fn set_status(app: &mut App, text: String, error: bool) {
    app.status = Status { text, error };
}

/// Rows of the table in front (overview clusters or pods).
fn row_count(app: &App) -> usize {
    match app.view.focus {
        Focus::Overview => app.overview_rows().len(),
        Focus::Pods => app.pod_rows().len(),
        Focus::Cluster | Focus::Help => 0,
    }
}

fn clamp_cursors(app: &mut App) {
    app.rows.refresh(app.mesh.shown(), &app.view);
    let height = app.view.table_height();
    let rows = app.overview_rows().len();
    let pods = app.pod_rows().len();
    app.view.overview.keep_visible(rows, height);
    app.view.pods.keep_visible(pods, height);
}

/// Moves the selection (tables) or the scroll (text screens) by `delta`.
fn step(app: &mut App, delta: isize) {
    let (rows, height) = (row_count(app), app.view.table_height());
    match app.view.focus {
        Focus::Overview => app.view.overview.step(delta, rows, height),
        Focus::Pods => app.view.pods.step(delta, rows, height),
        Focus::Cluster | Focus::Help => {
            let scroll = (app.view.scroll as isize).saturating_add(delta).max(0);
            app.view.scroll = u16::try_from(scroll).unwrap_or(u16::MAX);
        }
    }
}

fn act(app: &mut App, action: Action) -> Vec<Effect> {
    let page = app.view.table_height() as isize;
    match action {
        Action::Quit => {
            app.quitting = true;
            return vec![Effect::Quit];
        }
        Action::Up => step(app, -1),
        Action::Down => step(app, 1),
        Action::ScrollUp => step(app, -3),
        Action::ScrollDown => step(app, 3),
        Action::PageUp => step(app, -page),
        Action::PageDown => step(app, page),
        Action::Home => step(app, isize::MIN / 2),
        Action::End => step(app, isize::MAX / 2),
        Action::Open => open_selected(app),
        Action::Back => back(app),
        Action::StartFilter => {
            let text = app
                .view
                .filter
                .as_ref()
                .map_or(String::new(), |f| f.text.clone());
            app.view.input = Input::Filter(text);
        }
        Action::StartCommand => app.view.input = Input::Command(String::new()),
        Action::Type(c) => edit_input(app, |s| s.push(c)),
        Action::Erase => edit_input(app, |s| {
            s.pop();
        }),
        Action::Complete => complete(app),
        Action::Submit => return submit(app),
        Action::SortBy(col) => {
            app.view.sort = col;
            set_status(app, format!("sorted by {}", col.label()), false);
        }
        Action::TogglePause => {
            app.view.paused = !app.view.paused;
            app.mesh.set_paused(app.view.paused);
        }
        Action::Snapshot => return vec![Effect::WriteSnapshot],
        Action::NextTheme => {
            let n = app.session.themes.len().max(1);
            app.session.theme = (app.session.theme + 1) % n;
            set_status(app, format!("theme {}", app.session.theme_name()), false);
        }
        Action::ShowHelp => app.view.open(Focus::Help),
        Action::ShowPods => app.view.open(Focus::Pods),
        Action::ClickRow(row) => click(app, row),
    }
    clamp_cursors(app);
    Vec::new()
}

fn open_selected(app: &mut App) {
    if app.view.focus != Focus::Overview {
        return;
    }
    let rows = app.overview_rows();
    if let Some(c) = rows.get(app.view.overview.selected) {
        app.view.detail = Some(c.key.name.clone());
        app.view.open(Focus::Cluster);
    }
}

fn back(app: &mut App) {
    if app.view.input != Input::None {
        app.view.input = Input::None;
    } else if !app.view.close() && app.view.filter.is_some() {
        app.view.filter = None;
        set_status(app, "filter cleared".into(), false);
    }
}

fn click(app: &mut App, row: u16) {
    if app.view.focus != Focus::Overview || row < OVERVIEW_FIRST_ROW {
        return;
    }
    let index = app.view.overview.offset + usize::from(row - OVERVIEW_FIRST_ROW);
    if index < row_count(app) {
        app.view.overview.selected = index;
    }
}

/// Edits the line being typed; a filter applies as it is typed when it compiles.
fn edit_input(app: &mut App, edit: impl FnOnce(&mut String)) {
    match &mut app.view.input {
        Input::Filter(text) => {
            edit(text);
            let text = text.clone();
            match text.is_empty() {
                true => app.view.filter = None,
                false => {
                    if let Ok(f) = Filter::new(&text) {
                        app.view.filter = Some(f);
                    }
                }
            }
            app.view.overview = Default::default();
        }
        Input::Command(text) => edit(text),
        Input::None => {}
    }
}

fn submit(app: &mut App) -> Vec<Effect> {
    match std::mem::take(&mut app.view.input) {
        Input::Filter(text) if text.is_empty() => app.view.filter = None,
        Input::Filter(text) => match Filter::new(&text) {
            Ok(f) => app.view.filter = Some(f),
            Err(e) => set_status(app, e, true),
        },
        Input::Command(text) => return command(app, text.trim()),
        Input::None => {}
    }
    Vec::new()
}

/// The `:` commands.
fn command(app: &mut App, text: &str) -> Vec<Effect> {
    let (verb, arg) = text
        .split_once(' ')
        .map_or((text, ""), |(v, a)| (v, a.trim()));
    match (verb, arg) {
        ("q" | "quit", _) => act(app, Action::Quit),
        ("pods" | "po", _) => act(app, Action::ShowPods),
        ("help", _) => act(app, Action::ShowHelp),
        // The session changes on `Msg::Connected`: until then (and if connecting fails) the
        // header names what is still being collected.
        ("ns" | "namespace", ns) if !ns.is_empty() => {
            set_status(app, format!("switching to namespace {ns}"), false);
            vec![Effect::SwitchNamespace(ns.to_string())]
        }
        ("ctx" | "context", ctx) if !ctx.is_empty() => {
            set_status(app, format!("switching to context {ctx}"), false);
            vec![Effect::SwitchContext(ctx.to_string())]
        }
        ("theme", name) if !name.is_empty() => {
            match app.session.themes.iter().position(|t| t == name) {
                Some(i) => {
                    app.session.theme = i;
                    set_status(app, format!("theme {name}"), false);
                }
                None => set_status(
                    app,
                    format!(
                        "unknown theme {name}; known: {}",
                        app.session.themes.join(", ")
                    ),
                    true,
                ),
            }
            Vec::new()
        }
        _ => {
            set_status(
                app,
                format!(
                    "unknown command :{text} (try :ns NAME, :ctx NAME, :theme NAME, :pods, :q)"
                ),
                true,
            );
            Vec::new()
        }
    }
}

/// Completes the command line from commands, themes, contexts and namespaces, like a shell:
/// one match is completed, several are completed to their common prefix and listed in the
/// status bar, none says so (and why, when the namespaces could not be listed).
fn complete(app: &mut App) {
    let Input::Command(text) = &app.view.input else {
        return;
    };
    let (verb, arg) = text
        .split_once(' ')
        .map_or((text.as_str(), None), |(v, a)| (v, Some(a)));
    let (what, prefix, candidates): (&str, &str, Vec<&str>) = match arg {
        None => ("command", verb, COMMANDS.to_vec()),
        Some(prefix) => match verb {
            "theme" => ("theme", prefix, strs(&app.session.themes)),
            "ns" | "namespace" => ("namespace", prefix, strs(&app.session.namespaces)),
            "ctx" | "context" => ("context", prefix, strs(&app.session.contexts)),
            _ => return,
        },
    };
    let matches: Vec<&str> = candidates
        .into_iter()
        .filter(|c| c.starts_with(prefix))
        .collect();
    let line = |done: &str| match arg {
        None => done.to_string(),
        Some(_) => format!("{verb} {done}"),
    };
    let (input, status) = match matches.as_slice() {
        [] => {
            let why = match (what, &app.session.namespaces_error) {
                ("namespace", Some(e)) => format!(" (namespaces could not be listed: {e})"),
                _ => String::new(),
            };
            (
                None,
                Some(format!("no {what} starts with \"{prefix}\"{why}")),
            )
        }
        [one] => {
            let space = if arg.is_none() { " " } else { "" };
            (Some(line(&format!("{one}{space}"))), None)
        }
        many => {
            let common = common_prefix(many);
            let shown = many.iter().take(8).copied().collect::<Vec<_>>().join(" ");
            let more = if many.len() > 8 { " …" } else { "" };
            (Some(line(common)), Some(format!("{shown}{more}")))
        }
    };
    if let Some(input) = input {
        app.view.input = Input::Command(input);
    }
    if let Some(text) = status {
        set_status(app, text, false);
    }
}

/// The commands `:` knows, for completion.
const COMMANDS: [&str; 6] = ["ns", "ctx", "theme", "pods", "help", "quit"];

fn strs(items: &[String]) -> Vec<&str> {
    items.iter().map(String::as_str).collect()
}

/// The longest prefix all of `items` share (at a character boundary).
fn common_prefix<'a>(items: &[&'a str]) -> &'a str {
    let Some(first) = items.first() else {
        return "";
    };
    let mut end = first.len();
    for item in &items[1..] {
        end = first
            .char_indices()
            .zip(item.chars())
            .find(|((_, a), b)| a != b)
            .map_or(end.min(item.len()).min(first.len()), |((i, _), _)| {
                i.min(end)
            });
    }
    &first[..end]
}
