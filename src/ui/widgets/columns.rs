//! Responsive table columns: each column has a width and a drop rank, and [`fit`] leaves out
//! the highest-ranked columns until the rest fit the terminal, so a narrower terminal loses the
//! least important columns first and a resize reflows. The one `fill` column takes what is
//! left over. Domain-agnostic: the views say which columns matter most.

use ratatui::layout::{Alignment, Constraint};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Cell, Row};

/// One column of a responsive table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub title: &'static str,
    /// Minimum width in cells.
    pub width: u16,
    /// `0`: never dropped; otherwise the highest rank is dropped first.
    pub drop_rank: u8,
    /// Numbers are right-aligned, text left-aligned.
    pub align: Alignment,
    /// Takes the width left over (at most one column should).
    pub fill: bool,
}

impl Column {
    pub const fn text(title: &'static str, width: u16, drop_rank: u8) -> Column {
        Column {
            title,
            width,
            drop_rank,
            align: Alignment::Left,
            fill: false,
        }
    }

    pub const fn number(title: &'static str, width: u16, drop_rank: u8) -> Column {
        Column {
            align: Alignment::Right,
            ..Column::text(title, width, drop_rank)
        }
    }

    pub const fn filling(self) -> Column {
        Column { fill: true, ..self }
    }
}

/// Indices of the columns kept for `width` cells with `spacing` between columns, in order.
pub fn fit(columns: &[Column], width: u16, spacing: u16) -> Vec<usize> {
    let mut kept: Vec<usize> = (0..columns.len()).collect();
    let total = |kept: &[usize]| -> u32 {
        let cells: u32 = kept.iter().map(|i| u32::from(columns[*i].width)).sum();
        cells + u32::from(spacing) * kept.len().saturating_sub(1) as u32
    };
    while total(&kept) > u32::from(width) {
        let worst = kept
            .iter()
            .enumerate()
            .filter(|(_, i)| columns[**i].drop_rank > 0)
            .max_by_key(|(_, i)| columns[**i].drop_rank);
        match worst {
            Some((at, _)) => {
                kept.remove(at);
            }
            None => break,
        }
    }
    kept
}

/// The layout constraints of the kept columns.
pub fn constraints(columns: &[Column], kept: &[usize]) -> Vec<Constraint> {
    kept.iter()
        .map(|i| match columns[*i] {
            c if c.fill => Constraint::Min(c.width),
            c => Constraint::Length(c.width),
        })
        .collect()
}

/// The title row of the kept columns, aligned like their values.
pub fn header<'a>(columns: &[Column], kept: &[usize], style: Style) -> Row<'a> {
    let cells = kept.iter().map(|i| {
        let c = columns[*i];
        Cell::from(Line::from(c.title).alignment(c.align))
    });
    Row::new(cells).style(style)
}

/// A cell aligned like its column.
pub fn cell<'a>(column: &Column, line: Line<'a>) -> Cell<'a> {
    Cell::from(line.alignment(column.align))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: [Column; 4] = [
        Column::text("NAME", 10, 0).filling(),
        Column::number("A", 5, 2),
        Column::number("B", 5, 1),
        Column::number("C", 5, 3),
    ];

    #[test]
    fn drops_the_highest_rank_first() {
        assert_eq!(fit(&COLS, 28, 1), vec![0, 1, 2, 3]);
        assert_eq!(fit(&COLS, 27, 1), vec![0, 1, 2]);
        assert_eq!(fit(&COLS, 22, 1), vec![0, 1, 2]);
        assert_eq!(fit(&COLS, 21, 1), vec![0, 2]);
        assert_eq!(fit(&COLS, 5, 1), vec![0]);
    }

    #[test]
    fn constraints_follow_the_kept_columns() {
        assert_eq!(
            constraints(&COLS, &[0, 2]),
            vec![Constraint::Min(10), Constraint::Length(5)]
        );
    }
}
