//! CIFAR-10 / CIFAR-100 loader for the official binary versions (fixed-size records).

use std::path::{Path, PathBuf};

use super::error::DataError;
use super::{Dataset, ImageSet};

const PIXELS: usize = 3 * 32 * 32;

const CIFAR10_NAMES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

const CIFAR100_NAMES: &str = "apple aquarium_fish baby bear beaver bed bee beetle bicycle \
    bottle bowl boy bridge bus butterfly camel can castle caterpillar cattle chair chimpanzee \
    clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish forest \
    fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man \
    maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear \
    pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket \
    rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar sunflower \
    sweet_pepper table tank telephone television tiger tractor train trout tulip turtle \
    wardrobe whale willow_tree wolf woman worm";

/// The layout of one kind of record.
struct Layout {
    /// Bytes before the pixels; the label used is the last of them.
    label_bytes: usize,
    classes: usize,
    describe: &'static str,
}

const CIFAR10: Layout = Layout {
    label_bytes: 1,
    classes: 10,
    describe: "1 label byte + 3072 pixel bytes",
};

const CIFAR100: Layout = Layout {
    label_bytes: 2,
    classes: 100,
    describe: "1 coarse label byte + 1 fine label byte + 3072 pixel bytes",
};

/// CIFAR-10: `data_batch_{1..5}.bin` (at least one) and `test_batch.bin`.
pub(super) fn load_cifar10(dir: &Path) -> Result<Dataset, DataError> {
    let root = locate(dir, "cifar-10-batches-bin", "test_batch.bin");
    let train_files: Vec<PathBuf> = (1..=5)
        .map(|i| root.join(format!("data_batch_{i}.bin")))
        .filter(|p| p.is_file())
        .collect();
    if train_files.is_empty() {
        return Err(DataError::missing(
            &root.join("data_batch_1.bin"),
            "CIFAR-10 binary needs at least one of data_batch_1.bin..data_batch_5.bin \
             (directly in the folder or in cifar-10-batches-bin/)",
        ));
    }
    let test_file = require(&root.join("test_batch.bin"), "CIFAR-10")?;
    let train = read_records(&train_files, &CIFAR10)?;
    let test = read_records(&[test_file], &CIFAR10)?;
    let class_names = names(&root.join("batches.meta.txt"), &CIFAR10, || {
        CIFAR10_NAMES.iter().map(|s| s.to_string()).collect()
    })?;
    Ok(Dataset {
        name: "cifar10-bin".to_string(),
        train,
        test,
        class_names,
        horizontal_flip: true,
    })
}

/// CIFAR-100: `train.bin` and `test.bin`, fine labels.
pub(super) fn load_cifar100(dir: &Path) -> Result<Dataset, DataError> {
    let root = locate(dir, "cifar-100-binary", "train.bin");
    let train_file = require(&root.join("train.bin"), "CIFAR-100")?;
    let test_file = require(&root.join("test.bin"), "CIFAR-100")?;
    let train = read_records(&[train_file], &CIFAR100)?;
    let test = read_records(&[test_file], &CIFAR100)?;
    let class_names = names(&root.join("fine_label_names.txt"), &CIFAR100, || {
        CIFAR100_NAMES
            .split_whitespace()
            .map(str::to_string)
            .collect()
    })?;
    Ok(Dataset {
        name: "cifar100-bin".to_string(),
        train,
        test,
        class_names,
        horizontal_flip: true,
    })
}

/// `dir` itself unless the files are only in the official archive's subfolder.
fn locate(dir: &Path, subfolder: &str, probe: &str) -> PathBuf {
    let sub = dir.join(subfolder);
    if !dir.join(probe).is_file() && sub.join(probe).is_file() {
        sub
    } else {
        dir.to_path_buf()
    }
}

fn require(path: &Path, what: &str) -> Result<PathBuf, DataError> {
    if path.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(DataError::missing(
            path,
            format!("the {what} binary version is needed (get the \"binary version\" archive)"),
        ))
    }
}

/// Reads and concatenates the records of `files`.
fn read_records(files: &[PathBuf], layout: &Layout) -> Result<ImageSet, DataError> {
    let record = layout.label_bytes + PIXELS;
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        if bytes.is_empty() {
            return Err(DataError::format(path, "file is empty, expected records"));
        }
        if bytes.len() % record != 0 {
            return Err(DataError::format(
                path,
                format!(
                    "length {} bytes is not a multiple of the record size {record} ({}): \
                     {} whole records and {} bytes left over",
                    bytes.len(),
                    layout.describe,
                    bytes.len() / record,
                    bytes.len() % record
                ),
            ));
        }
        images.reserve(bytes.len() / record * PIXELS);
        for (i, rec) in bytes.chunks_exact(record).enumerate() {
            let at = layout.label_bytes - 1;
            let label = rec[at];
            if usize::from(label) >= layout.classes {
                return Err(DataError::format(
                    path,
                    format!(
                        "record {i} (byte offset {}): label {label} is out of range, \
                         expected 0..{}",
                        i * record + at,
                        layout.classes - 1
                    ),
                ));
            }
            labels.push(u32::from(label));
            images.extend_from_slice(&rec[layout.label_bytes..]);
        }
    }
    Ok(ImageSet {
        images,
        labels,
        channels: 3,
        height: 32,
        width: 32,
    })
}

/// Class names from a one-name-per-line file if it exists, else `default()`.
fn names(
    path: &Path,
    layout: &Layout,
    default: impl FnOnce() -> Vec<String>,
) -> Result<Vec<String>, DataError> {
    if !path.is_file() {
        return Ok(default());
    }
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if names.len() != layout.classes {
        return Err(DataError::format(
            path,
            format!(
                "expected {} class names (one per line), found {}",
                layout.classes,
                names.len()
            ),
        ));
    }
    Ok(names)
}
