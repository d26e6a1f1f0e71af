//! Scene layouts off the frame: a background thread owns the 2D and 3D stable layouts of the
//! candidates. The app sends it new candidates (placed without moving the old ones) or, after
//! a template edit, all of them (fitted anew and Procrustes-aligned onto where they were, so
//! the picture moves as little as possible); placements come back on a bounded channel and
//! are drained each frame. A job that fails or panics comes back as an error (noted in the
//! status line too) and the next job re-fits every candidate; dropping the worker never
//! waits (the thread ends after its current job, without starting the queued ones).

use std::collections::HashMap;

use bevy::prelude::*;
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};

use crate::app::link::background::guarded;
use crate::app::state::run_state::RunState;
use crate::nas::search::layout::{procrustes_align, LayoutMethod, StableLayout};
use crate::nas::space::{Candidate, SuperGraph};

/// Work for the layout thread; `entities` and `candidates` are in the same order.
pub enum LayoutJob {
    /// Add these candidates to the current layouts (the first job fits them).
    Extend {
        graph: Box<SuperGraph>,
        entities: Vec<Entity>,
        candidates: Vec<Candidate>,
    },
    /// The template changed: fit all candidates anew, aligned onto `previous` positions
    /// (flat, space) where a candidate had one.
    Refit {
        graph: Box<SuperGraph>,
        entities: Vec<Entity>,
        candidates: Vec<Candidate>,
        previous: Vec<Option<([f32; 3], [f32; 3])>>,
    },
}

/// Positions for `entities`: 2D (`flat`, z = 0) and 3D (`space`), in layout units.
pub struct Placement {
    pub entities: Vec<Entity>,
    pub flat: Vec<[f32; 3]>,
    pub space: Vec<[f32; 3]>,
}

/// A job's placement, or why there is none.
pub type LayoutOutcome = Result<Placement, String>;

/// The layout thread's channels; dropping them ends the thread after its current job.
#[derive(Resource)]
pub struct LayoutWorker {
    jobs: Sender<LayoutJob>,
    pub placements: Receiver<LayoutOutcome>,
    /// Why jobs failed, for the status line.
    failures: Receiver<String>,
}

impl LayoutWorker {
    pub fn spawn(seed: u64) -> Self {
        let mut layouts = Layouts {
            seed,
            ..Layouts::default()
        };
        Self::spawn_with(move |job| layouts.run(job).map_err(|e| e.to_string()))
    }

    /// A layout thread running `work` on each job (`spawn` passes the real layouts), under a
    /// panic guard; after a failed job the next one is a re-fit of every candidate sent.
    pub fn spawn_with(mut work: impl FnMut(LayoutJob) -> LayoutOutcome + Send + 'static) -> Self {
        let (jobs, job_rx) = bounded::<LayoutJob>(64);
        let (out_tx, placements) = bounded(64);
        let (fail_tx, failures) = bounded(16);
        let no_thread = fail_tx.clone();
        let started = std::thread::Builder::new()
            .name("nas-layout".into())
            .spawn(move || {
                let mut sent = Sent::default();
                for job in job_rx {
                    let job = sent.take(job);
                    let outcome = guarded("the layout thread", || work(job)).and_then(|o| o);
                    sent.settle(&outcome);
                    if let Err(e) = &outcome {
                        let _ = fail_tx.try_send(e.clone());
                    }
                    if out_tx.send(outcome).is_err() {
                        break;
                    }
                }
            });
        if let Err(e) = started {
            let _ = no_thread.try_send(format!("cannot start the layout thread: {e}"));
        }
        Self {
            jobs,
            placements,
            failures,
        }
    }

    /// Queues a job; `Err` gives it back when the queue is full (try again next frame).
    pub fn try_send(&self, job: LayoutJob) -> Result<(), LayoutJob> {
        self.jobs.try_send(job).map_err(TrySendError::into_inner)
    }
}

/// What the thread was sent and where it was placed: after a failure, the next job re-fits.
#[derive(Default)]
struct Sent {
    entities: Vec<Entity>,
    candidates: Vec<Candidate>,
    at: HashMap<Entity, ([f32; 3], [f32; 3])>,
    failed: bool,
}

impl Sent {
    /// Records `job`; after a failed job an extension becomes a re-fit of everything sent.
    fn take(&mut self, job: LayoutJob) -> LayoutJob {
        let (graph, entities, candidates) = match job {
            LayoutJob::Refit {
                ref entities,
                ref candidates,
                ref previous,
                ..
            } => {
                self.entities = entities.clone();
                self.candidates = candidates.clone();
                let placed = entities.iter().zip(previous);
                self.at
                    .extend(placed.filter_map(|(e, p)| Some((*e, (*p)?))));
                return job;
            }
            LayoutJob::Extend {
                graph,
                entities,
                candidates,
            } => (graph, entities, candidates),
        };
        self.entities.extend_from_slice(&entities);
        self.candidates.extend_from_slice(&candidates);
        if !self.failed {
            return LayoutJob::Extend {
                graph,
                entities,
                candidates,
            };
        }
        LayoutJob::Refit {
            graph,
            entities: self.entities.clone(),
            candidates: self.candidates.clone(),
            previous: self
                .entities
                .iter()
                .map(|e| self.at.get(e).copied())
                .collect(),
        }
    }

