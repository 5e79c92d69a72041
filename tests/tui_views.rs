//! The TUI screens, rendered offscreen from a realistic app, and key sequences through the
//! real `update`.
//!
//! The app is built the way the runtime builds it, from the simulated `grpc-keepalive`
//! cluster read offline with the client's own parsers (`common::sim_app`), with a fixed clock,
//! so every screen is reproducible.
//!
//! Screens are compared with insta snapshots in `snapshots/` (text only; the theme tests hold
//! the styles) at 80×24 and 120×40, plus a paused view and a 60×20 terminal.

use std::sync::OnceLock;

mod common;

use common::sim_app::*;
use meshtop::app::{App, Effect, Focus, Input, Msg, update};
use meshtop::collect::CollectorMsg;
use meshtop::metrics::Timestamp;
use meshtop::model::CollectionState;
use meshtop::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const INV: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";

fn key(app: &mut App, code: KeyCode) {
    let mods = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    send(app, Msg::Key(KeyEvent::new(code, mods)));
}

fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn theme() -> Theme {
    Theme::default()
}

/// The screen as text, one line per row, trailing blanks trimmed.
fn render(app: &App) -> String {
    let (w, h) = app.view.size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let theme = theme();
    terminal
        .draw(|f| meshtop::ui::draw(f, app, &theme))
        .unwrap();
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The demo story (`common::sim_app::keepalive_rig`), built once (the emulator is slow in debug
/// builds) and cloned by every test.
fn keepalive(size: (u16, u16)) -> Rig {
    static FIXTURE: OnceLock<Rig> = OnceLock::new();
    let mut rig = FIXTURE.get_or_init(|| keepalive_rig((120, 40))).clone();
    send(
        &mut rig.app,
        Msg::Resize {
            width: size.0,
            height: size.1,
        },
    );
    rig
}

/// The row keys of `snapshot` taken cluster by cluster, as the rebuild takes them.
fn taken_keys(snapshot: &meshtop::model::MeshSnapshot) -> meshtop::app::RowKeysBuilder {
    let mut keys = meshtop::app::RowKeysBuilder::default();
    for (at, c) in snapshot.clusters.iter().enumerate() {
        keys.add(at, c);
    }
    keys
}

/// The worst severity per cluster noted while the findings are merged is what the finished
/// findings say, for the demo's findings (several for one cluster, of different severities).
#[test]
fn worst_severity_noted_while_merging_equals_the_findings() {
    use meshtop::diagnosis::{Thresholds, evaluate_with, evaluate_with_worst, worst_by_cluster};
    let live = keepalive((120, 40)).app.mesh.live;
    let (findings, worst) = evaluate_with_worst(&live.snapshot, &Thresholds::default());
    assert_eq!(
        findings,
        evaluate_with(&live.snapshot, &Thresholds::default())
    );
    assert_eq!(worst, worst_by_cluster(&findings));
    let clusters = findings.iter().filter_map(|f| f.cluster.as_deref());
    let mut per_cluster = std::collections::BTreeMap::<&str, usize>::new();
    for c in clusters {
        *per_cluster.entry(c).or_default() += 1;
    }
    assert!(!worst.is_empty());
    assert!(
        per_cluster.values().any(|n| *n > 1),
        "a cluster with several findings"
    );
    let severities: std::collections::BTreeSet<_> = (findings.iter())
        .filter(|f| f.cluster.is_some())
        .map(|f| f.severity.rank())
        .collect();
    assert!(
        severities.len() > 1,
        "findings of several severities: {severities:?}"
    );
}

/// Shows `snapshot` as the rebuild would (keys taken, the shown findings kept, the previous
/// snapshot lending its order) and lets `update` order the rows; returns the previous keys'
/// layout.
fn show_snapshot(app: &mut App, snapshot: meshtop::model::MeshSnapshot) -> u64 {
    let keys = taken_keys(&snapshot);
    let findings = app.mesh.live.findings.clone();
    let worst = meshtop::diagnosis::worst_by_cluster(&findings);
    let layout = app.mesh.live.row_keys().layout();
    let shown =
        meshtop::app::Shown::with_row_keys(snapshot, (findings, worst), keys, &app.mesh.live);
    app.mesh.live = shown;
    let (width, height) = app.view.size;
    send(app, Msg::Resize { width, height });
    layout
}

/// Compares the screen with `snapshots/tui_views__NAME.snap`.
fn assert_screen(name: &str, app: &App) {
    let screen = render(app);
    insta::with_settings!({snapshot_path => "../snapshots", omit_expression => true}, {
        insta::assert_snapshot!(name, screen);
    });
}

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn at_sizes(name: &str, prepare: impl Fn(&mut App)) {
    for size in SIZES {
        let mut rig = keepalive(size);
        prepare(&mut rig.app);
        assert_screen(&format!("{name}_{}x{}", size.0, size.1), &rig.app);
    }
}

#[test]
fn overview_screens() {
    at_sizes("overview", |_| {});
}

#[test]
fn cluster_screens() {
    at_sizes("cluster", |app| key(app, KeyCode::Enter));
}

#[test]
fn pods_screens() {
    at_sizes("pods", |app| key(app, KeyCode::Char('P')));
}

#[test]
fn the_pods_screen_filters_by_pod_name_and_offers_no_enter() {
    let mut app = keepalive((120, 40)).app;
    key(&mut app, KeyCode::Char('P'));
    let all = app.mesh.shown().snapshot.sources.len();
    keys(&mut app, "/inventory");
    key(&mut app, KeyCode::Enter);
    let screen = render(&app);
    let shown: Vec<&str> = (screen.lines())
        .filter(|l| l.contains("-svc-") || l.contains("frontend-"))
        .collect();
    assert!(!shown.is_empty(), "{screen}");
    assert!(
        shown.iter().all(|l| l.contains("inventory-svc")),
        "{screen}"
    );
    let title = format!("sidecars · {} of {all} match /inventory/", shown.len());
    assert!(screen.contains(&title), "{screen}");
    assert!(!footer(&screen).contains("Enter"), "{screen}");
    // `/` again edits the kept filter.
    keys(&mut app, "/zzz");
    key(&mut app, KeyCode::Enter);
    let screen = render(&app);
    assert!(
        screen.contains("no sidecar matches /inventoryzzz/ (Esc clears)"),
        "{screen}"
    );
}

#[test]
fn help_screens() {
    at_sizes("help", |app| key(app, KeyCode::Char('?')));
}

#[test]
fn tiny_terminal_says_what_it_needs() {
    let rig = keepalive((60, 20));
    let screen = render(&rig.app);
    assert!(
        screen.contains("terminal 60×20: need 80×24 for the full view"),
        "{screen}"
    );
    assert_screen("overview_60x20", &rig.app);
}

/// Row of the first overview data row (`app::update::OVERVIEW_FIRST_ROW`).
const FIRST_ROW: usize = 5;

/// The overview's data rows: from the first data row to the blank line or hint panel.
fn table_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip(FIRST_ROW)
        .take_while(|l| !l.is_empty() && !l.starts_with(" hints ·"))
        .map(str::to_string)
        .collect()
}

/// A row split into its marker column (2 cells) and the rest.
fn split_marker(row: &str) -> (String, String) {
    (row.chars().take(2).collect(), row.chars().skip(3).collect())
}

/// The destinations of the overview rows, in order.
fn destinations(screen: &str) -> Vec<String> {
    table_rows(screen)
        .iter()
        .map(|r| split_marker(r).1)
        .filter_map(|r| r.split_whitespace().next().map(str::to_string))
        .collect()
}

/// The footer (last line).
fn footer(screen: &str) -> &str {
    screen.lines().last().unwrap_or("")
}

/// Whether screen row `y` is drawn in the theme's selection style.
fn selected(app: &App, y: u16) -> bool {
    let (w, h) = app.view.size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let theme = theme();
    terminal
        .draw(|f| meshtop::ui::draw(f, app, &theme))
        .unwrap();
    let cell = &terminal.backend().buffer()[(4, y)];
    cell.modifier.contains(theme.selection.add_modifier)
}

#[test]
fn paused_screens() {
    for size in SIZES {
        let mut rig = keepalive(size);
        key(&mut rig.app, KeyCode::Char('p'));
        rig.poll_all(LAST_POLL_MS + INTERVAL_MS);
        assert_screen(&format!("paused_{}x{}", size.0, size.1), &rig.app);
    }
}

#[test]
fn j_and_k_move_the_selection_and_the_hint_panel_follows_it() {
    let mut app = keepalive((120, 40)).app;
    let first = FIRST_ROW as u16;
    assert!(selected(&app, first) && !selected(&app, first + 1));
    assert!(render(&app).contains(" hints · inventory-svc.prod:8080 "));
    key(&mut app, KeyCode::Char('j'));
    assert!(!selected(&app, first) && selected(&app, first + 1));
    let screen = render(&app);
    assert!(
        screen.contains(" hints · namespace prod (none about pricing-svc.prod:8080 v2) "),
        "{screen}"
    );
    assert!(screen.contains("● CRITICAL R1  inventory-svc.prod:8080: 15 of 574 calls (2.6%)"));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char('k'));
    key(&mut app, KeyCode::Char('k'));
    assert!(selected(&app, first));
    assert!(render(&app).contains(" hints · inventory-svc.prod:8080 "));
}

