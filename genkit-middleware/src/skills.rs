//! `Skills`: folders with a `SKILL.md`, listed to the model and loaded on demand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use genkit_core::{
    Error, GenerateRequest, GenerateResponse, Message, Middleware, ModelContext, ModelNext, Part,
    Result, Role, ToolAction, ToolRef,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::config;

/// The metadata key marking the injected listing part.
pub const SKILLS_MARKER: &str = "skills-instructions";

/// Lists skills to the model and gives it a `use_skill` tool, as Genkit's `skills`.
///
/// Each directory of the skill paths (default `["skills"]`) is scanned once, on
/// first use: every non-hidden subfolder with a `SKILL.md` is a skill, named by the
/// `name:` of its YAML front matter (else the folder name) and described by its
/// `description:`. Before each model call a `<skills>…</skills>` text part (metadata
/// `skills-instructions: true`) listing them is added to the first system message (or
/// as a new first system message), replacing an earlier listing; the model calls
/// `use_skill {skillName}` to get a skill's whole `SKILL.md`. With no skills found,
/// nothing is injected and no tool is added.
///
/// ```no_run
/// # async fn demo(ai: genkit_core::Genkit) -> genkit_core::Result<()> {
/// use genkit_middleware::Skills;
/// let r = ai.generate().prompt("Explain monads like I'm five")
///     .use_(Skills::new().skill_paths(["./skills"])).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Skills {
    paths: Vec<PathBuf>,
    scanned: Arc<OnceLock<Scan>>,
}

struct Scan {
    skills: Arc<BTreeMap<String, Skill>>,
    listing: String,
    tool: Option<ToolRef>,
}

#[derive(Debug, Clone)]
struct Skill {
    file: PathBuf,
    description: String,
}

/// The JSON config of the registered `skills` middleware.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SkillsConfig {
    /// Directories holding skill folders (default `["skills"]`).
    #[serde(alias = "skill_paths")]
    pub skill_paths: Option<Vec<String>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UseSkillInput {
    /// The name of the skill to use.
    skill_name: String,
}

impl std::fmt::Debug for Skills {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Skills")
            .field("paths", &self.paths)
            .finish()
    }
}

impl Default for Skills {
    fn default() -> Self {
        Skills {
            paths: vec![PathBuf::from("skills")],
            scanned: Arc::default(),
        }
    }
}

impl Skills {
    /// Skills from `./skills`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The directories to scan (replaces the default).
    pub fn skill_paths<P: Into<PathBuf>>(mut self, paths: impl IntoIterator<Item = P>) -> Self {
        self.paths = paths.into_iter().map(Into::into).collect();
        self.scanned = Arc::default();
        self
    }

    /// From the JSON config of the registered `skills` middleware.
    pub fn from_config(config: Option<Value>) -> Result<Self> {
        let c: SkillsConfig = config::parse("skills", config)?;
        Ok(match c.skill_paths {
            Some(p) => Skills::new().skill_paths(p),
            None => Skills::new(),
        })
    }

    /// The skills found, by name.
    pub fn names(&self) -> Vec<String> {
        self.scan().skills.keys().cloned().collect()
    }

    fn scan(&self) -> &Scan {
        self.scanned.get_or_init(|| {
            let skills = Arc::new(scan(&self.paths));
            let listing = listing(&skills);
            let tool = (!skills.is_empty()).then(|| use_skill_tool(skills.clone()));
            Scan {
                skills,
                listing,
                tool,
            }
        })
    }
}

/// Front matter `name:` / `description:` (single-line values, quotes stripped).
fn front_matter(text: &str) -> (Option<String>, Option<String>) {
    let text = text.trim_start_matches('\u{feff}');
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, None);
    };
    let end = rest.find("\n---").unwrap_or(0);
    let (mut name, mut description) = (None, None);
    for line in rest[..end].lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim().trim_matches('"').trim_matches('\'').trim();
        if v.is_empty() {
            continue;
        }
        match k.trim() {
            "name" => name = Some(v.to_string()),
            "description" => description = Some(v.to_string()),
            _ => {}
        }
    }
    (name, description)
}

