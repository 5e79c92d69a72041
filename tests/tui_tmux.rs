//! The built `meshtop demo` in a real terminal (tmux): keys sent, the pane captured and
//! asserted on, and the snapshot file `s` writes checked. Skips with a message when tmux is
//! not installed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_meshtop");

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Captures the pane until it contains `text` (30 s at most).
fn wait_for(session: &str, text: &str) -> String {
    wait_for_all(session, &[text])
}

/// Captures the pane until it contains every one of `texts` (30 s at most). Waiting for all
/// of them at once, rather than asserting on the capture that showed the first, keeps the
/// test from reading a screen the terminal is still painting.
fn wait_for_all(session: &str, texts: &[&str]) -> String {
    wait_until(session, &format!("{texts:?}"), |pane| {
        texts.iter().all(|t| pane.contains(t))
    })
}

/// Captures the pane until `ready` holds for it (30 s at most); `what` names the wait.
fn wait_until(session: &str, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pane = tmux(&["capture-pane", "-p", "-t", session]);
        if ready(&pane) {
            return pane;
        }
        assert!(Instant::now() < deadline, "no {what} on screen:\n{pane}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The overview table's rows of a captured pane (the hint panel below may name other
/// destinations in its findings).
fn table_rows(pane: &str) -> Vec<&str> {
    pane.lines()
        .skip_while(|l| !l.contains("DESTINATION"))
        .skip(1)
        .take_while(|l| !l.contains("hints ·"))
        .filter(|l| l.contains(".prod:"))
        .collect()
}

fn keys(session: &str, keys: &[&str]) {
    let mut args = vec!["send-keys", "-t", session];
    args.extend(keys);
    tmux(&args);
}

/// Kills the tmux session on drop.
struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

#[test]
fn demo_in_tmux_filters_drills_in_helps_snapshots_and_quits() {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("skipped: tmux is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let name = format!("meshtop-test-{}", std::process::id());
    let command = format!(
        "{BIN} demo --speed 10 --interval 500ms --snapshot-dir {} --theme dark; echo MESHTOP-EXIT=$?; sleep 10",
        dir.path().display()
    );
    let status = Command::new("tmux")
        .args(["new-session", "-d", "-s", &name, "-x", "120", "-y", "40"])
        .arg(&command)
        .env("XDG_CONFIG_HOME", dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let session = Session(name);
    let s = session.0.as_str();

    // The overview: inventory first (critical), with its 1s VirtualService timeout and R1.
    let pane = wait_for_all(s, &["CRITICAL R1", "meshtop 0.1.0", "ns prod"]);
    let first_row = table_rows(&pane).first().copied().unwrap_or_default();
    assert!(first_row.contains("inventory-svc.prod:8080"), "{pane}");
    assert!(first_row.contains("1s"), "{first_row}");

    // `/` filter narrows the table.
    keys(s, &["/", "pric", "Enter"]);
    let pane = wait_until(s, "the filtered table", |pane| {
        pane.contains("match /pric/") && !table_rows(pane).is_empty()
    });
    let table = table_rows(&pane);
    assert!(
        table.iter().all(|l| l.contains("pricing-svc.prod:8080")),
        "{pane}"
    );
    assert!(!table.iter().any(|l| l.contains("inventory-svc")), "{pane}");
    keys(s, &["Escape"]);
    wait_for(s, "upstream clusters · 7");

    // Enter drills into the selected (first) row.
    keys(s, &["Enter"]);
    wait_for_all(
        s,
        &[
            "CONFIGURED (Istio) vs EFFECTIVE",
            "cluster · inventory-svc.prod:8080",
            "VirtualService prod/inventory-svc http[0].timeout",
        ],
    );
    // Wait for each screen before the next key: a terminal reads Esc followed at once by a
    // character as Alt+character.
    keys(s, &["Escape"]);
    wait_for(s, "upstream clusters ·");

    // `?` help is generated from the keymap.
    keys(s, &["?"]);
    wait_for_all(s, &["KEYS", "pause / resume the view"]);
    keys(s, &["Escape"]);
    wait_for(s, "upstream clusters ·");

    // `s` writes the snapshot and the status bar names it.
    keys(s, &["s"]);
    wait_for(s, "snapshot written:");
    let md = only_file(dir.path(), "md");
    wait_for(s, md.file_name().unwrap().to_str().unwrap());
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("inventory-svc.prod:8080"), "{text}");
    assert!(text.contains("R1"), "{text}");
    let name = md.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("meshtop-sim-prod-") && name.ends_with("Z.md"),
        "{name}"
    );
    let svg = std::fs::read_to_string(only_file(dir.path(), "svg")).unwrap();
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..80]
    );

    // `q` quits and the terminal is restored (the shell's echo is visible).
    keys(s, &["q"]);
    wait_for(s, "MESHTOP-EXIT=0");
}

fn only_file(dir: &Path, ext: &str) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}
