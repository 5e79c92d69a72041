//! The shipped themes and theme resolution as a user meets them: every file in `themes/` parses
//! and sets every slot, `colorblind-safe` and `mono` keep their promises, `NO_COLOR` strips
//! colour, user themes merge over `default`, and bad files give the exact message.

use std::path::{Path, PathBuf};

use meshtop::ui::theme::{SLOTS, Theme};
use meshtop::ui::theme_file::{ThemeSet, default_theme, load_theme_file, resolve_theme};
use ratatui::style::{Color, Modifier, Style};

const SHIPPED: [&str; 6] = [
    "default",
    "dark",
    "light",
    "high-contrast",
    "colorblind-safe",
    "mono",
];

fn themes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("themes")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A base whose every slot carries values no shipped theme uses: any of them surviving a merge
/// means the file left that slot or field unset.
fn sentinel_base() -> Theme {
    let mut base = Theme::plain("sentinel");
    for name in SLOTS {
        *base.slot_mut(name).unwrap() = Style::new()
            .fg(Color::Indexed(13))
            .bg(Color::Indexed(14))
            .add_modifier(Modifier::HIDDEN | Modifier::RAPID_BLINK);
    }
    base
}

#[test]
fn every_shipped_theme_parses_and_sets_every_slot_and_field() {
    let base = sentinel_base();
    for name in SHIPPED {
        let theme = load_theme_file(&themes_dir().join(format!("{name}.toml")), &base)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(theme.name, name);
        for (slot, style) in theme.slots() {
            assert_ne!(style.fg, Some(Color::Indexed(13)), "{name}.{slot}.fg unset");
            assert_ne!(style.bg, Some(Color::Indexed(14)), "{name}.{slot}.bg unset");
            assert!(
                !style.add_modifier.contains(Modifier::HIDDEN),
                "{name}.{slot}.modifiers unset"
            );
        }
    }
    // The embedded copies are the same files: all six load, no warning.
    let (set, warnings) = resolve_theme(None, None, false, None);
    assert_eq!(set.names(), SHIPPED);
    assert!(warnings.is_empty(), "{warnings:?}");
    let from_disk = load_theme_file(&themes_dir().join("dark.toml"), &default_theme()).unwrap();
    assert_eq!(*set.get(1), from_disk);
}

