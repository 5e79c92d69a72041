//! `ThemeSet` (the shipped themes in their fixed order, then user themes by name) and theme
//! resolution: `--theme` > `MESHTOP_THEME` > `default`, the user themes directory, `NO_COLOR`.
//! Only `resolve_theme_from_env` reads the process environment; everything else takes it as
//! arguments so tests can fake it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::{load_theme_file, parse_theme};
use crate::ui::theme::Theme;

/// The shipped themes in their fixed order (`t` cycles in this order), with their sources.
const BUILTIN: [(&str, &str); 6] = [
    ("default", include_str!("../../../themes/default.toml")),
    ("dark", include_str!("../../../themes/dark.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
    (
        "colorblind-safe",
        include_str!("../../../themes/colorblind-safe.toml"),
    ),
    ("mono", include_str!("../../../themes/mono.toml")),
];

/// The shipped `default` theme. Its file is checked by the tests; should it ever fail to parse,
/// every slot is plain rather than panicking.
pub fn default_theme() -> Theme {
    let (name, text) = BUILTIN[0];
    let plain = Theme::plain(name);
    parse_theme(name, &builtin_file(name), text, &plain).unwrap_or(plain)
}

/// The label of a shipped theme in messages: its path in the repository.
fn builtin_file(name: &str) -> String {
    format!("themes/{name}.toml")
}

/// The themes `t` cycles through and `:theme` completes: never empty (the first is the default
/// theme), builtins in their fixed order, then user themes by name; `selected` is the one in use.
#[derive(Debug, Clone, PartialEq)]
pub struct ThemeSet {
    first: Theme,
    rest: Vec<Theme>,
    selected: usize,
}

impl ThemeSet {
    /// The shipped themes, `default` selected. A shipped file that failed to parse (the tests
    /// forbid it) is left out.
    pub fn builtin() -> ThemeSet {
        let first = default_theme();
        let rest = BUILTIN
            .iter()
            .skip(1)
            .filter_map(|(name, text)| parse_theme(name, &builtin_file(name), text, &first).ok())
            .collect();
        ThemeSet {
            first,
            rest,
            selected: 0,
        }
    }

    /// The names, in cycling order (what `Session::themes` holds).
    pub fn names(&self) -> Vec<String> {
        self.iter().map(|t| t.name.clone()).collect()
    }

    /// Every theme, in cycling order.
    pub fn iter(&self) -> impl Iterator<Item = &Theme> {
        std::iter::once(&self.first).chain(self.rest.iter())
    }

    /// The theme at `index` (a `Session::theme`); the default theme when out of range.
    pub fn get(&self, index: usize) -> &Theme {
        index
            .checked_sub(1)
            .and_then(|i| self.rest.get(i))
            .unwrap_or(&self.first)
    }

    /// The index of the theme called `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.iter().position(|t| t.name == name)
    }

    /// The index of the theme in use (what `Session::theme` starts at).
    pub fn selected_index(&self) -> usize {
        self.selected
    }

    /// The theme in use.
    pub fn selected(&self) -> &Theme {
        self.get(self.selected)
    }

    /// Adds `theme`, replacing a theme of the same name in place; returns its index.
    pub fn insert(&mut self, theme: Theme) -> usize {
        match self.find(&theme.name) {
            Some(0) => {
                self.first = theme;
                0
            }
            Some(i) => {
                if let Some(slot) = self.rest.get_mut(i - 1) {
                    *slot = theme;
                }
                i
            }
            None => {
                self.rest.push(theme);
                self.rest.len()
            }
        }
    }

    /// Every theme with its colours removed (`NO_COLOR`).
    pub fn without_colour(&self) -> ThemeSet {
        ThemeSet {
            first: self.first.without_colour(),
            rest: self.rest.iter().map(Theme::without_colour).collect(),
            selected: self.selected,
        }
    }

    /// Adds every `*.toml` in `dir` (sorted by file name, each merged over the default theme).
    /// A missing directory is normal and silent; a bad file becomes warnings and is skipped.
    pub fn add_user_dir(&mut self, dir: &Path, warnings: &mut Vec<String>) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                warnings.push(format!("{}: cannot list user themes: {e}", dir.display()));
                return;
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension() == Some(OsStr::new("toml")) && p.is_file())
            .collect();
        paths.sort();
        for path in paths {
            match load_theme_file(&path, &self.first) {
                Ok(theme) => {
                    self.insert(theme);
                }
                Err(errors) => {
                    warnings.extend(errors.iter().map(|e| format!("{e}; theme skipped")))
                }
            }
        }
    }
}

