//! Scoring candidates with the shared weights: re-calibrate the candidate's batch norms on
//! cached training batches, evaluate on a fixed validation subset, restore the stats. Rounds
//! score groups of candidates in the order of their choices so that consecutive candidates
//! share the computation of their common prefix, or on a GPU all at once, step by step (see
//! [`super::score_group`]); the scores equal those of scoring one by one
//! (`Worker::scoring = ScoreMode::OneByOne`), bit for bit with shared prefixes on the CPU.

use candle_core::Tensor;

use super::checkpoint::ScoreFlush;
use super::config::RoundConfig;
use super::engine::Worker;
use super::protocol::{Event, ScoredCandidate};
use super::signals::signals_of;
use crate::nas::data::make_batch;
use crate::nas::error::{NasError, Result};
use crate::nas::ops::init::stream;
use crate::nas::search::strategy::{Search, StrategyKind};
use crate::nas::session::CandidateRow;
use crate::nas::signals::Signals;
use crate::nas::space::Candidate;
use rand::RngCore;

pub use super::score_group::{
    evaluate_one, one_by_one, score_group, GroupScorer, ScoreMode, SCORE_GROUP,
};

/// Batches reused for every candidate of a scoring pass.
pub struct ScoreBatches {
    pub calibration: Vec<(Tensor, Tensor)>,
    pub validation: Vec<(Tensor, Tensor)>,
}

impl Worker {
    /// How many candidates the round scores: `candidates`, or the whole space if smaller.
    pub fn candidate_total(&self, cfg: &RoundConfig) -> usize {
        (cfg.candidates as f64).min(self.supernet.graph.space_size()) as usize
    }

    /// The round's search, with the candidates already scored in this round replayed so a
    /// resumed round proposes exactly what the uninterrupted one would have.
    fn round_search(
        &self,
        cfg: &RoundConfig,
        round: usize,
        history: &[(Candidate, f32)],
    ) -> Result<Search> {
        let graph = &self.supernet.graph;
        let kind = if graph.space_size() <= cfg.candidates as f64 {
            StrategyKind::Exhaustive
        } else {
            cfg.strategy.clone()
        };
        let seed = stream(cfg.seed, &format!("score/round{round}")).next_u64();
        let mut selection = Vec::new();
        for text in &cfg.around {
            let c = Candidate::parse(graph, text)?;
            let known = self.session.as_ref().and_then(|s| {
                s.rows
                    .iter()
                    .rev()
                    .find(|r| r.candidate == text.trim())
                    .map(|r| r.accuracy)
            });
            selection.push((c, known.unwrap_or(f32::NAN)));
        }
        let search = Search::new(graph, kind, seed)?;
        let search = if selection.is_empty() {
            search
        } else {
            search.seeded_with(selection)
        };
        search.resume(history)
    }

