//! A deterministic mutation fuzzer for the parsers (cargo-fuzz needs nightly; this needs
//! nothing): `cargo run --no-default-features --example fuzz -- TARGET|all --secs N
//! [--seed S] [--save]`. It mutates the seed inputs of `nas::fuzz` and the files under
//! `tests/corpus/TARGET/` with a seeded RNG, runs each under `catch_unwind`, and writes any
//! input that panics or breaks a rule to `tests/corpus/TARGET/crash-*`. With `--save` it
//! also keeps inputs that produced an error message not seen before (a rough stand-in for
//! coverage) as `tests/corpus/TARGET/err-*`, which `tests/fuzz_corpus.rs` replays.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use nas_navigator::nas::fuzz::{self, TARGETS};

const TOKENS: [&str; 20] = [
    "0",
    "-1",
    "1e309",
    "18446744073709551616",
    "4294967296",
    "999999999",
    "null",
    "true",
    "{}",
    "[]",
    "\"\"",
    "\"none\"",
    "\"conv\"",
    "~",
    "|",
    "+",
    ":",
    ",",
    "\"version\": 2",
    "NaN",
];
const MAX_KEEP: usize = 24;
const MAX_KEPT_BYTES: usize = 16 * 1024;

fn mutate(rng: &mut ChaCha8Rng, input: &mut Vec<u8>, pool: &[Vec<u8>]) {
    let len = input.len();
    let at = |rng: &mut ChaCha8Rng, n: usize| rng.random_range(0..=n);
    match rng.random_range(0..9) {
        0 if len > 0 => input[at(rng, len - 1)] ^= 1 << rng.random_range(0..8),
        1 if len > 0 => input[at(rng, len - 1)] = [0, 0xff, 0x7f, 0x80, 1][rng.random_range(0..5)],
        2 => {
            let cut = at(rng, len);
            input.truncate(cut);
        }
        3 if len > 0 => {
            let a = at(rng, len - 1);
            let b = (a + rng.random_range(1..=64)).min(len);
            input.drain(a..b);
        }
        4 => {
            let a = at(rng, len);
            let b = (a + rng.random_range(1..=64)).min(len);
            let copy = input[a..b].to_vec();
            let to = at(rng, input.len());
            input.splice(to..to, copy);
        }
        5 => {
            let token = TOKENS[rng.random_range(0..TOKENS.len())].as_bytes();
            let to = at(rng, len);
            input.splice(to..to, token.iter().copied());
        }
        6 => {
            // Replace a run of digits (a number in text, or any bytes in binary) with a token.
            let start = at(rng, len);
            let end = input[start..]
                .iter()
                .position(|b| !b.is_ascii_digit())
                .map_or(len, |p| start + p.max(1).min(len - start));
            let token = TOKENS[rng.random_range(0..6)].as_bytes();
            input.splice(start..end, token.iter().copied());
        }
        7 if len >= 4 => {
            let a = at(rng, len - 4);
            let word = [0u32, 1, 0xffff_ffff, 0x7fff_ffff, 65536][rng.random_range(0..5)];
            input[a..a + 4].copy_from_slice(&word.to_be_bytes());
        }
        _ => {
            let other = &pool[rng.random_range(0..pool.len())];
            let cut = at(rng, len);
            let from = at(rng, other.len());
            input.truncate(cut);
            input.extend_from_slice(&other[from..]);
        }
    }
}

/// An error message without its numbers, quoted input or scratch path: inputs are kept
/// per new one.
fn signature(message: &str, scratch: &Path) -> String {
    let text = message.replace(&*scratch.to_string_lossy(), "");
    // Quoted input (`...`) is the input echoed back, not a different message.
    let text: String = text
        .split('`')
        .step_by(2)
        .flat_map(str::chars)
        .filter(|c| !c.is_ascii_digit())
        .collect();
    text.chars().take(90).collect()
}

