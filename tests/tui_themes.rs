//! One insta snapshot per shipped theme, with the styles: the demo's overview at 80×24 (header,
//! table with a selected row, hint panel, footer) rendered with each theme, written as the
//! screen text followed by every run of cells whose style differs from the theme's base
//! `text` style (`row x0-x1 fg bg +modifiers "text"`). A theme change that moves a colour, drops
//! a modifier or leaves a slot unstyled shows up in review as a changed line here.

mod common;

use std::fmt::Write as _;

use common::sim_app::keepalive_rig;
use meshtop::ui::theme::Theme;
use meshtop::ui::theme_file::resolve_theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};

fn color(c: Option<Color>) -> String {
    match c {
        None | Some(Color::Reset) => "-".into(),
        Some(c) => format!("{c:?}"),
    }
}

fn style_of(buf: &Buffer, x: u16, y: u16) -> (Option<Color>, Option<Color>, Modifier) {
    let cell = &buf[(x, y)];
    (Some(cell.fg), Some(cell.bg), cell.modifier)
}

/// The screen text, then the styled runs of each row.
fn styled_screen(buf: &Buffer, theme: &Theme) -> String {
    let area = buf.area;
    let base: Style = theme.text;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "base: fg {} bg {} {:?}",
        color(base.fg),
        color(base.bg),
        base.add_modifier
    );
    for y in 0..area.height {
        let line: String = (0..area.width).map(|x| buf[(x, y)].symbol()).collect();
        let _ = writeln!(out, "{y:>2}|{}", line.trim_end());
    }
    let base_key = (
        Some(base.fg.unwrap_or(Color::Reset)),
        Some(base.bg.unwrap_or(Color::Reset)),
        base.add_modifier,
    );
    for y in 0..area.height {
        let mut x = 0;
        while x < area.width {
            let key = style_of(buf, x, y);
            let start = x;
            while x < area.width && style_of(buf, x, y) == key {
                x += 1;
            }
            let text: String = (start..x).map(|i| buf[(i, y)].symbol()).collect();
            if key == base_key || text.trim().is_empty() && key.1 == base_key.1 {
                continue;
            }
            let mods = match key.2.is_empty() {
                true => String::new(),
                false => format!(" +{:?}", key.2),
            };
            let _ = writeln!(
                out,
                "{y:>2} {start:>2}-{:<2} fg {} bg {}{mods} {:?}",
                x - 1,
                color(key.0),
                color(key.1),
                text.trim_end()
            );
        }
    }
    out
}

#[test]
fn every_shipped_theme_styles_the_overview() {
    let (themes, warnings) = resolve_theme(None, None, false, None);
    assert!(warnings.is_empty(), "{warnings:?}");
    let rig = keepalive_rig((80, 24));
    let names = themes.names();
    assert_eq!(names.len(), 6, "{names:?}");
    for (i, name) in names.iter().enumerate() {
        let theme = themes.get(i);
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal
            .draw(|f| meshtop::ui::draw(f, &rig.app, theme))
            .unwrap();
        let screen = styled_screen(terminal.backend().buffer(), theme);
        insta::with_settings!({snapshot_path => "../snapshots", omit_expression => true}, {
            insta::assert_snapshot!(format!("theme_{name}"), screen);
        });
    }
}
