//! The three header lines every screen shares:
//! 1. `meshtop  ctx sim  ns prod` … `every 2s · window 30s  ● LIVE  14:03:07 UTC`
//! 2. sidecar counts by collection state … Istio config state
//! 3. what needs attention first (terminal too small, discovery error, Istio config problems),
//!    else where you are (screen, sort, filter).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::{App, Focus, IstioState};
use crate::model::{CollectionState, MeshSnapshot, StatsCollection};
use crate::ui::theme::Theme;
use crate::ui::widgets::number::{clock, duration_ms};

/// The terminal size below which the full view does not fit.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// Draws the header into `area` (three lines).
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = Layout::vertical([Constraint::Length(1); 3]).split(area);
    let shown = &app.mesh.shown().snapshot;
    let lines = [
        [
            (title(app, theme, true), live(app, theme, true)),
            (title(app, theme, false), live(app, theme, false)),
        ],
        [
            (sidecars(shown, theme, true), istio(app, theme, true)),
            (sidecars(shown, theme, false), istio(app, theme, false)),
        ],
        [
            (attention(app, frame.area(), theme), Line::default()),
            (Line::default(), Line::default()),
        ],
    ];
    for (row, [full, short]) in rows.iter().zip(lines) {
        let room = usize::from(row.width);
        let fits = |l: &Line, r: &Line| l.width() + 1 + r.width() <= room;
        let (left, right) = match () {
            _ if fits(&full.0, &full.1) => full,
            _ if fits(&short.0, &full.1) => (short.0, full.1),
            _ if fits(&full.0, &short.1) => (full.0, short.1),
            _ => short,
        };
        let width = u16::try_from(right.width()).unwrap_or(u16::MAX);
        let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(width)])
            .spacing(1)
            .areas(*row);
        frame.render_widget(left, l);
        frame.render_widget(right.right_aligned(), r);
    }
}

fn title<'a>(app: &'a App, theme: &Theme, full: bool) -> Line<'a> {
    let s = &app.session;
    let ns = s.namespace.as_deref().unwrap_or("all namespaces");
    let name = match full {
        true => format!("meshtop {}", env!("CARGO_PKG_VERSION")),
        false => "meshtop".to_string(),
    };
    Line::from(vec![
        Span::styled(name, theme.accent.add_modifier(Modifier::BOLD)),
        Span::styled("  ctx ", theme.muted),
        Span::styled(s.context.as_deref().unwrap_or("(current)"), theme.text),
        Span::styled("  ns ", theme.muted),
        Span::styled(ns, theme.text),
    ])
}

