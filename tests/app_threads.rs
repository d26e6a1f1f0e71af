//! The app's threads without a window (MinimalPlugins): every thread's death comes back as an
//! error the views show (background jobs, the final network, the layouts), and no frame
//! waits on I/O or on another thread: opening a session, re-reading the history and
//! dropping the old engine or layout worker. A frame that would wait is caught without
//! timing it: what it would wait on (a FIFO nobody writes, a thread held on a channel) is
//! released by a watchdog only after a generous while, and the test fails if it had to.
#![cfg(all(feature = "app", unix))]

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use crossbeam_channel::bounded;
use nas_navigator::app::final_net::job;
use nas_navigator::app::final_net::view::{FinalPhase, FinalView, FinalViewPlugin};
use nas_navigator::app::history::{HistoryPlugin, HistoryView};
use nas_navigator::app::link::background::Background;
use nas_navigator::app::link::EngineLink;
use nas_navigator::app::scene::layout_worker::{
    LayoutJob, LayoutOutcome, LayoutWorker, LayoutWorkerPlugin, Placement,
};
use nas_navigator::app::shell::sessions::{RestoredRows, SessionOpenRequested, SessionsPlugin};
use nas_navigator::app::state::candidates::CandidateIndex;
use nas_navigator::app::state::run_state::RunState;
use nas_navigator::app::state::session_control::SessionControl;
use nas_navigator::app::EnginePlugins;
use nas_navigator::nas::data::DatasetSpec;
use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::space::{Candidate, TemplateSpec};
use nas_navigator::nas::trainer::{EngineHandle, EngineSetup};

/// How long the watchdog lets a frame (or a drop) take before it releases what blocks it.
const PATIENCE: Duration = Duration::from_secs(20);

/// Runs `frame` and fails unless it came back by itself: `release` (which unblocks whatever
/// `frame` might wait on) runs only if `frame` is still running after `PATIENCE`.
fn returns_unaided<T>(
    what: &str,
    release: impl FnOnce() + Send + 'static,
    frame: impl FnOnce() -> T,
) -> T {
    let (done, wait) = bounded::<()>(1);
    let watchdog = std::thread::spawn(move || {
        let helped = wait.recv_timeout(PATIENCE).is_err();
        if helped {
            release();
        }
        helped
    });
    let out = frame();
    let _ = done.send(());
    let helped = watchdog.join().unwrap();
    assert!(
        !helped,
        "{what}: it waited until released after {PATIENCE:?}"
    );
    out
}

/// `candidates.csv` of a session copy as a FIFO: a reader blocks until `release`.
struct Fifo {
    path: PathBuf,
    content: String,
    released: AtomicBool,
}

impl Fifo {
    /// A copy of the v1 fixture session in `dir` whose candidates file is a FIFO.
    fn session_in(dir: &Path) -> Arc<Self> {
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/session-v1-early");
        std::fs::create_dir_all(dir).unwrap();
        for name in ["session.json", "template.json", "candidates.csv"] {
            std::fs::copy(from.join(name), dir.join(name)).unwrap();
        }
        let path = dir.join("candidates.csv");
        let content = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        assert!(made.unwrap().success(), "mkfifo");
        Arc::new(Self {
            path,
            content,
            released: AtomicBool::new(false),
        })
    }

    /// Puts a plain file in the FIFO's place (for later reads), then feeds the reader blocked
    /// on the FIFO the same content; once.
    fn release(&self) {
        if self.released.swap(true, Ordering::SeqCst) {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut pipe = loop {
            let open = OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&self.path);
            match open {
                Ok(f) => break f,
                // No reader yet.
                Err(e) if e.raw_os_error() == Some(libc::ENXIO) && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("cannot open the FIFO: {e}"),
            }
        };
        let plain = self.path.with_extension("plain");
        std::fs::write(&plain, &self.content).unwrap();
        std::fs::rename(&plain, &self.path).unwrap();
        pipe.write_all(self.content.as_bytes()).unwrap();
    }
}

fn setup(session_dir: Option<PathBuf>) -> EngineSetup {
    EngineSetup {
        dataset: DatasetSpec::Digits,
        template: TemplateSpec::Chain {
            stages: 3,
            width: 4,
        },
        device: DeviceChoice::Cpu,
        session_dir,
        seed: 2,
        val_fraction: 0.1,
        event_capacity: 64,
    }
}

/// An app with the engine side and the session plugin, on an old engine (`old`).
fn sessions_app(old: EngineLink) -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins((EnginePlugins, SessionsPlugin))
        .insert_resource(SessionControl::new(setup(None)))
        .insert_resource(old);
    app
}

