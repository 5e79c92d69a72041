//! The plain-text snapshot: the header, the overview as aligned columns separated by spaces
//! (ASCII rules only, no box drawing, so it pastes cleanly into tickets and chat), the legend,
//! then every finding in full as `meshtop check` prints them.

use std::fmt::Write;

use crate::diagnosis::{Finding, render_findings};

use super::report::{Align, COLUMNS, LEGEND, Report};

/// The whole text snapshot.
pub fn render_text(report: &Report, findings: &[Finding]) -> String {
    let mut out = format!("meshtop {} snapshot\n", report.version);
    let label_width = report.facts.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (label, value) in &report.facts {
        let _ = writeln!(out, "  {label:<label_width$}  {value}");
    }
    let _ = writeln!(out, "\nUPSTREAM CLUSTERS ({})", report.rows.len());
    write_table(&mut out, &report.rows);
    out.push('\n');
    for (mark, meaning) in LEGEND {
        let _ = writeln!(out, "  {mark:<3}  {meaning}");
    }
    let _ = writeln!(out, "\nFINDINGS ({})", findings.len());
    out.push_str(&render_findings(findings));
    write_list(&mut out, "SIDECARS NOT CURRENT", &report.sidecars);
    write_list(&mut out, "CONFIG ISSUES", &report.config_issues);
    out
}

fn write_list(out: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title} ({})", items.len());
    for item in items {
        let _ = writeln!(out, "  {item}");
    }
}

/// Column titles, a rule of `-`, then the rows; numbers right-aligned.
fn write_table(out: &mut String, rows: &[Vec<String>]) {
    let widths: Vec<usize> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (title, _))| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .chain([title.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let titles: Vec<String> = COLUMNS.iter().map(|(t, _)| t.to_string()).collect();
    write_line(out, &titles, &widths);
    let rules: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    write_line(out, &rules, &widths);
    for row in rows {
        write_line(out, row, &widths);
    }
}

fn write_line(out: &mut String, cells: &[String], widths: &[usize]) {
    let mut line = String::new();
    for (i, ((cell, width), (_, align))) in cells.iter().zip(widths).zip(COLUMNS).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        let pad = width.saturating_sub(cell.chars().count());
        match align {
            Align::Left => {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', pad));
            }
            Align::Right => {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            }
        }
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(rows: Vec<Vec<String>>) -> Report {
        Report {
            version: "0.1.0".into(),
            facts: vec![("context", "kind".into()), ("namespace", "prod".into())],
            rows,
            sidecars: vec!["order-b: forbidden: create pods/portforward".into()],
            config_issues: Vec::new(),
        }
    }

    /// A row: `finding`, `destination`, then `rest` in every other column.
    fn cells(finding: &str, destination: &str, rest: &str) -> Vec<String> {
        [finding, destination]
            .into_iter()
            .map(str::to_string)
            .chain(std::iter::repeat_n(rest.to_string(), COLUMNS.len() - 2))
            .collect()
    }

    #[test]
    fn columns_align_and_numbers_are_right_aligned() {
        let text = render_text(
            &report(vec![
                cells("critical", "a.prod:80", "1"),
                cells("", "bb.prod:8080", "—"),
            ]),
            &[],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "meshtop 0.1.0 snapshot");
        assert_eq!(lines[1], "  context    kind");
        assert_eq!(lines[2], "  namespace  prod");
        assert_eq!(lines[4], "UPSTREAM CLUSTERS (2)");
        assert!(
            lines[5].starts_with("finding   destination   clients  rq/s  timeouts/s  timeouts Δ  ")
        );
        assert!(lines[5].ends_with("  connect  idle  stale"));
        assert!(
            lines[6].starts_with("--------  ------------  -------  ----  ----------  ----------  ")
        );
        assert!(
            lines[7].starts_with("critical  a.prod:80           1     1           1           1  ")
        );
        assert!(lines[7].ends_with("        1     1  1"));
        assert!(
            lines[8].starts_with("          bb.prod:8080        —     —           —           —  ")
        );
        assert!(lines[8].ends_with("        —     —  —"));
        assert!(text.contains("\nFINDINGS (0)\nNo findings.\n"));
        assert!(text.ends_with(
            "\nSIDECARS NOT CURRENT (1)\n  order-b: forbidden: create pods/portforward\n"
        ));
        assert!(!text.contains("CONFIG ISSUES"));
    }
}
