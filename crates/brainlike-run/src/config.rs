//! `config.toml`: the resolved configuration the trainer writes first. This crate reads it
//! as a generic TOML table (the typed `TrainConfig` lives in brainlike-core, which depends on
//! this crate) with accessors for the few keys sweeps and reports need.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::atomic::write_atomic;
use crate::error::{Result, RunError};

/// A run's `config.toml`: its text and the parsed table.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    path: PathBuf,
    text: String,
    table: toml::Table,
}

impl RunConfig {
    /// Reads and parses `path`; errors name the line.
    pub fn read(path: &Path) -> Result<RunConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| RunError::io(path, "reading", e))?;
        RunConfig::parse(path, text)
    }

    /// Parses `text` (`path` names it in errors).
    pub fn parse(path: &Path, text: String) -> Result<RunConfig> {
        let table = text.parse::<toml::Table>().map_err(|e| {
            let place = e
                .span()
                .map(|s| format!("line {}", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_else(|| "document".into());
            RunError::format(path, place, "TOML", e.message().to_string())
        })?;
        Ok(RunConfig {
            path: path.to_path_buf(),
            text,
            table,
        })
    }

    /// Writes `text` to `path` atomically (after checking that it parses).
    pub fn write(path: &Path, text: &str) -> Result<()> {
        RunConfig::parse(path, text.to_string())?;
        write_atomic(path, text.as_bytes())
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's text, as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed table.
    pub fn table(&self) -> &toml::Table {
        &self.table
    }

    /// The value at a dotted key (`teacher.ratio`), if present.
    pub fn get(&self, dotted: &str) -> Option<&toml::Value> {
        let mut parts = dotted.split('.');
        let mut v = self.table.get(parts.next()?)?;
        for p in parts {
            v = v.as_table()?.get(p)?;
        }
        Some(v)
    }

    /// `seed`, if present and a non-negative integer.
    pub fn seed(&self) -> Option<u64> {
        self.get("seed")?.as_integer()?.try_into().ok()
    }

    /// `device`, if present.
    pub fn device(&self) -> Option<&str> {
        self.get("device")?.as_str()
    }

    /// A number at a dotted key (integers widened), if present.
    pub fn f64(&self, dotted: &str) -> Option<f64> {
        match self.get(dotted)? {
            toml::Value::Float(f) => Some(*f),
            toml::Value::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// Every leaf as `dotted.key → text` (see [`flatten_toml`]).
    pub fn flatten(&self) -> BTreeMap<String, String> {
        flatten_toml(&toml::Value::Table(self.table.clone()))
    }
}

/// Flattens a TOML table to dotted keys. Strings are unquoted; other values use TOML's
/// notation (arrays and inline tables as TOML text, floats in Rust's shortest form).
pub fn flatten_toml(value: &toml::Value) -> BTreeMap<String, String> {
    fn go(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    go(&key, v, out);
                }
            }
            toml::Value::String(s) => {
                out.insert(prefix.to_string(), s.clone());
            }
            toml::Value::Float(f) => {
                out.insert(prefix.to_string(), format!("{f}"));
            }
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    go("", value, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_accessors_and_flattening() {
        let c = RunConfig::parse(
            Path::new("config.toml"),
            "seed = 3\ndevice = \"flex\"\n[teacher]\nratio = 0.1\nepochs = 10\npairs = \"v1\"\n"
                .into(),
        )
        .unwrap();
        assert_eq!(c.seed(), Some(3));
        assert_eq!(c.device(), Some("flex"));
        assert_eq!(c.f64("teacher.ratio"), Some(0.1));
        assert_eq!(c.f64("teacher.epochs"), Some(10.0));
        assert_eq!(c.get("teacher.absent"), None);
        let flat = c.flatten();
        assert_eq!(flat["teacher.pairs"], "v1");
        assert_eq!(flat["teacher.ratio"], "0.1");
    }

    #[test]
    fn bad_toml_names_the_line() {
        let err = RunConfig::parse(Path::new("config.toml"), "seed = 1\nx = = 2\n".into())
            .unwrap_err()
            .to_string();
        assert!(err.contains("config.toml: line 2"), "{err}");
    }
}