/// Interval, window, live or paused, and the UTC clock of the last tick (`full: false`:
/// without interval and window).
fn live<'a>(app: &App, theme: &Theme, full: bool) -> Line<'a> {
    let s = &app.session;
    let now = match app.clock.unix_ms {
        0 => "--:--:--".to_string(),
        ms => clock(ms),
    };
    let mode = match app.view.paused {
        true => {
            let at = app.mesh.shown().snapshot.taken_at_unix_ms.map(clock);
            let at = at.map_or(String::new(), |t| format!(" at {t}"));
            Span::styled(
                format!("⏸ PAUSED{at}"),
                theme.warn.add_modifier(Modifier::BOLD),
            )
        }
        false => Span::styled("● LIVE", theme.ok.add_modifier(Modifier::BOLD)),
    };
    let mut spans = match full {
        true => vec![
            Span::styled("every ", theme.muted),
            Span::styled(duration_ms(millis(s.interval)), theme.text),
            Span::styled(" · window ", theme.muted),
            Span::styled(duration_ms(millis(s.window)), theme.text),
            Span::raw("  "),
        ],
        false => Vec::new(),
    };
    spans.extend([
        mode,
        Span::raw("  "),
        Span::styled(format!("{now} UTC"), theme.text),
    ]);
    Line::from(spans)
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `sidecars 10 ok · 0 stale · 0 failed · 0 not collected · 0 forbidden` (+ pending);
/// `full: false` leaves out the zeros.
fn sidecars<'a>(snap: &MeshSnapshot, theme: &Theme, full: bool) -> Line<'a> {
    let mut counts = [0usize; 6];
    for s in &snap.sources {
        let i = match s.state {
            CollectionState::Ok { .. } => 0,
            CollectionState::Stale { .. } => 1,
            CollectionState::Failed { .. } => 2,
            CollectionState::NotCollected { .. } => 3,
            CollectionState::Forbidden { .. } => 4,
            CollectionState::Pending => 5,
        };
        counts[i] += 1;
    }
    let bad = [
        theme.ok,
        theme.stale,
        theme.crit,
        theme.not_collected,
        theme.crit,
    ];
    let words = ["ok", "stale", "failed", "not collected", "forbidden"];
    let mut spans = vec![Span::styled("sidecars", theme.muted)];
    for (i, word) in words.iter().enumerate() {
        if counts[i] == 0 && !full && i > 0 {
            continue;
        }
        let sep = if spans.len() > 1 { " · " } else { " " };
        spans.push(Span::styled(sep, theme.muted));
        let style = if counts[i] > 0 { bad[i] } else { theme.muted };
        spans.push(Span::styled(format!("{} {word}", counts[i]), style));
    }
    if counts[5] > 0 {
        spans.push(Span::styled(
            format!(" · {} pending", counts[5]),
            theme.muted,
        ));
    }
    Line::from(spans)
}

fn istio<'a>(app: &App, theme: &Theme, full: bool) -> Line<'a> {
    match &app.mesh.istio {
        IstioState::Pending => Line::styled("Istio config: reading…", theme.muted),
        IstioState::Available { config, missing } => {
            let mut spans = vec![
                Span::styled(if full { "Istio " } else { "" }, theme.muted),
                Span::styled(
                    format!(
                        "{} DR · {} VS",
                        config.destination_rules.len(),
                        config.virtual_services.len()
                    ),
                    theme.text,
                ),
            ];
            if !missing.is_empty() && full {
                spans.push(Span::styled(
                    format!(" (missing {})", missing.join(", ")),
                    theme.warn,
                ));
            }
            Line::from(spans)
        }
        IstioState::NotAvailable { .. } => Line::styled("Istio config not available", theme.warn),
    }
}

/// The first thing that needs attention, else the breadcrumb.
fn attention<'a>(app: &'a App, screen: Rect, theme: &Theme) -> Line<'a> {
    let (w, h) = MIN_SIZE;
    if screen.width < w || screen.height < h {
        let text = format!(
            "terminal {}×{}: need {w}×{h} for the full view",
            screen.width, screen.height
        );
        return Line::styled(text, theme.warn);
    }
    if let Some(e) = &app.mesh.discovery_error {
        return Line::styled(format!("discovery: {e}"), theme.crit);
    }
    if let IstioState::NotAvailable { reason } = &app.mesh.istio {
        let text = format!("Istio config not available ({reason}); counters only");
        return Line::styled(text, theme.warn);
    }
    let snap = &app.mesh.shown().snapshot;
    let off = (snap.sources.iter())
        .filter(|s| s.stats_collection == StatsCollection::DefaultInclusionOnly)
        .count();
    if off > 0 {
        let text = format!(
            "per-cluster stats not enabled on {off} of {} sidecars: — is unknown, not 0 \
             (R0 says how to enable them)",
            snap.sources.len()
        );
        return Line::styled(text, theme.warn);
    }
    let issues = &snap.config_issues;
    if let Some(first) = issues.first() {
        let more = match issues.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        return Line::styled(format!("Istio config: {first}{more}"), theme.warn);
    }
    breadcrumb(app, theme)
}

fn breadcrumb<'a>(app: &'a App, theme: &Theme) -> Line<'a> {
    let v = &app.view;
    let mut spans = vec![Span::styled(v.focus.title(), theme.accent)];
    let detail = match v.focus {
        Focus::Cluster => v.detail.as_deref().map(str::to_string),
        Focus::Help => v.back.last().map(|f| format!("keys of {}", f.title())),
        Focus::Overview => Some(format!("sorted by {}", v.sort.label())),
        Focus::Pods => None,
    };
    if let Some(d) = detail {
        spans.push(Span::styled(format!(" › {d}"), theme.muted));
    }
    if let (Some(f), Focus::Overview) = (&v.filter, v.focus) {
        spans.push(Span::styled(" · filter ", theme.muted));
        spans.push(Span::styled(format!("/{}/", f.text), theme.accent));
    }
    Line::from(spans).style(Style::default())
}
