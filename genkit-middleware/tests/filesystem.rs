//! `Filesystem`: escapes refused, legal reads and writes done, on real files; and the
//! tools in a generate loop over real HTTP.

mod common;

use common::{TempDir, genkit, server};
use genkit_core::{Middleware, Status, ToolContext, ToolRef};
use genkit_middleware::{FILE_MAX_BYTES, Filesystem};
use serde_json::{Value, json};

/// A root with files, and a secret beside it (outside the root).
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = TempDir::new("fs");
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("docs/deep")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        std::fs::write(root.join("notes.txt"), "one\ntwo\nthree\n").unwrap();
        std::fs::write(root.join("docs/api.md"), "# API\n").unwrap();
        std::fs::write(root.join("docs/deep/x.txt"), "x").unwrap();
        std::fs::write(root.join(".hidden/h.txt"), "h").unwrap();
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside/secret.txt"), "TOP SECRET").unwrap();
        std::fs::write(dir.path().join("root-sibling.txt"), "sibling").unwrap();
        Fixture { dir }
    }

    fn root(&self) -> std::path::PathBuf {
        self.dir.path().join("root")
    }

    fn outside(&self) -> std::path::PathBuf {
        self.dir.path().join("outside")
    }
}

fn tool(fs: &Filesystem, name: &str) -> ToolRef {
    fs.tools()
        .into_iter()
        .find(|t| t.name() == name)
        .unwrap_or_else(|| panic!("no tool {name}"))
}

async fn call(fs: &Filesystem, name: &str, input: Value) -> genkit_core::Result<Value> {
    tool(fs, name).call(input, ToolContext::default()).await
}

fn tool_names(fs: &Filesystem) -> Vec<String> {
    fs.tools().iter().map(|t| t.name().to_string()).collect()
}

#[tokio::test]
async fn read_only_by_default_with_genkits_tool_names() {
    let f = Fixture::new();
    let fs = Filesystem::new(f.root()).unwrap();
    assert_eq!(tool_names(&fs), ["list_files", "read_file"]);
    let rw = fs.clone().allow_write_access(true).tool_name_prefix("ws_");
    assert_eq!(
        tool_names(&rw),
        [
            "ws_list_files",
            "ws_read_file",
            "ws_write_file",
            "ws_edit_file"
        ]
    );
    let schema = tool(&rw, "ws_edit_file")
        .definition()
        .input_schema
        .clone()
        .unwrap();
    assert!(schema["properties"].get("filePath").is_some(), "{schema}");
    assert!(schema["properties"].get("edits").is_some(), "{schema}");
}

#[tokio::test]
async fn legal_reads_and_listings_work() {
    let f = Fixture::new();
    let fs = Filesystem::new(f.root()).unwrap();
    let out = call(&fs, "read_file", json!({"filePath": "notes.txt"}))
        .await
        .unwrap();
    assert_eq!(
        out,
        json!("<read_file path=\"notes.txt\" totalLines=\"3\">\none\ntwo\nthree\n</read_file>")
    );
    let out = call(
        &fs,
        "read_file",
        json!({"filePath": "./docs/../notes.txt", "offset": 2, "limit": 1}),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        json!(
            "<read_file path=\"./docs/../notes.txt\" lines=\"2-2\" totalLines=\"3\">\ntwo\n</read_file>"
        )
    );
    // An absolute path inside the root is fine.
    let abs = std::fs::canonicalize(f.root().join("docs/api.md")).unwrap();
    let out = call(&fs, "read_file", json!({"filePath": abs.to_str().unwrap()}))
        .await
        .unwrap();
    assert!(out.as_str().unwrap().contains("# API"), "{out}");

    let out = call(&fs, "list_files", json!({})).await.unwrap();
    let paths: Vec<&str> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [".hidden", "docs", "notes.txt"]);
    assert_eq!(
        out[2],
        json!({"path": "notes.txt", "isDirectory": false, "sizeBytes": 14})
    );
    let out = call(
        &fs,
        "list_files",
        json!({"dirPath": "docs", "recursive": true}),
    )
    .await
    .unwrap();
    let mut paths: Vec<&str> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, ["api.md", "deep", "deep/x.txt"]);
    // Recursion skips hidden directories.
    let out = call(&fs, "list_files", json!({"recursive": true}))
        .await
        .unwrap();
    assert!(!out.to_string().contains("h.txt"), "{out}");
}

