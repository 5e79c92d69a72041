//! Evidence: how a rule quotes what it saw — window counters (`+38 in 30s (1.27/s)`), flags
//! by side, gauges, p99, and config values with their source object and Envoy's effective
//! value — and the duration and number formats they use.

use crate::istio::Sourced;
use crate::model::{ClusterSnapshot, CounterWindow, RequestWindow};

use super::context::{Context, Reporter};
use super::finding::{Evidence, EvidenceKind};

impl<'a> Context<'a> {
    /// `+38 in 30s (1.27/s)`.
    pub fn window_text(&self, w: &CounterWindow) -> String {
        let secs = human_seconds(self.snap.window_seconds);
        match w.rate {
            Some(rate) => format!("+{} in {secs} ({}/s)", w.increase, human_rate(rate)),
            None => format!("+{} in {secs}", w.increase),
        }
    }

    /// Evidence for a client-side counter (`None` when not collected).
    pub fn counter_evidence(&self, c: &ClusterSnapshot, stat: &str) -> Option<Evidence> {
        let w = self.counter(c, stat)?;
        Some(Evidence {
            kind: EvidenceKind::Counter,
            name: stat.to_string(),
            value: self.window_text(&w),
            number: Some(w.increase as f64),
            effective: None,
        })
    }

    /// Evidence for the server side's inbound counter.
    pub fn server_counter_evidence(&self, c: &ClusterSnapshot, stat: &str) -> Option<Evidence> {
        let server = c.server.as_ref()?;
        let w = server.counters.get(stat)?;
        let cluster = server.cluster.as_deref().unwrap_or("inbound");
        Some(Evidence {
            kind: EvidenceKind::Counter,
            name: format!("server {cluster} {stat}"),
            value: format!("{} on {} pod(s)", self.window_text(w), server.pods.len()),
            number: Some(w.increase as f64),
            effective: None,
        })
    }

    /// Evidence for the responses with `flag` on one side: `UT (504, reporter=source)`.
    pub fn flag_evidence(
        &self,
        c: &ClusterSnapshot,
        side: Reporter,
        flag: &str,
    ) -> Option<Evidence> {
        let series = self.series(c, side);
        let hits: Vec<&RequestWindow> = series.iter().filter(|r| r.has_flag(flag)).collect();
        let count: u64 = hits.iter().map(|r| r.window.increase).sum();
        if series.is_empty() {
            return None;
        }
        let mut codes: Vec<&str> = hits.iter().map(|r| r.response_code.as_str()).collect();
        codes.dedup();
        let reporter = match side {
            Reporter::Client => "source",
            Reporter::Server => "destination",
        };
        let codes = match codes.is_empty() {
            true => String::new(),
            false => format!("{}, ", codes.join("/")),
        };
        Some(Evidence {
            kind: EvidenceKind::Flag,
            name: format!("{flag} ({codes}reporter={reporter})"),
            value: format!(
                "{count} responses in {}",
                human_seconds(self.snap.window_seconds)
            ),
            number: Some(count as f64),
            effective: None,
        })
    }

    /// Evidence for the worst client p99 of `upstream_rq_time`.
    pub fn p99_evidence(&self, c: &ClusterSnapshot) -> Option<Evidence> {
        let p99 = c.upstream_rq_time_p99_ms?;
        Some(Evidence {
            kind: EvidenceKind::Latency,
            name: "upstream_rq_time p99".into(),
            value: human_ms(p99),
            number: Some(p99),
            effective: None,
        })
    }

    /// Evidence for a gauge's current maximum over client pods.
    pub fn gauge_evidence(&self, c: &ClusterSnapshot, stat: &str) -> Option<Evidence> {
        let g = c.gauges.get(stat)?;
        Some(Evidence {
            kind: EvidenceKind::Gauge,
            name: stat.to_string(),
            value: match g.pods {
                1 => format!("{}", g.max),
                n => format!("max {} over {n} pods", g.max),
            },
            number: Some(g.max),
            effective: None,
        })
    }

    /// Evidence for a field of the cluster's `config` summary (`route_timeout_ms`, …), quoted
    /// with its source object and, when Envoy runs with something else, the effective value.
    /// `None` when no Istio config was resolved.
    pub fn config_evidence(&self, c: &ClusterSnapshot, field: &str) -> Option<Evidence> {
        let cfg = c.config.as_ref()?;
        let (number, value) = config_value(cfg, field)?;
        let source = cfg
            .sources
            .get(field)
            .cloned()
            .unwrap_or_else(|| "Istio default".into());
        let effective = cfg
            .mismatches
            .iter()
            .find(|m| m.field == field)
            .map(|m| format!("Envoy runs with {}", show_config(field, m.effective)));
        Some(Evidence {
            kind: EvidenceKind::Config,
            name: source,
            value,
            number,
            effective,
        })
    }

