//! `curves.png`: training (blue) and validation (orange) accuracy per epoch as two polylines
//! over a grid every 10 percentage points, drawn pixel by pixel with the `image` crate.

use image::{ImageFormat, Rgb, RgbImage};

use super::report::EpochPoint;
use crate::nas::error::{NasError, Result};

pub const TRAIN_COLOUR: [u8; 3] = [31, 119, 180];
pub const VAL_COLOUR: [u8; 3] = [255, 127, 14];
const WIDTH: u32 = 640;
const HEIGHT: u32 = 400;
const LEFT: f32 = 50.0;
const RIGHT: f32 = 20.0;
const TOP: f32 = 20.0;
const BOTTOM: f32 = 40.0;

/// A filled square of side `2 * r + 1` centred on `(x, y)`, clipped to the image.
fn dot(img: &mut RgbImage, x: f32, y: f32, r: i64, colour: [u8; 3]) {
    let (cx, cy) = (x.round() as i64, y.round() as i64);
    for dy in -r..=r {
        for dx in -r..=r {
            let (px, py) = (cx + dx, cy + dy);
            if px >= 0 && py >= 0 && (px as u32) < img.width() && (py as u32) < img.height() {
                img.put_pixel(px as u32, py as u32, Rgb(colour));
            }
        }
    }
}

/// A line of half-width `r` from `a` to `b`.
fn line(img: &mut RgbImage, a: (f32, f32), b: (f32, f32), r: i64, colour: [u8; 3]) {
    let steps = (b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil().max(1.0) as usize;
    for i in 0..=steps {
        let t = i as f32 / steps as f32;
        dot(img, a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, r, colour);
    }
}

/// The PNG bytes of the accuracy curves. The y axis runs from the lowest accuracy rounded
/// down to 10 points up to 100%; epochs are spread evenly along x (ticks at each epoch).
pub fn curves_png(curve: &[EpochPoint]) -> Result<Vec<u8>> {
    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, Rgb([255, 255, 255]));
    let (w, h) = (WIDTH as f32, HEIGHT as f32);
    let lowest = curve
        .iter()
        .flat_map(|p| [p.train_accuracy, p.val_accuracy])
        .filter(|a| a.is_finite())
        .fold(100.0f32, f32::min);
    let lo = ((lowest / 10.0).floor() * 10.0).clamp(0.0, 90.0);
    let to_y = |acc: f32| {
        let t = ((acc.clamp(lo, 100.0) - lo) / (100.0 - lo)).clamp(0.0, 1.0);
        h - BOTTOM - t * (h - TOP - BOTTOM)
    };
    let n = curve.len();
    let to_x = |i: usize| {
        if n <= 1 {
            (LEFT + w - RIGHT) / 2.0
        } else {
            LEFT + i as f32 / (n - 1) as f32 * (w - LEFT - RIGHT)
        }
    };
    // Grid every 10 points, then the axes.
    let mut level = lo;
    while level <= 100.0 {
        line(
            &mut img,
            (LEFT, to_y(level)),
            (w - RIGHT, to_y(level)),
            0,
            [225; 3],
        );
        line(
            &mut img,
            (LEFT - 6.0, to_y(level)),
            (LEFT, to_y(level)),
            0,
            [0; 3],
        );
        level += 10.0;
    }
    let (x0, y0) = (LEFT, h - BOTTOM);
    line(&mut img, (x0, y0), (w - RIGHT, y0), 0, [0; 3]);
    line(&mut img, (x0, y0), (x0, TOP), 0, [0; 3]);
    if n <= 100 {
        for i in 0..n {
            line(&mut img, (to_x(i), y0), (to_x(i), y0 + 6.0), 0, [0; 3]);
        }
    }
    for (colour, pick) in [
        (
            TRAIN_COLOUR,
            (|p: &EpochPoint| p.train_accuracy) as fn(&EpochPoint) -> f32,
        ),
        (VAL_COLOUR, |p: &EpochPoint| p.val_accuracy),
    ] {
        let pts: Vec<(f32, f32)> = curve
            .iter()
            .enumerate()
            .map(|(i, p)| (to_x(i), to_y(pick(p))))
            .collect();
        for pair in pts.windows(2) {
            line(&mut img, pair[0], pair[1], 1, colour);
        }
        for &(x, y) in &pts {
            dot(&mut img, x, y, 3, colour);
        }
    }
    // Legend: a swatch per curve in the bottom-right corner, where rising curves are not
    // (the report names the colours).
    dot(
        &mut img,
        w - RIGHT - 40.0,
        h - BOTTOM - 12.0,
        5,
        TRAIN_COLOUR,
    );
    dot(&mut img, w - RIGHT - 20.0, h - BOTTOM - 12.0, 5, VAL_COLOUR);
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, ImageFormat::Png)
        .map_err(|e| NasError::Config(format!("cannot encode the curves as PNG: {e}")))?;
    Ok(bytes.into_inner())
}
