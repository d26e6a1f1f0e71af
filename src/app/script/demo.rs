//! The scene on fake data, with no engine: candidate entities are spawned directly with
//! positions drawn from a seeded mixture of 3D Gaussian blobs and an accuracy that varies
//! smoothly over the space (plus noise), so the scene can be looked at, and its frame time
//! measured, at any size. Optionally the points stream in a few per frame; in benchmark mode
//! the camera tours, frame times are recorded after a warm-up and the run prints them (the
//! last line as JSON) and exits.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use bevy::prelude::*;
use bevy::window::PresentMode;
use crossbeam_channel::{Receiver, Sender};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::frame_bench::add_frame_bench;
pub use super::frame_bench::{BenchFrames, FrameReport};
use crate::app::link::EngineLink;
use crate::app::scene::points::PointSize;
use crate::app::scene::scatter::{ScatterPosition, SceneDims};
use crate::app::state::candidates::{
    Accuracy, CandidateIndex, CandidateNode, CandidateUpdated, Cost, ScoredInRound, TemplateGraph,
};
use crate::app::Surface;
use crate::nas::space::{Candidate, SuperGraph, TemplateSpec};
use crate::nas::trainer::{Command, Event};

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
    /// With `bench`: save a picture of the window here after the timed frames.
    pub screenshot: Option<PathBuf>,
    /// The point-size factor (the scene's slider; 1 = the automatic size).
    pub point_size: f32,
    /// Draw into an image with no window system (`shell::offscreen`) instead of a window.
    pub offscreen: bool,
}

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

/// `n` distinct candidates of `template`, sampled uniformly (as the engine samples them): their
/// strings and choices. The fake points are candidates the template allows, as real ones are.
/// If the space has fewer than `n` candidates, the later ones repeat earlier ones.
pub fn fake_candidates(template: &SuperGraph, n: usize, seed: u64) -> Vec<(String, Vec<usize>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut seen = HashSet::with_capacity(n);
    let mut keys = Vec::with_capacity(n);
    let tries_per_key = 20;
    for _ in 0..n.saturating_mul(tries_per_key) {
        if keys.len() == n {
            break;
        }
        let candidate = Candidate::sample(template, &mut rng);
        let key = candidate.to_string(template);
        if seen.insert(key.clone()) {
            keys.push((key, candidate.choices));
        }
    }
    let distinct = keys.len();
    for i in distinct..n {
        let again = keys[i % distinct.max(1)].clone();
        keys.push(again);
    }
    keys
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
    candidates: Vec<(String, Vec<usize>)>,
    next: usize,
    per_frame: usize,
    started: Option<Instant>,
    frames: usize,
}

/// Opens the app window on fake data (no engine); in benchmark mode it exits by itself.
pub fn run_fake_scene(cfg: FakeScene) -> AppExit {
    fake_scene_app(cfg).run()
}

/// The app on fake data, ready to run (in benchmark mode its world holds a `FrameReport`
/// after the run).
pub fn fake_scene_app(cfg: FakeScene) -> App {
    let mut window = crate::app::main_window();
    window.title = format!("NAS-Navigator: fake scene ({} points)", cfg.points);
    if cfg.bench.is_some() {
        window.present_mode = PresentMode::AutoNoVsync;
    }
    let surface = if cfg.offscreen {
        Surface::Offscreen
    } else {
        Surface::Window
    };
    let mut app = crate::app::base_app_on(window, surface);
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
        .insert_resource(TemplateGraph(template.clone()))
        .insert_resource(cfg.dims)
        .insert_resource(PointSize(cfg.point_size))
        .insert_resource(FakeFeed {
            points: fake_points(cfg.points, cfg.scored_fraction, SEED),
            candidates: fake_candidates(&template, cfg.points, SEED),
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
        let surface = if cfg.offscreen { "image" } else { "window" };
        let label = format!(
            "points={} dims={dims} stream={} surface={surface}",
            cfg.points, cfg.stream_per_frame
        );
        add_frame_bench(&mut app, bench, label, cfg.screenshot);
    }
    app
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
        let (key, choices) = feed.candidates[i].clone();
        let entity = commands
            .spawn((
                CandidateNode {
                    key: key.clone(),
                    choices,
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
