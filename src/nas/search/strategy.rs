//! Search strategies (random, regularised evolution, exhaustive) behind one ask/tell interface.
//!
//! A [`Search`] proposes candidates with [`Search::ask`] and learns their scores (higher is
//! better) through [`Search::tell`]. It never proposes a candidate it has proposed or been
//! told before, and every proposal respects the template's enabled and locked blocks. All
//! randomness comes from one ChaCha8 generator seeded with `seed`, so a search is fully
//! deterministic.
//!
//! Pausing and resuming: the whole state is (kind, seed, seed selection, history). Save the
//! history, and rebuild with [`Search::replay`] (or `new(..)?.seeded_with(..).resume(..)`),
//! which re-asks and re-tells the recorded scores; afterwards the search proposes exactly
//! what the original would have. This assumes the search was driven ask, tell, ask, tell
//! (as the tabular mode and the CLI do).

use std::collections::{HashSet, VecDeque};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::nas::error::NasError;
use crate::nas::space::{Candidate, SpaceError, SuperGraph};

/// Largest space the exhaustive strategy (and the unseen-candidate fallback) will enumerate.
pub const EXHAUSTIVE_LIMIT: u64 = 1_000_000;
/// Rejection-sampling tries before falling back to listing the unseen candidates.
const REJECTION_TRIES: usize = 64;
/// Offspring tries (tournament, crossover, mutation) before falling back to a random unseen one.
const OFFSPRING_TRIES: usize = 100;
const CROSSOVER_PROBABILITY: f64 = 0.1;

/// Which strategy proposes candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "strategy", rename_all = "snake_case")]
pub enum StrategyKind {
    /// Uniform samples over the allowed blocks (or, when seeded, a widening neighbourhood of
    /// the seeded candidates).
    Random,
    /// Regularised evolution (Real et al. 2019): tournament selection, one-decision mutation,
    /// occasional uniform crossover; the oldest member leaves the population.
    Evolution {
        population: usize,
        tournament: usize,
    },
    /// Every allowed candidate once, in `Candidate::enumerate` order.
    Exhaustive,
}

impl StrategyKind {
    /// Regularised evolution with the defaults: population 50, tournament 10.
    pub fn evolution() -> Self {
        StrategyKind::Evolution {
            population: 50,
            tournament: 10,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            StrategyKind::Random => "random",
            StrategyKind::Evolution { .. } => "evolution",
            StrategyKind::Exhaustive => "exhaustive",
        }
    }
}

/// A running search; see the module documentation.
#[derive(Debug, Clone)]
pub struct Search {
    kind: StrategyKind,
    rng: ChaCha8Rng,
    /// Allowed choices per decision (`Decision::options`: the lock alone where a block is
    /// locked; sets of parallel blocks where allowed).
    options: Vec<Vec<usize>>,
    /// Decisions with more than one allowed block.
    mutable: Vec<usize>,
    size: f64,
    history: Vec<(Candidate, f32)>,
    seen: HashSet<Candidate>,
    selection: Vec<(Candidate, f32)>,
    population: VecDeque<(Candidate, f32)>,
    asked: usize,
    cursor: u64,
    remaining: Option<Vec<Candidate>>,
    radius: usize,
}

fn key(score: f32) -> f32 {
    if score.is_nan() {
        f32::NEG_INFINITY
    } else {
        score
    }
}

impl Search {
    /// A fresh search over `graph`'s allowed candidates. Refuses an exhaustive search over
    /// more than [`EXHAUSTIVE_LIMIT`] candidates and evolution with an empty population or
    /// tournament.
    pub fn new(graph: &SuperGraph, kind: StrategyKind, seed: u64) -> Result<Self, NasError> {
        let mut options = Vec::with_capacity(graph.decisions.len());
        for d in &graph.decisions {
            let opts = d.options();
            if opts.is_empty() {
                return Err(SpaceError::EmptyDecision(d.name.clone()).into());
            }
            options.push(opts);
        }
        let size: f64 = options.iter().map(|o| o.len() as f64).product();
        match kind {
            StrategyKind::Exhaustive if size > EXHAUSTIVE_LIMIT as f64 => {
                return Err(NasError::Config(format!(
                    "exhaustive search refused: template `{}` has {size:.0} candidates, more than \
                     {EXHAUSTIVE_LIMIT}; use random or evolution, or disable blocks",
                    graph.name
                )))
            }
            StrategyKind::Evolution {
                population,
                tournament,
            } if population == 0 || tournament == 0 || tournament > population => {
                return Err(NasError::Config(format!(
                    "evolution: expected population >= 1 and 1 <= tournament <= population, \
                     got population {population}, tournament {tournament}"
                )))
            }
            _ => {}
        }
        let mutable = (0..options.len())
            .filter(|&d| options[d].len() > 1)
            .collect();
        Ok(Self {
            kind,
            rng: ChaCha8Rng::seed_from_u64(seed),
            options,
            mutable,
            size,
            history: Vec::new(),
            seen: HashSet::new(),
            selection: Vec::new(),
            population: VecDeque::new(),
            asked: 0,
            cursor: 0,
            remaining: None,
            radius: 1,
        })
    }