#[test]
fn enter_drills_into_the_selected_cluster_and_esc_comes_back() {
    let mut app = keepalive((120, 40)).app;
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view.focus, Focus::Cluster);
    assert_eq!(app.view.detail.as_deref(), Some(INV));
    let screen = render(&app);
    assert!(
        screen.contains(" cluster · inventory-svc.prod:8080 "),
        "{screen}"
    );
    assert!(screen.contains("2 findings, worst critical · 10 client pods · window 30s"));
    assert!(screen.contains("  order-svc-drs84w455-zptpx   9.8   0.30     +9"));
    // scrolling reaches the findings in full, with their verify commands
    for _ in 0..60 {
        key(&mut app, KeyCode::Char('j'));
    }
    let end = render(&app);
    assert!(
        end.contains("FINDINGS (2)") || end.contains("$ kubectl"),
        "{end}"
    );
    assert!(end.contains("$ kubectl logs -n prod"), "{end}");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.view.focus, Focus::Overview);
    assert!(render(&app).contains(" upstream clusters · 7 "));
}

#[test]
fn a_typed_filter_narrows_the_rows_and_esc_clears_it() {
    let mut app = keepalive((120, 40)).app;
    assert_eq!(destinations(&render(&app)).len(), 7);
    keys(&mut app, "/inv");
    let screen = render(&app);
    assert_eq!(destinations(&screen), ["inventory-svc.prod:8080"]);
    assert!(screen.contains(" upstream clusters · 1 of 7 match /inv/ "));
    assert!(footer(&screen).starts_with("/inv▏"), "{}", footer(&screen));
    key(&mut app, KeyCode::Enter);
    let kept = render(&app);
    assert_eq!(destinations(&kept), ["inventory-svc.prod:8080"]);
    assert!(kept.contains("sorted by severity · filter /inv/"));
    key(&mut app, KeyCode::Esc);
    let cleared = render(&app);
    assert_eq!(destinations(&cleared).len(), 7);
    assert!(footer(&cleared).starts_with("filter cleared │ ? help"));
}

