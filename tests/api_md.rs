//! `API.md` lists every public item of the `genkit` facade and the crates it re-exports,
//! with their members, within the budget of one context window (≤ 120,000 bytes ≈ 30K
//! tokens).
//!
//! The public items are found by walking the sources with `syn`: from `src/lib.rs`,
//! every `pub` item and `pub use` (globs, renames, re-exported crates) is followed into
//! the workspace crates the facade depends on (read from `Cargo.toml`, so a new
//! `genkit-*` dependency re-exported by the facade is covered with no change here).
//! `#[doc(hidden)]`, `#[cfg(test)]` and `__private` items are skipped.
//!
//! Each item must have a line in `API.md` that starts with ``- `path` `` (the path
//! without `genkit::`), naming each of its public members (fields, variants, inherent
//! methods, trait methods) as a word. On failure the test prints, for each missing item,
//! a suggested line to paste and edit; lines for items that no longer exist fail too.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::{Attribute, Item, UseTree, Visibility};

const BUDGET_BYTES: usize = 120_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------------
// The crates: the facade and the `genkit-*` workspace crates it depends on.

/// `{rust_name: src dir}` of the facade's workspace dependencies named `genkit-*`.
fn facade_crates() -> BTreeMap<String, PathBuf> {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let manifest: toml::Table = text.parse().expect("Cargo.toml parses");
    let ws_deps = manifest
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.as_table())
        .cloned()
        .unwrap_or_default();
    let deps = manifest
        .get("dependencies")
        .and_then(|d| d.as_table())
        .expect("[dependencies]");
    let mut out = BTreeMap::new();
    for (name, spec) in deps {
        if !name.starts_with("genkit-") {
            continue;
        }
        let path = spec
            .get("path")
            .or_else(|| ws_deps.get(name).and_then(|w| w.get("path")))
            .and_then(|p| p.as_str())
            .unwrap_or(name);
        out.insert(name.replace('-', "_"), root().join(path).join("src"));
    }
    out
}

// ---------------------------------------------------------------------------------
// Parsed modules.

type ModId = usize;
type ItemId = usize;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Def {
    Module(ModId),
    Item(ItemId),
    /// A path outside the walked crates (`serde::Serialize`, `axum`).
    External(String),
}

struct UseEntry {
    path: Vec<String>,
    /// The bound name; `None` for a glob.
    name: Option<String>,
    public: bool,
}

struct Module {
    parent: Option<ModId>,
    /// `(name, def, public)`.
    items: Vec<(String, Def, bool)>,
    uses: Vec<UseEntry>,
}

struct ItemInfo {
    krate: String,
    kind: &'static str,
    name: String,
    sig: String,
    /// Field, variant and trait-method names.
    members: Vec<String>,
}

#[derive(Default)]
struct World {
    modules: Vec<Module>,
    items: Vec<ItemInfo>,
    crate_roots: HashMap<String, ModId>,
    /// `(crate, type name) -> [(method, signature)]` of inherent `pub fn`s.
    methods: HashMap<(String, String), Vec<(String, String)>>,
}

fn has_attr(attrs: &[Attribute], name: &str, arg: &str) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident(name)
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string().split([',', ' ']).any(|t| t == arg))
    })
}

fn skipped(attrs: &[Attribute]) -> bool {
    has_attr(attrs, "doc", "hidden") || has_attr(attrs, "cfg", "test")
}

fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

/// Tokens as compact Rust text (`fn new(name: impl Into<String>) -> Self`).
fn tidy(tokens: impl ToTokens) -> String {
    let mut s = tokens.to_token_stream().to_string();
    for (a, b) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" > ", "> "),
        (" >", ">"),
        (" ( ", "("),
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        (" ,", ","),
        ("& ", "&"),
        (" : ", ": "),
        (" ;", ";"),
        (" [", "["),
        ("[ ", "["),
        (" ]", "]"),
        ("' ", "'"),
        (" !", "!"),
        (" ?", "?"),
    ] {
        while s.contains(a) {
            s = s.replace(a, b);
        }
    }
    s.replace("->", " -> ")
        .replace("  ", " ")
        .replace(">=", " >= ")
}