    /// "Search around these": evolution starts its population from the best of these
    /// (topped up with random candidates); random searches their widening neighbourhood;
    /// exhaustive skips them. They are never proposed again and are not part of the history.
    pub fn seeded_with(mut self, mut selection: Vec<(Candidate, f32)>) -> Self {
        for (c, _) in &selection {
            self.mark_seen(c);
        }
        if let StrategyKind::Evolution { population, .. } = self.kind {
            // Keep the best `population`, in their given order (the first is the oldest).
            let mut order: Vec<usize> = (0..selection.len()).collect();
            order.sort_by(|&a, &b| key(selection[b].1).total_cmp(&key(selection[a].1)));
            order.truncate(population);
            order.sort_unstable();
            selection = order.into_iter().map(|i| selection[i].clone()).collect();
            self.population = selection.iter().cloned().collect();
        }
        self.selection = selection;
        self
    }

    /// Rebuilds a search from its recorded history; see the module documentation.
    pub fn replay(
        graph: &SuperGraph,
        kind: StrategyKind,
        seed: u64,
        history: &[(Candidate, f32)],
    ) -> Result<Self, NasError> {
        Search::new(graph, kind, seed)?.resume(history)
    }

    /// Re-asks and re-tells `history` on this (fresh or freshly seeded) search. Fails when
    /// an entry is not what this strategy and seed propose at that point.
    pub fn resume(mut self, history: &[(Candidate, f32)]) -> Result<Self, NasError> {
        for (i, (c, score)) in history.iter().enumerate() {
            match self.ask() {
                Some(a) if &a == c => self.tell(a, *score),
                other => {
                    return Err(NasError::Config(format!(
                        "replay: history entry {} ({:?}) differs from the proposal {:?}; was it \
                         recorded with another strategy, seed or template?",
                        i + 1,
                        c.choices,
                        other.map(|o| o.choices)
                    )))
                }
            }
        }
        Ok(self)
    }

    /// The next candidate to score, or None when no unseen candidate is left.
    pub fn ask(&mut self) -> Option<Candidate> {
        if self.seen.len() as f64 >= self.size {
            return None;
        }
        let proposal = match self.kind {
            StrategyKind::Exhaustive => self.next_in_order(),
            StrategyKind::Random if !self.selection.is_empty() => self.neighbour(),
            StrategyKind::Random => self.unseen_uniform(),
            StrategyKind::Evolution {
                population,
                tournament,
            } => {
                let init = population.saturating_sub(self.selection.len());
                if self.asked < init || self.population.is_empty() {
                    self.unseen_uniform()
                } else {
                    self.offspring(tournament)
                }
            }
        };
        if let Some(c) = &proposal {
            self.asked += 1;
            self.mark_seen(c);
        }
        proposal
    }

    /// How many candidates can be asked now, before any of them is told, and still be the
    /// ones that ask, tell, ask, tell would propose: any number for random and exhaustive
    /// search, the rest of the initial population for evolution, else one.
    pub fn independent_asks(&self) -> usize {
        match self.kind {
            StrategyKind::Exhaustive | StrategyKind::Random => usize::MAX,
            StrategyKind::Evolution { population, .. } => {
                let init = population.saturating_sub(self.selection.len());
                init.saturating_sub(self.asked).max(1)
            }
        }
    }

    /// Reports a score (higher is better; NaN counts as worst) for a candidate from `ask`.
    pub fn tell(&mut self, candidate: Candidate, score: f32) {
        self.mark_seen(&candidate);
        if let StrategyKind::Evolution { population, .. } = self.kind {
            self.population.push_back((candidate.clone(), score));
            while self.population.len() > population {
                self.population.pop_front();
            }
        }
        self.history.push((candidate, score));
    }

    /// Every told (candidate, score), in order.
    pub fn history(&self) -> &[(Candidate, f32)] {
        &self.history
    }

    /// The best told candidate (the first one on ties).
    pub fn best(&self) -> Option<&(Candidate, f32)> {
        self.history
            .iter()
            .reduce(|b, x| if key(x.1) > key(b.1) { x } else { b })
    }

    fn allowed(&self, c: &Candidate) -> bool {
        c.choices.len() == self.options.len()
            && c.choices
                .iter()
                .zip(&self.options)
                .all(|(x, o)| o.contains(x))
    }

