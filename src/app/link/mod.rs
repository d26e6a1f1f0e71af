//! The trainer link: the only place that touches the engine's channels. Each frame it drains
//! engine events within a time and count budget into `EngineEventReceived` messages, and
//! sends the commands the UI asked for; a full command channel keeps them queued, so no
//! frame ever blocks on the engine.

pub mod background;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};

use crate::nas::trainer::{Command, EngineHandle, Event};

/// An engine event, as received this frame (plain data; no tensors).
#[derive(Message, Debug, Clone)]
pub struct EngineEventReceived(pub Event);

/// A command the UI asked the engine to run.
#[derive(Message, Debug, Clone)]
pub struct CommandRequested(pub Command);

/// The engine's channel ends.
#[derive(Resource)]
pub struct EngineLink {
    pub events: Receiver<Event>,
    pub commands: Sender<Command>,
    pub interrupt: Option<Arc<AtomicBool>>,
    thread: Option<JoinHandle<()>>,
    /// Commands waiting for room in the command channel.
    pending: VecDeque<Command>,
}

impl EngineLink {
    pub fn from_channels(events: Receiver<Event>, commands: Sender<Command>) -> Self {
        Self {
            events,
            commands,
            interrupt: None,
            thread: None,
            pending: VecDeque::new(),
        }
    }

    pub fn from_handle(mut handle: EngineHandle) -> Self {
        let thread = handle.thread.take();
        Self {
            events: handle.events.clone(),
            commands: handle.commands.clone(),
            interrupt: Some(handle.interrupt.clone()),
            thread,
            pending: VecDeque::new(),
        }
    }

    /// Stops the engine's current work within one step, bypassing the command queue.
    pub fn interrupt(&self) {
        if let Some(flag) = &self.interrupt {
            flag.store(true, Ordering::SeqCst);
        }
    }
}

impl Drop for EngineLink {
    fn drop(&mut self) {
        let _ = self.commands.try_send(Command::Shutdown);
        self.interrupt();
        if let Some(t) = self.thread.take() {
            // Let a thread blocked on a full event channel finish, then wait for it.
            while !t.is_finished() {
                while self.events.try_recv().is_ok() {}
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = t.join();
        }
    }
}

/// How much of a frame the drain may take.
#[derive(Resource, Debug, Clone, Copy)]
pub struct DrainBudget {
    pub duration: Duration,
    pub max_events: usize,
}

impl Default for DrainBudget {
    fn default() -> Self {
        Self {
            duration: Duration::from_millis(4),
            max_events: 5_000,
        }
    }
}

/// What the link saw: for the status bar and for tests.
#[derive(Resource, Debug, Default, Clone)]
pub struct LinkStats {
    pub received: u64,
    pub last_frame: usize,
    pub commands_sent: u64,
    pub engine_gone: bool,
}

/// Drains events until the budget is spent or the channel is empty.
pub fn drain_engine_events(
    link: Res<EngineLink>,
    budget: Res<DrainBudget>,
    mut stats: ResMut<LinkStats>,
    mut out: MessageWriter<EngineEventReceived>,
) {
    let start = Instant::now();
    let mut n = 0;
    while n < budget.max_events && start.elapsed() < budget.duration {
        match link.events.try_recv() {
            Ok(event) => {
                out.write(EngineEventReceived(event));
                n += 1;
            }
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => {
                stats.engine_gone = true;
                break;
            }
        }
    }
    stats.received += n as u64;
    stats.last_frame = n;
}

/// Sends requested commands without blocking; what does not fit waits for the next frame.
pub fn send_commands(
    mut link: ResMut<EngineLink>,
    mut stats: ResMut<LinkStats>,
    mut requests: MessageReader<CommandRequested>,
) {
    for CommandRequested(cmd) in requests.read() {
        link.pending.push_back(cmd.clone());
    }
    while let Some(cmd) = link.pending.pop_front() {
        match link.commands.try_send(cmd) {
            Ok(()) => stats.commands_sent += 1,
            Err(TrySendError::Full(cmd)) => {
                link.pending.push_front(cmd);
                break;
            }
            Err(TrySendError::Disconnected(_)) => {
                stats.engine_gone = true;
                link.pending.clear();
                break;
            }
        }
    }
}

/// The link as a plugin; the `EngineLink` resource is inserted by whoever starts the engine.
pub struct TrainerLinkPlugin;

impl Plugin for TrainerLinkPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<EngineEventReceived>()
            .add_message::<CommandRequested>()
            .init_resource::<DrainBudget>()
            .init_resource::<LinkStats>()
            .add_systems(
                PreUpdate,
                drain_engine_events.run_if(resource_exists::<EngineLink>),
            )
            .add_systems(
                PostUpdate,
                send_commands.run_if(resource_exists::<EngineLink>),
            );
    }
}
