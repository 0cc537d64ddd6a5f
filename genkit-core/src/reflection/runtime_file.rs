//! The runtime discovery file `<root>/.genkit/runtimes/<pid>-<port>-<ms>.json` through
//! which `genkit start` and the other CLI commands find a running runtime.
//!
//! The project root is found exactly as the Genkit CLI finds it: walking up from the
//! working directory to the first directory holding one of [`ROOT_MARKERS`], else the
//! working directory itself (a `Cargo.toml` is deliberately not a marker: the CLI does
//! not know it).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::error::Result;

/// The files that mark a project root for the Genkit CLI.
pub const ROOT_MARKERS: [&str; 6] = [
    "package.json",
    "go.mod",
    "pyproject.toml",
    "requirements.txt",
    "pom.xml",
    "build.gradle",
];

/// The project root the CLI would pick when started in `cwd`.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("genkit-root-doc-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("a/b")).unwrap();
/// std::fs::write(dir.join("go.mod"), "").unwrap();
/// let root = genkit_core::reflection::project_root(&dir.join("a/b"));
/// assert_eq!(root, dir);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn project_root(cwd: &Path) -> PathBuf {
    let mut dir = Some(cwd);
    while let Some(d) = dir {
        if ROOT_MARKERS.iter().any(|m| d.join(m).exists()) {
            return d.to_path_buf();
        }
        dir = d.parent();
    }
    cwd.to_path_buf()
}

/// What the runtime file says.
pub(crate) struct RuntimeInfo<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub url: &'a str,
    pub port: u16,
}

/// A written runtime file; [`RuntimeFile::remove`] deletes it (only if it is ours).
#[derive(Debug)]
pub(crate) struct RuntimeFile {
    path: PathBuf,
    text: String,
    /// Set once removed, so a late [`RuntimeFile::announce_again`] cannot bring it back.
    removed: Mutex<bool>,
}

impl RuntimeFile {
    /// Writes the file under `<root>/.genkit/runtimes/`.
    pub fn write(root: &Path, info: &RuntimeInfo<'_>) -> Result<RuntimeFile> {
        let dir = root.join(".genkit").join("runtimes");
        std::fs::create_dir_all(&dir)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let millis = now.as_millis();
        let pid = std::process::id();
        let mut obj = Map::new();
        obj.insert("id".into(), Value::from(info.id));
        obj.insert("pid".into(), Value::from(pid));
        if let Some(name) = info.name {
            obj.insert("name".into(), Value::from(name));
        }
        obj.insert("reflectionServerUrl".into(), Value::from(info.url));
        obj.insert(
            "timestamp".into(),
            Value::from(iso_timestamp(now.as_millis())),
        );
        obj.insert("genkitVersion".into(), Value::from(super::genkit_version()));
        obj.insert(
            "reflectionApiSpecVersion".into(),
            Value::from(super::SPEC_VERSION),
        );
        let text = serde_json::to_string_pretty(&Value::Object(obj))?;
        let path = dir.join(format!("{pid}-{}-{millis}.json", info.port));
        let file = RuntimeFile {
            path,
            text,
            removed: Mutex::new(false),
        };
        file.put()?;
        Ok(file)
    }

    /// Writes a temporary file then renames it into place, so the CLI's watcher never
    /// reads a half-written file.
    fn put(&self) -> std::io::Result<()> {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = self.path.with_file_name(format!(".{name}.tmp"));
        std::fs::write(&tmp, &self.text)?;
        std::fs::rename(&tmp, &self.path)
    }

    /// Writes the file again (a new file renamed over the old one, so it never goes
    /// missing), so a CLI whose directory watcher missed its creation sees it appear.
    /// The CLI reads the directory once and then watches it; a file created while the
    /// watcher is still being set up gets no event, and the CLI never lists the
    /// runtime. Does nothing once removed.
    pub fn announce_again(&self) {
        let removed = self.removed.lock().unwrap_or_else(|e| e.into_inner());
        if *removed {
            return;
        }
        if let Err(e) = self.put() {
            tracing::debug!(target: "genkit", "could not rewrite the runtime file: {e}");
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Deletes it if it still names this process.
    pub fn remove(&self) {
        let mut removed = self.removed.lock().unwrap_or_else(|e| e.into_inner());
        *removed = true;
        let ours = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v.get("pid").and_then(Value::as_u64))
            == Some(u64::from(std::process::id()));
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `ms` since the epoch as `2026-01-01T00:00:00.000Z` (JS `Date.toISOString`).
pub(crate) fn iso_timestamp(ms: u128) -> String {
    let ms = u64::try_from(ms).unwrap_or(u64::MAX);
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_timestamps_match_js() {
        assert_eq!(iso_timestamp(0), "1970-01-01T00:00:00.000Z");
        // new Date(1714000000123).toISOString()
        assert_eq!(iso_timestamp(1_714_000_000_123), "2024-04-24T23:06:40.123Z");
        // new Date(951782400000).toISOString(): a leap day
        assert_eq!(iso_timestamp(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
