//! `nas-navigator latency`: measures every block's latency on this device and writes
//! `latency.json` into the session; `stats` then adds a Pareto front against latency.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::session::{atomic, Session};
use nas_navigator::nas::supernet::Supernet;

#[derive(Args, Debug)]
pub struct LatencyArgs {
    #[arg(long)]
    pub session: PathBuf,
    /// Images per forward pass.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Timed passes per block (after one warm-up).
    #[arg(long, default_value_t = 10)]
    pub reps: usize,
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

pub fn run(args: LatencyArgs) -> Result<()> {
    if !Session::exists(&args.session) {
        bail!("{}: no session here", args.session.display());
    }
    if args.batch == 0 || args.reps == 0 {
        bail!("--batch and --reps must be at least 1");
    }
    let (session, _) = Session::open(&args.session)?;
    let device = DeviceChoice::parse(&args.device)?.open()?;
    let net = Supernet::new(session.template()?, 0, &device)?;
    let table = net.measure_latency(args.batch, args.reps)?;
    let path = args.session.join("latency.json");
    atomic::write_json(&path, &table)?;
    let mut slowest = table.blocks.clone();
    slowest.sort_by(|a, b| b.ms.total_cmp(&a.ms));
    println!(
        "{} blocks timed on {} at batch {}; slowest:",
        table.blocks.len(),
        table.device,
        table.batch
    );
    for b in slowest.iter().take(10) {
        println!(
            "  {:>8.3} ms  {}:{} on edge {}",
            b.ms, b.decision, b.block, b.edge
        );
    }
    println!("written to {}", path.display());
    Ok(())
}
