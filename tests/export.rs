//! Postmortem snapshots through the public API: an `App` showing a snapshot with more
//! clusters than fit on a screen (the grpc-keepalive cluster, a plain cluster whose name holds
//! pipes, and 60 quiet services), rendered in every format and written to a directory.

use std::collections::BTreeMap;
use std::time::Duration;

use meshtop::app::{App, Clock, Filter, MeshState, Session, Shown};
use meshtop::diagnosis::{Thresholds, evaluate};
use meshtop::envoy::ClusterKey;
use meshtop::export::{ExportFormat, file_name, render, write_snapshot};
use meshtop::istio::{ResolveOptions, load_yaml, resolve};
use meshtop::metrics::Timestamp;
use meshtop::model::envoy_view::EndpointView;
use meshtop::model::{
    ClusterSnapshot, CollectionState, ConfigMismatch, CounterWindow, MeshSnapshot, SourceState,
    StatsCollection, summarize,
};
use meshtop::ui::theme::Theme;
use ratatui::style::{Color, Style};

/// 2026-11-26 03:12:40 UTC.
const T: u64 = 1_795_662_760_000;
const INV: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";
/// Not an Istio name (the port is not a number): shown by its raw name, pipes included.
const PIPES: &str = "outbound|grpc||legacy|billing";
const QUIET: usize = 60;
/// The theme's text colour; the SVG must carry it.
const TEXT_RGB: (u8, u8, u8) = (0x12, 0x34, 0x56);

const ISTIO: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\n\
metadata: {name: inventory-svc, namespace: prod}\nspec:\n  hosts: [inventory-svc]\n  http:\n\
\x20 - route: [{destination: {host: inventory-svc}}]\n    timeout: 1s\n    retries: {attempts: 0}\n\
---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
metadata: {name: inventory-svc, namespace: prod}\nspec:\n  host: inventory-svc\n  trafficPolicy:\n\
\x20   connectionPool:\n      http: {idleTimeout: 30s}\n";

fn window(increase: u64) -> CounterWindow {
    CounterWindow {
        increase,
        rate: Some(increase as f64 / 30.0),
        resets: 0,
        pods: 1,
    }
}

fn cluster(name: &str, clients: &[&str], counters: &[(&str, u64)]) -> ClusterSnapshot {
    let key = ClusterKey::parse(name);
    ClusterSnapshot {
        label: key.label(),
        key,
        clients: clients.iter().map(|c| c.to_string()).collect(),
        counters: counters
            .iter()
            .map(|(s, n)| ((*s).into(), window(*n)))
            .collect(),
        gauges: BTreeMap::new(),
        upstream_rq_time_p99_ms: None,
        endpoints: None,
        config: None,
        effective_config: None,
        per_pod: Vec::new(),
        requests: Vec::new(),
        server: None,
    }
}

fn source(pod: &str, state: CollectionState) -> SourceState {
    SourceState {
        pod: pod.into(),
        namespace: "prod".into(),
        state,
        stats_collection: StatsCollection::Full,
    }
}

fn inventory() -> ClusterSnapshot {
    let mut inv = cluster(
        INV,
        &["order-a", "order-b", "frontend-x"],
        &[
            ("upstream_rq_total", 1200),
            ("upstream_rq_timeout", 38),
            ("upstream_cx_destroy_local_with_active_rq", 0),
            ("upstream_cx_destroy_remote_with_active_rq", 13),
        ],
    );
    inv.upstream_rq_time_p99_ms = Some(1400.0);
    inv.endpoints = Some(EndpointView {
        total: 3,
        healthy: 3,
        ejected: 0,
        rq_total: None,
        rq_timeout: None,
        rq_error: None,
        cx_connect_fail: None,
        unhealthy: Vec::new(),
    });
    let istio = load_yaml(ISTIO, "test.yaml");
    let policy = resolve(&istio, &inv.key, "prod", &ResolveOptions::default());
    inv.config = policy.map(|p| Box::new(summarize(&p, None)));
    if let Some(cfg) = &mut inv.config {
        cfg.mismatches.push(ConfigMismatch {
            field: "idle_timeout_ms".into(),
            configured: Some(30_000),
            effective: Some(3_600_000),
        });
    }
    inv
}

