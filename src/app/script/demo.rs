//! The scene on fake data, with no engine: candidate entities are spawned directly with
//! positions drawn from a seeded mixture of 3D Gaussian blobs and an accuracy that varies
//! smoothly over the space (plus noise), so the scene can be looked at, and its frame time
//! measured, at any size. Optionally the points stream in a few per frame; in benchmark mode
//! the camera tours, frame times are recorded after a warm-up and the run prints them (the
//! last line as JSON) and exits.

use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy::window::PresentMode;
use crossbeam_channel::{Receiver, Sender};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::app::link::EngineLink;
use crate::app::scene::camera::Orbit;
use crate::app::scene::scatter::{ScatterPosition, SceneDims};
use crate::app::state::candidates::{
    Accuracy, CandidateIndex, CandidateNode, CandidateUpdated, Cost, ScoredInRound, TemplateGraph,
};
use crate::nas::space::TemplateSpec;
use crate::nas::trainer::{Command, Event};

/// Frames to skip, then frames to time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchFrames {
    pub warmup: usize,
    pub frames: usize,
}

/// What the fake scene shows and whether it is timed.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeScene {
    pub points: usize,
    pub dims: SceneDims,
    /// Share of the points with an accuracy (the rest are grey, sampled but not scored).
    pub scored_fraction: f32,
    /// Points added per frame until all exist (0: all on the first frame).
    pub stream_per_frame: usize,
    pub bench: Option<BenchFrames>,
}

/// How far the tour moves each frame in benchmark mode (as if at 30 frames per second).
const TOUR_STEP: Duration = Duration::from_millis(33);

/// Seed of the fake data (the same picture every run).
const SEED: u64 = 0x5eed_f00d;

/// One fake candidate: position, accuracy and cost.
type FakePoint = (ScatterPosition, Accuracy, Cost);

/// `n` fake candidates from a mixture of Gaussian blobs in about [-1, 1]^3.
pub fn fake_points(n: usize, scored_fraction: f32, seed: u64) -> Vec<FakePoint> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let blobs: Vec<(Vec3, f32)> = (0..6)
        .map(|_| {
            let centre = Vec3::new(
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
            );
            (centre, rng.random_range(0.1..0.35))
        })
        .collect();
    let gauss = |rng: &mut ChaCha8Rng| {
        // Box-Muller: one standard normal from two uniforms.
        let u1: f32 = rng.random_range(f32::EPSILON..1.0);
        let u2: f32 = rng.random();
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    };
    (0..n)
        .map(|_| {
            let (centre, sigma) = blobs[rng.random_range(0..blobs.len())];
            let offset = Vec3::new(gauss(&mut rng), gauss(&mut rng), gauss(&mut rng));
            let p = centre + offset * sigma;
            let smooth = (1.7 * p.x + 0.6).sin() * (1.3 * p.y - 0.4).cos();
            let accuracy = 60.0 + 25.0 * (0.5 + 0.5 * smooth) + 6.0 * p.z + 1.5 * gauss(&mut rng);
            let scored = rng.random::<f32>() < scored_fraction;
            let params = (2.0e5 * (1.0 + (p.x + 1.5).max(0.0).powi(2))) as u64;
            (
                ScatterPosition {
                    flat: Vec3::new(p.x, p.y, 0.0),
                    space: p,
                },
                Accuracy(scored.then_some(accuracy.clamp(10.0, 99.5))),
                Cost {
                    params,
                    flops: params * 40,
                },
            )
        })
        .collect()
}

/// The engine's ends of the link, held so the app sees a quiet engine, not a gone one.
#[derive(Resource)]
struct HeldEngineSide {
    _events: Sender<Event>,
    commands: Receiver<Command>,
}

/// Fake candidates not spawned yet.
#[derive(Resource)]
struct FakeFeed {
    points: Vec<FakePoint>,
    next: usize,
    per_frame: usize,
    started: Option<Instant>,
    frames: usize,
}

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

