//! Turns raw images into normalised candle batches, with optional torchvision-style
//! augmentation (random crop from a zero-padded image, horizontal flip).

use candle_core::{Device, Tensor};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::error::DataError;
use super::split::Normalisation;
use super::{Dataset, ImageSet};

/// Training-time augmentation settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Augment {
    /// Pixels of black padding on each side before a random crop back to the original size.
    pub crop_padding: usize,
    /// Mirror left-right with probability 0.5.
    pub horizontal_flip: bool,
}

impl Augment {
    /// The usual recipe scaled to the image: padding `max(1, height / 8)` (4 for 32 px, 3 for
    /// 28 px, 1 for 8 px), flips where the data set allows them.
    pub fn for_dataset(ds: &Dataset) -> Self {
        Self {
            crop_padding: (ds.train.height / 8).max(1),
            horizontal_flip: ds.horizontal_flip,
        }
    }
}

/// Builds one batch from the images at `indices`: an f32 tensor `[B, C, H, W]` holding
/// `(raw / 255 - mean) / std` per channel, and a u32 tensor `[B]` of labels.
///
/// With `augment`, each image is zero-padded by `crop_padding` (raw 0, before normalising, like
/// torchvision), cropped back to `H x W` at a random offset, then flipped left-right with
/// probability 0.5 if `horizontal_flip`. The draws come from `rng`, so a seed fixes the batch.
pub fn make_batch(
    set: &ImageSet,
    indices: &[usize],
    norm: &Normalisation,
    mut augment: Option<(&Augment, &mut ChaCha8Rng)>,
    device: &Device,
) -> Result<(Tensor, Tensor), DataError> {
    let (channels, height, width) = (set.channels, set.height, set.width);
    for found in [norm.mean.len(), norm.std.len()] {
        if found != channels {
            return Err(DataError::Normalisation {
                expected: channels,
                found,
            });
        }
    }
    // x * scale - offset == (x / 255 - mean) / std
    let scale: Vec<f32> = norm.std.iter().map(|s| 1.0 / (255.0 * s)).collect();
    let offset: Vec<f32> = norm
        .mean
        .iter()
        .zip(&norm.std)
        .map(|(m, s)| m / s)
        .collect();
    let plane = height * width;
    let per_image = set.image_len();
    let available = set
        .len()
        .min(set.images.len().checked_div(per_image).unwrap_or(0));

    let mut data = Vec::with_capacity(indices.len() * per_image);
    let mut labels = Vec::with_capacity(indices.len());
    for &i in indices {
        let img = match set.images.get(i * per_image..(i + 1) * per_image) {
            Some(img) if i < available => img,
            _ => {
                return Err(DataError::Index {
                    index: i,
                    len: available,
                })
            }
        };
        let (dy, dx, flip) = match augment.as_mut() {
            Some((aug, rng)) => {
                let pad = aug.crop_padding;
                let dy = rng.random_range(0..=2 * pad) as isize - pad as isize;
                let dx = rng.random_range(0..=2 * pad) as isize - pad as isize;
                let flip = aug.horizontal_flip && rng.random_bool(0.5);
                (dy, dx, flip)
            }
            None => (0, 0, false),
        };
        for c in 0..channels {
            let src = &img[c * plane..(c + 1) * plane];
            for y in 0..height {
                let sy = y as isize + dy;
                let row = (sy >= 0 && sy < height as isize).then(|| sy as usize * width);
                for x in 0..width {
                    let cx = if flip { width - 1 - x } else { x };
                    let sx = cx as isize + dx;
                    let raw = match row {
                        Some(row) if sx >= 0 && sx < width as isize => src[row + sx as usize],
                        _ => 0,
                    };
                    data.push(f32::from(raw) * scale[c] - offset[c]);
                }
            }
        }
        labels.push(set.labels[i]);
    }
    let batch = indices.len();
    let images = Tensor::from_vec(data, (batch, channels, height, width), device)?;
    let labels = Tensor::from_vec(labels, batch, device)?;
    Ok((images, labels))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn grid(side: usize) -> ImageSet {
        ImageSet {
            images: (1..=(side * side) as u8).collect(),
            labels: vec![0],
            channels: 1,
            height: side,
            width: side,
        }
    }

    fn raw(t: &Tensor) -> Vec<u8> {
        let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        v.iter().map(|x| (x * 255.0).round() as u8).collect()
    }

    /// A padded crop is the original shifted by at most `pad` with zeros shifted in.
    #[test]
    fn crop_is_a_bounded_shift() {
        let (side, pad) = (5usize, 2isize);
        let set = grid(side);
        let aug = Augment {
            crop_padding: pad as usize,
            horizontal_flip: false,
        };
        let norm = Normalisation::identity(1);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..60 {
            let (x, _) =
                make_batch(&set, &[0], &norm, Some((&aug, &mut rng)), &Device::Cpu).unwrap();
            let out = raw(&x);
            let shift = (-pad..=pad)
                .flat_map(|dy| (-pad..=pad).map(move |dx| (dy, dx)))
                .find(|&(dy, dx)| {
                    (0..side * side).all(|p| {
                        let (y, x) = ((p / side) as isize + dy, (p % side) as isize + dx);
                        let inside =
                            (0..side as isize).contains(&y) && (0..side as isize).contains(&x);
                        let want = if inside {
                            set.images[y as usize * side + x as usize]
                        } else {
                            0
                        };
                        out[p] == want
                    })
                });
            seen.insert(shift.expect("every crop is a shift"));
        }
        assert!(seen.len() > 10, "{seen:?}");
    }

    #[test]
    fn flip_mirrors_rows_and_empty_batch_is_fine() {
        let set = grid(3);
        let aug = Augment {
            crop_padding: 0,
            horizontal_flip: true,
        };
        let norm = Normalisation::identity(1);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let idx = [0; 16];
        let (x, _) = make_batch(&set, &idx, &norm, Some((&aug, &mut rng)), &Device::Cpu).unwrap();
        let mirrored = [3, 2, 1, 6, 5, 4, 9, 8, 7];
        for img in raw(&x).chunks(9) {
            assert!(img == &set.images[..] || img == mirrored, "{img:?}");
        }
        let (x, y) = make_batch(&set, &[], &norm, None, &Device::Cpu).unwrap();
        assert_eq!((x.dims(), y.dims()), (&[0, 1, 3, 3][..], &[0][..]));
    }

    #[test]
    fn inconsistent_set_is_an_error_not_a_panic() {
        let mut set = grid(2);
        set.labels = vec![0, 1];
        let norm = Normalisation::identity(1);
        let e = make_batch(&set, &[1], &norm, None, &Device::Cpu).unwrap_err();
        assert!(matches!(e, DataError::Index { index: 1, len: 1 }), "{e}");
    }
}
