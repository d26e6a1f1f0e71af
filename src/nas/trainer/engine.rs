//! The engine thread: owns the data, the supernet, the optimiser and the session; runs
//! commands one at a time and streams events. A failure is reported as an event and the
//! engine stays up; a panic in a command is caught and reported too (see `recover`).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread::JoinHandle;

use candle_core::Device;
use crossbeam_channel::{bounded, Receiver, Sender};

use super::checkpoint::{save_checkpoint, write_checkpoint};
use super::control::Control;
use super::protocol::{Command, Event};
use super::recover::{load_optimizer, panic_text};
use super::score::ScoreMode;
use crate::nas::data::{self, Augment, Dataset, DatasetSpec, Normalisation, Split};
use crate::nas::device::DeviceChoice;
use crate::nas::error::{NasError, Result};
use crate::nas::ops::Optimizer;
use crate::nas::session::{Session, SplitSpec};
use crate::nas::space::doc::TemplateDoc;
use crate::nas::space::{SuperGraph, TemplateSpec};
use crate::nas::supernet::Supernet;

/// Everything the engine needs to start.
#[derive(Debug, Clone)]
pub struct EngineSetup {
    pub dataset: DatasetSpec,
    /// The template for a new session (ignored when `session_dir` holds a session).
    pub template: TemplateSpec,
    pub device: DeviceChoice,
    pub session_dir: Option<PathBuf>,
    pub seed: u64,
    pub val_fraction: f64,
    /// Capacity of the event channel (the command channel holds 64).
    pub event_capacity: usize,
}

impl EngineSetup {
    /// The set-up that reopens an existing session as it was made (its dataset, template
    /// and split), on `device`.
    pub fn for_session(session: &Session, device: DeviceChoice) -> Self {
        Self {
            dataset: session.file.dataset.clone(),
            template: session
                .file
                .template_spec
                .clone()
                .unwrap_or(TemplateSpec::Chain {
                    stages: 4,
                    width: 16,
                }),
            device,
            session_dir: Some(session.dir.clone()),
            seed: session.file.split.seed,
            val_fraction: session.file.split.val_fraction,
            event_capacity: 16,
        }
    }
}

/// The UI/CLI side: send commands, receive events.
pub struct EngineHandle {
    pub commands: Sender<Command>,
    pub events: Receiver<Event>,
    pub interrupt: Arc<AtomicBool>,
    pub thread: Option<JoinHandle<()>>,
}

impl EngineHandle {
    pub fn send(&self, cmd: Command) -> bool {
        self.commands.send(cmd).is_ok()
    }

    /// Stops the current work within one step, even if the command queue is full.
    pub fn interrupt(&self) {
        self.interrupt
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Asks the thread to end and waits for it.
    pub fn shutdown(mut self) {
        let _ = self.commands.send(Command::Shutdown);
        self.interrupt();
        // Drain so a thread blocked on a full event channel can finish.
        while self
            .events
            .recv_timeout(std::time::Duration::from_millis(50))
            .is_ok()
        {}
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The state the engine thread works on.
pub struct Worker {
    pub data: Arc<Dataset>,
    pub split: Split,
    pub norm: Normalisation,
    pub augment: Augment,
    pub supernet: Supernet,
    pub optimizer: Option<Optimizer>,
    pub session: Option<Session>,
    pub control: Control,
    pub seed: u64,
    pub device: Device,
    /// How groups of candidates are scored (see [`ScoreMode`]); the default suits the device.
    pub scoring: ScoreMode,
}

pub struct Engine;

/// What `Worker::prepare` loads before the worker exists.
struct Prepared {
    data: Dataset,
    supernet: Supernet,
    optimizer: Option<Optimizer>,
    session: Option<Session>,
    device: Device,
    split: SplitSpec,
    warnings: Vec<String>,
}

impl Engine {
    /// Starts the engine thread; it loads data and weights, then says `Ready`.
    pub fn spawn(setup: EngineSetup) -> EngineHandle {
        let (cmd_tx, cmd_rx) = bounded(64);
        let (ev_tx, ev_rx) = bounded(setup.event_capacity.max(1));
        let interrupt = Arc::new(AtomicBool::new(false));
        let control = Control {
            commands: cmd_rx,
            events: ev_tx.clone(),
            interrupt: interrupt.clone(),
            deferred: Default::default(),
            checkpoint_requested: false,
            shutdown_requested: false,
            keep_alive: None,
        };
        let thread = std::thread::Builder::new()
            .name(crate::nas::workers::ENGINE_THREAD.into())
            .spawn(move || run_thread(setup, control, ev_tx))
            .ok();
        EngineHandle {
            commands: cmd_tx,
            events: ev_rx,
            interrupt,
            thread,
        }
    }
}

fn run_thread(setup: EngineSetup, control: Control, events: Sender<Event>) {
    let errors = events.clone();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut worker = match Worker::open(&setup, control) {
            Ok(w) => w,
            Err(e) => {
                let _ = errors.send(Event::Error {
                    message: e.to_string(),
                });
                return;
            }
        };
        worker.command_loop();
    }));
    if let Err(p) = result {
        let _ = events.send(Event::Error {
            message: format!("the engine crashed: {}", panic_text(&*p)),
        });
    }
    let _ = events.send(Event::Exited);
}

