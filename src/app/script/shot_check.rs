//! Checks a screenshot of a view is a real picture: not blank (enough distinct colours and
//! contrast) and showing the colours that view must show (the accuracy scale's two ends in
//! the scene, block-kind colours in the Lego and block views, the two curve colours in the
//! charts). Pure image code, so it is tested without a window.

use image::RgbImage;

use crate::app::widgets::colour_scale::scale_step_colour;

/// The main views the scripted session photographs, with their file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShotKind {
    Scene2d,
    Scene3d,
    Lego,
    Blocks,
    Charts,
    History,
    Final,
}

impl ShotKind {
    pub const ALL: [ShotKind; 7] = [
        ShotKind::Scene2d,
        ShotKind::Scene3d,
        ShotKind::Lego,
        ShotKind::Blocks,
        ShotKind::Charts,
        ShotKind::History,
        ShotKind::Final,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            ShotKind::Scene2d => "scene-2d.png",
            ShotKind::Scene3d => "scene-3d.png",
            ShotKind::Lego => "lego.png",
            ShotKind::Blocks => "blocks.png",
            ShotKind::Charts => "charts.png",
            ShotKind::History => "history.png",
            ShotKind::Final => "final.png",
        }
    }

    /// Colours (sRGB bytes) of which each group must have at least `min_pixels` pixels
    /// (any colour of a group counts), with a label for the error.
    fn expected(self) -> Vec<(&'static str, Vec<[u8; 3]>, usize)> {
        let bytes = |c: [f32; 4]| {
            [
                (c[0] * 255.0).round() as u8,
                (c[1] * 255.0).round() as u8,
                (c[2] * 255.0).round() as u8,
            ]
        };
        let kinds = vec![
            [80, 150, 240],
            [120, 200, 230],
            [240, 160, 60],
            [230, 200, 80],
            [140, 210, 120],
            [200, 120, 220],
        ];
        match self {
            ShotKind::Scene2d | ShotKind::Scene3d => vec![
                (
                    "the scale's blue end (low accuracy)",
                    vec![bytes(scale_step_colour(0)), bytes(scale_step_colour(1))],
                    12,
                ),
                (
                    "the scale's red end (high accuracy)",
                    vec![bytes(scale_step_colour(9)), bytes(scale_step_colour(8))],
                    12,
                ),
            ],
            ShotKind::Lego | ShotKind::Blocks => vec![("block-kind colours", kinds, 40)],
            // Text only: it must not be blank.
            ShotKind::History => vec![],
            // The final network's own curve (the side panel is hidden in that view).
            ShotKind::Charts | ShotKind::Final => vec![
                ("the training curve's blue", vec![[70, 130, 230]], 20),
                ("the validation curve's orange", vec![[230, 120, 40]], 20),
            ],
        }
    }
}

/// Pixel statistics of a picture: distinct colours (4 bits per channel) and the spread of
/// its brightness.
pub fn picture_stats(img: &RgbImage) -> (usize, f64) {
    let mut seen = std::collections::HashSet::new();
    let (mut sum, mut sum_sq) = (0.0f64, 0.0f64);
    for p in img.pixels() {
        seen.insert((p[0] >> 4, p[1] >> 4, p[2] >> 4));
        let y = 0.2126 * f64::from(p[0]) + 0.7152 * f64::from(p[1]) + 0.0722 * f64::from(p[2]);
        sum += y;
        sum_sq += y * y;
    }
    let n = (img.width() as f64 * img.height() as f64).max(1.0);
    let mean = sum / n;
    (seen.len(), (sum_sq / n - mean * mean).max(0.0).sqrt())
}

fn near(p: &image::Rgb<u8>, c: [u8; 3], tolerance: i32) -> bool {
    (0..3).all(|i| (i32::from(p[i]) - i32::from(c[i])).abs() <= tolerance)
}

/// `Ok` if `img` looks like a drawn `kind` view; otherwise what is missing.
pub fn check_shot(kind: ShotKind, img: &RgbImage) -> Result<(), String> {
    let (colours, spread) = picture_stats(img);
    if colours < 12 || spread < 8.0 {
        return Err(format!(
            "{} looks blank ({colours} distinct colours, brightness spread {spread:.1})",
            kind.file_name()
        ));
    }
    for (label, group, min_pixels) in kind.expected() {
        let count = img
            .pixels()
            .filter(|p| group.iter().any(|c| near(p, *c, 14)))
            .count();
        if count < min_pixels {
            return Err(format!(
                "{} does not show {label} ({count} pixels, at least {min_pixels} expected)",
                kind.file_name()
            ));
        }
    }
    Ok(())
}
