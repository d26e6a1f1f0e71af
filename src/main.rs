//! The `nas-navigator` binary: a thin error boundary over the CLI (and, with the `app`
//! feature, the desktop app). Errors print as one line on stderr with a non-zero exit.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Never show a Rust panic message or backtrace to a user: report one line instead.
    // The engine thread catches its own panics and reports them as one error event.
    std::panic::set_hook(Box::new(|info| {
        if std::thread::current().name() == Some("nas-engine") {
            return;
        }
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown failure".into());
        eprintln!("error: internal failure: {msg}");
    }));
    nas_navigator::nas::device::tune_allocator();
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
