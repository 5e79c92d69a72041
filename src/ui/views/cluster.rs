//! The drill-down (`Enter` on an overview row): one cluster in depth — a summary, a chart of
//! the key rates over the retained history, the cluster on each client pod, its endpoints from
//! `/clusters`, configured vs effective config (`cluster_config.rs`), the server side and the
//! responses by flag (`cluster_server.rs`), and its findings in full with their verify
//! commands. One long text scrolled by `view.scroll`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{cluster_config, cluster_health, cluster_server, finding};
use crate::app::{App, cluster_severity};
use crate::model::{ClusterSnapshot, CounterWindow, PodClusterView};
use crate::ui::theme::Theme;
use crate::ui::widgets::number::{NOT_COLLECTED, compact, increase, millis};
use crate::ui::widgets::wrap::wrap_words;

/// Draws the drill-down of `view.detail` into `area`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let name = app.view.detail.as_deref().unwrap_or("");
    let cluster = app.mesh.shown().snapshot.cluster(name);
    let title = format!(" cluster · {} ", cluster.map_or(name, |c| c.label.as_str()));
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Span::styled(title, theme.accent));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = match cluster {
        Some(c) => content(app, c, inner.width, theme),
        None => vec![Line::styled(
            format!("  {name} is not in the current snapshot (gone, or not seen yet)"),
            theme.muted,
        )],
    };
    let max = lines.len().saturating_sub(usize::from(inner.height));
    let scroll = usize::from(app.view.scroll).min(max) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

fn content<'a>(app: &'a App, c: &'a ClusterSnapshot, width: u16, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = summary(app, c, theme);
    let sections = [
        cluster_health::history(app, c, width, theme),
        client_pods(c, width, theme),
        cluster_health::endpoints(c, theme),
        cluster_config::lines(c, width, theme),
        cluster_server::lines(c, width, theme),
        findings(app, c, width, theme),
    ];
    for s in sections {
        lines.push(Line::default());
        lines.extend(s);
    }
    lines
}

/// A section title.
pub fn section<'a>(title: &str, theme: &Theme) -> Line<'a> {
    Line::styled(title.to_string(), theme.header.add_modifier(Modifier::BOLD))
}

/// `text` padded (or cut with `…`) to exactly `width` characters, left-aligned.
pub fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    match n > width {
        true if width > 0 => {
            let cut: String = text.chars().take(width - 1).collect();
            format!("{cut}…")
        }
        true => String::new(),
        false => format!("{text}{}", " ".repeat(width - n)),
    }
}

/// `text` right-aligned in `width` characters.
fn right<'a>(text: String, width: usize, style: Style) -> Span<'a> {
    Span::styled(format!("{text:>width$}"), style)
}

fn summary<'a>(app: &App, c: &'a ClusterSnapshot, theme: &Theme) -> Vec<Line<'a>> {
    let window = app.mesh.shown().snapshot.window_seconds;
    let scope = format!(" · {} client pods · window {window:.0}s", c.clients.len());
    let rate = |stat: &str| c.rate(stat).map_or(NOT_COLLECTED.to_string(), compact);
    let timeouts = c.increase("upstream_rq_timeout");
    let p99 = c.upstream_rq_time_p99_ms;
    let rates = format!(
        "  {}/s requests · {}/s timeouts ({} in the window) · p99 {}",
        rate("upstream_rq_total"),
        rate("upstream_rq_timeout"),
        timeouts.map_or(NOT_COLLECTED.to_string(), increase),
        p99.map_or(NOT_COLLECTED.to_string(), millis),
    );
    vec![
        Line::styled(format!("  {}", c.key.name), theme.muted),
        Line::from(vec![
            Span::raw("  "),
            verdict(app, c, theme),
            Span::styled(scope, theme.text),
        ]),
        Line::styled(rates, theme.text),
    ]
}

/// `2 findings, worst critical` in the worst finding's style.
fn verdict<'a>(app: &App, c: &ClusterSnapshot, theme: &Theme) -> Span<'a> {
    let findings = &app.mesh.shown().findings;
    let name = Some(c.key.name.as_str());
    let count = findings
        .iter()
        .filter(|f| f.cluster.as_deref() == name)
        .count();
    match cluster_severity(findings, &c.key.name) {
        Some(s) => Span::styled(
            format!("{count} {}, worst {}", plural(count, "finding"), s.word()),
            theme.severity(s),
        ),
        None => Span::styled("no findings", theme.ok),
    }
}