fn scan(paths: &[PathBuf]) -> BTreeMap<String, Skill> {
    let mut out = BTreeMap::new();
    for dir in paths {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let folder = entry.file_name().to_string_lossy().into_owned();
            if folder.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            let file = entry.path().join("SKILL.md");
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let (name, description) = front_matter(&text);
            out.entry(name.unwrap_or(folder)).or_insert(Skill {
                file,
                description: description.unwrap_or_default(),
            });
        }
    }
    out
}

fn listing(skills: &BTreeMap<String, Skill>) -> String {
    let mut s = String::from(
        "<skills>\nYou have access to a library of skills that serve as specialized instructions/personas.\nStrongly prefer to use them when working on anything related to them.\nOnly use them once to load the context.\nHere are the available skills:\n",
    );
    for (name, skill) in skills {
        if skill.description.is_empty() {
            s.push_str(&format!(" - {name}\n"));
        } else {
            s.push_str(&format!(" - {name} - {}\n", skill.description));
        }
    }
    s.push_str("</skills>");
    s
}

fn use_skill_tool(skills: Arc<BTreeMap<String, Skill>>) -> ToolRef {
    Arc::new(ToolAction::new(
        "use_skill",
        "Use a skill by its name.",
        move |input: UseSkillInput, _ctx| {
            let file = skills.get(&input.skill_name).map(|s| s.file.clone());
            async move {
                let Some(file) = file else {
                    return Ok::<_, Error>(format!("Unknown skill: {}", input.skill_name));
                };
                tokio::task::spawn_blocking(move || read_skill(&file))
                    .await
                    .map_err(|e| Error::internal(format!("reading a skill did not finish: {e}")))?
            }
        },
    ))
}

fn read_skill(file: &Path) -> Result<String> {
    Ok(std::fs::read_to_string(file)?)
}

/// The request with `text` as the system-message part marked `marker` (replacing an
/// earlier one, else appended to the system message, else in a new first system
/// message): a copy, the history is not changed. `None` when the request already holds
/// exactly that text.
pub(crate) fn with_listing(
    request: &GenerateRequest,
    marker: &str,
    text: &str,
) -> Option<GenerateRequest> {
    let is_listing = |p: &Part| p.metadata_value(marker) == Some(&Value::Bool(true));
    let part = Part::text(text).with_metadata(marker, Value::Bool(true));
    for (i, m) in request.messages.iter().enumerate() {
        if let Some(j) = m.content.iter().position(is_listing) {
            if m.content[j].text.as_deref() == Some(text) {
                return None;
            }
            let mut r = request.clone();
            Arc::make_mut(&mut r.messages[i]).content[j] = part;
            return Some(r);
        }
    }
    let mut r = request.clone();
    match r.messages.iter_mut().find(|m| m.role == Role::System) {
        Some(system) => Arc::make_mut(system).content.push(part),
        None => r
            .messages
            .insert(0, Arc::new(Message::new(Role::System, vec![part]))),
    }
    Some(r)
}

impl Middleware for Skills {
    fn name(&self) -> &str {
        "skills"
    }

    fn tools(&self) -> Vec<ToolRef> {
        self.scan().tool.iter().cloned().collect()
    }

    fn model<'a>(
        &'a self,
        request: Arc<GenerateRequest>,
        cx: ModelContext,
        next: ModelNext<'a>,
    ) -> BoxFuture<'a, Result<GenerateResponse>> {
        let scan = self.scan();
        if scan.skills.is_empty() {
            return next.run(request, cx);
        }
        let request = match with_listing(&request, SKILLS_MARKER, &scan.listing) {
            Some(r) => Arc::new(r),
            None => request,
        };
        next.run(request, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_name_and_description() {
        let (n, d) = front_matter("---\nname: haiku\ndescription: \"Write haiku\"\n---\nbody");
        assert_eq!(n.as_deref(), Some("haiku"));
        assert_eq!(d.as_deref(), Some("Write haiku"));
        assert_eq!(front_matter("no front matter"), (None, None));
    }
}
