//! Replays the fuzzing corpus (`tests/corpus/<target>/`, written by `examples/fuzz.rs`)
//! and the seed inputs through every fuzz target: no input may panic or break a target's
//! rules; inputs kept as `err-*` must still be refused, with a message; seeds must parse.

use std::path::{Path, PathBuf};

use nas_navigator::nas::fuzz::{self, TARGETS};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Runs one input in a fresh scratch folder; panics name the input.
fn replay(target: &str, name: &str, input: &[u8]) -> Result<(), String> {
    let scratch = tempfile::tempdir().unwrap();
    let caught = std::panic::catch_unwind(|| fuzz::run(target, input, scratch.path()));
    match caught {
        Err(_) => panic!("{target}/{name}: panicked"),
        Ok(Err(finding)) => panic!("{target}/{name}: {}", finding.0),
        Ok(Ok(outcome)) => outcome,
    }
}

#[test]
fn every_seed_parses() {
    for target in TARGETS {
        let seeds = fuzz::seeds(target);
        assert!(!seeds.is_empty(), "{target} has no seeds");
        for (i, seed) in seeds.iter().enumerate() {
            if let Err(e) = replay(target, &format!("seed {i}"), seed) {
                panic!("{target}: seed {i} is refused: {e}");
            }
        }
    }
}

#[test]
fn the_corpus_replays_without_panics_or_findings() {
    for target in TARGETS {
        let files = corpus(target);
        assert!(
            files.len() >= 3,
            "{target}: the corpus has {} inputs; run examples/fuzz.rs with --save",
            files.len()
        );
        for path in files {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let input = std::fs::read(&path).unwrap();
            let outcome = replay(target, &name, &input);
            if name.starts_with("err-") {
                let message = outcome.expect_err(&format!("{target}/{name} should be refused"));
                assert!(!message.trim().is_empty(), "{target}/{name}: empty message");
            }
        }
    }
}

#[test]
fn unknown_targets_are_findings_not_panics() {
    let scratch = tempfile::tempdir().unwrap();
    let e = fuzz::run("nope", b"", scratch.path()).unwrap_err();
    assert!(e.0.contains("nope"), "{e:?}");
}
