//! The candidate table: one row per candidate with its string, scores (shared-weight
//! accuracy and the cheap signals), parameters, FLOPs and round; a click on a header sorts
//! by it (again: the other way), a text filter on the string, "selected only". Rows are
//! virtualised ([`draw`]). The rows follow the candidates incrementally ([`rows`]); the order
//! is recomputed only when the rows, the sort, the filter or the selection change, on a
//! thread when there are many rows. Linked both ways: a click on a row (Shift or Ctrl to
//! add) asks the selection to change; selected rows are highlighted, and a selection made
//! elsewhere scrolls the table to its first row.

mod chunks;
pub mod draw;
pub mod rows;

use std::collections::HashSet;
use std::sync::Arc;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::egui;

use self::chunks::ChunkedRows;
pub use self::draw::draw;
use self::rows::{order, LiveRows, Order, Row, Sort};
use crate::app::link::background::Background;
use crate::app::state::candidates::{
    apply_scored_candidates, Accuracy, CandidateNode, CandidateSignals, CandidateUpdated, Cost,
    ScoredInRound,
};
use crate::app::state::selection::{apply_selection_requests, Selection};

/// Up to this many rows the order is computed in the frame (a few milliseconds at most);
/// above, on the table's thread.
pub const ROWS_ORDERED_IN_FRAME: usize = 10_000;

/// What an order is computed from: rows version, sort, filter, only selected, selection
/// version.
type Asked = (u64, Sort, String, bool, u64);

/// An order job: its number, the rows snapshot, what to order by and the selection.
type OrderJob = (u64, ChunkedRows, Sort, String, Arc<HashSet<Entity>>, bool);

/// The table's own state.
#[derive(Resource, Default)]
pub struct CandidateTable {
    pub live: LiveRows,
    pub sort: Sort,
    pub filter: String,
    pub only_selected: bool,
    /// The rows shown, in order (the newest order computed).
    pub order: Order,
    /// An order is being computed on the thread.
    pub pending: bool,
    /// Scroll so that this position of the order is in view (once).
    pub scroll_to: Option<usize>,
    /// Each row drawn in the last frame, with its rectangle.
    pub drawn: Vec<(Entity, egui::Rect)>,
    /// The table itself asked for the next selection change (no scrolling then).
    pub(crate) own_click: bool,
    asked: Option<Asked>,
    jobs: u64,
    selection_version: u64,
    scroll_wanted: bool,
    worker: Option<Background<OrderJob, (u64, Order)>>,
    /// Rows whose entity had no components yet when it was announced, with the frames left
    /// to wait for them (spawned by commands not yet applied).
    retry: Vec<(Entity, u8)>,
}

/// What the table view reads and writes.
#[derive(SystemParam)]
pub struct TableData<'w> {
    pub table: ResMut<'w, CandidateTable>,
    pub selection: Res<'w, Selection>,
}

type RowQuery<'w, 's> = Query<
    'w,
    's,
    (
        &'static CandidateNode,
        &'static Accuracy,
        &'static CandidateSignals,
        &'static Cost,
        &'static ScoredInRound,
    ),
>;

/// Keeps one row per candidate, from the candidates announced or removed this frame.
pub fn track_rows(
    mut table: ResMut<CandidateTable>,
    mut updated: MessageReader<CandidateUpdated>,
    mut removed: RemovedComponents<CandidateNode>,
    candidates: RowQuery,
) {
    let table = &mut *table;
    for e in removed.read() {
        table.live.remove(e);
    }
    let announced = updated.read().map(|u| (u.0, 3));
    let waiting = std::mem::take(&mut table.retry);
    for (entity, tries) in waiting.into_iter().chain(announced) {
        match candidates.get(entity) {
            Ok((node, acc, signals, cost, round)) => table.live.upsert(Row {
                entity,
                key: node.key.as_str().into(),
                accuracy: acc.0,
                signals: signals.0,
                params: cost.params,
                flops: cost.flops,
                round: round.0,
            }),
            // An entity that never gets its components (despawned first) is dropped.
            Err(_) if tries > 1 => table.retry.push((entity, tries - 1)),
            Err(_) => {}
        }
    }
}

/// Recomputes the order when what it depends on changed: in the frame for a few rows, on the
/// table's thread for many (the newest job only); takes finished orders.
pub fn refresh_order(mut table: ResMut<CandidateTable>, selection: Res<Selection>) {
    let table = &mut *table;
    if selection.is_changed() {
        table.selection_version += 1;
        table.scroll_wanted = !std::mem::take(&mut table.own_click);
    }
    let finished: Vec<_> = match &table.worker {
        Some(w) => std::iter::from_fn(|| w.try_recv()).collect(),
        None => Vec::new(),
    };
    for outcome in finished {
        match outcome {
            Ok((n, order)) if n == table.jobs => {
                table.pending = false;
                table.set_order(order);
            }
            Ok(_) => {}
            Err(e) => {
                table.pending = false;
                error!("candidate table: {e}");
            }
        }
    }
    let asked: Asked = (
        table.live.version,
        table.sort,
        table.filter.clone(),
        table.only_selected,
        table.selection_version,
    );
    if table.asked.as_ref() == Some(&asked) {
        return;
    }
    // A snapshot: one pointer per chunk of rows, not a copy of every row.
    let rows = table.live.rows.clone();
    let chosen = Arc::new(selection.current.clone());
    table.jobs += 1;
    if rows.len() <= ROWS_ORDERED_IN_FRAME {
        let order = order(
            rows,
            table.sort,
            &table.filter,
            &chosen,
            table.only_selected,
        );
        table.set_order(order);
        table.pending = false;
    } else {
        let worker = table.worker.get_or_insert_with(|| {
            Background::latest(
                "table",
                |(n, rows, sort, filter, chosen, only): OrderJob| {
                    Ok((n, order(rows, sort, &filter, &chosen, only)))
                },
            )
        });
        let job = (
            table.jobs,
            rows,
            table.sort,
            table.filter.clone(),
            chosen,
            table.only_selected,
        );
        if worker.submit(job).is_err() {
            // The thread is gone: try again next frame.
            return;
        }
        table.pending = true;
    }
    table.asked = Some(asked);
}

impl CandidateTable {
    fn set_order(&mut self, order: Order) {
        if std::mem::take(&mut self.scroll_wanted) {
            self.scroll_to = order.first_selected;
        }
        self.order = order;
    }

    /// The entities of the rows shown, in order.
    pub fn shown_entities(&self) -> Vec<Entity> {
        let rows = &self.order.rows;
        self.order
            .shown
            .iter()
            .map(|&i| rows[i as usize].entity)
            .collect()
    }
}

pub struct CandidateTablePlugin;

impl Plugin for CandidateTablePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<CandidateTable>().add_systems(
            Update,
            (
                track_rows.after(apply_scored_candidates),
                refresh_order.after(apply_selection_requests),
            )
                .chain(),
        );
    }
}
