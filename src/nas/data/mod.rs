//! Data sets for the search: loaders (IDX, CIFAR binary, image folders, built-in digits), the
//! train/validation split, normalisation and batching into candle tensors.
//!
//! Every loader returns a [`Dataset`] whose images are raw bytes in NCHW order; conversion to
//! floats happens per batch in [`make_batch`], so a data set costs one byte per pixel in memory.

mod batch;
mod cifar;
mod digits;
mod error;
mod folder;
mod idx;
mod image_size;
mod preview;
mod split;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use batch::{make_batch, Augment};
pub use error::DataError;
pub use folder::is_image_name;
pub use image_size::{ImageSize, MAX_SIDE};
pub use preview::{preview, DataPreview, Sample, SplitCounts};
pub use split::{split, Normalisation, Split};

/// Where the Debian package `dataset-fashion-mnist` puts its files.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// A set of equally sized images with their labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSet {
    /// `len() * channels * height * width` bytes, row-major NCHW, raw 0..255.
    pub images: Vec<u8>,
    /// One class index per image.
    pub labels: Vec<u32>,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl ImageSet {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Bytes per image: `channels * height * width`.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The pixels of image `i` (CHW). Panics if `i >= len()`, like slice indexing.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_len();
        &self.images[i * n..(i + 1) * n]
    }
}

/// A loaded data set: train and test images plus what the classes are called.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    pub train: ImageSet,
    pub test: ImageSet,
    pub class_names: Vec<String>,
    /// Whether horizontal-flip augmentation makes sense (not for digits, where it changes meaning).
    pub horizontal_flip: bool,
}

impl Dataset {
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.class_names.len()
    }

    /// Image shape as `(channels, height, width)`.
    pub fn shape(&self) -> (usize, usize, usize) {
        (self.train.channels, self.train.height, self.train.width)
    }
}

/// Which data set to load, and from where. Serialised with a `kind` tag, e.g.
/// `{"kind":"cifar10-bin","dir":"/data/cifar"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DatasetSpec {
    /// Fashion-MNIST as IDX files; `None` means [`FASHION_MNIST_DIR`].
    FashionMnist { dir: Option<PathBuf> },
    /// Any MNIST-style set of four IDX files.
    MnistIdx { dir: PathBuf },
    /// The CIFAR-10 binary version.
    Cifar10Bin { dir: PathBuf },
    /// The CIFAR-100 binary version (fine labels).
    Cifar100Bin { dir: PathBuf },
    /// Class folders of PNG/JPEG images, resized to `size` (none: the most common size among
    /// the files; a new session records the size it was made with, so a resume reads the
    /// same).
    Folder {
        dir: PathBuf,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<ImageSize>,
    },
    /// The 8x8 digits set built into the binary.
    Digits,
}

/// The CLI words for each kind, in the order they are listed in errors.
const NAMES: [&str; 6] = [
    "fashion-mnist",
    "mnist-idx",
    "cifar10-bin",
    "cifar100-bin",
    "folder",
    "digits",
];

