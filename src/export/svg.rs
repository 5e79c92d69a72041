//! A rendered screen (`ratatui::buffer::Buffer`) as a standalone SVG picture: a monospace cell
//! grid, one background `<rect>` per run of same-coloured cells, one `<text>` per row with one
//! `<tspan>` per run of same-style characters (pinned to the grid with `x` and `textLength`),
//! the theme's colours converted by `palette`. Used for postmortem snapshots and the README's
//! screenshots.

use std::fmt::Write;

use ratatui::buffer::{Buffer, Cell};
use ratatui::style::Modifier;

use super::grid::{Glyph, row_glyphs};
use super::palette::{DEFAULT_BG, DEFAULT_FG, Rgb, rgb};

/// Cell width and height in pixels for a 14 px monospace font.
const CELL_W: f64 = 8.4;
const CELL_H: f64 = 18.0;
/// Baseline of the text inside a cell.
const BASELINE: f64 = 13.5;
const FONT: &str = "ui-monospace, 'SFMono-Regular', Menlo, Consolas, 'DejaVu Sans Mono', monospace";

/// How a run of characters is drawn (two cells with equal `Ink` share a `<tspan>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ink {
    fill: Rgb,
    bold: bool,
    italic: bool,
    dim: bool,
    hidden: bool,
    underline: bool,
    strike: bool,
}

/// The whole buffer as an SVG document.
pub fn buffer_to_svg(buf: &Buffer) -> String {
    let (cols, rows) = (buf.area.width, buf.area.height);
    let (w, h) = (f64::from(cols) * CELL_W, f64::from(rows) * CELL_H);
    let mut out = String::with_capacity(usize::from(cols) * usize::from(rows) * 4 + 512);
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.1}\" height=\"{h:.1}\" \
         viewBox=\"0 0 {w:.1} {h:.1}\" font-family=\"{FONT}\" font-size=\"14\" \
         xml:space=\"preserve\" shape-rendering=\"crispEdges\">"
    );
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{}\"/>",
        DEFAULT_BG.hex()
    );
    let grid: Vec<Vec<Glyph<'_>>> = (0..rows).map(|y| row_glyphs(buf, y)).collect();
    for (y, glyphs) in grid.iter().enumerate() {
        write_backgrounds(&mut out, y, glyphs);
    }
    for (y, glyphs) in grid.iter().enumerate() {
        write_text_row(&mut out, y, glyphs);
    }
    out.push_str("</svg>\n");
    out
}

/// Foreground and background as displayed: `Reset` is the terminal default, `REVERSED` swaps.
fn cell_colours(cell: &Cell) -> (Rgb, Rgb) {
    let fg = rgb(cell.fg).unwrap_or(DEFAULT_FG);
    let bg = rgb(cell.bg).unwrap_or(DEFAULT_BG);
    match cell.modifier.contains(Modifier::REVERSED) {
        true => (bg, fg),
        false => (fg, bg),
    }
}

fn ink(cell: &Cell) -> Ink {
    let m = cell.modifier;
    Ink {
        fill: cell_colours(cell).0,
        bold: m.contains(Modifier::BOLD),
        italic: m.contains(Modifier::ITALIC),
        dim: m.contains(Modifier::DIM),
        hidden: m.contains(Modifier::HIDDEN),
        underline: m.contains(Modifier::UNDERLINED),
        strike: m.contains(Modifier::CROSSED_OUT),
    }
}

