//! How a [`Finding`] reads on screen: three lines in the hint panel (headline, key evidence,
//! first verify command) and in full in the drill-down (pods, every piece of evidence, the
//! likely cause, every next step with its command on a `$` line that copies cleanly).

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::overview_cells::severity_glyph;
use crate::diagnosis::{Finding, Severity};
use crate::ui::theme::Theme;
use crate::ui::widgets::wrap::wrap_words;

/// Evidence items shown in the hint panel.
const KEY_EVIDENCE: usize = 2;

fn label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::Warning => "WARNING ",
        Severity::Info => "INFO    ",
    }
}

/// `● CRITICAL R1  title`.
pub fn headline<'a>(f: &'a Finding, theme: &Theme) -> Line<'a> {
    let style = theme.severity(f.severity);
    Line::from(vec![
        Span::styled(severity_glyph(f.severity), style),
        Span::raw(" "),
        Span::styled(label(f.severity), style.add_modifier(Modifier::BOLD)),
        Span::styled(format!(" {:<4}", f.rule), theme.muted),
        Span::styled(f.title.as_str(), theme.text),
    ])
}

/// The three hint-panel lines of a finding.
pub fn summary<'a>(f: &'a Finding, theme: &Theme) -> [Line<'a>; 3] {
    let mut evidence = vec![Span::raw("  ")];
    for (i, e) in f.evidence.iter().take(KEY_EVIDENCE).enumerate() {
        if i > 0 {
            evidence.push(Span::styled(" · ", theme.muted));
        }
        evidence.push(Span::styled(e.name.as_str(), theme.muted));
        evidence.push(Span::styled(format!(" {}", e.value), theme.text));
    }
    let command = f.next_steps.iter().find_map(|s| s.command.as_deref());
    let verify = match command {
        Some(cmd) => Line::from(vec![
            Span::styled("  $ ", theme.muted),
            Span::styled(cmd, theme.accent),
        ]),
        None => Line::styled(
            format!("  {}", f.next_steps.first().map_or("", |s| s.text.as_str())),
            theme.muted,
        ),
    };
    [headline(f, theme), Line::from(evidence), verify]
}

/// A finding in full, wrapped to `width` columns.
pub fn full<'a>(f: &'a Finding, width: u16, theme: &Theme) -> Vec<Line<'a>> {
    let width = usize::from(width);
    let mut lines = wrapped_headline(f, width, theme);
    let pods = match (&f.scope, f.pods.is_empty()) {
        (Some(scope), _) => format!("{} ({scope})", f.pods.join(", ")),
        (None, false) => f.pods.join(", "),
        (None, true) => String::new(),
    };
    if !pods.is_empty() {
        lines.extend(prose("pods", "", &pods, width, theme));
    }
    lines.extend(evidence(f, theme));
    if !f.cause.is_empty() {
        lines.extend(prose("cause", "", &f.cause, width, theme));
    }
    for (i, step) in f.next_steps.iter().enumerate() {
        let tag = if i == 0 { "verify" } else { "" };
        lines.extend(prose(
            tag,
            &format!("{}. ", i + 1),
            &step.text,
            width,
            theme,
        ));
        if let Some(cmd) = &step.command {
            lines.extend(command(cmd, width, theme));
        }
    }
    lines
}

/// Every piece of evidence, names aligned.
fn evidence<'a>(f: &'a Finding, theme: &Theme) -> Vec<Line<'a>> {
    let width = f.evidence.iter().map(|e| e.name.chars().count()).max();
    let width = width.unwrap_or(0);
    let lines = f.evidence.iter().enumerate().map(|(i, e)| {
        let tag = if i == 0 { "evidence" } else { "" };
        let effective = e.effective.as_deref().map(|x| format!(" (Envoy: {x})"));
        Line::from(vec![
            Span::styled(format!("  {tag:<9} "), theme.muted),
            Span::styled(format!("{:<width$}  ", e.name), theme.muted),
            Span::styled(e.value.as_str(), theme.text),
            Span::styled(effective.unwrap_or_default(), theme.warn),
        ])
    });
    lines.collect()
}

/// The headline with its title wrapped under itself.
pub fn wrapped_headline<'a>(f: &'a Finding, width: usize, theme: &Theme) -> Vec<Line<'a>> {
    let mut first = headline(f, theme);
    let indent = first.width() - f.title.chars().count();
    let parts = wrap_words(&f.title, width.saturating_sub(indent).max(20));
    if parts.len() < 2 {
        return vec![first];
    }
    first.spans.pop();
    let mut parts = parts.into_iter();
    first
        .spans
        .push(Span::styled(parts.next().unwrap_or_default(), theme.text));
    let rest = parts.map(|p| Line::styled(format!("{}{p}", " ".repeat(indent)), theme.text));
    std::iter::once(first).chain(rest).collect()
}

/// A verify command on `$` lines, wrapped rather than cut.
fn command<'a>(cmd: &str, width: usize, theme: &Theme) -> Vec<Line<'a>> {
    let indent = 15;
    let parts = wrap_words(cmd, width.saturating_sub(indent + 2).max(20));
    parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let prompt = if i == 0 { "$ " } else { "  " };
            Line::from(vec![
                Span::raw(" ".repeat(indent)),
                Span::styled(prompt, theme.muted),
                Span::styled(part, theme.accent),
            ])
        })
        .collect()
}

/// `  tag       N. text…` with the text wrapped under itself.
fn prose<'a>(tag: &str, number: &str, text: &str, width: usize, theme: &Theme) -> Vec<Line<'a>> {
    let indent = 12 + number.chars().count();
    let wrapped = wrap_words(text, width.saturating_sub(indent).max(20));
    wrapped
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let (head, num) = match i {
                0 => (tag, number.to_string()),
                _ => ("", " ".repeat(number.chars().count())),
            };
            Line::from(vec![
                Span::styled(format!("  {head:<9} "), theme.muted),
                Span::styled(format!("{num}{part}"), theme.text),
            ])
        })
        .collect()
}
