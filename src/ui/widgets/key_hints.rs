//! Key hints for the footer: `? help  Enter drill into  / filter …`, from the pairs the keymap
//! generates for the screen in front. A hint that does not fit whole is left out rather than
//! cut, so the footer never shows half a key.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

/// `(key, what it does)` pairs drawn as `key text` separated by two spaces.
#[derive(Debug, Clone)]
pub struct KeyHints<'a> {
    hints: &'a [(&'a str, &'a str)],
    key_style: Style,
    text_style: Style,
}

impl<'a> KeyHints<'a> {
    pub fn new(hints: &'a [(&'a str, &'a str)], key_style: Style, text_style: Style) -> Self {
        KeyHints {
            hints,
            key_style,
            text_style,
        }
    }

    /// The spans of as many whole hints as fit in `width` columns.
    pub fn spans(&self, width: usize) -> Vec<Span<'a>> {
        let mut spans = Vec::new();
        let mut used = 0;
        for (key, text) in self.hints {
            let gap = if spans.is_empty() { 0 } else { 2 };
            let need = gap + key.chars().count() + 1 + text.chars().count();
            if used + need > width {
                break;
            }
            if gap > 0 {
                spans.push(Span::styled("  ", self.text_style));
            }
            spans.push(Span::styled(*key, self.key_style));
            spans.push(Span::styled(format!(" {text}"), self.text_style));
            used += need;
        }
        spans
    }
}

impl Widget for KeyHints<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        Line::from(self.spans(usize::from(area.width))).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HINTS: &[(&str, &str)] = &[("?", "help"), ("Enter", "drill in"), ("q", "quit")];

    #[test]
    fn draws_whole_hints_only() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 24, 1));
        KeyHints::new(HINTS, Style::new().bold(), Style::new()).render(buf.area, &mut buf);
        let want = Buffer::with_lines([Line::from(vec![
            Span::styled("?", Style::new().bold()),
            " help  ".into(),
            Span::styled("Enter", Style::new().bold()),
            " drill in".into(),
            "  ".into(),
        ])]);
        assert_eq!(buf, want);
    }

    #[test]
    fn a_wide_area_holds_every_hint() {
        let hints = KeyHints::new(HINTS, Style::new(), Style::new());
        let text: String = hints.spans(80).iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "? help  Enter drill in  q quit");
        assert!(hints.spans(3).is_empty());
    }
}