    fn settle(&mut self, outcome: &LayoutOutcome) {
        let Ok(p) = outcome else {
            self.failed = true;
            return;
        };
        self.failed = false;
        let at = p.flat.iter().copied().zip(p.space.iter().copied());
        self.at.extend(p.entities.iter().copied().zip(at));
    }
}

/// Notes each failed layout job in the run state's messages (the status line).
pub fn report_layout_failures(worker: Option<Res<LayoutWorker>>, mut state: ResMut<RunState>) {
    for e in worker.iter().flat_map(|w| w.failures.try_iter()) {
        state.note(format!("error: scene layout failed: {e}"));
    }
}

/// Reports the layout thread's failures (the worker itself comes with `ScatterPlugin`).
pub struct LayoutWorkerPlugin;

impl Plugin for LayoutWorkerPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, report_layout_failures);
    }
}

/// A fitted layout and, after a re-fit, its points aligned onto the old picture (later
/// extensions are aligned with the same transform, found again from the shared points).
struct Slot {
    layout: StableLayout,
    aligned: Option<Vec<[f32; 3]>>,
}

#[derive(Default)]
struct Layouts {
    flat: Option<Slot>,
    space: Option<Slot>,
    seed: u64,
}

type NasResult<T> = Result<T, crate::nas::NasError>;

impl Layouts {
    fn run(&mut self, job: LayoutJob) -> NasResult<Placement> {
        match job {
            LayoutJob::Extend {
                graph,
                entities,
                candidates,
            } => {
                let flat = extend(&mut self.flat, &graph, &candidates, 2, self.seed)?;
                let space = extend(&mut self.space, &graph, &candidates, 3, self.seed)?;
                Ok(Placement {
                    entities,
                    flat,
                    space,
                })
            }
            LayoutJob::Refit {
                graph,
                entities,
                candidates,
                previous,
            } => {
                let old_flat: Vec<[f32; 3]> = previous
                    .iter()
                    .map(|p| p.map_or([0.0; 3], |p| p.0))
                    .collect();
                let old_space: Vec<[f32; 3]> = previous
                    .iter()
                    .map(|p| p.map_or([0.0; 3], |p| p.1))
                    .collect();
                let pairs: Vec<(usize, usize)> = (0..previous.len())
                    .filter(|&i| previous[i].is_some())
                    .map(|i| (i, i))
                    .collect();
                let (slot, flat) = refit(&graph, &candidates, &old_flat, &pairs, 2, self.seed)?;
                self.flat = Some(slot);
                let (slot, space) = refit(&graph, &candidates, &old_space, &pairs, 3, self.seed)?;
                self.space = Some(slot);
                Ok(Placement {
                    entities,
                    flat,
                    space,
                })
            }
        }
    }
}

fn refit(
    graph: &SuperGraph,
    candidates: &[Candidate],
    old: &[[f32; 3]],
    pairs: &[(usize, usize)],
    dims: usize,
    seed: u64,
) -> NasResult<(Slot, Vec<[f32; 3]>)> {
    let layout = StableLayout::fit(graph, candidates, LayoutMethod::Neighbour, dims, seed)?;
    let aligned = procrustes_align(old, layout.points(), pairs, dims);
    let out = aligned.clone();
    Ok((
        Slot {
            layout,
            aligned: Some(aligned),
        },
        out,
    ))
}

fn extend(
    slot: &mut Option<Slot>,
    graph: &SuperGraph,
    candidates: &[Candidate],
    dims: usize,
    seed: u64,
) -> NasResult<Vec<[f32; 3]>> {
    let Some(slot) = slot.as_mut() else {
        let layout = StableLayout::fit(graph, candidates, LayoutMethod::Neighbour, dims, seed)?;
        let points = layout.points().to_vec();
        *slot = Some(Slot {
            layout,
            aligned: None,
        });
        return Ok(points);
    };
    let old_n = slot.layout.points().len();
    let new = slot.layout.extend(graph, candidates)?.to_vec();
    let Some(aligned) = slot.aligned.as_mut() else {
        return Ok(new);
    };
    // The old points did not move, so the transform found from them is the re-fit's.
    let pairs: Vec<(usize, usize)> = (0..old_n).map(|i| (i, i)).collect();
    let all = procrustes_align(aligned, slot.layout.points(), &pairs, dims);
    let placed = all[old_n..].to_vec();
    aligned.extend_from_slice(&placed);
    Ok(placed)
}
