//! `ToolApproval`: tools outside the allow-list wait for the user. The generation
//! stops with finish reason `interrupted`; the caller approves (the tool runs),
//! denies, or answers in the tool's place, and the same generation continues.
//!
//! `cargo run --example middleware_tool_approval` (Gemini with `GEMINI_API_KEY`,
//! otherwise a local Gemini-compatible server).

use genkit::googleai::GoogleAi;
use genkit::middleware::ToolApproval;
use genkit::prelude::*;

#[derive(Deserialize, Serialize, JsonSchema)]
struct FileInput {
    /// The file.
    path: String,
}

/// Delete a file from the workspace.
#[genkit::tool]
async fn delete_file(input: FileInput) -> Result<String> {
    Ok(format!("deleted {}", input.path))
}

/// Look up the size of a file.
#[genkit::tool]
async fn file_size(input: FileInput) -> Result<String> {
    Ok(format!("{} is 42 bytes", input.path))
}

#[tokio::main]
async fn main() -> Result<()> {
    let (googleai, backend) = GoogleAi::from_env_or_local().await?;
    eprintln!("using {backend}");
    let ai = Genkit::builder()
        .plugin(googleai)
        .model("googleai/gemini-2.0-flash")
        .build()
        .await?;
    // Reading sizes is harmless; deleting needs approval.
    let approval = || ToolApproval::allowed_tools(["file_size"]);

    for decision in ["approve", "deny", "replace"] {
        let response = ai
            .generate()
            .prompt("Delete file: notes.txt")
            .tools((delete_file, file_size))
            .use_(approval())
            .await?;
        let Some(pending) = response.interrupts().first().map(|p| (*p).clone()) else {
            println!("no approval needed: {}", response.text());
            continue;
        };
        let request = pending.tool_request.as_ref();
        eprintln!(
            "the model wants to run {} with {}: {decision}",
            request.map(|r| r.name.as_str()).unwrap_or_default(),
            request
                .and_then(|r| r.input.as_ref())
                .map(Value::to_string)
                .unwrap_or_default(),
        );
        let resumed = ai
            .generate()
            .messages(response.messages())
            .tools((delete_file, file_size))
            .use_(approval());
        let resumed = match decision {
            "approve" => resumed.restart(&pending, json!({"toolApproved": true})),
            "deny" => resumed.respond(&pending, ToolApproval::denied("The user said no.")),
            _ => resumed.respond(&pending, json!("moved notes.txt to the trash instead")),
        };
        println!("{decision}: {}", resumed.await?.text());
    }
    Ok(())
}
