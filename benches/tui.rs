//! TUI frame cost (DESIGN.md §6, issue 6 item 7): a 5,000-row overview built and rendered.
//!
//! The app is the real one: the simulated `grpc-keepalive` story read offline with the client's
//! parsers and fed through `update` (`tests/common/sim_app.rs`), then its upstream clusters,
//! their findings and sparkline histories are replicated to 5,000 rows. Measured, side by side:
//!
//! - `frame`: one frame of the overview (header, the visible table rows with their cells and
//!   sparklines, the hint panel, the footer) into an offscreen buffer, as every tick or key
//!   draws it — the row order is the one `update` keeps;
//! - `order`: the 5,000 rows filtered and sorted (severity first), alone;
//! - `row_keys`: what sorting and filtering need (worst severity per cluster, five numbers,
//!   destination order) read back from a finished snapshot and its findings (`RowKeys::of`,
//!   as the headless export does);
//! - `new_snapshot`, `new_snapshot_new_numbers`, `new_snapshot_new_clusters`,
//!   `new_snapshot_added_cluster`: a new snapshot arrived (once per poll interval at most)
//!   with its keys taken while its clusters were made (`RowKeysBuilder`, as the rebuild does):
//!   severities added and the destination order carried over (`Shown::with_row_keys`), the
//!   5,000 rows sorted again (severity first), the frame drawn — for the same clusters and
//!   numbers, the same clusters with moved numbers, a relabelled cluster, and one cluster
//!   more in the middle;
//! - `make_clusters`, `make_clusters_taking_keys`: 5,000 clusters copied one by one, without
//!   and with their keys taken (what taking them adds to making the clusters);
//! - `filter_keystroke`: one key typed into the `/` filter (the regex is compiled, the 5,000
//!   sorted rows are matched again, no new sort), then the frame is drawn.
//!
//! Run: `cargo bench --bench tui`. The figures are in `docs/PERFORMANCE.md`.

#[path = "../tests/common/sim_app.rs"]
mod sim_app;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use meshtop::app::{
    App, Msg, RebuildAt, RowKeys, RowKeysBuilder, Shown, SortColumn, is_upstream, order_rows,
    update,
};
use meshtop::collect::CollectorMsg;
use meshtop::diagnosis::worst_by_cluster;
use meshtop::metrics::Timestamp;
use meshtop::model::MeshSnapshot;
use meshtop::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The binary's allocator (`src/main.rs`), so allocation costs are the ones the TUI pays.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROWS: usize = 5_000;

/// The demo app with its upstream clusters replicated to `rows` rows.
fn app_with_rows(rows: usize, size: (u16, u16)) -> App {
    let rig = sim_app::keepalive_rig(size);
    let mut app = rig.app;
    let shown = app.mesh.live.clone();
    let templates: Vec<_> = (shown.snapshot.clusters.iter())
        .filter(|c| is_upstream(c))
        .cloned()
        .collect();
    assert!(!templates.is_empty(), "the demo has upstream clusters");
    let mut snapshot = shown.snapshot.clone();
    let mut findings = shown.findings.clone();
    snapshot.clusters.retain(|c| !is_upstream(c));
    for i in 0..rows {
        let template = &templates[i % templates.len()];
        let mut c = template.clone();
        c.key.name = format!("{}-{i}", template.key.name);
        c.label = format!("{}-{i}", template.label);
        for f in &shown.findings {
            if f.cluster.as_deref() == Some(template.key.name.as_str()) {
                let mut copy = f.clone();
                copy.cluster = Some(c.key.name.clone());
                findings.push(copy);
            }
        }
        if let Some(history) = app.mesh.history.get(&template.key.name).cloned() {
            app.mesh.history.insert(c.key.name.clone(), history);
        }
        snapshot.clusters.push(c);
    }
    findings.retain(|f| {
        (f.cluster.as_deref())
            .is_none_or(|name| snapshot.clusters.iter().any(|c| c.key.name == name))
    });
    eprintln!(
        "bench app: {} clusters, {} findings",
        snapshot.clusters.len(),
        findings.len()
    );
    app.mesh.live = Shown::new(snapshot, findings);
    update(
        &mut app,
        Msg::Resize {
            width: size.0,
            height: size.1,
        },
    );
    assert_eq!(app.overview_rows().len(), rows);
    app
}

/// A change made to a snapshot before it is shown again.
type Change = fn(&mut MeshSnapshot);

