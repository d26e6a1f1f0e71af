//! Tests of the scene's parts that need no window: the picking index against brute force,
//! selection with set operations through the same messages the mouse sends, the layout
//! thread (stable extension, aligned re-fit). The screenshot checks are in `shot_check.rs`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use nas_navigator::app::scene::layout_worker::{LayoutJob, LayoutWorker, Placement};
use nas_navigator::app::state::pick::{point_in_polygon, ScreenGrid};
use nas_navigator::app::state::scene_view::{SceneIndex, SceneView};
use nas_navigator::app::state::selection::{
    PickShape, Selection, SelectionPlugin, SelectionRequested, SetOp,
};
use nas_navigator::nas::space::block::ConvSpec;
use nas_navigator::nas::space::edit::Edit;
use nas_navigator::nas::space::{Block, BlockKind, Candidate, TemplateSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// An orthographic view mapping x, y in [-1, 1] onto a 200 x 100 viewport at (10, 20).
fn view() -> SceneView {
    SceneView {
        clip_from_world: Mat4::IDENTITY,
        viewport: (Vec2::new(10.0, 20.0), Vec2::new(200.0, 100.0)),
        version: 1,
    }
}

fn random_points(n: usize, seed: u64) -> Vec<Vec3> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            Vec3::new(
                rng.random_range(-1.2..1.2),
                rng.random_range(-1.2..1.2),
                0.0,
            )
        })
        .collect()
}

fn screen(p: Vec3) -> Vec2 {
    Vec2::new(10.0 + (p.x + 1.0) * 100.0, 20.0 + (1.0 - p.y) * 50.0)
}

#[test]
fn grid_queries_match_brute_force() {
    let points = random_points(3000, 1);
    let v = view();
    let grid = ScreenGrid::build(&points, v.clip_from_world, v.viewport, 24.0);
    let visible = |p: &Vec3| p.x.abs() <= 1.0 && p.y.abs() <= 1.0;
    // Box.
    let (a, b) = (Vec2::new(40.0, 30.0), Vec2::new(150.0, 90.0));
    let expected: Vec<usize> = (0..points.len())
        .filter(|&i| {
            let s = screen(points[i]);
            visible(&points[i]) && s.x >= a.x && s.x <= b.x && s.y >= a.y && s.y <= b.y
        })
        .collect();
    assert!(expected.len() > 100);
    assert_eq!(grid.in_box(b, a), expected);
    // Lasso (a triangle).
    let tri = [
        Vec2::new(20.0, 25.0),
        Vec2::new(200.0, 60.0),
        Vec2::new(60.0, 115.0),
    ];
    let expected: Vec<usize> = (0..points.len())
        .filter(|&i| visible(&points[i]) && point_in_polygon(screen(points[i]), &tri))
        .collect();
    assert!(expected.len() > 100);
    assert_eq!(grid.in_lasso(&tri), expected);
    // Nearest within a radius, and nothing when out of reach.
    for probe in [
        Vec2::new(55.5, 41.0),
        Vec2::new(180.0, 100.0),
        Vec2::new(111.0, 70.0),
    ] {
        let best = (0..points.len())
            .filter(|&i| visible(&points[i]))
            .map(|i| (i, screen(points[i]).distance(probe)))
            .filter(|(_, d)| *d <= 8.0)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        assert_eq!(grid.nearest(probe, 8.0), best.map(|b| b.0));
    }
    assert_eq!(grid.nearest(Vec2::new(-500.0, -500.0), 8.0), None);
}

fn selection_app(points: &[Vec3]) -> (App, Vec<Entity>) {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(SelectionPlugin);
    let entities: Vec<Entity> = points
        .iter()
        .map(|_| app.world_mut().spawn_empty().id())
        .collect();
    app.insert_resource(SceneIndex {
        entities: entities.clone(),
        world: points.to_vec(),
        generation: 1,
        ..Default::default()
    });
    app.insert_resource(view());
    (app, entities)
}

fn selected(app: &App) -> HashSet<Entity> {
    app.world().resource::<Selection>().current.clone()
}

fn request(app: &mut App, r: SelectionRequested) {
    app.world_mut().write_message(r);
    app.update();
}