fn snapshot() -> MeshSnapshot {
    let mut clusters = vec![
        inventory(),
        cluster(PIPES, &["order-a"], &[("upstream_rq_total", 30)]),
    ];
    for i in 0..QUIET {
        let name = format!("outbound|8080||svc-{i:02}.prod.svc.cluster.local");
        clusters.push(cluster(&name, &["order-a"], &[("upstream_rq_total", 60)]));
    }
    let stale = CollectionState::Stale {
        since: Timestamp::from_secs(990),
        last_ok: Timestamp::from_secs(988),
        reason: "timeout after 2s".into(),
    };
    MeshSnapshot {
        meshtop_version: "0.1.0".into(),
        context: Some("kind-prod".into()),
        namespace: Some("prod".into()),
        taken_at_unix_ms: Some(T),
        window_seconds: 30.0,
        sources: vec![
            source(
                "order-a",
                CollectionState::Ok {
                    at: Timestamp::from_secs(1000),
                },
            ),
            source(
                "order-b",
                CollectionState::Ok {
                    at: Timestamp::from_secs(1000),
                },
            ),
            source("frontend-x", stale),
        ],
        clusters,
        config_issues: Vec::new(),
        proxies: Vec::new(),
        subset_policies: Vec::new(),
    }
}

fn app() -> App {
    let snap = snapshot();
    let findings = evaluate(&snap);
    let mut mesh = MeshState::new(Thresholds::default(), false);
    mesh.live = Shown::new(snap, findings);
    let session = Session {
        context: Some("kind-prod".into()),
        namespace: Some("prod".into()),
        interval: Duration::from_secs(2),
        window: Duration::from_secs(30),
        themes: vec!["test".into()],
        theme: 0,
        contexts: Vec::new(),
        namespaces: Vec::new(),
        namespaces_error: None,
        snapshot_dir: None,
    };
    let mut app = App::new(mesh, session);
    app.clock = Clock {
        now: Timestamp::from_secs(1000),
        unix_ms: T,
    };
    app.view.size = (120, 40);
    app
}

fn theme() -> Theme {
    let (r, g, b) = TEXT_RGB;
    let mut t = Theme::plain("test");
    t.text = Style::new().fg(Color::Rgb(r, g, b));
    t.crit = Style::new().fg(Color::Indexed(196)).bold();
    t.header = Style::new().bg(Color::Blue);
    t
}

fn labels() -> Vec<String> {
    (0..QUIET)
        .map(|i| format!("svc-{i:02}.prod:8080"))
        .collect()
}

#[test]
fn file_names_are_exact() {
    assert_eq!(
        file_name(Some("kind-prod"), Some("prod"), T, ExportFormat::Markdown),
        "meshtop-kind-prod-prod-20261126T031240Z.md"
    );
    assert_eq!(
        file_name(Some("gke_p/z:c"), None, T, ExportFormat::Json),
        "meshtop-gke_p_z_c-all-20261126T031240Z.json"
    );
}

