//! Stop during a save: a child process saves a large session (weights, template, candidates,
//! session file) over and over and is killed with SIGKILL at seeded random moments; after
//! every kill the session must open, every file must be whole and the state must be at
//! least as new as the last save the child finished. The child is this test binary run
//! again on its ignored `kill_save_child` test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use candle_core::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use nas_navigator::nas::data::DatasetSpec;
use nas_navigator::nas::search::autopilot::EditAuthor;
use nas_navigator::nas::session::{EditRecord, Session, SplitSpec};
use nas_navigator::nas::space::edit::Edit;
use nas_navigator::nas::space::{SuperGraph, TemplateSpec};
use nas_navigator::nas::supernet::Supernet;

/// The child saves into the folder this variable names.
const CHILD_ENV: &str = "NAS_NAVIGATOR_KILL_SAVE_DIR";
/// How many times the child is killed.
const KILLS: usize = 12;
/// Bytes of padding in each generation's session.json: writing it is most of a save, so
/// many kills land inside a write.
const PAD: usize = 4 << 20;

fn graph() -> SuperGraph {
    TemplateSpec::Chain {
        stages: 2,
        width: 8,
    }
    .build((1, 28, 28), 10)
}

fn reason(generation: u64) -> String {
    format!("generation {generation} {}", "x".repeat(PAD))
}

#[test]
#[ignore = "run by kill_mid_save_leaves_the_previous_save_intact as its child"]
fn kill_save_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    let graph = graph();
    let mut session = if Session::exists(&dir) {
        Session::open(&dir).unwrap().0
    } else {
        let spec = Some(TemplateSpec::Chain {
            stages: 2,
            width: 8,
        });
        let split = SplitSpec::default();
        Session::create(&dir, DatasetSpec::Digits, split, spec, &graph).unwrap()
    };
    let supernet = Supernet::new(graph.clone(), 0, &Device::Cpu).unwrap();
    let mut generation = session.file.split.seed;
    loop {
        generation += 1;
        session.file.split.seed = generation;
        session.file.pending_edits = vec![EditRecord {
            edit: Edit::RemoveBlock {
                decision: "conv1".into(),
                label: "k5".into(),
            },
            author: EditAuthor::Analyst,
            reason: reason(generation),
        }];
        supernet.save(&session.weights_path()).unwrap();
        session.save_template(&graph).unwrap();
        session.save_candidates().unwrap();
        session.save_file().unwrap();
        println!("\nSAVED {generation}");
    }
}

/// Checks the folder holds one whole save; returns its generation.
fn check_whole(dir: &Path) -> u64 {
    let (session, warnings) = Session::open(dir).expect("session.json is whole");
    assert!(warnings.is_empty(), "{warnings:?}");
    let generation = session.file.split.seed;
    let edits = &session.file.pending_edits;
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].reason, reason(generation));
    session.template().expect("template.json is whole");
    let supernet = Supernet::new(graph(), 1, &Device::Cpu).unwrap();
    supernet
        .load(&session.weights_path())
        .expect("the weights are whole");
    generation
}

/// Returns as soon as `session.json` is being written: its temp file is there, or the
/// file itself is shorter than a whole one (which only a write in place would show).
fn wait_for_a_write(dir: &Path, full_len: u64) {
    let path = Session::session_path(dir);
    let tmp = nas_navigator::nas::session::atomic::temp_path(&path);
    loop {
        let short = std::fs::metadata(&path).map_or(true, |m| m.len() + 64 < full_len);
        if short || tmp.exists() {
            return;
        }
        std::thread::yield_now();
    }
}

#[test]
fn kill_mid_save_leaves_the_previous_save_intact() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("s");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut finished = 0u64;
    let mut mid_save = 0;
    for kill in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["kill_save_child", "--exact", "--ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(CHILD_ENV, &session)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Wait until this child has finished one save of its own, then kill it at a
        // random moment of the saves that follow.
        let mut saved = lines
            .by_ref()
            .map_while(Result::ok)
            .filter_map(|l| l.trim().strip_prefix("SAVED ")?.parse::<u64>().ok());
        let first = saved.next().expect("the child saved once");
        let full_len = std::fs::metadata(Session::session_path(&session))
            .unwrap()
            .len();
        assert!(first > finished, "generations go forward");
        // The time one save takes, to spread the kills evenly over a save.
        let start = Instant::now();
        let second = saved.next().expect("the child saved twice");
        let period = start.elapsed();
        if kill % 2 == 0 {
            std::thread::sleep(period.mul_f64(rng.random::<f64>()));
        } else {
            wait_for_a_write(&session, full_len);
        }
        child.kill().unwrap();
        child.wait().unwrap();
        finished = lines
            .map_while(Result::ok)
            .filter_map(|l| l.trim().strip_prefix("SAVED ")?.parse::<u64>().ok())
            .last()
            .unwrap_or(second);
        // A temp file left means the kill landed inside a save; clear them for the next.
        let temps: Vec<PathBuf> = std::fs::read_dir(&session)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                n.ends_with(".tmp") || n.starts_with(".tmp")
            })
            .collect();
        mid_save += usize::from(!temps.is_empty());
        temps.iter().for_each(|p| std::fs::remove_file(p).unwrap());
        let on_disk = check_whole(&session);
        assert!(
            on_disk >= finished,
            "save {finished} was finished but the folder holds {on_disk}"
        );
    }
    // The kills timed on a seen write land inside one (the temp file is left behind).
    assert!(mid_save > 0, "no kill landed inside a save");
    eprintln!("{KILLS} kills, {mid_save} of them with a save under way (a temp file left)");
}
