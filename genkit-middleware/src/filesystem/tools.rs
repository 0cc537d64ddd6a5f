//! The file tools: `list_files`, `read_file`, `write_file`, `edit_file`, with Genkit's
//! argument names and limits. Each runs its blocking I/O on tokio's blocking pool.

use std::path::Path;
use std::sync::Arc;

use genkit_core::{Error, Result, Status, ToolAction, ToolRef};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::paths::Root;

/// Largest file `read_file` / `edit_file` touch, and largest `write_file` content.
pub const FILE_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Largest text `read_file` returns in one call (a whole file or a slice).
pub const READ_MAX_BYTES: usize = 256 * 1024;
/// Most entries one `list_files` returns.
pub const LIST_MAX_ENTRIES: usize = 10_000;

/// `list_files` input.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListFilesInput {
    /// Directory path relative to root. Defaults to the root directory.
    #[serde(default)]
    dir_path: String,
    /// If true, descend into subdirectories (skipping hidden ones).
    #[serde(default)]
    recursive: bool,
}

/// One `list_files` entry.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileEntry {
    /// Path relative to the listed directory, `/`-separated.
    path: String,
    /// Whether it is a directory.
    is_directory: bool,
    /// Size of a file in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    size_bytes: Option<u64>,
}

/// `read_file` input.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReadFileInput {
    /// File path relative to root.
    file_path: String,
    /// 1-indexed line to start reading from. 0 or 1 means the beginning.
    #[serde(default)]
    offset: usize,
    /// Maximum number of lines to read. 0 means to the end of the file.
    #[serde(default)]
    limit: usize,
}

/// `write_file` input.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WriteFileInput {
    /// File path relative to root.
    file_path: String,
    /// Content to write to the file.
    content: String,
}

/// One edit of `edit_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Edit {
    /// The exact text to find, byte for byte including whitespace.
    old_string: String,
    /// The replacement text; empty deletes `oldString`.
    new_string: String,
    /// Replace every occurrence; otherwise `oldString` must match exactly once.
    #[serde(default)]
    replace_all: bool,
}

/// `edit_file` input.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EditFileInput {
    /// File path relative to root.
    file_path: String,
    /// Edits applied in order, each to the result of the previous one.
    edits: Vec<Edit>,
}

fn fail(status: Status, message: String) -> Error {
    Error::new(status, message)
}

fn require_path(p: &str) -> Result<()> {
    if p.trim().is_empty() {
        return Err(Error::invalid_argument("filePath is required"));
    }
    Ok(())
}

/// Runs blocking file I/O off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("file operation did not finish: {e}")))?
}

fn list_files(root: &Root, input: ListFilesInput) -> Result<Vec<FileEntry>> {
    let dir = root.resolve(&input.dir_path)?;
    if !dir.is_dir() {
        return Err(fail(
            Status::InvalidArgument,
            format!("path '{}' is not a directory", input.dir_path),
        ));
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(current) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&current)?
            .filter_map(|e| e.ok())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path)?;
            // A symlink is listed only when it stays inside the root, and never
            // descended into.
            let (is_dir, size) = if meta.file_type().is_symlink() {
                match std::fs::canonicalize(&path) {
                    Ok(real) if real.starts_with(root.path()) => {
                        let m = std::fs::metadata(&real)?;
                        (m.is_dir(), m.len())
                    }
                    _ => continue,
                }
            } else {
                (meta.is_dir(), meta.len())
            };
            if out.len() >= LIST_MAX_ENTRIES {
                return Err(fail(
                    Status::OutOfRange,
                    format!(
                        "more than {LIST_MAX_ENTRIES} entries; list a subdirectory or without recursive"
                    ),
                ));
            }
            out.push(FileEntry {
                path: Root::display_rel(&dir, &path),
                is_directory: is_dir,
                size_bytes: (!is_dir).then_some(size),
            });
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if input.recursive && is_dir && !hidden && !meta.file_type().is_symlink() {
                stack.push(path);
            }
        }
    }
    Ok(out)
}