#[test]
fn text_holds_every_row_the_header_and_the_findings_without_box_drawing() {
    let app = app();
    let text = render(&app, &theme(), ExportFormat::Text, (120, 40));
    let boxy: Vec<char> = text
        .chars()
        .filter(|c| ('\u{2500}'..='\u{257f}').contains(c))
        .collect();
    assert!(boxy.is_empty(), "box drawing: {boxy:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "meshtop 0.1.0 snapshot");
    assert_eq!(lines[1], "  context    kind-prod");
    assert_eq!(lines[2], "  namespace  prod");
    assert_eq!(lines[3], "  time       2026-11-26 03:12:10–03:12:40 UTC");
    assert_eq!(lines[4], "  window     30s");
    assert_eq!(
        lines[5],
        "  sidecars   2 ok, 1 stale, 0 failed, 0 not collected"
    );
    assert_eq!(lines[6], "  view       live");
    assert_eq!(
        lines[7],
        "  clusters   62 upstream clusters, sorted by severity"
    );
    assert_eq!(lines[9], "UPSTREAM CLUSTERS (62)");
    // Column titles, the rule, then 62 rows: the one with findings first.
    assert!(lines[10].starts_with("finding  destination  "), "{text}");
    assert!(lines[11].starts_with("-------  -----------"), "{text}");
    assert_eq!(
        lines[12].split_whitespace().collect::<Vec<_>>(),
        [
            "warning",
            "inventory-svc.prod:8080",
            "3",
            "40.0",
            "1.3",
            "+38",
            "0/0.43",
            "—",
            "—",
            "—",
            "0/3/3",
            "1.4s",
            "1s",
            "off†",
            "10s†",
            "30s*",
            "stale",
        ]
    );
    let rows = &lines[12..12 + 62];
    for label in labels() {
        let n = rows
            .iter()
            .filter(|l| l.contains(&format!(" {label} ")))
            .count();
        assert_eq!(n, 1, "{label} in {rows:#?}");
    }
    assert!(rows.iter().any(|l| l.contains(PIPES)));
    assert_eq!(lines[12 + 62], "");
    let findings = &app.mesh.live.findings;
    assert!(!findings.is_empty());
    assert!(text.contains(&format!("\nFINDINGS ({})\n", findings.len())));
    assert!(text.contains(&meshtop::diagnosis::render_findings(findings)));
    assert!(text.contains(
        "\nSIDECARS NOT CURRENT (1)\n  frontend-x: stale since 03:12:30 UTC, data from \
         03:12:28 UTC: timeout after 2s\n"
    ));
}

/// Pipes in a GFM table row that are not escaped with a backslash.
fn unescaped_pipes(line: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in line.chars() {
        match (c, escaped) {
            ('\\', false) => escaped = true,
            ('|', false) => n += 1,
            _ => escaped = false,
        }
    }
    n
}

#[test]
fn markdown_tables_are_valid_gfm_with_pipes_escaped() {
    let app = app();
    let md = render(&app, &theme(), ExportFormat::Markdown, (120, 40));
    assert!(md.starts_with("# meshtop 0.1.0 snapshot\n\n- **context:** kind-prod\n"));
    assert!(md.contains("- **time:** 2026-11-26 03:12:10–03:12:40 UTC\n"));
    let table: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(table.len(), 2 + 62);
    for line in &table {
        assert_eq!(unescaped_pipes(line), 18, "{line}");
        assert!(line.ends_with(" |"), "{line}");
    }
    assert!(table[1].starts_with("| :--- | :--- | ---: |"));
    assert!(md.contains(r"| outbound\|grpc\|\|legacy\|billing |"));
    assert!(md.contains(r"| 0/3/3 | 1.4s | 1s | off† | 10s† | 30s\* | stale |"));
    let findings = &app.mesh.live.findings;
    assert_eq!(md.matches("\n### ").count(), findings.len());
    assert!(md.contains(&format!("\n## Findings ({})\n", findings.len())));
    let r1 = findings.iter().find(|f| f.rule == "R1").unwrap();
    let command = r1
        .next_steps
        .iter()
        .find_map(|s| s.command.clone())
        .unwrap();
    assert!(md.contains(&format!("\n   ```sh\n   {command}\n   ```\n")));
    assert!(md.contains("- `upstream_rq_timeout`: "));
}

#[test]
fn json_reads_back_as_the_snapshot_with_findings() {
    let app = app();
    let json = render(&app, &theme(), ExportFormat::Json, (120, 40));
    let back: MeshSnapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, app.mesh.live.snapshot);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let findings = value["findings"].as_array().unwrap();
    assert_eq!(findings.len(), app.mesh.live.findings.len());
    assert_eq!(findings[0]["rule"], "R1");
}

/// A minimal XML well-formedness check: balanced, properly nested tags, one root, quoted
/// attributes without duplicates, text and attribute values free of `<` and of bare `&`.
fn check_xml(doc: &str) -> Result<usize, String> {
    let mut stack: Vec<String> = Vec::new();
    let (mut elements, mut closed_root) = (0, false);
    let mut rest = doc.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>').ok_or("unterminated tag")?;
            let tag = &after[..end];
            rest = &after[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().ok_or(format!("stray </{name}>"))?;
                if open != name {
                    return Err(format!("<{open}> closed by </{name}>"));
                }
                closed_root = stack.is_empty();
                continue;
            }
            if closed_root {
                return Err("a second root element".into());
            }
            let self_closing = tag.ends_with('/');
            let body = tag.trim_end_matches('/');
            let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
            let name = &body[..name_end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == ':') {
                return Err(format!("bad element name {name:?}"));
            }
            check_attributes(&body[name_end..])?;
            elements += 1;
            closed_root = self_closing && stack.is_empty();
            if !self_closing {
                stack.push(name.to_string());
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..end];
            if stack.is_empty() && !text.trim().is_empty() {
                return Err(format!("text outside the root: {text:?}"));
            }
            check_text(text)?;
            rest = &rest[end..];
        }
    }
    match stack.is_empty() {
        true => Ok(elements),
        false => Err(format!("unclosed {stack:?}")),
    }
}

