//! The Charts view without a window: real egui passes of its three panes with pointer
//! events at a point's place on the screen. A click on a Pareto point or a trust probe
//! selects that candidate (Shift adds it); the Pareto front is the cheapest for its accuracy
//! and its axis switch moves the points; the training chart's y range follows the data.

mod common;

use std::collections::HashSet;

use bevy::ecs::system::RunSystemOnce;
use bevy::prelude::*;
use bevy_egui::egui;
use common::app::{chain, fake_engine_app, nth, ready, update_until};
use crossbeam_channel::{Receiver, Sender};
use egui_plot::{PlotMemory, PlotPoint};
use nas_navigator::app::charts::pareto_cache::{CostAxis, ParetoCache};
use nas_navigator::app::charts::probes::{ProbePoint, TrustFigures};
use nas_navigator::app::charts::{self, training, ChartsData, ChartsPlugin};
use nas_navigator::app::link::CommandRequested;
use nas_navigator::app::state::candidates::CandidateIndex;
use nas_navigator::app::state::run_state::RunState;
use nas_navigator::app::state::selection::{Selection, SelectionRequested};
use nas_navigator::app::state::signal_choice::ChosenSignal;
use nas_navigator::app::widgets::chart::{self, plot_id};
use nas_navigator::nas::signals::Signals;
use nas_navigator::nas::space::SuperGraph;
use nas_navigator::nas::trainer::protocol::{EpochSummary, ScoredCandidate, StepProgress};
use nas_navigator::nas::trainer::{Command, Event};

/// (accuracy %, parameters) of the scored candidates: 0, 2 and 4 are the front; 1 and 3
/// are dominated (costlier than 0 and 2 and less accurate).
const SCORES: [(f32, u64); 5] = [
    (70.0, 1_000),
    (65.0, 2_000),
    (80.0, 5_000),
    (75.0, 8_000),
    (85.0, 20_000),
];

/// FLOPs of candidate `i`: not a multiple of its parameters, so the two axes differ.
fn flops(i: usize) -> u64 {
    [90_000, 30_000, 400_000, 50_000, 7_000_000][i]
}

struct Charts {
    app: App,
    _events: Sender<Event>,
    _commands: Receiver<Command>,
    graph: SuperGraph,
    ctx: egui::Context,
    time: f64,
}

/// An app with the Charts view's plugins on a fake engine that scored `SCORES`.
fn charts_app() -> Charts {
    let graph = chain(3);
    let (mut app, tx, rx) = fake_engine_app(|app| {
        app.add_plugins(ChartsPlugin);
    });
    tx.send(ready(&graph)).expect("the fake engine's channel");
    for (i, &(accuracy, params)) in SCORES.iter().enumerate() {
        let c = nth(&graph, i);
        tx.send(Event::Scored(ScoredCandidate {
            round: 1,
            index: i,
            total: SCORES.len(),
            candidate: c.to_string(&graph),
            choices: c.choices.clone(),
            accuracy,
            params,
            flops: flops(i),
            signals: Signals::default(),
        }))
        .expect("the fake engine's channel");
    }
    update_until(&mut app, "the Pareto chart's rows", 10, |w| {
        w.resource::<ParetoCache>().rows().len() == SCORES.len()
    });
    Charts {
        app,
        _events: tx,
        _commands: rx,
        graph,
        ctx: egui::Context::default(),
        time: 0.0,
    }
}

