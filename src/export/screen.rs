//! The screen in front, drawn offscreen: a copy of the app sized so every row of the table in
//! front fits (the overview's rows, or the pods'), drawn by `ui::draw` on a ratatui
//! `TestBackend`; the ANSI and SVG exports convert the resulting `Buffer`.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use crate::app::{App, Focus};
use crate::ui::theme::Theme;

/// The screen as `draw` renders it at `size`, grown in height so no table row is scrolled away.
pub fn render_buffer(app: &App, theme: &Theme, size: (u16, u16)) -> Buffer {
    let app = offscreen_app(app, size);
    let (width, height) = app.view.size;
    let mut terminal = match Terminal::new(TestBackend::new(width, height)) {
        Ok(t) => t,
        Err(never) => match never {},
    };
    if let Err(never) = terminal.draw(|frame| crate::ui::draw(frame, &app, theme)) {
        match never {}
    }
    terminal.backend().buffer().clone()
}

/// A copy of `app` at the offscreen size with its tables scrolled to the top.
fn offscreen_app(app: &App, (width, height): (u16, u16)) -> App {
    let mut app = app.clone();
    let rows = match app.view.focus {
        Focus::Overview => app.overview_rows().len(),
        Focus::Pods => app.pod_rows().len(),
        Focus::Cluster | Focus::Help => 0,
    };
    app.view.size = (width.max(1), height.max(1));
    while app.view.table_height() < rows && app.view.size.1 < u16::MAX {
        let missing = rows - app.view.table_height();
        let grown = usize::from(app.view.size.1).saturating_add(missing);
        app.view.size.1 = u16::try_from(grown).unwrap_or(u16::MAX);
    }
    app.view.overview.offset = 0;
    app.view.pods.offset = 0;
    app
}
