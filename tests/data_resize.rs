//! Image folders of mixed sizes resized to one size (chosen, or the most common), the size
//! recorded in a new session so a resume reads the same, a bad size named by its field, and
//! the preview the app's data window shows (classes, counts per split, sample images).

mod common;

use std::path::Path;
use std::time::Duration;

use nas_navigator::nas::data::*;
use nas_navigator::nas::session::Session;
use nas_navigator::nas::trainer::{Engine, EngineSetup, Event};

/// A solid-colour PNG of `w` x `h`.
fn png(path: &Path, w: u32, h: u32, rgb: [u8; 3]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_pixel(w, h, image::Rgb(rgb))
        .save(path)
        .unwrap();
}

/// Three classes of six images each in sizes from 5x5 to 40x30, one colour per class.
fn mixed_folder(dir: &Path) {
    let sizes = [(5, 5), (12, 20), (40, 30), (7, 3), (16, 16), (33, 9)];
    let colours = [
        ("blue", [0, 0, 250]),
        ("green", [0, 250, 0]),
        ("red", [250, 0, 0]),
    ];
    for (class, rgb) in colours {
        for (i, &(w, h)) in sizes.iter().enumerate() {
            png(&dir.join(format!("{class}/{i}.png")), w, h, rgb);
        }
    }
}

#[test]
fn a_folder_of_mixed_sizes_loads_at_the_chosen_size() {
    let tmp = tempfile::tempdir().unwrap();
    mixed_folder(tmp.path());
    let size = ImageSize::parse("32", "--image-size").unwrap();
    let spec = DatasetSpec::Folder {
        dir: tmp.path().into(),
        size: Some(size),
    };
    let ds = load(&spec).unwrap();
    assert_eq!(ds.class_names, vec!["blue", "green", "red"]);
    assert_eq!(ds.shape(), (3, 32, 32));
    // Six per class, round(6/6) = 1 of each held out for test.
    assert_eq!((ds.train.len(), ds.test.len()), (15, 3));
    assert_eq!(ds.test.labels, vec![0, 1, 2]);
    // A solid colour stays that colour through the resize: red's red plane is bright, its
    // blue plane dark.
    let red = (0..ds.train.len())
        .find(|&i| ds.train.labels[i] == 2)
        .unwrap();
    let img = ds.train.image(red);
    let plane = 32 * 32;
    assert!(img[..plane].iter().all(|&v| v > 230), "red plane");
    assert!(img[2 * plane..].iter().all(|&v| v < 20), "blue plane");
}

#[test]
fn a_size_of_zero_or_a_size_for_a_fixed_size_set_names_the_field() {
    for bad in ["0", "0x32", "32x0", "thirty"] {
        let e = ImageSize::parse(bad, "--image-size")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--image-size") && e.contains("32"), "{e}");
    }
    let e = ImageSize::new(0, 8, "image size").unwrap_err().to_string();
    assert!(
        e.starts_with("image size: 0x8") && e.contains("from 1"),
        "{e}"
    );
    let size = ImageSize::parse("8", "--image-size").unwrap();
    let e = DatasetSpec::Digits
        .with_image_size(Some(size), "--image-size")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("--image-size: ") && e.contains("digits"),
        "{e}"
    );
}

fn wait_ready(engine: &nas_navigator::nas::trainer::EngineHandle) -> usize {
    loop {
        match engine.events.recv_timeout(Duration::from_secs(120)) {
            Ok(Event::Ready { train_images, .. }) => return train_images,
            Ok(Event::Error { message }) => panic!("engine error: {message}"),
            Ok(_) => {}
            Err(e) => panic!("no Ready from the engine: {e}"),
        }
    }
}