impl Charts {
    /// One egui pass of the Charts view's three panes with `events`.
    fn pass(&mut self, mut events: Vec<egui::Event>, modifiers: egui::Modifiers) {
        self.time += 1.0 / 60.0;
        events.insert(0, egui::Event::ModifiersChanged(modifiers));
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1200.0, 2400.0),
            )),
            time: Some(self.time),
            events,
            ..Default::default()
        };
        let ctx = self.ctx.clone();
        self.app
            .world_mut()
            .run_system_once(
                move |mut data: ChartsData,
                      mut requests: MessageWriter<CommandRequested>,
                      mut selecting: MessageWriter<SelectionRequested>| {
                    let mut output = ctx.run_ui(input.clone(), |ui| {
                        // The three chart panes, one after the other.
                        charts::draw_training(ui, &data, 200.0);
                        let pareto = charts::draw_pareto(ui, &mut data, 200.0);
                        let trust = charts::draw_trust(ui, &mut data, None, &mut requests, 200.0);
                        for request in pareto.into_iter().chain(trust) {
                            selecting.write(request);
                        }
                    });
                    output.textures_delta.clear();
                },
            )
            .expect("the Charts view's data");
    }

    /// Two passes without input: the first sizes the axes, the second lays the plots out
    /// with them, as they stay.
    fn settle(&mut self) {
        for _ in 0..2 {
            self.pass(Vec::new(), egui::Modifiers::NONE);
        }
    }

    /// Where the chart `name` draws the plot point `p`, as of the last pass.
    fn screen_of(&self, name: &str, p: PlotPoint) -> egui::Pos2 {
        let memory = PlotMemory::load(&self.ctx, plot_id(name))
            .unwrap_or_else(|| panic!("the chart {name} was not drawn"));
        memory.transform().position_from_point(&p)
    }

    /// Moves the pointer to `at`, presses and releases the primary button there (with
    /// `modifiers`), then lets the app apply what the click asked for.
    fn click(&mut self, at: egui::Pos2, modifiers: egui::Modifiers) {
        self.pass(vec![egui::Event::PointerMoved(at)], modifiers);
        for pressed in [true, false] {
            let button = egui::Event::PointerButton {
                pos: at,
                button: egui::PointerButton::Primary,
                pressed,
                modifiers,
            };
            self.pass(vec![button], modifiers);
        }
        self.app.update();
    }

    fn entity(&self, i: usize) -> Entity {
        let key = nth(&self.graph, i).to_string(&self.graph);
        self.app.world().resource::<CandidateIndex>().0[&key]
    }

    fn selected(&self) -> HashSet<Entity> {
        self.app.world().resource::<Selection>().current.clone()
    }
}

/// Candidate `i`'s point on the Pareto chart with parameters on x (log scale).
fn pareto_point(i: usize) -> PlotPoint {
    PlotPoint::new((SCORES[i].1 as f64).log10(), SCORES[i].0)
}

#[test]
fn clicking_a_pareto_point_selects_its_candidate_and_shift_adds_one() {
    let mut charts = charts_app();
    charts.settle();
    // A dominated candidate, not on the front, and one on the front.
    let at = charts.screen_of("pareto", pareto_point(3));
    charts.click(at, egui::Modifiers::NONE);
    assert_eq!(charts.selected(), HashSet::from([charts.entity(3)]));
    let at = charts.screen_of("pareto", pareto_point(2));
    charts.click(at, egui::Modifiers::SHIFT);
    assert_eq!(
        charts.selected(),
        HashSet::from([charts.entity(3), charts.entity(2)])
    );
    // A click on neither replaces nothing.
    let empty = charts.screen_of("pareto", PlotPoint::new(3.05, 82.0));
    charts.click(empty, egui::Modifiers::NONE);
    assert_eq!(charts.selected().len(), 2);
}

