//! The candidate table's rows and their order: one plain row per candidate, kept up to date
//! from `CandidateUpdated` and removed components (never by scanning every candidate), and
//! the order shown (filtered by the candidate string, optionally only the selection, sorted
//! by a column). The order is a pure function of a snapshot, so it can run on a thread.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bevy::prelude::*;

use super::chunks::ChunkedRows;

use crate::nas::signals::Signals;

/// One candidate as the table shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub entity: Entity,
    pub key: Arc<str>,
    /// Shared-weight accuracy in percent (`None`: not scored).
    pub accuracy: Option<f32>,
    pub signals: Signals,
    pub params: u64,
    pub flops: u64,
    pub round: usize,
}

/// A column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Candidate,
    Accuracy,
    LiveParams,
    Synflow,
    Naswot,
    Params,
    Flops,
    Round,
}

impl Column {
    pub const ALL: [Column; 8] = [
        Column::Candidate,
        Column::Accuracy,
        Column::LiveParams,
        Column::Synflow,
        Column::Naswot,
        Column::Params,
        Column::Flops,
        Column::Round,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Candidate => "candidate",
            Column::Accuracy => "accuracy",
            Column::LiveParams => "live params",
            Column::Synflow => "synflow",
            Column::Naswot => "NASWOT",
            Column::Params => "params",
            Column::Flops => "FLOPs",
            Column::Round => "round",
        }
    }

    /// The row's number in this column (`None`: unknown, or the string column).
    fn number(self, row: &Row) -> Option<f64> {
        let v = match self {
            Column::Candidate => return None,
            Column::Accuracy => f64::from(row.accuracy?),
            Column::LiveParams => row.signals.live_params,
            Column::Synflow => row.signals.synflow,
            Column::Naswot => row.signals.naswot,
            Column::Params => row.params as f64,
            Column::Flops => row.flops as f64,
            Column::Round => row.round as f64,
        };
        (!v.is_nan()).then_some(v)
    }

    /// The cell's text.
    pub fn text(self, row: &Row) -> String {
        let Some(v) = self.number(row) else {
            return match self {
                Column::Candidate => row.key.to_string(),
                _ => "–".into(),
            };
        };
        match self {
            Column::Accuracy => format!("{v:.2}%"),
            Column::Params | Column::LiveParams | Column::Flops => count(v),
            Column::Round => format!("{v:.0}"),
            _ => format!("{v:.3}"),
        }
    }
}

/// 1234567 -> "1.23M", 4321 -> "4.32k".
fn count(v: f64) -> String {
    match v.abs() {
        a if a >= 1e9 => format!("{:.2}G", v / 1e9),
        a if a >= 1e6 => format!("{:.2}M", v / 1e6),
        a if a >= 1e3 => format!("{:.2}k", v / 1e3),
        _ => format!("{v:.0}"),
    }
}

/// What the rows are ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: Column,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Self {
            column: Column::Accuracy,
            descending: true,
        }
    }
}

/// The rows the table shows, in order: indices into the snapshot they were computed from, and
/// the position of the first selected row.
#[derive(Debug, Clone, Default)]
pub struct Order {
    pub rows: ChunkedRows,
    pub shown: Vec<u32>,
    pub first_selected: Option<usize>,
}

/// The rows of `rows` whose string contains `filter` (ignoring case), only the `selected` ones
/// when `only_selected`, sorted by `sort`; unknown values last in either direction, ties by
/// string.
pub fn order(
    rows: ChunkedRows,
    sort: Sort,
    filter: &str,
    selected: &HashSet<Entity>,
    only_selected: bool,
) -> Order {
    let needle = filter.trim().to_lowercase();
    let mut shown: Vec<u32> = (0..rows.len() as u32)
        .filter(|&i| {
            let row = &rows[i as usize];
            (!only_selected || selected.contains(&row.entity))
                && (needle.is_empty() || row.key.to_lowercase().contains(&needle))
        })
        .collect();
    let by_key = |a: &Row, b: &Row| a.key.cmp(&b.key);
    shown.sort_by(|&a, &b| {
        let (a, b) = (&rows[a as usize], &rows[b as usize]);
        let primary = match sort.column {
            Column::Candidate => by_key(a, b),
            column => match (column.number(a), column.number(b)) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                (Some(_), None) => return Ordering::Less,
                (None, Some(_)) => return Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
        };
        let primary = if sort.descending {
            primary.reverse()
        } else {
            primary
        };
        primary.then_with(|| by_key(a, b))
    });
    let first_selected = shown
        .iter()
        .position(|&i| selected.contains(&rows[i as usize].entity));
    Order {
        rows,
        shown,
        first_selected,
    }
}

/// The live rows, one per candidate entity, and a version that changes with them.
#[derive(Debug, Default)]
pub struct LiveRows {
    pub rows: ChunkedRows,
    row_of: HashMap<Entity, usize>,
    pub version: u64,
}

impl LiveRows {
    /// Adds or replaces the row of `row.entity`.
    pub fn upsert(&mut self, row: Row) {
        match self.row_of.get(&row.entity) {
            Some(&i) => {
                if self.rows[i] != row {
                    self.rows.set(i, row);
                    self.version += 1;
                }
            }
            None => {
                self.row_of.insert(row.entity, self.rows.len());
                self.rows.push(row);
                self.version += 1;
            }
        }
    }

    /// Drops the row of `entity`, if there is one.
    pub fn remove(&mut self, entity: Entity) {
        let Some(i) = self.row_of.remove(&entity) else {
            return;
        };
        self.rows.swap_remove(i);
        if let Some(moved) = self.rows.get(i) {
            let moved = moved.entity;
            self.row_of.insert(moved, i);
        }
        self.version += 1;
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}
