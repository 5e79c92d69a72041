//! The help screen (`?`): the key bindings of the screen you came from, generated from the
//! keymap (so what is documented is what works), and the legend of the symbols and column
//! names. Side by side on wide terminals, one scrolled column on narrow ones.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::{App, Binding, Focus};
use crate::ui::theme::Theme;

/// Terminal width from which keys and legend are shown side by side.
const SIDE_BY_SIDE: u16 = 100;

/// Draws the help into `area`, scrolled by `view.scroll` lines.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let from = app.view.back.last().copied().unwrap_or(Focus::Overview);
    let title = format!(" help · keys of {} ", from.title());
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Span::styled(title, theme.accent));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let keys = key_lines(app.keymap.help(from), theme);
    let legend = legend_lines(theme);
    let panes = match inner.width >= SIDE_BY_SIDE {
        true => {
            let left = keys.iter().map(Line::width).max().unwrap_or(0) as u16;
            let [l, r] = Layout::horizontal([Constraint::Length(left), Constraint::Min(0)])
                .spacing(2)
                .areas(inner);
            vec![(keys, l), (legend, r)]
        }
        false => {
            let mut all = keys;
            all.push(Line::default());
            all.extend(legend);
            vec![(all, inner)]
        }
    };
    for (lines, rect) in panes {
        let max = lines.len().saturating_sub(usize::from(rect.height));
        let scroll = usize::from(app.view.scroll).min(max) as u16;
        frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), rect);
    }
}

/// One line per action: bindings that do the same thing share a line (`j, Down  down`).
fn key_lines<'a>(bindings: Vec<&Binding>, theme: &Theme) -> Vec<Line<'a>> {
    let mut grouped: Vec<(Vec<&str>, &str)> = Vec::new();
    for b in bindings {
        match grouped.iter_mut().find(|(_, help)| *help == b.help) {
            Some((keys, _)) => keys.push(b.keys),
            None => grouped.push((vec![b.keys], b.help)),
        }
    }
    let mut lines = vec![Line::styled("KEYS", theme.header)];
    lines.extend(grouped.into_iter().map(|(keys, help)| {
        Line::from(vec![
            Span::styled(format!("  {:<10}", keys.join(", ")), theme.accent),
            Span::styled(help.to_string(), theme.text),
        ])
    }));
    lines
}

/// A symbol, the theme slot it is drawn in, and what it means.
type Symbol = (&'static str, fn(&Theme) -> Style, &'static str);

const SYMBOLS: [Symbol; 8] = [
    ("●", |t| t.crit, "critical finding"),
    ("▲", |t| t.warn, "warning"),
    ("·", |t| t.info, "info"),
    ("~", |t| t.stale, "stale: a client sidecar is not answering"),
    ("—", |t| t.not_collected, "not collected (never 0): see R0"),
    (
        "10s",
        |t| t.default_value,
        "Istio/Envoy default, not configured",
    ),
    (
        "1s*",
        |t| t.crit,
        "configured, but Envoy runs another value",
    ),
    ("off", |t| t.text, "no timeout: waits as long as it takes"),
];

/// The overview's column titles and what they show.
const COLUMNS: [(&str, &str); 15] = [
    ("CLI", "client pods whose sidecar has it"),
    ("RQ/S", "requests per second"),
    ("TMO/S", "route timeouts per second"),
    ("TMO Δ", "route timeouts over the window"),
    ("CXD L/R", "cx closed with active rq, local/remote"),
    ("5XX/S", "5xx responses per second"),
    ("RETRY", "retries per second"),
    ("OVFL", "circuit-breaker overflows in window"),
    ("EJ/H/T", "endpoints ejected/healthy/total"),
    ("P99", "worst client p99 latency"),
    ("TIMEOUT", "VirtualService route timeout"),
    ("PER-TRY", "VirtualService perTryTimeout"),
    ("CONNECT", "DestinationRule connectTimeout"),
    ("IDLE", "DestinationRule http idleTimeout"),
    ("TMO TREND", "timeout rate over recent polls"),
];

/// The symbols and the overview's column names.
fn legend_lines<'a>(theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = vec![Line::styled("SYMBOLS", theme.header)];
    lines.extend(SYMBOLS.iter().map(|(symbol, slot, text)| {
        Line::from(vec![
            Span::raw("  "),
            Span::styled(format!("{symbol:<6}"), slot(theme)),
            Span::styled(*text, theme.text),
        ])
    }));
    lines.push(Line::default());
    lines.push(Line::styled(
        "COLUMNS (per second over the window)",
        theme.header,
    ));
    lines.extend(COLUMNS.iter().map(|(name, text)| {
        Line::from(vec![
            Span::styled(format!("  {name:<10}"), theme.accent),
            Span::styled(*text, theme.text),
        ])
    }));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Severity;
    use crate::ui::views::overview_cells::severity_glyph;

    #[test]
    fn the_legend_uses_the_table_glyphs() {
        let glyphs: Vec<&str> = SYMBOLS.iter().take(3).map(|s| s.0).collect();
        let table = [Severity::Critical, Severity::Warning, Severity::Info].map(severity_glyph);
        assert_eq!(glyphs, table);
    }

    #[test]
    fn bindings_with_the_same_help_share_a_line() {
        let app = crate::app::KeyMap::default();
        let theme = Theme::plain("test");
        let lines = key_lines(app.help(Focus::Overview), &theme);
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert!(text.contains(&"  j, Down   down".to_string()), "{text:?}");
        assert!(text.contains(&"  q, Ctrl+C quit".to_string()), "{text:?}");
        assert!(!text.iter().any(|l| l.starts_with("  Down ")), "{text:?}");
    }
}
