//! The `nas-navigator` binary: a thin error boundary over the CLI (and, with the `app`
//! feature, the desktop app). Errors print as one line on stderr with a non-zero exit,
//! clap's argument errors included (help and version print as clap writes them).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Never show a Rust panic message or backtrace to a user: report one line instead.
    // The engine thread catches its own panics (those of the work it hands to rayon's workers
    // too) and reports them as one error event.
    std::panic::set_hook(Box::new(|info| {
        if nas_navigator::nas::workers::panic_reported_elsewhere() {
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
    nas_navigator::nas::device::inline_elementwise();
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => return argument_error(e),
    };
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

/// Help and version print as clap writes them; a wrong argument is one line on stderr (clap's
/// first line, then where to read the usage), exit code 2.
fn argument_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.use_stderr() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    // clap's message is the lines before its usage block (one, or a list of missing flags).
    let text = e.render().to_string();
    let message: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    let first = match message.join(" ") {
        m if m.starts_with("error:") => m,
        m if m.is_empty() => "error: bad arguments".into(),
        m => format!("error: {m}"),
    };
    let command: Vec<String> = std::env::args()
        .skip(1)
        .take_while(|a| !a.starts_with('-'))
        .take(1)
        .collect();
    let help = match command.first() {
        Some(sub) if e.kind() != ErrorKind::InvalidSubcommand => {
            format!("nas-navigator {sub} --help")
        }
        _ => "nas-navigator --help".into(),
    };
    eprintln!("{first} (usage: {help})");
    ExitCode::from(2)
}
