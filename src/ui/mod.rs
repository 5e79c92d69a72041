//! The terminal UI: `draw(frame, &App, &Theme)` renders the screen in front from the app state,
//! read-only — no I/O, no clock. `theme` holds the semantic colour slots, `widgets/` the
//! domain-agnostic pieces, `views/` one file per screen.
//!
//! Layout (rows): the header (3), the screen's block — its top border and column titles sit
//! on rows 4 and 5, so overview data starts at `OVERVIEW_FIRST_ROW` (`app/update.rs`) — and
//! the footer (1). Below 80×24 the same layout shows what fits and the header says so.

pub mod theme;
pub mod theme_file;
pub mod views;
pub mod widgets;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

use crate::app::{App, Focus};
use theme::Theme;

pub use views::header::MIN_SIZE;

/// Draws the whole screen for the focus in front.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    frame.buffer_mut().set_style(area, theme.text);
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    views::header::draw(frame, header, app, theme);
    match app.view.focus {
        Focus::Overview => views::overview::draw(frame, body, app, theme),
        Focus::Cluster => views::cluster::draw(frame, body, app, theme),
        Focus::Pods => views::pods::draw(frame, body, app, theme),
        Focus::Help => views::help::draw(frame, body, app, theme),
    }
    views::footer::draw(frame, footer, app, theme);
}
