//! The data module's error type: every failure names the file, the place in it and what was expected.

use std::path::{Path, PathBuf};

/// Everything that can go wrong while finding, reading, decoding or batching a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file or folder could not be read at all.
    /// (No `#[source]` here or below: the message carries the cause, and anyhow's `{:#}`
    /// would print it twice.)
    #[error("{path}: {}", crate::nas::memory::describe_io(.error))]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The file was read but its contents are not what the format says.
    #[error("{path}: {what}")]
    Format { path: PathBuf, what: String },
    /// A file or folder the data set needs is not there.
    #[error("{path}: not found; {hint}")]
    Missing { path: PathBuf, hint: String },
    /// Two files that must agree (images vs labels, train vs test) do not.
    #[error("{first} and {second} disagree: {what}")]
    Mismatch {
        first: PathBuf,
        second: PathBuf,
        what: String,
    },
    /// An image file the `image` crate could not decode.
    #[error("{path}: cannot decode image: {error}")]
    Image {
        path: PathBuf,
        error: image::ImageError,
    },
    /// The dataset name given on the command line is not one we know.
    #[error("unknown dataset `{name}`; valid names: {valid}")]
    UnknownDataset { name: String, valid: String },
    /// A dataset kind that reads files was given no directory.
    #[error("dataset `{name}` needs a directory (give one with --data-dir)")]
    NeedsDir { name: String },
    /// A setting (a flag or a field of the app) holds a value that cannot be used.
    #[error("{field}: {what}")]
    Setting { field: String, what: String },
    /// A batch asked for an image index past the end of the set.
    #[error("image index {index} is out of range: the set has {len} images")]
    Index { index: usize, len: usize },
    /// The normalisation statistics do not fit the images' channel count.
    #[error("normalisation has {found} mean/std values, expected one per channel ({expected})")]
    Normalisation { expected: usize, found: usize },
    /// The data set would not fit in the memory available.
    #[error("{path}: out of memory: {what}")]
    OutOfMemory { path: PathBuf, what: String },
    /// Building a tensor failed.
    #[error("tensor construction failed: {0}")]
    Tensor(candle_core::Error),
}

impl From<candle_core::Error> for DataError {
    fn from(e: candle_core::Error) -> Self {
        Self::Tensor(e)
    }
}

impl DataError {
    pub(crate) fn io(path: &Path, error: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    pub(crate) fn format(path: &Path, what: impl Into<String>) -> Self {
        Self::Format {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }

    pub(crate) fn missing(path: &Path, hint: impl Into<String>) -> Self {
        Self::Missing {
            path: path.to_path_buf(),
            hint: hint.into(),
        }
    }

    pub(crate) fn mismatch(first: &Path, second: &Path, what: impl Into<String>) -> Self {
        Self::Mismatch {
            first: first.to_path_buf(),
            second: second.to_path_buf(),
            what: what.into(),
        }
    }
}

/// Reads a whole file, transparently un-gzipping it when it starts with the gzip magic bytes.
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    if raw.len() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
        gunzip(&raw, path)
    } else {
        Ok(raw)
    }
}

/// Decompresses gzip bytes; `path` only names the source in errors.
pub(crate) fn gunzip(raw: &[u8], path: &Path) -> Result<Vec<u8>, DataError> {
    use std::io::Read;
    // A file that inflates past the memory available is refused, not allowed to abort us.
    let limit = crate::nas::memory::available_bytes().unwrap_or(u64::MAX);
    let mut out = Vec::with_capacity(raw.len().saturating_mul(4));
    flate2::read::MultiGzDecoder::new(raw)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| {
            DataError::format(
                path,
                format!(
                    "invalid gzip data after {} decompressed bytes: {e}",
                    out.len()
                ),
            )
        })?;
    if out.len() as u64 >= limit {
        return Err(DataError::OutOfMemory {
            path: path.to_path_buf(),
            what: format!(
                "inflates past the {} of memory available",
                crate::nas::memory::human_bytes(limit)
            ),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn reads_plain_and_gzip_alike() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.bin");
        std::fs::write(&plain, b"\x00\x01hello").unwrap();
        let packed = dir.path().join("a.bin.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"\x00\x01hello").unwrap();
        std::fs::write(&packed, enc.finish().unwrap()).unwrap();
        assert_eq!(
            read_maybe_gz(&plain).unwrap(),
            read_maybe_gz(&packed).unwrap()
        );
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone.bin");
        let e = read_maybe_gz(&gone).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: ", gone.display())), "{e}");
        let broken = dir.path().join("broken.gz");
        std::fs::write(&broken, [0x1f, 0x8b, 8, 0, 1, 2, 3]).unwrap();
        let e = read_maybe_gz(&broken).unwrap_err().to_string();
        assert!(e.contains("broken.gz") && e.contains("invalid gzip"), "{e}");
        let e = DataError::format(Path::new("x.idx"), "bad magic").to_string();
        assert_eq!(e, "x.idx: bad magic");
    }
}