/// Builds the theme set and picks the theme in use: `arg` (`--theme`) over `env`
/// (`MESHTOP_THEME`) over `default`; each is a theme name or, when it contains a `/` or ends in
/// `.toml`, a file path (loaded over the default, added to the set, selected). `user_dir` holds
/// user themes. `no_color` strips every colour from every theme. Never fails: problems come back
/// as warnings and the default theme is used.
pub fn resolve_theme(
    arg: Option<&str>,
    env: Option<&str>,
    no_color: bool,
    user_dir: Option<&Path>,
) -> (ThemeSet, Vec<String>) {
    let mut set = ThemeSet::builtin();
    let mut warnings = Vec::new();
    if let Some(dir) = user_dir {
        set.add_user_dir(dir, &mut warnings);
    }
    let choice = [(arg, "--theme"), (env, "MESHTOP_THEME")]
        .into_iter()
        .find_map(|(value, origin)| value.filter(|v| !v.is_empty()).map(|v| (v, origin)));
    if let Some((wanted, origin)) = choice {
        set.selected = select(&mut set, wanted, origin, &mut warnings);
    }
    if no_color {
        set = set.without_colour();
    }
    (set, warnings)
}

/// The index of the theme `wanted` names (loading it if it is a path), or 0 with a warning.
fn select(set: &mut ThemeSet, wanted: &str, origin: &str, warnings: &mut Vec<String>) -> usize {
    if wanted.contains('/')
        || wanted.contains(std::path::MAIN_SEPARATOR)
        || wanted.ends_with(".toml")
    {
        return match load_theme_file(Path::new(wanted), &set.first) {
            Ok(theme) => set.insert(theme),
            Err(errors) => {
                warnings.extend(
                    errors
                        .iter()
                        .map(|e| format!("{e}; using the default theme")),
                );
                0
            }
        };
    }
    set.find(wanted).unwrap_or_else(|| {
        warnings.push(format!(
            "no theme \"{wanted}\" (from {origin}); known: {}; using the default theme",
            set.names().join(", ")
        ));
        0
    })
}

/// The user themes directory: `$XDG_CONFIG_HOME/meshtop/themes` when that variable is set and
/// non-empty, else `$HOME/.config/meshtop/themes`, else none.
pub fn user_theme_dir(xdg_config_home: Option<&OsStr>, home: Option<&OsStr>) -> Option<PathBuf> {
    let config = match (
        xdg_config_home.filter(|v| !v.is_empty()),
        home.filter(|v| !v.is_empty()),
    ) {
        (Some(xdg), _) => PathBuf::from(xdg),
        (None, Some(home)) => Path::new(home).join(".config"),
        (None, None) => return None,
    };
    Some(config.join("meshtop").join("themes"))
}

