//! `nas-navigator screenshot --out DIR`: opens the app on the current display, lets the
//! scripted session drive it on a small data set (train a little, score, probe, select, edit
//! a block) and writes one checked PNG per main view into DIR: scene-2d.png, scene-3d.png,
//! lego.png, blocks.png, charts.png, history.png, final.png. Exits non-zero with a one-line error if a view fails.
//! With `--soak-rounds N` it runs the soak instead (`app::script::soak`): N tiny rounds in
//! DIR/session-a with edits, probes and saves, two in DIR/session-b opened half way, then
//! back to the first; one JSON line of resident memory per round, scene-2d.png at the end.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct ScreenshotArgs {
    /// Folder for the pictures (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Data set of the scripted session (digits is built in).
    #[arg(long, default_value = "digits")]
    pub dataset: String,
    /// Give up (with an error) after this many seconds.
    #[arg(long, default_value_t = 900)]
    pub timeout_secs: u64,
    /// Run the soak instead: this many tiny rounds in DIR/session-a (and two in
    /// DIR/session-b, opened half way); the sessions are kept. 0: the photographed session.
    #[arg(long, default_value_t = 0)]
    pub soak_rounds: usize,
    /// Rounds of the photographed session: between two rounds the script accepts the block
    /// statistics' first suggestion, as an analyst would. With more than one round (the
    /// README's pictures) the rounds, probes and final network are sized for a real data
    /// set (see .ci/readme_pictures.sh).
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
}

/// The scripted session's engine and round: a small chain template, a short round.
#[cfg(feature = "app")]
#[derive(clap::Parser, Debug)]
struct ScriptDefaults {
    #[command(flatten)]
    engine: super::EngineArgs,
    #[command(flatten)]
    train: super::TrainArgs,
}

#[cfg(feature = "app")]
pub fn run(args: ScreenshotArgs) -> Result<()> {
    use std::time::Duration;

    use anyhow::Context;
    use clap::Parser;

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create", args.out.display()))?;
    let soak = args.soak_rounds > 0;
    // The soak's rounds are tiny: a few steps, a few dozen candidates.
    // A steered session (several rounds) is the README's: the full 4-stage chain on a real
    // data set, short rounds so that it runs in minutes in a debug build.
    let steered = !soak && args.rounds > 1;
    let (epochs, candidates, score_images) = if soak {
        ("1", "40", "100")
    } else if steered {
        ("2", "300", "500")
    } else {
        ("6", "150", "300")
    };
    let (stages, width) = if steered { ("4", "16") } else { ("3", "8") };
    let defaults = ScriptDefaults::try_parse_from([
        "screenshot",
        "--dataset",
        &args.dataset,
        "--stages",
        stages,
        "--width",
        width,
        "--epochs",
        epochs,
        "--candidates",
        candidates,
        "--score-images",
        score_images,
    ])?;
    let mut round = defaults.train.config(defaults.engine.seed)?;
    // A short schedule: warm up over a few steps, not the default hundred.
    round.warmup_steps = 10;
    let mut probe = round.clone();
    probe.epochs = 3;
    if soak {
        (round.warmup_steps, round.max_steps_per_epoch) = (2, 8);
        (probe.epochs, probe.max_steps_per_epoch) = (1, 4);
    }
    if steered {
        (round.warmup_steps, round.max_steps_per_epoch) = (20, 250);
        (probe.epochs, probe.max_steps_per_epoch) = (2, 120);
    }
    let folders = [args.out.join("session-a"), args.out.join("session-b")];
    let session = if soak {
        if let Some(f) = folders.iter().find(|f| f.exists()) {
            anyhow::bail!(
                "{}: exists; the soak needs an --out without sessions",
                f.display()
            );
        }
        folders[0].clone()
    } else {
        std::env::temp_dir().join(format!("nas-navigator-screenshot-{}", std::process::id()))
    };
    if !soak {
        let _ = std::fs::remove_dir_all(&session);
    }
    let setup = super::round::setup(&defaults.engine, &session)?;
    let mut script = nas_navigator::app::script::ScriptedSession::new(
        args.out.clone(),
        round.clone(),
        probe,
        Duration::from_secs(args.timeout_secs),
    );
    script = script.with_dataset(setup.dataset.clone());
    if soak {
        script = script.with_soak(args.soak_rounds, folders);
    } else {
        script = script.with_rounds(args.rounds.max(1));
    }
    let exit = nas_navigator::app::run_with(setup, round, Some(script));
    if !soak {
        let _ = std::fs::remove_dir_all(&session);
    }
    match exit {
        bevy::app::AppExit::Success => Ok(()),
        // The scripted session has already printed its one-line error.
        bevy::app::AppExit::Error(code) => std::process::exit(i32::from(code.get())),
    }
}

#[cfg(not(feature = "app"))]
pub fn run(_args: ScreenshotArgs) -> Result<()> {
    anyhow::bail!("this binary was built without the `app` feature; rebuild with default features")
}
