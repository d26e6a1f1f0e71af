//! The app's folders tell its architecture, and this test keeps them honest by reading the
//! source (plain file scanning, so it runs in both builds, with or without the `app`
//! feature). `src/app/` holds only `mod.rs` and folders:
//! - `link/` (engine channels <-> messages) refers to nothing else of the app;
//! - `state/` (the data the views read) refers only to `link/`;
//! - `widgets/` (pure painting helpers) refers to nothing else of the app;
//! - a view (`scene/`, `lego/`, `charts/`, `history/`, `final_net/`, `data_picker/`,
//!   `table/`) refers only to `link/`, `state/`, `widgets/` and itself, never to another
//!   view, the shell or the scripts;
//! - `shell/` (the frame that places the views) and `script/` may refer to anything.
//!
//! A reference is a path through `crate::app::<folder>` (braced groups included) or a
//! `super::` chain that climbs out of the file's folder. Every file opens with a `//!` line
//! saying what it is for and stays under 320 lines.

use std::fs;
use std::path::{Path, PathBuf};

const VIEWS: [&str; 7] = [
    "scene",
    "lego",
    "charts",
    "history",
    "final_net",
    "data_picker",
    "table",
];
const FOLDERS: [&str; 12] = [
    "link",
    "state",
    "widgets",
    "scene",
    "lego",
    "charts",
    "history",
    "final_net",
    "data_picker",
    "table",
    "shell",
    "script",
];
const MAX_LINES: usize = 320;

fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src/app` (`scene/input.rs` -> `[scene, input]`,
/// `scene/mod.rs` -> `[scene]`, `mod.rs` -> `[]`).
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// What a folder may refer to; `None`: anything.
fn allowed(folder: &str) -> Option<Vec<&str>> {
    match folder {
        "link" => Some(vec!["link"]),
        "state" => Some(vec!["link", "state"]),
        "widgets" => Some(vec!["widgets"]),
        v if VIEWS.contains(&v) => Some(vec!["link", "state", "widgets", v]),
        _ => None,
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The first segment(s) named at `text[at..]`, just after a `::`: one identifier, or each
/// item of a braced group (`self` is the module itself: an empty name).
fn names_at(text: &str, at: usize) -> Vec<String> {
    let rest = text[at..].trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let (mut depth, mut end) = (1, group.len());
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = i;
                break;
            }
        }
        let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
        let inner = &group[..end];
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&inner[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&inner[start..]);
        return items
            .into_iter()
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(|i| {
                let name: String = i
                    .chars()
                    .take_while(|c| is_ident(*c) || *c == '*')
                    .collect();
                if name == "self" {
                    String::new()
                } else {
                    name
                }
            })
            .collect();
    }
    vec![rest
        .chars()
        .take_while(|c| is_ident(*c) || *c == '*')
        .collect()]
}

/// Every app folder (or app-root item, as `""` for the root itself) that `text` refers to,
/// with its line, from a file in module `module`.
fn references(text: &str, module: &[String]) -> Vec<(usize, String)> {
    // Comment lines are prose: blank them, keeping the offsets.
    let code: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("//") {
                " ".repeat(l.len())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let starts_path = |at: usize| {
        code[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident(c) && c != ':')
    };
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::app") {
        if !starts_path(at) {
            continue;
        }
        let after = at + "crate::app".len();
        match code[after..].strip_prefix("::") {
            Some(_) => {
                for name in names_at(&code, after + 2) {
                    out.push((line_of(at), name));
                }
            }
            None if code[after..].starts_with(|c: char| is_ident(c)) => {}
            None => out.push((line_of(at), String::new())),
        }
    }
    for (at, _) in code.match_indices("super::") {
        if !starts_path(at) {
            continue;
        }
        let mut climbs = 0;
        let mut next = at;
        while code[next..].starts_with("super::") {
            climbs += 1;
            next += "super::".len();
        }
        if climbs > module.len() {
            // At the crate's root: only `app::<name>` comes back into the app.
            if climbs == module.len() + 1 && code[next..].starts_with("app::") {
                for name in names_at(&code, next + "app::".len()) {
                    out.push((line_of(at), name));
                }
            }
            continue;
        }
        let base = &module[..module.len() - climbs];
        match base.first() {
            Some(folder) => out.push((line_of(at), folder.clone())),
            None => {
                for name in names_at(&code, next) {
                    out.push((line_of(at), name));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn describe(name: &str) -> String {
    match name {
        "" => "the app's root module".into(),
        n if VIEWS.contains(&n) => format!("the {n} view"),
        n if FOLDERS.contains(&n) => format!("{n}/"),
        n => format!("the app root's `{n}`"),
    }
}

/// Every breach of the folder rules in `src/app`, as "file:line: what".
fn breaches(app: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(app, &mut files);
    let mut found = Vec::new();
    for path in files {
        let relative = path.strip_prefix(app).unwrap();
        let module = module_of(relative);
        let Some(folder) = module.first() else {
            continue;
        };
        let Some(ok) = allowed(folder) else { continue };
        let text = fs::read_to_string(&path).unwrap();
        for (line, name) in references(&text, &module) {
            if !ok.contains(&name.as_str()) {
                found.push(format!(
                    "src/app/{}:{line}: {folder}/ refers to {} (it may refer only to {})",
                    relative.display(),
                    describe(&name),
                    ok.join(", ")
                ));
            }
        }
    }
    found
}

#[test]
fn views_do_not_import_each_other_and_state_imports_only_the_link() {
    let found = breaches(&app_dir());
    assert!(
        found.is_empty(),
        "imports across the app's folders:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_app_is_mod_rs_and_the_known_folders() {
    let mut odd = Vec::new();
    for entry in fs::read_dir(app_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let known = if path.is_dir() {
            FOLDERS.contains(&name.as_str())
        } else {
            name == "mod.rs"
        };
        if !known {
            odd.push(format!("src/app/{name}"));
        }
    }
    odd.sort();
    assert!(
        odd.is_empty(),
        "src/app holds mod.rs and the folders {FOLDERS:?} only (add a new folder to this \
         test's rules); found: {}",
        odd.join(", ")
    );
}

#[test]
fn app_files_say_what_they_are_for_and_stay_small() {
    let mut files = Vec::new();
    rust_files(&app_dir(), &mut files);
    let mut found = Vec::new();
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        let name = path.strip_prefix(app_dir()).unwrap().display().to_string();
        let lines = text.lines().count();
        if lines > MAX_LINES {
            found.push(format!(
                "src/app/{name}:{lines}: {lines} lines (at most {MAX_LINES}): split it by purpose"
            ));
        }
        if !text.starts_with("//!") {
            found.push(format!(
                "src/app/{name}:1: does not open with a `//!` line saying what it is for"
            ));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_scanner_sees_the_forms_an_import_takes() {
    let scene_file = vec!["scene".to_string(), "overlay".to_string()];
    let scene_mod = vec!["scene".to_string()];
    let refs = |text: &str, module: &[String]| -> Vec<String> {
        references(text, module)
            .into_iter()
            .map(|(_, n)| n)
            .collect()
    };
    assert_eq!(
        refs("use crate::app::lego::LegoAction;", &scene_file),
        ["lego"]
    );
    assert_eq!(
        refs(
            "use crate::app::{\n    charts,\n    state::x,\n};",
            &scene_file
        ),
        ["charts", "state"]
    );
    assert_eq!(refs("use super::super::history;", &scene_file), ["history"]);
    assert_eq!(refs("use super::camera::Orbit;", &scene_file), ["scene"]);
    assert_eq!(
        refs("use super::{lego, widgets};", &scene_mod),
        ["lego", "widgets"]
    );
    assert_eq!(
        refs("let w = crate::app::main_window();", &scene_file),
        ["main_window"]
    );
    assert_eq!(refs("use crate::app;", &scene_file), [""]);
    assert!(refs(
        "//! see crate::app::lego\n// super::super::lego",
        &scene_file
    )
    .is_empty());
    assert!(refs("use crate::application::x;", &scene_file).is_empty());
}
