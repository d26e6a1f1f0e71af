//! The colour scale of the scene and its legend: ten steps of viridis (matplotlib's
//! perceptually uniform, colour-blind-safe map, its darkest tenth left out so the low end
//! stays visible on the dark scene) from deep blue (the worst scored under the chosen
//! signal) to yellow (the best); lightness rises at every step and no step is grey. A grey
//! off the scale, drawn smaller, marks candidates sampled but not scored yet (or whose
//! signal is unknown).

/// Sampled candidates not scored yet: a dark grey, off the scale (and drawn smaller).
pub const NOT_SCORED: [f32; 4] = [0.42, 0.42, 0.42, 1.0];

/// The 10-step scale in sRGB (deep blue = worst of the scored, yellow = best).
pub fn accuracy_colour(acc: Option<f32>, lo: f32, hi: f32) -> [f32; 4] {
    signal_colour(acc.map(f64::from), f64::from(lo), f64::from(hi))
}

/// The same scale for any signal's value (higher is better): `lo..hi` spans the scale, a
/// value beyond it (e.g. synflow's -inf for a path-less candidate) takes the end step.
pub fn signal_colour(value: Option<f64>, lo: f64, hi: f64) -> [f32; 4] {
    signal_step(value, lo, hi).map_or(NOT_SCORED, scale_step_colour)
}

/// The step (`0..=9`) of [`signal_colour`]'s scale for `value`; `None`: not scored.
pub fn signal_step(value: Option<f64>, lo: f64, hi: f64) -> Option<usize> {
    let v = value?;
    let t = if hi > lo {
        ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.5
    };
    Some((t * 9.0).round() as usize)
}

/// Viridis at 0.1, 0.2, ..., 1.0 (sRGB bytes).
const VIRIDIS: [[u8; 3]; 10] = [
    [0x48, 0x24, 0x75],
    [0x41, 0x44, 0x87],
    [0x35, 0x5f, 0x8d],
    [0x2a, 0x78, 0x8e],
    [0x21, 0x91, 0x8c],
    [0x22, 0xa8, 0x84],
    [0x44, 0xbf, 0x70],
    [0x7a, 0xd1, 0x51],
    [0xbd, 0xdf, 0x26],
    [0xfd, 0xe7, 0x25],
];

/// Colour of step `0..=9` of the scale (sRGB).
pub fn scale_step_colour(step: usize) -> [f32; 4] {
    let [r, g, b] = VIRIDIS[step.min(9)];
    [
        f32::from(r) / 255.0,
        f32::from(g) / 255.0,
        f32::from(b) / 255.0,
        1.0,
    ]
}
