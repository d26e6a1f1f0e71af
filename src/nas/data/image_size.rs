//! The one size an image folder's pictures are resized to: parsed from `32` or `32x24`
//! (`--image-size`, the data window's field), checked, and — when none is given — chosen as
//! the most common size among the files' headers.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use image::ImageDecoder;
use serde::{Deserialize, Serialize};

use super::error::DataError;

/// The largest side accepted: past it a data set of any length rarely fits in memory.
pub const MAX_SIDE: u32 = 1024;

/// Width and height in pixels, both in `1..=MAX_SIDE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageSize {
    pub width: u32,
    pub height: u32,
}

impl fmt::Display for ImageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

impl ImageSize {
    /// A checked size; `field` names where it came from (`--image-size`) in the error.
    pub fn new(width: u32, height: u32, field: &str) -> Result<Self, DataError> {
        let ok = |v: u32| (1..=MAX_SIDE).contains(&v);
        if !ok(width) || !ok(height) {
            return Err(DataError::Setting {
                field: field.to_string(),
                what: format!(
                    "{width}x{height} is not a usable image size; expected width and height \
                     from 1 to {MAX_SIDE} pixels, such as `32` or `32x24`"
                ),
            });
        }
        Ok(Self { width, height })
    }

    /// Parses `32` (square) or `32x24` (width x height); `field` names the flag or field.
    pub fn parse(text: &str, field: &str) -> Result<Self, DataError> {
        let bad = || DataError::Setting {
            field: field.to_string(),
            what: format!(
                "expected a size in pixels such as `32` or `32x24` (width x height), got `{text}`"
            ),
        };
        let text = text.trim().to_ascii_lowercase();
        let number = |s: &str| s.trim().parse::<u32>().map_err(|_| bad());
        match text.split_once('x') {
            Some((w, h)) => Self::new(number(w)?, number(h)?, field),
            None => {
                let side = number(&text)?;
                Self::new(side, side, field)
            }
        }
    }
}

/// What a file's header says: its size and whether it holds colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub width: u32,
    pub height: u32,
    pub colour: bool,
}

/// Reads only the header of the image at `path`.
pub(super) fn header(path: &Path) -> Result<Header, DataError> {
    let decoder = image::ImageReader::open(path)
        .map_err(|e| DataError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| DataError::io(path, e))?
        .into_decoder()
        .map_err(|error| DataError::Image {
            path: path.to_path_buf(),
            error,
        })?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(DataError::format(
            path,
            "image has zero size, expected at least 1x1",
        ));
    }
    Ok(Header {
        width,
        height,
        colour: decoder.color_type().has_color(),
    })
}

/// The most common size among `headers` (a tie goes to the larger width, then height);
/// `None` when there are none.
pub(super) fn most_common(headers: &[Header]) -> Option<ImageSize> {
    let mut counts: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    for h in headers {
        *counts.entry((h.width, h.height)).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(_, n)| n)
        .map(|((width, height), _)| ImageSize { width, height })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_square_and_rectangular_sizes_and_names_the_field_when_wrong() {
        let s = ImageSize::parse("32", "--image-size").unwrap();
        assert_eq!((s.width, s.height), (32, 32));
        let s = ImageSize::parse(" 40X24 ", "--image-size").unwrap();
        assert_eq!((s.width, s.height), (40, 24));
        for bad in ["0", "32x0", "abc", "", "2000"] {
            let e = ImageSize::parse(bad, "--image-size")
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("--image-size: "), "{bad}: {e}");
        }
    }

    #[test]
    fn the_most_common_size_wins() {
        let h = |width, height| Header {
            width,
            height,
            colour: false,
        };
        let headers = [h(8, 8), h(16, 12), h(16, 12), h(4, 4)];
        assert_eq!(
            most_common(&headers),
            Some(ImageSize {
                width: 16,
                height: 12
            })
        );
        assert_eq!(most_common(&[]), None);
    }
}