#[tokio::test]
async fn escapes_are_refused() {
    let f = Fixture::new();
    let fs = Filesystem::new(f.root()).unwrap().allow_write_access(true);
    for path in [
        "../outside/secret.txt",
        "docs/../../outside/secret.txt",
        "../root-sibling.txt",
        "../../../../../../../../etc/passwd",
    ] {
        let e = call(&fs, "read_file", json!({"filePath": path}))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Status::PermissionDenied, "{path}: {e}");
        assert!(e.message().contains("escapes the root directory"), "{e}");
    }
    // Absolute paths outside the root.
    let secret = f.outside().join("secret.txt");
    for path in [secret.to_str().unwrap(), "/etc/passwd"] {
        let e = call(&fs, "read_file", json!({"filePath": path}))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Status::PermissionDenied, "{path}: {e}");
    }
    let e = call(&fs, "list_files", json!({"dirPath": ".."}))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::PermissionDenied);

    // Writes outside are refused and create nothing.
    for path in ["../evil.txt", "docs/../../evil.txt"] {
        let e = call(&fs, "write_file", json!({"filePath": path, "content": "x"}))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Status::PermissionDenied, "{path}: {e}");
    }
    let abs = f.dir.path().join("evil.txt");
    let e = call(
        &fs,
        "write_file",
        json!({"filePath": abs.to_str().unwrap(), "content": "x"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.status(), Status::PermissionDenied);
    assert!(!f.dir.path().join("evil.txt").exists());
    let e = call(
        &fs,
        "edit_file",
        json!({"filePath": "../outside/secret.txt", "edits": [{"oldString": "TOP", "newString": "NO"}]}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.status(), Status::PermissionDenied);
    assert_eq!(
        std::fs::read_to_string(f.outside().join("secret.txt")).unwrap(),
        "TOP SECRET"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_out_of_the_root_are_refused() {
    use std::os::unix::fs::symlink;
    let f = Fixture::new();
    let root = f.root();
    symlink(f.outside().join("secret.txt"), root.join("link.txt")).unwrap();
    symlink(f.outside(), root.join("outdir")).unwrap();
    symlink(f.outside().join("missing.txt"), root.join("dangling.txt")).unwrap();
    symlink(root.join("notes.txt"), root.join("inside-link.txt")).unwrap();
    let fs = Filesystem::new(&root).unwrap().allow_write_access(true);

    for path in ["link.txt", "outdir/secret.txt"] {
        let e = call(&fs, "read_file", json!({"filePath": path}))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Status::PermissionDenied, "{path}: {e}");
    }
    let e = call(&fs, "list_files", json!({"dirPath": "outdir"}))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::PermissionDenied);
    // Writing through a symlinked directory or a dangling link is refused too.
    let e = call(
        &fs,
        "write_file",
        json!({"filePath": "outdir/new.txt", "content": "x"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.status(), Status::PermissionDenied, "{e}");
    assert!(!f.outside().join("new.txt").exists());
    let e = call(
        &fs,
        "write_file",
        json!({"filePath": "dangling.txt", "content": "x"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.status(), Status::PermissionDenied, "{e}");
    assert!(!f.outside().join("missing.txt").exists());
    let e = call(
        &fs,
        "write_file",
        json!({"filePath": "link.txt", "content": "pwned"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.status(), Status::PermissionDenied);
    assert_eq!(
        std::fs::read_to_string(f.outside().join("secret.txt")).unwrap(),
        "TOP SECRET"
    );

    // Links that stay inside work; links out are not listed.
    let out = call(&fs, "read_file", json!({"filePath": "inside-link.txt"}))
        .await
        .unwrap();
    assert!(out.as_str().unwrap().contains("three"));
    let out = call(&fs, "list_files", json!({"recursive": true}))
        .await
        .unwrap();
    let listed: Vec<&str> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(listed.contains(&"inside-link.txt"), "{listed:?}");
    for gone in ["link.txt", "outdir", "dangling.txt", "outdir/secret.txt"] {
        assert!(!listed.contains(&gone), "{gone} listed: {listed:?}");
    }
}

#[tokio::test]
async fn huge_files_are_refused_and_large_ones_need_a_slice() {
    let f = Fixture::new();
    let root = f.root();
    let huge = std::fs::File::create(root.join("huge.log")).unwrap();
    huge.set_len(FILE_MAX_BYTES + 1).unwrap(); // sparse: no real 10 MiB written
    drop(huge);
    let line = "x".repeat(99) + "\n";
    std::fs::write(root.join("large.txt"), line.repeat(3000)).unwrap(); // 300 kB
    let fs = Filesystem::new(&root).unwrap().allow_write_access(true);

    let e = call(&fs, "read_file", json!({"filePath": "huge.log"}))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Status::FailedPrecondition);
    assert!(e.message().contains("too large"), "{e}");
    let e = call(
        &fs,
        "read_file",
        json!({"filePath": "huge.log", "offset": 1, "limit": 1}),
    )
    .await
    .unwrap_err();
    assert!(e.message().contains("too large"), "{e}");
    let e = call(
        &fs,
        "edit_file",
        json!({"filePath": "huge.log", "edits": [{"oldString": "a", "newString": "b"}]}),
    )
    .await
    .unwrap_err();
    assert!(e.message().contains("too large"), "{e}");

    let e = call(&fs, "read_file", json!({"filePath": "large.txt"}))
        .await
        .unwrap_err();
    assert!(e.message().contains("offset/limit"), "{e}");
    let out = call(
        &fs,
        "read_file",
        json!({"filePath": "large.txt", "offset": 10, "limit": 2}),
    )
    .await
    .unwrap();
    assert!(
        out.as_str()
            .unwrap()
            .contains("lines=\"10-11\" totalLines=\"3000\""),
        "{out}"
    );

    let big = "y".repeat(usize::try_from(FILE_MAX_BYTES).unwrap() + 1);
    let e = call(
        &fs,
        "write_file",
        json!({"filePath": "big.txt", "content": big}),
    )
    .await
    .unwrap_err();
    assert!(e.message().contains("too large"), "{e}");
    assert!(!root.join("big.txt").exists());
}

#[tokio::test]
async fn legal_writes_and_edits_work() {
    let f = Fixture::new();
    let root = f.root();
    let fs = Filesystem::new(&root).unwrap().allow_write_access(true);
    let out = call(
        &fs,
        "write_file",
        json!({"filePath": "new/dir/a.txt", "content": "alpha beta beta\n"}),
    )
    .await
    .unwrap();
    assert_eq!(out, json!("File new/dir/a.txt written successfully."));
    assert_eq!(
        std::fs::read_to_string(root.join("new/dir/a.txt")).unwrap(),
        "alpha beta beta\n"
    );

    let e = call(&fs, "edit_file", json!({"filePath": "new/dir/a.txt", "edits": [{"oldString": "beta", "newString": "gamma"}]}))
        .await
        .unwrap_err();
    assert!(e.message().contains("matches 2 locations"), "{e}");
    let out = call(
        &fs,
        "edit_file",
        json!({"filePath": "new/dir/a.txt", "edits": [
            {"oldString": "alpha", "newString": "ALPHA"},
            {"oldString": "beta", "newString": "B", "replaceAll": true}
        ]}),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        json!("Successfully applied 2 edit(s) to new/dir/a.txt.")
    );
    assert_eq!(
        std::fs::read_to_string(root.join("new/dir/a.txt")).unwrap(),
        "ALPHA B B\n"
    );

    // Read-only instances have no write tools at all.
    let ro = Filesystem::new(&root).unwrap();
    assert!(!tool_names(&ro).iter().any(|n| n == "write_file"));
}

#[tokio::test]
async fn configs_are_checked() {
    let e = Filesystem::from_config(Some(json!({}))).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    let e = Filesystem::from_config(Some(json!({"rootDirectory": "/no/such/dir/anywhere"})))
        .unwrap_err();
    assert_eq!(e.status(), Status::FailedPrecondition);
    let f = Fixture::new();
    let fs = Filesystem::from_config(Some(
        json!({"rootDirectory": f.root().to_str().unwrap(), "allowWriteAccess": true, "toolNamePrefix": "p_"}),
    ))
    .unwrap();
    assert_eq!(
        tool_names(&fs),
        ["p_list_files", "p_read_file", "p_write_file", "p_edit_file"]
    );
}

#[tokio::test]
async fn in_a_generate_loop_the_model_reads_files_and_sees_refusals() {
    let f = Fixture::new();
    let srv = server().await;
    let ai = genkit(&srv).await;
    let fs = Filesystem::new(f.root()).unwrap();

    let r = ai
        .generate()
        .prompt("Read file: notes.txt")
        .use_(fs.clone())
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        "Based on read_file: <read_file path=\"notes.txt\" totalLines=\"3\">\none\ntwo\nthree\n</read_file>"
    );

    // A refused path does not fail the generation: the model sees the error.
    let r = ai
        .generate()
        .prompt("Read file: ../outside/secret.txt")
        .use_(fs.clone())
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        "Based on read_file: Tool 'read_file' failed: path '../outside/secret.txt' escapes the root directory"
    );
    assert!(!r.text().contains("TOP SECRET"));

    // By name, as the Dev UI names it.
    let out = ai
        .run_action(
            "/util/generate",
            json!({
                "messages": [{"role": "user", "content": [{"text": "Read file: docs/api.md"}]}],
                "use": [{"name": "filesystem", "config": {"rootDirectory": f.root().to_str().unwrap()}}],
            }),
            genkit_core::RunOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        out["message"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("# API"),
        "{out}"
    );
}