#[test]
fn the_front_is_the_cheapest_for_its_accuracy_and_the_axis_switch_moves_the_points() {
    let mut charts = charts_app();
    let cache = charts.app.world().resource::<ParetoCache>();
    let key_of = |row: usize| cache.rows()[row].key.clone();
    let front: Vec<String> = cache.front_rows().iter().map(|&r| key_of(r)).collect();
    let graph = charts.graph.clone();
    let key = |i: usize| nth(&graph, i).to_string(&graph);
    assert_eq!(front, [key(0), key(2), key(4)]);
    let xs = |cache: &ParetoCache, cost: &dyn Fn(usize) -> u64| -> Vec<(f64, f64)> {
        let (points, rows) = cache.points();
        let mut xs: Vec<(f64, f64)> = points
            .iter()
            .zip(rows)
            .map(|(p, &r)| {
                let i = (0..SCORES.len())
                    .find(|&i| key(i) == cache.rows()[r].key)
                    .expect("a row of a scored candidate");
                (p.x, (cost(i) as f64).log10())
            })
            .collect();
        xs.sort_by(|a, b| a.0.total_cmp(&b.0));
        xs
    };
    for (x, want) in xs(cache, &|i| SCORES[i].1) {
        assert!((x - want).abs() < 1e-9, "x {x} is not log10(params) {want}");
    }
    charts.settle();
    let params_x = PlotMemory::load(&charts.ctx, plot_id("pareto"))
        .expect("the Pareto chart")
        .bounds()
        .range_x();
    charts
        .app
        .world_mut()
        .resource_mut::<ParetoCache>()
        .set_axis(CostAxis::Flops);
    let cache = charts.app.world().resource::<ParetoCache>();
    for (x, want) in xs(cache, &flops) {
        assert!((x - want).abs() < 1e-9, "x {x} is not log10(FLOPs) {want}");
    }
    // In FLOPs 1 and 3 are the cheapest, and 3 is also more accurate than 0: another front.
    let front: Vec<String> = cache
        .front_rows()
        .iter()
        .map(|&r| cache.rows()[r].key.clone())
        .collect();
    assert_eq!(front, [key(1), key(3), key(2), key(4)]);
    // The drawn chart follows: its x range now spans the FLOPs.
    charts.settle();
    let flops_x = PlotMemory::load(&charts.ctx, plot_id("pareto"))
        .expect("the Pareto chart")
        .bounds()
        .range_x();
    assert!(*params_x.end() < 4.5, "params reach 10^4.3: {params_x:?}");
    assert!(*flops_x.end() > 6.5, "FLOPs reach 10^6.8: {flops_x:?}");
}

#[test]
fn clicking_a_trust_probe_selects_its_candidate() {
    let mut charts = charts_app();
    let signal = charts.app.world().resource::<ChosenSignal>().0;
    let probe = |i: usize, standalone: f32, value: f64| ProbePoint {
        candidate: nth(&charts.graph, i).to_string(&charts.graph),
        standalone,
        shared: SCORES[i].0,
        signal: value,
        disagrees: false,
    };
    let points = vec![
        probe(0, 71.0, 0.2),
        probe(1, 66.0, 0.5),
        probe(4, 88.0, 0.9),
    ];
    // Figures as `refresh_trust` leaves them for no probe results (it keeps them).
    charts.app.world_mut().insert_resource(TrustFigures {
        signal,
        points,
        finished_seen: 0,
        ..Default::default()
    });
    charts.app.update();
    charts.settle();
    let at = charts.screen_of("trust_probes", PlotPoint::new(66.0, 0.5));
    charts.click(at, egui::Modifiers::NONE);
    assert_eq!(charts.selected(), HashSet::from([charts.entity(1)]));
}

fn epoch(round: usize, epoch: usize, train: f32, val: f32) -> EpochSummary {
    EpochSummary {
        round,
        epoch,
        train_loss: 1.0,
        train_accuracy: train,
        val_loss: 1.1,
        val_accuracy: val,
        duration_secs: 1.0,
        steps_per_s: 1.0,
    }
}