#[test]
fn a_filter_that_does_not_compile_yet_is_marked_and_keeps_the_last_good_one() {
    let mut app = keepalive((120, 40)).app;
    keys(&mut app, "/pric(");
    let screen = render(&app);
    assert!(
        footer(&screen).contains("(not a valid regex yet)"),
        "{screen}"
    );
    assert_eq!(destinations(&screen).len(), 3);
}

#[test]
fn shift_letters_sort_the_rows() {
    let mut app = keepalive((120, 40)).app;
    let by_severity = destinations(&render(&app));
    assert_eq!(by_severity[0], "inventory-svc.prod:8080");
    key(&mut app, KeyCode::Char('T'));
    let screen = render(&app);
    assert!(footer(&screen).starts_with("sorted by timeouts/s │"));
    assert!(screen.contains("upstream clusters › sorted by timeouts/s"));
    assert_eq!(destinations(&screen)[0], "inventory-svc.prod:8080");
    key(&mut app, KeyCode::Char('R'));
    assert_eq!(
        destinations(&render(&app))[..3],
        [
            "pricing-svc.prod:8080",
            "order-svc.prod:8080",
            "inventory-svc.prod:8080"
        ]
    );
}

#[test]
fn pause_freezes_the_view_while_collection_continues() {
    let mut rig = keepalive((120, 40));
    key(&mut rig.app, KeyCode::Char('p'));
    let before = render(&rig.app);
    assert!(
        before.contains("⏸ PAUSED at 03:11:30  03:11:30 UTC"),
        "{before}"
    );
    rig.poll_all(LAST_POLL_MS + INTERVAL_MS);
    rig.poll_all(LAST_POLL_MS + 2 * INTERVAL_MS);
    let paused = render(&rig.app);
    assert!(
        paused.contains("⏸ PAUSED at 03:11:30  03:11:34 UTC"),
        "{paused}"
    );
    let below_title = |s: &str| s.lines().skip(1).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(below_title(&paused), below_title(&before));
    let live = &rig.app.mesh.live.snapshot;
    assert_eq!(live.taken_at_unix_ms, Some(EPOCH_UNIX_MS + 94_000));
    key(&mut rig.app, KeyCode::Char('p'));
    let resumed = render(&rig.app);
    assert!(resumed.contains("● LIVE  03:11:34 UTC"));
    assert_ne!(table_rows(&resumed), table_rows(&paused));
}

#[test]
fn theme_command_completes_and_switches() {
    let mut app = keepalive((120, 40)).app;
    keys(&mut app, ":th");
    key(&mut app, KeyCode::Tab);
    assert!(footer(&render(&app)).starts_with(":theme ▏"));
    keys(&mut app, "hi");
    key(&mut app, KeyCode::Tab);
    let screen = render(&app);
    assert!(
        footer(&screen).starts_with(":theme high-contrast▏   Tab complete"),
        "{screen}"
    );
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.session.theme_name(), "high-contrast");
    assert!(footer(&render(&app)).starts_with("theme high-contrast │ ? help"));
}

