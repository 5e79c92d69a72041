//! `Theme`: the semantic colour slots every widget asks for (widgets never choose a colour).
//! A theme is a value passed by reference, never a global. Shipped themes live in `themes/`
//! (TOML, every key documented in `themes/README.md`); user themes in
//! `$XDG_CONFIG_HOME/meshtop/themes/`. Loading, merging over the default and `NO_COLOR` are in
//! `theme_file.rs`.
//!
//! Composition contract (what theme authors rely on): a view paints its area with `text` first
//! and patches every other slot on top (`Style::patch`), so a slot colour of `None` shows the
//! colour beneath and a selected row keeps its background under `crit`/`ok` cells. Adding a slot:
//! a field here, its name in `SLOTS` and `slot`/`slot_mut`, a key in every `themes/*.toml` and a
//! row in `themes/README.md` (the tests fail until all four are done).

use ratatui::style::Style;

/// The slots. Each is a full ratatui `Style` (colours and modifiers).
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    /// Ordinary text.
    pub text: Style,
    /// Less important text: units, defaults, hints.
    pub muted: Style,
    /// Titles, the selected tab, key names in the footer.
    pub accent: Style,
    /// Healthy / no problem.
    pub ok: Style,
    /// Warning findings and values that need a look.
    pub warn: Style,
    /// Critical findings and failing values.
    pub crit: Style,
    /// Informational findings.
    pub info: Style,
    /// Data that is old (the source is stale).
    pub stale: Style,
    /// A value meshtop could not collect (`—`).
    pub not_collected: Style,
    /// A value that is Istio's or Envoy's default, not configured.
    pub default_value: Style,
    /// The selected row.
    pub selection: Style,
    /// Table column titles.
    pub header: Style,
    /// Borders and separators.
    pub border: Style,
    /// The status bar.
    pub status: Style,
    /// An error in the status bar.
    pub status_error: Style,
    /// Sparkline and chart lines.
    pub chart: Style,
}

/// Every slot name, in the order `themes/README.md` documents them; the TOML keys.
pub const SLOTS: [&str; 16] = [
    "text",
    "muted",
    "accent",
    "ok",
    "warn",
    "crit",
    "info",
    "stale",
    "not_collected",
    "default_value",
    "selection",
    "header",
    "border",
    "status",
    "status_error",
    "chart",
];

impl Default for Theme {
    /// The shipped `default` theme (terminal colours).
    fn default() -> Self {
        super::theme_file::default_theme()
    }
}

impl Theme {
    /// A theme named `name` whose slots are all `Style::default()` (no colour, no modifier):
    /// the base a theme file is merged onto when even `default` is unavailable.
    pub fn plain(name: &str) -> Theme {
        let s = Style::default();
        Theme {
            name: name.to_string(),
            text: s,
            muted: s,
            accent: s,
            ok: s,
            warn: s,
            crit: s,
            info: s,
            stale: s,
            not_collected: s,
            default_value: s,
            selection: s,
            header: s,
            border: s,
            status: s,
            status_error: s,
            chart: s,
        }
    }

    /// The slot named `name` (a key of `SLOTS`), or `None` for an unknown name.
    pub fn slot(&self, name: &str) -> Option<Style> {
        let i = SLOTS.iter().position(|s| *s == name)?;
        self.fields().get(i).map(|s| **s)
    }

    /// The slot named `name` for writing; `None` for an unknown name.
    pub fn slot_mut(&mut self, name: &str) -> Option<&mut Style> {
        let i = SLOTS.iter().position(|s| *s == name)?;
        self.fields_mut().into_iter().nth(i)
    }

    /// The slot fields in `SLOTS` order (the one place that maps keys to fields).
    fn fields(&self) -> [&Style; 16] {
        [
            &self.text,
            &self.muted,
            &self.accent,
            &self.ok,
            &self.warn,
            &self.crit,
            &self.info,
            &self.stale,
            &self.not_collected,
            &self.default_value,
            &self.selection,
            &self.header,
            &self.border,
            &self.status,
            &self.status_error,
            &self.chart,
        ]
    }

