//! The drill-down's other side of the calls: the destination pods' inbound cluster (what the
//! server sidecars saw) and the responses by code and Envoy response flag from
//! `istio_requests_total`, reported by the client (`source`) and the server (`destination`) —
//! where `UT` on one side meets `DC` on the other.

use ratatui::text::{Line, Span};

use super::cluster::{pad, section};
use crate::model::{ClusterSnapshot, RequestWindow, ServerSide};
use crate::ui::theme::Theme;
use crate::ui::widgets::number::{NOT_COLLECTED, compact, count, increase};
use crate::ui::widgets::wrap::wrap_words;

/// Inbound counters shown, with their labels.
const INBOUND: [(&str, &str); 6] = [
    ("upstream_rq_total", "rq"),
    ("upstream_rq_5xx", "5xx"),
    ("upstream_rq_timeout", "timeouts"),
    ("upstream_rq_tx_reset", "tx resets"),
    ("upstream_rq_rx_reset", "rx resets"),
    (
        "upstream_cx_destroy_remote_with_active_rq",
        "cx destroyed remote",
    ),
];

/// The server side and the responses, wrapped to `width`.
pub fn lines<'a>(c: &ClusterSnapshot, width: u16, theme: &Theme) -> Vec<Line<'a>> {
    let mut out = vec![section(
        "SERVER SIDE (destination sidecars, inbound)",
        theme,
    )];
    match &c.server {
        Some(s) => out.extend(server(s, width, theme)),
        None => out.push(Line::styled(
            "  not identified: no destination sidecar reported calls to this service",
            theme.muted,
        )),
    }
    out.push(Line::default());
    out.extend(responses(c, theme));
    out
}

fn server<'a>(s: &ServerSide, width: u16, theme: &Theme) -> Vec<Line<'a>> {
    let cluster = s
        .cluster
        .as_deref()
        .unwrap_or("inbound cluster not identified");
    let head = format!(
        "{cluster} on {} pod(s): {}",
        s.pods.len(),
        s.pods.join(", ")
    );
    let mut out: Vec<Line> = wrap_words(&head, usize::from(width).saturating_sub(4))
        .into_iter()
        .map(|l| Line::styled(format!("  {l}"), theme.text))
        .collect();
    let mut spans = vec![Span::styled("  window:", theme.muted)];
    for (i, (stat, label)) in INBOUND.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" ·", theme.muted));
        }
        let value = match s.counters.get(stat) {
            Some(w) => format!(" {label} {}", increase(w.increase)),
            None => format!(" {label} {NOT_COLLECTED}"),
        };
        let bad =
            stat != "upstream_rq_total" && s.counters.get(stat).is_some_and(|w| w.increase > 0);
        spans.push(Span::styled(
            value,
            if bad { theme.warn } else { theme.text },
        ));
    }
    out.push(Line::from(spans));
    out
}

/// Every response series with calls in the window, client side first.
fn responses<'a>(c: &ClusterSnapshot, theme: &Theme) -> Vec<Line<'a>> {
    let title = "RESPONSES (istio_requests_total over the window)";
    let mut out = vec![section(title, theme)];
    let server = c.server.iter().flat_map(|s| s.requests.iter());
    let all: Vec<&RequestWindow> = (c.requests.iter().chain(server))
        .filter(|r| r.window.increase > 0)
        .collect();
    if all.is_empty() {
        let text = match c.requests.is_empty() && c.server.is_none() {
            true => format!("  {NOT_COLLECTED} no istio_requests_total series for this service"),
            false => "  no responses in the window".to_string(),
        };
        out.push(Line::styled(text, theme.muted));
        return out;
    }
    let columns = [pad("REPORTER", 13), pad("CODE", 6), pad("FLAGS", 10)];
    let head = format!("  {}  COUNT   RATE", columns.concat());
    out.push(Line::styled(head, theme.header));
    out.extend(all.into_iter().map(|r| response(r, theme)));
    out
}

fn response<'a>(r: &RequestWindow, theme: &Theme) -> Line<'a> {
    let style = match r.response_flags == "-" {
        true => theme.text,
        false => theme.warn,
    };
    let rate = compact(r.window.rate.unwrap_or(0.0));
    Line::from(vec![
        Span::styled(format!("  {}", pad(&r.reporter, 13)), theme.muted),
        Span::styled(pad(&r.response_code, 6), style),
        Span::styled(pad(&r.response_flags, 10), style),
        Span::styled(format!("{:>7}", count(r.window.increase)), theme.text),
        Span::styled(format!("{rate:>7}"), theme.text),
    ])
}