fn name_of(prefix: &str, bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    format!("{prefix}-{hash:016x}")
}

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(target)
}

struct Report {
    execs: u64,
    refused: u64,
    signatures: usize,
    findings: Vec<String>,
}

fn fuzz_target(target: &str, secs: u64, seed: u64, save: bool) -> Result<Report> {
    let dir = corpus_dir(target);
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let mut pool = fuzz::seeds(target);
    for entry in std::fs::read_dir(&dir)? {
        pool.push(std::fs::read(entry?.path())?);
    }
    let scratch_root = std::env::temp_dir().join(format!("nas-fuzz-{}", std::process::id()));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut seen, mut kept) = (HashSet::new(), Vec::new());
    let mut report = Report {
        execs: 0,
        refused: 0,
        signatures: 0,
        findings: Vec::new(),
    };
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        let mut input = pool[rng.random_range(0..pool.len())].clone();
        for _ in 0..rng.random_range(1..=4) {
            mutate(&mut rng, &mut input, &pool);
        }
        let scratch = scratch_root.join(format!("{}", report.execs));
        std::fs::create_dir_all(&scratch)?;
        let caught = std::panic::catch_unwind(|| fuzz::run(target, &input, &scratch));
        report.execs += 1;
        let problem = match caught {
            Err(p) => Some(format!("panic: {}", panic_text(&*p))),
            Ok(Err(finding)) => Some(finding.0),
            Ok(Ok(Ok(()))) => None,
            Ok(Ok(Err(message))) => {
                report.refused += 1;
                if seen.insert(signature(&message, &scratch)) && input.len() <= MAX_KEPT_BYTES {
                    kept.push(input.clone());
                    pool.push(input.clone());
                }
                None
            }
        };
        if let Some(problem) = problem {
            let path = dir.join(name_of("crash", &input));
            std::fs::write(&path, &input)?;
            eprintln!("{target}: {problem} (input in {})", path.display());
            report.findings.push(problem);
        }
        let _ = std::fs::remove_dir_all(&scratch);
    }
    let _ = std::fs::remove_dir_all(&scratch_root);
    report.signatures = seen.len();
    if save {
        for bytes in kept.iter().take(MAX_KEEP) {
            std::fs::write(dir.join(name_of("err", bytes)), bytes)?;
        }
    }
    Ok(report)
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = BTreeMap::new();
    let mut it = args.iter().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--save" => drop(opts.insert("save", String::new())),
            "--secs" | "--seed" => {
                drop(opts.insert(&flag[2..], it.next().cloned().unwrap_or_default()))
            }
            other => bail!("unknown option `{other}`; use TARGET|all --secs N [--seed S] [--save]"),
        }
    }
    let which = args.first().map(String::as_str).unwrap_or("all");
    let targets: Vec<&str> = match which {
        "all" => TARGETS.to_vec(),
        t if TARGETS.contains(&t) => vec![t],
        other => bail!(
            "unknown target `{other}`; targets: all, {}",
            TARGETS.join(", ")
        ),
    };
    let secs: u64 = opts
        .get("secs")
        .map_or(Ok(60), |s| s.parse())
        .context("--secs")?;
    let seed: u64 = opts
        .get("seed")
        .map_or(Ok(0), |s| s.parse())
        .context("--seed")?;
    // Panics are expected findings here: report them in one line each, not as a backtrace.
    std::panic::set_hook(Box::new(|_| {}));
    let mut total = 0;
    for target in targets {
        let r = fuzz_target(target, secs, seed, opts.contains_key("save"))?;
        println!(
            "{target}: {secs} s, {} inputs ({:.0}/s), {} refused with {} distinct messages, {} findings",
            r.execs,
            r.execs as f64 / secs.max(1) as f64,
            r.refused,
            r.signatures,
            r.findings.len()
        );
        total += r.findings.len();
    }
    if total > 0 {
        bail!("{total} findings; their inputs are under tests/corpus/");
    }
    Ok(())
}
