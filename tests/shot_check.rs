//! The picture checks of the rendering test, on synthetic pictures (no window needed): a
//! check looks only inside the view's own drawing area, so the scene's legend swatches or
//! the side panel's colours cannot pass for the scene's points or the Lego canvas's cards.
#![cfg(feature = "app")]

use image::{Rgb, RgbImage};
use nas_navigator::app::script::blobs::{blobs_of, PixelRect, ShotRegion};
use nas_navigator::app::script::shot_check::{check_shot, ShotKind, KIND_COLOURS};
use nas_navigator::app::widgets::colour_scale::scale_step_colour;

const W: u32 = 400;
const H: u32 = 300;

fn step(s: usize) -> [u8; 3] {
    let c = scale_step_colour(s);
    [0, 1, 2].map(|i| (c[i] * 255.0).round() as u8)
}

/// A dark, slightly noisy background, as a drawn window has.
fn background() -> RgbImage {
    RgbImage::from_fn(W, H, |x, y| {
        Rgb([(x % 7 * 9) as u8, (y % 5 * 11) as u8, 30])
    })
}

fn fill(img: &mut RgbImage, x0: u32, y0: u32, w: u32, h: u32, c: [u8; 3]) {
    for x in x0..x0 + w {
        for y in y0..y0 + h {
            img.put_pixel(x, y, Rgb(c));
        }
    }
}

/// A point of the points shader: a disc of radius 4 with a dark rim.
fn point(img: &mut RgbImage, cx: i32, cy: i32, c: [u8; 3]) {
    for dy in -4i32..=4 {
        for dx in -4i32..=4 {
            let r = ((dx * dx + dy * dy) as f32).sqrt() / 4.0;
            if r <= 1.0 {
                let colour = if r > 0.8 {
                    c.map(|v| (v as f32 * 0.45) as u8)
                } else {
                    c
                };
                img.put_pixel((cx + dx) as u32, (cy + dy) as u32, Rgb(colour));
            }
        }
    }
}

fn rect(x: u32, y: u32, w: u32, h: u32) -> PixelRect {
    PixelRect { x, y, w, h }
}

/// The scene's viewport is the left 300 pixels; its legend sits at the bottom left.
fn scene_region() -> ShotRegion {
    ShotRegion {
        areas: vec![rect(0, 0, 300, H)],
        excluded: vec![rect(5, 260, 200, 30)],
    }
}

/// The legend: ten swatches of 14 x 12 pixels, blue to red, at (10, 270).
fn legend(img: &mut RgbImage) {
    for s in 0..10 {
        fill(img, 10 + 16 * s as u32, 270, 14, 12, step(s));
    }
}

#[test]
fn a_blank_picture_or_a_missing_area_fails() {
    let blank = RgbImage::from_pixel(W, H, Rgb([43, 44, 48]));
    let err = check_shot(ShotKind::Scene2d, &blank, &scene_region()).unwrap_err();
    assert!(
        err.contains("scene-2d.png") && err.contains("blank"),
        "{err}"
    );
    let err = check_shot(ShotKind::Lego, &background(), &ShotRegion::default()).unwrap_err();
    assert!(err.contains("lego.png") && err.contains("missing"), "{err}");
}

#[test]
fn legend_swatches_alone_do_not_pass_for_the_scenes_points() {
    let mut img = background();
    legend(&mut img);
    // Swatches of both ends, and a side panel (outside the viewport) full of point-like dots.
    for i in 0..8 {
        point(&mut img, 320 + (i % 4) * 20, 30 + (i / 4) * 20, step(0));
        point(&mut img, 320 + (i % 4) * 20, 90 + (i / 4) * 20, step(9));
    }
    let err = check_shot(ShotKind::Scene2d, &img, &scene_region()).unwrap_err();
    assert!(
        err.contains("scene-2d.png") && err.contains("blue end"),
        "{err}"
    );
    // The same picture judged as a whole would pass: the region is what makes it fail.
    let whole = ShotRegion::whole(W, H);
    assert_eq!(check_shot(ShotKind::Scene2d, &img, &whole), Ok(()));
}

