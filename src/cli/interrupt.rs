//! Ctrl-C (SIGINT) and SIGTERM in long commands: the first signal asks the running work to
//! stop at its next step (the command then saves what is finished and says how to resume);
//! a second one ends the process at once. Work registers its stop flag while it runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Stop flags of the work running now.
static RUNNING: Mutex<Vec<Arc<AtomicBool>>> = Mutex::new(Vec::new());
/// Whether a signal arrived.
static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// Exit code of a process ended by a second signal (128 + SIGINT, as shells report it).
const EXIT_ON_SECOND_SIGNAL: i32 = 130;

/// Installs the handler (once, at start). Without it signals end the process as usual.
pub fn install() {
    let result = ctrlc::set_handler(|| {
        if SIGNALLED.swap(true, Ordering::SeqCst) {
            eprintln!("\nsecond signal: quitting now");
            std::process::exit(EXIT_ON_SECOND_SIGNAL);
        }
        eprintln!("\nstopping at the next step (press Ctrl-C again to quit at once)");
        if let Ok(flags) = RUNNING.lock() {
            for flag in flags.iter() {
                flag.store(true, Ordering::SeqCst);
            }
        }
    });
    if let Err(e) = result {
        eprintln!("warning: Ctrl-C will end the process at once: {e}");
    }
}

/// Whether Ctrl-C or SIGTERM arrived.
pub fn signalled() -> bool {
    SIGNALLED.load(Ordering::SeqCst)
}

/// Keeps `flag` set by a signal until dropped.
pub struct Watch(Arc<AtomicBool>);

/// Sets `flag` when a signal arrives while the returned guard lives (at once if one
/// already did).
pub fn watch(flag: Arc<AtomicBool>) -> Watch {
    if signalled() {
        flag.store(true, Ordering::SeqCst);
    }
    if let Ok(mut flags) = RUNNING.lock() {
        flags.push(flag.clone());
    }
    Watch(flag)
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Ok(mut flags) = RUNNING.lock() {
            flags.retain(|f| !Arc::ptr_eq(f, &self.0));
        }
    }
}