#[test]
fn every_theme_file_in_the_repo_is_shipped_and_every_slot_documented() {
    let mut files: Vec<String> = std::fs::read_dir(themes_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    files.sort();
    let mut expected: Vec<String> = SHIPPED.iter().map(|n| format!("{n}.toml")).collect();
    expected.sort();
    assert_eq!(files, expected);
    let readme = std::fs::read_to_string(themes_dir().join("README.md")).unwrap();
    for slot in SLOTS {
        assert!(
            readme.contains(&format!("| `{slot}` |")),
            "{slot} not documented"
        );
    }
}

/// Whether a colour is in the red or green family, the pair that red-green colour blindness
/// (about 1 in 12 men) confuses: the named/indexed ANSI reds and greens (1, 2, 9, 10) and any
/// RGB colour with saturation ≥ 0.25 whose hue is within 20° of red (340°–20°) or in 75°–165°.
fn is_red_or_green(colour: Color) -> bool {
    match colour {
        Color::Red | Color::Green | Color::LightRed | Color::LightGreen => true,
        Color::Indexed(i) => matches!(i, 1 | 2 | 9 | 10),
        Color::Rgb(r, g, b) => {
            let (r, g, b) = (f64::from(r), f64::from(g), f64::from(b));
            let (max, min) = (r.max(g).max(b), r.min(g).min(b));
            if max == 0.0 || (max - min) / max < 0.25 {
                return false;
            }
            let d = max - min;
            let hue = if max == r {
                (60.0 * (g - b) / d).rem_euclid(360.0)
            } else if max == g {
                60.0 * (b - r) / d + 120.0
            } else {
                60.0 * (r - g) / d + 240.0
            };
            !(20.0..340.0).contains(&hue) || (75.0..=165.0).contains(&hue)
        }
        _ => false,
    }
}

/// The colour-blind check: ok, warn and crit (1) have pairwise different modifier sets, so the
/// status survives with no colour at all, and (2) use no red or green foreground or background.
/// Returns the reasons the check fails.
fn colour_blind_problems(theme: &Theme) -> Vec<String> {
    let status = [("ok", theme.ok), ("warn", theme.warn), ("crit", theme.crit)];
    let mut problems = Vec::new();
    for (i, (a, sa)) in status.iter().enumerate() {
        for (b, sb) in status.iter().skip(i + 1) {
            if sa.add_modifier == sb.add_modifier {
                problems.push(format!("{a} and {b} have the same modifiers"));
            }
        }
        for colour in [sa.fg, sa.bg].into_iter().flatten() {
            if is_red_or_green(colour) {
                problems.push(format!("{a} uses {colour:?}"));
            }
        }
    }
    problems
}

#[test]
fn the_red_green_classifier_has_teeth() {
    assert!(is_red_or_green(Color::Rgb(0xcf, 0x22, 0x2e)));
    assert!(is_red_or_green(Color::Rgb(0x1a, 0x7f, 0x37)));
    assert!(is_red_or_green(Color::Indexed(9)));
    assert!(!is_red_or_green(Color::Rgb(0xe6, 0x9f, 0x00))); // Okabe-Ito orange
    assert!(!is_red_or_green(Color::Rgb(0x56, 0xb4, 0xe9))); // Okabe-Ito sky blue
    assert!(!is_red_or_green(Color::Rgb(0x80, 0x80, 0x80)));
    assert!(!is_red_or_green(Color::Reset));
}

#[test]
fn colorblind_safe_never_carries_status_by_red_green() {
    let (set, _) = resolve_theme(Some("colorblind-safe"), None, false, None);
    assert_eq!(colour_blind_problems(set.selected()), Vec::<String>::new());
    // The check fails where it should: default carries status by red/green, warn and crit
    // are both bold.
    assert_eq!(
        colour_blind_problems(&default_theme()),
        [
            "ok uses Green",
            "warn and crit have the same modifiers",
            "crit uses Red"
        ]
    );
}

#[test]
fn mono_has_no_colour_and_status_survives_in_modifiers() {
    let set = ThemeSet::builtin();
    let mono = set.get(set.find("mono").unwrap());
    assert!(!mono.has_colour());
    assert_eq!(colour_blind_problems(mono), Vec::<String>::new());
    assert_eq!(
        mono.crit.add_modifier,
        Modifier::BOLD | Modifier::UNDERLINED
    );
    assert_eq!(mono.selection.add_modifier, Modifier::REVERSED);
}

#[test]
fn no_color_strips_every_theme_and_keeps_modifiers() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mine.toml", "ok = { fg = \"#00ff00\" }\n");
    let (coloured, _) = resolve_theme(Some("dark"), None, false, Some(dir.path()));
    let (plain, warnings) = resolve_theme(Some("dark"), None, true, Some(dir.path()));
    assert!(warnings.is_empty());
    assert_eq!(plain.names(), coloured.names());
    assert_eq!(plain.selected().name, "dark");
    for (p, c) in plain.iter().zip(coloured.iter()) {
        assert!(!p.has_colour(), "{} keeps colour", p.name);
        assert_eq!(*p, c.without_colour());
    }
    assert_eq!(
        plain.selected().crit,
        Style::new().add_modifier(Modifier::BOLD)
    );
}

#[test]
fn partial_user_theme_merges_over_default() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mine.toml", "crit = { fg = \"magenta\" }\n");
    let (set, warnings) = resolve_theme(None, Some("mine"), false, Some(dir.path()));
    assert!(warnings.is_empty(), "{warnings:?}");
    let mine = set.selected();
    let default = default_theme();
    assert_eq!(mine.name, "mine");
    assert_eq!(
        mine.crit,
        Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD)
    );
    assert_eq!(mine.crit.add_modifier, default.crit.add_modifier);
    for slot in SLOTS.iter().filter(|s| **s != "crit") {
        assert_eq!(mine.slot(slot), default.slot(slot), "{slot}");
    }
}

