//! Fuzz targets: each feeds one input (bytes) to one parser the user can reach — the IDX,
//! CIFAR and image-folder loaders, template files, session folders and candidate strings —
//! and says what came out. A panic is a bug; so is an error about a file that does not name
//! that file, or a parsed value that does not survive a round trip. Used by
//! `examples/fuzz.rs` (the mutation fuzzer) and `tests/fuzz_corpus.rs` (the regression
//! corpus under `tests/corpus/<target>/`).

mod seeds;

use std::path::Path;

use crate::nas::data::{self, DatasetSpec};
use crate::nas::session::Session;
use crate::nas::space::doc::TemplateDoc;
use crate::nas::space::{Candidate, SuperGraph, TemplateSpec};

pub use seeds::seeds;

/// Every target's name, as used on the fuzzer's command line and in `tests/corpus/`.
pub const TARGETS: [&str; 6] = ["idx", "cifar", "folder", "template", "session", "candidate"];

/// What one input did: parsed, or refused with this message.
pub type Outcome = Result<(), String>;

/// A finding: the input broke a rule (beyond panicking, which the caller catches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding(pub String);

/// Runs `target` on `input`, using the empty folder `scratch` for any files it writes.
/// `Ok(outcome)` is fine either way; `Err` is a finding.
pub fn run(target: &str, input: &[u8], scratch: &Path) -> Result<Outcome, Finding> {
    match target {
        "idx" => file_target(scratch, || idx(input, scratch)),
        "cifar" => file_target(scratch, || cifar(input, scratch)),
        "folder" => file_target(scratch, || folder(input, scratch)),
        "session" => file_target(scratch, || session(input, scratch)),
        "template" => template(input),
        "candidate" => candidate(input),
        other => Err(Finding(format!("no fuzz target `{other}`"))),
    }
}

/// A file target's error must name the file (or its folder) it is about.
fn file_target(scratch: &Path, f: impl FnOnce() -> Outcome) -> Result<Outcome, Finding> {
    let outcome = f();
    if let Err(message) = &outcome {
        if !message.contains(&*scratch.to_string_lossy()) {
            return Err(Finding(format!("error names no file: {message}")));
        }
    }
    Ok(outcome)
}

/// The first byte picks which file of the set the rest replaces.
fn pick<'a>(input: &'a [u8], names: &[&'a str]) -> (&'a str, &'a [u8]) {
    match input.split_first() {
        Some((&b, rest)) => (names[b as usize % names.len()], rest),
        None => (names[0], input),
    }
}

fn write_all(dir: &Path, files: &[(String, Vec<u8>)]) -> Outcome {
    for (name, bytes) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn idx(input: &[u8], dir: &Path) -> Outcome {
    let mut files = seeds::idx_files();
    let (name, bytes) = pick(input, &seeds::IDX_NAMES);
    replace(&mut files, name, bytes);
    write_all(dir, &files)?;
    let spec = DatasetSpec::MnistIdx {
        dir: dir.to_path_buf(),
    };
    data::load(&spec).map(drop).map_err(|e| e.to_string())
}

fn cifar(input: &[u8], dir: &Path) -> Outcome {
    let mut files = seeds::cifar_files();
    let (name, bytes) = pick(input, &seeds::CIFAR_NAMES);
    replace(&mut files, name, bytes);
    write_all(dir, &files)?;
    let spec = DatasetSpec::Cifar10Bin {
        dir: dir.to_path_buf(),
    };
    data::load(&spec).map(drop).map_err(|e| e.to_string())
}

fn folder(input: &[u8], dir: &Path) -> Outcome {
    let mut files = seeds::folder_files();
    let (name, bytes) = pick(input, &seeds::FOLDER_NAMES);
    replace(&mut files, name, bytes);
    write_all(dir, &files)?;
    let spec = DatasetSpec::Folder {
        dir: dir.to_path_buf(),
        size: None,
    };
    data::load(&spec).map(drop).map_err(|e| e.to_string())
}

fn session(input: &[u8], dir: &Path) -> Outcome {
    let mut files = seeds::session_files();
    let (name, bytes) = pick(input, &seeds::SESSION_NAMES);
    replace(&mut files, name, bytes);
    write_all(dir, &files)?;
    let (s, _warnings) = Session::open(dir).map_err(|e| e.to_string())?;
    s.template().map_err(|e| e.to_string())?;
    for r in &s.file.rounds {
        r.template
            .clone()
            .into_graph()
            .map_err(|e| format!("{}: round {}: {e}", dir.display(), r.round))?;
    }
    Ok(())
}

fn replace(files: &mut [(String, Vec<u8>)], name: &str, bytes: &[u8]) {
    if let Some(f) = files.iter_mut().find(|(n, _)| n == name) {
        f.1 = bytes.to_vec();
    }
}

fn template(input: &[u8]) -> Result<Outcome, Finding> {
    let text = String::from_utf8_lossy(input);
    let g = match TemplateDoc::parse(&text) {
        Ok(g) => g,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let json = TemplateDoc::to_json(&g);
    match TemplateDoc::parse(&json) {
        Ok(back) if TemplateDoc::to_json(&back) == json => Ok(Ok(())),
        Ok(_) => Err(Finding("template changed in a round trip".into())),
        Err(e) => Err(Finding(format!("written template does not read back: {e}"))),
    }
}

/// The graphs candidate strings are parsed against: a chain and an NB201 cell.
fn candidate_graphs() -> [SuperGraph; 2] {
    [
        TemplateSpec::Chain {
            stages: 3,
            width: 4,
        }
        .build((1, 8, 8), 10),
        TemplateSpec::Nb201 {
            channels: 4,
            cells: 1,
        }
        .build((3, 8, 8), 10),
    ]
}

fn candidate(input: &[u8]) -> Result<Outcome, Finding> {
    let text = String::from_utf8_lossy(input);
    // Refused only if neither graph takes it (a chain string is never an NB201 one).
    let mut refusals = Vec::new();
    for g in candidate_graphs() {
        match Candidate::parse(&g, &text) {
            Ok(c) => {
                let back = Candidate::parse(&g, &c.to_string(&g))
                    .map_err(|e| Finding(format!("canonical string does not parse: {e}")))?;
                if back != c {
                    return Err(Finding("candidate changed in a round trip".into()));
                }
            }
            Err(e) => refusals.push(e.to_string()),
        }
    }
    match refusals.len() {
        2 => Ok(Err(refusals.join("; "))),
        _ => Ok(Ok(())),
    }
}
