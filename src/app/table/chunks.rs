//! The table's rows in shared chunks: a snapshot for the ordering thread is a copy of one
//! pointer per 4,096 rows, and changing a row copies at most its own chunk (only when a
//! snapshot still holds it), so no frame copies every row however many candidates there are.

use std::ops::Index;
use std::sync::Arc;

use super::rows::Row;

/// Rows per shared chunk.
pub const CHUNK_ROWS: usize = 4096;

/// A growable list of rows stored as shared chunks of [`CHUNK_ROWS`]; `clone` is a snapshot.
#[derive(Debug, Clone, Default)]
pub struct ChunkedRows {
    chunks: Vec<Arc<Vec<Row>>>,
    len: usize,
}

impl ChunkedRows {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> Option<&Row> {
        (i < self.len).then(|| &self.chunks[i / CHUNK_ROWS][i % CHUNK_ROWS])
    }

    /// Replaces row `i` (which must exist), copying its chunk if a snapshot shares it.
    pub fn set(&mut self, i: usize, row: Row) {
        assert!(i < self.len, "row {i} of {}", self.len);
        Arc::make_mut(&mut self.chunks[i / CHUNK_ROWS])[i % CHUNK_ROWS] = row;
    }

    pub fn push(&mut self, row: Row) {
        if self.len.is_multiple_of(CHUNK_ROWS) {
            self.chunks.push(Arc::new(Vec::with_capacity(CHUNK_ROWS)));
        }
        if let Some(last) = self.chunks.last_mut() {
            Arc::make_mut(last).push(row);
            self.len += 1;
        }
    }

    pub fn pop(&mut self) -> Option<Row> {
        let last = self.chunks.last_mut()?;
        let row = Arc::make_mut(last).pop();
        if last.is_empty() {
            self.chunks.pop();
        }
        self.len -= usize::from(row.is_some());
        row
    }

    /// Removes row `i`, putting the last row in its place (as `Vec::swap_remove`).
    pub fn swap_remove(&mut self, i: usize) -> Row {
        assert!(i < self.len, "row {i} of {}", self.len);
        let last = self.pop().expect("a row, since i < len");
        if i == self.len {
            return last;
        }
        let removed = self[i].clone();
        self.set(i, last);
        removed
    }
}

impl Index<usize> for ChunkedRows {
    type Output = Row;
    fn index(&self, i: usize) -> &Row {
        self.get(i)
            .unwrap_or_else(|| panic!("row {i} of {}", self.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy::prelude::Entity;

    fn row(n: u32) -> Row {
        Row {
            entity: Entity::from_raw_u32(n + 1).expect("an entity index"),
            key: format!("c{n}").into(),
            accuracy: Some(n as f32),
            signals: crate::nas::signals::Signals {
                live_params: f64::from(n),
                synflow: 1.0,
                naswot: 2.0,
            },
            params: u64::from(n),
            flops: 0,
            round: 1,
        }
    }

    #[test]
    fn chunked_rows_behave_as_a_vec_and_a_snapshot_keeps_its_rows() {
        let mut rows = ChunkedRows::default();
        let mut plain = Vec::new();
        for n in 0..(2 * CHUNK_ROWS as u32 + 10) {
            rows.push(row(n));
            plain.push(row(n));
        }
        let snapshot = rows.clone();
        rows.set(5, row(99_999));
        plain[5] = row(99_999);
        for i in [0, 7, CHUNK_ROWS, 2 * CHUNK_ROWS + 3] {
            assert_eq!(rows.swap_remove(i), plain.swap_remove(i));
        }
        assert_eq!(rows.len(), plain.len());
        assert!((0..plain.len()).all(|i| rows[i] == plain[i]));
        // The snapshot still holds the rows as they were when it was taken.
        assert_eq!(snapshot.len(), 2 * CHUNK_ROWS + 10);
        assert_eq!(snapshot[5], row(5));
        assert_eq!(snapshot[CHUNK_ROWS], row(CHUNK_ROWS as u32));
        while rows.pop().is_some() {}
        assert!(rows.is_empty() && rows.get(0).is_none());
    }
}
