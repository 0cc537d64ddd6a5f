//! `Skills` over real HTTP: the listing reaches the model as system instructions and
//! `use_skill` returns a skill's SKILL.md.

mod common;

use common::{TempDir, genkit, server};
use genkit_core::Middleware;
use genkit_middleware::Skills;
use serde_json::json;

fn skills_dir() -> TempDir {
    let dir = TempDir::new("skills");
    let write = |folder: &str, text: &str| {
        std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        std::fs::write(dir.path().join(folder).join("SKILL.md"), text).unwrap();
    };
    write(
        "haiku",
        "---\nname: haiku\ndescription: Answer in a haiku.\n---\nWrite 5-7-5.\n",
    );
    write(
        "pirate-folder",
        "---\nname: pirate\n---\nSpeak like a pirate.\n",
    );
    write(".hidden", "---\nname: hidden\n---\nnope\n");
    std::fs::create_dir_all(dir.path().join("no-skill-md")).unwrap();
    dir
}

#[tokio::test]
async fn skills_are_listed_to_the_model_and_loaded_on_demand() {
    let dir = skills_dir();
    let skills = Skills::new().skill_paths([dir.path()]);
    assert_eq!(skills.names(), ["haiku", "pirate"]);
    assert_eq!(skills.tools().len(), 1);

    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .system("Be brief.")
        .prompt("Use skill: haiku")
        .use_(skills)
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        "Based on use_skill: ---\nname: haiku\ndescription: Answer in a haiku.\n---\nWrite 5-7-5.\n"
    );
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2);
    for req in &reqs {
        let system = &req.body["systemInstruction"]["parts"];
        assert_eq!(system[0]["text"], json!("Be brief."));
        let listing = system[1]["text"].as_str().unwrap();
        assert!(listing.starts_with("<skills>"), "{listing}");
        assert!(
            listing.contains(" - haiku - Answer in a haiku.\n"),
            "{listing}"
        );
        assert!(listing.contains(" - pirate\n"), "{listing}");
        assert!(!listing.contains("hidden"), "{listing}");
        // Injected once per call, never accumulated in the history.
        assert_eq!(system.as_array().unwrap().len(), 2);
    }
    // The history the caller gets back has no listing.
    assert!(!r.messages().iter().any(|m| m.text().contains("<skills>")));
}

#[tokio::test]
async fn unknown_skills_and_empty_libraries() {
    let dir = skills_dir();
    let srv = server().await;
    let ai = genkit(&srv).await;
    let r = ai
        .generate()
        .prompt("Use skill: limerick")
        .use_(Skills::new().skill_paths([dir.path()]))
        .await
        .unwrap();
    assert_eq!(r.text(), "Based on use_skill: Unknown skill: limerick");

    // No skills: no tool, no listing (a new system message is never added).
    let empty = TempDir::new("no-skills");
    let none = Skills::new().skill_paths([empty.path()]);
    assert!(none.tools().is_empty());
    ai.generate().prompt("hi").use_(none).await.unwrap();
    let last = srv.requests().pop().unwrap();
    assert!(
        last.body.get("systemInstruction").is_none(),
        "{}",
        last.body
    );

    // By name with its JSON config.
    let out = ai
        .run_action(
            "/util/generate",
            json!({
                "messages": [{"role": "user", "content": [{"text": "Use skill: pirate"}]}],
                "use": [{"name": "skills", "config": {"skillPaths": [dir.path().to_str().unwrap()]}}],
            }),
            genkit_core::RunOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        out["message"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Speak like a pirate."),
        "{out}"
    );
}
