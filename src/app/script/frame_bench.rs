//! The fake scene's frame benchmark: the camera tours a fixed step per frame, the wall time
//! between frames is recorded after a warm-up, with the process's CPU time, how often the
//! interface was painted and how often the points were rebuilt; the run prints the figures
//! (the last line as JSON), keeps them as a [`FrameReport`], optionally saves a picture of
//! the window, and exits.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;

use crate::app::scene::camera::Orbit;
use crate::app::scene::scatter::Scatter;
use crate::app::shell::presentation::{capture, Screenshots};
use crate::app::shell::ui_cache::UiCache;

/// Frames to skip, then frames to time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchFrames {
    pub warmup: usize,
    pub frames: usize,
}

/// A picture of the window taken after the timed frames (the run exits once it is saved).
#[derive(Resource, Debug, Clone)]
struct ShotAfterBench(PathBuf);

/// How far the tour moves each frame in benchmark mode (as if at 30 frames per second).
const TOUR_STEP: Duration = Duration::from_millis(33);

/// Frame times of a benchmark run.
#[derive(Resource)]
struct Bench {
    cfg: BenchFrames,
    label: String,
    seen: usize,
    last: Option<Instant>,
    times_ms: Vec<f64>,
    /// The process's CPU time (all threads, the software rasteriser's included) when timing
    /// began.
    cpu_start_secs: Option<f64>,
    /// The points' rebuild count when timing began.
    builds_at_start: u64,
    /// Frames spent waiting for the picture after the timed ones.
    waited_for_shot: usize,
}

/// Frames to wait for the picture after the timed ones before giving up with an error.
const SHOT_WAIT_FRAMES: usize = 600;

/// The figures of a finished benchmark run (in the app's world once the timed frames are
/// done, for a caller that drives the app's updates itself).
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct FrameReport {
    pub times_ms: Vec<f64>,
    pub cpu_ms_per_frame: Option<f64>,
    /// Rebuilds of the points (a walk over every candidate) during the timed frames: none
    /// when nothing but the camera moved.
    pub points_rebuilt: u64,
}

/// Turns the app into a benchmark run labelled `label` (`key=value` pairs, copied into the
/// JSON line).
pub(super) fn add_frame_bench(
    app: &mut App,
    bench: BenchFrames,
    label: String,
    screenshot: Option<PathBuf>,
) {
    // Every frame advances the tour by the same step, however long it took: runs of
    // different speed see the same views, so their times compare.
    app.insert_resource(TimeUpdateStrategy::ManualDuration(TOUR_STEP))
        .insert_resource(Orbit {
            tour_speed: 0.5,
            ..default()
        })
        .insert_resource(Bench {
            cfg: bench,
            label,
            seen: 0,
            last: None,
            times_ms: Vec::with_capacity(bench.frames),
            cpu_start_secs: None,
            builds_at_start: 0,
            waited_for_shot: 0,
        })
        .add_systems(Last, time_frames);
    if let Some(path) = screenshot {
        app.insert_resource(ShotAfterBench(path));
    }
}

