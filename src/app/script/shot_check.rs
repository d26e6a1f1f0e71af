//! Checks a screenshot of a view inside the part the view draws itself ([`ShotRegion`]: the
//! scene's viewport less its overlays, the Lego canvas, the plot areas, the central panel),
//! so interface chrome (the legend's swatches, the side panel's block plot) cannot pass for
//! the view: there the picture must not be blank and must show what the view draws (point
//! blobs at both ends of the accuracy scale in the scene, cards in block-kind colours on the
//! Lego canvas, decision colours in the block plot, the two curve colours in the charts).
//! Pure image code, so it is tested without a window; the blob counting is in [`blobs`].

use image::RgbImage;

pub use super::blobs::{blobs_of, Blob, PixelRect, ShotRegion};
use crate::app::widgets::chart::category_colour;
use crate::app::widgets::colour_scale::scale_step_colour;

/// The main views the scripted session photographs, with their file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShotKind {
    Scene2d,
    Scene3d,
    /// The candidate table, the selection highlighted.
    Candidates,
    Lego,
    Blocks,
    Charts,
    History,
    /// The data window on the session's data set: classes, counts, sample images.
    Data,
    Final,
}

/// Where the scripted session writes each picture's [`ShotRegion`] (file name -> region),
/// next to the pictures.
pub const REGIONS_FILE: &str = "regions.json";

/// How near (per sRGB channel) a pixel must be to a colour of a group to count as it.
pub const TOLERANCE: i32 = 14;

/// What a view's drawing area must show.
#[derive(Debug, Clone)]
enum Rule {
    /// At least `min` pixels of any colour of the group.
    Pixels {
        label: &'static str,
        colours: Vec<[u8; 3]>,
        min: usize,
    },
    /// At least `min` separate blobs of the group's colours of `sizes` pixels, none wider or
    /// taller than `max_side`.
    Blobs {
        label: &'static str,
        colours: Vec<[u8; 3]>,
        sizes: (usize, usize),
        max_side: u32,
        min: usize,
    },
}

/// A disc of the points shader is 8 pixels across (12 when selected), its colour inside the
/// rim about 32 (45) pixels; overlapping points of one colour merge into larger blobs, which
/// do not count. A legend swatch is 14 x 12 (two neighbours of one end merge to 28 wide).
pub const POINT_SIZES: (usize, usize) = (3, 400);
pub const POINT_MAX_SIDE: u32 = 24;
pub const MIN_POINTS_PER_END: usize = 5;
/// A block's row on a Lego edge card is about 70 x 8 pixels (530 to 600) at the canvas's
/// readable zoom, one cut by the canvas's edge still 120 or more; a glyph of the kind-coloured
/// text is at most 13 pixels.
pub const CARD_SIZES: (usize, usize) = (100, 20_000);
pub const CARD_MAX_SIDE: u32 = 400;
pub const MIN_CARDS: usize = 3;

fn bytes(c: [f32; 4]) -> [u8; 3] {
    [0, 1, 2].map(|i| (c[i] * 255.0).round() as u8)
}

/// The block kinds' colours (`widgets::palette::kind_colour`, zero's grey left out).
pub const KIND_COLOURS: [[u8; 3]; 6] = [
    [80, 150, 240],
    [120, 200, 230],
    [240, 160, 60],
    [230, 200, 80],
    [140, 210, 120],
    [200, 120, 220],
];

/// The block plot's colours, one per decision (the first four of the chart palette).
fn decision_colours() -> Vec<[u8; 3]> {
    (0..4)
        .map(|i| {
            let c = category_colour(i);
            [c.r(), c.g(), c.b()]
        })
        .collect()
}

