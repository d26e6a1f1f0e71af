//! An Xvfb server for the tests that run the real app (`render`, `app_soak_xvfb`): a free
//! display number, waited for until its socket exists, killed when dropped. Included with
//! `#[path = "common/xvfb.rs"] mod xvfb;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An Xvfb server, killed when dropped.
pub struct Display {
    child: Child,
    pub number: u32,
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_xvfb() -> Display {
    let base = 90 + std::process::id() % 200;
    let number = (base..base + 50)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .expect("no free X display number between :90 and :340");
    let child = Command::new("Xvfb")
        .args([format!(":{number}"), "-screen".into(), "0".into(), "1280x800x24".into(), "-nolisten".into(), "tcp".into()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start Xvfb ({e}); install it with `apt-get install xvfb mesa-vulkan-drivers` or run .ci/test.sh"));
    let display = Display { child, number };
    let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "Xvfb :{number} did not start within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    display
}