#[test]
fn a_new_session_records_the_size_and_a_resume_reads_the_same() {
    let data = tempfile::tempdir().unwrap();
    mixed_folder(data.path());
    let session = tempfile::tempdir().unwrap();
    let asked = DatasetSpec::Folder {
        dir: data.path().into(),
        size: None,
    };
    let setup = EngineSetup {
        dataset: asked.clone(),
        ..common::digits_engine(Some(session.path()), 0, 64)
    };
    let engine = Engine::spawn(setup);
    let first = wait_ready(&engine);
    engine.shutdown();
    let (opened, _) = Session::open(session.path()).unwrap();
    // All six sizes appear three times; the tie goes to the largest width: 40x30.
    let recorded = DatasetSpec::Folder {
        dir: data.path().into(),
        size: Some(ImageSize::new(40, 30, "test").unwrap()),
    };
    assert_eq!(opened.file.dataset, recorded);
    assert!(asked.matches(&recorded));
    // A file of another size added later changes the most common size, not the session's.
    for i in 0..9 {
        png(
            &data.path().join(format!("red/x{i}.png")),
            8,
            8,
            [250, 0, 0],
        );
    }
    let preview_now = preview(&asked, 0.1, 0, 1).unwrap();
    assert_eq!(preview_now.shape, (3, 8, 8));
    let resumed = Engine::spawn(EngineSetup::for_session(
        &opened,
        nas_navigator::nas::device::DeviceChoice::Cpu,
    ));
    let second = wait_ready(&resumed);
    resumed.shutdown();
    assert!(
        second > first,
        "the new files are read too: {first} -> {second}"
    );
    let (reopened, _) = Session::open(session.path()).unwrap();
    assert_eq!(reopened.file.dataset, recorded);
}

#[test]
fn the_preview_of_digits_has_classes_counts_per_split_and_samples() {
    let p = preview(&DatasetSpec::Digits, 0.1, 0, 4).unwrap();
    assert_eq!(p.class_names.len(), 10);
    assert_eq!(p.shape, (1, 8, 8));
    let sum = |v: &[usize]| v.iter().sum::<usize>();
    let (train, val, test) = (
        sum(&p.counts.train),
        sum(&p.counts.val),
        sum(&p.counts.test),
    );
    assert_eq!(train + val + test, 1797);
    let data = load(&DatasetSpec::Digits).unwrap();
    assert_eq!(test, data.test.len());
    assert_eq!(val, split(data.train.len(), 0.1, 0).val.len());
    assert!(p.counts.train.iter().all(|&n| n > 100), "{:?}", p.counts);
    assert_eq!(p.samples.len(), 40);
    for (i, s) in p.samples.iter().enumerate() {
        assert_eq!(s.class, i / 4);
        assert_eq!((s.width, s.height, s.rgb.len()), (8, 8, 8 * 8 * 3));
        // Grey shown as grey: the three channels of every pixel agree.
        assert!(s.rgb.chunks(3).all(|px| px[0] == px[1] && px[1] == px[2]));
    }
    assert!(p.samples.iter().any(|s| s.rgb.iter().any(|&v| v > 128)));
}

#[test]
fn the_preview_of_a_bad_path_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let gone = tmp.path().join("no-such-folder");
    let e = preview(&DatasetSpec::Cifar10Bin { dir: gone.clone() }, 0.1, 0, 4)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&*gone.to_string_lossy()), "{e}");
}

#[test]
fn the_cli_takes_image_size_records_it_and_names_the_flag_when_wrong() {
    let data = tempfile::tempdir().unwrap();
    mixed_folder(data.path());
    let out = tempfile::tempdir().unwrap();
    let session = out.path().join("s");
    let (data_dir, session_dir) = (data.path().to_str().unwrap(), session.to_str().unwrap());
    let mut args = vec!["round", "--session", session_dir];
    // TINY's settings, on the folder instead of its digits.
    let digits = common::TINY.iter().position(|&a| a == "--dataset").unwrap();
    args.extend(
        common::TINY
            .iter()
            .enumerate()
            .filter_map(|(i, a)| (i != digits && i != digits + 1).then_some(*a)),
    );
    args.extend_from_slice(&["--dataset", "folder", "--data-dir", data_dir]);
    for bad in ["0", "8x0"] {
        let mut with = args.clone();
        with.extend_from_slice(&["--image-size", bad]);
        let e = String::from_utf8_lossy(&common::run(&with).stderr).into_owned();
        assert!(e.contains("--image-size: ") && e.contains(bad), "{e}");
        common::assert_no_panic_text(&e, "panicked");
    }
    assert!(!Session::exists(&session));
    let other = out.path().join("d");
    let other_dir = other.to_str().unwrap();
    let e = common::run(&["round", "--session", other_dir, "--image-size", "8"]);
    let e = String::from_utf8_lossy(&e.stderr).into_owned();
    assert!(
        e.contains("--image-size: ") && e.contains("fashion-mnist"),
        "{e}"
    );
    assert!(!Session::exists(&other));
    args.extend_from_slice(&["--image-size", "8"]);
    common::run_ok(&args);
    let (opened, _) = Session::open(&session).unwrap();
    let size = ImageSize::new(8, 8, "test").ok();
    assert_eq!(
        opened.file.dataset,
        DatasetSpec::Folder {
            dir: data.path().into(),
            size
        }
    );
}
