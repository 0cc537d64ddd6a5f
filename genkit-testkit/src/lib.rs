//! What genkit-rs's tests need from outside Rust, provisioned on first use.
//!
//! `cargo test --workspace` on a fresh clone needs nothing set up by hand: the first test
//! that asks for the real genkit CLI, an official SDK or PostgreSQL installs it here, once,
//! under a file lock (test binaries run in parallel), into `$GENKIT_RS_CACHE`
//! (default `/var/tmp/genkit-rs-cache`). What cannot be installed (a system package on a
//! machine where we are not root) panics with the Debian package to install.
//!
//! Each install goes into a directory named for a hash of what it holds, and a marker
//! file written last says it is complete, so an interrupted install is redone and two
//! different package sets never share a directory.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The genkit CLI the tests drive, and the Genkit JS runtime the contract fixtures are
/// recorded from.
pub const GENKIT_CLI: &str = "genkit-cli@1.43.0";
/// The Genkit JS runtime and client (`genkit/beta/client`).
pub const GENKIT_JS: &str = "genkit@1.42.0";

/// `$GENKIT_RS_CACHE`, else `/var/tmp/genkit-rs-cache`; created if missing.
pub fn cache_dir() -> PathBuf {
    let dir = std::env::var_os("GENKIT_RS_CACHE")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/var/tmp/genkit-rs-cache"), PathBuf::from);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create the test cache {}: {e}", dir.display()));
    dir
}

/// The npm `packages` (exact versions, `name@1.2.3`) installed together into one
/// directory of the cache; returns that directory (it holds `node_modules`). Installs
/// node and npm from Debian's packages first when they are missing and we are root.
pub fn npm_packages(packages: &[&str]) -> PathBuf {
    let dir = cache_dir().join(format!("node-{}", key(packages)));
    provision(&dir, packages, |dir| {
        if !runs("node", &["--version"]) || !runs("npm", &["--version"]) {
            apt_install(&["nodejs", "npm"]);
        }
        std::fs::write(
            dir.join("package.json"),
            "{\"name\":\"genkit-rs-test-tools\",\"private\":true}\n",
        )
        .map_err(|e| e.to_string())?;
        let mut npm = Command::new("npm");
        npm.args([
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(dir)
        .args(packages);
        run(npm)
    })
}

/// The real genkit CLI (`npm genkit-cli`), installed beside the Genkit JS runtime, with
/// its analytics prompt answered (it blocks on it otherwise).
pub fn genkit_cli() -> PathBuf {
    let dir = npm_packages(&[GENKIT_CLI, GENKIT_JS]);
    let bin = dir.join("node_modules/.bin/genkit");
    let opted_out = dir.join(".analytics-opt-out");
    if !opted_out.exists() {
        let mut cmd = Command::new(&bin);
        cmd.args([
            "--non-interactive",
            "config",
            "set",
            "analyticsOptOut",
            "true",
        ]);
        if let Err(e) = run(cmd) {
            panic!("cannot configure {}: {e}", bin.display());
        }
        let _ = std::fs::write(&opted_out, "");
    }
    bin
}

/// A Python virtual environment with `requirements` (pip specifiers, pinned:
/// `openai==2.8.1`) installed; returns its `bin/python`.
pub fn python_env(requirements: &[&str]) -> PathBuf {
    let dir = cache_dir().join(format!("py-{}", key(requirements)));
    let dir = provision(&dir, requirements, |dir| {
        let python = ["python3", "python"]
            .into_iter()
            .find(|p| runs(p, &["--version"]))
            .ok_or("python3 is missing: install Debian's python3 and python3-venv packages")?;
        let venv = dir.join("venv");
        let mut make = Command::new(python);
        make.args(["-m", "venv"]).arg(&venv);
        run(make).map_err(|e| format!("{e} (Debian: install python3-venv)"))?;
        let mut pip = Command::new(venv.join("bin/python"));
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(requirements);
        run(pip)
    });
    dir.join("venv/bin/python")
}

/// The directory holding PostgreSQL's server binaries (`initdb`, `pg_ctl`, `postgres`),
/// the newest installed; installs Debian's `postgresql` package when none is and we are
/// root.
pub fn postgres_bin_dir() -> PathBuf {
    if let Some(dir) = find_postgres() {
        return dir;
    }
    let _lock = lock(&cache_dir().join("postgres.lock"));
    if let Some(dir) = find_postgres() {
        return dir;
    }
    apt_install(&["postgresql"]);
    find_postgres().unwrap_or_else(|| {
        panic!("PostgreSQL's server binaries are missing after installing Debian's postgresql package (no /usr/lib/postgresql/*/bin/initdb)")
    })
}

fn find_postgres() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin)
}

/// Runs `install` into `dir` once: under `dir`'s lock, unless the marker says a previous
/// install of the same `what` completed. A failed install panics with its output.
fn provision(
    dir: &Path,
    what: &[&str],
    install: impl FnOnce(&Path) -> Result<(), String>,
) -> PathBuf {
    let marker = dir.join(".complete");
    let wanted = what.join("\n");
    let done = || std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted);
    if done() {
        return dir.to_path_buf();
    }
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let _lock = lock(&dir.with_extension("lock"));
    if !done() {
        eprintln!(
            "genkit-testkit: installing {} into {}",
            what.join(" "),
            dir.display()
        );
        if let Err(e) = install(dir) {
            panic!("genkit-testkit: installing {} failed: {e}", what.join(" "));
        }
        std::fs::write(&marker, &wanted)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
    }
    dir.to_path_buf()
}

/// An exclusive lock on `path`, held until the file is dropped (across processes).
fn lock(path: &Path) -> File {
    let file = File::create(path)
        .unwrap_or_else(|e| panic!("cannot create the lock {}: {e}", path.display()));
    file.lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", path.display()));
    file
}

/// Installs Debian `packages` with apt-get; panics naming them when that is not possible.
fn apt_install(packages: &[&str]) {
    let names = packages.join(" ");
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !is_root || !runs("apt-get", &["--version"]) {
        panic!(
            "these tests need Debian's {names} (missing here, and installing it needs root and apt-get): apt-get install {names}"
        );
    }
    let _lock = lock(&cache_dir().join("apt.lock"));
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive");
    if let Err(e) = run(update).and_then(|()| run(install)) {
        panic!("apt-get install {names} failed: {e}");
    }
}

/// Runs `cmd` to completion; its output becomes the error when it fails.
fn run(mut cmd: Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{:?} {:?} exited with {}:\n{}{}",
        cmd.get_program(),
        cmd.get_args().collect::<Vec<_>>(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A short stable name for a list of packages (FNV-1a, hex).
fn key(items: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in items.join("\n").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_set_has_its_own_directory() {
        assert_eq!(key(&["a@1", "b@2"]), key(&["a@1", "b@2"]));
        assert_ne!(key(&["a@1", "b@2"]), key(&["a@1", "b@3"]));
        assert_ne!(key(&["a@1", "b@2"]), key(&["a@1\nb@2", ""]));
    }

    #[test]
    fn an_install_runs_once_and_a_failed_one_is_redone() {
        let dir = std::env::temp_dir().join(format!("genkit-testkit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let target = dir.join("x");
        let failed = std::panic::catch_unwind(|| {
            provision(&target, &["x"], |_| Err("no network".into()));
        });
        assert!(failed.is_err());
        let mut calls = 0;
        provision(&target, &["x"], |_| {
            calls += 1;
            Ok(())
        });
        provision(&target, &["x"], |_| {
            calls += 1;
            Ok(())
        });
        assert_eq!(calls, 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
