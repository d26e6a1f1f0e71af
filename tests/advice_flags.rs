//! Every piece of advice names a flag that exists: each `--flag` written in a string literal
//! anywhere in `src/` (error messages, hints, status lines) must be accepted by some
//! subcommand of the binary as built, as its `--help` lists them. Flags of other tools that
//! the advice names (cargo's) are listed here by hand.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Flags of other programs our messages may name (`cargo build --features cuda`).
const OTHER_TOOLS: [&str; 3] = ["--features", "--no-default-features", "--release"];

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_nas-navigator"))
        .args(args)
        .arg("--help")
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `--name` tokens in `text`.
fn flags(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < bytes.len() {
        let starts = bytes[i] == b'-'
            && bytes[i + 1] == b'-'
            && bytes[i + 2].is_ascii_lowercase()
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'-'));
        if starts {
            let end = (i + 2..bytes.len())
                .find(|&j| {
                    !(bytes[j].is_ascii_lowercase()
                        || bytes[j].is_ascii_digit()
                        || bytes[j] == b'-')
                })
                .unwrap_or(bytes.len());
            out.push(text[i..end].trim_end_matches('-').to_string());
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// The string literals of a Rust source file (comments skipped), with their line numbers.
fn string_literals(source: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = source.chars().collect();
    let (mut out, mut line, mut i) = (Vec::new(), 1, 0);
    while i < chars.len() {
        match chars[i] {
            '\n' => line += 1,
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '\'' => {
                // A char literal ('"', '\n') is skipped; a lifetime is not a literal.
                if chars.get(i + 1) == Some(&'\\') {
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 2;
                }
            }
            '"' => {
                let (start, mut text) = (line, String::new());
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    text.push(chars[i]);
                    i += 1;
                }
                out.push((start, text));
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_flag_our_messages_name_exists() {
    let top = help(&[]);
    let subcommands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|c| c != "help")
        .collect();
    assert!(subcommands.len() > 5, "no subcommands found in:\n{top}");
    let mut known: BTreeSet<String> = flags(&top).into_iter().collect();
    for sub in &subcommands {
        known.extend(flags(&help(&[sub])));
    }
    known.extend(OTHER_TOOLS.iter().map(|s| s.to_string()));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut unknown = Vec::new();
    let mut named = 0;
    for file in files {
        let in_app = file.starts_with(root.join("app"));
        if in_app && !cfg!(feature = "app") {
            continue;
        }
        let source = std::fs::read_to_string(&file).expect("a source file");
        for (line, text) in string_literals(&source) {
            for flag in flags(&text) {
                named += 1;
                if !known.contains(&flag) {
                    unknown.push(format!("{}:{line}: {flag}", file.display()));
                }
            }
        }
    }
    assert!(
        named > 20,
        "too few flags found ({named}): the scanner is broken"
    );
    assert!(
        unknown.is_empty(),
        "messages name flags no subcommand accepts:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn the_scanner_finds_flags_in_strings_only() {
    let source = "// a comment with --nothing\nlet a = \"try --batch-size 32\";\nlet c = '\"';\nfn f<'a>(x: &'a str) { g(\"--lr or\n--epochs\") }";
    let found: Vec<(usize, Vec<String>)> = string_literals(source)
        .into_iter()
        .map(|(line, text)| (line, flags(&text)))
        .filter(|(_, f)| !f.is_empty())
        .collect();
    assert_eq!(
        found,
        vec![
            (2, vec!["--batch-size".to_string()]),
            (4, vec!["--lr".to_string(), "--epochs".to_string()]),
        ]
    );
}
