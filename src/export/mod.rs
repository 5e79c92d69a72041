//! Postmortem snapshots of the screen (`s` in the TUI, `meshtop snapshot --format …`):
//! [`render`] turns what the app shows into text, Markdown, ANSI, SVG or JSON,
//! [`file_name`] names the file `meshtop-CONTEXT-NS-YYYYmmddTHHMMSSZ.EXT`, and
//! [`write_snapshot`] writes the files (the only I/O here; the runtime calls it for
//! `Effect::WriteSnapshot`).
//!
//! Text and Markdown are built from the data (`report.rs`): every overview row, not only the
//! visible ones, the header with the UTC time range, and the findings in full, without box
//! drawing. ANSI and SVG convert the `Buffer` that `ui::draw` renders offscreen
//! (`screen.rs`), so they keep the theme's colours. JSON is the `MeshSnapshot` with the
//! findings added. Rendering reads the app and never the clock. To add a format: a variant of
//! [`ExportFormat`] (name and extension) and an arm in [`render`].

mod ansi;
mod grid;
mod markdown;
mod palette;
mod report;
mod screen;
mod svg;
mod text;
mod utc;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;

use crate::app::App;
use crate::diagnosis::Finding;
use crate::model::MeshSnapshot;
use crate::ui::theme::Theme;

pub use ansi::buffer_to_ansi;
pub use palette::{DEFAULT_BG, DEFAULT_FG, Rgb};
pub use svg::buffer_to_svg;
pub use utc::{UtcTime, utc_range};

/// The formats a snapshot can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum ExportFormat {
    /// Plain text: aligned columns, no colour, no box drawing.
    #[value(alias = "txt")]
    Text,
    /// GitHub-flavoured Markdown for postmortem documents.
    #[value(alias = "md")]
    Markdown,
    /// The screen with ANSI colour escapes (`cat` it in a terminal).
    Ansi,
    /// The screen as an SVG picture in the theme's colours.
    Svg,
    /// The `MeshSnapshot` and the findings.
    Json,
}

impl ExportFormat {
    /// Every format, in documentation order.
    pub const ALL: [ExportFormat; 5] = [
        ExportFormat::Text,
        ExportFormat::Markdown,
        ExportFormat::Ansi,
        ExportFormat::Svg,
        ExportFormat::Json,
    ];

    /// The name `--format` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Text => "text",
            ExportFormat::Markdown => "markdown",
            ExportFormat::Ansi => "ansi",
            ExportFormat::Svg => "svg",
            ExportFormat::Json => "json",
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Text => "txt",
            ExportFormat::Markdown => "md",
            ExportFormat::Ansi => "ans",
            ExportFormat::Svg => "svg",
            ExportFormat::Json => "json",
        }
    }
}

impl FromStr for ExportFormat {
    type Err = String;

    /// A format by name or extension, case-insensitive (`text`, `txt`, `md`, `SVG`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.to_ascii_lowercase();
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s || f.extension() == s)
            .ok_or_else(|| {
                format!(
                    "unknown snapshot format {s:?} (expected text, markdown, ansi, svg or json)"
                )
            })
    }
}

impl std::fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The screen as `format`. Text/Markdown are built from the data (all rows of
/// `App::overview_rows`, not only the visible ones, no box-drawing characters), Ansi/Svg
/// from a ratatui Buffer rendered offscreen with `crate::ui::draw` on a `TestBackend` of
/// `size` (grown in height so every overview row fits), Json is the `MeshSnapshot` plus
/// findings.
pub fn render(app: &App, theme: &Theme, format: ExportFormat, size: (u16, u16)) -> String {
    let shown = app.mesh.shown();
    match format {
        ExportFormat::Text => text::render_text(&report::build_report(app), &shown.findings),
        ExportFormat::Markdown => {
            markdown::render_markdown(&report::build_report(app), &shown.findings)
        }
        ExportFormat::Ansi => buffer_to_ansi(&screen::render_buffer(app, theme, size)),
        ExportFormat::Svg => buffer_to_svg(&screen::render_buffer(app, theme, size)),
        ExportFormat::Json => render_json(&shown.snapshot, &shown.findings),
    }
}

/// What a JSON snapshot holds: the snapshot's fields (`docs/SNAPSHOT-JSON.md`) and `findings`
/// (as in `meshtop check --output json`), so it still reads as a `MeshSnapshot`.
#[derive(Serialize)]
struct SnapshotFile<'a> {
    #[serde(flatten)]
    snapshot: &'a MeshSnapshot,
    findings: &'a [Finding],
}

