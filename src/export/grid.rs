//! Reading a ratatui `Buffer` as rows of visible glyphs for the SVG and ANSI exports: a wide
//! character covers the cells after it (ratatui resets those), so a row is walked glyph by
//! glyph, each with the columns it covers.

use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};

/// One visible character cell (or wide character) of a row.
#[derive(Debug, Clone, Copy)]
pub struct Glyph<'a> {
    /// Column relative to the buffer's left edge.
    pub column: u16,
    /// Columns covered (2 for a wide character).
    pub width: u16,
    pub cell: &'a Cell,
}

impl Glyph<'_> {
    /// What the cell shows; a cell ratatui was told to skip shows a space.
    pub fn symbol(&self) -> &str {
        match self.cell.diff_option {
            CellDiffOption::Skip => " ",
            _ => self.cell.symbol(),
        }
    }
}

/// The glyphs of row `y` (relative to the buffer's top), left to right.
pub fn row_glyphs(buf: &Buffer, y: u16) -> Vec<Glyph<'_>> {
    let area = buf.area;
    let mut glyphs = Vec::with_capacity(usize::from(area.width));
    let mut column = 0u16;
    while column < area.width {
        let Some(cell) = buf.cell((area.x + column, area.y + y)) else {
            break;
        };
        let width = cell.cell_width().clamp(1, area.width - column);
        glyphs.push(Glyph {
            column,
            width,
            cell,
        });
        column += width;
    }
    glyphs
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn wide_characters_cover_the_next_cell() {
        let mut buf = Buffer::empty(Rect::new(3, 2, 5, 1));
        buf.set_string(3, 2, "a界b", Style::default());
        let glyphs = row_glyphs(&buf, 0);
        let seen: Vec<(u16, u16, &str)> = glyphs
            .iter()
            .map(|g| (g.column, g.width, g.symbol()))
            .collect();
        assert_eq!(seen, [(0, 1, "a"), (1, 2, "界"), (3, 1, "b"), (4, 1, " ")]);
    }
}
