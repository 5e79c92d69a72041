//! The Markdown snapshot (GitHub-flavoured), for postmortem documents: the header as a list,
//! the overview as a GFM table (every cell escaped — Envoy cluster names contain `|`), the
//! legend, then a heading per finding with its evidence as a list and its commands in fenced
//! code blocks that copy cleanly.

use std::fmt::Write;

use crate::diagnosis::Finding;

use super::report::{Align, COLUMNS, LEGEND, Report};

/// The whole Markdown snapshot.
pub fn render_markdown(report: &Report, findings: &[Finding]) -> String {
    let mut out = format!("# meshtop {} snapshot\n\n", escape(&report.version));
    for (label, value) in &report.facts {
        let _ = writeln!(out, "- **{label}:** {}", escape(value));
    }
    let _ = writeln!(out, "\n## Upstream clusters ({})\n", report.rows.len());
    write_table(&mut out, &report.rows);
    out.push('\n');
    let legend: Vec<String> = LEGEND
        .iter()
        .map(|(mark, meaning)| format!("{} {}", code(mark), escape(meaning)))
        .collect();
    let _ = writeln!(out, "{}", legend.join(" · "));
    let _ = writeln!(out, "\n## Findings ({})", findings.len());
    if findings.is_empty() {
        out.push_str("\nNo findings.\n");
    }
    for f in findings {
        write_finding(&mut out, f);
    }
    write_list(&mut out, "Sidecars not current", &report.sidecars);
    write_list(&mut out, "Config issues", &report.config_issues);
    out
}

fn write_list(out: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## {title} ({})\n", items.len());
    for item in items {
        let _ = writeln!(out, "- {}", escape(item));
    }
}

/// The GFM table: header, alignment row, one line per row, every cell escaped.
fn write_table(out: &mut String, rows: &[Vec<String>]) {
    let titles: Vec<String> = COLUMNS.iter().map(|(t, _)| escape_cell(t)).collect();
    let _ = writeln!(out, "| {} |", titles.join(" | "));
    let aligns: Vec<&str> = COLUMNS
        .iter()
        .map(|(_, a)| match a {
            Align::Left => ":---",
            Align::Right => "---:",
        })
        .collect();
    let _ = writeln!(out, "| {} |", aligns.join(" | "));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| escape_cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}

fn write_finding(out: &mut String, f: &Finding) {
    let severity = f.severity.word().to_uppercase();
    let _ = writeln!(out, "\n### {severity} {}: {}\n", f.rule, escape(&f.title));
    let _ = writeln!(out, "- **Target:** {}", escape(&f.target));
    if let Some(cluster) = &f.cluster {
        let _ = writeln!(out, "- **Cluster:** {}", code(cluster));
    }
    if !f.pods.is_empty() {
        let scope = f
            .scope
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        let _ = writeln!(out, "- **Pods:** {}", escape(&(f.pods.join(", ") + &scope)));
    }
    if !f.evidence.is_empty() {
        out.push_str("\n**Evidence**\n\n");
        for e in &f.evidence {
            let effective = e.effective.as_deref().map(|x| format!(" (Envoy: {x})"));
            let value = e.value.clone() + &effective.unwrap_or_default();
            let _ = writeln!(out, "- {}: {}", code(&e.name), escape(&value));
        }
    }
    if !f.cause.is_empty() {
        let _ = writeln!(out, "\n**Likely cause:** {}", escape(&f.cause));
    }
    if !f.next_steps.is_empty() {
        out.push_str("\n**Next steps**\n\n");
        for (i, step) in f.next_steps.iter().enumerate() {
            let _ = writeln!(out, "{}. {}", i + 1, escape(&step.text));
            if let Some(cmd) = &step.command {
                let fence = "`".repeat(longest_run(cmd, '`').max(2) + 1);
                let cmd = cmd.replace('\n', "\n   ");
                let _ = writeln!(out, "\n   {fence}sh\n   {cmd}\n   {fence}\n");
            }
        }
    }
}

/// Escapes Markdown inline syntax in prose (backslash escapes render as the character).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '<' | '>' | '[' | ']' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A table cell: escaped prose that never ends the cell (`|` → `\|`) and never empty.
fn escape_cell(text: &str) -> String {
    match text.is_empty() {
        true => " ".into(),
        false => escape(text),
    }
}

/// An inline code span that survives backticks in the text.
fn code(text: &str) -> String {
    let ticks = "`".repeat(longest_run(text, '`') + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!(
        "{ticks}{pad}{}{pad}{ticks}",
        text.replace(['\n', '\r'], " ")
    )
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_pipes_and_markdown_syntax() {
        assert_eq!(
            escape("outbound|8080||inv*x_y"),
            "outbound\\|8080\\|\\|inv\\*x\\_y"
        );
        assert_eq!(escape_cell(""), " ");
        assert_eq!(escape("a\nb"), "a b");
    }

    #[test]
    fn code_spans_and_fences_outgrow_backticks_in_the_text() {
        assert_eq!(code("upstream_rq_timeout"), "`upstream_rq_timeout`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(longest_run("a```b``", '`'), 3);
    }
}