    /// [`config_evidence`](Self::config_evidence), but a value nothing configured is named by
    /// its Istio field (`connectionPool.http.maxRequestsPerConnection (Istio default)`) rather
    /// than by its source alone.
    pub fn setting_evidence(
        &self,
        c: &ClusterSnapshot,
        field: &str,
        istio_field: &str,
    ) -> Option<Evidence> {
        let mut ev = self.config_evidence(c, field)?;
        if ev.name.starts_with("Istio default") {
            ev.name = format!("{istio_field} ({})", ev.name);
        }
        Some(ev)
    }

    /// Evidence for a resolved policy setting [`config_evidence`](Self::config_evidence) has no
    /// field for (TLS mode, max connection duration, h2 upgrade), named by its source object.
    pub fn sourced_evidence<T>(&self, setting: &Sourced<T>, value: impl Into<String>) -> Evidence {
        Evidence {
            kind: EvidenceKind::Config,
            name: setting.source.to_string(),
            value: value.into(),
            number: None,
            effective: None,
        }
    }

    /// Evidence for [`membership`](Self::membership): `0 of 3 healthy`, named after where it
    /// was read.
    pub fn membership_evidence(&self, c: &ClusterSnapshot) -> Option<Evidence> {
        let (total, healthy) = self.membership(c)?;
        let healthy_gauge = c.gauges.get("membership_healthy");
        let from_gauges = c.gauges.contains_key("membership_total") && healthy_gauge.is_some();
        let name = match from_gauges {
            true => "membership_healthy / membership_total",
            false => "/clusters endpoints (healthy / total)",
        };
        // Client pods can disagree (one has ejected a host, another not yet): show the range.
        let value = match healthy_gauge.filter(|g| from_gauges && g.min < g.max) {
            Some(g) => format!(
                "{}–{healthy} of {total} healthy over {} pods",
                g.min, g.pods
            ),
            None => format!("{healthy} of {total} healthy"),
        };
        Some(Evidence {
            kind: EvidenceKind::Endpoint,
            name: name.into(),
            value,
            number: Some(healthy as f64),
            effective: None,
        })
    }
}

/// `2s`, `1.5s`, `250ms`, `1h`: the way Istio writes durations.
pub fn human_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "—".into();
    }
    if ms >= 1000.0 {
        let s = ms / 1000.0;
        if s >= 3600.0 && (s % 3600.0) == 0.0 {
            return format!("{}h", s / 3600.0);
        }
        if s >= 60.0 && (s % 60.0) == 0.0 {
            return format!("{}m", s / 60.0);
        }
        return format!("{}s", trim_float(s));
    }
    format!("{}ms", trim_float(ms))
}

fn human_seconds(s: f64) -> String {
    human_ms(s * 1000.0)
}

fn human_rate(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.2}")
    }
}

fn trim_float(v: f64) -> String {
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The numeric value and its display for a `config` field.
fn config_value(cfg: &crate::model::ConfigSummary, field: &str) -> Option<(Option<f64>, String)> {
    let v = match field {
        "connect_timeout_ms" => Some(cfg.connect_timeout_ms),
        "idle_timeout_ms" => Some(cfg.idle_timeout_ms),
        "route_timeout_ms" => cfg.route_timeout_ms,
        "per_try_timeout_ms" => cfg.per_try_timeout_ms,
        "retry_attempts" => Some(u64::from(cfg.retry_attempts)),
        "max_connections" => Some(cfg.max_connections),
        "max_pending_requests" => Some(cfg.max_pending_requests),
        "max_requests" => Some(cfg.max_requests),
        "max_retries" => Some(cfg.max_retries),
        "max_requests_per_connection" => Some(cfg.max_requests_per_connection),
        "retry_on" => return Some((None, cfg.retry_on.clone())),
        _ => return None,
    };
    Some((v.map(|n| n as f64), show_config(field, v)))
}

fn show_config(field: &str, v: Option<u64>) -> String {
    match (field, v) {
        ("route_timeout_ms", None) => "none (no route timeout)".into(),
        ("per_try_timeout_ms", None) => "none (each try may use the route timeout)".into(),
        (_, None) => "none".into(),
        ("idle_timeout_ms", Some(0)) => "0 (disabled)".into(),
        ("max_requests_per_connection", Some(0)) => "0 (unlimited)".into(),
        (f, Some(n)) if f.ends_with("_ms") => human_ms(n as f64),
        (_, Some(n)) if n == crate::model::config_summary::UNLIMITED => {
            format!("{n} (unlimited)")
        }
        (_, Some(n)) => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_config_values() {
        assert_eq!(human_ms(1000.0), "1s");
        assert_eq!(human_ms(1500.0), "1.5s");
        assert_eq!(human_ms(3_600_000.0), "1h");
        assert_eq!(human_ms(987.5), "987.5ms");
        assert_eq!(
            show_config("max_connections", Some(4_294_967_295)),
            "4294967295 (unlimited)"
        );
        assert_eq!(show_config("route_timeout_ms", Some(1000)), "1s");
    }
}
