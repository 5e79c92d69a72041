//! Findings as plain text for terminals, runbooks and postmortems (`meshtop check`, `meshtop
//! inspect`): no colour, no box drawing, commands on their own `$` lines so they copy cleanly.

use std::fmt::Write;

use super::finding::{Finding, Severity};

/// All findings, most severe first as given; `"No findings."` when there are none.
pub fn render_findings(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "No findings.\n".to_string();
    }
    let mut out = String::new();
    for (i, f) in findings.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_finding(&mut out, f);
    }
    out
}

/// One line per finding: `CRITICAL R1 inventory-svc.prod:8080 — title`.
pub fn summary_line(f: &Finding) -> String {
    format!("{:<8} {:<3} {}", label(f.severity), f.rule, f.title)
}

fn label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::Warning => "WARNING",
        Severity::Info => "INFO",
    }
}

fn render_finding(out: &mut String, f: &Finding) {
    let _ = writeln!(out, "{}", summary_line(f));
    let pods = match (&f.scope, f.pods.len()) {
        (Some(scope), _) => format!("{} ({scope})", f.pods.join(", ")),
        (None, 0) => String::new(),
        (None, _) => f.pods.join(", "),
    };
    let _ = writeln!(out, "  target: {}", f.target);
    if !pods.is_empty() {
        let _ = writeln!(out, "  pods: {pods}");
    }
    if !f.evidence.is_empty() {
        let _ = writeln!(out, "  evidence:");
        let width = f
            .evidence
            .iter()
            .map(|e| e.name.chars().count())
            .max()
            .unwrap_or(0);
        for e in &f.evidence {
            let effective = e
                .effective
                .as_deref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default();
            let _ = writeln!(out, "    {:<width$}  {}{effective}", e.name, e.value);
        }
    }
    if !f.cause.is_empty() {
        let _ = writeln!(out, "  likely cause: {}", f.cause);
    }
    if !f.next_steps.is_empty() {
        let _ = writeln!(out, "  next steps:");
        for (i, step) in f.next_steps.iter().enumerate() {
            let _ = writeln!(out, "    {}. {}", i + 1, step.text);
            if let Some(cmd) = &step.command {
                let _ = writeln!(out, "       $ {cmd}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::{Evidence, EvidenceKind, NextStep};

    #[test]
    fn a_finding_reads_as_plain_text_with_copyable_commands() {
        let f = Finding {
            rule: "R1".into(),
            severity: Severity::Critical,
            cluster: Some("outbound|8080||inventory-svc.prod.svc.cluster.local".into()),
            target: "inventory-svc.prod:8080".into(),
            pods: vec!["order-a".into(), "order-b".into()],
            scope: Some("2 of 2 order pods".into()),
            title: "38 calls timed out".into(),
            evidence: vec![Evidence {
                kind: EvidenceKind::Counter,
                name: "upstream_rq_timeout".into(),
                value: "+38 in 30s (1.27/s)".into(),
                number: Some(38.0),
                effective: None,
            }],
            cause: "The VirtualService timeout fired.".into(),
            next_steps: vec![NextStep::run(
                "Check the route",
                "istioctl proxy-config route order-a.prod --name 8080 -o json",
            )],
        };
        let text = render_findings(&[f]);
        assert_eq!(
            text,
            "CRITICAL R1  38 calls timed out\n  target: inventory-svc.prod:8080\n  pods: order-a, order-b (2 of 2 order pods)\n  evidence:\n    upstream_rq_timeout  +38 in 30s (1.27/s)\n  likely cause: The VirtualService timeout fired.\n  next steps:\n    1. Check the route\n       $ istioctl proxy-config route order-a.prod --name 8080 -o json\n"
        );
        assert_eq!(render_findings(&[]), "No findings.\n");
    }
}
