//! The suite runs from the repository alone: no test reads `../shared` (the large optional
//! data sets are for benchmarks only); what tests need is vendored under `assets/` or
//! `tests/fixtures/`.

use std::path::Path;

#[test]
fn no_test_reads_outside_the_repository() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut offending = Vec::new();
    let mut dirs = vec![tests.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("tests/ is readable")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("self_contained.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a test file");
            for (i, line) in text.lines().enumerate() {
                if line.contains("../shared") || line.contains("/work/shared") {
                    offending.push(format!("{}:{}", path.display(), i + 1));
                }
            }
        }
    }
    assert!(
        offending.is_empty(),
        "tests that need ../shared: {offending:?}"
    );
}