/// Opens the app window on fake data (no engine); in benchmark mode it exits by itself.
pub fn run_fake_scene(cfg: FakeScene) -> AppExit {
    let mut window = crate::app::main_window();
    window.title = format!("NAS-Navigator: fake scene ({} points)", cfg.points);
    if cfg.bench.is_some() {
        window.present_mode = PresentMode::AutoNoVsync;
    }
    let mut app = crate::app::base_app(window);
    let (event_tx, event_rx) = crossbeam_channel::bounded(64);
    let (command_tx, command_rx) = crossbeam_channel::bounded(64);
    // A template makes the scene follow candidate updates (its points are all fake).
    let template = TemplateSpec::Chain {
        stages: 4,
        width: 16,
    }
    .build((1, 28, 28), 10);
    app.insert_resource(EngineLink::from_channels(event_rx, command_tx))
        .insert_resource(HeldEngineSide {
            _events: event_tx,
            commands: command_rx,
        })
        .insert_resource(TemplateGraph(template))
        .insert_resource(cfg.dims)
        .insert_resource(FakeFeed {
            points: fake_points(cfg.points, cfg.scored_fraction, SEED),
            next: 0,
            per_frame: cfg.stream_per_frame,
            started: None,
            frames: 0,
        })
        .add_systems(Update, (spawn_fake_points, drop_commands));
    if let Some(bench) = cfg.bench {
        let dims = if cfg.dims == SceneDims::Flat {
            "2d"
        } else {
            "3d"
        };
        // Every frame advances the tour by the same step, however long it took: runs of
        // different speed see the same views, so their times compare.
        app.insert_resource(TimeUpdateStrategy::ManualDuration(TOUR_STEP))
            .insert_resource(Orbit {
                tour_speed: 0.5,
                ..default()
            })
            .insert_resource(Bench {
                cfg: bench,
                label: format!(
                    "points={} dims={dims} stream={}",
                    cfg.points, cfg.stream_per_frame
                ),
                seen: 0,
                last: None,
                times_ms: Vec::with_capacity(bench.frames),
                cpu_start_secs: None,
            })
            .add_systems(Last, time_frames);
    }
    app.run()
}

/// Spawns the next batch of fake candidates and tells the scene about them.
fn spawn_fake_points(
    mut commands: Commands,
    mut feed: ResMut<FakeFeed>,
    mut index: ResMut<CandidateIndex>,
    mut updated: MessageWriter<CandidateUpdated>,
) {
    if feed.next >= feed.points.len() {
        return;
    }
    let started = *feed.started.get_or_insert_with(Instant::now);
    feed.frames += 1;
    let batch = match feed.per_frame {
        0 => feed.points.len(),
        k => k,
    };
    let end = (feed.next + batch).min(feed.points.len());
    for i in feed.next..end {
        let (position, accuracy, cost) = feed.points[i];
        let key = format!("fake-{i}");
        let entity = commands
            .spawn((
                CandidateNode {
                    key: key.clone(),
                    choices: vec![],
                },
                accuracy,
                cost,
                ScoredInRound(1),
                position,
            ))
            .id();
        index.0.insert(key, entity);
        updated.write(CandidateUpdated(entity));
    }
    feed.next = end;
    if end == feed.points.len() {
        println!(
            "fake scene: {} points spawned in {} frames, {:.2} s",
            end,
            feed.frames,
            started.elapsed().as_secs_f64()
        );
    }
}

/// Discards what the UI sends to the (absent) engine.
fn drop_commands(held: Res<HeldEngineSide>) {
    while let Ok(command) = held.commands.try_recv() {
        info!("no engine in the fake scene; dropped {command:?}");
    }
}

/// Records the wall time between frames; after the run, reports and exits.
fn time_frames(mut bench: ResMut<Bench>, mut exit: MessageWriter<AppExit>) {
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
        report(&bench.label, &bench.times_ms, cpu_ms_per_frame);
        exit.write(AppExit::Success);
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
