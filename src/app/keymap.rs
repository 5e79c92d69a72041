//! The keymap: the only code that knows key codes. It turns a key press into an [`Action`]
//! for the current [`Focus`] and input mode, and it is the single source of the footer hints and
//! the `?` help screen, so what is documented is what works.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};

use super::action::{Action, SortColumn};
use super::view_state::{Focus, Input};

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every screen.
    Global,
    /// Only this screen.
    Only(Focus),
    /// Tables (overview and pods).
    Tables,
}

impl Scope {
    fn applies(self, focus: Focus) -> bool {
        match self {
            Scope::Global => true,
            Scope::Only(f) => f == focus,
            Scope::Tables => matches!(focus, Focus::Overview | Focus::Pods),
        }
    }
}

/// One key binding with its help text.
#[derive(Debug, Clone)]
pub struct Binding {
    /// How the key is written in help (`Shift+T`, `Ctrl+C`, `PgDn`).
    pub keys: &'static str,
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
    pub action: Action,
    pub scope: Scope,
    /// What it does, for the help screen.
    pub help: &'static str,
    /// Shown in the footer.
    pub footer: bool,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

fn bind(
    keys: &'static str,
    code: KeyCode,
    modifiers: KeyModifiers,
    action: Action,
    scope: Scope,
    help: &'static str,
    footer: bool,
) -> Binding {
    Binding {
        keys,
        code,
        modifiers,
        action,
        scope,
        help,
        footer,
    }
}

/// The default keymap (k9s habits).
pub fn default_bindings() -> Vec<Binding> {
    use Action as A;
    use KeyCode as K;
    use Scope::{Global, Only, Tables};
    let sort = |keys, c: char, col: SortColumn, help| {
        bind(
            keys,
            K::Char(c),
            SHIFT,
            A::SortBy(col),
            Only(Focus::Overview),
            help,
            false,
        )
    };
    vec![
        bind(
            "?",
            K::Char('?'),
            NONE,
            A::ShowHelp,
            Global,
            "help (this screen)",
            true,
        ),
        bind(
            "Enter",
            K::Enter,
            NONE,
            A::Open,
            Only(Focus::Overview),
            "drill into the selected row",
            true,
        ),
        bind(
            "Esc",
            K::Esc,
            NONE,
            A::Back,
            Global,
            "back / clear filter",
            true,
        ),
        bind(
            "/",
            K::Char('/'),
            NONE,
            A::StartFilter,
            Tables,
            "filter rows (regex)",
            true,
        ),
        bind(
            ":",
            K::Char(':'),
            NONE,
            A::StartCommand,
            Global,
            "command: :ns NAME, :ctx NAME, :theme NAME, :pods, :q",
            true,
        ),
        bind("j", K::Char('j'), NONE, A::Down, Global, "down", false),
        bind("Down", K::Down, NONE, A::Down, Global, "down", false),
        bind("k", K::Char('k'), NONE, A::Up, Global, "up", false),
        bind("Up", K::Up, NONE, A::Up, Global, "up", false),
        bind(
            "PgDn",
            K::PageDown,
            NONE,
            A::PageDown,
            Global,
            "page down",
            false,
        ),
        bind("PgUp", K::PageUp, NONE, A::PageUp, Global, "page up", false),
        bind("Home", K::Home, NONE, A::Home, Global, "first row", false),
        bind("g", K::Char('g'), NONE, A::Home, Global, "first row", false),
        bind("End", K::End, NONE, A::End, Global, "last row", false),
        bind("G", K::Char('G'), SHIFT, A::End, Global, "last row", false),
        sort(
            "Shift+S",
            'S',
            SortColumn::Severity,
            "sort by severity of findings (default)",
        ),
        sort(
            "Shift+D",
            'D',
            SortColumn::Destination,
            "sort by destination",
        ),
        sort("Shift+R", 'R', SortColumn::Requests, "sort by requests/s"),
        sort("Shift+T", 'T', SortColumn::Timeouts, "sort by timeouts/s"),
        sort(
            "Shift+C",
            'C',
            SortColumn::Destroyed,
            "sort by connections destroyed with active requests/s",
        ),
        sort("Shift+E", 'E', SortColumn::Errors, "sort by 5xx/s"),
        sort("Shift+L", 'L', SortColumn::Latency, "sort by p99 latency"),
        bind(
            "p",
            K::Char('p'),
            NONE,
            A::TogglePause,
            Global,
            "pause / resume the view (collection continues)",
            true,
        ),
        bind(
            "s",
            K::Char('s'),
            NONE,
            A::Snapshot,
            Global,
            "write a postmortem snapshot of this screen",
            true,
        ),
        bind(
            "t",
            K::Char('t'),
            NONE,
            A::NextTheme,
            Global,
            "next theme",
            false,
        ),
        bind(
            "P",
            K::Char('P'),
            SHIFT,
            A::ShowPods,
            Global,
            "pods and their sidecars",
            true,
        ),
        bind("q", K::Char('q'), NONE, A::Quit, Global, "quit", true),
        bind("Ctrl+C", K::Char('c'), CTRL, A::Quit, Global, "quit", false),
    ]
}

/// Translates terminal events into actions.
#[derive(Debug, Clone)]
pub struct KeyMap {
    bindings: Vec<Binding>,
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap {
            bindings: default_bindings(),
        }
    }
}

