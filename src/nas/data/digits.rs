//! The built-in 8x8 digits set (scikit-learn's copy of the UCI handwritten digits), embedded in
//! the binary so a search can always run; see `assets/data/README.md` for its origin.

use std::path::Path;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::error::{gunzip, DataError};
use super::{Dataset, ImageSet};

const DIGITS_GZ: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/data/digits.csv.gz"
));

/// Names the embedded file in errors.
const SOURCE: &str = "<embedded assets/data/digits.csv.gz>";

const SIDE: usize = 8;
const PIXELS: usize = SIDE * SIDE;
const CLASSES: usize = 10;
/// Share of each class held out for test.
const TEST_FRACTION: f64 = 0.2;

/// 1797 grey 8x8 images, pixels scaled from 0..16 to 0..255, split 80/20 per class (seed 0).
pub(super) fn load_digits() -> Result<Dataset, DataError> {
    let (pixels, labels) = parse(DIGITS_GZ, Path::new(SOURCE))?;
    let held = hold_out(&labels);
    let mut train = empty_set();
    let mut test = empty_set();
    for (i, &label) in labels.iter().enumerate() {
        let set = if held[i] { &mut test } else { &mut train };
        set.images
            .extend_from_slice(&pixels[i * PIXELS..(i + 1) * PIXELS]);
        set.labels.push(label);
    }
    Ok(Dataset {
        name: "digits".to_string(),
        train,
        test,
        class_names: (0..CLASSES).map(|c| c.to_string()).collect(),
        horizontal_flip: false,
    })
}

fn empty_set() -> ImageSet {
    ImageSet {
        images: Vec::new(),
        labels: Vec::new(),
        channels: 1,
        height: SIDE,
        width: SIDE,
    }
}

/// Decodes the gzipped CSV: 65 integer columns per line, 64 pixels (0..16) then the label.
fn parse(gz: &[u8], path: &Path) -> Result<(Vec<u8>, Vec<u32>), DataError> {
    let bytes = gunzip(gz, path)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| DataError::format(path, format!("not UTF-8 text: {e}")))?;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != PIXELS + 1 {
            return Err(DataError::format(
                path,
                format!(
                    "line {}: expected {} comma-separated fields, found {}",
                    line_no + 1,
                    PIXELS + 1,
                    fields.len()
                ),
            ));
        }
        for (col, field) in fields.iter().enumerate() {
            let max = if col < PIXELS { 16 } else { CLASSES as u32 - 1 };
            let v = parse_int(field).filter(|&v| v <= max).ok_or_else(|| {
                DataError::format(
                    path,
                    format!(
                        "line {} field {}: expected an integer 0..={max}, found `{field}`",
                        line_no + 1,
                        col + 1
                    ),
                )
            })?;
            if col < PIXELS {
                // 0..16 -> 0..255, rounded (v <= 16, so this fits in u8).
                pixels.push(((v * 255 + 8) / 16) as u8);
            } else {
                labels.push(v);
            }
        }
    }
    if labels.is_empty() {
        return Err(DataError::format(path, "no data lines"));
    }
    Ok((pixels, labels))
}

/// Integers, also written as floats with a zero fraction (`3.0`).
fn parse_int(field: &str) -> Option<u32> {
    let f = field.trim();
    if let Ok(v) = f.parse::<u32>() {
        return Some(v);
    }
    let x = f.parse::<f64>().ok()?;
    (x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX)).then_some(x as u32)
}

/// Which images go to test: round(20%) of each class, chosen by a seed-0 shuffle.
fn hold_out(labels: &[u32]) -> Vec<bool> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut held = vec![false; labels.len()];
    for class in 0..CLASSES as u32 {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        members.shuffle(&mut rng);
        let n_test = (members.len() as f64 * TEST_FRACTION).round() as usize;
        for &i in &members[..n_test] {
            held[i] = true;
        }
    }
    held
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gz(text: &str) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap()
    }

    fn line(first: &str, label: &str) -> String {
        let mut fields = vec![first.to_string(), "16".into(), "8".into()];
        fields.extend(std::iter::repeat_n("0".to_string(), PIXELS - 3));
        fields.push(label.to_string());
        fields.join(",")
    }

    #[test]
    fn parses_and_scales() {
        let text = format!("{}\n{}\n\n", line("0", "3"), line("1.0", "9"));
        let (pixels, labels) = parse(&gz(&text), Path::new("t.csv.gz")).unwrap();
        assert_eq!(labels, vec![3, 9]);
        assert_eq!(&pixels[..3], &[0, 255, 128]);
        assert_eq!(pixels[PIXELS], 16);
    }

    #[test]
    fn errors_name_line_and_field() {
        let text = format!("{}\n{}\n", line("0", "3"), line("17", "3"));
        let e = parse(&gz(&text), Path::new("t.csv.gz"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("t.csv.gz") && e.contains("line 2 field 1") && e.contains("`17`"),
            "{e}"
        );
        let e = parse(&gz("1,2,3\n"), Path::new("t.csv.gz"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 1: expected 65") && e.contains("found 3"),
            "{e}"
        );
        let e = parse(b"plain text", Path::new("t.csv.gz"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("gzip"), "{e}");
    }

    #[test]
    fn hold_out_is_stratified() {
        let labels: Vec<u32> = (0..100).map(|i| i % 10).collect();
        let held = hold_out(&labels);
        for c in 0..10 {
            let n = (0..100).filter(|&i| held[i] && labels[i] == c).count();
            assert_eq!(n, 2);
        }
        assert_eq!(held, hold_out(&labels));
    }
}
