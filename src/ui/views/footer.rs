//! The bottom line: the `/regex` or `:command` being typed, else the status message (the last
//! thing that happened: `snapshot written: …`, `sorted by p99`, errors in the error style)
//! followed by the key hints the keymap generates for the screen in front.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::{App, Input};
use crate::ui::theme::Theme;
use crate::ui::widgets::KeyHints;

/// Draws the footer into `area` (one line).
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let line = match &app.view.input {
        Input::Filter(text) => typing(app, '/', text, "Enter keep · Esc cancel", theme),
        Input::Command(text) => typing(app, ':', text, "Tab complete · Enter run · Esc", theme),
        Input::None => hints(app, usize::from(area.width), theme),
    };
    frame.render_widget(line, area);
}

/// `/inv▏   Enter keep · Esc cancel`; a filter that does not compile yet is marked.
fn typing<'a>(app: &App, prompt: char, text: &'a str, help: &'a str, theme: &Theme) -> Line<'a> {
    let invalid = prompt == '/'
        && !text.is_empty()
        && app.view.filter.as_ref().is_none_or(|f| f.text != text);
    let text_style = if invalid {
        theme.status_error
    } else {
        theme.text
    };
    let mut spans = vec![
        Span::styled(prompt.to_string(), theme.accent),
        Span::styled(text, text_style),
        Span::styled("▏", theme.accent),
        Span::styled("   ", theme.muted),
        Span::styled(help, theme.muted),
    ];
    if invalid {
        spans.push(Span::styled(
            "  (not a valid regex yet)",
            theme.status_error,
        ));
    }
    Line::from(spans)
}

/// Status first, then as many key hints as fit.
fn hints<'a>(app: &'a App, width: usize, theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    if !app.status.text.is_empty() {
        let style = match app.status.error {
            true => theme.status_error,
            false => theme.status,
        };
        spans.push(Span::styled(app.status.text.as_str(), style));
        spans.push(Span::styled(" │ ", theme.border));
    }
    let used: usize = spans.iter().map(Span::width).sum();
    let pairs = app.keymap.footer(app.view.focus);
    let keys = KeyHints::new(&pairs, theme.accent, theme.muted).spans(width.saturating_sub(used));
    spans.extend(
        keys.into_iter()
            .map(|s| Span::styled(s.content.into_owned(), s.style)),
    );
    Line::from(spans)
}
