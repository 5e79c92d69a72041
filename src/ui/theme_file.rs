//! Theme files: parsing a theme TOML into a `Theme` (merged over the shipped `default`), the
//! shipped themes (embedded with `include_str!`, so the binary works from any directory), user
//! themes from `$XDG_CONFIG_HOME/meshtop/themes/` (else `~/.config/meshtop/themes/`), the
//! `--theme NAME|PATH` > `MESHTOP_THEME` > `default` precedence, and `NO_COLOR`.
//!
//! Everything the environment provides (flag, variables, user directory) is passed in; only
//! `resolve_theme_from_env` reads the real environment. A bad theme file never panics and never
//! stops meshtop: it becomes a warning naming the file, line, column and key, and the default
//! theme is used. The file format is documented in `themes/README.md`; adding a key to the format
//! means documenting it there and testing it in `tests/themes.rs`.

use std::fmt;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::theme::{SLOTS, Theme};

mod theme_set;

pub use theme_set::{
    ThemeSet, default_theme, no_color_requested, resolve_theme, resolve_theme_from_env,
    user_theme_dir,
};

/// The fields of one slot table.
const FIELDS: [&str; 3] = ["fg", "bg", "modifiers"];

/// Colour names accepted in `fg`/`bg` (the 16 ANSI colours), besides `reset`, `none`,
/// `#rrggbb` and 0–255.
const COLOURS: [(&str, Color); 16] = [
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("dark-gray", Color::DarkGray),
    ("light-red", Color::LightRed),
    ("light-green", Color::LightGreen),
    ("light-yellow", Color::LightYellow),
    ("light-blue", Color::LightBlue),
    ("light-magenta", Color::LightMagenta),
    ("light-cyan", Color::LightCyan),
    ("white", Color::White),
];

/// Modifier names accepted in `modifiers`.
const MODIFIERS: [(&str, Modifier); 10] = [
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("underline", Modifier::UNDERLINED),
    ("slow-blink", Modifier::SLOW_BLINK),
    ("rapid-blink", Modifier::RAPID_BLINK),
    ("reversed", Modifier::REVERSED),
    ("hidden", Modifier::HIDDEN),
    ("crossed-out", Modifier::CROSSED_OUT),
];

/// One problem in a theme file, shown to the user as
/// `FILE:LINE:COLUMN: key "KEY": MESSAGE` (position and key when known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeError {
    /// The file as the user would name it (`themes/dark.toml`, the `--theme` path, …).
    pub file: String,
    /// 1-based line and column of the offending text, when there is one.
    pub position: Option<(usize, usize)>,
    /// The dotted key (`crit.fg`), when the problem belongs to one.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ThemeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key \"{key}\"")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ThemeError {}

