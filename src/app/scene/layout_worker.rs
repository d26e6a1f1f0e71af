//! Scene layouts off the frame: a background thread owns the 2D and 3D stable layouts of the
//! candidates. The app sends it new candidates (placed without moving the old ones) or, after
//! a template edit, all of them (fitted anew and Procrustes-aligned onto where they were, so
//! the picture moves as little as possible); placements come back on a bounded channel and
//! are drained each frame.

use std::thread::JoinHandle;

use bevy::prelude::*;
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};

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

#[derive(Resource)]
pub struct LayoutWorker {
    jobs: Sender<LayoutJob>,
    pub placements: Receiver<Result<Placement, String>>,
    thread: Option<JoinHandle<()>>,
}

impl LayoutWorker {
    pub fn spawn(seed: u64) -> Self {
        let (jobs, job_rx) = bounded::<LayoutJob>(64);
        let (out_tx, placements) = bounded(64);
        let thread = std::thread::Builder::new()
            .name("nas-layout".into())
            .spawn(move || {
                let mut state = Layouts {
                    flat: None,
                    space: None,
                    seed,
                };
                for job in job_rx {
                    let result = state.run(job).map_err(|e| e.to_string());
                    if out_tx.send(result).is_err() {
                        break;
                    }
                }
            })
            .ok();
        Self {
            jobs,
            placements,
            thread,
        }
    }

    /// Queues a job; `Err` gives it back when the queue is full (try again next frame).
    pub fn try_send(&self, job: LayoutJob) -> Result<(), LayoutJob> {
        match self.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(job)) | Err(TrySendError::Disconnected(job)) => Err(job),
        }
    }
}

impl Drop for LayoutWorker {
    fn drop(&mut self) {
        // Closing the job channel ends the thread after its current job.
        let (dead, _) = bounded(1);
        self.jobs = dead;
        if let Some(t) = self.thread.take() {
            while !t.is_finished() {
                while self.placements.try_recv().is_ok() {}
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            let _ = t.join();
        }
    }
}

/// A fitted layout and, after a re-fit, its points aligned onto the old picture (later
/// extensions are aligned with the same transform, found again from the shared points).
struct Slot {
    layout: StableLayout,
    aligned: Option<Vec<[f32; 3]>>,
}

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