fn fn_sig(sig: &syn::Signature) -> String {
    let mut sig = sig.clone();
    for input in sig.inputs.iter_mut() {
        if let syn::FnArg::Typed(t) = input {
            t.attrs.clear();
        }
    }
    tidy(sig)
}

impl World {
    fn load_crate(&mut self, krate: &str, src: &Path) {
        let id = self.load_file(krate, &src.join("lib.rs"), src, None);
        self.crate_roots.insert(krate.to_string(), id);
    }

    fn load_file(&mut self, krate: &str, file: &Path, dir: &Path, parent: Option<ModId>) -> ModId {
        let text =
            std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        self.load_items(krate, &parsed.items, dir, parent)
    }

    fn load_items(
        &mut self,
        krate: &str,
        items: &[Item],
        dir: &Path,
        parent: Option<ModId>,
    ) -> ModId {
        let id = self.modules.len();
        self.modules.push(Module {
            parent,
            items: Vec::new(),
            uses: Vec::new(),
        });
        for item in items {
            self.load_item(krate, id, item, dir);
        }
        id
    }

    fn add_item(&mut self, m: ModId, public: bool, info: ItemInfo) {
        let id = self.items.len();
        let name = info.name.clone();
        self.items.push(info);
        self.modules[m].items.push((name, Def::Item(id), public));
    }

