//! Layouts of the search space: 2D or 3D coordinates for the candidates of a round, the
//! scatter view's positions.
//!
//! A candidate is read as its one-hot code: per decision with more than one block, a 1 at the
//! chosen block ([`one_hot`]); single-block decisions add nothing. Distances are Hamming
//! distances on the choices, which equal half the squared Euclidean distances of the codes.
//! Three methods ([`LayoutMethod`]):
//!
//! - **PCA**: the top principal axes of the centred one-hot matrix, found by seeded subspace
//!   iteration on its `d x d` covariance (`d` = the sum of the block counts), each axis signed
//!   so that its largest loading is positive. Coordinates are in one-hot units; axis 1 has
//!   the most variance. Linear and fast: the default for the overview.
//! - **MDS**: landmark MDS (de Silva & Tenenbaum): classical MDS on up to
//!   [`DEFAULT_LANDMARKS`] max-min landmarks, every other candidate triangulated from its
//!   distances to them. As the one-hot distances are Euclidean, this is PCA of the landmarks;
//!   it follows the spread of the space rather than of the sample.
//! - **Neighbour**: a UMAP-like neighbour-preserving layout on an (approximate, for more than
//!   3,000 candidates) Hamming kNN graph with [`DEFAULT_NEIGHBOURS`] neighbours, started from
//!   the PCA layout and optimised by seeded SGD with negative sampling. Keeps clusters of
//!   similar candidates together; distances between clusters mean little. Coordinates span
//!   roughly -10 to 10.
//!
//! Every layout is deterministic for its seed, whatever the number of threads (scoped std
//! threads; `RAYON_NUM_THREADS`, which `--threads` sets, or all cores). [`layout`] lays
//! out a set once; [`StableLayout`] keeps what it fitted and places later rounds' candidates
//! with [`StableLayout::extend`] without moving the points already shown (PCA and MDS project
//! them, the neighbour layout starts each at the weighted mean of its nearest old points and
//! optimises only the new ones). After a template edit (the codes change), fit anew and call
//! [`procrustes_align`] on the candidates both layouts share.

mod codes;
mod knn;
mod linalg;
mod mds;
mod neighbour;
mod pca;
mod procrustes;
mod sgd;
mod stable;

use serde::{Deserialize, Serialize};

use crate::nas::error::NasError;
use crate::nas::space::{Candidate, SuperGraph};

pub use codes::one_hot;
pub use mds::DEFAULT_LANDMARKS;
pub use neighbour::DEFAULT_NEIGHBOURS;
pub use procrustes::procrustes_align;
pub use stable::StableLayout;

/// How candidates are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayoutMethod {
    /// Principal components of the one-hot codes.
    Pca,
    /// Landmark multidimensional scaling of the Hamming distances.
    Mds,
    /// UMAP-like neighbour-preserving embedding.
    Neighbour,
}

impl LayoutMethod {
    pub const ALL: [LayoutMethod; 3] = [
        LayoutMethod::Pca,
        LayoutMethod::Mds,
        LayoutMethod::Neighbour,
    ];

    /// The method's name as in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            LayoutMethod::Pca => "pca",
            LayoutMethod::Mds => "mds",
            LayoutMethod::Neighbour => "neighbour",
        }
    }
}

/// Coordinates of a set of candidates, in the candidates' order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    /// 2 or 3.
    pub dims: usize,
    /// One point per candidate; `z` is 0 in 2D.
    pub points: Vec<[f32; 3]>,
}

/// Everything a layout depends on; [`LayoutConfig::new`] fills in the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutConfig {
    pub method: LayoutMethod,
    /// 2 or 3.
    pub dims: usize,
    pub seed: u64,
    /// Landmarks for MDS (at least `dims + 1`).
    pub landmarks: usize,
    /// Neighbours per candidate for the neighbour layout (at least 2).
    pub neighbours: usize,
    /// SGD epochs for the neighbour layout; 0 picks UMAP's default (500 up to 10,000
    /// candidates, 200 beyond). A later round's candidates get a third of it, at least 30.
    pub epochs: usize,
}

impl LayoutConfig {
    pub fn new(method: LayoutMethod, dims: usize, seed: u64) -> Self {
        Self {
            method,
            dims,
            seed,
            landmarks: DEFAULT_LANDMARKS,
            neighbours: DEFAULT_NEIGHBOURS,
            epochs: 0,
        }
    }

    /// Rejects settings no layout can use.
    pub fn check(&self) -> Result<(), NasError> {
        if !(2..=3).contains(&self.dims) {
            return Err(NasError::Config(format!(
                "layout: dims must be 2 or 3, not {}",
                self.dims
            )));
        }
        if self.landmarks < self.dims + 1 {
            return Err(NasError::Config(format!(
                "layout: {} landmarks are too few for {} dimensions",
                self.landmarks, self.dims
            )));
        }
        if self.neighbours < 2 {
            return Err(NasError::Config(format!(
                "layout: the neighbour layout needs at least 2 neighbours, not {}",
                self.neighbours
            )));
        }
        if self.epochs > 100_000 {
            return Err(NasError::Config(format!(
                "layout: {} epochs is more than 100,000",
                self.epochs
            )));
        }
        Ok(())
    }
}

/// Lays out `candidates` of `graph` once, with default settings.
pub fn layout(
    graph: &SuperGraph,
    candidates: &[Candidate],
    method: LayoutMethod,
    dims: usize,
    seed: u64,
) -> Result<Layout, NasError> {
    layout_with(graph, candidates, LayoutConfig::new(method, dims, seed))
}

/// Lays out `candidates` of `graph` once, with `config`.
pub fn layout_with(
    graph: &SuperGraph,
    candidates: &[Candidate],
    config: LayoutConfig,
) -> Result<Layout, NasError> {
    Ok(StableLayout::fit_with(graph, candidates, config)?.into_layout())
}
