//! Session format versions: a version-1 session written before `split`, `pending_edits`,
//! `pending_parent`, round `edits` and the round's `strategy`/`around` existed (the fixture
//! under `tests/fixtures/session-v1-early/`) still opens, with defaults for what it lacks,
//! and the CLI reads it; a session from a newer version is refused by name.

mod common;

use std::path::Path;

use common::run_ok;
use nas_navigator::nas::search::strategy::StrategyKind;
use nas_navigator::nas::session::{Session, SplitSpec, SESSION_VERSION};

fn fixture_copy(into: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/session-v1-early");
    std::fs::create_dir_all(into).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, into.join(path.file_name().unwrap())).unwrap();
    }
}

#[test]
fn an_early_version_one_session_opens_with_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    fixture_copy(&s);
    let text = std::fs::read_to_string(Session::session_path(&s)).unwrap();
    assert!(!text.contains("pending_edits") && !text.contains("\"split\""));
    let (session, warnings) = Session::open(&s).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(session.file.version, 1);
    assert_eq!(session.file.split, SplitSpec::default());
    assert!(session.file.pending_edits.is_empty());
    let round = &session.file.rounds[0];
    assert!(round.edits.is_empty() && round.config.around.is_empty());
    assert_eq!(round.config.strategy, StrategyKind::Random);
    assert_eq!(session.rows.len(), 6);
    session.template().unwrap();
    let out = run_ok(&["show", "--session", s.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("conv1:"));
}

#[test]
fn a_session_from_a_newer_version_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    fixture_copy(&s);
    let path = Session::session_path(&s);
    let newer = std::fs::read_to_string(&path).unwrap().replacen(
        "\"version\": 1",
        &format!("\"version\": {}", SESSION_VERSION + 1),
        1,
    );
    std::fs::write(&path, &newer).unwrap();
    let e = Session::open(&s).unwrap_err().to_string();
    assert!(e.contains("session.json") && e.contains("newer"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), newer);
}

/// A damaged `template.json` is said in the warnings (the last round's template stands in).
#[test]
fn a_damaged_template_file_is_a_warning_and_the_last_rounds_template_stands_in() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    fixture_copy(&s);
    let (session, _) = Session::open(&s).unwrap();
    let expected = session.file.rounds.last().unwrap().template.clone();
    std::fs::write(session.template_path(), "{ \"name\": ").unwrap();
    let (session, warnings) = Session::open(&s).unwrap();
    let said = warnings.join(" | ");
    assert!(
        said.contains("template.json") && said.contains("damaged"),
        "{said}"
    );
    assert_eq!(
        nas_navigator::nas::space::doc::TemplateDoc::from(&session.template().unwrap()),
        expected
    );
}