/// The text being parsed and its label, to turn byte spans into `ThemeError`s.
struct Source<'a> {
    file: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn error(
        &self,
        span: Option<std::ops::Range<usize>>,
        key: Option<&str>,
        message: String,
    ) -> ThemeError {
        ThemeError {
            file: self.file.to_string(),
            position: span.map(|s| line_column(self.text, s.start)),
            key: key.map(str::to_string),
            message,
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Parses theme `name` from `text` (labelled `file` in messages), merged over `base`: a slot or
/// field the file leaves out keeps `base`'s value. Any error rejects the whole file; all errors
/// found are returned, in file order.
pub fn parse_theme(
    name: &str,
    file: &str,
    text: &str,
    base: &Theme,
) -> Result<Theme, Vec<ThemeError>> {
    let source = Source { file, text };
    let doc = DeTable::parse(text).map_err(|e| {
        let message = format!("invalid TOML: {}", e.message().replace('\n', "; "));
        vec![source.error(e.span(), None, message)]
    })?;
    let mut theme = base.clone();
    theme.name = name.to_string();
    let mut errors = Vec::new();
    for (key, value) in doc.get_ref() {
        let slot_name = key.get_ref().as_ref();
        let Some(style) = theme.slot_mut(slot_name) else {
            let message = format!("unknown slot (slots: {})", SLOTS.join(", "));
            errors.push(source.error(Some(key.span()), Some(slot_name), message));
            continue;
        };
        apply_slot(&source, slot_name, value, style, &mut errors);
    }
    errors.sort_by_key(|e| e.position);
    if errors.is_empty() {
        Ok(theme)
    } else {
        Err(errors)
    }
}

/// Applies one slot table (`{ fg, bg, modifiers }`) onto `style`, collecting errors.
fn apply_slot(
    source: &Source,
    slot: &str,
    value: &Spanned<DeValue>,
    style: &mut Style,
    errors: &mut Vec<ThemeError>,
) {
    let DeValue::Table(table) = value.get_ref() else {
        let message = format!(
            "expected a table such as {{ fg = \"red\", modifiers = [\"bold\"] }}, found {}",
            value.get_ref().type_str()
        );
        errors.push(source.error(Some(value.span()), Some(slot), message));
        return;
    };
    for (key, field) in table {
        let key_name = format!("{slot}.{}", key.get_ref());
        let parsed = match key.get_ref().as_ref() {
            "fg" => parse_colour(field.get_ref()).map(|c| style.fg = c),
            "bg" => parse_colour(field.get_ref()).map(|c| style.bg = c),
            "modifiers" => parse_modifiers(field.get_ref()).map(|m| {
                style.add_modifier = m;
                style.sub_modifier = Modifier::empty();
            }),
            _ => {
                let message = format!("unknown field (fields: {})", FIELDS.join(", "));
                errors.push(source.error(Some(key.span()), Some(&key_name), message));
                continue;
            }
        };
        if let Err(message) = parsed {
            errors.push(source.error(Some(field.span()), Some(&key_name), message));
        }
    }
}

/// A colour value: `None` for `"none"` (leave the colour beneath), else the colour.
fn parse_colour(value: &DeValue) -> Result<Option<Color>, String> {
    match value {
        DeValue::String(s) => colour_from_name(s),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .and_then(|n| u8::try_from(n).ok())
            .map(|n| Some(Color::Indexed(n)))
            .ok_or_else(|| format!("colour index {i} is out of range 0-255")),
        other => Err(format!(
            "expected a colour (a name, \"#rrggbb\" or 0-255), found {}",
            other.type_str()
        )),
    }
}

/// `none`, `reset`, one of `COLOURS` or `#rrggbb`.
fn colour_from_name(s: &str) -> Result<Option<Color>, String> {
    if s == "none" {
        return Ok(None);
    }
    if s == "reset" {
        return Ok(Some(Color::Reset));
    }
    if let Some((_, c)) = COLOURS.iter().find(|(n, _)| *n == s) {
        return Ok(Some(*c));
    }
    rgb_from_hex(s).map(Some).ok_or_else(|| {
        format!("unknown colour \"{s}\" (use a name such as \"red\" or \"light-blue\", \"reset\", \"none\", \"#rrggbb\" or 0-255)")
    })
}

/// `#rrggbb` → `Color::Rgb`.
fn rgb_from_hex(s: &str) -> Option<Color> {
    let hex = s.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
    };
    Some(Color::Rgb(channel(0)?, channel(2)?, channel(4)?))
}

/// An array of `MODIFIERS` names → their union (the array replaces the base's modifiers).
fn parse_modifiers(value: &DeValue) -> Result<Modifier, String> {
    let DeValue::Array(items) = value else {
        return Err(format!(
            "expected an array of modifier names such as [\"bold\"], found {}",
            value.type_str()
        ));
    };
    let mut out = Modifier::empty();
    for item in items.iter() {
        let name = item.get_ref().as_str().unwrap_or_default();
        let Some((_, m)) = MODIFIERS.iter().find(|(n, _)| *n == name) else {
            let shown = item.get_ref().as_str().map_or_else(
                || item.get_ref().type_str().to_string(),
                |s| format!("\"{s}\""),
            );
            let known: Vec<&str> = MODIFIERS.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "unknown modifier {shown} (modifiers: {})",
                known.join(", ")
            ));
        };
        out |= *m;
    }
    Ok(out)
}

