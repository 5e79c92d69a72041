//! The overview: the upstream-cluster table (one row per destination, aggregated over the
//! client pods) above the hint panel. Rows come from `App::overview_rows`, the one list
//! keys and export also use; only the rows on screen are built. The table's top border sits on
//! the fourth line and its column titles on the fifth, so data rows start at
//! `OVERVIEW_FIRST_ROW` as mouse clicks expect. Cell contents are in `overview_cells.rs`.

use std::collections::BTreeSet;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};

use super::hints;
use super::overview_cells::{COLUMNS, RowContext, cells};
use crate::app::{App, OverviewRow, hint_panel_height};
use crate::model::CollectionState;
use crate::ui::theme::Theme;
use crate::ui::widgets::columns::{self, Column};

/// Draws the table and the hint panel into `area` (the screen between header and footer).
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let hint_rows = hint_panel_height(frame.area().height) as u16;
    let [table_area, hint_area] =
        Layout::vertical([Constraint::Min(2), Constraint::Length(hint_rows)]).areas(area);
    let rows = app.overview_rows();
    let body = table_area.height.saturating_sub(2) as usize;
    let (offset, selected) = window(app, rows.len(), body);
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Span::styled(
            title(app, rows.len(), rows.upstream),
            theme.accent,
        ));
    let inner = block.inner(table_area);
    frame.render_widget(block, table_area);
    match rows.is_empty() {
        true => draw_empty(frame, inner, app, theme),
        false => {
            let visible: Vec<OverviewRow> = rows.range(offset, offset + body).collect();
            draw_table(frame, inner, app, &visible, selected - offset, theme);
        }
    }
    let current = rows.get(selected);
    hints::draw(frame, hint_area, app, current, theme);
}

/// The first row shown and the selected row, kept on screen even if the view state was
/// computed for another size.
fn window(app: &App, rows: usize, body: usize) -> (usize, usize) {
    let cursor = app.view.overview;
    let selected = cursor.selected.min(rows.saturating_sub(1));
    let body = body.max(1);
    let mut offset = cursor.offset.min(selected);
    if selected >= offset + body {
        offset = selected + 1 - body;
    }
    (offset, selected)
}

fn title(app: &App, total: usize, all: usize) -> String {
    match &app.view.filter {
        Some(f) => format!(" upstream clusters · {total} of {all} match /{}/ ", f.text),
        None => format!(" upstream clusters · {total} "),
    }
}

fn draw_table(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    visible: &[OverviewRow],
    selected: usize,
    theme: &Theme,
) {
    let specs: Vec<Column> = COLUMNS.iter().map(|(_, c)| *c).collect();
    let kept = columns::fit(&specs, area.width, 1);
    let widths = columns::constraints(&specs, &kept);
    let ctx = RowContext {
        shown: app.mesh.shown(),
        history: app.mesh.shown_history(),
        stale: stale_pods(app),
        theme,
    };
    let rows: Vec<Row> = visible
        .iter()
        .map(|r| Row::new(cells(r, &kept, &ctx)))
        .collect();
    let table = Table::new(rows, widths)
        .header(columns::header(&specs, &kept, theme.header))
        .column_spacing(1)
        .row_highlight_style(theme.selection);
    let mut state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, area, &mut state);
}

/// Pods whose data is old: their rows are marked stale.
fn stale_pods(app: &App) -> BTreeSet<&str> {
    let sources = &app.mesh.shown().snapshot.sources;
    sources
        .iter()
        .filter(|s| matches!(s.state, CollectionState::Stale { .. }))
        .map(|s| s.pod.as_str())
        .collect()
}

/// What the table says when it has no rows.
fn draw_empty(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let snap = &app.mesh.shown().snapshot;
    let text = match (&app.view.filter, snap.sources.is_empty()) {
        (Some(f), _) => format!("no upstream cluster matches /{}/ (Esc clears)", f.text),
        (None, true) => "no sidecars found yet: waiting for discovery…".to_string(),
        (None, false) if snap.sources.iter().all(|s| !has_data(&s.state)) => {
            "waiting for the first scrape of the sidecars… (P: pods and their state)".to_string()
        }
        (None, false) => "no upstream clusters in the sidecars' stats".to_string(),
    };
    let line = Line::from(vec![Span::raw("  "), Span::styled(text, theme.muted)]);
    frame.render_widget(Paragraph::new(line), area);
}

fn has_data(state: &CollectionState) -> bool {
    matches!(
        state,
        CollectionState::Ok { .. } | CollectionState::Stale { .. }
    )
}
