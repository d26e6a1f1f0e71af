//! The fake scene's frame benchmark: the camera tours a fixed step per frame, the wall time
//! between frames is recorded after a warm-up, with the process's CPU time and how often the
//! interface was painted; the run prints the figures (the last line as JSON), optionally
//! saves a picture of the window, and exits.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;

use crate::app::scene::camera::Orbit;
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
    mut exit: MessageWriter<AppExit>,
) {
    if bench.times_ms.len() >= bench.cfg.frames {
        // Timed already: waiting for the picture.
        let saved = shot.is_none_or(|s| shots.0.get(&s.0).is_some_and(|r| r.is_some()));
        if saved {
            exit.write(AppExit::Success);
        }
        return;
    }
    let now = Instant::now();
    let previous = bench.last.replace(now);
    bench.seen += 1;
    let Some(previous) = previous else { return };
    if bench.seen <= bench.cfg.warmup + 1 {
        bench.cpu_start_secs = crate::nas::memory::cpu_seconds();
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
        report(&bench.label, &bench.times_ms, cpu_ms_per_frame);
        match shot {
            Some(shot) => capture(&mut commands, &mut shots, &shot.0),
            None => {
                exit.write(AppExit::Success);
            }
        }
    }
}

/// Prints the summary line and, last, the same as one JSON object.
fn report(label: &str, times_ms: &[f64], cpu_ms_per_frame: Option<f64>) {
    let mut sorted = times_ms.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len().max(1);
    let pct = |q: f64| sorted.get(((n - 1) as f64 * q).round() as usize).copied();
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let (p50, p95) = (pct(0.5).unwrap_or(0.0), pct(0.95).unwrap_or(0.0));
    let max = sorted.last().copied().unwrap_or(0.0);
    let fps = if mean > 0.0 { 1e3 / mean } else { 0.0 };
    println!(
        "scene frame time: {label} frames={} mean_ms={mean:.2} p50_ms={p50:.2} \
         p95_ms={p95:.2} max_ms={max:.2} fps={fps:.1} cpu_ms_per_frame={}",
        sorted.len(),
        cpu_ms_per_frame.map_or("?".into(), |ms| format!("{ms:.1}"))
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
        "cpu_ms_per_frame".into(),
        serde_json::json!(cpu_ms_per_frame.map(round2)),
    );
    fields.insert(
        "peak_rss_mb".into(),
        serde_json::json!(crate::nas::memory::peak_rss_mib().map(round2)),
    );
    println!("{}", serde_json::Value::Object(fields));
}