impl Worker {
    /// Loads the data, opens or creates the session, builds the supernet and its weights.
    pub fn open(setup: &EngineSetup, control: Control) -> Result<Self> {
        let p = Self::prepare(setup)?;
        let split = data::split(p.data.train.len(), p.split.val_fraction, p.split.seed);
        let norm = Normalisation::from_images(&p.data.train, &split.train);
        let augment = Augment::for_dataset(&p.data);
        let w = Self {
            data: Arc::new(p.data),
            split,
            norm,
            augment,
            supernet: p.supernet,
            optimizer: p.optimizer,
            session: p.session,
            control,
            seed: p.split.seed,
            scoring: ScoreMode::for_device(&p.device),
            device: p.device,
        };
        w.control.emit(Event::Ready {
            template: w.supernet.graph.name.clone(),
            template_doc: Box::new(TemplateDoc::from(&w.supernet.graph)),
            space_size: w.supernet.graph.space_size(),
            dataset: w.data.name.clone(),
            train_images: w.split.train.len(),
            val_images: w.split.val.len(),
            device: crate::nas::device::describe(&w.device).into(),
        });
        for message in p.warnings {
            w.control.emit(Event::Warning { message });
        }
        Ok(w)
    }

    fn prepare(setup: &EngineSetup) -> Result<Prepared> {
        let device = setup.device.open()?;
        let mut warnings = Vec::new();
        let existing = match &setup.session_dir {
            Some(dir) if Session::exists(dir) => {
                let (s, w) = Session::open(dir)?;
                warnings.extend(w);
                if !setup.dataset.matches(&s.file.dataset) {
                    warnings.push(format!(
                        "{}: the session was made on {}; it keeps that dataset ({} asked for)",
                        dir.display(),
                        s.file.dataset.name(),
                        setup.dataset.name()
                    ));
                }
                Some(s)
            }
            _ => None,
        };
        let dataset_spec = existing
            .as_ref()
            .map(|s| s.file.dataset.clone())
            .unwrap_or_else(|| setup.dataset.clone());
        let data = data::load(&dataset_spec)?;
        let split = existing
            .as_ref()
            .map(|s| s.file.split)
            .unwrap_or(SplitSpec {
                seed: setup.seed,
                val_fraction: setup.val_fraction,
            });
        let (graph, session) = match existing {
            Some(s) => (s.template()?, Some(s)),
            None => {
                let g = setup.template.build(data.shape(), data.classes());
                let s = match &setup.session_dir {
                    Some(dir) => {
                        let spec = Some(setup.template.clone());
                        let dataset = dataset_spec.pinned(data.shape());
                        Some(Session::create(dir, dataset, split, spec, &g)?)
                    }
                    None => None,
                };
                (g, s)
            }
        };
        let supernet = Supernet::new(graph, split.seed, &device)?;
        let mut optimizer = None;
        if let Some(s) = &session {
            warnings.extend(s.tidy_checkpoints()?);
            if s.weights_path().is_file() {
                // The template may have been edited since the weights were saved: blocks that
                // survived keep their weights, new ones start fresh.
                let fresh = supernet.load_matching(&s.weights_path())?;
                if fresh > 0 {
                    warnings.push(format!(
                        "{}: {fresh} tensors are new in the edited template and start fresh",
                        s.weights_path().display()
                    ));
                }
            }
            optimizer = load_optimizer(s, &device)?;
        }
        Ok(Prepared {
            data,
            supernet,
            optimizer,
            session,
            device,
            split,
            warnings,
        })
    }

    fn command_loop(&mut self) {
        loop {
            if self.control.shutdown_requested {
                return;
            }
            let cmd = match self.control.deferred.pop_front() {
                Some(c) => c,
                None => match self.control.commands.recv() {
                    Ok(c) => c,
                    Err(_) => return,
                },
            };
            let outcome = match cmd {
                Command::Shutdown => return,
                cmd => self.execute_guarded(cmd),
            };
            match outcome {
                Ok(()) => {}
                Err(NasError::Stopped) => {
                    self.control.emit(Event::Stopped);
                }
                Err(e) => {
                    self.control.emit(Event::Error {
                        message: e.to_string(),
                    });
                }
            }
        }
    }

