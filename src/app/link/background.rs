//! Work the app does off the frame: one named thread per kind of job, fed through a bounded
//! channel; either the newest job replaces one still waiting (`latest`: statistics, reads of
//! the session) or every job is kept in order (`queued`: the layouts). Each job runs under
//! `catch_unwind`, so a panic comes back as an error message (and the thread takes the next
//! job) instead of a silent death; dropping the handle never waits for the thread.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};

use crate::nas::trainer::recover::panic_text;

/// A job's outcome: its result, or why there is none (an error or a panic, in words).
pub type Outcome<R> = Result<R, String>;

/// Runs `work`, turning a panic in it into an error naming `what` ("the layout thread"):
/// the one panic guard of every thread the app starts.
pub fn guarded<R>(what: &str, work: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(work))
        .map_err(|p| format!("{what} panicked: {}", panic_text(&*p)))
}

/// A background thread taking jobs `J` and giving back `R`.
pub struct Background<J, R> {
    jobs: Sender<J>,
    /// The waiting end of `jobs`, kept to drop a job the thread has not started yet.
    waiting: Receiver<J>,
    results: Receiver<Outcome<R>>,
    name: &'static str,
    /// Whether a new job replaces one still waiting.
    replace_waiting: bool,
}

impl<J: Send + 'static, R: Send + 'static> Background<J, R> {
    /// A thread `name` where only the newest job waiting counts; `work` runs each in turn.
    pub fn latest(name: &'static str, work: impl FnMut(J) -> Outcome<R> + Send + 'static) -> Self {
        Self::spawn(name, 1, true, work)
    }

    /// A thread `name` that runs every job in order, `capacity` waiting at most.
    pub fn queued(
        name: &'static str,
        capacity: usize,
        work: impl FnMut(J) -> Outcome<R> + Send + 'static,
    ) -> Self {
        Self::spawn(name, capacity.max(1), false, work)
    }

    fn spawn(
        name: &'static str,
        capacity: usize,
        replace_waiting: bool,
        mut work: impl FnMut(J) -> Outcome<R> + Send + 'static,
    ) -> Self {
        let (jobs, job_rx) = bounded::<J>(capacity);
        let (out_tx, results) = bounded::<Outcome<R>>(capacity.max(4));
        let waiting = job_rx.clone();
        let started = std::thread::Builder::new()
            .name(format!("nas-{name}"))
            .spawn(move || {
                for job in job_rx {
                    let outcome = guarded(&format!("the {name} thread"), || work(job))
                        .and_then(|outcome| outcome);
                    if out_tx.send(outcome).is_err() {
                        return;
                    }
                }
            });
        let (jobs, results) = match started {
            Ok(_) => (jobs, results),
            Err(e) => {
                // No thread: every job is answered at once with why.
                let (tx, rx) = bounded(1);
                let _ = tx.send(Err(format!("cannot start the {name} thread: {e}")));
                (jobs, rx)
            }
        };
        Self {
            jobs,
            waiting,
            results,
            name,
            replace_waiting,
        }
    }

    /// Queues `job` (in `latest` mode replacing one that has not started); gives it back
    /// when the queue is full or the thread is gone, so the caller can try next frame.
    pub fn submit(&self, job: J) -> Result<(), J> {
        if self.replace_waiting {
            while self.waiting.try_recv().is_ok() {}
        }
        match self.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(job)) if self.replace_waiting => {
                // The slot was refilled between the drain and the send: replace again.
                while self.waiting.try_recv().is_ok() {}
                self.jobs.try_send(job).map_err(TrySendError::into_inner)
            }
            Err(e) => Err(e.into_inner()),
        }
    }

    /// A finished job's outcome, if one is ready (never waits).
    pub fn try_recv(&self) -> Option<Outcome<R>> {
        self.results.try_recv().ok()
    }

    /// The thread's name, for messages.
    pub fn name(&self) -> &'static str {
        self.name
    }
}
