//! The engine's side of the cheap signals: a zero-cost scorer per scoring pass, seeded by the
//! round's seed (so resumed and replayed rounds compute the same signals), and the signals of
//! one candidate.

use rand::seq::SliceRandom;
use rand::RngCore;

use super::engine::Worker;
use crate::nas::data::make_batch;
use crate::nas::error::Result;
use crate::nas::ops::init::stream;
use crate::nas::signals::zero_cost::NASWOT_BATCH;
use crate::nas::signals::{Signals, ZeroCost};
use crate::nas::space::graph::ShapeReport;
use crate::nas::space::Candidate;

impl Worker {
    /// A zero-cost scorer for the current template: fresh weights and a fixed batch of
    /// training images, both drawn from `seed`.
    pub fn zero_cost(&self, seed: u64) -> Result<ZeroCost> {
        let mut rng = stream(seed, "signals/batch");
        let mut order = self.split.train.clone();
        order.shuffle(&mut rng);
        order.truncate(NASWOT_BATCH);
        let (x, _) = make_batch(&self.data.train, &order, &self.norm, None, &self.device)?;
        let init_seed = stream(seed, "signals/init").next_u64();
        ZeroCost::new(&self.supernet.graph, init_seed, x, &self.device)
    }
}

/// Every cheap signal of one candidate.
pub fn signals_of(
    zero_cost: &ZeroCost,
    candidate: &Candidate,
    report: &ShapeReport,
) -> Result<Signals> {
    let graph = zero_cost.graph();
    Ok(Signals {
        live_params: candidate.live_cost_in(graph, report)?.params as f64,
        synflow: zero_cost.synflow(candidate)?,
        naswot: zero_cost.naswot(candidate)?,
    })
}
