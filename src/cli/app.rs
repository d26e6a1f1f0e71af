//! `nas-navigator app` (and no subcommand): opens the desktop app on an engine for a session.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{EngineArgs, TrainArgs};

#[derive(Args, Debug)]
pub struct AppArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
    /// The round the "Train round" button runs.
    #[command(flatten)]
    pub train: TrainArgs,
    /// Session folder (created if new, continued if it exists).
    #[arg(long, default_value = "sessions/app")]
    pub session: PathBuf,
}

#[cfg(feature = "app")]
pub fn run(args: AppArgs) -> Result<()> {
    args.engine.apply_threads()?;
    let config = args.train.config(args.engine.seed)?;
    let setup = super::round::setup(&args.engine, &args.session)?;
    match nas_navigator::app::run(setup, config) {
        bevy::app::AppExit::Success => Ok(()),
        bevy::app::AppExit::Error(code) => anyhow::bail!("the app exited with code {code}"),
    }
}

#[cfg(not(feature = "app"))]
pub fn run(_args: AppArgs) -> Result<()> {
    anyhow::bail!("this binary was built without the `app` feature; rebuild with default features")
}