#[test]
fn the_snapshot_is_rebuilt_at_most_once_per_poll_interval() {
    let mut rig = keepalive((120, 40));
    let built = rig.app.mesh.live.generation();
    // New data and a tick 1 s after the last rebuild: not yet (the interval is 2 s).
    for msg in rig.poll(LAST_POLL_MS + 1_000) {
        send(&mut rig.app, Msg::Collector(msg));
    }
    tick(&mut rig.app, LAST_POLL_MS + 1_000);
    assert_eq!(rig.app.mesh.live.generation(), built);
    assert!(
        rig.app.mesh.dirty,
        "the new data waits for the next rebuild"
    );
    // The next tick, a poll interval after the last rebuild, rebuilds with it.
    tick(&mut rig.app, LAST_POLL_MS + INTERVAL_MS);
    assert_ne!(rig.app.mesh.live.generation(), built);
    assert!(!rig.app.mesh.dirty);
    // Before any scrape is shown there is no gap: the first data appears on the next tick.
    let mut rig = Rig::new("grpc-keepalive", (120, 40));
    tick(&mut rig.app, 1_000);
    let empty = rig.app.mesh.live.generation();
    rig.poll_all(1_500);
    assert_ne!(rig.app.mesh.live.generation(), empty);
    assert!(!rig.app.overview_rows().is_empty());
}

#[test]
fn ns_and_ctx_switch_only_once_connected() {
    let mut app = keepalive((120, 40)).app;
    keys(&mut app, ":ns payments");
    let effects = update(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert_eq!(effects, [Effect::SwitchNamespace("payments".into())]);
    // Still collecting from prod until connected; a failure leaves it so.
    assert_eq!(app.session.namespace.as_deref(), Some("prod"));
    send(
        &mut app,
        Msg::ConnectFailed("cannot reach the API server".into()),
    );
    assert_eq!(app.session.namespace.as_deref(), Some("prod"));
    assert!(app.status.error);
    send(
        &mut app,
        Msg::Connected {
            context: Some("sim".into()),
            namespace: Some("payments".into()),
        },
    );
    assert_eq!(app.session.namespace.as_deref(), Some("payments"));
    assert_eq!(app.session.namespaces, ["payments"]);
    assert!(app.overview_rows().is_empty(), "collection starts over");
}

#[test]
fn namespace_and_context_completion_works_like_a_shell() {
    let mut app = keepalive((120, 40)).app;
    let names = ["default", "istio-system", "payments", "prod", "prod-eu"];
    send(
        &mut app,
        Msg::Namespaces(Ok(names.map(String::from).to_vec())),
    );
    // Several matches: completed to what they share, listed in the status bar.
    keys(&mut app, ":ns p");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.view.input, Input::Command("ns p".into()));
    assert_eq!(app.status.text, "payments prod prod-eu");
    keys(&mut app, "r");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.view.input, Input::Command("ns prod".into()));
    assert_eq!(app.status.text, "prod prod-eu");
    keys(&mut app, "-");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.view.input, Input::Command("ns prod-eu".into()));
    key(&mut app, KeyCode::Esc);

    // Contexts come from the session (the kubeconfig's); a verb is completed with its space.
    keys(&mut app, ":c");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.view.input, Input::Command("ctx ".into()));
    keys(&mut app, "st");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.view.input, Input::Command("ctx staging".into()));
    key(&mut app, KeyCode::Esc);

    // RBAC refused the namespace list: the current namespace is still known, and a miss says why.
    let mut app = keepalive((120, 40)).app;
    let denied = "access denied: cannot list namespaces (RBAC)".to_string();
    send(&mut app, Msg::Namespaces(Err(denied)));
    keys(&mut app, ":ns pr");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.view.input, Input::Command("ns prod".into()));
    key(&mut app, KeyCode::Esc);
    keys(&mut app, ":ns zz");
    key(&mut app, KeyCode::Tab);
    assert_eq!(
        app.status.text,
        "no namespace starts with \"zz\" (namespaces could not be listed: access denied: \
         cannot list namespaces (RBAC))"
    );
}

#[test]
fn help_lists_the_keys_of_the_screen_it_was_opened_from() {
    let mut app = keepalive((120, 40)).app;
    key(&mut app, KeyCode::Char('?'));
    let screen = render(&app);
    assert!(screen.contains(" help · keys of upstream clusters "));
    assert!(
        screen.contains("  Shift+T   sort by timeouts/s"),
        "{screen}"
    );
    assert!(screen.contains("  j, Down   down"));
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('P'));
    key(&mut app, KeyCode::Char('?'));
    let pods_help = render(&app);
    assert!(pods_help.contains(" help · keys of pods "));
    assert!(!pods_help.contains("Shift+T"));
}

