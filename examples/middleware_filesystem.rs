//! `Filesystem`: `list_files`, `read_file` (and with write access `write_file`,
//! `edit_file`) confined to one directory. Paths that leave it (`..`, absolute paths
//! elsewhere, symlinks out) and oversized files are refused; the model sees the
//! refusal as the tool's output and can correct itself.
//!
//! `cargo run --example middleware_filesystem` (Gemini with `GEMINI_API_KEY`,
//! otherwise a local Gemini-compatible server). It works in a fresh temporary
//! directory.

use genkit::googleai::GoogleAi;
use genkit::middleware::Filesystem;
use genkit::prelude::*;

#[tokio::main]
async fn main() -> Result<()> {
    let (googleai, backend) = GoogleAi::from_env_or_local().await?;
    eprintln!("using {backend}");
    let ai = Genkit::builder()
        .plugin(googleai)
        .model("googleai/gemini-2.0-flash")
        .build()
        .await?;

    let workspace = std::env::temp_dir().join(format!("genkit-fs-example-{}", std::process::id()));
    std::fs::create_dir_all(workspace.join("docs"))?;
    std::fs::write(workspace.join("todo.txt"), "buy milk\nship genkit-rs\n")?;
    let files = Filesystem::new(&workspace)?.allow_write_access(true);

    for prompt in ["Read file: todo.txt", "Read file: ../../etc/passwd"] {
        let response = ai.generate().prompt(prompt).use_(files.clone()).await?;
        println!("{prompt}\n  -> {}", response.text());
    }
    std::fs::remove_dir_all(&workspace)?;
    Ok(())
}