impl ShotKind {
    pub const ALL: [ShotKind; 9] = [
        ShotKind::Scene2d,
        ShotKind::Scene3d,
        ShotKind::Candidates,
        ShotKind::Lego,
        ShotKind::Blocks,
        ShotKind::Charts,
        ShotKind::History,
        ShotKind::Data,
        ShotKind::Final,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            ShotKind::Scene2d => "scene-2d.png",
            ShotKind::Scene3d => "scene-3d.png",
            ShotKind::Candidates => "candidates.png",
            ShotKind::Data => "data.png",
            ShotKind::Lego => "lego.png",
            ShotKind::Blocks => "blocks.png",
            ShotKind::Charts => "charts.png",
            ShotKind::History => "history.png",
            ShotKind::Final => "final.png",
        }
    }

    /// What the view's own drawing area is, for the error messages.
    pub fn area_name(self) -> &'static str {
        match self {
            ShotKind::Scene2d | ShotKind::Scene3d => "the scene's viewport (less its overlays)",
            ShotKind::Lego => "the Lego canvas",
            ShotKind::Candidates => "the candidate table's pane",
            ShotKind::Data => "the data window's sample table",
            ShotKind::Blocks => "the block plot's area",
            ShotKind::Charts => "the charts' plot areas",
            ShotKind::History => "the history's panel",
            ShotKind::Final => "the final network's curve area",
        }
    }

    /// The fewest distinct colours and the least brightness spread of a drawn area: the
    /// history's panel and the table are text on a plain fill (11 colours, spread 7 when
    /// drawn; a blank fill has 1 and 0), every other view's area at least 40 and 12.
    fn blank_limits(self) -> (usize, f64) {
        match self {
            ShotKind::History | ShotKind::Candidates => (6, 3.0),
            _ => (12, 8.0),
        }
    }

    fn rules(self) -> Vec<Rule> {
        let kinds = KIND_COLOURS.to_vec();
        let points = |label, steps: [usize; 2]| Rule::Blobs {
            label,
            colours: steps.map(|s| bytes(scale_step_colour(s))).to_vec(),
            sizes: POINT_SIZES,
            max_side: POINT_MAX_SIDE,
            min: MIN_POINTS_PER_END,
        };
        let pixels = |label, colours, min| Rule::Pixels {
            label,
            colours,
            min,
        };
        match self {
            ShotKind::Scene2d | ShotKind::Scene3d => vec![
                points("point-sized blobs of the scale's blue end (low)", [0, 1]),
                points("point-sized blobs of the scale's yellow end (high)", [9, 8]),
            ],
            ShotKind::Lego => vec![Rule::Blobs {
                label: "card-sized blobs in block-kind colours",
                colours: kinds,
                sizes: CARD_SIZES,
                max_side: CARD_MAX_SIDE,
                min: MIN_CARDS,
            }],
            ShotKind::Blocks => vec![pixels("decision colours", decision_colours(), 40)],
            // Text (and the data's own images): it must not be blank.
            ShotKind::History | ShotKind::Candidates | ShotKind::Data => vec![],
            // The final network's own curve (the side panel is hidden in that view).
            ShotKind::Charts | ShotKind::Final => vec![
                pixels("the training curve's blue", vec![[70, 130, 230]], 20),
                pixels("the validation curve's orange", vec![[230, 120, 40]], 20),
            ],
        }
    }
}

/// Pixel statistics of a picture inside `region`: distinct colours (4 bits per channel) and
/// the spread of its brightness.
pub fn picture_stats(img: &RgbImage, region: &ShotRegion) -> (usize, f64) {
    let mut seen = std::collections::HashSet::new();
    let (mut n, mut sum, mut sum_sq) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y, p) in img.enumerate_pixels() {
        if !region.contains(x, y) {
            continue;
        }
        seen.insert((p[0] >> 4, p[1] >> 4, p[2] >> 4));
        let y = 0.2126 * f64::from(p[0]) + 0.7152 * f64::from(p[1]) + 0.0722 * f64::from(p[2]);
        n += 1.0;
        sum += y;
        sum_sq += y * y;
    }
    let n = n.max(1.0);
    let mean = sum / n;
    (seen.len(), (sum_sq / n - mean * mean).max(0.0).sqrt())
}

/// Whether `p` is within [`TOLERANCE`] of `c` on every channel.
pub fn near(p: &image::Rgb<u8>, c: [u8; 3]) -> bool {
    (0..3).all(|i| (i32::from(p[i]) - i32::from(c[i])).abs() <= TOLERANCE)
}

/// The fewest pixels a view's drawing area may have (a 40 x 25 pixel area).
pub const MIN_AREA_PIXELS: u64 = 1000;

/// `Ok` if `img` looks like a drawn `kind` view inside `region` (where the view draws,
/// in pixels of `img`); otherwise what is missing, naming the picture.
pub fn check_shot(kind: ShotKind, img: &RgbImage, region: &ShotRegion) -> Result<(), String> {
    let name = kind.file_name();
    let where_ = kind.area_name();
    let area = region.pixel_count(img.width(), img.height());
    if area < MIN_AREA_PIXELS {
        return Err(format!(
            "{name}: {where_} is missing or too small ({area} pixels inside the picture, \
             at least {MIN_AREA_PIXELS} expected; region {region:?})"
        ));
    }
    let (colours, spread) = picture_stats(img, region);
    let (min_colours, min_spread) = kind.blank_limits();
    if colours < min_colours || spread < min_spread {
        return Err(format!(
            "{name}: {where_} looks blank ({colours} distinct colours, brightness spread \
             {spread:.1} over {area} pixels)"
        ));
    }
    for rule in kind.rules() {
        match rule {
            Rule::Pixels {
                label,
                colours,
                min,
            } => {
                let count = img
                    .enumerate_pixels()
                    .filter(|(x, y, p)| {
                        region.contains(*x, *y) && colours.iter().any(|c| near(p, *c))
                    })
                    .count();
                if count < min {
                    return Err(format!(
                        "{name}: {where_} does not show {label} ({count} pixels, at least {min} expected)"
                    ));
                }
            }
            Rule::Blobs {
                label,
                colours,
                sizes,
                max_side,
                min,
            } => {
                let all = blobs_of(img, region, |p| colours.iter().any(|c| near(p, *c)));
                let fitting = all.iter().filter(|b| b.fits(sizes, max_side)).count();
                if fitting < min {
                    return Err(format!(
                        "{name}: {where_} does not show {label} ({fitting} blobs of {}..={} \
                         pixels at most {max_side} across, at least {min} expected; {} blobs of \
                         those colours in all)",
                        sizes.0,
                        sizes.1,
                        all.len()
                    ));
                }
            }
        }
    }
    Ok(())
}