#[test]
fn a_stale_client_marks_the_rows_it_feeds_and_the_pods_screen_says_why() {
    let mut rig = keepalive((120, 40));
    let stale = CollectionState::Stale {
        since: Timestamp::from_millis(LAST_POLL_MS + 1_000),
        last_ok: Timestamp::from_millis(LAST_POLL_MS),
        reason: "/stats: timed out after 2s".into(),
    };
    let msg = CollectorMsg::State {
        pod: "order-svc-drs84w455-nxhgh".into(),
        namespace: NAMESPACE.into(),
        state: stale,
    };
    send(&mut rig.app, Msg::Collector(msg));
    tick(&mut rig.app, LAST_POLL_MS + INTERVAL_MS);
    let screen = render(&rig.app);
    assert!(
        screen.contains("sidecars 9 ok · 1 stale · 0 failed"),
        "{screen}"
    );
    let marked: Vec<String> = table_rows(&screen)
        .iter()
        .map(|r| split_marker(r))
        .filter(|(marker, _)| marker.contains('~'))
        .filter_map(|(_, rest)| rest.split("  ").next().map(str::to_string))
        .collect();
    assert_eq!(
        marked,
        ["inventory-svc.prod:8080", "pricing-svc.prod:8080 v2"]
    );
    assert_screen("stale_120x40", &rig.app);
    key(&mut rig.app, KeyCode::Char('P'));
    let pods = render(&rig.app);
    let line = pods
        .lines()
        .find(|l| l.contains("order-svc-drs84w455-nxhgh"))
        .unwrap();
    assert!(line.starts_with("~ order-svc-drs84w455-nxhgh"), "{line}");
    assert!(
        line.contains("stale         03:11:31 per-cluster /stats: timed out after 2s; dat"),
        "{line}"
    );
    send(
        &mut rig.app,
        Msg::Resize {
            width: 160,
            height: 40,
        },
    );
    let wide = render(&rig.app);
    let line = wide
        .lines()
        .find(|l| l.contains("order-svc-drs84w455-nxhgh"))
        .unwrap();
    assert!(
        line.ends_with("/stats: timed out after 2s; data from 03:11:30"),
        "{line}"
    );
}

#[test]
fn sidecars_without_the_stats_opt_in_show_not_collected() {
    let mut rig = Rig::new("stats-not-enabled", (120, 40));
    rig.poll_all(INTERVAL_MS);
    for t in (70_000..=LAST_POLL_MS).step_by(INTERVAL_MS as usize) {
        rig.poll_all(t);
    }
    let screen = render(&rig.app);
    let inventory = table_rows(&screen)
        .into_iter()
        .find(|r| r.contains("inventory-svc.prod:8080"))
        .unwrap();
    assert!(inventory.contains("—     —     —"), "{inventory}");
    assert!(screen.contains("— not collected"));
    assert!(
        screen.contains("per-cluster stats not enabled on 10 of 10 sidecars"),
        "{screen}"
    );
    assert!(
        screen.contains("▲ WARNING  R0  frontend: per-cluster stats not collected on 2 of 2"),
        "{screen}"
    );
    assert_screen("not_collected_120x40", &rig.app);
}

#[test]
fn a_click_selects_the_row_drawn_under_the_pointer() {
    use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut app = keepalive((120, 40)).app;
    let row = FIRST_ROW as u16 + 2;
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 10,
        row,
        modifiers: KeyModifiers::NONE,
    };
    send(&mut app, Msg::Mouse(click));
    assert!(selected(&app, row) && !selected(&app, FIRST_ROW as u16));
    let screen = render(&app);
    assert!(
        screen
            .lines()
            .nth(usize::from(row))
            .unwrap()
            .contains("order-svc.prod:8080")
    );
    assert!(screen.contains(" hints · namespace prod (none about order-svc.prod:8080) "));
}

#[test]
fn every_screen_survives_tiny_and_odd_sizes() {
    let rig = keepalive((120, 40));
    let openers: [&[KeyCode]; 4] = [
        &[],
        &[KeyCode::Enter],
        &[KeyCode::Char('P')],
        &[KeyCode::Char('?')],
    ];
    for size in [(1, 1), (10, 3), (30, 6), (79, 23), (200, 12), (45, 60)] {
        for keys in openers {
            let mut app = rig.app.clone();
            send(
                &mut app,
                Msg::Resize {
                    width: size.0,
                    height: size.1,
                },
            );
            for k in keys {
                key(&mut app, *k);
            }
            let screen = render(&app);
            assert_eq!(screen.lines().count(), usize::from(size.1), "{size:?}");
        }
    }
}

/// The keys the rebuild takes while it makes each cluster (`RowKeysBuilder`, in snapshot
/// order) are the keys read back from the finished snapshot: same rows, positions, numbers,
/// severities and order.
#[test]
fn keys_taken_during_the_rebuild_equal_keys_read_from_the_snapshot() {
    use meshtop::app::RowKeys;

    let mut rig = keepalive((120, 40));
    let next = LAST_POLL_MS + INTERVAL_MS;
    for msg in rig.poll(next) {
        send(&mut rig.app, Msg::Collector(msg));
    }
    tick(&mut rig.app, next);
    let live = &rig.app.mesh.live;
    assert!(live.row_keys().len() >= 5, "upstream clusters");
    let about_clusters = live.findings.iter().filter(|f| f.cluster.is_some());
    assert!(about_clusters.count() >= 2, "severities are compared too");
    assert_eq!(
        live.row_keys(),
        &RowKeys::of(&live.snapshot, &live.findings)
    );
}

