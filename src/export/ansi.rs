//! A rendered screen (`ratatui::buffer::Buffer`) as text with ANSI SGR escape sequences, for
//! `cat`-ing a snapshot back into a terminal: one full SGR (reset, then attributes and
//! colours) at each style change, a reset at the end of every styled line, trailing blank
//! cells dropped.

use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};

use super::grid::{Glyph, row_glyphs};
use super::palette::ansi_index;

const RESET: &str = "\x1b[0m";

/// SGR codes of each modifier, in code order.
const MODIFIERS: [(Modifier, u8); 9] = [
    (Modifier::BOLD, 1),
    (Modifier::DIM, 2),
    (Modifier::ITALIC, 3),
    (Modifier::UNDERLINED, 4),
    (Modifier::SLOW_BLINK, 5),
    (Modifier::RAPID_BLINK, 6),
    (Modifier::REVERSED, 7),
    (Modifier::HIDDEN, 8),
    (Modifier::CROSSED_OUT, 9),
];

/// The style part of a cell that escape sequences carry.
type Pen = (Color, Color, Modifier);

const PLAIN: Pen = (Color::Reset, Color::Reset, Modifier::empty());

fn pen(cell: &Cell) -> Pen {
    (cell.fg, cell.bg, cell.modifier)
}

/// The whole buffer, one line per row.
pub fn buffer_to_ansi(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let glyphs = row_glyphs(buf, y);
        let end = glyphs.iter().rposition(visible).map_or(0, |i| i + 1);
        let mut current = PLAIN;
        for g in glyphs.iter().take(end) {
            let next = pen(g.cell);
            if next != current {
                out.push_str(&sgr(next));
                current = next;
            }
            out.push_str(Glyph::symbol(g));
        }
        if current != PLAIN {
            out.push_str(RESET);
        }
        out.push('\n');
    }
    out
}

/// False for a blank cell that shows nothing but the terminal's background (its foreground
/// colour is invisible), so trailing ones can be dropped.
fn visible(g: &Glyph<'_>) -> bool {
    let shows = Modifier::UNDERLINED | Modifier::REVERSED | Modifier::CROSSED_OUT;
    g.symbol() != " " || g.cell.bg != Color::Reset || g.cell.modifier.intersects(shows)
}

/// `ESC[0;1;31m`: reset, then the modifiers and colours of `pen` (just `ESC[0m` for plain).
fn sgr((fg, bg, modifier): Pen) -> String {
    let mut codes: Vec<String> = vec!["0".into()];
    for (m, code) in MODIFIERS {
        if modifier.contains(m) {
            codes.push(code.to_string());
        }
    }
    codes.extend(colour_code(fg, 30, 90, 38));
    codes.extend(colour_code(bg, 40, 100, 48));
    format!("\x1b[{}m", codes.join(";"))
}

/// The SGR parameters of a colour: `base`+i for the 8 basic colours, `bright`+i for the 8
/// bright ones, `extended;5;n` for indexed, `extended;2;r;g;b` for RGB; none for `Reset`.
fn colour_code(c: Color, base: u8, bright: u8, extended: u8) -> Option<String> {
    match (c, ansi_index(c)) {
        (_, Some(i @ 0..=7)) => Some((base + i).to_string()),
        (_, Some(i)) => Some((bright + i - 8).to_string()),
        (Color::Indexed(n), None) => Some(format!("{extended};5;{n}")),
        (Color::Rgb(r, g, b), None) => Some(format!("{extended};2;{r};{g};{b}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn style_changes_emit_sgr_and_lines_end_with_a_reset() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 8, 3));
        buf.set_string(0, 0, "ok", Style::new().green().bold());
        buf.set_string(3, 0, "x", Style::default());
        buf.set_string(4, 0, "   ", Style::new().red().bold());
        buf.set_string(
            0,
            1,
            "hi",
            Style::new().fg(Color::Indexed(208)).bg(Color::Rgb(1, 2, 3)),
        );
        buf.set_string(0, 2, "plain", Style::default());
        assert_eq!(
            buffer_to_ansi(&buf),
            "\x1b[0;1;32mok\x1b[0m x\n\x1b[0;38;5;208;48;2;1;2;3mhi\x1b[0m\nplain\n"
        );
    }

    #[test]
    fn bright_colours_and_modifiers_use_their_codes() {
        assert_eq!(
            sgr((
                Color::LightRed,
                Color::DarkGray,
                Modifier::REVERSED | Modifier::DIM
            )),
            "\x1b[0;2;7;91;100m"
        );
        assert_eq!(sgr(PLAIN), "\x1b[0m");
    }
}
