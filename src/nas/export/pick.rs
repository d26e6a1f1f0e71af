//! Which candidate of a session to export or train: `best` (the highest score of the last
//! round), `compose` (the highest-fitness enabled block of every decision, from the last
//! round's block statistics) or a candidate string.

use crate::nas::error::{NasError, Result};
use crate::nas::search::stats;
use crate::nas::session::{CandidateRow, Session};
use crate::nas::space::{Candidate, SuperGraph};

use super::ScoreDoc;

/// The words `pick` understands besides candidate strings.
pub const BEST: &str = "best";
pub const COMPOSE: &str = "compose";

/// The candidate and the session's score for it (its latest row, if it was ever scored).
pub fn pick(
    session: &Session,
    graph: &SuperGraph,
    which: &str,
) -> Result<(Candidate, Option<ScoreDoc>)> {
    let text = match which.trim() {
        BEST => best_row(session)?.candidate.clone(),
        COMPOSE => compose(session, graph)?.to_string(graph),
        other => other.to_string(),
    };
    let candidate = Candidate::parse(graph, &text)
        .and_then(|c| c.check_allowed(graph).map(|_| c))
        .map_err(|e| NasError::file(&session.dir, e.to_string()))?;
    let score = session
        .rows
        .iter()
        .rev()
        .find(|r| r.candidate == text)
        .map(|r| ScoreDoc {
            round: r.round,
            accuracy: r.accuracy,
        });
    Ok((candidate, score))
}

fn last_round(session: &Session) -> Result<usize> {
    session
        .file
        .rounds
        .last()
        .map(|r| r.round)
        .ok_or_else(|| NasError::file(&session.dir, "the session has no round yet"))
}

/// The highest-accuracy row of the last round.
fn best_row(session: &Session) -> Result<&CandidateRow> {
    let round = last_round(session)?;
    session
        .round_rows(round)
        .max_by(|a, b| a.accuracy.total_cmp(&b.accuracy))
        .ok_or_else(|| {
            NasError::file(
                session.candidates_path(),
                format!("no candidate of round {round} scored yet"),
            )
        })
}

/// One network from the best block of every decision: the enabled block with the highest
/// fitness among the last round's candidates that still parse under `graph` (a locked block
/// wins; a decision no scored candidate covers takes its first enabled block).
pub fn compose(session: &Session, graph: &SuperGraph) -> Result<Candidate> {
    let round = last_round(session)?;
    let scored: Vec<(Candidate, f32)> = session
        .round_rows(round)
        .filter_map(|r| {
            Candidate::parse(graph, &r.candidate)
                .ok()
                .map(|c| (c, r.accuracy))
        })
        .collect();
    if scored.is_empty() {
        return Err(NasError::file(
            session.candidates_path(),
            format!(
                "no candidate of round {round} fits the current template, nothing to compose from"
            ),
        ));
    }
    let st = stats::compute(graph, &scored, 0);
    let mut choices = Vec::with_capacity(graph.decisions.len());
    for (d, dec) in graph.decisions.iter().enumerate() {
        let best = st
            .blocks
            .iter()
            .filter(|b| b.decision_index == d && b.count > 0)
            .filter(|b| dec.blocks.get(b.block_index).is_some_and(|x| x.enabled))
            .max_by(|a, b| a.fitness.total_cmp(&b.fitness))
            .map(|b| b.block_index);
        let chosen = dec
            .locked()
            .or(best)
            .or_else(|| dec.enabled().next().map(|(i, _)| i))
            .ok_or_else(|| {
                NasError::Config(format!("decision `{}` has no enabled block", dec.name))
            })?;
        choices.push(chosen);
    }
    Ok(Candidate { choices })
}
