//! The pods screen (`P`): every sidecar meshtop reads — pod phase, readiness and proxy
//! restarts from discovery, how collecting from it goes (ok, stale, failed, forbidden, not
//! collected) since when and why, and whether it records per-cluster stats. Rows are the shown
//! snapshot's sources matching the `/` filter (`App::pod_rows`, the list `update` counts);
//! only visible rows are built.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Row, Table, TableState};

use crate::app::App;
use crate::kube::MeshPod;
use crate::metrics::Timestamp;
use crate::model::{CollectionState, SourceState, StatsCollection};
use crate::ui::theme::Theme;
use crate::ui::widgets::columns::{self, Column};
use crate::ui::widgets::number::{NOT_COLLECTED, clock};

/// Draws the pods table into `area`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let all = app.mesh.shown().snapshot.sources.len();
    let sources = app.pod_rows();
    let title = match &app.view.filter {
        Some(f) => format!(" sidecars · {} of {all} match /{}/ ", sources.len(), f.text),
        None => format!(" sidecars · {all} "),
    };
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Span::styled(title, theme.accent));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if sources.is_empty() {
        let text = match &app.view.filter {
            Some(f) => format!("no sidecar matches /{}/ (Esc clears)", f.text),
            None => "no meshed pods discovered yet (pods with an istio-proxy sidecar)".into(),
        };
        frame.render_widget(Line::styled(format!("  {text}"), theme.muted), inner);
        return;
    }
    let specs = specs(&sources);
    let kept = columns::fit(&specs, inner.width, 1);
    let body = usize::from(inner.height.saturating_sub(1)).max(1);
    let cursor = app.view.pods;
    let selected = cursor.selected.min(sources.len() - 1);
    let mut offset = cursor.offset.min(selected);
    if selected >= offset + body {
        offset = selected + 1 - body;
    }
    let rows: Vec<Row> = sources
        .iter()
        .skip(offset)
        .take(body)
        .map(|s| row(app, s, &specs, &kept, theme))
        .collect();
    let table = Table::new(rows, columns::constraints(&specs, &kept))
        .header(columns::header(&specs, &kept, theme.header))
        .column_spacing(1)
        .row_highlight_style(theme.selection);
    let mut state = TableState::default().with_selected(Some(selected - offset));
    frame.render_stateful_widget(table, inner, &mut state);
}

/// The columns; the pod column is as wide as the longest name (20–40).
fn specs(sources: &[&SourceState]) -> [Column; 9] {
    let longest = sources.iter().map(|s| s.pod.chars().count()).max();
    let pod = longest.unwrap_or(0).clamp(20, 40) as u16;
    [
        Column::text("", 1, 0),
        Column::text("POD", pod, 0),
        Column::text("PHASE", 9, 5),
        Column::text("READY", 5, 6),
        Column::number("RST", 3, 4),
        Column::text("STATE", 13, 0),
        Column::text("SINCE", 8, 3),
        Column::text("STATS", 11, 7),
        Column::text("REASON", 12, 1).filling(),
    ]
}

fn row<'a>(
    app: &'a App,
    s: &'a SourceState,
    specs: &[Column],
    kept: &[usize],
    theme: &Theme,
) -> Row<'a> {
    let state_style = state_style(&s.state, theme);
    let [phase, ready, restarts] = discovery(app.mesh.pods.get(&s.pod), theme);
    let lines: [Line; 9] = [
        Line::styled(marker(&s.state), state_style),
        Line::styled(s.pod.as_str(), theme.text),
        phase,
        ready,
        restarts,
        Line::styled(s.state.word(), state_style),
        Line::styled(since(app, &s.state), theme.muted),
        stats(s.stats_collection, theme),
        Line::styled(reason(app, s), state_style),
    ];
    let cells = kept.iter().filter_map(|i| {
        let line = lines.get(*i)?.clone();
        specs.get(*i).map(|c| columns::cell(c, line))
    });
    Row::new(cells.collect::<Vec<_>>())
}

/// Phase, readiness and proxy restarts from discovery (`—` for a pod no longer discovered).
fn discovery<'a>(pod: Option<&'a MeshPod>, theme: &Theme) -> [Line<'a>; 3] {
    let Some(p) = pod else {
        return std::array::from_fn(|_| Line::styled(NOT_COLLECTED, theme.not_collected));
    };
    let warn_if = |bad: bool, ok| if bad { theme.warn } else { ok };
    [
        Line::styled(p.phase.as_str(), warn_if(p.phase != "Running", theme.text)),
        Line::styled(
            if p.ready { "yes" } else { "no" },
            warn_if(!p.ready, theme.text),
        ),
        Line::styled(
            p.proxy_restarts.to_string(),
            warn_if(p.proxy_restarts > 0, theme.muted),
        ),
    ]
}

/// A shape per state, so no colour is needed: `~` stale, `●` failed or forbidden, `—` not
/// collected, `…` pending.
fn marker(state: &CollectionState) -> &'static str {
    match state {
        CollectionState::Ok { .. } => " ",
        CollectionState::Pending => "…",
        CollectionState::Stale { .. } => "~",
        CollectionState::Failed { .. } | CollectionState::Forbidden { .. } => "●",
        CollectionState::NotCollected { .. } => NOT_COLLECTED,
    }
}

fn state_style(state: &CollectionState, theme: &Theme) -> Style {
    match state {
        CollectionState::Ok { .. } => theme.ok,
        CollectionState::Pending => theme.muted,
        CollectionState::Stale { .. } => theme.stale,
        CollectionState::Failed { .. } | CollectionState::Forbidden { .. } => theme.crit,
        CollectionState::NotCollected { .. } => theme.not_collected,
    }
}

fn stats<'a>(s: StatsCollection, theme: &Theme) -> Line<'a> {
    match s {
        StatsCollection::Full => Line::styled("per-cluster", theme.text),
        StatsCollection::DefaultInclusionOnly => Line::styled("not enabled", theme.warn),
        StatsCollection::None => Line::styled(NOT_COLLECTED, theme.not_collected),
    }
}

/// The wall-clock time of a collector timestamp, from the last tick's pair of clocks.
pub fn wall_clock(app: &App, t: Timestamp) -> String {
    let c = app.clock;
    if c.unix_ms == 0 {
        return NOT_COLLECTED.to_string();
    }
    let ago = c.now.as_millis().saturating_sub(t.as_millis());
    clock(c.unix_ms.saturating_sub(ago))
}

/// Last good poll for a healthy source, else since when it has been failing.
fn since(app: &App, state: &CollectionState) -> String {
    match state {
        CollectionState::Ok { at } => wall_clock(app, *at),
        CollectionState::Stale { since, .. } | CollectionState::Failed { since, .. } => {
            wall_clock(app, *since)
        }
        _ => String::new(),
    }
}

fn reason(app: &App, s: &SourceState) -> String {
    match &s.state {
        CollectionState::Stale {
            reason, last_ok, ..
        } => format!("{reason}; data from {}", wall_clock(app, *last_ok)),
        CollectionState::Failed { reason, .. }
        | CollectionState::Forbidden { reason }
        | CollectionState::NotCollected { reason } => reason.clone(),
        CollectionState::Pending => "connecting…".to_string(),
        CollectionState::Ok { .. } => match s.stats_collection {
            StatsCollection::DefaultInclusionOnly => {
                "per-cluster stats off (Istio default): see R0".to_string()
            }
            _ => String::new(),
        },
    }
}
