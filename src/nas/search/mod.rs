//! Search and explanation: strategies that propose candidates (random, regularised
//! evolution, exhaustive), the tabular benchmark mode, block statistics (fitness, frequency,
//! interactions) and the Pareto front of accuracy against cost.

pub mod autopilot;
pub mod layout;
pub mod pareto;
pub mod probes;
pub mod stats;
pub mod strategy;
pub mod tabular;
pub mod trust;