/// A new snapshot keeps the previous one's destination order (its layout) only when its rows
/// are the same clusters with the same labels, row for row (at any snapshot positions); any
/// other change orders the rows again. Each case is also compared with keys sorted from
/// scratch.
#[test]
fn the_destination_order_is_kept_only_for_the_same_clusters() {
    use meshtop::app::{RowKeys, SortColumn, is_upstream, order_rows};
    use meshtop::model::MeshSnapshot;

    let live = keepalive((120, 40)).app.mesh.live;
    let previous = live.row_keys();
    let keys_after = |snapshot: &MeshSnapshot| {
        taken_keys(snapshot).finish(
            &meshtop::diagnosis::worst_by_cluster(&live.findings),
            Some(previous),
        )
    };
    let fresh = |snapshot: &MeshSnapshot| RowKeys::of(snapshot, &live.findings);
    let destinations = |snapshot: &MeshSnapshot| -> Vec<String> {
        let shown = meshtop::app::Shown::new(snapshot.clone(), live.findings.clone());
        (order_rows(&shown, None, SortColumn::Destination).iter())
            .map(|r| snapshot.clusters[r.at].key.name.clone())
            .collect()
    };
    let upstream: Vec<usize> = (0..live.snapshot.clusters.len())
        .filter(|i| is_upstream(&live.snapshot.clusters[*i]))
        .collect();
    let first_upstream = upstream[0];

    // The same clusters with other numbers: the order is kept, the numbers are the new ones.
    let mut same = live.snapshot.clone();
    let busiest = (upstream.iter().copied())
        .max_by(|a, b| {
            let rate = |i: usize| same.clusters[i].rate("upstream_rq_total").unwrap_or(0.0);
            rate(*a).total_cmp(&rate(*b))
        })
        .unwrap();
    let counters = same.clusters[busiest].counters.clone();
    assert_ne!(busiest, first_upstream);
    same.clusters[first_upstream].counters = counters;
    let kept = keys_after(&same);
    assert_eq!(
        kept.layout(),
        previous.layout(),
        "same clusters: order kept"
    );
    assert_ne!(kept, *previous, "the new numbers are in the kept keys");
    assert_eq!(kept, fresh(&same));
    // A cluster the overview does not list, put first: texts and offsets are the same, every
    // position is one further. The rows are the same destinations.
    let mut shifted = live.snapshot.clone();
    let inbound = (live.snapshot.clusters.iter())
        .find(|c| !is_upstream(c))
        .expect("the demo has inbound clusters")
        .clone();
    shifted.clusters.insert(0, inbound);
    let kept = keys_after(&shifted);
    assert_eq!(kept.layout(), previous.layout(), "positions shifted");
    assert_eq!(kept, fresh(&shifted), "with the new positions");

    // Same length, so only the texts differ (every offset is the same).
    let mut relabelled = live.snapshot.clone();
    let label = &mut relabelled.clusters[first_upstream].label;
    *label = "z".repeat(label.len());
    assert_ne!(
        destinations(&relabelled),
        destinations(&live.snapshot),
        "the relabelled row moves"
    );
    // The same characters, split elsewhere between label and name (an empty label sorts
    // first), so only the offsets differ.
    let mut resplit = live.snapshot.clone();
    let c = &mut resplit.clusters[first_upstream];
    c.key.name = format!("{}{}", std::mem::take(&mut c.label), c.key.name);
    assert_ne!(
        destinations(&resplit),
        destinations(&live.snapshot),
        "the row with no label moves"
    );
    let mut fewer = live.snapshot.clone();
    fewer.clusters.remove(first_upstream);
    let mut moved = live.snapshot.clone();
    let c = moved.clusters.remove(first_upstream);
    moved.clusters.push(c);

    for (name, snapshot) in [
        ("a label changed", &relabelled),
        ("label and name split elsewhere", &resplit),
        ("a cluster gone", &fewer),
        ("a cluster at another position", &moved),
    ] {
        let keys = keys_after(snapshot);
        assert_ne!(keys.layout(), previous.layout(), "{name}: sorted again");
        assert_eq!(keys, fresh(snapshot), "{name}");
    }
}

/// A new snapshot of the same clusters is sorted starting from the previous snapshot's order
/// (kept layout); with every number moved to another row, the order is still exactly the
/// order sorted from scratch, for every column.
#[test]
fn resorting_from_the_previous_order_equals_sorting_from_scratch() {
    use meshtop::app::order_rows;

    let mut app = keepalive((120, 40)).app;
    for letter in ['S', 'D', 'R', 'T', 'C', 'E', 'L'] {
        key(&mut app, KeyCode::Char(letter));
        let sort = app.view.sort;
        let before: Vec<String> = (app.overview_rows().iter())
            .map(|r| r.cluster.key.name.clone())
            .collect();
        // Each upstream cluster gets the next one's numbers (and findings stay put).
        let mut snapshot = app.mesh.live.snapshot.clone();
        move_numbers(&mut snapshot);
        let layout = show_snapshot(&mut app, snapshot);
        let live = &app.mesh.live;
        assert_eq!(
            live.row_keys().layout(),
            layout,
            "{sort:?}: the same clusters"
        );
        assert_eq!(
            live.row_keys(),
            &meshtop::app::RowKeys::of(&live.snapshot, &live.findings)
        );
        let after: Vec<String> = (app.overview_rows().iter())
            .map(|r| r.cluster.key.name.clone())
            .collect();
        let scratch: Vec<String> = (order_rows(&app.mesh.live, None, sort).iter())
            .map(|r| app.mesh.live.snapshot.clusters[r.at].key.name.clone())
            .collect();
        assert_eq!(after, scratch, "{sort:?}");
        // The demo's request and timeout rates differ between clusters (other columns may
        // be all zero), so there the rows must have moved.
        if letter == 'R' || letter == 'T' {
            assert_ne!(after, before, "{sort:?}: the numbers moved, so did rows");
        }
    }
}

