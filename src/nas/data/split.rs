//! The seeded train/validation split of a training set, and the per-channel normalisation
//! statistics computed on (usually) its training part.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::ImageSet;

/// Indices into a training [`ImageSet`]: the part trained on and the part validated on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub val: Vec<usize>,
}

/// Shuffles `0..train_len` with `seed`; the first `round(val_fraction * train_len)` indices go
/// to validation (at least 1 and at most `train_len - 1` when `train_len > 1`), the rest to
/// training. The same arguments always give the same split.
pub fn split(train_len: usize, val_fraction: f64, seed: u64) -> Split {
    let mut order: Vec<usize> = (0..train_len).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let fraction = if val_fraction.is_finite() {
        val_fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut n_val = (fraction * train_len as f64).round() as usize;
    if train_len > 1 {
        n_val = n_val.clamp(1, train_len - 1);
    } else {
        n_val = 0;
    }
    let train = order.split_off(n_val);
    Split { train, val: order }
}

/// Per-channel mean and standard deviation, in units of raw/255 (so a white pixel is 1.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

/// Smallest standard deviation used, so constant channels do not divide by zero.
const STD_FLOOR: f32 = 1e-6;

impl Normalisation {
    /// Statistics over every pixel of the images at `indices` (population standard deviation,
    /// floored at 1e-6). Indices past the end are skipped; no images gives mean 0, std 1.
    pub fn from_images(set: &ImageSet, indices: &[usize]) -> Self {
        let channels = set.channels;
        let plane = set.height * set.width;
        let mut sum = vec![0u64; channels];
        let mut sum_sq = vec![0u64; channels];
        let mut count = 0u64;
        for &i in indices.iter().filter(|&&i| i < set.len()) {
            let Some(img) = set
                .images
                .get(i * set.image_len()..(i + 1) * set.image_len())
            else {
                continue;
            };
            for c in 0..channels {
                for &v in &img[c * plane..(c + 1) * plane] {
                    let v = u64::from(v);
                    sum[c] += v;
                    sum_sq[c] += v * v;
                }
            }
            count += plane as u64;
        }
        if count == 0 {
            return Self {
                mean: vec![0.0; channels],
                std: vec![1.0; channels],
            };
        }
        let n = count as f64;
        let (mean, std) = (0..channels)
            .map(|c| {
                let mean = sum[c] as f64 / n;
                let var = (sum_sq[c] as f64 / n - mean * mean).max(0.0);
                let std = (var.sqrt() / 255.0) as f32;
                ((mean / 255.0) as f32, std.max(STD_FLOOR))
            })
            .unzip();
        Self { mean, std }
    }

    /// Mean 0, std 1 for every channel: [`make_batch`](super::make_batch) then only scales by 1/255.
    pub fn identity(channels: usize) -> Self {
        Self {
            mean: vec![0.0; channels],
            std: vec![1.0; channels],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_rounds_and_clamps() {
        assert_eq!(split(10, 0.25, 0).val.len(), 3);
        assert_eq!(split(10, f64::NAN, 0).val.len(), 1);
        assert_eq!(split(10, -3.0, 0).val.len(), 1);
        assert_eq!(split(2, 0.9, 0).train.len(), 1);
    }

    #[test]
    fn normalisation_matches_a_two_pass_computation() {
        let images: Vec<u8> = (0..3 * 2 * 4 * 4).map(|i| (i * 37 % 251) as u8).collect();
        let set = ImageSet {
            images,
            labels: vec![0, 1, 0],
            channels: 2,
            height: 4,
            width: 4,
        };
        let n = Normalisation::from_images(&set, &[0, 2, 99]);
        for c in 0..2 {
            let px: Vec<f64> = [0, 2]
                .iter()
                .flat_map(|&i| set.image(i)[c * 16..(c + 1) * 16].iter())
                .map(|&v| f64::from(v) / 255.0)
                .collect();
            let mean = px.iter().sum::<f64>() / px.len() as f64;
            let var = px.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / px.len() as f64;
            assert!((f64::from(n.mean[c]) - mean).abs() < 1e-6);
            assert!((f64::from(n.std[c]) - var.sqrt()).abs() < 1e-6);
        }
    }
}
