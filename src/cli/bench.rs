//! `nas-navigator bench`: the fixed engine benchmark; `--json` prints one JSON object last.

use anyhow::Result;
use clap::Args;

use nas_navigator::nas::bench::{self, BenchConfig};
use nas_navigator::nas::device::DeviceChoice;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Print the result as one JSON object (last line).
    #[arg(long)]
    pub json: bool,
    /// cpu or cuda.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// CPU threads for the numeric kernels (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Training steps measured (after 3 warm-up steps).
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
}

pub fn run(args: BenchArgs) -> Result<()> {
    if let Some(n) = args.threads {
        anyhow::ensure!(n > 0, "--threads must be at least 1");
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    let device = DeviceChoice::parse(&args.device)?.open()?;
    let cfg = BenchConfig {
        train_steps: args.steps.max(1),
        ..BenchConfig::default()
    };
    let r = bench::run(&cfg, &device)?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "config {} on {} ({} threads)",
            r.config, r.device, r.threads
        );
        println!(
            "training: {:.2} steps/s, {:.0} images/s",
            r.train_steps_per_s, r.train_images_per_s
        );
        println!(
            "scoring:  {:.2} candidates/s, {:.0} images/s (shared prefixes)",
            r.score_candidates_per_s, r.score_images_per_s
        );
        println!(
            "          {:.2} candidates/s, {:.0} images/s (batched: the group at once)",
            r.score_batched_candidates_per_s, r.score_batched_images_per_s
        );
        println!(
            "          {:.2} candidates/s, {:.0} images/s (one by one)",
            r.score_one_by_one_candidates_per_s, r.score_one_by_one_images_per_s
        );
        println!(
            "CPU time: {:.1} ms a training step, {:.1} ms a candidate (shared prefixes)",
            r.train_cpu_ms_per_step, r.score_cpu_ms_per_candidate
        );
        println!("peak RSS: {:.0} MB", r.peak_rss_mb);
    }
    Ok(())
}
