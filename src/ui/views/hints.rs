//! The hint panel under the overview table: the top findings for the selected row, followed by
//! the namespace-wide ones (about pods or the mesh, not one cluster) — or every finding when
//! that row has none — three lines each (headline, key evidence, first verify command), the
//! headlines wrapped when there is room. Its top border carries the legend of the table's
//! symbols.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::finding;
use crate::app::App;
use crate::diagnosis::Finding;
use crate::model::ClusterSnapshot;
use crate::ui::theme::Theme;

/// Lines per finding in the panel.
const LINES_PER_FINDING: usize = 3;

/// Draws the panel for `selected` (the overview's selected row) into `area`.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    selected: Option<&ClusterSnapshot>,
    theme: &Theme,
) {
    let findings = &app.mesh.shown().findings;
    let about: Vec<&Finding> = selected
        .map(|c| {
            let name = Some(c.key.name.as_str());
            findings
                .iter()
                .filter(|f| f.cluster.as_deref() == name)
                .collect()
        })
        .unwrap_or_default();
    let (scope, list): (String, Vec<&Finding>) = match (about.is_empty(), selected) {
        (false, Some(c)) => {
            let wide = findings.iter().filter(|f| f.cluster.is_none());
            (c.label.clone(), about.into_iter().chain(wide).collect())
        }
        _ => (namespace_scope(app, selected), findings.iter().collect()),
    };
    let title = format!(" hints · {scope} ");
    let legend_room = usize::from(area.width).saturating_sub(title.chars().count() + 4);
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Span::styled(title, theme.accent))
        .title_top(legend(legend_room, theme).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = body(app, &list, inner, theme);
    frame.render_widget(Paragraph::new(lines), inner);
}

fn namespace_scope(app: &App, selected: Option<&ClusterSnapshot>) -> String {
    let ns = app.session.namespace.as_deref().unwrap_or("all namespaces");
    match selected {
        Some(c) => format!("namespace {ns} (none about {})", c.label),
        None => format!("namespace {ns}"),
    }
}

/// As many findings as fit at three lines each, then how many more there are; lines left
/// over go to wrapping the headlines (first finding first) instead of cutting them.
fn body<'a>(app: &App, list: &[&'a Finding], area: Rect, theme: &Theme) -> Vec<Line<'a>> {
    let height = usize::from(area.height);
    if list.is_empty() {
        let window = app.mesh.shown().snapshot.window_seconds;
        let text = format!("✓ no findings over the last {window:.0}s window");
        return vec![Line::styled(text, theme.ok)];
    }
    let fit = match list.len() * LINES_PER_FINDING <= height {
        true => list.len(),
        false => height.saturating_sub(1) / LINES_PER_FINDING,
    };
    let more = usize::from(fit < list.len());
    let mut spare = height.saturating_sub(fit * LINES_PER_FINDING + more);
    let mut lines: Vec<Line> = Vec::new();
    for f in list.iter().take(fit) {
        let [headline, evidence, verify] = finding::summary(f, theme);
        let wrapped = finding::wrapped_headline(f, usize::from(area.width), theme);
        let extra = wrapped.len().saturating_sub(1);
        match extra <= spare {
            true => {
                spare -= extra;
                lines.extend(wrapped);
            }
            false => lines.push(headline),
        }
        lines.extend([evidence, verify]);
    }
    if fit < list.len() {
        let more = list.len() - fit;
        let text = format!("+{more} more (Enter: a row's findings in full)");
        lines.push(Line::styled(text, theme.muted));
    }
    lines
}

/// The symbols of the table, as long as fits in `room` columns.
fn legend<'a>(room: usize, theme: &Theme) -> Line<'a> {
    let parts = [
        vec![Span::styled(" — not collected ", theme.muted)],
        vec![Span::styled("· ~ stale ", theme.muted)],
        vec![
            Span::styled("· ", theme.muted),
            Span::styled("default", theme.default_value),
            Span::styled(" ", theme.muted),
        ],
        vec![Span::styled("· * Envoy differs ", theme.muted)],
    ];
    let mut spans = Vec::new();
    let mut used = 0;
    for part in parts {
        let w: usize = part.iter().map(Span::width).sum();
        if used + w > room {
            break;
        }
        used += w;
        spans.extend(part);
    }
    Line::from(spans)
}