    /// Builds the cached calibration and validation batches.
    pub fn score_batches(&self, cfg: &RoundConfig) -> Result<ScoreBatches> {
        let mut rng = stream(cfg.seed, "score/calibration");
        let mut order = self.split.train.clone();
        rand::seq::SliceRandom::shuffle(&mut order[..], &mut rng);
        let bs = cfg.batch_size.max(1);
        let calibration = order
            .chunks(bs)
            .filter(|c| c.len() == bs || order.len() < bs)
            .take(cfg.recalib_batches)
            .map(|idx| make_batch(&self.data.train, idx, &self.norm, None, &self.device))
            .collect::<Result<Vec<_>, _>>()?;
        let limit = if cfg.score_images == 0 {
            self.split.val.len()
        } else {
            cfg.score_images.min(self.split.val.len())
        };
        let validation = self.split.val[..limit]
            .chunks(cfg.eval_batch_size.max(1))
            .map(|idx| make_batch(&self.data.train, idx, &self.norm, None, &self.device))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ScoreBatches {
            calibration,
            validation,
        })
    }

    /// Validation loss and accuracy (%) of one candidate with the shared weights. With
    /// calibration batches, its batch norms are re-calibrated first and restored after.
    pub fn evaluate(&self, candidate: &Candidate, batches: &ScoreBatches) -> Result<(f32, f32)> {
        evaluate_one(&self.supernet, candidate, batches)
    }

    /// The per-epoch validation figure: mean over a few fixed candidates.
    pub fn epoch_validation(&mut self, round: usize, cfg: &RoundConfig) -> Result<(f32, f32)> {
        let batches = self.score_batches(cfg)?;
        let mut rng = stream(cfg.seed, &format!("epoch-eval/round{round}"));
        let n = cfg.epoch_eval_candidates.max(1);
        let (mut l, mut a) = (0.0, 0.0);
        for _ in 0..n {
            let c = cfg.sampling.draw(&self.supernet.graph, &mut rng);
            let (loss, acc) = self.evaluate(&c, &batches)?;
            l += loss;
            a += acc;
        }
        Ok((l / n as f32, a / n as f32))
    }

    /// Scores the round's candidates, after the `start` already in the session, streaming
    /// each result; the strategy proposes each next candidate from the scores so far.
    pub fn score_round(
        &mut self,
        round: usize,
        cfg: &RoundConfig,
        start: usize,
    ) -> Result<Vec<ScoredCandidate>> {
        let outcome = self.score_round_inner(round, cfg, start);
        // Stopped part-way: what is scored is written, so the round resumes after it.
        if let (Err(NasError::Stopped), Some(s)) = (&outcome, self.session.as_ref()) {
            s.save_candidates()?;
            s.save_file()?;
        }
        outcome
    }

    fn score_round_inner(
        &mut self,
        round: usize,
        cfg: &RoundConfig,
        start: usize,
    ) -> Result<Vec<ScoredCandidate>> {
        let batches = self.score_batches(cfg)?;
        let total = self.candidate_total(cfg);
        let graph = self.supernet.graph.clone();
        let mut out: Vec<ScoredCandidate> = Vec::new();
        if let Some(s) = self.session.as_ref() {
            for (i, r) in s.round_rows(round).enumerate().take(start) {
                let c = Candidate::parse(&graph, &r.candidate)?;
                out.push(ScoredCandidate {
                    round,
                    index: i,
                    total,
                    candidate: r.candidate.clone(),
                    choices: c.choices,
                    accuracy: r.accuracy,
                    params: r.params,
                    flops: r.flops,
                    signals: r.signals,
                });
            }
        }
        let history: Vec<(Candidate, f32)> = out
            .iter()
            .map(|s| {
                (
                    Candidate {
                        choices: s.choices.clone(),
                    },
                    s.accuracy,
                )
            })
            .collect();
        let mut search = self.round_search(cfg, round, &history)?;
        let shapes = graph.infer_shapes()?;
        let mut flush = ScoreFlush::new();
        let mut scorer = GroupScorer::new(self.scoring, &self.supernet, &batches);
        let zero_cost =
            self.zero_cost(stream(cfg.seed, &format!("signals/round{round}")).next_u64())?;
        while out.len() < total {
            self.control.check()?;
            let room = (total - out.len())
                .min(search.independent_asks())
                .min(SCORE_GROUP);
            let group: Vec<Candidate> = std::iter::from_fn(|| search.ask()).take(room).collect();
            if group.is_empty() {
                break;
            }
            let accuracies = scorer.score(&mut self.control, &group, &batches)?;
            for (candidate, accuracy) in group.into_iter().zip(accuracies) {
                let index = out.len();
                search.tell(candidate.clone(), accuracy);
                let cost = candidate.cost_in(&graph, &shapes)?;
                let signals = signals_of(&zero_cost, &candidate, &shapes)?;
                let scored = ScoredCandidate {
                    round,
                    index,
                    total,
                    candidate: candidate.to_string(&graph),
                    choices: candidate.choices.clone(),
                    accuracy,
                    params: cost.params,
                    flops: cost.flops,
                    signals,
                };
                if let Some(s) = self.session.as_mut() {
                    s.rows.push(CandidateRow {
                        round,
                        candidate: scored.candidate.clone(),
                        accuracy,
                        params: cost.params,
                        flops: cost.flops,
                        signals,
                    });
                    if let Some(r) = s.last_round_mut() {
                        r.scored = index + 1;
                    }
                    flush.after_score(s, &mut self.control)?;
                }
                self.control.emit(Event::Scored(scored.clone()));
                out.push(scored);
            }
        }
        Ok(out)
    }

    /// Scores candidate strings with the current weights, in order (BN re-calibration on,
    /// with the last round's configuration or the defaults), with their cheap signals (the
    /// same as the last round computed for them).
    pub fn score_strings(&mut self, list: &[String]) -> Result<Vec<(String, f32, Signals)>> {
        let graph = self.supernet.graph.clone();
        let candidates = list
            .iter()
            .map(|t| {
                let c = Candidate::parse(&graph, t)?;
                c.check_allowed(&graph)?;
                Ok(c)
            })
            .collect::<Result<Vec<_>>>()?;
        let (round, cfg) = self
            .session
            .as_ref()
            .and_then(|s| s.file.rounds.last().map(|r| (r.round, r.config.clone())))
            .unwrap_or_default();
        let batches = self.score_batches(&cfg)?;
        let zero_cost =
            self.zero_cost(stream(cfg.seed, &format!("signals/round{round}")).next_u64())?;
        let shapes = graph.infer_shapes()?;
        let signals = candidates
            .iter()
            .map(|c| signals_of(&zero_cost, c, &shapes))
            .collect::<Result<Vec<_>>>()?;
        let accuracies = GroupScorer::new(self.scoring, &self.supernet, &batches).score(
            &mut self.control,
            &candidates,
            &batches,
        )?;
        Ok(list
            .iter()
            .zip(accuracies)
            .zip(signals)
            .map(|((t, a), s)| (t.trim().to_string(), a, s))
            .collect())
    }
}
