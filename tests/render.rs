//! The rendering test: runs the real app under Xvfb with Mesa's software Vulkan (lavapipe),
//! drives the scripted session of `nas-navigator screenshot` (train a little, score, probe,
//! select with a box and a lasso, edit a block) and checks each main view's picture here
//! again, inside the part the view draws itself (written by the session as `regions.json`:
//! the scene's viewport less its legend and controls, the Lego canvas, the plot areas): not
//! blank, and showing what the view draws (point blobs at both ends of the scale, cards in
//! block-kind colours, the curves). The pictures are kept in `artifacts/screenshots/`. Needs
//! `Xvfb` and `mesa-vulkan-drivers` (`.ci/test.sh` installs them); without them the test
//! fails and says so.

#[path = "common/xvfb.rs"]
mod xvfb;

use std::path::Path;
use std::process::Command;

use nas_navigator::app::script::blobs::read_regions;
use nas_navigator::app::script::shot_check::{check_shot, ShotKind, REGIONS_FILE};

#[test]
fn the_app_draws_every_main_view_under_xvfb() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/screenshots");
    for kind in ShotKind::ALL {
        let _ = std::fs::remove_file(out.join(kind.file_name()));
    }
    let _ = std::fs::remove_file(out.join(REGIONS_FILE));
    let display = xvfb::start_xvfb();
    let runtime = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_nas-navigator"))
        .args(["screenshot", "--out"])
        .arg(&out)
        .args(["--timeout-secs", "900"])
        .env("DISPLAY", format!(":{}", display.number))
        .env("WGPU_BACKEND", "vulkan")
        .env("XDG_RUNTIME_DIR", runtime.path())
        .output()
        .expect("cannot run nas-navigator");
    drop(display);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let tail: String = stderr
        .lines()
        .rev()
        .take(15)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        output.status.success(),
        "screenshot failed ({}):\n{tail}",
        output.status
    );
    assert!(
        !stderr.contains("panicked"),
        "a panic was reported:\n{tail}"
    );
    assert!(
        stdout.contains(&format!("wrote and checked {} views", ShotKind::ALL.len())),
        "stdout: {stdout}"
    );
    let regions = read_regions(&out).unwrap_or_else(|e| panic!("{e}"));
    for kind in ShotKind::ALL {
        let path = out.join(kind.file_name());
        let region = regions
            .get(kind.file_name())
            .unwrap_or_else(|| panic!("{REGIONS_FILE} has no region for {}", kind.file_name()));
        let img = image::open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .to_rgb8();
        assert_eq!(
            (img.width(), img.height()),
            (1280, 800),
            "{}",
            path.display()
        );
        check_shot(kind, &img, region).unwrap_or_else(|e| panic!("{e}"));
    }
}
