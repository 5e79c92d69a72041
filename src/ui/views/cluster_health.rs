//! The drill-down's health sections: the endpoints from `/clusters` (healthy, ejected, the
//! per-host counters over the window and since proxy start, unhealthy hosts with their flags)
//! and the chart of the key rates over the retained history (`HISTORY_STATS`).

use ratatui::text::{Line, Span};

use super::cluster::{pad, section};
use crate::app::{App, HISTORY_STATS};
use crate::model::ClusterSnapshot;
use crate::model::envoy_view::EndpointView;
use crate::ui::theme::Theme;
use crate::ui::widgets::number::{NOT_COLLECTED, compact, increase};
use crate::ui::widgets::spark_text;

/// Endpoint health and the per-host counters.
pub fn endpoints<'a>(c: &ClusterSnapshot, theme: &Theme) -> Vec<Line<'a>> {
    let mut out = vec![section(
        "ENDPOINTS (/clusters of the freshest client)",
        theme,
    )];
    let Some(e) = &c.endpoints else {
        let text = format!("  {NOT_COLLECTED} /clusters not read");
        out.push(Line::styled(text, theme.not_collected));
        return out;
    };
    let healthy = e.healthy == e.total && e.ejected == 0;
    let health = format!(
        "  {} healthy of {}, {} ejected",
        e.healthy, e.total, e.ejected
    );
    out.push(Line::from(vec![
        Span::styled(health, if healthy { theme.ok } else { theme.warn }),
        Span::styled(window_counts(c), theme.text),
    ]));
    out.push(Line::styled(lifetime_counts(e), theme.muted));
    let unhealthy = e.unhealthy.iter();
    out.extend(unhealthy.map(|h| Line::styled(format!("  ✗ {h}"), theme.warn)));
    out
}

/// The per-host counters' increase over the window.
fn window_counts(c: &ClusterSnapshot) -> String {
    let window = |s: &str| c.increase(s).map_or(NOT_COLLECTED.to_string(), increase);
    format!(
        " · window: rq {} · timeouts {} · errors {} · connect fails {}",
        window("hosts.rq_total"),
        window("hosts.rq_timeout"),
        window("hosts.rq_error"),
        window("hosts.cx_connect_fail"),
    )
}

/// The per-host counters since the proxy started, summed over hosts.
fn lifetime_counts(e: &EndpointView) -> String {
    let total = |v: Option<u64>| v.map_or(NOT_COLLECTED.to_string(), |n| n.to_string());
    format!(
        "  since proxy start, all hosts: rq {} · timeouts {} · errors {} · connect fails {}",
        total(e.rq_total),
        total(e.rq_timeout),
        total(e.rq_error),
        total(e.cx_connect_fail)
    )
}

fn history_label(stat: &str) -> &str {
    match stat {
        "upstream_rq_timeout" => "timeouts",
        "upstream_rq_total" => "requests",
        "upstream_rq_5xx" => "5xx",
        "upstream_cx_destroy_remote_with_active_rq" => "cx destroyed remote",
        "upstream_cx_destroy_local_with_active_rq" => "cx destroyed local",
        other => other,
    }
}

/// The chart: one sparkline per history stat, with its latest and highest rate. While paused
/// it is the history as it was when the view froze.
pub fn history<'a>(app: &App, c: &ClusterSnapshot, width: u16, theme: &Theme) -> Vec<Line<'a>> {
    let rows = app.mesh.shown_history().get(&c.key.name);
    let points = rows.and_then(|r| r.first()).map_or(0, |r| r.len());
    let title = format!("HISTORY (per second, last {points} updates)");
    let mut out = vec![section(&title, theme)];
    let Some(rows) = rows else {
        out.push(Line::styled("  no history yet", theme.muted));
        return out;
    };
    let room = usize::from(width).saturating_sub(2 + 20 + 26).max(8);
    for (stat, row) in HISTORY_STATS.iter().zip(rows) {
        let values: Vec<f64> = row.iter().copied().collect();
        let now = values.last().copied().unwrap_or(0.0);
        let max = values.iter().copied().fold(0.0, f64::max);
        let style = if max > 0.0 { theme.chart } else { theme.muted };
        let numbers = format!("  now {:>5}  max {:>5}", compact(now), compact(max));
        out.push(Line::from(vec![
            Span::styled(format!("  {}", pad(history_label(stat), 20)), theme.muted),
            Span::styled(spark_text(&values, values.len().clamp(8, room)), style),
            Span::styled(numbers, theme.text),
        ]));
    }
    out
}
