//! The search-space scene on fake data, no engine: to look at it, or (with `--bench-frames`)
//! to time its frames while the camera tours; the last line printed is then one JSON object.
//!
//! `cargo run --example scene_fake_data -- [--points N] [--dims 2|3] [--stream K]
//! [--scored F] [--bench-frames F] [--warmup W] [--point-size F] [--screenshot PNG]
//! [--offscreen]`

use bevy::app::AppExit;
use clap::Parser;
use nas_navigator::app::scene::scatter::SceneDims;
use nas_navigator::app::script::demo::{run_fake_scene, BenchFrames, FakeScene};

#[derive(Parser, Debug)]
#[command(about = "The NAS-Navigator scene on fake data (no engine)")]
struct Args {
    /// How many fake candidates.
    #[arg(long, default_value_t = 10_000)]
    points: usize,
    /// 2 (flat scene) or 3 (orbiting camera).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(2..=3))]
    dims: u8,
    /// Add this many points per frame until all exist (0: all at once).
    #[arg(long, default_value_t = 0)]
    stream: usize,
    /// Share of the points that have an accuracy (the rest draw grey).
    #[arg(long, default_value_t = 0.85)]
    scored: f32,
    /// Time this many frames, print the figures and exit.
    #[arg(long)]
    bench_frames: Option<usize>,
    /// Frames to skip before timing.
    #[arg(long, default_value_t = 30)]
    warmup: usize,
    /// Point size, times the automatic one (which is 0.6 of full size at 100,000 points:
    /// 1.667 draws them at full size).
    #[arg(long, default_value_t = 1.0)]
    point_size: f32,
    /// With --bench-frames: save a PNG of the window after the timed frames.
    #[arg(long)]
    screenshot: Option<std::path::PathBuf>,
    /// With --bench-frames: draw into an image of the window's size, with no window system
    /// and no display (the GPU machine's way; each frame waits for the GPU to finish it).
    #[arg(long, requires = "bench_frames")]
    offscreen: bool,
}

fn main() -> AppExit {
    let args = Args::parse();
    if !(0.0..=1.0).contains(&args.scored) {
        eprintln!("--scored must be between 0 and 1");
        return AppExit::from_code(2);
    }
    if !(0.1..=10.0).contains(&args.point_size) {
        eprintln!("--point-size must be between 0.1 and 10");
        return AppExit::from_code(2);
    }
    run_fake_scene(FakeScene {
        points: args.points,
        dims: if args.dims == 2 {
            SceneDims::Flat
        } else {
            SceneDims::Space
        },
        scored_fraction: args.scored,
        stream_per_frame: args.stream,
        bench: args.bench_frames.map(|frames| BenchFrames {
            warmup: args.warmup,
            frames: frames.max(1),
        }),
        screenshot: args.screenshot,
        point_size: args.point_size,
        offscreen: args.offscreen,
    })
}
