//! The engine's numeric work on rayon's worker threads, and who reports a panic there.
//!
//! Our ops split their loops over rayon's pool. Called from outside it, every op hands its loop
//! over to the pool and the caller sleeps until it ends, so each of the many small ops of a
//! training step pays a wake-up on both sides. Run from a worker, a loop starts on the thread
//! that called it and the other workers join in: at 2 threads the bench's training went from
//! about 37 to 43 steps a second and shared-prefix scoring from 27.5 to 30 candidates a second
//! (docs/perf-cpu-train.md). Results do not change: the ops split by shape alone.

use std::cell::Cell;

use candle_core::Device;

/// The name of the engine's thread, which catches and reports its own panics.
pub const ENGINE_THREAD: &str = "nas-engine";

thread_local! {
    /// Set on a worker while it runs work handed over by a thread that reports its panics.
    static CALLER_REPORTS_PANICS: Cell<bool> = const { Cell::new(false) };
}

/// Whether a panic on this thread is caught and reported elsewhere: on the engine's thread,
/// or in work the engine handed to this worker (a panic hook then stays silent).
pub fn panic_reported_elsewhere() -> bool {
    std::thread::current().name() == Some(ENGINE_THREAD) || CALLER_REPORTS_PANICS.with(Cell::get)
}

/// Puts the flag back when the work ends or unwinds (the hook has run by then).
struct Restore(bool);

impl Drop for Restore {
    fn drop(&mut self) {
        CALLER_REPORTS_PANICS.with(|f| f.set(self.0));
    }
}

/// Runs `work` for tensors on `device` on one of rayon's worker threads while the calling
/// thread waits (directly on the thread when it is a worker, or when `device` is not the CPU:
/// CUDA work stays on the thread that opened the device). A panic in `work` reaches the caller
/// as a panic.
pub fn on_workers<R: Send>(device: &Device, work: impl FnOnce() -> R + Send) -> R {
    if !device.is_cpu() {
        return work();
    }
    let reported = panic_reported_elsewhere();
    rayon::scope(|_| {
        let _restore = Restore(CALLER_REPORTS_PANICS.with(|f| f.replace(reported)));
        work()
    })
}

#[cfg(test)]
mod tests {
    use super::{on_workers, panic_reported_elsewhere, ENGINE_THREAD};
    use candle_core::Device;

    /// Work from the engine's thread runs on a worker that knows its panics are reported;
    /// work from another thread does not, and the flag does not outlive the work. A panic in
    /// the work reaches the caller.
    #[test]
    fn workers_know_who_reports_their_panics() {
        let from = |name: &str| {
            let name = name.to_string();
            std::thread::Builder::new()
                .name(name)
                .spawn(|| {
                    let inside = on_workers(&Device::Cpu, || {
                        (
                            rayon::current_thread_index().is_some(),
                            panic_reported_elsewhere(),
                        )
                    });
                    let caught = std::panic::catch_unwind(|| {
                        on_workers(&Device::Cpu, || panic!("in the work"))
                    });
                    (inside, caught.is_err())
                })
                .unwrap()
                .join()
                .unwrap()
        };
        assert_eq!(from(ENGINE_THREAD), ((true, true), true));
        // After the engine's work (and its panic), work from elsewhere finds the flag unset.
        assert_eq!(from("other"), ((true, false), true));
    }
}