/// Whether `NO_COLOR` asks for no colour: set and non-empty (https://no-color.org).
pub fn no_color_requested(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// `resolve_theme` with `MESHTOP_THEME`, `NO_COLOR`, `XDG_CONFIG_HOME` and `HOME` read from
/// the process environment (the one place that reads it).
pub fn resolve_theme_from_env(arg: Option<&str>) -> (ThemeSet, Vec<String>) {
    let env = std::env::var("MESHTOP_THEME").ok();
    let no_color = no_color_requested(std::env::var_os("NO_COLOR").as_deref());
    let dir = user_theme_dir(
        std::env::var_os("XDG_CONFIG_HOME").as_deref(),
        std::env::var_os("HOME").as_deref(),
    );
    resolve_theme(arg, env.as_deref(), no_color, dir.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUILTIN_NAMES: [&str; 6] = [
        "default",
        "dark",
        "light",
        "high-contrast",
        "colorblind-safe",
        "mono",
    ];

    #[test]
    fn builtins_in_fixed_order_and_get_falls_back_to_default() {
        let set = ThemeSet::builtin();
        assert_eq!(set.names(), BUILTIN_NAMES);
        assert_eq!(set.selected_index(), 0);
        assert_eq!(set.get(5).name, "mono");
        assert_eq!(set.get(6).name, "default");
        assert_eq!(set.get(usize::MAX).name, "default");
        assert_eq!(set.find("light"), Some(2));
        assert_eq!(set.find("nope"), None);
        assert_eq!(*set.selected(), default_theme());
    }

    #[test]
    fn insert_replaces_by_name_or_appends() {
        let mut set = ThemeSet::builtin();
        assert_eq!(set.insert(Theme::plain("dark")), 1);
        assert_eq!(*set.get(1), Theme::plain("dark"));
        assert_eq!(set.insert(Theme::plain("zz")), 6);
        assert_eq!(set.insert(Theme::plain("default")), 0);
        assert_eq!(*set.get(0), Theme::plain("default"));
        assert_eq!(set.names().len(), 7);
    }

    #[test]
    fn user_dir_follows_xdg_then_home() {
        let dir =
            |x: Option<&str>, h: Option<&str>| user_theme_dir(x.map(OsStr::new), h.map(OsStr::new));
        assert_eq!(
            dir(Some("/x"), Some("/h")),
            Some(PathBuf::from("/x/meshtop/themes"))
        );
        assert_eq!(
            dir(Some(""), Some("/h")),
            Some(PathBuf::from("/h/.config/meshtop/themes"))
        );
        assert_eq!(
            dir(None, Some("/h")),
            Some(PathBuf::from("/h/.config/meshtop/themes"))
        );
        assert_eq!(dir(None, None), None);
        assert_eq!(dir(None, Some("")), None);
    }

    #[test]
    fn no_color_means_set_and_non_empty() {
        assert!(no_color_requested(Some(OsStr::new("1"))));
        assert!(no_color_requested(Some(OsStr::new("0"))));
        assert!(!no_color_requested(Some(OsStr::new(""))));
        assert!(!no_color_requested(None));
    }

    #[test]
    fn flag_beats_env_and_unknown_names_warn() {
        let (set, warnings) = resolve_theme(Some("light"), Some("dark"), false, None);
        assert_eq!((set.selected().name.as_str(), warnings.len()), ("light", 0));
        let (set, warnings) = resolve_theme(None, Some("dark"), false, None);
        assert_eq!((set.selected().name.as_str(), warnings.len()), ("dark", 0));
        let (set, warnings) = resolve_theme(Some(""), Some("mono"), false, None);
        assert_eq!((set.selected().name.as_str(), warnings.len()), ("mono", 0));
        let (set, warnings) = resolve_theme(None, Some("drak"), false, None);
        assert_eq!(set.selected_index(), 0);
        assert_eq!(
            warnings,
            [
                "no theme \"drak\" (from MESHTOP_THEME); known: default, dark, light, \
                 high-contrast, colorblind-safe, mono; using the default theme"
            ]
        );
    }

    #[test]
    fn missing_user_dir_is_silent() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let (set, warnings) = resolve_theme(None, None, false, Some(&missing));
        assert_eq!(set.names(), BUILTIN_NAMES);
        assert!(warnings.is_empty());
    }
}
