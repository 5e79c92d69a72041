//! Terminal colours as RGB for the SVG export: ratatui's named ANSI colours map to one fixed
//! palette (VS Code's dark terminal palette, which reads well in screenshots), `Indexed` to the
//! xterm-256 table, `Rgb` as is, and `Reset` to a default foreground/background that does not
//! depend on the theme (a dark terminal).

use ratatui::style::Color;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// The terminal's own foreground, for `Color::Reset` text.
pub const DEFAULT_FG: Rgb = Rgb(0xcc, 0xcc, 0xcc);
/// The terminal's own background, for `Color::Reset` cells.
pub const DEFAULT_BG: Rgb = Rgb(0x1e, 0x1e, 0x1e);

/// The 16 ANSI colours in index order (black, red, green, yellow, blue, magenta, cyan, white,
/// then the bright variants).
const ANSI16: [Rgb; 16] = [
    Rgb(0x00, 0x00, 0x00),
    Rgb(0xcd, 0x31, 0x31),
    Rgb(0x0d, 0xbc, 0x79),
    Rgb(0xe5, 0xe5, 0x10),
    Rgb(0x24, 0x72, 0xc8),
    Rgb(0xbc, 0x3f, 0xbc),
    Rgb(0x11, 0xa8, 0xcd),
    Rgb(0xe5, 0xe5, 0xe5),
    Rgb(0x66, 0x66, 0x66),
    Rgb(0xf1, 0x4c, 0x4c),
    Rgb(0x23, 0xd1, 0x8b),
    Rgb(0xf5, 0xf5, 0x43),
    Rgb(0x3b, 0x8e, 0xea),
    Rgb(0xd6, 0x70, 0xd6),
    Rgb(0x29, 0xb8, 0xdb),
    Rgb(0xff, 0xff, 0xff),
];

/// The ANSI index (0–15) of a named colour; `None` for `Reset`, `Indexed` and `Rgb`.
pub fn ansi_index(color: Color) -> Option<u8> {
    Some(match color {
        Color::Black => 0,
        Color::Red => 1,
        Color::Green => 2,
        Color::Yellow => 3,
        Color::Blue => 4,
        Color::Magenta => 5,
        Color::Cyan => 6,
        Color::Gray => 7,
        Color::DarkGray => 8,
        Color::LightRed => 9,
        Color::LightGreen => 10,
        Color::LightYellow => 11,
        Color::LightBlue => 12,
        Color::LightMagenta => 13,
        Color::LightCyan => 14,
        Color::White => 15,
        Color::Reset | Color::Indexed(_) | Color::Rgb(..) => return None,
    })
}

/// The RGB of a colour; `None` for `Reset` (the caller picks the default fg or bg).
pub fn rgb(color: Color) -> Option<Rgb> {
    match color {
        Color::Reset => None,
        Color::Rgb(r, g, b) => Some(Rgb(r, g, b)),
        Color::Indexed(i) => Some(xterm256(i)),
        named => ansi_index(named).map(xterm256),
    }
}

/// The xterm-256 colour `i`: the 16 ANSI colours, the 6×6×6 cube, then 24 greys.
pub fn xterm256(i: u8) -> Rgb {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match i {
        0..=15 => ANSI16[usize::from(i)],
        16..=231 => {
            let n = usize::from(i - 16);
            Rgb(LEVELS[n / 36], LEVELS[n / 6 % 6], LEVELS[n % 6])
        }
        _ => {
            let level = 8 + 10 * (i - 232);
            Rgb(level, level, level)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_indexed_and_rgb_colours_resolve() {
        assert_eq!(rgb(Color::Red), Some(Rgb(0xcd, 0x31, 0x31)));
        assert_eq!(rgb(Color::Indexed(1)), rgb(Color::Red));
        assert_eq!(rgb(Color::Indexed(16)), Some(Rgb(0, 0, 0)));
        assert_eq!(rgb(Color::Indexed(196)), Some(Rgb(255, 0, 0)));
        assert_eq!(rgb(Color::Indexed(231)), Some(Rgb(255, 255, 255)));
        assert_eq!(rgb(Color::Indexed(232)), Some(Rgb(8, 8, 8)));
        assert_eq!(rgb(Color::Indexed(255)), Some(Rgb(238, 238, 238)));
        assert_eq!(rgb(Color::Rgb(1, 2, 3)), Some(Rgb(1, 2, 3)));
        assert_eq!(rgb(Color::Reset), None);
        assert_eq!(Rgb(0x1e, 0x1e, 0x1e).hex(), "#1e1e1e");
        assert_eq!(ansi_index(Color::White), Some(15));
    }
}