/// Records the wall time between frames; after the run, reports and exits.
fn time_frames(
    mut commands: Commands,
    mut bench: ResMut<Bench>,
    caches: Query<&UiCache>,
    shot: Option<Res<ShotAfterBench>>,
    mut shots: ResMut<Screenshots>,
    scatter: Res<Scatter>,
    mut exit: MessageWriter<AppExit>,
) {
    if bench.times_ms.len() >= bench.cfg.frames {
        // Timed already: waiting for the picture.
        bench.waited_for_shot += 1;
        match shot.map(|s| shots.0.get(&s.0).cloned().flatten()) {
            None | Some(Some(Ok(()))) => {
                exit.write(AppExit::Success);
            }
            Some(Some(Err(e))) => {
                error!("the picture was not saved: {e}");
                exit.write(AppExit::error());
            }
            Some(None) if bench.waited_for_shot > SHOT_WAIT_FRAMES => {
                error!("no picture came back after {SHOT_WAIT_FRAMES} frames; giving up");
                exit.write(AppExit::error());
            }
            Some(None) => {}
        }
        return;
    }
    let now = Instant::now();
    let previous = bench.last.replace(now);
    bench.seen += 1;
    let Some(previous) = previous else { return };
    if bench.seen <= bench.cfg.warmup + 1 {
        bench.cpu_start_secs = crate::nas::memory::cpu_seconds();
        bench.builds_at_start = scatter.builds;
        return;
    }
    if bench.times_ms.len() < bench.cfg.frames {
        let ms = (now - previous).as_secs_f64() * 1e3;
        bench.times_ms.push(ms);
        if bench.times_ms.len() < bench.cfg.frames {
            return;
        }
        let cpu_ms_per_frame = crate::nas::memory::cpu_seconds()
            .zip(bench.cpu_start_secs)
            .map(|(end, start)| (end - start) * 1e3 / bench.times_ms.len() as f64);
        let ui_painted = caches.iter().map(|c| c.painted_frames).sum::<u64>();
        let ui_reused = caches.iter().map(|c| c.reused_frames).sum::<u64>();
        println!("interface painted in {ui_painted} frames, reused in {ui_reused} (whole run)");
        let figures = FrameReport {
            times_ms: bench.times_ms.clone(),
            cpu_ms_per_frame,
            points_rebuilt: scatter.builds - bench.builds_at_start,
        };
        report(&bench.label, &figures);
        commands.insert_resource(figures);
        match shot {
            Some(shot) => capture(&mut commands, &mut shots, &shot.0),
            None => {
                exit.write(AppExit::Success);
            }
        }
    }
}

/// Prints the summary line and, last, the same as one JSON object.
fn report(label: &str, figures: &FrameReport) {
    let cpu_ms_per_frame = figures.cpu_ms_per_frame;
    let mut sorted = figures.times_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len().max(1);
    let pct = |q: f64| sorted.get(((n - 1) as f64 * q).round() as usize).copied();
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let (p50, p95) = (pct(0.5).unwrap_or(0.0), pct(0.95).unwrap_or(0.0));
    let max = sorted.last().copied().unwrap_or(0.0);
    let fps = if mean > 0.0 { 1e3 / mean } else { 0.0 };
    println!(
        "scene frame time: {label} frames={} mean_ms={mean:.2} p50_ms={p50:.2} \
         p95_ms={p95:.2} max_ms={max:.2} fps={fps:.1} cpu_ms_per_frame={} points_rebuilt={}",
        sorted.len(),
        cpu_ms_per_frame.map_or("?".into(), |ms| format!("{ms:.1}")),
        figures.points_rebuilt
    );
    let mut fields = serde_json::Map::new();
    for pair in label.split_whitespace() {
        if let Some((k, v)) = pair.split_once('=') {
            let value = v
                .parse::<u64>()
                .map_or_else(|_| serde_json::json!(v), |n| serde_json::json!(n));
            fields.insert(k.to_string(), value);
        }
    }
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    for (k, v) in [
        ("mean_ms", mean),
        ("p50_ms", p50),
        ("p95_ms", p95),
        ("max_ms", max),
        ("fps", fps),
    ] {
        fields.insert(k.to_string(), serde_json::json!(round2(v)));
    }
    fields.insert("frames".into(), serde_json::json!(sorted.len()));
    fields.insert(
        "points_rebuilt".into(),
        serde_json::json!(figures.points_rebuilt),
    );
    fields.insert(
        "cpu_ms_per_frame".into(),
        serde_json::json!(cpu_ms_per_frame.map(round2)),
    );
    fields.insert(
        "peak_rss_mb".into(),
        serde_json::json!(crate::nas::memory::peak_rss_mib().map(round2)),
    );
    println!("{}", serde_json::Value::Object(fields));
}
