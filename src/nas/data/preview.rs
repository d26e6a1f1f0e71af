//! A look at a data set before training on it: its class names, how many images of each
//! class each split holds (train and validation as the session's seeded split carves them,
//! and test), and a few sample images per class as RGB8, for the app's data window.

use super::{load, split, DataError, Dataset, DatasetSpec, ImageSet, Split};

/// Images per class in each split (indexed by class).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SplitCounts {
    pub train: Vec<usize>,
    pub val: Vec<usize>,
    pub test: Vec<usize>,
}

/// One sample image: its class and its pixels, row-major RGB8 (`width * height * 3` bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub class: usize,
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

/// What the data window shows of a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct DataPreview {
    pub name: String,
    pub class_names: Vec<String>,
    /// `(channels, height, width)` of the images trained on.
    pub shape: (usize, usize, usize),
    pub counts: SplitCounts,
    /// Up to `per_class` training images of each class, class by class.
    pub samples: Vec<Sample>,
}

/// Loads `spec`, splits its training set as a session with `val_fraction` and `seed` would,
/// and takes `per_class` samples of each class from the part trained on.
pub fn preview(
    spec: &DatasetSpec,
    val_fraction: f64,
    seed: u64,
    per_class: usize,
) -> Result<DataPreview, DataError> {
    let data = load(spec)?;
    let parts = split(data.train.len(), val_fraction, seed);
    Ok(DataPreview::of(&data, &parts, per_class))
}

impl DataPreview {
    /// The preview of `data` split into `parts`.
    pub fn of(data: &Dataset, parts: &Split, per_class: usize) -> Self {
        let classes = data.classes();
        let count = |set: &ImageSet, indices: &mut dyn Iterator<Item = usize>| {
            let mut n = vec![0; classes];
            for i in indices {
                if let Some(slot) = set.labels.get(i).and_then(|&c| n.get_mut(c as usize)) {
                    *slot += 1;
                }
            }
            n
        };
        let counts = SplitCounts {
            train: count(&data.train, &mut parts.train.iter().copied()),
            val: count(&data.train, &mut parts.val.iter().copied()),
            test: count(&data.test, &mut (0..data.test.len())),
        };
        let mut taken = vec![0; classes];
        let mut chosen: Vec<(usize, usize)> = Vec::new();
        for &i in &parts.train {
            let Some(&class) = data.train.labels.get(i) else {
                continue;
            };
            let class = class as usize;
            if taken.get(class).is_some_and(|&n| n < per_class) {
                taken[class] += 1;
                chosen.push((class, i));
            }
        }
        chosen.sort_by_key(|&(class, _)| class);
        let samples = chosen
            .into_iter()
            .map(|(class, i)| sample(&data.train, class, i))
            .collect();
        Self {
            name: data.name.clone(),
            class_names: data.class_names.clone(),
            shape: data.shape(),
            counts,
            samples,
        }
    }
}

/// Image `i` of `set` as RGB8 (grey repeated over the three channels).
fn sample(set: &ImageSet, class: usize, i: usize) -> Sample {
    let plane = set.height * set.width;
    let chw = set.image(i);
    let mut rgb = Vec::with_capacity(plane * 3);
    for p in 0..plane {
        for c in 0..3 {
            let channel = if set.channels >= 3 { c } else { 0 };
            rgb.push(chw[channel * plane + p]);
        }
    }
    Sample {
        class,
        width: set.width,
        height: set.height,
        rgb,
    }
}