/// Updates until `done` holds (panics after a minute).
fn update_until(app: &mut App, what: &str, done: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(app) {
        assert!(Instant::now() < deadline, "{what}: timed out");
        app.update();
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn said(app: &App, words: &str) -> bool {
    let state = app.world().resource::<RunState>();
    state.messages.iter().any(|m| m.contains(words))
}

#[test]
fn a_background_panic_comes_back_as_an_error_and_the_next_job_runs() {
    let work = Background::queued("test", 4, |n: u32| match n {
        1 => panic!("job one broke"),
        n => Ok(n * 10),
    });
    assert!(work.submit(1).is_ok() && work.submit(2).is_ok());
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut outcomes = Vec::new();
    while outcomes.len() < 2 && Instant::now() < deadline {
        outcomes.extend(work.try_recv());
        std::thread::sleep(Duration::from_millis(2));
    }
    let [first, second] = outcomes.try_into().expect("two outcomes");
    let why = first.expect_err("the panic is an error");
    assert!(
        why.contains("test thread panicked") && why.contains("job one broke"),
        "{why}"
    );
    assert_eq!(second, Ok(20));
}

#[test]
fn a_panic_in_the_final_network_thread_fails_the_view() {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(FinalViewPlugin);
    app.world_mut().resource_mut::<FinalView>().run.phase = FinalPhase::Training;
    app.insert_resource(job::spawn(|_, _| panic!("the final work broke")));
    let deadline = Instant::now() + PATIENCE;
    while app.world().resource::<FinalView>().run.phase == FinalPhase::Training {
        assert!(Instant::now() < deadline, "the view stays Training");
        app.update();
        std::thread::sleep(Duration::from_millis(5));
    }
    let phase = app.world().resource::<FinalView>().run.phase.clone();
    let FinalPhase::Failed(why) = phase else {
        panic!("not failed: {phase:?}")
    };
    assert!(why.contains("the final work broke"), "{why}");
}

fn placed(entities: Vec<Entity>) -> LayoutOutcome {
    let n = entities.len();
    Ok(Placement {
        entities,
        flat: vec![[0.0; 3]; n],
        space: vec![[0.0; 3]; n],
    })
}

fn next_placement(app: &App) -> LayoutOutcome {
    let worker = app.world().resource::<LayoutWorker>();
    worker
        .placements
        .recv_timeout(PATIENCE)
        .expect("the layout thread answers")
}

#[test]
fn a_layout_panic_is_reported_and_the_next_job_refits_everything() {
    // The work panics on its first job and tells what it was given: (re-fit?, count, placed).
    let (seen_tx, seen) = bounded(8);
    let mut first = true;
    let worker = LayoutWorker::spawn_with(move |job| {
        let (refit, entities, before) = match job {
            LayoutJob::Extend { entities, .. } => (false, entities, 0),
            LayoutJob::Refit {
                entities, previous, ..
            } => (true, entities, previous.iter().flatten().count()),
        };
        seen_tx.send((refit, entities.len(), before)).unwrap();
        assert!(!std::mem::take(&mut first), "layout work broke");
        placed(entities)
    });
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins((EnginePlugins, LayoutWorkerPlugin))
        .insert_resource(worker);
    let graph = TemplateSpec::Chain {
        stages: 3,
        width: 4,
    }
    .build((1, 8, 8), 10);
    let extend = |app: &mut App, n: usize| {
        let entities: Vec<Entity> = (0..n).map(|_| app.world_mut().spawn_empty().id()).collect();
        let candidates = vec![
            Candidate {
                choices: vec![0; graph.decisions.len()]
            };
            n
        ];
        let job = LayoutJob::Extend {
            graph: Box::new(graph.clone()),
            entities,
            candidates,
        };
        assert!(app.world().resource::<LayoutWorker>().try_send(job).is_ok());
    };
    extend(&mut app, 3);
    let why = next_placement(&app).err().expect("the panic is an error");
    assert!(why.contains("layout work broke"), "{why}");
    update_until(&mut app, "status line", |app| {
        said(app, "scene layout failed")
    });
    // The next job re-fits all five candidates sent; then extensions resume.
    extend(&mut app, 2);
    assert_eq!(next_placement(&app).map(|p| p.entities.len()), Ok(5));
    extend(&mut app, 1);
    assert_eq!(next_placement(&app).map(|p| p.entities.len()), Ok(1));
    let seen: Vec<_> = seen.try_iter().collect();
    assert_eq!(seen, vec![(false, 3, 0), (true, 5, 0), (false, 1, 0)]);
}

#[test]
fn dropping_the_layout_worker_waits_for_nothing() {
    let (gate_tx, gate) = bounded::<()>(0);
    let (started_tx, started) = bounded(8);
    let (alive_tx, alive) = bounded::<()>(0);
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let worker = LayoutWorker::spawn_with(move |job| {
        let _alive = &alive_tx;
        counted.fetch_add(1, Ordering::SeqCst);
        let _ = started_tx.send(());
        // Held until the gate closes.
        let _ = gate.recv();
        match job {
            LayoutJob::Extend { entities, .. } | LayoutJob::Refit { entities, .. } => {
                placed(entities)
            }
        }
    });
    let mut world = World::new();
    for _ in 0..3 {
        let job = LayoutJob::Extend {
            graph: Box::new(
                TemplateSpec::Chain {
                    stages: 1,
                    width: 2,
                }
                .build((1, 8, 8), 10),
            ),
            entities: vec![world.spawn_empty().id()],
            candidates: vec![Candidate { choices: vec![0] }],
        };
        assert!(worker.try_send(job).is_ok());
    }
    started
        .recv_timeout(PATIENCE)
        .expect("the first job starts");
    returns_unaided(
        "dropping the layout worker",
        move || drop(gate_tx),
        || drop(worker),
    );
    // The thread ends after its current job, without starting the queued ones.
    let ended = alive.recv_timeout(PATIENCE);
    assert!(ended.is_err() && alive.is_empty(), "the thread lives on");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[test]
fn opening_a_session_reads_it_off_the_frame() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let fifo = Fifo::session_in(&dir);
    let (_ev_tx, events) = bounded(4);
    let (commands, _cmd_rx) = bounded(4);
    let mut app = sessions_app(EngineLink::from_channels(events, commands));
    app.world_mut().write_message(SessionOpenRequested {
        folder: dir.clone(),
        dataset: "digits".into(),
    });
    let release = fifo.clone();
    returns_unaided(
        "opening a session",
        move || release.release(),
        || {
            for _ in 0..5 {
                app.update();
                std::thread::sleep(Duration::from_millis(20));
            }
        },
    );
    assert!(
        said(&app, "opening session"),
        "the status line says nothing"
    );
    fifo.release();
    update_until(&mut app, "open", |app| said(app, "opened session"));
    let control = app.world().resource::<SessionControl>();
    assert_eq!(control.setup.session_dir.as_deref(), Some(dir.as_path()));
    // The stored rows came with the one read (waiting for the template, or points already).
    let waiting = app.world().resource::<RestoredRows>().0.len();
    let shown = app.world().resource::<CandidateIndex>().0.len();
    assert!(waiting + shown > 0, "no stored rows");
}

#[test]
fn the_old_engine_stops_off_the_frame() {
    // An old engine whose thread ends only when `hold` closes (it ignores interrupts).
    let (hold, held) = bounded::<()>(0);
    let (_ev_tx, events) = bounded(4);
    let (commands, _cmd_rx) = bounded(4);
    let handle = EngineHandle {
        commands,
        events,
        interrupt: Arc::new(AtomicBool::new(false)),
        thread: Some(std::thread::spawn(move || {
            let _ = held.recv();
        })),
    };
    let mut app = sessions_app(EngineLink::from_handle(handle));
    let tmp = tempfile::tempdir().unwrap();
    app.world_mut().write_message(SessionOpenRequested {
        folder: tmp.path().join("new"),
        dataset: "digits".into(),
    });
    returns_unaided(
        "stopping the old engine",
        move || drop(hold),
        || {
            update_until(&mut app, "swap", |app| {
                said(app, "starting session") || said(app, "opened session")
            })
        },
    );
    // The new engine waits for the old one to stop.
    assert!(!app.world().contains_resource::<EngineLink>());
    update_until(&mut app, "new engine", |app| said(app, "opened session"));
    assert!(app.world().contains_resource::<EngineLink>());
}

#[test]
fn the_history_is_read_off_the_frame() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let fifo = Fifo::session_in(&dir);
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins((EnginePlugins, HistoryPlugin))
        .insert_resource(SessionControl::new(setup(Some(dir))));
    let release = fifo.clone();
    returns_unaided(
        "reading the history",
        move || release.release(),
        || {
            for _ in 0..5 {
                app.update();
                std::thread::sleep(Duration::from_millis(20));
            }
        },
    );
    fifo.release();
    update_until(&mut app, "history", |app| {
        !app.world().resource::<HistoryView>().rows.is_empty()
    });
    assert_eq!(app.world().resource::<HistoryView>().error, None);
}
