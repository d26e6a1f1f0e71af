//! Stable layouts: a fitted layout that keeps its model (projection, landmarks or kNN graph)
//! so that later rounds' candidates are placed among the existing points without moving them.

use rand::Rng;

use super::codes::{mix64, Codes, Schema};
use super::knn::{knn_graph, knn_query, Knn, SortIndex};
use super::mds::Landmarks;
use super::neighbour::{default_epochs, fuzzy_edges, initial, memberships, Edges};
use super::pca::Pca;
use super::sgd::{optimise, optimise_new};
use super::{Layout, LayoutConfig, LayoutMethod};
use crate::nas::error::NasError;
use crate::nas::ops::init::stream;
use crate::nas::space::{Candidate, SuperGraph};

/// What a method keeps between rounds.
#[derive(Debug, Clone)]
enum Model {
    Pca(Pca),
    Mds(Landmarks),
    Neighbour { knn: Knn, index: SortIndex },
}

/// A layout that grows: [`StableLayout::extend`] adds candidates and never moves the points
/// that are already there (bit for bit).
#[derive(Debug, Clone)]
pub struct StableLayout {
    config: LayoutConfig,
    schema: Schema,
    codes: Codes,
    points: Vec<[f32; 3]>,
    model: Model,
}

impl StableLayout {
    /// Fits a layout of `candidates` with default settings.
    pub fn fit(
        graph: &SuperGraph,
        candidates: &[Candidate],
        method: LayoutMethod,
        dims: usize,
        seed: u64,
    ) -> Result<Self, NasError> {
        Self::fit_with(graph, candidates, LayoutConfig::new(method, dims, seed))
    }

    /// Fits a layout of `candidates` with `config`.
    pub fn fit_with(
        graph: &SuperGraph,
        candidates: &[Candidate],
        config: LayoutConfig,
    ) -> Result<Self, NasError> {
        config.check()?;
        let schema = Schema::new(graph)?;
        let codes = schema.encode(graph, candidates)?;
        let mut rng = stream(config.seed, "layout.fit");
        let n = codes.len();
        let (points, model) = match config.method {
            LayoutMethod::Pca => {
                let pca = Pca::fit(&schema, &codes, config.dims, &mut rng);
                (pca.project(&codes), Model::Pca(pca))
            }
            LayoutMethod::Mds => {
                let lm = Landmarks::fit(&codes, config.dims, config.landmarks, &mut rng);
                (lm.project(&codes), Model::Mds(lm))
            }
            LayoutMethod::Neighbour => {
                let start = Pca::fit(&schema, &codes, config.dims, &mut rng).project(&codes);
                let mut index = SortIndex::new(codes.width, &mut rng);
                index.sort(&codes);
                let knn = knn_graph(&codes, config.neighbours.min(n.saturating_sub(1)), &index);
                let edges = fuzzy_edges(&knn, n);
                let mut points = initial(&start, config.dims, &mut rng);
                let epochs = if config.epochs == 0 {
                    default_epochs(n)
                } else {
                    config.epochs
                };
                optimise(&mut points, config.dims, &edges, epochs, rng.random());
                (points, Model::Neighbour { knn, index })
            }
        };
        Ok(Self {
            config,
            schema,
            codes,
            points,
            model,
        })
    }

    /// The settings this layout was fitted with.
    pub fn config(&self) -> &LayoutConfig {
        &self.config
    }

