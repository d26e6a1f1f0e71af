//! Pause, resume and stop, checked once per step: commands that arrive mid-work are either
//! acted on (pause/resume/stop/checkpoint) or kept for when the work is done.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};

use super::protocol::{Command, Event};
use crate::nas::error::{NasError, Result};

/// The engine side of the command channel.
pub struct Control {
    pub commands: Receiver<Command>,
    pub events: Sender<Event>,
    /// Set from any thread to stop the current work (like burn's interrupter).
    pub interrupt: Arc<AtomicBool>,
    pub deferred: VecDeque<Command>,
    pub checkpoint_requested: bool,
    pub shutdown_requested: bool,
    /// Keeps the command channel open for a worker used without a controlling thread.
    pub keep_alive: Option<crossbeam_channel::Sender<Command>>,
}

impl Control {
    /// A control that takes commands from `commands` and whose events nobody reads (work
    /// run outside the engine: the final network, exports). `keep_alive` holds the command
    /// channel open when no other sender exists.
    pub fn listening_to(commands: Receiver<Command>, keep_alive: Option<Sender<Command>>) -> Self {
        let (events, _) = crossbeam_channel::bounded(1);
        Control {
            commands,
            events,
            interrupt: Arc::new(AtomicBool::new(false)),
            deferred: VecDeque::new(),
            checkpoint_requested: false,
            shutdown_requested: false,
            keep_alive,
        }
    }

    /// Sends an event; blocks while the channel is full (back-pressure, nothing dropped).
    /// Returns false when nobody listens any more.
    pub fn emit(&self, event: Event) -> bool {
        self.events.send(event).is_ok()
    }

    /// Called every step: handles pending commands; blocks while paused.
    /// Returns `Err(Stopped)` when the work must end now.
    pub fn check(&mut self) -> Result<()> {
        loop {
            if self.interrupt.swap(false, Ordering::SeqCst) {
                return Err(NasError::Stopped);
            }
            match self.commands.try_recv() {
                Ok(cmd) => self.handle(cmd)?,
                Err(crossbeam_channel::TryRecvError::Empty) => return Ok(()),
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    self.shutdown_requested = true;
                    return Err(NasError::Stopped);
                }
            }
        }
    }

    fn handle(&mut self, cmd: Command) -> Result<()> {
        match cmd {
            Command::Pause => self.wait_while_paused(),
            Command::Resume => Ok(()),
            Command::Stop => Err(NasError::Stopped),
            Command::Shutdown => {
                self.shutdown_requested = true;
                Err(NasError::Stopped)
            }
            Command::Checkpoint => {
                self.checkpoint_requested = true;
                Ok(())
            }
            other => {
                self.deferred.push_back(other);
                Ok(())
            }
        }
    }

    fn wait_while_paused(&mut self) -> Result<()> {
        self.emit(Event::Paused);
        loop {
            if self.interrupt.swap(false, Ordering::SeqCst) {
                return Err(NasError::Stopped);
            }
            match self
                .commands
                .recv_timeout(std::time::Duration::from_millis(100))
            {
                Ok(Command::Resume) => {
                    self.emit(Event::Resumed);
                    return Ok(());
                }
                Ok(Command::Stop) => return Err(NasError::Stopped),
                Ok(Command::Shutdown) => {
                    self.shutdown_requested = true;
                    return Err(NasError::Stopped);
                }
                Ok(Command::Pause) => {}
                Ok(Command::Checkpoint) => self.checkpoint_requested = true,
                Ok(other) => self.deferred.push_back(other),
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    self.shutdown_requested = true;
                    return Err(NasError::Stopped);
                }
            }
        }
    }
}
