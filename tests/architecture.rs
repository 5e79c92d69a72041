//! Architecture rules that the compiler cannot check (DESIGN.md §3, STYLE.md).

use std::path::{Path, PathBuf};

/// Modules that must stay pure: no async runtime, Kubernetes client, HTTP or terminal crates.
const PURE_MODULES: &[&str] = &["envoy", "istio", "metrics", "diagnosis", "model"];
const FORBIDDEN: &[&str] = &[
    "tokio",
    "kube",
    "k8s_openapi",
    "reqwest",
    "hyper",
    "ratatui",
    "crossterm",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_files(module: &str) -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join(module), &mut files);
    let single = src.join(format!("{module}.rs"));
    if single.is_file() {
        files.push(single);
    }
    files
}

#[test]
fn pure_modules_import_no_io_or_ui_crates() {
    let mut checked = 0;
    let mut violations = Vec::new();
    for module in PURE_MODULES {
        for file in module_files(module) {
            let text = std::fs::read_to_string(&file).expect("source file is readable");
            checked += 1;
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                for krate in FORBIDDEN {
                    let uses = code.contains(&format!("use {krate}::"))
                        || code.contains(&format!("{krate}::"))
                            && !code.contains(&format!("_{krate}::"))
                            && !code.contains(&format!("::{krate}::"));
                    if uses {
                        violations.push(format!("{}:{}: {krate}: {line}", file.display(), n + 1));
                    }
                }
                if code.contains("SystemTime::now") || code.contains("Instant::now") {
                    violations.push(format!(
                        "{}:{}: reads the clock: {line}",
                        file.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        checked >= 10,
        "expected to check the envoy module's files, checked {checked}"
    );
    assert!(
        violations.is_empty(),
        "pure modules must not do I/O or UI:\n{}",
        violations.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_doc_header() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a //! header: {missing:?}"
    );
}

/// The simulator is the client's opponent (DESIGN.md §5): it writes Envoy's formats with its
/// own code and must not reuse the client's parsers or Kubernetes client, or a bug would be
/// mirrored on both sides and every test would pass on a lie.
#[test]
fn the_simulator_shares_no_code_with_the_client() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join("sim"), &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source file is readable");
        let code_end = text.find("#[cfg(test)]").unwrap_or(text.len());
        for (n, line) in text[..code_end].lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for forbidden in [
                "crate::envoy",
                "crate::kube",
                "crate::collect",
                "super::super::envoy",
            ] {
                if code.contains(forbidden) {
                    violations.push(format!("{}:{}: {line}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "src/sim must not use the client's code:\n{}",
        violations.join("\n")
    );
}
