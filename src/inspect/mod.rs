//! `meshtop inspect FILE…`: the postmortem command. Reads admin captures people saved with
//! `kubectl exec … curl localhost:15000/…`, detects each file's kind, and prints per upstream
//! cluster the counters that matter at 3 a.m., deltas and rates between two `/stats` captures,
//! endpoint health and the effective Envoy settings.
//!
//! `load_inputs` does the file I/O; [`report`] builds the facts (pure); [`text`] renders them;
//! `--output json` serialises the same [`report::Report`] (schema in `docs/INSPECT-JSON.md`).

pub mod compare;
pub mod findings;
pub mod report;
pub mod text;

use std::path::Path;

use crate::envoy::capture::parse_capture;
use report::LoadedInput;

/// Largest capture `inspect` reads (a full `/config_dump` of a big mesh is tens of MB).
pub const MAX_INPUT_BYTES: u64 = 512 * 1024 * 1024;

/// Reads and parses every file. A file that cannot be read or parsed is kept with its error,
/// so the others are still reported.
pub fn load_inputs(paths: &[impl AsRef<Path>]) -> Vec<LoadedInput> {
    paths.iter().map(|p| load_input(p.as_ref())).collect()
}

fn load_input(path: &Path) -> LoadedInput {
    let shown = path.display().to_string();
    let result = read_capture(path).and_then(|bytes| parse_capture(&bytes));
    LoadedInput {
        path: shown,
        result,
    }
}

fn read_capture(path: &Path) -> Result<Vec<u8>, crate::envoy::ParseError> {
    let io =
        |e: std::io::Error| crate::envoy::ParseError::syntax(1, 0, format!("cannot read: {e}"));
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(crate::envoy::ParseError::syntax(
            1,
            0,
            "is a directory, not a capture file",
        ));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(crate::envoy::ParseError::syntax(
            1,
            0,
            format!(
                "file is {} bytes; captures above {MAX_INPUT_BYTES} bytes are refused",
                meta.len()
            ),
        ));
    }
    std::fs::read(path).map_err(io)
}

/// Istio objects read for `--config`, the files they came from, and files that could not be
/// read (each `PATH: cannot read: …`).
pub struct LoadedConfig {
    pub istio: crate::istio::IstioConfig,
    pub files: Vec<String>,
    pub unreadable: Vec<String>,
}

/// Reads Istio objects from YAML files and folders (`*.yaml`, `*.yml`, sorted by name). What
/// cannot be read is listed; what was read is kept.
pub fn load_istio_config(paths: &[impl AsRef<Path>]) -> LoadedConfig {
    let mut loaded = LoadedConfig {
        istio: crate::istio::IstioConfig::default(),
        files: Vec::new(),
        unreadable: Vec::new(),
    };
    let mut files = Vec::new();
    for path in paths {
        let path = path.as_ref();
        match yaml_files(path) {
            Ok(found) => files.extend(found),
            Err(e) => loaded
                .unreadable
                .push(format!("{}: cannot read: {e}", path.display())),
        }
    }
    for file in files {
        let shown = file.display().to_string();
        match std::fs::read_to_string(&file) {
            Ok(text) => loaded.istio.merge(crate::istio::load_yaml(&text, &shown)),
            Err(e) => loaded.unreadable.push(format!("{shown}: cannot read: {e}")),
        }
        loaded.files.push(shown);
    }
    loaded
}

/// The file itself, or the YAML files directly inside a folder.
fn yaml_files(path: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    if !path.is_dir() {
        std::fs::metadata(path)?;
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<_> = std::fs::read_dir(path)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Parses `30s`, `2m`, `1m30s`, `500ms`, `1h` or a plain number of seconds.
pub fn parse_interval(text: &str) -> Result<f64, String> {
    let bad = || format!("invalid interval {text:?}: use e.g. 30s, 2m, 1m30s, 500ms");
    if let Ok(secs) = text.parse::<f64>() {
        return (secs.is_finite() && secs > 0.0)
            .then_some(secs)
            .ok_or_else(bad);
    }
    let mut total = 0.0;
    let mut rest = text.trim();
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let (num, tail) = rest.split_at(digits);
        let num: f64 = num.parse().map_err(|_| bad())?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        total += num
            * match unit {
                "ms" => 0.001,
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                _ => return Err(bad()),
            };
        rest = tail;
    }
    (total > 0.0).then_some(total).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("30s"), Ok(30.0));
        assert_eq!(parse_interval("30"), Ok(30.0));
        assert_eq!(parse_interval("1m30s"), Ok(90.0));
        assert_eq!(parse_interval("500ms"), Ok(0.5));
        assert_eq!(parse_interval("1h"), Ok(3600.0));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("30x").is_err());
        assert!(parse_interval("").is_err());
        assert!(parse_interval("-5").is_err());
    }
}
