//! Suggestions and the autopilot. A suggestion is a template edit with a reason a person can
//! read. The rule: in a decision, a block whose whole fitness interval lies below the best
//! block's interval is suggested for disabling. The autopilot applies every suggestion round
//! after round, until one candidate is left or the budget ends, and logs each decision.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::stats::{compute, Statistics};
use super::strategy::{Search, StrategyKind};
use super::tabular::Table;
use crate::nas::error::Result;
use crate::nas::space::edit::Edit;
use crate::nas::space::{Candidate, SuperGraph};

/// Blocks need this many scored candidates before the rule judges them.
pub const MIN_EVIDENCE: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub edit: Edit,
    pub decision: String,
    pub block: String,
    pub reason: String,
}

/// Who made an edit: the analyst, an accepted suggestion or the autopilot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditAuthor {
    Analyst,
    Suggestion,
    Autopilot,
}

impl EditAuthor {
    /// Who made an edit, as the start of a sentence ("accepted suggestion: disable ...").
    pub fn word(self) -> &'static str {
        match self {
            EditAuthor::Analyst => "the analyst's edit:",
            EditAuthor::Suggestion => "accepted suggestion:",
            EditAuthor::Autopilot => "autopilot:",
        }
    }
}

/// Suggestions from one round's statistics.
pub fn suggest(graph: &SuperGraph, stats: &Statistics) -> Vec<Suggestion> {
    let mut out = Vec::new();
    for (d, dec) in graph.decisions.iter().enumerate() {
        if dec.locked().is_some() || dec.enabled().count() < 2 {
            continue;
        }
        let judged: Vec<_> = stats
            .blocks
            .iter()
            .filter(|b| b.decision_index == d && b.count >= MIN_EVIDENCE)
            .filter(|b| dec.blocks.get(b.block_index).is_some_and(|blk| blk.enabled))
            .collect();
        let Some(best) = judged.iter().max_by(|a, b| a.fitness.total_cmp(&b.fitness)) else {
            continue;
        };
        for b in &judged {
            if b.block_index == best.block_index || b.fitness_high >= best.fitness_low {
                continue;
            }
            out.push(Suggestion {
                edit: Edit::SetEnabled { decision: dec.name.clone(), label: b.block.clone(), enabled: false },
                decision: dec.name.clone(),
                block: b.block.clone(),
                reason: format!(
                    "{} on {}: fitness {:.2} [{:.2}, {:.2}] over {} candidates, below {} ({:.2} [{:.2}, {:.2}])",
                    b.block, dec.name, b.fitness, b.fitness_low, b.fitness_high, b.count, best.block, best.fitness,
                    best.fitness_low, best.fitness_high
                ),
            });
        }
    }
    out
}

/// One autopilot round: what it saw and what it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutopilotRound {
    pub round: usize,
    pub queries_so_far: usize,
    pub best_so_far: f32,
    pub space_size_after: f64,
    pub applied: Vec<Suggestion>,
}

/// The autopilot on a table of true scores: each round scores `per_round` new random
/// candidates of the current space, computes the statistics over every scored candidate the
/// space still allows, and applies all suggestions. Returns the best true score found within
/// `queries` and the log.
pub fn autopilot_tabular(
    graph: &SuperGraph,
    table: &Table,
    per_round: usize,
    queries: usize,
    seed: u64,
) -> Result<(f32, Vec<AutopilotRound>)> {
    let mut g = graph.clone();
    let mut seen: HashSet<Candidate> = HashSet::new();
    let mut scored: Vec<(Candidate, f32)> = Vec::new();
    let mut best = f32::NEG_INFINITY;
    let mut log = Vec::new();
    let mut round = 0;
    while scored.len() < queries {
        round += 1;
        let mut search = Search::new(
            &g,
            StrategyKind::Random,
            seed.wrapping_mul(1000).wrapping_add(round as u64),
        )?;
        let target = per_round.max(1).min(queries - scored.len());
        let mut fresh = 0;
        while fresh < target {
            let Some(c) = search.ask() else { break };
            search.tell(c.clone(), 0.0);
            if !seen.insert(c.clone()) {
                continue;
            }
            let s = table.score(&g, &c)?;
            best = best.max(s);
            scored.push((c, s));
            fresh += 1;
        }
        if fresh == 0 {
            break;
        }
        let allowed: Vec<(Candidate, f32)> = scored
            .iter()
            .filter(|(c, _)| c.check_allowed(&g).is_ok())
            .cloned()
            .collect();
        let stats = compute(&g, &allowed, seed);
        let mut applied = Vec::new();
        for s in suggest(&g, &stats) {
            if g.apply(&s.edit).is_ok() {
                applied.push(s);
            }
        }
        log.push(AutopilotRound {
            round,
            queries_so_far: scored.len(),
            best_so_far: best,
            space_size_after: g.space_size(),
            applied,
        });
        if g.space_size() <= 1.0 {
            if let Some(last) = Candidate::enumerate(&g, 1).and_then(|v| v.into_iter().next()) {
                if scored.len() < queries && seen.insert(last.clone()) {
                    best = best.max(table.score(&g, &last)?);
                    scored.push((last, 0.0));
                }
            }
            break;
        }
    }
    Ok((best, log))
}