fn count_lines(text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    let n = text.matches('\n').count();
    if text.ends_with('\n') { n } else { n + 1 }
}

/// Lines `[offset, offset + limit)` (1-indexed; `limit` 0 = to the end), with their
/// line terminators.
fn slice_lines(text: &str, offset: usize, limit: usize) -> &str {
    let offset = offset.max(1);
    let mut start = 0;
    for _ in 1..offset {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return "",
        }
    }
    if limit == 0 {
        return &text[start..];
    }
    let mut end = start;
    for _ in 0..limit {
        match text[end..].find('\n') {
            Some(i) => end += i + 1,
            None => {
                end = text.len();
                break;
            }
        }
    }
    &text[start..end]
}

fn read_text(path: &Path, shown: &str) -> Result<String> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(fail(
            Status::InvalidArgument,
            format!("path '{shown}' is a directory; use list_files"),
        ));
    }
    if meta.len() > FILE_MAX_BYTES {
        return Err(fail(
            Status::FailedPrecondition,
            format!(
                "file '{shown}' is {} bytes (> {FILE_MAX_BYTES}); too large to read",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(path)?;
    String::from_utf8(bytes).map_err(|_| {
        fail(
            Status::InvalidArgument,
            format!("file '{shown}' is not UTF-8 text"),
        )
    })
}

fn read_file(root: &Root, input: ReadFileInput) -> Result<String> {
    require_path(&input.file_path)?;
    let path = root.resolve(&input.file_path)?;
    let shown = input.file_path.as_str();
    let meta = std::fs::metadata(&path)?;
    let sliced = input.offset > 0 || input.limit > 0;
    if !meta.is_dir()
        && !sliced
        && meta.len() > READ_MAX_BYTES as u64
        && meta.len() <= FILE_MAX_BYTES
    {
        return Err(fail(
            Status::FailedPrecondition,
            format!(
                "file '{shown}' is {} bytes (> {READ_MAX_BYTES}); use offset/limit to read a slice",
                meta.len()
            ),
        ));
    }
    let text = read_text(&path, shown)?;
    let total = count_lines(&text);
    if !sliced {
        return Ok(format!(
            "<read_file path=\"{shown}\" totalLines=\"{total}\">\n{text}</read_file>"
        ));
    }
    let part = slice_lines(&text, input.offset, input.limit);
    if part.len() > READ_MAX_BYTES {
        return Err(fail(
            Status::FailedPrecondition,
            format!(
                "requested slice of '{shown}' is {} bytes (> {READ_MAX_BYTES}); narrow the range",
                part.len()
            ),
        ));
    }
    let start = input.offset.max(1);
    let end = (start + count_lines(part)).saturating_sub(1).max(start);
    Ok(format!(
        "<read_file path=\"{shown}\" lines=\"{start}-{end}\" totalLines=\"{total}\">\n{part}</read_file>"
    ))
}

fn write_file(root: &Root, input: WriteFileInput) -> Result<String> {
    require_path(&input.file_path)?;
    if input.content.len() as u64 > FILE_MAX_BYTES {
        return Err(fail(
            Status::FailedPrecondition,
            format!(
                "content is {} bytes (> {FILE_MAX_BYTES}); too large to write",
                input.content.len()
            ),
        ));
    }
    let path = root.resolve(&input.file_path)?;
    if path.is_dir() {
        return Err(fail(
            Status::InvalidArgument,
            format!("path '{}' is a directory", input.file_path),
        ));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&path, input.content.as_bytes())?;
    Ok(format!("File {} written successfully.", input.file_path))
}

fn apply_edit(content: &str, e: &Edit, shown: &str) -> Result<String> {
    if e.old_string.is_empty() {
        return Err(Error::invalid_argument("oldString is required"));
    }
    if e.old_string == e.new_string {
        return Err(Error::invalid_argument(
            "oldString and newString are identical",
        ));
    }
    let count = content.matches(e.old_string.as_str()).count();
    if count == 0 {
        return Err(Error::invalid_argument(format!(
            "oldString not found in {shown}; the match must be byte-for-byte, including whitespace and indentation"
        )));
    }
    if count > 1 && !e.replace_all {
        return Err(Error::invalid_argument(format!(
            "oldString matches {count} locations in {shown}; add more surrounding context to make it unique, or set replaceAll=true"
        )));
    }
    Ok(if e.replace_all {
        content.replace(&e.old_string, &e.new_string)
    } else {
        content.replacen(&e.old_string, &e.new_string, 1)
    })
}

fn edit_file(root: &Root, input: EditFileInput) -> Result<String> {
    require_path(&input.file_path)?;
    if input.edits.is_empty() {
        return Err(Error::invalid_argument("edits is required"));
    }
    let shown = input.file_path.as_str();
    let path = root.resolve(shown)?;
    let mut content = read_text(&path, shown)?;
    for (i, e) in input.edits.iter().enumerate() {
        content = apply_edit(&content, e, shown)
            .map_err(|err| Error::new(err.status(), format!("edit {i}: {}", err.message())))?;
    }
    std::fs::write(&path, content.as_bytes())?;
    Ok(format!(
        "Successfully applied {} edit(s) to {shown}.",
        input.edits.len()
    ))
}

/// Builds the tools for `root` (write tools only when `writable`).
pub(crate) fn build(root: &Root, writable: bool, prefix: &str) -> Vec<ToolRef> {
    let mut tools: Vec<ToolRef> = Vec::with_capacity(4);
    let r = root.clone();
    tools.push(Arc::new(ToolAction::new(
        format!("{prefix}list_files"),
        "Lists files and directories in a given path. Returns a list of entries with path (relative to the listed directory), type and size.",
        move |input: ListFilesInput, _ctx| {
            let r = r.clone();
            async move { blocking(move || list_files(&r, input)).await }
        },
    )));
    let r = root.clone();
    tools.push(Arc::new(ToolAction::new(
        format!("{prefix}read_file"),
        "Reads a text file. Use offset and limit (1-indexed lines) for large files.",
        move |input: ReadFileInput, _ctx| {
            let r = r.clone();
            async move { blocking(move || read_file(&r, input)).await }
        },
    )));
    if writable {
        let r = root.clone();
        tools.push(Arc::new(ToolAction::new(
            format!("{prefix}write_file"),
            "Writes content to a file, creating it (and any missing parent directories) or overwriting it.",
            move |input: WriteFileInput, _ctx| {
                let r = r.clone();
                async move { blocking(move || write_file(&r, input)).await }
            },
        )));
        let r = root.clone();
        tools.push(Arc::new(ToolAction::new(
            format!("{prefix}edit_file"),
            "Applies one or more edits to a file, in order. Each edit's oldString must match the file byte-for-byte (including whitespace) and, unless replaceAll is set, exactly once.",
            move |input: EditFileInput, _ctx| {
                let r = r.clone();
                async move { blocking(move || edit_file(&r, input)).await }
            },
        )));
    }
    tools
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_lines_like_genkit() {
        let t = "a\nb\nc\n";
        assert_eq!(slice_lines(t, 2, 1), "b\n");
        assert_eq!(slice_lines(t, 0, 2), "a\nb\n");
        assert_eq!(slice_lines(t, 3, 0), "c\n");
        assert_eq!(slice_lines(t, 9, 0), "");
        assert_eq!(count_lines(t), 3);
        assert_eq!(count_lines("a\nb"), 2);
    }

    #[test]
    fn edits_must_be_unique_unless_replace_all() {
        let e = Edit {
            old_string: "x".into(),
            new_string: "y".into(),
            replace_all: false,
        };
        assert!(apply_edit("x x", &e, "f").is_err());
        let all = Edit {
            replace_all: true,
            ..e
        };
        assert_eq!(apply_edit("x x", &all, "f").unwrap(), "y y");
    }
}
