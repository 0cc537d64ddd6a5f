//! Confinement: every path a model names is resolved inside the root or refused.

use std::path::{Component, Path, PathBuf};

use genkit_core::{Error, Result, Status};

/// A root directory, canonicalized once.
#[derive(Debug, Clone)]
pub(crate) struct Root {
    canonical: PathBuf,
}

fn escapes(requested: &str) -> Error {
    Error::new(
        Status::PermissionDenied,
        format!("path '{requested}' escapes the root directory"),
    )
}

impl Root {
    /// Opens `dir`: it must exist and be a directory.
    pub(crate) fn open(dir: &Path) -> Result<Root> {
        if dir.as_os_str().is_empty() {
            return Err(Error::invalid_argument(
                "filesystem middleware: rootDirectory is required",
            ));
        }
        let canonical = std::fs::canonicalize(dir).map_err(|e| {
            Error::failed_precondition(format!(
                "filesystem middleware: cannot open root directory '{}': {e}",
                dir.display()
            ))
        })?;
        if !canonical.is_dir() {
            return Err(Error::failed_precondition(format!(
                "filesystem middleware: '{}' is not a directory",
                dir.display()
            )));
        }
        Ok(Root { canonical })
    }

    /// The canonical root.
    pub(crate) fn path(&self) -> &Path {
        &self.canonical
    }

    /// Resolves a path the model gave (relative to the root; an absolute path only if
    /// it lies inside the root) to a canonical path inside the root, following
    /// symlinks of every existing component. `..` above the root, absolute paths
    /// elsewhere, symlinks (even dangling ones) that lead out, and NUL bytes are
    /// PERMISSION_DENIED / INVALID_ARGUMENT. The path need not exist (for writes).
    pub(crate) fn resolve(&self, requested: &str) -> Result<PathBuf> {
        let trimmed = requested.trim();
        if trimmed.contains('\0') {
            return Err(Error::invalid_argument("a path must not contain NUL bytes"));
        }
        let given = Path::new(trimmed);
        let joined = if given.has_root() || given.is_absolute() {
            given.to_path_buf()
        } else {
            self.canonical.join(given)
        };
        // Lexical normalisation: `..` may not climb above the filesystem root, and the
        // result must stay inside the root.
        let mut lexical = PathBuf::new();
        for c in joined.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir => {
                    if !lexical.pop() {
                        return Err(escapes(requested));
                    }
                }
                other => lexical.push(other.as_os_str()),
            }
        }
        if !lexical.starts_with(&self.canonical) {
            return Err(escapes(requested));
        }
        // Follow symlinks: canonicalize the deepest existing ancestor, then re-append
        // the parts that do not exist yet (plain names, so they cannot lead out).
        for existing in lexical.ancestors() {
            match std::fs::symlink_metadata(existing) {
                Ok(_) => {
                    let real = std::fs::canonicalize(existing).map_err(|_| {
                        // A dangling symlink: writing through it could create a file
                        // anywhere.
                        Error::new(
                            Status::PermissionDenied,
                            format!("path '{requested}' is a broken symbolic link"),
                        )
                    })?;
                    if !real.starts_with(&self.canonical) {
                        return Err(escapes(requested));
                    }
                    let rest = lexical.strip_prefix(existing).unwrap_or(Path::new(""));
                    return Ok(if rest.as_os_str().is_empty() {
                        real
                    } else {
                        real.join(rest)
                    });
                }
                Err(_) => continue,
            }
        }
        Err(escapes(requested))
    }

    /// `path` relative to `base` with `/` separators (for listings).
    pub(crate) fn display_rel(base: &Path, path: &Path) -> String {
        let rel = path.strip_prefix(base).unwrap_or(path);
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts.join("/")
    }
}
