//! Candidates as compact codes (the choices of the decisions that have more than one block),
//! their one-hot encoding, Hamming distances and a small deterministic parallel-for. A set of
//! parallel blocks is a choice of its own, with its own one-hot slot after the blocks'.

use crate::nas::error::NasError;
use crate::nas::space::{Candidate, SuperGraph};

/// Which decisions count and where each one's one-hot block starts; fixed per template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Schema {
    /// Number of decisions of the template (a candidate's `choices.len()`).
    pub decisions: usize,
    /// Indices of the decisions with more than one block, in template order.
    pub active: Vec<usize>,
    /// Slot count of each active decision (its blocks, then its sets of parallel blocks).
    pub sizes: Vec<usize>,
    /// Sets of parallel blocks of each active decision (`Decision::all_sets`).
    pub sets: Vec<Vec<usize>>,
    /// Start of each active decision in the one-hot vector.
    pub offsets: Vec<usize>,
    /// Length of the one-hot vector (sum of `sizes`).
    pub dim: usize,
}

/// `n` codes of `width` choices each, row-major.
#[derive(Debug, Clone, Default)]
pub(crate) struct Codes {
    pub width: usize,
    pub n: usize,
    pub data: Vec<u16>,
}

impl Schema {
    pub fn new(graph: &SuperGraph) -> Result<Self, NasError> {
        let mut schema = Self {
            decisions: graph.decisions.len(),
            active: Vec::new(),
            sizes: Vec::new(),
            sets: Vec::new(),
            offsets: Vec::new(),
            dim: 0,
        };
        for (i, d) in graph.decisions.iter().enumerate() {
            let sets = d.all_sets();
            let size = d.blocks.len() + sets.len();
            if size > usize::from(u16::MAX) {
                return Err(NasError::Config(format!(
                    "layout: decision `{}` has {size} blocks; at most {} are supported",
                    d.name,
                    u16::MAX
                )));
            }
            if size > 1 {
                schema.active.push(i);
                schema.sizes.push(size);
                schema.sets.push(sets);
                schema.offsets.push(schema.dim);
                schema.dim += size;
            }
        }
        Ok(schema)
    }

    /// The codes of `candidates`; an error names the first candidate that does not fit.
    pub fn encode(&self, graph: &SuperGraph, candidates: &[Candidate]) -> Result<Codes, NasError> {
        let width = self.active.len();
        let mut single = vec![true; self.decisions];
        for &d in &self.active {
            single[d] = false;
        }
        let mut data = Vec::with_capacity(candidates.len() * width);
        for (n, c) in candidates.iter().enumerate() {
            if c.choices.len() != self.decisions {
                return Err(NasError::Config(format!(
                    "layout: candidate #{n} has {} choices, template {} has {} decisions",
                    c.choices.len(),
                    graph.name,
                    self.decisions
                )));
            }
            for (i, (&d, &size)) in self.active.iter().zip(&self.sizes).enumerate() {
                let dec = &graph.decisions[d];
                let Some(slot) = dec.slot(c.choices[d], &self.sets[i]) else {
                    return Err(NasError::Config(format!(
                        "layout: candidate #{n} chooses `{}` of decision `{}`, which has {} \
                         blocks and {} sets of parallel blocks",
                        dec.choice_label(c.choices[d]),
                        dec.name,
                        dec.blocks.len(),
                        size - dec.blocks.len()
                    )));
                };
                data.push(slot as u16);
            }
            for (d, &choice) in c.choices.iter().enumerate() {
                if choice != 0 && single[d] {
                    return Err(NasError::Config(format!(
                        "layout: candidate #{n} chooses block #{choice} of single-block \
                         decision `{}`",
                        graph.decisions[d].name
                    )));
                }
            }
        }
        Ok(Codes {
            width,
            n: candidates.len(),
            data,
        })
    }
}

impl Codes {
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn row(&self, i: usize) -> &[u16] {
        &self.data[i * self.width..(i + 1) * self.width]
    }

    pub fn extend_from(&mut self, other: &Codes) {
        self.data.extend_from_slice(&other.data);
        self.n += other.n;
    }
}

/// The number of decisions on which two codes differ.
#[inline]
pub(crate) fn hamming(a: &[u16], b: &[u16]) -> u32 {
    a.iter().zip(b).map(|(x, y)| u32::from(x != y)).sum()
}

/// Row-major one-hot matrix of `candidates` (one row each) and its width `d`: per decision
/// with more than one block, a 1 at the chosen block. Single-block decisions add nothing, so
/// the Hamming distance of two candidates is half their squared Euclidean distance.
pub fn one_hot(
    graph: &SuperGraph,
    candidates: &[Candidate],
) -> Result<(Vec<f32>, usize), NasError> {
    let schema = Schema::new(graph)?;
    let codes = schema.encode(graph, candidates)?;
    let d = schema.dim;
    let mut out = vec![0.0f32; candidates.len() * d];
    if d == 0 {
        return Ok((out, d));
    }
    for (i, row) in out.chunks_mut(d).enumerate() {
        for (&off, &c) in schema.offsets.iter().zip(codes.row(i)) {
            row[off + usize::from(c)] = 1.0;
        }
    }
    Ok((out, d))
}

/// Worker threads: `RAYON_NUM_THREADS` when set (the CLI's `--threads` sets it), else the
/// machine's parallelism.
pub(crate) fn threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |t| t.get()))
}

/// Threads for `n` rows of per-point work: fewer for small jobs.
fn threads_for(n: usize) -> usize {
    threads().min(n / 512).max(1)
}

/// Fills `out` (`n` rows of `width` values) by calling `f(i, row)` for every row, split over
/// scoped threads. Each row depends only on `i`, so the result is the same for any split.
pub(crate) fn par_rows<T, F>(out: &mut [T], width: usize, f: F)
where
    T: Send,
    F: Fn(usize, &mut [T]) + Sync,
{
    if width == 0 || out.is_empty() {
        return;
    }
    let n = out.len() / width;
    let threads = threads_for(n);
    if threads <= 1 {
        for (i, row) in out.chunks_mut(width).enumerate() {
            f(i, row);
        }
        return;
    }
    let per = n.div_ceil(threads);
    std::thread::scope(|s| {
        for (t, chunk) in out.chunks_mut(per * width).enumerate() {
            let f = &f;
            s.spawn(move || {
                for (r, row) in chunk.chunks_mut(width).enumerate() {
                    f(t * per + r, row);
                }
            });
        }
    });
}

/// A well-mixed 64-bit hash (splitmix64's finaliser), for tie-breaks and cheap streams.
#[inline]
pub(crate) fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