/// A new snapshot whose clusters changed (one relabelled: its row is sorted into the order the
/// other rows keep, so the layout is new) with every number moved: the overview's order,
/// sorted from the previous one carried over row by row, is exactly the order sorted from
/// scratch, for every column; so are the keys.
#[test]
fn a_changed_snapshot_sorted_from_the_carried_order_equals_sorting_from_scratch() {
    use meshtop::app::{RowKeys, is_upstream, order_rows};

    let mut app = keepalive((120, 40)).app;
    for letter in ['S', 'D', 'R', 'T', 'C', 'E', 'L'] {
        key(&mut app, KeyCode::Char(letter));
        let sort = app.view.sort;
        let mut snapshot = app.mesh.live.snapshot.clone();
        move_numbers(&mut snapshot);
        // A label that sorts elsewhere each round, so rows change places in destination order.
        let c = (snapshot.clusters.iter_mut())
            .find(|c| is_upstream(c))
            .unwrap();
        c.label = format!("{letter}{}", c.label);
        let layout = show_snapshot(&mut app, snapshot);
        let live = &app.mesh.live;
        assert_ne!(live.row_keys().layout(), layout, "{sort:?}: sorted again");
        assert_eq!(
            live.row_keys(),
            &RowKeys::of(&live.snapshot, &live.findings)
        );
        let names = |rows: &[meshtop::app::Ranked]| -> Vec<String> {
            (rows.iter())
                .map(|r| live.snapshot.clusters[r.at].key.name.clone())
                .collect()
        };
        let after: Vec<String> = (app.overview_rows().iter())
            .map(|r| r.cluster.key.name.clone())
            .collect();
        assert_eq!(after, names(&order_rows(live, None, sort)), "{sort:?}");
    }
}

/// After a pause the keys shown next were carried from keys the overview never sorted (the
/// snapshots that arrived meanwhile), so its order starts from the frozen order carried over
/// through snapshot positions instead: still exactly the order sorted from scratch.
#[test]
fn resuming_after_changed_snapshots_sorts_like_from_scratch() {
    use meshtop::app::{is_upstream, order_rows};

    let mut app = keepalive((120, 40)).app;
    key(&mut app, KeyCode::Char('T'));
    key(&mut app, KeyCode::Char('p'));
    let frozen = app.mesh.shown().row_keys().layout();
    let mut layouts = vec![frozen];
    for prefix in ["a", "zz"] {
        let mut snapshot = app.mesh.live.snapshot.clone();
        move_numbers(&mut snapshot);
        let c = (snapshot.clusters.iter_mut())
            .filter(|c| is_upstream(c))
            .nth(1)
            .unwrap();
        c.label = format!("{prefix}{}", c.label);
        show_snapshot(&mut app, snapshot);
        layouts.push(app.mesh.live.row_keys().layout());
    }
    assert_eq!(app.mesh.shown().row_keys().layout(), frozen, "still paused");
    layouts.dedup();
    assert_eq!(
        layouts.len(),
        3,
        "each snapshot is new destinations: {layouts:?}"
    );
    key(&mut app, KeyCode::Char('p'));
    let live = &app.mesh.live;
    let after: Vec<&str> = (app.overview_rows().iter())
        .map(|r| r.cluster.key.name.as_str())
        .collect();
    let scratch: Vec<&str> = (order_rows(live, None, app.view.sort).iter())
        .map(|r| live.snapshot.clusters[r.at].key.name.as_str())
        .collect();
    assert_eq!(after, scratch);
    assert!(after.len() >= 5);
}