    /// `fields`, writable; same order.
    fn fields_mut(&mut self) -> [&mut Style; 16] {
        [
            &mut self.text,
            &mut self.muted,
            &mut self.accent,
            &mut self.ok,
            &mut self.warn,
            &mut self.crit,
            &mut self.info,
            &mut self.stale,
            &mut self.not_collected,
            &mut self.default_value,
            &mut self.selection,
            &mut self.header,
            &mut self.border,
            &mut self.status,
            &mut self.status_error,
            &mut self.chart,
        ]
    }

    /// Every slot with its name, in `SLOTS` order (for tests, previews and exports).
    pub fn slots(&self) -> Vec<(&'static str, Style)> {
        SLOTS.into_iter().zip(self.fields().map(|s| *s)).collect()
    }

    /// The same theme with every foreground and background colour removed and the modifiers
    /// kept: what `NO_COLOR` (https://no-color.org) asks for. Applied to every theme of a
    /// `ThemeSet` at load time, so `t` and `:theme` stay colourless too.
    pub fn without_colour(&self) -> Theme {
        let mut out = self.clone();
        for s in out.fields_mut() {
            s.fg = None;
            s.bg = None;
        }
        out
    }

    /// Whether any slot sets a foreground or background colour (`Color::Reset` counts: it
    /// overrides what is beneath).
    pub fn has_colour(&self) -> bool {
        self.slots()
            .iter()
            .any(|(_, s)| s.fg.is_some() || s.bg.is_some())
    }

    /// The style of a finding's severity.
    pub fn severity(&self, s: crate::diagnosis::Severity) -> Style {
        match s {
            crate::diagnosis::Severity::Critical => self.crit,
            crate::diagnosis::Severity::Warning => self.warn,
            crate::diagnosis::Severity::Info => self.info,
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::style::{Color, Modifier};

    use super::*;

    #[test]
    fn slot_names_map_to_their_own_fields() {
        let mut theme = Theme::plain("t");
        for (i, name) in SLOTS.iter().enumerate() {
            let index = u8::try_from(i).unwrap();
            *theme.slot_mut(name).unwrap() = Style::new().fg(Color::Indexed(index));
        }
        assert_eq!(theme.text.fg, Some(Color::Indexed(0)));
        assert_eq!(theme.muted.fg, Some(Color::Indexed(1)));
        assert_eq!(theme.crit.fg, Some(Color::Indexed(5)));
        assert_eq!(theme.not_collected.fg, Some(Color::Indexed(8)));
        assert_eq!(theme.selection.fg, Some(Color::Indexed(10)));
        assert_eq!(theme.status_error.fg, Some(Color::Indexed(14)));
        assert_eq!(theme.chart.fg, Some(Color::Indexed(15)));
        let slots = theme.slots();
        assert_eq!(slots.len(), 16);
        for (i, (name, style)) in slots.iter().enumerate() {
            assert_eq!(*name, SLOTS[i]);
            assert_eq!(style.fg, Some(Color::Indexed(u8::try_from(i).unwrap())));
            assert_eq!(theme.slot(name), Some(*style));
        }
        assert_eq!(theme.slot("nope"), None);
        assert!(theme.slot_mut("nope").is_none());
    }

    #[test]
    fn without_colour_keeps_modifiers_only() {
        let mut theme = Theme::plain("t");
        theme.crit = Style::new()
            .fg(Color::Red)
            .bg(Color::Reset)
            .add_modifier(Modifier::BOLD);
        theme.ok = Style::new().fg(Color::Rgb(0, 200, 0));
        assert!(theme.has_colour());
        let plain = theme.without_colour();
        assert!(!plain.has_colour());
        assert_eq!(plain.crit, Style::new().add_modifier(Modifier::BOLD));
        assert_eq!(plain.ok, Style::new());
        assert_eq!(plain.name, "t");
        assert!(!Theme::plain("p").has_colour());
    }
}
