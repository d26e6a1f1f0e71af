//! Image-folder loader: `train/<class>/*` + `test/<class>/*`, or `<class>/*` with a seeded
//! 1/6 of each class held out for test. PNG and JPEG via the `image` crate; images of other
//! sizes are resized to the one size (see [`super::image_size`]).

use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::error::DataError;
use super::image_size::{header, most_common, ImageSize};
use super::{Dataset, ImageSet};

const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// One image file and its class index.
type Labelled = (PathBuf, u32);

/// The shape every image is brought to: `(channels, height, width)`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Shape {
    channels: usize,
    height: usize,
    width: usize,
}

/// Loads the folder at `dir`, every image resized to `size` (default: the most common size
/// among the files), in colour when any file is.
pub(super) fn load_folder(dir: &Path, size: Option<ImageSize>) -> Result<Dataset, DataError> {
    if !dir.is_dir() {
        return Err(DataError::missing(
            dir,
            "expected a folder holding <class>/ folders, or train/<class>/ and test/<class>/",
        ));
    }
    let train_dir = dir.join("train");
    let test_dir = dir.join("test");
    let (class_names, train_files, test_files) = if train_dir.is_dir() && test_dir.is_dir() {
        let (train_names, train_files) = scan(&train_dir)?;
        let (test_names, test_files) = scan(&test_dir)?;
        if train_names != test_names {
            let only = |a: &[String], b: &[String]| {
                a.iter()
                    .filter(|n| !b.contains(n))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            return Err(DataError::mismatch(
                &train_dir,
                &test_dir,
                format!(
                    "class folders differ: only in train: {:?}, only in test: {:?}",
                    only(&train_names, &test_names),
                    only(&test_names, &train_names)
                ),
            ));
        }
        (train_names, flatten(train_files), flatten(test_files))
    } else {
        let root = if train_dir.is_dir() { &train_dir } else { dir };
        let (names, files) = scan(root)?;
        let (train, test) = carve(files);
        (names, train, test)
    };
    let first = train_files
        .first()
        .or(test_files.first())
        .map(|(p, _)| p.clone())
        .ok_or_else(|| DataError::format(dir, "no images found"))?;
    // The first file is decoded in full: a file that cannot be is named before any other work.
    open(&first)?;
    let all: Vec<Labelled> = train_files.iter().chain(&test_files).cloned().collect();
    let headers = on_threads(&all, |(path, _)| header(path))?;
    let size = match size.or_else(|| most_common(&headers)) {
        Some(s) => s,
        None => return Err(DataError::format(dir, "no images found")),
    };
    let shape = Shape {
        channels: if headers.iter().any(|h| h.colour) {
            3
        } else {
            1
        },
        height: size.height as usize,
        width: size.width as usize,
    };
    let train = decode_all(&train_files, shape, &first)?;
    let test = decode_all(&test_files, shape, &first)?;
    Ok(Dataset {
        name: "folder".to_string(),
        train,
        test,
        class_names,
        horizontal_flip: true,
    })
}

/// Class folder names (sorted) and their image files (sorted within each class).
fn scan(root: &Path) -> Result<(Vec<String>, Vec<Vec<Labelled>>), DataError> {
    let mut classes: Vec<(String, PathBuf)> = entries(root)?
        .into_iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            (!name.starts_with('.')).then_some((name, p))
        })
        .collect();
    classes.sort();
    if classes.len() < 2 {
        return Err(DataError::format(
            root,
            format!("expected at least 2 class folders, found {}", classes.len()),
        ));
    }
    let mut files = Vec::with_capacity(classes.len());
    for (label, (_, path)) in classes.iter().enumerate() {
        let mut images: Vec<PathBuf> = entries(path)?
            .into_iter()
            .filter(|p| p.is_file() && is_image_name(p))
            .collect();
        images.sort();
        if images.is_empty() {
            return Err(DataError::format(
                path,
                "class folder is empty, expected .png/.jpg/.jpeg images",
            ));
        }
        files.push(images.into_iter().map(|p| (p, label as u32)).collect());
    }
    Ok((classes.into_iter().map(|(n, _)| n).collect(), files))
}

