//! The yardstick: published NAS-Bench-201 accuracies (vendored in assets/yardstick, see its
//! README) against which our own scores of NB201 cells are measured. Truth is never an
//! input: this module only draws cells uniformly and compares rankings; nothing here feeds
//! a score, a default or a weight.

use std::io::Read;
use std::path::Path;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::nas::error::{NasError, Result};
use crate::nas::search::trust::{bootstrap_intervals, kendall_tau, spearman, Interval};
use crate::nas::space::{Candidate, SuperGraph};

/// The vendored table: NB201 cell string -> CIFAR-10 test accuracy (%) after 200 epochs.
const NB201_CIFAR10: &[u8] = include_bytes!("../../assets/yardstick/nb201-cifar10-200ep.csv.gz");

/// Cells and their published accuracy, in the table's order.
#[derive(Debug, Clone)]
pub struct TruthTable {
    pub cells: Vec<(String, f64)>,
}

impl TruthTable {
    /// The NB201 CIFAR-10 table compiled into the binary.
    pub fn nb201_cifar10() -> Result<Self> {
        Self::from_gz(
            NB201_CIFAR10,
            Path::new("assets/yardstick/nb201-cifar10-200ep.csv.gz"),
        )
    }

    /// A gzip CSV `cell,accuracy` (header line first), as vendored.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| NasError::io(path, e))?;
        Self::from_gz(&bytes, path)
    }

    fn from_gz(bytes: &[u8], path: &Path) -> Result<Self> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .map_err(|e| NasError::file(path, format!("not a gzip text file: {e}")))?;
        let mut cells = Vec::new();
        for (i, line) in text.lines().enumerate().skip(1) {
            let Some((cell, acc)) = line.rsplit_once(',') else {
                return Err(NasError::file(
                    path,
                    format!("line {}: expected `cell,accuracy`", i + 1),
                ));
            };
            let acc: f64 = acc.trim().parse().map_err(|_| {
                NasError::file(path, format!("line {}: `{acc}` is not a number", i + 1))
            })?;
            cells.push((cell.trim().to_string(), acc));
        }
        if cells.is_empty() {
            return Err(NasError::file(path, "no cells in the table"));
        }
        Ok(Self { cells })
    }

    /// `count` cells drawn uniformly (seeded, without replacement) from those that are
    /// working candidates of `graph` (a path of non-`none` operations from input to output;
    /// decided by our graph, not by the table), with their published accuracy.
    pub fn draw_working(
        &self,
        graph: &SuperGraph,
        count: usize,
        seed: u64,
    ) -> Result<Vec<(String, f64)>> {
        let mut working = Vec::new();
        for (cell, acc) in &self.cells {
            let c = Candidate::parse(graph, cell)?;
            if c.check_allowed(graph).is_ok() && c.is_working(graph) {
                working.push((cell.clone(), *acc));
            }
        }
        working.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        working.truncate(count);
        Ok(working)
    }
}

/// Rank agreement of one signal with the truth, with 95% bootstrap intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    pub cells: usize,
    pub kendall_tau: f64,
    pub kendall_interval: Interval,
    pub spearman: f64,
    pub spearman_interval: Interval,
}

impl Correlation {
    pub fn between(signal: &[f64], truth: &[f64]) -> Self {
        let (kendall_interval, spearman_interval) = bootstrap_intervals(signal, truth);
        Self {
            cells: signal.len().min(truth.len()),
            kendall_tau: kendall_tau(signal, truth),
            kendall_interval,
            spearman: spearman(signal, truth),
            spearman_interval,
        }
    }
}

/// One signal measured on all drawn cells and on the top quartile of them by truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalRow {
    pub signal: String,
    pub all: Correlation,
    pub top_quartile: Correlation,
}

/// Measures `signal` (one value per cell, higher = better) against `truth`.
pub fn measure(name: &str, signal: &[f64], truth: &[f64]) -> SignalRow {
    let mut order: Vec<usize> = (0..truth.len()).collect();
    order.sort_by(|&a, &b| truth[b].total_cmp(&truth[a]));
    order.truncate(truth.len().div_ceil(4));
    let pick = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<_>>();
    SignalRow {
        signal: name.to_string(),
        all: Correlation::between(signal, truth),
        top_quartile: Correlation::between(&pick(signal), &pick(truth)),
    }
}
