//! Stop during a save: a child process saves a large session over and over, each save one
//! checkpoint generation with its own content (weights seeded by the generation, a score
//! row stamped with it, a session file naming it), and is killed with SIGKILL at seeded
//! random moments, inside the session file's write, or between the weights and the commit.
//! After every kill the session must open, every file must be whole, the weights must be
//! the ones of the generation `session.json` names (never a neighbour's), and the state
//! must be at least as new as the last save the child finished; the engine's tidy-up then
//! removes and reports what a cut-off save left. The child is this test binary run again
//! on its ignored `kill_save_child` test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use candle_core::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use nas_navigator::nas::data::DatasetSpec;
use nas_navigator::nas::search::autopilot::EditAuthor;
use nas_navigator::nas::session::{CandidateRow, EditRecord, Session, SplitSpec};
use nas_navigator::nas::space::edit::Edit;
use nas_navigator::nas::space::{SuperGraph, TemplateSpec};
use nas_navigator::nas::supernet::Supernet;
use nas_navigator::nas::trainer::checkpoint::write_checkpoint;

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

/// The one score row of a generation: its accuracy is the generation number.
fn stamped_row(generation: u64) -> CandidateRow {
    CandidateRow {
        round: 1,
        candidate: "conv1:k3 pool1:max conv2:k3 pool2:max".into(),
        accuracy: generation as f32,
        params: 1,
        flops: 1,
        signals: Default::default(),
    }
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
        session.rows = vec![stamped_row(generation)];
        session.save_template(&graph).unwrap();
        let supernet = Supernet::new(graph.clone(), generation, &Device::Cpu).unwrap();
        write_checkpoint(&mut session, &supernet, None).unwrap();
        println!("\nSAVED {generation}");
    }
}

/// Checks the folder holds one whole save, all of one generation; returns it.
fn check_whole(dir: &Path) -> u64 {
    let (session, warnings) = Session::open(dir).expect("session.json is whole");
    assert!(warnings.is_empty(), "{warnings:?}");
    let generation = session.file.split.seed;
    assert_eq!(
        session.file.checkpoint,
        Some(generation),
        "session.json names its generation"
    );
    let edits = &session.file.pending_edits;
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].reason, reason(generation));
    session.template().expect("template.json is whole");
    let saved = candle_core::safetensors::load(session.weights_path(), &Device::Cpu)
        .expect("the weights are whole");
    let want = Supernet::new(graph(), generation, &Device::Cpu)
        .unwrap()
        .tensors();
    let keys = |m: &std::collections::HashMap<String, candle_core::Tensor>| {
        let mut k: Vec<String> = m.keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&saved), keys(&want));
    for (name, tensor) in &saved {
        let same = (tensor - &want[name])
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap();
        assert_eq!(
            same.to_scalar::<f32>().unwrap(),
            0.0,
            "{name} is not generation {generation}'s"
        );
    }
    // The scores are written just before the commit, so they may be the next save's.
    assert_eq!(session.rows.len(), 1);
    let stamp = session.rows[0].accuracy as u64;
    assert!(
        stamp == generation || stamp == generation + 1,
        "candidates.csv is generation {stamp}, session.json {generation}"
    );
    generation
}

/// Returns as soon as the folder of the generation after `saved` holds its weights (the
/// commit has not happened yet, or is under way).
fn wait_for_a_new_generation(dir: &Path, saved: u64) {
    let (session, _) = Session::open(dir).unwrap();
    let weights = session
        .checkpoint_dir(saved + 1)
        .join("supernet.safetensors");
    while !weights.exists() {
        std::thread::yield_now();
    }
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
    let mut cut_off = 0;
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
        match kill % 3 {
            0 => std::thread::sleep(period.mul_f64(rng.random::<f64>())),
            1 => wait_for_a_write(&session, full_len),
            _ => wait_for_a_new_generation(&session, second),
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
        // The engine opening the session tidies what a cut-off save left.
        let (opened, _) = Session::open(&session).unwrap();
        let said = opened.tidy_checkpoints().unwrap();
        cut_off += usize::from(said.iter().any(|w| w.contains("cut off")));
        let left = std::fs::read_dir(&session)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("checkpoint-"))
            .count();
        assert_eq!(left, 1, "only the named generation is left after tidying");
        assert_eq!(check_whole(&session), on_disk);
        assert!(
            on_disk >= finished,
            "save {finished} was finished but the folder holds {on_disk}"
        );
    }
    // The kills timed on a seen write land inside one (the temp file is left behind).
    assert!(mid_save > 0, "no kill landed inside a save");
    assert!(
        cut_off > 0,
        "no kill landed between a generation's weights and its commit"
    );
    eprintln!(
        "{KILLS} kills: {mid_save} with a file write under way (a temp file left), {cut_off} between a generation's weights and its commit"
    );
}