#[test]
fn box_lasso_and_set_operations() {
    // Four points at the corners of a square and one in the middle.
    let points = vec![
        Vec3::new(-0.5, 0.5, 0.0),
        Vec3::new(0.5, 0.5, 0.0),
        Vec3::new(-0.5, -0.5, 0.0),
        Vec3::new(0.5, -0.5, 0.0),
        Vec3::new(0.0, 0.0, 0.0),
    ];
    let (mut app, e) = selection_app(&points);
    let s = |i: &[usize]| i.iter().map(|&i| e[i]).collect::<HashSet<_>>();
    let top = PickShape::Box(
        screen(Vec3::new(-0.7, 0.7, 0.0)),
        screen(Vec3::new(0.7, 0.3, 0.0)),
    );
    request(
        &mut app,
        SelectionRequested::Pick(top.clone(), SetOp::Replace),
    );
    assert_eq!(selected(&app), s(&[0, 1]));
    let left = PickShape::Lasso(vec![
        screen(Vec3::new(-0.8, 0.8, 0.0)),
        screen(Vec3::new(0.2, 0.0, 0.0)),
        screen(Vec3::new(-0.8, -0.8, 0.0)),
    ]);
    request(
        &mut app,
        SelectionRequested::Pick(left.clone(), SetOp::Union),
    );
    assert_eq!(selected(&app), s(&[0, 1, 2, 4]));
    request(
        &mut app,
        SelectionRequested::Pick(top.clone(), SetOp::Intersect),
    );
    assert_eq!(selected(&app), s(&[0, 1]));
    request(
        &mut app,
        SelectionRequested::Pick(
            PickShape::Point(screen(points[1]) + Vec2::new(3.0, 2.0)),
            SetOp::Difference,
        ),
    );
    assert_eq!(selected(&app), s(&[0]));
    request(&mut app, SelectionRequested::Complement);
    assert_eq!(selected(&app), s(&[1, 2, 3, 4]));
    request(&mut app, SelectionRequested::Store);
    request(&mut app, SelectionRequested::Pick(left, SetOp::Replace));
    assert_eq!(selected(&app), s(&[0, 2, 4]));
    request(
        &mut app,
        SelectionRequested::CombineStored(SetOp::Intersect),
    );
    assert_eq!(selected(&app), s(&[2, 4]));
    // A click on empty space with Replace clears; Clear clears too.
    request(
        &mut app,
        SelectionRequested::Pick(PickShape::Point(Vec2::new(15.0, 25.0)), SetOp::Replace),
    );
    assert!(selected(&app).is_empty());
    request(&mut app, SelectionRequested::CombineStored(SetOp::Union));
    request(&mut app, SelectionRequested::Clear);
    assert!(selected(&app).is_empty());
}

fn wait(worker: &LayoutWorker) -> Placement {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(p) = worker.placements.try_recv() {
            return p.expect("layout job failed");
        }
        assert!(
            Instant::now() < deadline,
            "the layout thread did not answer"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn layout_thread_extends_stably_and_refits_aligned() {
    let graph = TemplateSpec::Chain {
        stages: 3,
        width: 4,
    }
    .build((1, 8, 8), 10);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let all: Vec<Candidate> = (0..80)
        .map(|_| Candidate::sample(&graph, &mut rng))
        .collect();
    let mut world = World::new();
    let entities: Vec<Entity> = (0..all.len()).map(|_| world.spawn_empty().id()).collect();
    let worker = LayoutWorker::spawn(0);
    let send = |job: LayoutJob| assert!(worker.try_send(job).is_ok());
    send(LayoutJob::Extend {
        graph: Box::new(graph.clone()),
        entities: entities[..60].to_vec(),
        candidates: all[..60].to_vec(),
    });
    let first = wait(&worker);
    assert_eq!(first.entities, entities[..60].to_vec());
    assert_eq!((first.flat.len(), first.space.len()), (60, 60));
    assert!(first.flat.iter().all(|p| p[2] == 0.0 && p[0].is_finite()));
    send(LayoutJob::Extend {
        graph: Box::new(graph.clone()),
        entities: entities[60..].to_vec(),
        candidates: all[60..].to_vec(),
    });
    let more = wait(&worker);
    assert_eq!(more.flat.len(), 20);
    // A template edit (a conv added to the first decision) re-fits all, aligned onto the old picture.
    let mut edited = graph.clone();
    let decision = edited.decisions[0].name.clone();
    edited
        .apply(&Edit::AddBlock {
            decision,
            block: Block::new("k7", BlockKind::Conv(ConvSpec::new(Some(4), 7))),
        })
        .expect("edit");
    let previous: Vec<Option<([f32; 3], [f32; 3])>> = first
        .flat
        .iter()
        .chain(&more.flat)
        .zip(first.space.iter().chain(&more.space))
        .map(|(f, s)| Some((*f, *s)))
        .collect();
    let old_flat: Vec<[f32; 3]> = previous
        .iter()
        .map(|p| p.map(|p| p.0).unwrap_or_default())
        .collect();
    let edited_again = edited.clone();
    send(LayoutJob::Refit {
        graph: Box::new(edited),
        entities: entities.clone(),
        candidates: all.clone(),
        previous,
    });
    let refit = wait(&worker);
    assert_eq!(refit.entities, entities);
    // The same re-fit without previous positions is not aligned: the contrast.
    send(LayoutJob::Refit {
        graph: Box::new(edited_again),
        entities: entities.clone(),
        candidates: all.clone(),
        previous: vec![None; 80],
    });
    let raw = wait(&worker);
    let moved = |new: &[[f32; 3]]| -> f32 {
        old_flat
            .iter()
            .zip(new)
            .map(|(a, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt())
            .sum::<f32>()
            / 80.0
    };
    let (aligned, unaligned) = (moved(&refit.flat), moved(&raw.flat));
    assert!(
        aligned < 0.6 * unaligned,
        "aligned re-fit moved points by {aligned} on average, unaligned {unaligned}"
    );
}