#[test]
fn the_accuracy_chart_y_range_follows_the_data() {
    let mut state = RunState::default();
    for (i, (train, val)) in [(60.0, 62.0), (66.0, 67.5), (71.0, 70.0), (75.0, 72.5)]
        .into_iter()
        .enumerate()
    {
        state.epochs.push(epoch(1, i, train, val));
    }
    let ctx = egui::Context::default();
    let mut bounds = None;
    let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
        bounds = training::curves(ui, &state, 200.0);
    });
    output.textures_delta.clear();
    let bounds = bounds.expect("a plot of four epochs");
    let (low, high) = (bounds.min()[1], bounds.max()[1]);
    assert!(
        (50.0..=60.0).contains(&low) && (75.0..=85.0).contains(&high),
        "accuracies of 60-75% give y from {low} to {high}"
    );
    assert_eq!(
        (bounds.min()[0] <= 1.0, bounds.max()[0] >= 4.0),
        (true, true)
    );
}

#[test]
fn step_losses_sit_at_their_fraction_of_the_epoch_on_the_epoch_axis() {
    let graph = chain(2);
    let (mut app, tx, _rx) = fake_engine_app(|_| {});
    let step = |round: usize, epoch: usize, step: usize| {
        Event::Step(StepProgress {
            round,
            epoch,
            step,
            steps_per_epoch: 4,
            loss: 2.0,
            accuracy: 10.0,
            lr: 0.1,
            images_per_s: 1.0,
            sampled: Vec::new(),
        })
    };
    let started = |round: usize| Event::RoundStarted {
        round,
        epochs: 2,
        steps_per_epoch: 4,
        candidates: 1,
        resumed_at_epoch: 0,
        resumed_scored: 0,
    };
    let mut events = vec![ready(&graph), started(1)];
    for e in 0..2 {
        events.extend((0..4).map(|s| step(1, e, s)));
        events.push(Event::Epoch(epoch(1, e, 50.0, 50.0)));
    }
    // Round 2 starts after round 1's two epochs: its second step is at 2 + 2/4.
    events.extend([started(2), step(2, 0, 0), step(2, 0, 1)]);
    for event in events {
        tx.send(event).expect("the fake engine's channel");
    }
    update_until(&mut app, "the steps of round 2", 10, |w| {
        w.resource::<RunState>().step_losses.len() == 10
    });
    let xs: Vec<f64> = app
        .world()
        .resource::<RunState>()
        .step_losses
        .iter()
        .map(|s| s.0)
        .collect();
    assert_eq!(
        xs,
        [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5],
        "each step at (epochs before it + its fraction of its epoch)"
    );
}

#[test]
fn y_tick_labels_tell_neighbouring_ticks_apart() {
    for step in [0.05, 0.02, 0.2, 0.5, 1.0, 2.5, 5.0, 0.001, 0.0025, 20.0] {
        let labels: Vec<String> = (0..12)
            .map(|i| chart::tick_label(0.35 + step * f64::from(i), step))
            .collect();
        for pair in labels.windows(2) {
            assert_ne!(pair[0], pair[1], "step {step}: {labels:?}");
        }
    }
    // No more decimals than the step has.
    assert_eq!(chart::tick_label(0.45, 0.05), "0.45");
    assert_eq!(chart::tick_label(0.4, 0.1), "0.4");
    assert_eq!(chart::tick_label(40.0, 10.0), "40");
    assert_eq!(chart::tick_label(-0.0, 0.5), "0.0");
}

#[test]
fn y_grid_steps_are_one_two_or_five_times_a_power_of_ten() {
    let steps = |base| {
        chart::nice_steps(egui_plot::GridInput {
            bounds: (0.0, 100.0),
            base_step_size: base,
        })
    };
    assert_eq!(steps(0.7), [1.0, 2.0, 5.0]);
    assert_eq!(steps(3.0), [5.0, 10.0, 20.0]);
    assert_eq!(steps(0.02), [0.02, 0.05, 0.1]);
    // Never finer than asked.
    for base in [0.013, 0.4, 7.7, 123.0] {
        let [finest, middle, coarse] = steps(base);
        assert!(
            finest >= base && middle > finest && coarse > middle,
            "{base}"
        );
    }
}
