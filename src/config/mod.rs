//! meshtop's own settings file (`$XDG_CONFIG_HOME/meshtop/config.yaml`, else
//! `~/.config/meshtop/config.yaml`, or `--config-file PATH`): today the diagnosis
//! `thresholds:`; every key is optional and a missing file means defaults. A bad file is an
//! error naming the file and the problem (serde-saphyr reports line and column), never a panic.
//!
//! ```yaml
//! thresholds:
//!   critical_share: 0.05   # 5 % of requests failing before a finding is critical
//!   min_events: 3
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::diagnosis::Thresholds;

/// Everything the settings file can hold.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub thresholds: Thresholds,
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// The default settings path, when a home or XDG config directory is known.
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("meshtop").join("config.yaml"))
}

/// Reads `explicit` (must exist), else the default path if it exists, else defaults.
pub fn load_settings(explicit: Option<&Path>) -> Result<Settings, ConfigError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match default_path().filter(|p| p.is_file()) {
            Some(p) => p,
            None => return Ok(Settings::default()),
        },
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    parse_settings(&text, &shown)
}

/// Parses settings text; `path` names the source in errors.
pub fn parse_settings(text: &str, path: &str) -> Result<Settings, ConfigError> {
    if text.trim().is_empty() {
        return Ok(Settings::default());
    }
    serde_saphyr::from_str(text).map_err(|e| ConfigError::Invalid {
        path: path.to_string(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_read_and_unknown_keys_are_named() {
        let s = parse_settings("thresholds:\n  critical_share: 0.05\n", "c.yaml").unwrap();
        assert_eq!(s.thresholds.critical_share, 0.05);
        assert_eq!(s.thresholds.min_events, Thresholds::default().min_events);
        assert_eq!(parse_settings("", "c.yaml").unwrap(), Settings::default());
        let err = parse_settings("thresholds:\n  critical_shar: 0.05\n", "c.yaml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("c.yaml: "), "{msg}");
        assert!(msg.contains("critical_shar"), "{msg}");
        let err = parse_settings("thresholds: [1, 2\n", "c.yaml").unwrap_err();
        assert!(err.to_string().starts_with("c.yaml: "), "{err}");
    }

    #[test]
    fn a_missing_explicit_file_is_an_error_naming_it() {
        let err = load_settings(Some(Path::new("/nonexistent/meshtop.yaml"))).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/meshtop.yaml: "),
            "{err}"
        );
    }
}
