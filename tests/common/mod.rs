//! Shared helpers for integration tests.
#![allow(dead_code)]

pub mod sim_app;

use std::path::PathBuf;

/// The directory of real Envoy/Istio captures named by `MESHTOP_FIXTURES`, or `None` after
/// printing a skip line (the fixtures are not part of the repository).
pub fn fixtures_dir(test: &str) -> Option<PathBuf> {
    match std::env::var_os("MESHTOP_FIXTURES") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            assert!(
                dir.is_dir(),
                "MESHTOP_FIXTURES={} is not a directory",
                dir.display()
            );
            Some(dir)
        }
        _ => {
            println!("skipped: MESHTOP_FIXTURES not set ({test})");
            None
        }
    }
}

/// Reads a fixture file as bytes, panicking with the path when it is missing.
pub fn read_fixture(dir: &std::path::Path, rel: &str) -> Vec<u8> {
    let path = dir.join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// The project's own sample captures under `tests/data/`.
pub fn sample(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}
