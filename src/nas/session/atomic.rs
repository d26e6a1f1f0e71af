//! Atomic file writes: write a temp file beside the target, flush it to disk, rename it over
//! the target. A crash leaves either the old file or the new one, never half of one.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::nas::error::{NasError, Result};

/// The temp path used for `path` (same folder, so the rename stays on one filesystem).
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let mut file = std::fs::File::create(&tmp).map_err(|e| NasError::io(&tmp, e))?;
    file.write_all(bytes).map_err(|e| NasError::io(&tmp, e))?;
    file.sync_all().map_err(|e| NasError::io(&tmp, e))?;
    drop(file);
    commit(&tmp, path)
}

/// Renames a finished temp file over `path`, syncing it first.
pub fn commit(tmp: &Path, path: &Path) -> Result<()> {
    if let Ok(f) = std::fs::File::open(tmp) {
        f.sync_all().map_err(|e| NasError::io(tmp, e))?;
    }
    std::fs::rename(tmp, path).map_err(|e| NasError::io(path, e))?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Serialises `value` as pretty JSON and writes it atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_vec_pretty(value)
        .map_err(|e| NasError::file(path, format!("cannot serialise: {e}")))?;
    write(path, &text)
}