fn plural(n: usize, word: &str) -> String {
    match n {
        1 => word.to_string(),
        _ => format!("{word}s"),
    }
}

fn counter_cell<'a>(w: Option<&CounterWindow>, width: usize, theme: &Theme) -> Span<'a> {
    match w {
        None => right(NOT_COLLECTED.to_string(), width, theme.not_collected),
        Some(w) => right(compact(w.rate.unwrap_or(0.0)), width, theme.text),
    }
}

/// The cluster on each client pod that sent requests; the idle ones on one line.
fn client_pods<'a>(c: &ClusterSnapshot, width: u16, theme: &Theme) -> Vec<Line<'a>> {
    let mut out = vec![section("CLIENT PODS (window rates per second)", theme)];
    if c.per_pod.is_empty() {
        out.push(Line::styled("  per-pod data not collected", theme.muted));
        return out;
    }
    let busy = |p: &&PodClusterView| {
        p.counters
            .get("upstream_rq_total")
            .is_none_or(|w| w.increase > 0)
    };
    let (active, idle): (Vec<&PodClusterView>, Vec<_>) = c.per_pod.iter().partition(busy);
    let w = active
        .iter()
        .map(|p| p.pod.chars().count())
        .max()
        .unwrap_or(3)
        .clamp(20, 40);
    out.push(Line::styled(
        format!(
            "  {}  RQ/S  TMO/S  TMO Δ  CXD L/R  5XX/S    P99",
            pad("POD", w)
        ),
        theme.header,
    ));
    out.extend(active.iter().map(|p| pod_line(p, w, theme)));
    if !idle.is_empty() {
        let names: Vec<&str> = idle.iter().map(|p| p.pod.as_str()).collect();
        let text = format!("{} with no requests: {}", idle.len(), names.join(", "));
        let wrapped = wrap_words(&text, usize::from(width).saturating_sub(4));
        out.extend(
            wrapped
                .into_iter()
                .map(|l| Line::styled(format!("  {l}"), theme.muted)),
        );
    }
    out
}

fn pod_line<'a>(p: &PodClusterView, w: usize, theme: &Theme) -> Line<'a> {
    let get = |s: &str| p.counters.get(s);
    let timeouts = get("upstream_rq_timeout");
    let delta = timeouts.map_or(NOT_COLLECTED.to_string(), |t| increase(t.increase));
    let rate = |s: &str| {
        get(s).map_or(NOT_COLLECTED.to_string(), |w| {
            compact(w.rate.unwrap_or(0.0))
        })
    };
    let destroyed = format!(
        "{}/{}",
        rate("upstream_cx_destroy_local_with_active_rq"),
        rate("upstream_cx_destroy_remote_with_active_rq")
    );
    let bad = timeouts.is_some_and(|t| t.increase > 0);
    let p99 = p
        .upstream_rq_time_p99_ms
        .map_or(NOT_COLLECTED.to_string(), millis);
    Line::from(vec![
        Span::styled(format!("  {}", pad(&p.pod, w)), theme.text),
        counter_cell(get("upstream_rq_total"), 6, theme),
        counter_cell(timeouts, 7, theme),
        right(delta, 7, if bad { theme.warn } else { theme.muted }),
        right(destroyed, 9, theme.text),
        counter_cell(get("upstream_rq_5xx"), 7, theme),
        right(p99, 7, theme.text),
    ])
}

fn findings<'a>(app: &'a App, c: &ClusterSnapshot, width: u16, theme: &Theme) -> Vec<Line<'a>> {
    let name = Some(c.key.name.as_str());
    let about: Vec<_> = app
        .mesh
        .shown()
        .findings
        .iter()
        .filter(|f| f.cluster.as_deref() == name)
        .collect();
    let mut out = vec![section(&format!("FINDINGS ({})", about.len()), theme)];
    if about.is_empty() {
        out.push(Line::styled(
            "  ✓ nothing found for this cluster in the window",
            theme.ok,
        ));
    }
    for (i, f) in about.into_iter().enumerate() {
        if i > 0 {
            out.push(Line::default());
        }
        out.extend(finding::full(f, width, theme));
    }
    out
}
