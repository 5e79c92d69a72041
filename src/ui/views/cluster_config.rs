//! The drill-down's configuration section: every setting Istio resolved for the cluster next to
//! what Envoy runs with (`/config_dump`) and where the value came from, defaults dimmed and
//! disagreements marked `≠` — "configured but not applied" is visible at a glance.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::cluster::{pad, section};
use crate::model::config_summary::UNLIMITED;
use crate::model::envoy_view::{ConfigView, RouteView};
use crate::model::{ClusterSnapshot, ConfigSummary};
use crate::ui::theme::Theme;
use crate::ui::widgets::number::{NOT_COLLECTED, duration_ms};
use crate::ui::widgets::wrap::wrap_words;

/// How one setting reads on both sides.
type Configured = fn(&ConfigSummary) -> String;
type Effective = fn(&ConfigView) -> Option<String>;

/// The settings compared: label, `ConfigSummary` field, configured and effective text.
const SETTINGS: [(&str, &str, Configured, Effective); 11] = [
    (
        "route timeout",
        "route_timeout_ms",
        |s| timeout(s.route_timeout_ms),
        |e| e.routes.first().map(route_timeout),
    ),
    (
        "per-try timeout",
        "per_try_timeout_ms",
        |s| timeout(s.per_try_timeout_ms),
        |e| e.routes.first().map(|r| timeout(r.per_try_timeout_ms)),
    ),
    (
        "retries",
        "retry_attempts",
        |s| s.retry_attempts.to_string(),
        |e| {
            let r = e.routes.first()?;
            Some(r.retry_attempts.map_or("none".into(), |n| n.to_string()))
        },
    ),
    (
        "retry on",
        "retry_on",
        |s| s.retry_on.clone(),
        |e| e.routes.first().map(|r| r.retry_on.join(",")),
    ),
    (
        "connect timeout",
        "connect_timeout_ms",
        |s| duration_ms(s.connect_timeout_ms),
        |e| Some(duration_ms(e.connect_timeout_ms)),
    ),
    (
        "idle timeout",
        "idle_timeout_ms",
        |s| duration_ms(s.idle_timeout_ms),
        |e| Some(duration_ms(e.idle_timeout_ms)),
    ),
    (
        "max connections",
        "max_connections",
        |s| limit(s.max_connections, UNLIMITED),
        |e| Some(limit(e.max_connections.into(), UNLIMITED)),
    ),
    (
        "max pending",
        "max_pending_requests",
        |s| limit(s.max_pending_requests, UNLIMITED),
        |e| Some(limit(e.max_pending_requests.into(), UNLIMITED)),
    ),
    (
        "max requests",
        "max_requests",
        |s| limit(s.max_requests, UNLIMITED),
        |e| Some(limit(e.max_requests.into(), UNLIMITED)),
    ),
    (
        "max retries",
        "max_retries",
        |s| limit(s.max_retries, UNLIMITED),
        |e| Some(limit(e.max_retries.into(), UNLIMITED)),
    ),
    (
        "max rq/conn",
        "max_requests_per_connection",
        |s| limit(s.max_requests_per_connection, 0),
        |e| {
            Some(
                e.max_requests_per_connection
                    .map_or("unlimited".into(), |n| n.to_string()),
            )
        },
    ),
];

fn timeout(ms: Option<u64>) -> String {
    ms.map_or("off".to_string(), duration_ms)
}

fn limit(n: u64, unlimited: u64) -> String {
    match n == unlimited {
        true => "unlimited".to_string(),
        false => n.to_string(),
    }
}

fn route_timeout(r: &RouteView) -> String {
    match r.timeout_is_envoy_default {
        true => format!("{} (Envoy default)", timeout(r.timeout_ms)),
        false => timeout(r.timeout_ms),
    }
}

/// The configuration section, wrapped to `width`.
pub fn lines<'a>(c: &ClusterSnapshot, width: u16, theme: &Theme) -> Vec<Line<'a>> {
    let title = "CONFIGURED (Istio) vs EFFECTIVE (Envoy /config_dump)";
    let mut out = vec![section(title, theme)];
    let Some(s) = &c.config else {
        let text = "  no Istio configuration resolved for this cluster (Istio objects not read, \
                    or not an Istio service)";
        out.push(Line::styled(text, theme.muted));
        return out;
    };
    let objects = format!(
        "  DestinationRule {} · VirtualService {}",
        s.destination_rule.as_deref().unwrap_or("none"),
        s.virtual_service.as_deref().unwrap_or("none")
    );
    out.push(Line::styled(objects, theme.text));
    let columns = [
        pad("SETTING", 18),
        pad("CONFIGURED", 14),
        pad("EFFECTIVE", 14),
    ];
    out.push(Line::styled(
        format!("  {}SOURCE", columns.concat()),
        theme.header,
    ));
    let effective = c.effective_config.as_deref();
    for (label, field, configured, effective_of) in SETTINGS {
        let value = (configured(s), effective.and_then(effective_of));
        out.push(setting_line(s, (label, field), value, theme));
    }
    out.extend(gap(effective, theme));
    out.extend(notes(s, width, theme));
    out
}

/// What the effective column could not show, and why.
fn gap<'a>(effective: Option<&ConfigView>, theme: &Theme) -> Option<Line<'a>> {
    let why = match effective {
        None => "no /config_dump read for this cluster yet",
        Some(e) if e.routes.is_empty() => {
            "route settings: no route to this cluster in the dump read"
        }
        Some(_) => return None,
    };
    Some(Line::styled(
        format!("  effective {NOT_COLLECTED}: {why}"),
        theme.muted,
    ))
}

/// The resolution's remarks, wrapped.
fn notes<'a>(s: &ConfigSummary, width: u16, theme: &Theme) -> Vec<Line<'a>> {
    let width = usize::from(width).saturating_sub(10);
    let mut out = Vec::new();
    for note in &s.notes {
        for (i, part) in wrap_words(note, width).into_iter().enumerate() {
            let head = if i == 0 { "  note: " } else { "        " };
            out.push(Line::styled(format!("{head}{part}"), theme.muted));
        }
    }
    out
}

/// One setting: label, configured value (dimmed when a default), effective value (`≠` when
/// it differs), source.
fn setting_line<'a>(
    s: &ConfigSummary,
    (label, field): (&str, &str),
    (configured, effective): (String, Option<String>),
    theme: &Theme,
) -> Line<'a> {
    let default = s.defaults.iter().any(|d| d == field);
    let mismatch = s.mismatches.iter().any(|m| m.field == field);
    let configured_style = match (mismatch, default) {
        (true, _) => theme.crit,
        (false, true) => theme.default_value,
        (false, false) => theme.text,
    };
    let (effective, effective_style): (String, Style) = match (effective, mismatch) {
        (None, _) => (NOT_COLLECTED.to_string(), theme.not_collected),
        (Some(e), true) => (format!("≠ {e}"), theme.crit),
        (Some(e), false) => (e, theme.text),
    };
    let source = s.sources.get(field).map_or("", String::as_str);
    Line::from(vec![
        Span::styled(format!("  {}", pad(label, 18)), theme.muted),
        Span::styled(pad(&configured, 13), configured_style),
        Span::raw(" "),
        Span::styled(pad(&effective, 13), effective_style),
        Span::raw(" "),
        Span::styled(
            source.to_string(),
            if default {
                theme.default_value
            } else {
                theme.muted
            },
        ),
    ])
}