    fn load_item(&mut self, krate: &str, m: ModId, item: &Item, dir: &Path) {
        let info = |kind: &'static str, name: String, sig: String, members: Vec<String>| ItemInfo {
            krate: krate.into(),
            kind,
            name,
            sig,
            members,
        };
        match item {
            Item::Mod(x) if !skipped(&x.attrs) => {
                let name = x.ident.to_string();
                if name.starts_with("__") {
                    return;
                }
                let child = match &x.content {
                    Some((_, items)) => self.load_items(krate, items, &dir.join(&name), Some(m)),
                    None => {
                        let flat = dir.join(format!("{name}.rs"));
                        let (file, child_dir) = if flat.exists() {
                            (flat, dir.join(&name))
                        } else {
                            (dir.join(&name).join("mod.rs"), dir.join(&name))
                        };
                        self.load_file(krate, &file, &child_dir, Some(m))
                    }
                };
                self.modules[m]
                    .items
                    .push((name, Def::Module(child), is_pub(&x.vis)));
            }
            Item::Use(x) if !skipped(&x.attrs) => {
                let mut out = Vec::new();
                flatten_use(&x.tree, &mut Vec::new(), &mut out);
                for (path, name) in out {
                    self.modules[m].uses.push(UseEntry {
                        path,
                        name,
                        public: is_pub(&x.vis),
                    });
                }
            }
            Item::Fn(x) if !skipped(&x.attrs) => {
                let derive = x
                    .attrs
                    .iter()
                    .find(|a| a.path().is_ident("proc_macro_derive"));
                if let Some(d) = derive {
                    let list = d.meta.require_list().expect("derive name");
                    let name = list.tokens.to_string();
                    let name = name
                        .split([',', ' '])
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let sig = format!("#[derive({name})]");
                    self.add_item(m, true, info("derive", name, sig, vec![]));
                } else if x
                    .attrs
                    .iter()
                    .any(|a| a.path().is_ident("proc_macro_attribute"))
                {
                    let name = x.sig.ident.to_string();
                    let sig = format!("#[{name}]");
                    self.add_item(m, true, info("attribute", name, sig, vec![]));
                } else {
                    let sig = fn_sig(&x.sig);
                    self.add_item(
                        m,
                        is_pub(&x.vis),
                        info("fn", x.sig.ident.to_string(), sig, vec![]),
                    );
                }
            }
            Item::Struct(x) if !skipped(&x.attrs) => {
                let fields: Vec<&syn::Field> = x.fields.iter().filter(|f| is_pub(&f.vis)).collect();
                let members = fields
                    .iter()
                    .filter_map(|f| f.ident.as_ref())
                    .map(|i| i.to_string())
                    .collect();
                let shape = match &x.fields {
                    syn::Fields::Named(_) => format!(
                        " {{ {} }}",
                        fields
                            .iter()
                            .map(|f| format!(
                                "{}: {}",
                                f.ident.as_ref().map(|i| i.to_string()).unwrap_or_default(),
                                tidy(&f.ty)
                            ))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    syn::Fields::Unnamed(u) => format!(
                        "({})",
                        u.unnamed
                            .iter()
                            .map(|f| if is_pub(&f.vis) {
                                tidy(&f.ty)
                            } else {
                                "_".into()
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    syn::Fields::Unit => String::new(),
                };
                let sig = format!("struct {}{}{}", x.ident, tidy(&x.generics), shape);
                self.add_item(
                    m,
                    is_pub(&x.vis),
                    info("struct", x.ident.to_string(), sig, members),
                );
            }
            Item::Enum(x) if !skipped(&x.attrs) => {
                let variants: Vec<String> = x
                    .variants
                    .iter()
                    .filter(|v| !skipped(&v.attrs))
                    .map(|v| v.ident.to_string())
                    .collect();
                let sig = format!(
                    "enum {}{} {{ {} }}",
                    x.ident,
                    tidy(&x.generics),
                    variants.join(" | ")
                );
                self.add_item(
                    m,
                    is_pub(&x.vis),
                    info("enum", x.ident.to_string(), sig, variants),
                );
            }
            Item::Trait(x) if !skipped(&x.attrs) => {
                let mut members = Vec::new();
                let mut sigs = Vec::new();
                for ti in &x.items {
                    if let syn::TraitItem::Fn(f) = ti {
                        if skipped(&f.attrs) || f.sig.ident.to_string().starts_with('_') {
                            continue;
                        }
                        members.push(f.sig.ident.to_string());
                        sigs.push(fn_sig(&f.sig));
                    } else if let syn::TraitItem::Type(t) = ti {
                        members.push(t.ident.to_string());
                        sigs.push(format!("type {}", t.ident));
                    }
                }
                let sig = format!(
                    "trait {}{} {{ {} }}",
                    x.ident,
                    tidy(&x.generics),
                    sigs.join("; ")
                );
                self.add_item(
                    m,
                    is_pub(&x.vis),
                    info("trait", x.ident.to_string(), sig, members),
                );
            }
            Item::Type(x) if !skipped(&x.attrs) => {
                let sig = format!("type {}{} = {}", x.ident, tidy(&x.generics), tidy(&x.ty));
                self.add_item(
                    m,
                    is_pub(&x.vis),
                    info("type", x.ident.to_string(), sig, vec![]),
                );
            }
            Item::Const(x) if !skipped(&x.attrs) => {
                let sig = format!("const {}: {}", x.ident, tidy(&x.ty));
                self.add_item(
                    m,
                    is_pub(&x.vis),
                    info("const", x.ident.to_string(), sig, vec![]),
                );
            }
            Item::Static(x) if !skipped(&x.attrs) => {
                let sig = format!("static {}: {}", x.ident, tidy(&x.ty));
                self.add_item(
                    m,
                    is_pub(&x.vis),
                    info("static", x.ident.to_string(), sig, vec![]),
                );
            }
            Item::Macro(x)
                if !skipped(&x.attrs)
                    && x.attrs.iter().any(|a| a.path().is_ident("macro_export")) =>
            {
                if let Some(name) = &x.ident {
                    let root = self.crate_root_of(m);
                    let id = self.items.len();
                    self.items.push(info(
                        "macro",
                        name.to_string(),
                        format!("{name}!(..)"),
                        vec![],
                    ));
                    self.modules[root]
                        .items
                        .push((name.to_string(), Def::Item(id), true));
                }
            }
            Item::Impl(x) if x.trait_.is_none() && !skipped(&x.attrs) => {
                let syn::Type::Path(tp) = &*x.self_ty else {
                    return;
                };
                let Some(last) = tp.path.segments.last() else {
                    return;
                };
                let entry = self
                    .methods
                    .entry((krate.to_string(), last.ident.to_string()))
                    .or_default();
                for ii in &x.items {
                    if let syn::ImplItem::Fn(f) = ii
                        && is_pub(&f.vis)
                        && !skipped(&f.attrs)
                    {
                        entry.push((f.sig.ident.to_string(), fn_sig(&f.sig)));
                    }
                }
            }
            _ => {}
        }
    }

    fn crate_root_of(&self, mut m: ModId) -> ModId {
        while let Some(p) = self.modules[m].parent {
            m = p;
        }
        m
    }

    /// What `path` (a `use` path written in module `m`) names.
    fn resolve(&self, m: ModId, path: &[String], depth: usize) -> Vec<Def> {
        if depth > 32 || path.is_empty() {
            return vec![];
        }
        let (first, rest) = (&path[0], &path[1..]);
        let start: Vec<Def> = match first.as_str() {
            "crate" => vec![Def::Module(self.crate_root_of(m))],
            "self" => vec![Def::Module(m)],
            "super" => self.modules[m]
                .parent
                .map(Def::Module)
                .into_iter()
                .collect(),
            name => {
                // A local module first (a `use` path's first segment names a module or
                // a crate), then what the module imports, then a crate.
                let module: Vec<Def> = self.modules[m]
                    .items
                    .iter()
                    .filter(|(n, d, _)| n == name && matches!(d, Def::Module(_)))
                    .map(|(_, d, _)| d.clone())
                    .collect();
                if !rest.is_empty() && !module.is_empty() {
                    module
                } else if let Some(&r) = self.crate_roots.get(name).filter(|_| !rest.is_empty()) {
                    vec![Def::Module(r)]
                } else {
                    let local = self.lookup(m, name, depth + 1, false);
                    if !local.is_empty() {
                        local
                    } else if let Some(&r) = self.crate_roots.get(name) {
                        vec![Def::Module(r)]
                    } else {
                        vec![Def::External(name.to_string())]
                    }
                }
            }
        };
        let mut current = start;
        if !rest.is_empty() {
            current.retain(|d| !matches!(d, Def::Item(_)));
        }
        for (i, seg) in rest.iter().enumerate() {
            let mut next = Vec::new();
            for d in &current {
                match d {
                    Def::Module(id) => next.extend(self.lookup(*id, seg, depth + 1, true)),
                    Def::External(p) => next.push(Def::External(format!("{p}::{seg}"))),
                    Def::Item(_) => {}
                }
            }
            if i + 1 < rest.len() {
                next.retain(|d| !matches!(d, Def::Item(_)));
            }
            current = next;
        }
        current
    }

    /// The definitions `name` has in module `m` (only public ones when `from_outside`).
    fn lookup(&self, m: ModId, name: &str, depth: usize, from_outside: bool) -> Vec<Def> {
        if depth > 32 {
            return vec![];
        }
        let module = &self.modules[m];
        let mut out: Vec<Def> = module
            .items
            .iter()
            .filter(|(n, _, public)| n == name && (*public || !from_outside))
            .map(|(_, d, _)| d.clone())
            .collect();
        for u in &module.uses {
            if u.name.as_deref() == Some(name) && (u.public || !from_outside) {
                out.extend(self.resolve(m, &u.path, depth + 1));
            }
        }
        if out.is_empty() {
            for u in module
                .uses
                .iter()
                .filter(|u| u.name.is_none() && (u.public || !from_outside))
            {
                for target in self.resolve(m, &u.path, depth + 1) {
                    if let Def::Module(t) = target {
                        out.extend(self.lookup(t, name, depth + 1, true));
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The public names of module `m`.
    fn exports(&self, m: ModId) -> Vec<(String, Def)> {
        let module = &self.modules[m];
        let mut out: Vec<(String, Def)> = Vec::new();
        for (n, d, public) in &module.items {
            if *public {
                out.push((n.clone(), d.clone()));
            }
        }
        for u in module.uses.iter().filter(|u| u.public) {
            match &u.name {
                Some(name) => {
                    for d in self.resolve(m, &u.path, 0) {
                        out.push((name.clone(), d));
                    }
                }
                None => {
                    for target in self.resolve(m, &u.path, 0) {
                        if let Def::Module(t) = target
                            && t != m
                        {
                            // Names bound explicitly shadow the glob's.
                            for (n, d) in self.exports(t) {
                                let explicit = module.items.iter().any(|(o, _, p)| *p && *o == n)
                                    || module
                                        .uses
                                        .iter()
                                        .any(|u| u.public && u.name.as_deref() == Some(n.as_str()));
                                if !explicit {
                                    out.push((n, d));
                                }
                            }
                        }
                    }
                }
            }
        }
        out.retain(|(n, _)| !n.starts_with("__") && n != "_");
        out.sort();
        out.dedup();
        out
    }
}

fn flatten_use(
    tree: &UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                out.push((prefix.clone(), prefix.last().cloned()));
            } else {
                let mut path = prefix.clone();
                path.push(name.clone());
                out.push((path, Some(name)));
            }
        }
        UseTree::Rename(r) => {
            let mut path = prefix.clone();
            let name = r.ident.to_string();
            if name != "self" {
                path.push(name);
            }
            out.push((path, Some(r.rename.to_string())));
        }
        UseTree::Glob(_) => out.push((prefix.clone(), None)),
        UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix, out);
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// The public API: every item at its shortest path.

struct ApiItem {
    /// The path without `genkit::`.
    path: String,
    kind: String,
    sig: String,
    members: Vec<String>,
    member_sigs: Vec<String>,
}

impl ApiItem {
    /// A line for `API.md`: path, kind, signature or shape, methods.
    fn suggested_line(&self) -> String {
        let mut line = format!("- `{}` {} — {}", self.path, self.kind, self.sig);
        if !self.member_sigs.is_empty() {
            line.push_str("; ");
            line.push_str(&self.member_sigs.join(", "));
        }
        line
    }
}

fn public_api() -> Vec<ApiItem> {
    let mut world = World::default();
    let crates = facade_crates();
    // Roots first, so `genkit_core::…` paths resolve while loading others.
    for (name, src) in &crates {
        world.load_crate(name, src);
    }
    let facade = world.load_file(
        "genkit",
        &root().join("src/lib.rs"),
        &root().join("src"),
        None,
    );
    world.crate_roots.insert("genkit".into(), facade);

    let mut seen_mod: BTreeSet<ModId> = BTreeSet::new();
    let mut seen: BTreeMap<Def, String> = BTreeMap::new();
    let mut queue = VecDeque::from([(facade, String::new())]);
    seen_mod.insert(facade);
    let mut out = Vec::new();
    while let Some((m, prefix)) = queue.pop_front() {
        for (name, def) in world.exports(m) {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}::{name}")
            };
            if let Some(old) = seen.get(&def).cloned() {
                // A type re-exported by another crate (anthropic's `sse` is googleai's)
                // is listed under the crate that defines it.
                if let Def::Item(id) = &def {
                    let krate = &world.items[*id].krate;
                    let home = format!(
                        "{}::",
                        krate
                            .trim_start_matches("genkit-")
                            .trim_start_matches("genkit_")
                    );
                    if path.starts_with(&home) && !old.starts_with(&home) {
                        if let Some(item) = out.iter_mut().find(|i: &&mut ApiItem| i.path == old) {
                            item.path = path.clone();
                        }
                        seen.insert(def.clone(), path);
                    }
                }
                continue;
            }
            seen.insert(def.clone(), path.clone());
            match def {
                Def::Module(id) => {
                    out.push(ApiItem {
                        path: path.clone(),
                        kind: "mod".into(),
                        sig: format!("mod {name}"),
                        members: vec![],
                        member_sigs: vec![],
                    });
                    if seen_mod.insert(id) {
                        queue.push_back((id, path));
                    }
                }
                Def::Item(id) => {
                    let info = &world.items[id];
                    let mut members = info.members.clone();
                    let mut member_sigs = Vec::new();
                    if matches!(info.kind, "struct" | "enum" | "trait") {
                        for (meth, sig) in world
                            .methods
                            .get(&(info.krate.clone(), info.name.clone()))
                            .into_iter()
                            .flatten()
                        {
                            if !members.contains(meth) {
                                members.push(meth.clone());
                            }
                            member_sigs.push(sig.replacen("fn ", ".", 1).replacen("pub ", "", 1));
                        }
                    }
                    out.push(ApiItem {
                        path,
                        kind: info.kind.into(),
                        sig: info.sig.clone(),
                        members,
                        member_sigs,
                    });
                }
                Def::External(p) => out.push(ApiItem {
                    path,
                    kind: "re-export".into(),
                    sig: format!("= {p}"),
                    members: vec![],
                    member_sigs: vec![],
                }),
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// The page.

fn page() -> String {
    std::fs::read_to_string(root().join("API.md")).expect("API.md at the repository root")
}

/// `{path: line}` for each item line (``- `path` …``).
fn item_lines(page: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in page.lines() {
        if let Some(rest) = line.strip_prefix("- `")
            && let Some((path, _)) = rest.split_once('`')
        {
            out.insert(path.to_string(), line.to_string());
        }
    }
    out
}

fn has_word(line: &str, word: &str) -> bool {
    line.match_indices(word).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + word.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        edge(before) && edge(after)
    })
}

#[test]
fn api_md_lists_every_public_item_with_its_members() {
    let api = public_api();
    assert!(
        api.len() > 100,
        "the walk found only {} items: is it broken?",
        api.len()
    );
    for expected in [
        "Genkit",
        "GenerateBuilder",
        "agent::AgentInput",
        "tool",
        "prelude",
        "Interruption",
    ] {
        assert!(
            api.iter().any(|i| i.path == expected),
            "the walk missed `{expected}`"
        );
    }
    let page = page();
    let lines = item_lines(&page);
    let mut missing = Vec::new();
    for item in &api {
        match lines.get(&item.path) {
            None => missing.push(item.suggested_line()),
            Some(line) => {
                let absent: Vec<&String> =
                    item.members.iter().filter(|m| !has_word(line, m)).collect();
                if !absent.is_empty() {
                    missing.push(format!(
                        "- `{}`: its line does not name {}",
                        item.path,
                        absent
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
    }
    let known: BTreeSet<&str> = api.iter().map(|i| i.path.as_str()).collect();
    let stale: Vec<&String> = lines
        .keys()
        .filter(|p| !known.contains(p.as_str()))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "API.md is out of date.\n\n{} item(s) missing or incomplete (suggested lines; put each under its task):\n{}\n\n{} line(s) for items that are not public (any more): {:?}",
        missing.len(),
        missing.join("\n"),
        stale.len(),
        stale
    );
}

#[test]
fn api_md_fits_one_context_window() {
    let page = page();
    assert!(
        page.len() <= BUDGET_BYTES,
        "API.md is {} bytes (≈{} tokens); the budget is {BUDGET_BYTES} bytes (≈30K tokens)",
        page.len(),
        page.len() / 4
    );
    let llms = std::fs::read_to_string(root().join("llms.txt")).expect("llms.txt");
    assert!(llms.contains("API.md"), "llms.txt points to API.md");
}

/// Prints the suggested lines for the whole API (`cargo test --test api_md -- --ignored
/// --nocapture dump`), a start for a new section.
#[test]
#[ignore]
fn dump() {
    for item in public_api() {
        println!("{}", item.suggested_line());
    }
}

/// The README's seed program is exactly `tests/seed_program/src/main.rs` (a crate
/// depending on `genkit` and `tokio` only, built with the workspace), so the program a
/// new user copies from the README keeps compiling.
#[test]
fn readme_seed_program_is_the_seed_crate() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let section = readme
        .split_once("## The seed's program")
        .map(|(_, rest)| rest)
        .expect("a `## The seed's program` section");
    let block = section
        .split("```rust\n")
        .nth(1)
        .and_then(|b| b.split_once("```"))
        .map(|(code, _)| code)
        .expect("a rust block in the seed section");
    let main = std::fs::read_to_string(root().join("tests/seed_program/src/main.rs"))
        .expect("tests/seed_program/src/main.rs");
    assert_eq!(
        block, main,
        "the README's seed program and tests/seed_program/src/main.rs differ: change both"
    );
    let manifest = std::fs::read_to_string(root().join("tests/seed_program/Cargo.toml"))
        .expect("tests/seed_program/Cargo.toml");
    let deps: toml::Table = manifest.parse().expect("Cargo.toml parses");
    let names: Vec<&String> = deps["dependencies"]
        .as_table()
        .expect("[dependencies]")
        .keys()
        .collect();
    assert_eq!(
        names,
        ["genkit", "tokio"],
        "the seed crate depends on genkit and tokio only"
    );
    assert!(
        deps.get("dev-dependencies").is_none(),
        "and nothing else, even for its tests"
    );
}