#[test]
fn user_dir_themes_are_listed_after_builtins_sorted_and_bad_ones_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "zebra.toml", "ok = { fg = \"blue\" }\n");
    write(dir.path(), "alpha.toml", "");
    write(dir.path(), "dark.toml", "text = { bg = \"black\" }\n");
    write(dir.path(), "notes.txt", "not a theme");
    let bad = write(dir.path(), "broken.toml", "ok = { fg = \"gren\" }\n");
    let (set, warnings) = resolve_theme(None, None, false, Some(dir.path()));
    let mut expected: Vec<&str> = SHIPPED.to_vec();
    expected.extend(["alpha", "zebra"]);
    assert_eq!(set.names(), expected);
    // A user file named like a builtin replaces it in place, merged over default.
    assert_eq!(set.get(1).text.bg, Some(Color::Black));
    assert_eq!(set.get(1).ok, default_theme().ok);
    assert_eq!(
        warnings,
        [format!(
            "{}:1:13: key \"ok.fg\": unknown colour \"gren\" (use a name such as \"red\" or \
             \"light-blue\", \"reset\", \"none\", \"#rrggbb\" or 0-255); theme skipped",
            bad.display()
        )]
    );
}

#[test]
fn theme_path_argument_loads_that_file_and_beats_the_env() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "oncall.toml", "warn = { fg = \"#ff8800\" }\n");
    let arg = path.to_str().unwrap();
    let (set, warnings) = resolve_theme(Some(arg), Some("light"), false, None);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(set.selected().name, "oncall");
    assert_eq!(set.selected_index(), 6);
    assert_eq!(set.selected().warn.fg, Some(Color::Rgb(0xff, 0x88, 0x00)));
    assert_eq!(set.names().last().map(String::as_str), Some("oncall"));
}

/// Resolves `--theme FILE` where FILE holds `text`; returns the selected name and warnings.
fn resolve_bad(text: &str) -> (String, Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.toml", text);
    let label = path.display().to_string();
    let (set, warnings) = resolve_theme(Some(&label), None, false, None);
    (set.selected().name.clone(), warnings, label)
}

#[test]
fn bad_colour_names_file_line_and_key_and_default_is_used() {
    let (name, warnings, file) = resolve_bad("# mine\ncrit = { fg = \"redd\", bg = \"none\" }\n");
    assert_eq!(name, "default");
    assert_eq!(
        warnings,
        [format!(
            "{file}:2:15: key \"crit.fg\": unknown colour \"redd\" (use a name such as \"red\" \
             or \"light-blue\", \"reset\", \"none\", \"#rrggbb\" or 0-255); using the default theme"
        )]
    );
}

#[test]
fn unknown_key_names_file_and_key() {
    let (name, warnings, file) = resolve_bad("critical = { fg = \"red\" }\n");
    assert_eq!(name, "default");
    assert_eq!(
        warnings,
        [format!(
            "{file}:1:1: key \"critical\": unknown slot (slots: {}); using the default theme",
            SLOTS.join(", ")
        )]
    );
    let (_, warnings, file) = resolve_bad("crit = { fg = \"red\", style = \"bold\" }\n");
    assert_eq!(
        warnings,
        [format!(
            "{file}:1:22: key \"crit.style\": unknown field (fields: fg, bg, modifiers); \
             using the default theme"
        )]
    );
}

#[test]
fn malformed_toml_names_file_and_position() {
    let (name, warnings, file) = resolve_bad("ok = { fg = \"green\" }\ncrit = fg = \"red\"\n");
    assert_eq!(name, "default");
    assert_eq!(
        warnings,
        [format!(
            "{file}:2:11: invalid TOML: unexpected key or value, expected newline, `#`; \
             using the default theme"
        )]
    );
}

#[test]
fn missing_theme_file_is_a_warning_not_a_failure() {
    let (set, warnings) = resolve_theme(Some("/nonexistent/meshtop/x.toml"), None, false, None);
    assert_eq!(set.selected().name, "default");
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].starts_with("/nonexistent/meshtop/x.toml: cannot read: "),
        "{}",
        warnings[0]
    );
}