/// The first column of a run and the columns it covers.
fn extent(run: &[Glyph<'_>]) -> (u16, u16) {
    let first = run.first().map_or(0, |g| g.column);
    (first, run.iter().map(|g| g.width).sum())
}

fn write_backgrounds(out: &mut String, y: usize, glyphs: &[Glyph<'_>]) {
    for run in glyphs.chunk_by(|a, b| cell_colours(a.cell).1 == cell_colours(b.cell).1) {
        let bg = run.first().map_or(DEFAULT_BG, |g| cell_colours(g.cell).1);
        if bg == DEFAULT_BG {
            continue;
        }
        let (column, width) = extent(run);
        let _ = writeln!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{CELL_H:.1}\" fill=\"{}\"/>",
            f64::from(column) * CELL_W,
            y as f64 * CELL_H,
            f64::from(width) * CELL_W,
            bg.hex()
        );
    }
}

fn write_text_row(out: &mut String, y: usize, glyphs: &[Glyph<'_>]) {
    let mut spans = String::new();
    for run in glyphs.chunk_by(|a, b| ink(a.cell) == ink(b.cell)) {
        if let Some(first) = run.first() {
            write_tspan(&mut spans, run, ink(first.cell));
        }
    }
    if !spans.is_empty() {
        let baseline = y as f64 * CELL_H + BASELINE;
        let _ = writeln!(out, "<text y=\"{baseline:.1}\">{spans}</text>");
    }
}

/// One run as a `<tspan>`; blank runs are left out unless underlined or struck through, and
/// spaces at the ends are trimmed (the `x` keeps the grid).
fn write_tspan(out: &mut String, run: &[Glyph<'_>], ink: Ink) {
    let (column, width) = extent(run);
    let text: String = run.iter().map(Glyph::symbol).collect();
    let decorated = ink.underline || ink.strike;
    let (text, column, width) = match decorated {
        true => (text.as_str(), column, width),
        false => {
            let lead = text.len() - text.trim_start_matches(' ').len();
            let trimmed = text.trim_matches(' ');
            let trail = text.len() - lead - trimmed.len();
            let width = width.saturating_sub((lead + trail) as u16);
            (trimmed, column + lead as u16, width)
        }
    };
    if ink.hidden || text.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<tspan x=\"{:.1}\" textLength=\"{:.1}\" lengthAdjust=\"spacingAndGlyphs\" fill=\"{}\"",
        f64::from(column) * CELL_W,
        f64::from(width) * CELL_W,
        ink.fill.hex()
    );
    let attrs = [
        (ink.bold, " font-weight=\"bold\""),
        (ink.italic, " font-style=\"italic\""),
        (ink.dim, " fill-opacity=\"0.6\""),
    ];
    for (_, attr) in attrs.iter().filter(|(on, _)| *on) {
        out.push_str(attr);
    }
    let decoration = match (ink.underline, ink.strike) {
        (true, true) => " text-decoration=\"underline line-through\"",
        (true, false) => " text-decoration=\"underline\"",
        (false, true) => " text-decoration=\"line-through\"",
        (false, false) => "",
    };
    out.push_str(decoration);
    let _ = write!(out, ">{}</tspan>", xml_escape(text));
}

/// Escapes text for XML; control characters (not allowed in XML 1.0) become U+FFFD.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c < ' ' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Style};

    #[test]
    fn runs_of_one_style_share_a_tspan_and_backgrounds_become_rects() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 6, 2));
        buf.set_string(0, 0, "a<b", Style::new().fg(Color::Rgb(255, 0, 0)).bold());
        buf.set_string(3, 0, "&", Style::new().bg(Color::Indexed(21)));
        buf.set_string(1, 1, "ok", Style::new().green().reversed());
        let svg = buffer_to_svg(&buf);
        let lines: Vec<&str> = svg.lines().collect();
        assert_eq!(
            lines[0],
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"50.4\" height=\"36.0\" \
             viewBox=\"0 0 50.4 36.0\" font-family=\"ui-monospace, 'SFMono-Regular', Menlo, \
             Consolas, 'DejaVu Sans Mono', monospace\" font-size=\"14\" xml:space=\"preserve\" \
             shape-rendering=\"crispEdges\">"
        );
        assert_eq!(
            &lines[1..],
            [
                "<rect x=\"0\" y=\"0\" width=\"50.4\" height=\"36.0\" fill=\"#1e1e1e\"/>",
                "<rect x=\"25.2\" y=\"0.0\" width=\"8.4\" height=\"18.0\" fill=\"#0000ff\"/>",
                "<rect x=\"8.4\" y=\"18.0\" width=\"16.8\" height=\"18.0\" fill=\"#0dbc79\"/>",
                "<text y=\"13.5\"><tspan x=\"0.0\" textLength=\"25.2\" \
                 lengthAdjust=\"spacingAndGlyphs\" fill=\"#ff0000\" font-weight=\"bold\">a&lt;b\
                 </tspan><tspan x=\"25.2\" textLength=\"8.4\" lengthAdjust=\"spacingAndGlyphs\" \
                 fill=\"#cccccc\">&amp;</tspan></text>",
                "<text y=\"31.5\"><tspan x=\"8.4\" textLength=\"16.8\" \
                 lengthAdjust=\"spacingAndGlyphs\" fill=\"#1e1e1e\">ok</tspan></text>",
                "</svg>",
            ]
        );
    }

    #[test]
    fn decorations_and_dim_text_keep_their_attributes() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 3, 1));
        buf.set_string(0, 0, " x", Style::new().underlined().crossed_out().dim());
        let svg = buffer_to_svg(&buf);
        assert!(
            svg.contains(
                "<tspan x=\"0.0\" textLength=\"16.8\" lengthAdjust=\"spacingAndGlyphs\" \
                 fill=\"#cccccc\" fill-opacity=\"0.6\" \
                 text-decoration=\"underline line-through\"> x</tspan>"
            ),
            "{svg}"
        );
        assert_eq!(xml_escape("a\"'\u{1b}"), "a&quot;&apos;\u{fffd}");
    }
}
