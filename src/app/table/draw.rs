//! Drawing the candidate table: the filter row, the sortable header and the rows, of which
//! only those in view are laid out (`ScrollArea::show_rows`), so 100,000 rows draw as fast
//! as twenty. Clicks become selection requests; nothing here scans every row.

use std::collections::HashSet;

use bevy_egui::egui;

use super::rows::{Column, Sort};
use super::TableData;
use crate::app::state::selection::{SelectionRequested, SetOp};

const ROW_HEIGHT: f32 = 18.0;
const NUMBER_WIDTH: f32 = 84.0;
const MIN_STRING_WIDTH: f32 = 180.0;

/// Each column's width: the numbers fixed, the string the rest.
fn widths(total: f32) -> Vec<f32> {
    let numbers = (Column::ALL.len() - 1) as f32 * NUMBER_WIDTH;
    Column::ALL
        .iter()
        .map(|c| match c {
            Column::Candidate => (total - numbers).max(MIN_STRING_WIDTH),
            _ => NUMBER_WIDTH,
        })
        .collect()
}

/// The cells of a row's rectangle, one per column.
fn cells(row: egui::Rect, widths: &[f32]) -> Vec<egui::Rect> {
    let mut x = row.min.x;
    widths
        .iter()
        .map(|w| {
            let cell =
                egui::Rect::from_min_size(egui::pos2(x, row.min.y), egui::vec2(*w, row.height()));
            x += w;
            cell
        })
        .collect()
}

/// Writes `text` in `cell`, clipped to it; numbers are right-aligned.
fn cell_text(ui: &egui::Ui, cell: egui::Rect, column: Column, text: String, colour: egui::Color32) {
    let font = egui::TextStyle::Body.resolve(ui.style());
    let painter = ui.painter().with_clip_rect(cell.intersect(ui.clip_rect()));
    let (anchor, pos) = match column {
        Column::Candidate => (
            egui::Align2::LEFT_CENTER,
            cell.left_center() + egui::vec2(4.0, 0.0),
        ),
        _ => (
            egui::Align2::RIGHT_CENTER,
            cell.right_center() - egui::vec2(6.0, 0.0),
        ),
    };
    painter.text(pos, anchor, text, font, colour);
}

/// The table, filling `ui`.
pub fn draw(ui: &mut egui::Ui, data: &mut TableData) -> Option<SelectionRequested> {
    let TableData { table, selection } = data;
    let table: &mut super::CandidateTable = table;
    ui.horizontal(|ui| {
        ui.label("Filter:");
        ui.add(
            egui::TextEdit::singleline(&mut table.filter)
                .hint_text("part of the candidate string")
                .desired_width(220.0),
        );
        ui.checkbox(&mut table.only_selected, "selected only");
        let shown = table.order.shown.len();
        ui.label(format!("{shown} of {} candidates", table.live.len()));
        if table.pending {
            ui.spinner();
        }
    });
    let widths = widths(ui.available_width());
    let total: f32 = widths.iter().sum();
    let (header, _) =
        ui.allocate_exact_size(egui::vec2(total, ROW_HEIGHT + 4.0), egui::Sense::hover());
    let strong = ui.visuals().strong_text_color();
    for (i, (cell, column)) in cells(header, &widths)
        .into_iter()
        .zip(Column::ALL)
        .enumerate()
    {
        let response = ui.interact(
            cell,
            ui.id().with(("table_header", i)),
            egui::Sense::click(),
        );
        if response.hovered() {
            ui.painter()
                .rect_filled(cell, 2.0, ui.visuals().widgets.hovered.weak_bg_fill);
        }
        let arrow = match table.sort {
            Sort {
                column: c,
                descending,
            } if c == column => {
                if descending {
                    " ⬇"
                } else {
                    " ⬆"
                }
            }
            _ => "",
        };
        cell_text(
            ui,
            cell,
            column,
            format!("{}{arrow}", column.title()),
            strong,
        );
        if response
            .on_hover_text("sort by this column (again: the other way)")
            .clicked()
        {
            table.sort = match table.sort {
                Sort {
                    column: c,
                    descending,
                } if c == column => Sort {
                    column,
                    descending: !descending,
                },
                // Scores read best first; strings and counts smallest first.
                _ => Sort {
                    column,
                    descending: matches!(
                        column,
                        Column::Accuracy | Column::Synflow | Column::Naswot
                    ),
                },
            };
        }
    }
    ui.separator();
    let mut area = egui::ScrollArea::vertical().auto_shrink([false, false]);
    if let Some(position) = table.scroll_to.take() {
        area = area.vertical_scroll_offset(position as f32 * ROW_HEIGHT);
    }
    table.drawn.clear();
    let text = ui.visuals().text_color();
    let selected_fill = ui.visuals().selection.bg_fill;
    let hovered_fill = ui.visuals().widgets.hovered.weak_bg_fill;
    let rows = table.order.rows.clone();
    let mut clicked = None;
    ui.scope(|ui| {
        ui.spacing_mut().item_spacing.y = 0.0;
        area.show_rows(ui, ROW_HEIGHT, table.order.shown.len(), |ui, range| {
            for &i in &table.order.shown[range] {
                let row = &rows[i as usize];
                let (rect, response) =
                    ui.allocate_exact_size(egui::vec2(total, ROW_HEIGHT), egui::Sense::click());
                if selection.current.contains(&row.entity) {
                    ui.painter().rect_filled(rect, 0.0, selected_fill);
                } else if response.hovered() {
                    ui.painter().rect_filled(rect, 0.0, hovered_fill);
                }
                for (cell, column) in cells(rect, &widths).into_iter().zip(Column::ALL) {
                    cell_text(ui, cell, column, column.text(row), text);
                }
                if response.clicked() {
                    clicked = Some(row.entity);
                }
                table.drawn.push((row.entity, rect));
            }
        });
    });
    let entity = clicked?;
    let add = ui.input(|i| i.modifiers.shift || i.modifiers.command || i.modifiers.ctrl);
    let op = if add { SetOp::Union } else { SetOp::Replace };
    table.own_click = true;
    Some(SelectionRequested::Entities(HashSet::from([entity]), op))
}
