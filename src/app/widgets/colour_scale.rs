//! The colour scale of the scene and its legend: ten steps from blue (the worst scored under
//! the chosen signal) to red (the best), defined in sRGB; a dark grey off the scale for
//! candidates sampled but not scored yet (or whose signal is unknown).

/// Sampled candidates not scored yet: a dark grey, off the scale (and drawn smaller).
pub const NOT_SCORED: [f32; 4] = [0.42, 0.42, 0.42, 1.0];

/// The 10-step blue-to-red scale in sRGB (blue = worst of the scored, red = best).
pub fn accuracy_colour(acc: Option<f32>, lo: f32, hi: f32) -> [f32; 4] {
    signal_colour(acc.map(f64::from), f64::from(lo), f64::from(hi))
}

/// The same scale for any signal's value (higher is better): `lo..hi` spans the scale, a
/// value beyond it (e.g. synflow's -inf for a path-less candidate) takes the end step.
pub fn signal_colour(value: Option<f64>, lo: f64, hi: f64) -> [f32; 4] {
    let Some(v) = value else {
        return NOT_SCORED;
    };
    let t = if hi > lo {
        ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.5
    };
    scale_step_colour((t * 9.0).round() as usize)
}

/// Colour of step `0..=9` of the scale (sRGB).
pub fn scale_step_colour(step: usize) -> [f32; 4] {
    let s = step.min(9) as f32 / 9.0;
    [
        0.12 + 0.83 * s,
        0.25 + 0.35 * (1.0 - (2.0 * s - 1.0).abs()),
        0.95 - 0.8 * s,
        1.0,
    ]
}
