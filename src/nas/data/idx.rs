//! IDX (MNIST-style) loader: four files, plain or gzipped, for MNIST, Fashion-MNIST and kin.

use std::path::{Path, PathBuf};

use super::error::{read_maybe_gz, DataError};
use super::{Dataset, ImageSet};

const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Labels must be below this: IDX sets here are 10-class sets.
const MAX_CLASSES: u32 = 10;

const FASHION_NAMES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Whether all four IDX files (plain or `.gz`) exist in `dir`.
pub(super) fn files_present(dir: &Path) -> bool {
    [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS]
        .iter()
        .all(|name| find(dir, name).is_some())
}

/// Fashion-MNIST: ten fixed class names, flips allowed.
pub(super) fn load_fashion_mnist(dir: &Path) -> Result<Dataset, DataError> {
    let hint = "Fashion-MNIST is missing; `apt-get install dataset-fashion-mnist` installs it \
                in /usr/share/datasets/fashion-mnist";
    let (train, test) = load_pair(dir, hint)?;
    Ok(Dataset {
        name: "fashion-mnist".to_string(),
        train,
        test,
        class_names: FASHION_NAMES.iter().map(|s| s.to_string()).collect(),
        horizontal_flip: true,
    })
}

/// Generic MNIST-style IDX set: classes are `0..=max label` (at least 2), no flips.
pub(super) fn load_mnist_idx(dir: &Path) -> Result<Dataset, DataError> {
    let hint = "an IDX data set needs train-images-idx3-ubyte, train-labels-idx1-ubyte, \
                t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each optionally .gz)";
    let (train, test) = load_pair(dir, hint)?;
    let max = train
        .labels
        .iter()
        .chain(&test.labels)
        .copied()
        .max()
        .unwrap_or(0);
    let classes = (max as usize + 1).max(2);
    Ok(Dataset {
        name: "mnist-idx".to_string(),
        train,
        test,
        class_names: (0..classes).map(|c| c.to_string()).collect(),
        horizontal_flip: false,
    })
}

/// Finds `name` or `name.gz` in `dir`.
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    let plain = dir.join(name);
    if plain.is_file() {
        return Some(plain);
    }
    let gz = dir.join(format!("{name}.gz"));
    gz.is_file().then_some(gz)
}

fn require(dir: &Path, name: &str, hint: &str) -> Result<PathBuf, DataError> {
    find(dir, name).ok_or_else(|| DataError::missing(&dir.join(format!("{name}[.gz]")), hint))
}

fn load_pair(dir: &Path, hint: &str) -> Result<(ImageSet, ImageSet), DataError> {
    let train = load_split(dir, TRAIN_IMAGES, TRAIN_LABELS, hint)?;
    let test = load_split(dir, TEST_IMAGES, TEST_LABELS, hint)?;
    if (train.height, train.width) != (test.height, test.width) {
        return Err(DataError::mismatch(
            &dir.join(TRAIN_IMAGES),
            &dir.join(TEST_IMAGES),
            format!(
                "train images are {}x{} but test images are {}x{}",
                train.height, train.width, test.height, test.width
            ),
        ));
    }
    Ok((train, test))
}

fn load_split(
    dir: &Path,
    images_name: &str,
    labels_name: &str,
    hint: &str,
) -> Result<ImageSet, DataError> {
    let images_path = require(dir, images_name, hint)?;
    let labels_path = require(dir, labels_name, hint)?;
    let (dims, pixels) = parse(&images_path, IMAGES_MAGIC, 3)?;
    let (label_dims, labels) = parse(&labels_path, LABELS_MAGIC, 1)?;
    if dims[0] != label_dims[0] {
        return Err(DataError::mismatch(
            &images_path,
            &labels_path,
            format!("{} images but {} labels", dims[0], label_dims[0]),
        ));
    }
    if dims[0] == 0 {
        return Err(DataError::format(&images_path, "contains no images"));
    }
    if dims[1] == 0 || dims[2] == 0 {
        return Err(DataError::format(
            &images_path,
            format!("images are {}x{}, expected at least 1x1", dims[1], dims[2]),
        ));
    }
    if let Some((i, &l)) = labels
        .iter()
        .enumerate()
        .find(|(_, &l)| u32::from(l) >= MAX_CLASSES)
    {
        return Err(DataError::format(
            &labels_path,
            format!(
                "label {l} of record {i} (byte offset {}) is out of range, expected 0..{}",
                8 + i,
                MAX_CLASSES - 1
            ),
        ));
    }
    Ok(ImageSet {
        images: pixels,
        labels: labels.into_iter().map(u32::from).collect(),
        channels: 1,
        height: dims[1],
        width: dims[2],
    })
}

/// Checks an IDX file's header against `magic`/`ndims` and its length against the header;
/// returns the dimensions and the payload bytes.
fn parse(path: &Path, magic: u32, ndims: usize) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let bytes = read_maybe_gz(path)?;
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        return Err(DataError::format(
            path,
            format!(
                "truncated header: expected {header} bytes (magic + {ndims} dimensions), found {}",
                bytes.len()
            ),
        ));
    }
    let word =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let found = word(0);
    if found != magic {
        return Err(DataError::format(
            path,
            format!(
                "bad magic number at byte offset 0: expected 0x{magic:08x} (unsigned bytes, \
                 {ndims} dimensions), found 0x{found:08x}"
            ),
        ));
    }
    let dims: Vec<usize> = (0..ndims).map(|d| word(4 + 4 * d) as usize).collect();
    let payload = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .and_then(|p| p.checked_add(header))
        .ok_or_else(|| DataError::format(path, format!("dimensions {dims:?} are too large")))?;
    if bytes.len() != payload {
        let what = if bytes.len() < payload {
            "truncated"
        } else {
            "trailing data"
        };
        return Err(DataError::format(
            path,
            format!(
                "{what}: header says dimensions {dims:?}, so expected {payload} bytes, found {}",
                bytes.len()
            ),
        ));
    }
    let mut bytes = bytes;
    bytes.drain(..header);
    Ok((dims, bytes))
}