/// The overview's kept order (sorted once per snapshot and column, then filtered per
/// keystroke) equals a plain sort of the snapshot for every column and filter: worst finding
/// first (severity column), the column's number descending with absent last, then the
/// destination label and the Envoy cluster name. The demo's upstream clusters are copied
/// with equal numbers (ties), labels out of name order, shared labels, findings on some
/// copies only and counters removed from others.
#[test]
fn kept_row_order_equals_a_plain_sort_for_every_column_and_filter() {
    use meshtop::app::{Shown, SortColumn, cluster_severity, is_upstream};
    use meshtop::model::ClusterSnapshot;

    let mut app = keepalive((120, 40)).app;
    let live = app.mesh.live.clone();
    let mut snapshot = live.snapshot.clone();
    let mut findings = live.findings.clone();
    let templates: Vec<ClusterSnapshot> = (snapshot.clusters.iter())
        .filter(|c| is_upstream(c))
        .cloned()
        .collect();
    for i in 0..4 {
        for (t, template) in templates.iter().enumerate() {
            let mut c = template.clone();
            c.key.name = format!("{}-copy{i}", template.key.name);
            // Labels in the opposite order of names, and copies 2 and 3 sharing one label.
            c.label = format!("{} copy{}", template.label, 3 - i.min(2));
            if (i + t) % 3 == 0 {
                c.counters.remove("upstream_rq_timeout");
                c.upstream_rq_time_p99_ms = None;
            }
            // Findings on copies 0 and 2: copy 0's label sorts last among equal numbers, so
            // only its severity puts it first.
            if i % 2 == 0 {
                for f in &live.findings {
                    if f.cluster.as_deref() == Some(template.key.name.as_str()) {
                        let mut copy = f.clone();
                        copy.cluster = Some(c.key.name.clone());
                        findings.push(copy);
                    }
                }
            }
            snapshot.clusters.push(c);
        }
    }
    // Neither in name nor in label order: the order must not depend on how the snapshot
    // lists its clusters.
    snapshot.clusters.reverse();
    app.mesh.live = Shown::new(snapshot, findings);

    let shown = app.mesh.live.clone();
    let expected = |sort: SortColumn, filter: &str| -> Vec<String> {
        let regex = regex::Regex::new(filter).unwrap();
        let rate = |c: &ClusterSnapshot, stat: &str| c.rate(stat).unwrap_or(-1.0);
        let numbers = |c: &ClusterSnapshot| match sort {
            SortColumn::Severity => (rate(c, "upstream_rq_timeout"), rate(c, "upstream_rq_total")),
            SortColumn::Destination => (0.0, 0.0),
            SortColumn::Requests => (rate(c, "upstream_rq_total"), 0.0),
            SortColumn::Timeouts => (rate(c, "upstream_rq_timeout"), 0.0),
            SortColumn::Destroyed => (rate(c, "upstream_cx_destroy_with_active_rq"), 0.0),
            SortColumn::Errors => (rate(c, "upstream_rq_5xx"), 0.0),
            SortColumn::Latency => (c.upstream_rq_time_p99_ms.unwrap_or(-1.0), 0.0),
        };
        let severity = |c: &ClusterSnapshot| match sort {
            SortColumn::Severity => cluster_severity(&shown.findings, &c.key.name),
            _ => None,
        };
        let mut rows: Vec<&ClusterSnapshot> = (shown.snapshot.clusters.iter())
            .filter(|c| is_upstream(c))
            .filter(|c| regex.is_match(&c.label) || regex.is_match(&c.key.name))
            .collect();
        rows.sort_by(|a, b| {
            (severity(b).cmp(&severity(a)))
                .then_with(|| numbers(b).0.total_cmp(&numbers(a).0))
                .then_with(|| numbers(b).1.total_cmp(&numbers(a).1))
                .then_with(|| a.label.cmp(&b.label))
                .then_with(|| a.key.name.cmp(&b.key.name))
        });
        rows.iter().map(|c| c.key.name.clone()).collect()
    };
    let shown_rows = |app: &App| -> Vec<String> {
        let rows = app.overview_rows();
        rows.iter().map(|r| r.cluster.key.name.clone()).collect()
    };

    let columns = [
        ('S', SortColumn::Severity),
        ('D', SortColumn::Destination),
        ('R', SortColumn::Requests),
        ('T', SortColumn::Timeouts),
        ('C', SortColumn::Destroyed),
        ('E', SortColumn::Errors),
        ('L', SortColumn::Latency),
    ];
    let mut checked = 0;
    for (letter, column) in columns {
        key(&mut app, KeyCode::Esc);
        key(&mut app, KeyCode::Char(letter));
        let all = expected(column, "");
        assert_eq!(all.len(), 7 * 5, "{column:?}");
        assert_eq!(shown_rows(&app), all, "{column:?}");
        // Typed one key at a time: each keystroke filters the kept order again.
        key(&mut app, KeyCode::Char('/'));
        let mut typed = String::new();
        for c in "pric".chars() {
            typed.push(c);
            key(&mut app, KeyCode::Char(c));
            assert_eq!(
                shown_rows(&app),
                expected(column, &typed),
                "{column:?} /{typed}/"
            );
            checked += 1;
        }
        key(&mut app, KeyCode::Backspace);
        assert_eq!(shown_rows(&app), expected(column, "pri"), "{column:?}");
        key(&mut app, KeyCode::Enter);
        // A new snapshot (the same clusters, keys taken as the rebuild takes them) under the
        // filter sorts again, starting from the previous order.
        let again = app.mesh.live.clone();
        let keys = taken_keys(&again.snapshot);
        let worst = meshtop::diagnosis::worst_by_cluster(&again.findings);
        let evaluated = (again.findings, worst);
        app.mesh.live = Shown::with_row_keys(again.snapshot, evaluated, keys, &app.mesh.live);
        send(
            &mut app,
            Msg::Resize {
                width: 120,
                height: 40,
            },
        );
        assert_eq!(shown_rows(&app), expected(column, "pri"), "{column:?}");
    }
    assert_eq!(checked, 28);
}