impl DatasetSpec {
    /// The CLI word for this kind (the same as its serde `kind` tag).
    pub fn name(&self) -> &'static str {
        match self {
            Self::FashionMnist { .. } => NAMES[0],
            Self::MnistIdx { .. } => NAMES[1],
            Self::Cifar10Bin { .. } => NAMES[2],
            Self::Cifar100Bin { .. } => NAMES[3],
            Self::Folder { .. } => NAMES[4],
            Self::Digits => NAMES[5],
        }
    }

    /// Builds a spec from CLI words. `digits` ignores `dir`; `fashion-mnist` defaults it.
    pub fn parse(name: &str, dir: Option<PathBuf>) -> Result<Self, DataError> {
        let word = name.trim().to_ascii_lowercase();
        let need =
            |dir: Option<PathBuf>| dir.ok_or_else(|| DataError::NeedsDir { name: word.clone() });
        match word.as_str() {
            "fashion-mnist" => Ok(Self::FashionMnist { dir }),
            "mnist-idx" => Ok(Self::MnistIdx { dir: need(dir)? }),
            "cifar10-bin" => Ok(Self::Cifar10Bin { dir: need(dir)? }),
            "cifar100-bin" => Ok(Self::Cifar100Bin { dir: need(dir)? }),
            "folder" => Ok(Self::Folder {
                dir: need(dir)?,
                size: None,
            }),
            "digits" => Ok(Self::Digits),
            _ => Err(DataError::UnknownDataset {
                name: name.to_string(),
                valid: NAMES.join(", "),
            }),
        }
    }

    /// The folder the data set is read from (none for the digits; Fashion-MNIST's default
    /// place when it was given none).
    pub fn dir(&self) -> Option<PathBuf> {
        match self {
            Self::FashionMnist { dir } => Some(
                dir.clone()
                    .unwrap_or_else(|| PathBuf::from(FASHION_MNIST_DIR)),
            ),
            Self::MnistIdx { dir }
            | Self::Cifar10Bin { dir }
            | Self::Cifar100Bin { dir }
            | Self::Folder { dir, .. } => Some(dir.clone()),
            Self::Digits => None,
        }
    }

    /// This spec with images resized to `size` (an image folder's only); `field` names the
    /// setting in the error when the kind takes no size.
    pub fn with_image_size(self, size: Option<ImageSize>, field: &str) -> Result<Self, DataError> {
        match (self, size) {
            (spec, None) => Ok(spec),
            (Self::Folder { dir, .. }, size) => Ok(Self::Folder { dir, size }),
            (spec, Some(_)) => Err(DataError::Setting {
                field: field.to_string(),
                what: format!(
                    "only an image folder (`folder`) is resized; `{}` has one size already",
                    spec.name()
                ),
            }),
        }
    }

    /// The spec a new session records: an image folder's size made explicit (the size
    /// `shape` = (channels, height, width) it was loaded at), so a resume reads the same.
    pub fn pinned(self, shape: (usize, usize, usize)) -> Self {
        match self {
            Self::Folder { dir, size: None } => {
                let (_, height, width) = shape;
                let size = ImageSize {
                    width: width as u32,
                    height: height as u32,
                };
                Self::Folder {
                    dir,
                    size: Some(size),
                }
            }
            spec => spec,
        }
    }

    /// Whether a session made on `recorded` reads what this spec asks for (an image folder
    /// asked for with no size matches the size recorded).
    pub fn matches(&self, recorded: &DatasetSpec) -> bool {
        match (self, recorded) {
            (Self::Folder { dir, size: None }, Self::Folder { dir: had, .. }) => dir == had,
            (asked, recorded) => asked == recorded,
        }
    }
}

/// Loads the data set a spec describes.
pub fn load(spec: &DatasetSpec) -> Result<Dataset, DataError> {
    match spec {
        DatasetSpec::FashionMnist { dir } => {
            let dir = dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(FASHION_MNIST_DIR));
            idx::load_fashion_mnist(&dir)
        }
        DatasetSpec::MnistIdx { dir } => idx::load_mnist_idx(dir),
        DatasetSpec::Cifar10Bin { dir } => cifar::load_cifar10(dir),
        DatasetSpec::Cifar100Bin { dir } => cifar::load_cifar100(dir),
        DatasetSpec::Folder { dir, size } => folder::load_folder(dir, *size),
        DatasetSpec::Digits => digits::load_digits(),
    }
}

/// Fashion-MNIST if its files are installed, else the built-in digits plus a warning saying
/// how to get Fashion-MNIST. Installed-but-corrupt files are an error, not a fallback.
pub fn load_default() -> Result<(Dataset, Option<String>), DataError> {
    let dir = PathBuf::from(FASHION_MNIST_DIR);
    if idx::files_present(&dir) {
        let ds = idx::load_fashion_mnist(&dir)?;
        return Ok((ds, None));
    }
    let ds = digits::load_digits()?;
    let warning = format!(
        "Fashion-MNIST not found in {FASHION_MNIST_DIR}; using the built-in 8x8 digits \
         instead. `apt-get install dataset-fashion-mnist` gets it."
    );
    Ok((ds, Some(warning)))
}