    /// Every point so far: the fitted candidates, then each extension's, in order.
    pub fn points(&self) -> &[[f32; 3]] {
        &self.points
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// PCA and MDS: the share of the codes' total variance along each axis (descending),
    /// for axis labels. `None` for the neighbour layout, whose axes mean nothing.
    pub fn explained_variance(&self) -> Option<Vec<f64>> {
        let (values, total) = match &self.model {
            Model::Pca(pca) => (&pca.variances, pca.total),
            Model::Mds(lm) => (&lm.eigenvalues, lm.total),
            Model::Neighbour { .. } => return None,
        };
        let share = |v: &f64| if total > 0.0 { v.max(0.0) / total } else { 0.0 };
        Some(values.iter().take(self.config.dims).map(share).collect())
    }

    /// MDS: the indices (into the fitted candidates) of the landmarks, in selection order.
    pub fn landmarks(&self) -> Option<&[usize]> {
        match &self.model {
            Model::Mds(lm) => Some(&lm.chosen),
            _ => None,
        }
    }

    /// A copy of the points as a [`Layout`].
    pub fn layout(&self) -> Layout {
        Layout {
            dims: self.config.dims,
            points: self.points.clone(),
        }
    }

    pub fn into_layout(self) -> Layout {
        Layout {
            dims: self.config.dims,
            points: self.points,
        }
    }

    /// Adds `new` candidates (a new round) without moving the existing points and returns the
    /// new points. The template must have the same decisions and block counts as at fitting
    /// (after an edit that changes them, fit anew and use `procrustes_align`). An empty
    /// layout is simply fitted on `new`.
    pub fn extend(
        &mut self,
        graph: &SuperGraph,
        new: &[Candidate],
    ) -> Result<&[[f32; 3]], NasError> {
        if Schema::new(graph)? != self.schema {
            return Err(NasError::Config(format!(
                "layout: template {} no longer has the decisions and block counts this layout \
                 was fitted on; fit a new layout and align it with procrustes_align",
                graph.name
            )));
        }
        let new_codes = self.schema.encode(graph, new)?;
        let old_n = self.points.len();
        if new_codes.len() == 0 {
            return Ok(&self.points[old_n..]);
        }
        if old_n == 0 {
            *self = Self::fit_with(graph, new, self.config)?;
            return Ok(&self.points);
        }
        let placed = match &mut self.model {
            Model::Pca(pca) => pca.project(&new_codes),
            Model::Mds(lm) => lm.project(&new_codes),
            Model::Neighbour { knn, index } => {
                let k = self.config.neighbours.min(old_n);
                let found = knn_query(&self.codes, index, knn, &new_codes, k, old_n);
                let seed =
                    stream(self.config.seed ^ mix64(old_n as u64), "layout.extend").random::<u64>();
                let placed = place_new(&self.points, &found, &self.config, seed);
                knn.append(&found);
                let mut all = self.codes.clone();
                all.extend_from(&new_codes);
                index.sort(&all);
                placed
            }
        };
        self.codes.extend_from(&new_codes);
        self.points.extend(placed);
        Ok(&self.points[old_n..])
    }
}

/// New points of the neighbour layout: each starts at the membership-weighted mean of its
/// nearest old points, then SGD moves only the new points (`old` is read-only).
fn place_new(old: &[[f32; 3]], found: &Knn, config: &LayoutConfig, seed: u64) -> Vec<[f32; 3]> {
    let mut edges = Edges::default();
    let mut placed = Vec::with_capacity(found.n);
    for q in 0..found.n {
        let row: Vec<(u32, u32)> = found.row(q).collect();
        let dists: Vec<u32> = row.iter().map(|&(_, d)| d).collect();
        let weights = memberships(&dists);
        let mut at = [0.0f64; 3];
        let mut total = 0.0f64;
        for (&(j, _), &w) in row.iter().zip(&weights) {
            let p = old[j as usize];
            for d in 0..3 {
                at[d] += f64::from(w) * f64::from(p[d]);
            }
            total += f64::from(w);
            edges.head.push(q as u32);
            edges.tail.push(j);
            edges.weight.push(w);
        }
        let total = total.max(f64::MIN_POSITIVE);
        placed.push([
            (at[0] / total) as f32,
            (at[1] / total) as f32,
            (at[2] / total) as f32,
        ]);
    }
    let full = if config.epochs == 0 {
        default_epochs(old.len() + found.n)
    } else {
        config.epochs
    };
    optimise_new(
        old,
        &mut placed,
        config.dims,
        &edges,
        (full / 3).max(30),
        seed,
    );
    placed
}