impl KeyMap {
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The action for a key in `focus`; while a filter or command is typed, keys edit it.
    pub fn action(&self, focus: Focus, input: &Input, key: KeyEvent) -> Option<Action> {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(CTRL) {
            return Some(Action::Quit);
        }
        if !matches!(input, Input::None) {
            return match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter => Some(Action::Submit),
                KeyCode::Backspace => Some(Action::Erase),
                KeyCode::Tab => Some(Action::Complete),
                KeyCode::Char(c) => Some(Action::Type(c)),
                _ => None,
            };
        }
        let mods = key.modifiers & (SHIFT | CTRL);
        self.bindings
            .iter()
            .find(|b| b.scope.applies(focus) && b.code == key.code && same_mods(b, mods, key.code))
            .map(|b| b.action.clone())
    }

    /// The action for a mouse event: wheel scrolls, a left click selects a row.
    pub fn mouse_action(&self, event: MouseEvent) -> Option<Action> {
        match event.kind {
            MouseEventKind::ScrollUp => Some(Action::ScrollUp),
            MouseEventKind::ScrollDown => Some(Action::ScrollDown),
            MouseEventKind::Down(ratatui::crossterm::event::MouseButton::Left) => {
                Some(Action::ClickRow(event.row))
            }
            _ => None,
        }
    }

    /// The footer hints for `focus`: `? help  Enter drill in  …`.
    pub fn footer(&self, focus: Focus) -> Vec<(&'static str, &'static str)> {
        self.bindings
            .iter()
            .filter(|b| b.footer && b.scope.applies(focus))
            .map(|b| (b.keys, short_help(b.help)))
            .collect()
    }

    /// Every binding that applies in `focus`, for the help screen.
    pub fn help(&self, focus: Focus) -> Vec<&Binding> {
        self.bindings
            .iter()
            .filter(|b| b.scope.applies(focus))
            .collect()
    }
}

/// Upper-case letters arrive with SHIFT from some terminals and without from others.
fn same_mods(b: &Binding, mods: KeyModifiers, code: KeyCode) -> bool {
    match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() || !c.is_ascii_alphanumeric() => {
            (b.modifiers & CTRL) == (mods & CTRL)
        }
        _ => b.modifiers == mods,
    }
}

/// The first words of a help text, for the footer.
fn short_help(help: &'static str) -> &'static str {
    help.split([' ', '(', ',', ':'])
        .next()
        .filter(|w| !w.is_empty())
        .map_or(help, |_| {
            let end = help.find([',', '(', ':']).unwrap_or(help.len());
            help[..end].trim_end()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn keys_map_to_actions_by_focus_and_input() {
        let km = KeyMap::default();
        let none = Input::None;
        assert_eq!(
            km.action(Focus::Overview, &none, key(KeyCode::Char('j'), NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            km.action(Focus::Overview, &none, key(KeyCode::Char('T'), SHIFT)),
            Some(Action::SortBy(SortColumn::Timeouts))
        );
        assert_eq!(
            km.action(Focus::Overview, &none, key(KeyCode::Char('T'), NONE)),
            Some(Action::SortBy(SortColumn::Timeouts))
        );
        assert_eq!(
            km.action(Focus::Help, &none, key(KeyCode::Char('/'), NONE)),
            None,
            "no filter on help"
        );
        assert_eq!(
            km.action(Focus::Overview, &none, key(KeyCode::Char('c'), CTRL)),
            Some(Action::Quit)
        );
        let typing = Input::Filter(String::new());
        assert_eq!(
            km.action(Focus::Overview, &typing, key(KeyCode::Char('q'), NONE)),
            Some(Action::Type('q'))
        );
        assert_eq!(
            km.action(Focus::Overview, &typing, key(KeyCode::Enter, NONE)),
            Some(Action::Submit)
        );
    }

    #[test]
    fn footer_and_help_come_from_the_bindings() {
        let km = KeyMap::default();
        let footer = km.footer(Focus::Overview);
        assert_eq!(footer.first(), Some(&("?", "help")));
        assert!(
            footer.contains(&("p", "pause / resume the view")),
            "{footer:?}"
        );
        assert!(footer.contains(&(":", "command")), "{footer:?}");
        assert!(km.help(Focus::Overview).iter().any(|b| b.keys == "Shift+T"));
        assert!(!km.help(Focus::Help).iter().any(|b| b.keys == "Shift+T"));
    }
}