/// A copy of `snapshot` made cluster by cluster, as a rebuild makes them, with the row keys
/// taken from each cluster as soon as it is made (when `take_keys`).
fn rebuilt(snapshot: &MeshSnapshot, take_keys: bool) -> (MeshSnapshot, RowKeysBuilder) {
    let mut keys = RowKeysBuilder::with_capacity(snapshot.clusters.len());
    let mut copy = MeshSnapshot {
        meshtop_version: snapshot.meshtop_version.clone(),
        context: snapshot.context.clone(),
        namespace: snapshot.namespace.clone(),
        taken_at_unix_ms: snapshot.taken_at_unix_ms,
        window_seconds: snapshot.window_seconds,
        sources: snapshot.sources.clone(),
        clusters: Vec::with_capacity(snapshot.clusters.len()),
        config_issues: snapshot.config_issues.clone(),
        proxies: snapshot.proxies.clone(),
        subset_policies: snapshot.subset_policies.clone(),
    };
    for (at, c) in snapshot.clusters.iter().enumerate() {
        let made = c.clone();
        if take_keys {
            keys.add(at, &made);
        }
        copy.clusters.push(made);
    }
    (copy, keys)
}

fn frame(terminal: &mut Terminal<TestBackend>, app: &App, theme: &Theme) {
    let drawn = terminal.draw(|f| meshtop::ui::draw(f, app, theme));
    black_box(drawn.map(|_| ()).ok());
}

