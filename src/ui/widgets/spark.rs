//! Text sparklines (`▁▂▃▅▇`) that fit in a table cell or a line of text, newest value at the
//! right edge. ratatui's `Sparkline` needs a whole area of its own; these are strings, so a
//! table row, the drill-down chart and the text export can all carry them.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::Widget;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` values as bars scaled to their maximum, right-aligned (older points that
/// do not fit are dropped; missing ones are blanks on the left). Zero is the lowest bar; any
/// positive value is at least the second, so a single event stays visible.
pub fn spark_text(values: &[f64], width: usize) -> String {
    let shown = &values[values.len().saturating_sub(width)..];
    let max = shown
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let mut out = " ".repeat(width - shown.len());
    out.extend(shown.iter().map(|v| bar(*v, max)));
    out
}

fn bar(v: f64, max: f64) -> char {
    if !v.is_finite() || v <= 0.0 || max <= 0.0 {
        return BARS[0];
    }
    let level = ((v / max) * (BARS.len() - 1) as f64).round() as usize;
    BARS[level.clamp(1, BARS.len() - 1)]
}

/// A sparkline drawn into one line of an area.
#[derive(Debug, Clone)]
pub struct Spark<'a> {
    values: &'a [f64],
    style: Style,
}

impl<'a> Spark<'a> {
    pub fn new(values: &'a [f64], style: Style) -> Self {
        Spark { values, style }
    }
}

impl Widget for Spark<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let text = spark_text(self.values, usize::from(area.width));
        Line::styled(text, self.style).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_to_the_maximum_and_keeps_the_newest_at_the_right() {
        assert_eq!(spark_text(&[0.0, 1.0, 2.0, 4.0], 4), "▁▃▅█");
        assert_eq!(spark_text(&[0.0, 0.01, 8.0], 3), "▁▂█");
        assert_eq!(spark_text(&[1.0, 2.0], 4), "  ▅█");
        assert_eq!(spark_text(&[9.0, 0.0, 0.0, 1.0], 2), "▁█");
        assert_eq!(spark_text(&[0.0, 0.0], 2), "▁▁");
        assert_eq!(spark_text(&[], 3), "   ");
    }

    #[test]
    fn renders_into_a_buffer() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 6, 1));
        Spark::new(&[1.0, 3.0, 7.0], Style::default()).render(buf.area, &mut buf);
        assert_eq!(buf, Buffer::with_lines(["   ▂▄█"]));
    }
}
