//! Signals of a candidate beside its shared-weight score: the parameter count of its live
//! path and the zero-cost signals synflow and NASWOT, each computed without training; and a
//! combined score, a weighted mean of the signals' ranks, whose parts stay visible.

pub mod fit;
pub mod zero_cost;

use serde::{Deserialize, Serialize};

pub use fit::{weighted, Weights};
pub use zero_cost::ZeroCost;

/// A candidate's cheap signals; NaN where unknown (sessions written before they existed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    /// Parameters of the blocks on a path from input to output.
    pub live_params: f64,
    /// ln of synflow at initialisation (-inf with no live path).
    pub synflow: f64,
    /// NASWOT: ln|det| of the activation-pattern kernel at initialisation.
    pub naswot: f64,
}

impl Default for Signals {
    fn default() -> Self {
        Self {
            live_params: f64::NAN,
            synflow: f64::NAN,
            naswot: f64::NAN,
        }
    }
}

/// Which number ranks candidates: in the scene's colours, the block statistics and trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// Validation accuracy with the supernet's shared weights (after BN re-calibration).
    #[default]
    SharedWeight,
    LiveParams,
    Synflow,
    Naswot,
    /// The mean of the ranks of the four signals above, each weighted by its agreement with
    /// the others.
    Combined,
}

impl SignalKind {
    pub const ALL: [SignalKind; 5] = [
        SignalKind::SharedWeight,
        SignalKind::LiveParams,
        SignalKind::Synflow,
        SignalKind::Naswot,
        SignalKind::Combined,
    ];

    /// The name on the command line and in files.
    pub fn key(self) -> &'static str {
        match self {
            SignalKind::SharedWeight => "shared",
            SignalKind::LiveParams => "live_params",
            SignalKind::Synflow => "synflow",
            SignalKind::Naswot => "naswot",
            SignalKind::Combined => "combined",
        }
    }

    /// The name in the interface.
    pub fn label(self) -> &'static str {
        match self {
            SignalKind::SharedWeight => "shared-weight accuracy",
            SignalKind::LiveParams => "parameters of the live path",
            SignalKind::Synflow => "synflow (ln)",
            SignalKind::Naswot => "NASWOT",
            SignalKind::Combined => "combined (weighted mean rank)",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.key() == text)
            .ok_or_else(|| {
                let keys: Vec<&str> = Self::ALL.iter().map(|k| k.key()).collect();
                format!("expected one of {}, got `{text}`", keys.join(", "))
            })
    }

    /// The value of a single (non-combined) signal; NaN for `Combined`.
    pub fn single(self, accuracy: f32, s: &Signals) -> f64 {
        match self {
            SignalKind::SharedWeight => f64::from(accuracy),
            SignalKind::LiveParams => s.live_params,
            SignalKind::Synflow => s.synflow,
            SignalKind::Naswot => s.naswot,
            SignalKind::Combined => f64::NAN,
        }
    }

    /// This signal for each of a set of candidates (accuracy %, signals); higher is better.
    /// `Combined` depends on the whole set: the weighted mean of each candidate's ranks
    /// (scaled to 0..1) by the four signals, weighted by their agreement with one another
    /// ([`fit::consensus`]).
    pub fn values(self, rows: &[(f32, Signals)]) -> Vec<f64> {
        if self != SignalKind::Combined {
            return rows.iter().map(|(a, s)| self.single(*a, s)).collect();
        }
        fit::weighted(rows, &fit::consensus(rows))
    }
}
