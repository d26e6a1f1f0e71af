//! How the interface writes a signal's value.

use crate::nas::signals::SignalKind;

/// `value` of `kind` as the interface shows it: accuracy in percent, parameters as a count,
/// the rest with three decimals.
pub fn format_value(kind: SignalKind, value: f64) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "unknown".into()
        } else {
            format!("{value}")
        };
    }
    match kind {
        SignalKind::SharedWeight => format!("{value:.1}%"),
        SignalKind::LiveParams => format!("{value:.0}"),
        _ => format!("{value:.3}"),
    }
}
