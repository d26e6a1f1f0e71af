//! The picture checks' geometry, pure image code: the region a view draws in (rectangles in
//! pixels of the saved picture, less excluded ones such as the scene's legend), written next
//! to the pictures as `regions.json`, and the connected blobs of a colour group inside it.

use std::collections::BTreeMap;
use std::path::Path;

use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};

/// A rectangle in pixels of a picture: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelRect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl PixelRect {
    /// The pixels a rectangle given by floating-point corners covers (partly covered ones
    /// included), clipped at zero.
    pub fn covering(min: [f32; 2], max: [f32; 2]) -> Self {
        let (x0, y0) = (min[0].max(0.0).floor(), min[1].max(0.0).floor());
        let (x1, y1) = (max[0].max(0.0).ceil(), max[1].max(0.0).ceil());
        Self {
            x: x0 as u32,
            y: y0 as u32,
            w: (x1 - x0).max(0.0) as u32,
            h: (y1 - y0).max(0.0) as u32,
        }
    }

    pub fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x && y >= self.y && x - self.x < self.w && y - self.y < self.h
    }
}

/// Where a view draws its own content in a picture: the pixels inside any of `areas` and
/// inside none of `excluded`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShotRegion {
    pub areas: Vec<PixelRect>,
    pub excluded: Vec<PixelRect>,
}

impl ShotRegion {
    /// The whole of a `width` x `height` picture.
    pub fn whole(width: u32, height: u32) -> Self {
        Self {
            areas: vec![PixelRect {
                x: 0,
                y: 0,
                w: width,
                h: height,
            }],
            excluded: vec![],
        }
    }

    pub fn contains(&self, x: u32, y: u32) -> bool {
        self.areas.iter().any(|r| r.contains(x, y))
            && !self.excluded.iter().any(|r| r.contains(x, y))
    }

    /// How many pixels of a `width` x `height` picture are in the region.
    pub fn pixel_count(&self, width: u32, height: u32) -> u64 {
        let mut n = 0;
        for y in 0..height {
            n += (0..width).filter(|x| self.contains(*x, y)).count() as u64;
        }
        n
    }
}

/// Writes the regions (picture file name -> region) as `regions.json` in `dir`.
pub fn write_regions(dir: &Path, regions: &BTreeMap<String, ShotRegion>) -> Result<(), String> {
    let path = dir.join(super::shot_check::REGIONS_FILE);
    let text = serde_json::to_string_pretty(regions).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads `regions.json` from `dir`.
pub fn read_regions(dir: &Path) -> Result<BTreeMap<String, ShotRegion>, String> {
    let path = dir.join(super::shot_check::REGIONS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A 4-connected set of pixels: how many and their bounding box (inclusive corners).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blob {
    pub pixels: usize,
    pub min: (u32, u32),
    pub max: (u32, u32),
}

impl Blob {
    pub fn width(&self) -> u32 {
        self.max.0 - self.min.0 + 1
    }

    pub fn height(&self) -> u32 {
        self.max.1 - self.min.1 + 1
    }

    /// `sizes.0..=sizes.1` pixels, at most `max_side` wide and tall.
    pub fn fits(&self, sizes: (usize, usize), max_side: u32) -> bool {
        (sizes.0..=sizes.1).contains(&self.pixels)
            && self.width() <= max_side
            && self.height() <= max_side
    }
}

/// The 4-connected blobs of pixels inside `region` for which `matches` holds.
pub fn blobs_of(
    img: &RgbImage,
    region: &ShotRegion,
    matches: impl Fn(&Rgb<u8>) -> bool,
) -> Vec<Blob> {
    let (w, h) = img.dimensions();
    let at = |x: u32, y: u32| (y as usize) * (w as usize) + x as usize;
    let mut hit = vec![false; (w as usize) * (h as usize)];
    for (x, y, p) in img.enumerate_pixels() {
        hit[at(x, y)] = region.contains(x, y) && matches(p);
    }
    let mut blobs = Vec::new();
    let mut stack = Vec::new();
    for start in 0..hit.len() {
        if !hit[start] {
            continue;
        }
        hit[start] = false;
        stack.push(start);
        let (sx, sy) = ((start % w as usize) as u32, (start / w as usize) as u32);
        let mut blob = Blob {
            pixels: 0,
            min: (sx, sy),
            max: (sx, sy),
        };
        while let Some(i) = stack.pop() {
            let (x, y) = ((i % w as usize) as u32, (i / w as usize) as u32);
            blob.pixels += 1;
            blob.min = (blob.min.0.min(x), blob.min.1.min(y));
            blob.max = (blob.max.0.max(x), blob.max.1.max(y));
            let neighbours = [
                (x > 0).then(|| at(x - 1, y)),
                (x + 1 < w).then(|| at(x + 1, y)),
                (y > 0).then(|| at(x, y - 1)),
                (y + 1 < h).then(|| at(x, y + 1)),
            ];
            for j in neighbours.into_iter().flatten() {
                if hit[j] {
                    hit[j] = false;
                    stack.push(j);
                }
            }
        }
        blobs.push(blob);
    }
    blobs
}