    fn mark_seen(&mut self, c: &Candidate) {
        if self.allowed(c) && !self.seen.contains(c) {
            self.seen.insert(c.clone());
        }
    }

    /// The candidate at `index` of the enumeration order (last decision fastest).
    fn nth(&self, mut index: u64) -> Candidate {
        let mut choices = vec![0; self.options.len()];
        for (d, opts) in self.options.iter().enumerate().rev() {
            let n = opts.len() as u64;
            choices[d] = opts[(index % n) as usize];
            index /= n;
        }
        Candidate { choices }
    }

    fn next_in_order(&mut self) -> Option<Candidate> {
        while (self.cursor as f64) < self.size {
            let c = self.nth(self.cursor);
            self.cursor += 1;
            if !self.seen.contains(&c) {
                return Some(c);
            }
        }
        None
    }

    fn sample(&mut self) -> Candidate {
        let rng = &mut self.rng;
        let choices = self
            .options
            .iter()
            .map(|o| o[rng.random_range(0..o.len())])
            .collect();
        Candidate { choices }
    }

    /// A uniform sample among the unseen candidates.
    fn unseen_uniform(&mut self) -> Option<Candidate> {
        if self.remaining.is_none() {
            for _ in 0..REJECTION_TRIES {
                let c = self.sample();
                if !self.seen.contains(&c) {
                    return Some(c);
                }
            }
            if self.size > EXHAUSTIVE_LIMIT as f64 {
                // Astronomically unlikely: a huge space with nearly all of it seen.
                for _ in 0..100 * REJECTION_TRIES {
                    let c = self.sample();
                    if !self.seen.contains(&c) {
                        return Some(c);
                    }
                }
                return None;
            }
            let all = (0..self.size as u64).map(|i| self.nth(i));
            let unseen = all.filter(|c| !self.seen.contains(c)).collect();
            self.remaining = Some(unseen);
        }
        let pool = self.remaining.as_mut()?;
        while !pool.is_empty() {
            let c = pool.swap_remove(self.rng.random_range(0..pool.len()));
            if !self.seen.contains(&c) {
                return Some(c);
            }
        }
        None
    }

    /// Makes `c` an allowed candidate: wrong or missing choices become random allowed ones.
    fn repair(&mut self, c: &mut Candidate) {
        c.choices.resize(self.options.len(), usize::MAX);
        for (x, opts) in c.choices.iter_mut().zip(&self.options) {
            if !opts.contains(x) {
                *x = opts[self.rng.random_range(0..opts.len())];
            }
        }
    }

    /// Changes `count` distinct mutable decisions to another allowed choice.
    fn mutate(&mut self, c: &mut Candidate, count: usize) {
        let mut free = self.mutable.clone();
        for _ in 0..count.min(free.len()) {
            let d = free.swap_remove(self.rng.random_range(0..free.len()));
            let others: Vec<usize> = self.options[d]
                .iter()
                .copied()
                .filter(|&o| o != c.choices[d])
                .collect();
            c.choices[d] = others[self.rng.random_range(0..others.len())];
        }
    }

    fn tournament(&mut self, size: usize) -> Candidate {
        let n = self.population.len();
        let mut best = self.rng.random_range(0..n);
        for _ in 1..size {
            let i = self.rng.random_range(0..n);
            if key(self.population[i].1) > key(self.population[best].1) {
                best = i;
            }
        }
        self.population[best].0.clone()
    }

    fn offspring(&mut self, tournament: usize) -> Option<Candidate> {
        for _ in 0..OFFSPRING_TRIES {
            let mut child = self.tournament(tournament);
            if self.rng.random_bool(CROSSOVER_PROBABILITY) {
                let other = self.tournament(tournament);
                for (x, y) in child.choices.iter_mut().zip(&other.choices) {
                    if self.rng.random_bool(0.5) {
                        *x = *y;
                    }
                }
            }
            self.repair(&mut child);
            self.mutate(&mut child, 1);
            if !self.seen.contains(&child) {
                return Some(child);
            }
        }
        self.unseen_uniform()
    }

    /// A seeded candidate with `radius` decisions changed; the radius widens when its
    /// neighbourhood looks used up, and past the number of decisions this is uniform.
    fn neighbour(&mut self) -> Option<Candidate> {
        while self.radius <= self.mutable.len() {
            for _ in 0..REJECTION_TRIES {
                let i = self.rng.random_range(0..self.selection.len());
                let mut c = self.selection[i].0.clone();
                self.repair(&mut c);
                self.mutate(&mut c, self.radius);
                if !self.seen.contains(&c) {
                    return Some(c);
                }
            }
            self.radius += 1;
        }
        self.unseen_uniform()
    }
}