fn bench_tui(c: &mut Criterion) {
    let theme = Theme::default();
    for size in [(120u16, 40u16), (80, 24)] {
        let app = app_with_rows(ROWS, size);
        let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).expect("backend");
        let mut group = c.benchmark_group(format!("tui_{ROWS}_rows_{}x{}", size.0, size.1));
        group.bench_function("frame", |b| {
            b.iter(|| frame(&mut terminal, &app, &theme));
        });
        group.bench_function("order", |b| {
            b.iter(|| order_rows(&app.mesh.live, None, SortColumn::Severity));
        });
        group.bench_function("row_keys", |b| {
            let shown = &app.mesh.live;
            b.iter(|| RowKeys::of(&shown.snapshot, &shown.findings));
        });
        // These clone the 5,000-cluster app first (untimed, about a second).
        group.sample_size(20);
        // A new snapshot shown as the dashboard shows it: its row keys were taken while each
        // cluster was made (the setup stands in for the rebuild: it copies the clusters one by
        // one and takes each one's keys at once), then, timed: the findings' severities added,
        // the rows sorted, the frame drawn (the replaced snapshot is dropped afterwards).
        // One input made right before each timed run (`PerIteration`), as the rebuild makes
        // the snapshot right before it is shown (it measured the same as `LargeInput`).
        // Four cases: the same clusters with the same numbers (the order of both sorts kept
        // as is); the same clusters with every row's numbers moved to the next row (the
        // destination order kept, the column re-sorted from the previous order); one cluster
        // relabelled; and one cluster more, in the middle (the rows after it renumbered). In
        // the last two the changed row is sorted into the destination order the others keep,
        // and the column is re-sorted from the previous order carried over.
        let cases: [(&str, Change); 4] = [
            ("new_snapshot", |_| {}),
            ("new_snapshot_new_numbers", sim_app::move_numbers),
            ("new_snapshot_new_clusters", |s| {
                if let Some(c) = s.clusters.iter_mut().find(|c| is_upstream(c)) {
                    c.label = format!("{} (relabelled)", c.label);
                }
            }),
            ("new_snapshot_added_cluster", |s| {
                let middle = s.clusters.len() / 2;
                let mut c = s.clusters[middle].clone();
                c.key.name = format!("{}-added", c.key.name);
                c.label = format!("{}-added", c.label);
                s.clusters.insert(middle, c);
            }),
        ];
        for (name, change) in cases {
            group.bench_function(name, |b| {
                b.iter_batched_ref(
                    || {
                        let next = app.clone();
                        let mut snapshot = next.mesh.live.snapshot.clone();
                        change(&mut snapshot);
                        let (snapshot, keys) = rebuilt(&snapshot, true);
                        // The rebuild has the worst severity per cluster from evaluating.
                        let findings = next.mesh.live.findings.clone();
                        let evaluated = (worst_by_cluster(&findings), findings);
                        (next, Some((snapshot, evaluated, keys)), None)
                    },
                    |(next, parts, replaced)| {
                        if let Some((snapshot, (worst, findings), keys)) = parts.take() {
                            let evaluated = (findings, worst);
                            let shown =
                                Shown::with_row_keys(snapshot, evaluated, keys, &next.mesh.live);
                            *replaced = Some(std::mem::replace(&mut next.mesh.live, shown));
                        }
                        update(
                            next,
                            Msg::Resize {
                                width: size.0,
                                height: size.1,
                            },
                        );
                        frame(&mut terminal, next, &theme);
                    },
                    BatchSize::PerIteration,
                );
            });
        }
        // What taking the keys adds to making the clusters: 5,000 clusters copied one by one,
        // without and with their keys taken.
        let live = &app.mesh.live.snapshot;
        group.bench_function("make_clusters", |b| {
            b.iter_with_large_drop(|| rebuilt(live, false));
        });
        group.bench_function("make_clusters_taking_keys", |b| {
            b.iter_with_large_drop(|| rebuilt(live, true));
        });
        let mut filtering = app.clone();
        update(&mut filtering, key(KeyCode::Char('/')));
        update(&mut filtering, key(KeyCode::Char('i')));
        group.bench_function("filter_keystroke", |b| {
            b.iter_batched_ref(
                || filtering.clone(),
                |next| {
                    update(next, key(KeyCode::Char('n')));
                    frame(&mut terminal, next, &theme);
                },
                BatchSize::LargeInput,
            );
        });
        group.finish();
    }
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// The app thread's work per poll interval at the idle-CPU target (issue 6 item 7: 50
/// sidecars every 2 s): the sidecars' polls applied (`/clusters` on one poll in five, as the
/// TUI reads it every 10 s), then the tick that rebuilds snapshot, findings and histories,
/// then one frame. The store holds the demo's polls (every 2 s from 56 s to 90 s, after one
/// at 2 s), more than the TUI's 30 s window.
fn bench_idle(c: &mut Criterion) {
    const PODS: usize = 50;
    let size = (160u16, 50u16);
    let mut rig = sim_app::keepalive_rig_with(Some(PODS), size);
    let next = sim_app::LAST_POLL_MS + sim_app::INTERVAL_MS;
    let mut polls = rig.poll(next);
    let mut scraped = 0;
    for msg in &mut polls {
        if let CollectorMsg::Scraped { clusters, .. } = msg {
            if scraped % 5 != 0 {
                *clusters = None;
            }
            scraped += 1;
        }
    }
    assert_eq!(scraped, PODS, "one poll per sidecar");
    let applied = {
        let mut app = rig.app.clone();
        for msg in polls.clone() {
            update(&mut app, Msg::Collector(msg));
        }
        app
    };
    let theme = Theme::default();
    let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).expect("backend");
    let mut group = c.benchmark_group(format!("idle_{PODS}_sidecars"));
    group.bench_function("apply_polls", |b| {
        b.iter_batched_ref(
            || (rig.app.clone(), polls.clone()),
            |(app, polls)| {
                for msg in polls.drain(..) {
                    update(app, Msg::Collector(msg));
                }
            },
            BatchSize::LargeInput,
        );
    });
    group.bench_function("rebuild", |b| {
        b.iter_batched_ref(
            || applied.clone(),
            |app| sim_app::tick(app, next),
            BatchSize::LargeInput,
        );
    });
    let mut shown = applied.clone();
    sim_app::tick(&mut shown, next);
    assert!(shown.mesh.live.snapshot.clusters.len() > 5, "rebuilt");
    group.bench_function("build_snapshot", |b| {
        let at = RebuildAt {
            now: Timestamp::from_millis(next),
            unix_ms: sim_app::EPOCH_UNIX_MS + next,
            window: shown.session.window,
            recent: shown.session.interval * 2,
            min_gap: Duration::ZERO,
            context: None,
            namespace: None,
        };
        b.iter(|| shown.mesh.build(at));
    });
    group.bench_function("findings", |b| {
        let snapshot = &shown.mesh.live.snapshot;
        b.iter(|| meshtop::diagnosis::evaluate_with(snapshot, &shown.mesh.thresholds));
    });
    group.bench_function("frame", |b| {
        b.iter(|| frame(&mut terminal, &shown, &theme));
    });
    group.finish();
}

criterion_group!(benches, bench_idle, bench_tui);
criterion_main!(benches);