#[test]
fn points_at_both_ends_of_the_scale_pass_and_one_end_is_not_enough() {
    let mut img = background();
    legend(&mut img);
    for i in 0..6 {
        point(&mut img, 20 + i * 30, 40, step(i as usize % 2));
    }
    let err = check_shot(ShotKind::Scene3d, &img, &scene_region()).unwrap_err();
    assert!(
        err.contains("scene-3d.png") && err.contains("yellow end"),
        "{err}"
    );
    for i in 0..4 {
        point(&mut img, 20 + i * 30, 100, step(9 - i as usize % 2));
    }
    let err = check_shot(ShotKind::Scene3d, &img, &scene_region()).unwrap_err();
    assert!(err.contains("(4 blobs"), "{err}");
    point(&mut img, 200, 100, step(9));
    assert_eq!(check_shot(ShotKind::Scene3d, &img, &scene_region()), Ok(()));
}

#[test]
fn a_big_patch_of_an_end_colour_is_not_a_point() {
    let mut img = background();
    for i in 0..6 {
        fill(&mut img, 10 + i * 45, 30, 40, 30, step(0));
        fill(&mut img, 10 + i * 45, 100, 40, 30, step(9));
    }
    let err = check_shot(ShotKind::Scene2d, &img, &scene_region()).unwrap_err();
    assert!(err.contains("point-sized"), "{err}");
}

#[test]
fn the_lego_canvas_needs_cards_in_block_kind_colours() {
    let canvas = ShotRegion {
        areas: vec![rect(0, 0, 250, H)],
        excluded: vec![],
    };
    let mut img = background();
    // Kind colours outside the canvas (the side panel's block plot and legend) do not count,
    // nor do small marks inside it.
    for (i, c) in KIND_COLOURS.iter().enumerate() {
        fill(&mut img, 270, 10 + 20 * i as u32, 70, 8, *c);
        fill(&mut img, 20 + 10 * i as u32, 200, 5, 5, *c);
    }
    let err = check_shot(ShotKind::Lego, &img, &canvas).unwrap_err();
    assert!(
        err.contains("lego.png") && err.contains("Lego canvas"),
        "{err}"
    );
    // Three cards' block rows, 70 x 8 pixels each.
    for i in 0..3 {
        fill(&mut img, 20 + 75 * i, 100, 70, 8, KIND_COLOURS[i as usize]);
    }
    assert_eq!(check_shot(ShotKind::Lego, &img, &canvas), Ok(()));
}

#[test]
fn charts_count_their_curves_inside_the_plot_areas_only() {
    let plot = ShotRegion {
        areas: vec![rect(0, 0, 200, 150)],
        excluded: vec![],
    };
    let mut img = background();
    fill(&mut img, 250, 10, 30, 10, [70, 130, 230]);
    fill(&mut img, 250, 40, 30, 10, [230, 120, 40]);
    let err = check_shot(ShotKind::Charts, &img, &plot).unwrap_err();
    assert!(
        err.contains("charts.png") && err.contains("training"),
        "{err}"
    );
    fill(&mut img, 10, 10, 30, 2, [70, 130, 230]);
    fill(&mut img, 10, 40, 30, 2, [230, 120, 40]);
    assert_eq!(check_shot(ShotKind::Charts, &img, &plot), Ok(()));
}

#[test]
fn blobs_are_four_connected_and_stay_inside_the_region() {
    let mut img = RgbImage::new(20, 10);
    fill(&mut img, 1, 1, 3, 3, [255, 0, 0]);
    fill(&mut img, 4, 4, 2, 2, [255, 0, 0]); // touches the first only at a corner
    fill(&mut img, 12, 1, 6, 2, [255, 0, 0]);
    let region = ShotRegion {
        areas: vec![rect(0, 0, 15, 10)],
        excluded: vec![rect(0, 0, 2, 2)],
    };
    let mut sizes: Vec<usize> = blobs_of(&img, &region, |p| p[0] == 255)
        .iter()
        .map(|b| b.pixels)
        .collect();
    sizes.sort();
    assert_eq!(sizes, vec![4, 6, 8]);
    assert_eq!(region.pixel_count(20, 10), 146);
}