/// Reads and parses the theme file at `path` (named after its file stem) over `base`.
pub fn load_theme_file(path: &Path, base: &Theme) -> Result<Theme, Vec<ThemeError>> {
    let file = path.display().to_string();
    let unreadable = |message: String| {
        vec![ThemeError {
            file: file.clone(),
            position: None,
            key: None,
            message,
        }]
    };
    let bytes = std::fs::read(path).map_err(|e| unreadable(format!("cannot read: {e}")))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| unreadable(format!("not UTF-8 text (byte {})", e.valid_up_to())))?;
    let name = path
        .file_stem()
        .map_or_else(|| file.clone(), |s| s.to_string_lossy().into_owned());
    parse_theme(&name, &file, text, base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Theme, Vec<String>> {
        let base = Theme::plain("base");
        parse_theme("t", "t.toml", text, &base)
            .map_err(|errors| errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn line_column_counts_lines_and_characters() {
        assert_eq!(line_column("ab\ncdé f", 0), (1, 1));
        assert_eq!(line_column("ab\ncdé f", 3), (2, 1));
        // 'é' is two bytes but one column: byte 7 is the space after it.
        assert_eq!(line_column("ab\ncdé f", 7), (2, 4));
        assert_eq!(line_column("ab", 99), (1, 3));
    }

    #[test]
    fn colours_by_name_hex_index_reset_and_none() {
        let theme = parse(
            "text = { fg = \"light-blue\", bg = \"#0A0b0c\" }\n\
             ok = { fg = 208, bg = \"reset\" }\n\
             warn = { fg = \"none\", bg = \"dark-gray\" }\n",
        )
        .unwrap();
        assert_eq!(theme.name, "t");
        assert_eq!(theme.text.fg, Some(Color::LightBlue));
        assert_eq!(theme.text.bg, Some(Color::Rgb(10, 11, 12)));
        assert_eq!(theme.ok.fg, Some(Color::Indexed(208)));
        assert_eq!(theme.ok.bg, Some(Color::Reset));
        assert_eq!(theme.warn.fg, None);
        assert_eq!(theme.warn.bg, Some(Color::DarkGray));
    }

    #[test]
    fn modifiers_replace_the_base_and_accept_underline_alias() {
        let mut base = Theme::plain("base");
        base.crit = Style::new().add_modifier(Modifier::ITALIC);
        let text = "crit = { modifiers = [\"bold\", \"underline\", \"reversed\"] }";
        let theme = parse_theme("t", "t.toml", text, &base).unwrap();
        assert_eq!(
            theme.crit.add_modifier,
            Modifier::BOLD | Modifier::UNDERLINED | Modifier::REVERSED
        );
        let cleared = parse_theme("t", "t.toml", "crit = { modifiers = [] }", &base).unwrap();
        assert_eq!(cleared.crit.add_modifier, Modifier::empty());
    }

    #[test]
    fn missing_fields_keep_the_base() {
        let mut base = Theme::plain("base");
        base.crit = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
        let theme = parse_theme("t", "t.toml", "crit = { fg = \"magenta\" }", &base).unwrap();
        assert_eq!(
            theme.crit,
            Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD)
        );
        assert_eq!(theme.ok, base.ok);
    }

    #[test]
    fn header_tables_and_dotted_keys_work() {
        let theme =
            parse("crit.fg = \"red\"\n[ok]\nfg = \"green\"\nmodifiers = [\"bold\"]\n").unwrap();
        assert_eq!(theme.crit.fg, Some(Color::Red));
        assert_eq!(
            theme.ok,
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD)
        );
    }

    #[test]
    fn every_error_names_position_and_key() {
        let text = "critt = {}\n\
                    crit = { fg = \"redd\", colour = \"red\" }\n\
                    ok = \"green\"\n\
                    warn = { fg = 300, bg = true, modifiers = [\"blod\"] }\n\
                    info = { modifiers = \"bold\" }\n\
                    stale = { modifiers = [1] }\n";
        let errors = parse(text).unwrap_err();
        let slots = SLOTS.join(", ");
        assert_eq!(
            errors,
            vec![
                format!("t.toml:1:1: key \"critt\": unknown slot (slots: {slots})"),
                "t.toml:2:15: key \"crit.fg\": unknown colour \"redd\" (use a name such as \
                 \"red\" or \"light-blue\", \"reset\", \"none\", \"#rrggbb\" or 0-255)"
                    .to_string(),
                "t.toml:2:23: key \"crit.colour\": unknown field (fields: fg, bg, modifiers)"
                    .to_string(),
                "t.toml:3:6: key \"ok\": expected a table such as { fg = \"red\", modifiers = \
                 [\"bold\"] }, found string"
                    .to_string(),
                "t.toml:4:15: key \"warn.fg\": colour index 300 is out of range 0-255".to_string(),
                "t.toml:4:25: key \"warn.bg\": expected a colour (a name, \"#rrggbb\" or \
                 0-255), found boolean"
                    .to_string(),
                "t.toml:4:43: key \"warn.modifiers\": unknown modifier \"blod\" (modifiers: \
                 bold, dim, italic, underlined, underline, slow-blink, rapid-blink, reversed, \
                 hidden, crossed-out)"
                    .to_string(),
                "t.toml:5:22: key \"info.modifiers\": expected an array of modifier names \
                 such as [\"bold\"], found string"
                    .to_string(),
                "t.toml:6:23: key \"stale.modifiers\": unknown modifier integer (modifiers: \
                 bold, dim, italic, underlined, underline, slow-blink, rapid-blink, reversed, \
                 hidden, crossed-out)"
                    .to_string(),
            ]
        );
    }

    #[test]
    fn malformed_toml_is_one_error_with_position() {
        let errors = parse("ok = { fg = \"green\" }\ncrit = { fg = \"red\"\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0],
            "t.toml:2:20: invalid TOML: unclosed inline table, expected `}`"
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let base = Theme::plain("base");
        for text in [
            "",
            "\u{0}",
            "[[[",
            "crit = { fg = \"#12345\" }",
            "ok = { fg = -1 }",
            "é = 1",
        ] {
            let _ = parse_theme("t", "t.toml", text, &base);
        }
        assert_eq!(
            parse("").unwrap(),
            Theme {
                name: "t".into(),
                ..base
            }
        );
    }

    #[test]
    fn unreadable_and_non_utf8_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.toml");
        let errors = load_theme_file(&missing, &Theme::plain("base")).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .to_string()
                .starts_with(&format!("{}: cannot read: ", missing.display()))
        );
        let binary = dir.path().join("bin.toml");
        std::fs::write(&binary, b"ok = 1\xff").unwrap();
        let errors = load_theme_file(&binary, &Theme::plain("base")).unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            format!("{}: not UTF-8 text (byte 6)", binary.display())
        );
    }
}