fn render_json(snapshot: &MeshSnapshot, findings: &[Finding]) -> String {
    let file = SnapshotFile { snapshot, findings };
    match serde_json::to_string_pretty(&file) {
        Ok(json) => json + "\n",
        Err(e) => format!("{{\"error\": {:?}}}\n", e.to_string()),
    }
}

/// `meshtop-CONTEXT-NS-YYYYmmddTHHMMSSZ.EXT` (UTC from `app.clock.unix_ms`; `all` for all
/// namespaces, `none` for no context; characters unsafe in file names replaced by `_`).
pub fn file_name(
    context: Option<&str>,
    namespace: Option<&str>,
    unix_ms: u64,
    format: ExportFormat,
) -> String {
    format!(
        "meshtop-{}-{}-{}.{}",
        file_safe(context.filter(|c| !c.is_empty()).unwrap_or("none")),
        file_safe(namespace.filter(|n| !n.is_empty()).unwrap_or("all")),
        UtcTime::from_unix_ms(unix_ms).stamp(),
        format.extension()
    )
}

/// Keeps ASCII letters, digits, `.`, `-` and `_`; anything else (`/`, `:`, spaces) becomes `_`.
fn file_safe(part: &str) -> String {
    part.chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                true => c,
                false => '_',
            },
        )
        .collect()
}

/// Writes `formats` into `dir`; returns the paths written. Errors name the path.
pub fn write_snapshot(
    app: &App,
    theme: &Theme,
    dir: &Path,
    formats: &[ExportFormat],
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let session = &app.session;
    let mut written = Vec::with_capacity(formats.len());
    for &format in formats {
        let name = file_name(
            session.context.as_deref(),
            session.namespace.as_deref(),
            app.clock.unix_ms,
            format,
        );
        let path = dir.join(name);
        let body = render(app, theme, format, app.view.size);
        std::fs::write(&path, body).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-26 03:12:40.5 UTC.
    const T: u64 = 1_795_662_760_500;

    #[test]
    fn file_names_carry_context_namespace_and_utc_time() {
        assert_eq!(
            file_name(Some("kind-prod"), Some("prod"), T, ExportFormat::Svg),
            "meshtop-kind-prod-prod-20261126T031240Z.svg"
        );
        assert_eq!(
            file_name(None, None, T, ExportFormat::Markdown),
            "meshtop-none-all-20261126T031240Z.md"
        );
        assert_eq!(
            file_name(
                Some("arn:aws:eks:eu-west-1:1234:cluster/prod cluster"),
                Some(""),
                T,
                ExportFormat::Ansi
            ),
            "meshtop-arn_aws_eks_eu-west-1_1234_cluster_prod_cluster-all-20261126T031240Z.ans"
        );
        assert_eq!(
            file_name(Some("ctx\\..é"), Some("ns"), 0, ExportFormat::Text),
            "meshtop-ctx_.._-ns-19700101T000000Z.txt"
        );
    }

    #[test]
    fn formats_parse_from_names_and_extensions() {
        let names: Vec<(&str, &str)> = ExportFormat::ALL
            .iter()
            .map(|f| (f.as_str(), f.extension()))
            .collect();
        assert_eq!(
            names,
            [
                ("text", "txt"),
                ("markdown", "md"),
                ("ansi", "ans"),
                ("svg", "svg"),
                ("json", "json")
            ]
        );
        assert_eq!("MD".parse::<ExportFormat>(), Ok(ExportFormat::Markdown));
        assert_eq!("txt".parse::<ExportFormat>(), Ok(ExportFormat::Text));
        assert_eq!(
            "png".parse::<ExportFormat>(),
            Err(
                "unknown snapshot format \"png\" (expected text, markdown, ansi, svg or json)"
                    .into()
            )
        );
        let clap = <ExportFormat as clap::ValueEnum>::from_str("md", false);
        assert_eq!(clap, Ok(ExportFormat::Markdown));
    }
}