    /// Runs one command (not `Shutdown`) to its end.
    pub fn execute(&mut self, cmd: Command) -> Result<()> {
        match cmd {
            Command::RunRound(cfg) => self.run_round(cfg).map(|_| ()),
            Command::Score(list) => self.score_strings(&list).map(|_| ()),
            Command::Probe { candidates, config } => {
                self.run_probes(&candidates, &config).map(|_| ())
            }
            Command::SetTemplate(doc) => self.set_template(*doc),
            Command::BranchFrom(round) => self.branch_from(round),
            Command::Checkpoint => self.checkpoint(),
            Command::RecordEdits(edits) => self.record_edits(edits),
            Command::Shutdown | Command::Pause | Command::Resume | Command::Stop => Ok(()),
        }
    }

    /// Copies the weights a finished round ended with to `rounds/round-N.safetensors`.
    pub fn keep_round_weights(&self, round: usize) -> Result<()> {
        let Some(s) = &self.session else {
            return Ok(());
        };
        let path = s.round_weights_path(round);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| NasError::file(dir, e.to_string()))?;
        }
        self.supernet.save(&path)
    }

    /// Goes back to finished round `round`: its template and weights become current (the
    /// optimizer starts afresh), and the next round records `round` as its parent.
    pub fn branch_from(&mut self, round: usize) -> Result<()> {
        let Some(s) = self.session.as_mut() else {
            return Err(NasError::Config("branching needs a session folder".into()));
        };
        let Some(record) = s.file.rounds.iter().find(|r| r.round == round) else {
            let known: Vec<String> = s.file.rounds.iter().map(|r| r.round.to_string()).collect();
            return Err(NasError::Config(format!(
                "{}: no round {round} to branch from (rounds: {})",
                s.dir.display(),
                known.join(", ")
            )));
        };
        if !record.finished {
            return Err(NasError::Config(format!(
                "round {round} did not finish; branch from a finished round"
            )));
        }
        let weights = s.round_weights_path(round);
        if !weights.is_file() {
            return Err(NasError::Config(format!(
                "{}: the weights of round {round} were not kept, so it cannot be branched from",
                weights.display()
            )));
        }
        let graph = record.template.clone().into_graph()?;
        let supernet = Supernet::new(graph, self.seed, &self.device)?;
        supernet.load_matching(&weights)?;
        self.supernet = supernet;
        self.optimizer = None;
        s.file.pending_parent = Some(round);
        s.file.pending_edits.clear();
        s.save_template(&self.supernet.graph)?;
        // A generation without optimiser state: it starts afresh.
        write_checkpoint(s, &self.supernet, None)?;
        self.control.emit(Event::TemplateChanged {
            template_doc: Box::new(TemplateDoc::from(&self.supernet.graph)),
            space_size: self.supernet.graph.space_size(),
            carry: Default::default(),
        });
        Ok(())
    }

    /// Replaces the template, keeping the weights of every block that survived.
    pub fn set_template(&mut self, doc: TemplateDoc) -> Result<()> {
        let graph: SuperGraph = doc.into_graph()?;
        let (next, carry) = self.supernet.carry_over(graph, self.seed)?;
        self.supernet = next;
        if let Some(opt) = &mut self.optimizer {
            let names = self
                .supernet
                .params(None)
                .into_iter()
                .map(|(n, _)| n)
                .collect();
            opt.retain(&names);
        }
        if let Some(s) = &self.session {
            s.save_template(&self.supernet.graph)?;
        }
        self.control.emit(Event::TemplateChanged {
            template_doc: Box::new(TemplateDoc::from(&self.supernet.graph)),
            space_size: self.supernet.graph.space_size(),
            carry,
        });
        Ok(())
    }

    /// Keeps edits for the next round's record (nothing to keep without a session).
    pub fn record_edits(&mut self, edits: Vec<crate::nas::session::EditRecord>) -> Result<()> {
        if let Some(s) = self.session.as_mut() {
            s.file.pending_edits.extend(edits);
            s.save_file()?;
        }
        Ok(())
    }

    /// Saves weights, optimiser state and the session files.
    pub fn checkpoint(&mut self) -> Result<()> {
        save_checkpoint(
            self.session.as_mut(),
            &self.supernet,
            self.optimizer.as_ref(),
            &mut self.control,
        )
    }
}

impl Engine {
    /// A control for using a [`Worker`] synchronously, with nobody listening to events.
    pub fn detached_control() -> Control {
        let (keep, commands) = bounded(1);
        Control::listening_to(commands, Some(keep))
    }
}