fn flatten(classes: Vec<Vec<Labelled>>) -> Vec<Labelled> {
    classes.into_iter().flatten().collect()
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let read = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    read.map(|e| e.map(|e| e.path()).map_err(|e| DataError::io(dir, e)))
        .collect()
}

/// Whether `path` names an image the loader reads (.png, .jpg, .jpeg, any case).
pub fn is_image_name(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| EXTENSIONS.contains(&e.as_str()))
}

/// Seeded (seed 0) hold-out of round(n/6) files per class, at least one when a class has two.
fn carve(classes: Vec<Vec<Labelled>>) -> (Vec<Labelled>, Vec<Labelled>) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for files in classes {
        let n = files.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        let n_test = if n > 1 {
            ((n as f64 / 6.0).round() as usize).max(1)
        } else {
            0
        };
        let mut held = vec![false; n];
        for &i in &order[..n_test] {
            held[i] = true;
        }
        for (file, held) in files.into_iter().zip(held) {
            if held {
                test.push(file)
            } else {
                train.push(file)
            }
        }
    }
    (train, test)
}

fn open(path: &Path) -> Result<image::DynamicImage, DataError> {
    let to_err = |error| DataError::Image {
        path: path.to_path_buf(),
        error,
    };
    image::ImageReader::open(path)
        .map_err(|e| DataError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| DataError::io(path, e))?
        .decode()
        .map_err(to_err)
}

/// Runs `work` on every item of `items`, spread over the cores; the earliest failure wins.
fn on_threads<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> Result<R, DataError> + Sync,
) -> Result<Vec<R>, DataError> {
    let chunk = items.len().div_ceil(threads()).max(1);
    let work = &work;
    let parts: Vec<Result<Vec<R>, DataError>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(work).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut out = Vec::with_capacity(items.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(16)
}

/// Decodes `files` into one CHW byte buffer, on all cores; the earliest failing file wins.
fn decode_all(files: &[Labelled], shape: Shape, first: &Path) -> Result<ImageSet, DataError> {
    let per_image = shape.channels * shape.height * shape.width;
    let total = files.len().checked_mul(per_image);
    let what = format!(
        "{} images of {}x{}x{}",
        files.len(),
        shape.channels,
        shape.height,
        shape.width
    );
    crate::nas::memory::check_fits(total.map(|t| t as u64), &what).map_err(|what| {
        DataError::OutOfMemory {
            path: first.parent().unwrap_or(first).to_path_buf(),
            what,
        }
    })?;
    let mut images = vec![0u8; total.unwrap_or(0)];
    let chunk = files.len().div_ceil(threads()).max(1);
    let results: Vec<Result<(), DataError>> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .zip(images.chunks_mut(chunk * per_image))
            .map(|(files, out)| s.spawn(move || decode_chunk(files, out, shape)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    results.into_iter().collect::<Result<(), _>>()?;
    Ok(ImageSet {
        images,
        labels: files.iter().map(|(_, l)| *l).collect(),
        channels: shape.channels,
        height: shape.height,
        width: shape.width,
    })
}

/// Decodes each file into its slot of `out`, resized to `shape` (Catmull-Rom) where its size
/// differs, grey or colour as `shape` says.
fn decode_chunk(files: &[Labelled], out: &mut [u8], shape: Shape) -> Result<(), DataError> {
    let per_image = shape.channels * shape.height * shape.width;
    let (w, h) = (shape.width as u32, shape.height as u32);
    let filter = image::imageops::FilterType::CatmullRom;
    for ((path, _), out) in files.iter().zip(out.chunks_exact_mut(per_image)) {
        let img = open(path)?;
        let resized = (img.width(), img.height()) != (w, h);
        if shape.channels == 1 {
            let grey = img.to_luma8();
            let grey = match resized {
                true => image::imageops::resize(&grey, w, h, filter),
                false => grey,
            };
            out.copy_from_slice(grey.as_raw());
        } else {
            let rgb = img.to_rgb8();
            let rgb = match resized {
                true => image::imageops::resize(&rgb, w, h, filter),
                false => rgb,
            };
            let plane = shape.height * shape.width;
            for (p, px) in rgb.as_raw().chunks_exact(3).enumerate() {
                for (c, &v) in px.iter().enumerate() {
                    out[c * plane + p] = v;
                }
            }
        }
    }
    Ok(())
}