fn check_attributes(mut attrs: &str) -> Result<(), String> {
    let mut seen = Vec::new();
    loop {
        attrs = attrs.trim_start();
        if attrs.is_empty() {
            return Ok(());
        }
        let eq = attrs
            .find('=')
            .ok_or(format!("attribute without value: {attrs}"))?;
        let name = &attrs[..eq];
        if seen.contains(&name) {
            return Err(format!("duplicate attribute {name}"));
        }
        seen.push(name);
        let value = attrs[eq + 1..]
            .strip_prefix('"')
            .ok_or("unquoted attribute")?;
        let close = value.find('"').ok_or("unterminated attribute")?;
        check_text(&value[..close])?;
        attrs = &value[close + 1..];
    }
}

fn check_text(text: &str) -> Result<(), String> {
    if text.contains('<') || text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(format!("bad character in {text:?}"));
    }
    for (i, _) in text.match_indices('&') {
        let entity = &text[i..];
        let ok = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
            .iter()
            .any(|e| entity.starts_with(e));
        if !ok {
            return Err(format!("bare & in {text:?}"));
        }
    }
    Ok(())
}

#[test]
fn the_xml_check_rejects_broken_documents() {
    assert_eq!(check_xml("<a x=\"1\"><b/>t &amp; u</a>"), Ok(2));
    assert!(check_xml("<a><b></a></b>").is_err());
    assert!(check_xml("<a>x & y</a>").is_err());
    assert!(check_xml("<a></a><b/>").is_err());
    assert!(check_xml("<a x=\"1\" x=\"2\"/>").is_err());
    assert!(check_xml("<a>").is_err());
}

#[test]
fn svg_is_well_formed_keeps_the_theme_colours_and_every_row() {
    let app = app();
    let svg = render(&app, &theme(), ExportFormat::Svg, (120, 40));
    let elements = check_xml(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    assert!(elements > 62);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1008.0\" "));
    let (r, g, b) = TEXT_RGB;
    assert!(svg.contains(&format!("fill=\"#{r:02x}{g:02x}{b:02x}\"")));
    // Grown in height so every overview row is drawn.
    let rows = svg.matches("<text ").count();
    assert!(rows > 62, "{rows} text rows");
    for label in labels() {
        assert!(svg.contains(&format!(">{label}")), "{label} missing");
    }
}

#[test]
fn ansi_has_escapes_resets_and_every_row() {
    let app = app();
    let ansi = render(&app, &theme(), ExportFormat::Ansi, (120, 40));
    assert!(ansi.contains("\x1b[0;38;2;18;52;86m"), "theme text colour");
    for line in ansi.lines().filter(|l| l.contains('\x1b')) {
        assert!(line.ends_with("\x1b[0m"), "{line:?}");
    }
    for label in labels() {
        assert!(ansi.contains(&label), "{label} missing");
    }
    assert!(ansi.lines().count() > 62 + 6);
}

#[test]
fn snapshots_are_written_with_their_names_and_errors_name_the_path() {
    let app = app();
    let dir = tempfile::tempdir().unwrap();
    let written = write_snapshot(&app, &theme(), dir.path(), &ExportFormat::ALL).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["txt", "md", "ans", "svg", "json"]
            .map(|e| format!("meshtop-kind-prod-prod-20261126T031240Z.{e}"))
    );
    for (path, format) in written.iter().zip(ExportFormat::ALL) {
        let body = std::fs::read_to_string(path).unwrap();
        assert_eq!(body, render(&app, &theme(), format, app.view.size));
    }
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let err = write_snapshot(&app, &theme(), &file, &[ExportFormat::Text]).unwrap_err();
    assert!(
        err.starts_with(&format!("cannot create {}: ", file.display())),
        "{err}"
    );
}

#[test]
fn a_paused_view_exports_the_frozen_screen_and_a_filter_limits_the_rows() {
    let mut app = app();
    app.mesh.set_paused(true);
    app.view.paused = true;
    app.mesh.live.snapshot.clusters.clear();
    let text = render(&app, &theme(), ExportFormat::Text, (120, 40));
    assert!(text.contains("\n  view       paused (view frozen; collection continued)\n"));
    assert!(text.contains("\nUPSTREAM CLUSTERS (62)\n"));

    app.view.filter = Some(Filter::new("SVC-0").unwrap());
    let text = render(&app, &theme(), ExportFormat::Text, (120, 40));
    assert!(
        text.contains(
            "\n  clusters   10 of 62 upstream clusters match /SVC-0/, sorted by severity\n"
        )
    );
    assert!(text.contains("\nUPSTREAM CLUSTERS (10)\n"));
    assert!(text.contains(" svc-09.prod:8080 ") && !text.contains("svc-10.prod"));
}
