//! What every chart shares (all are egui_plot plots): the note an empty chart shows, the
//! point nearest the pointer, compact numbers for axis ticks, a colour per category, and the
//! training vs validation accuracy curves that both the charts and the final network draw.

use bevy_egui::egui;
use egui_plot::{
    uniform_grid_spacer, ColorConflictHandling, GridInput, HoverPosition, Legend, Line, Plot,
    PlotBounds, PlotPoint, PlotTransform, Points,
};

use super::palette::{TRAIN_COLOUR, VAL_COLOUR};
use super::regions::{record, Region};

/// How far (screen pixels) a click may land from a point and still pick it.
pub const PICK_PX: f32 = 8.0;

/// A framed area the width of `ui` with grey `text` in its middle: a chart with nothing to
/// show yet.
pub fn empty_chart(ui: &mut egui::Ui, height: f32, text: &str) {
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), height),
        egui::Sense::hover(),
    );
    record(ui, Region::Chart, rect);
    let painter = ui.painter_at(rect);
    painter.rect_stroke(
        rect,
        0.0,
        egui::Stroke::new(1.0, egui::Color32::GRAY),
        egui::StrokeKind::Inside,
    );
    painter.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        text,
        egui::FontId::default(),
        egui::Color32::GRAY,
    );
}

/// The egui id of the chart named `name`: the same wherever it is drawn (each chart is
/// drawn once a frame), so its zoom survives a change of layout, and a test finds its
/// transform in `egui_plot::PlotMemory`.
pub fn plot_id(name: &str) -> egui::Id {
    egui::Id::new(("nas_navigator_chart", name))
}

/// The chart named `name` with what every chart here shares: `height`, a legend in the top
/// left, zoom (Ctrl+wheel, or a box dragged with the right button), pan (drag) and a double
/// click to fit the data again; the plain wheel scrolls the view around the chart.
pub fn plot<'a>(name: &str, height: f32) -> Plot<'a> {
    Plot::new(name)
        .id(plot_id(name))
        .height(height)
        .legend(legend(egui_plot::Corner::LeftTop))
        .allow_zoom(true)
        .allow_drag(true)
        .allow_scroll(false)
        .allow_double_click_reset(true)
        .y_grid_spacer(uniform_grid_spacer(nice_steps))
        .y_axis_formatter(|mark, _| tick_label(mark.value, mark.step_size))
}

/// A tick's label with as many decimals as its step needs: egui_plot's own rounds the
/// decimals of a step of 0.05 down to one, so ticks at 0.45 and 0.5 both read "0.5".
pub fn tick_label(value: f64, step: f64) -> String {
    let decimals = if step > 0.0 && step.is_finite() {
        (-step.log10() - 1e-9).ceil().clamp(0.0, 15.0) as usize
    } else {
        0
    };
    // -0.0 reads as 0.
    let value = if value == 0.0 { 0.0 } else { value };
    format!("{value:.decimals$}")
}

/// The legend every chart shows, in `corner` (a chart whose data leave another corner free
/// puts it there: `plot(..).legend(legend(corner))`).
pub fn legend(corner: egui_plot::Corner) -> Legend {
    // An item's marker colour names it, over a bar or line of the same name.
    Legend::default()
        .position(corner)
        .color_conflict_handling(ColorConflictHandling::PickLast)
}

/// Grid steps of 1, 2 or 5 times a power of ten (egui_plot's default steps by powers of ten,
/// which leaves a short y axis with two or three labelled ticks): the finest at least
/// `base_step_size`, then the next two nice steps above it.
pub fn nice_steps(input: GridInput) -> [f64; 3] {
    let nice_at_least = |x: f64| {
        let power = 10f64.powf(x.log10().floor());
        [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * power)
            .find(|step| *step >= x * (1.0 - 1e-9))
            .unwrap_or(10.0 * power)
    };
    let finest = nice_at_least(input.base_step_size.max(f64::MIN_POSITIVE));
    let middle = nice_at_least(finest * 1.5);
    [finest, middle, nice_at_least(middle * 1.5)]
}

/// Records the plot's rect as a chart region (for the screenshots' checks).
pub fn record_chart(ui: &egui::Ui, response: &egui::Response) {
    record(ui, Region::Chart, response.rect);
}

/// The index of the point of `points` nearest `pointer` on the screen, if within `max_px`.
pub fn nearest_point(
    transform: &PlotTransform,
    pointer: egui::Pos2,
    points: &[PlotPoint],
    max_px: f32,
) -> Option<usize> {
    points
        .iter()
        .enumerate()
        .map(|(i, p)| (i, transform.position_from_point(p).distance_sq(pointer)))
        .filter(|(_, d)| d.is_finite() && *d <= max_px * max_px)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// Where a click on the plot landed this frame, if it did.
pub fn clicked_at(response: &egui::Response) -> Option<egui::Pos2> {
    if response.clicked() {
        response.interact_pointer_pos()
    } else {
        None
    }
}

/// `v` in few characters: 950, 12k, 3.4M, 1.2G.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    let (scaled, unit) = match a {
        _ if a >= 1e9 => (v / 1e9, "G"),
        _ if a >= 1e6 => (v / 1e6, "M"),
        _ if a >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    if scaled.abs() >= 100.0 || scaled.fract().abs() < 1e-9 {
        format!("{scaled:.0}{unit}")
    } else if scaled.abs() >= 10.0 {
        format!("{scaled:.1}{unit}")
    } else {
        format!("{scaled:.2}{unit}")
    }
}

/// The `i`-th of ten colours told apart easily, also by most colour-blind eyes (Tableau 10).
pub fn category_colour(i: usize) -> egui::Color32 {
    const TEN: [(u8, u8, u8); 10] = [
        (78, 121, 167),
        (242, 142, 43),
        (225, 87, 89),
        (118, 183, 178),
        (89, 161, 79),
        (237, 201, 72),
        (176, 122, 161),
        (255, 157, 167),
        (156, 117, 95),
        (186, 176, 172),
    ];
    let (r, g, b) = TEN[i % TEN.len()];
    egui::Color32::from_rgb(r, g, b)
}

/// Training and validation accuracy (%) per epoch, `x` the epoch's end on the x axis, as
/// two lines with markers; the y range follows the data. Returns the plot's bounds (`None`
/// when there is no epoch yet).
pub fn accuracy_curves(
    ui: &mut egui::Ui,
    id: &str,
    epochs: &[(f64, f32, f32)],
    x_label: &str,
    height: f32,
) -> Option<PlotBounds> {
    if epochs.is_empty() {
        empty_chart(ui, height, "no epoch yet");
        return None;
    }
    let series = |pick: fn(&(f64, f32, f32)) -> f32| -> Vec<[f64; 2]> {
        epochs.iter().map(|e| [e.0, f64::from(pick(e))]).collect()
    };
    let (train, val) = (series(|e| e.1), series(|e| e.2));
    let x_name = x_label.to_string();
    let response = plot(id, height)
        .x_axis_label(x_label)
        .y_axis_label("accuracy (%)")
        .y_axis_formatter(|mark, _| format!("{}%", mark.value))
        .label_formatter(move |pos: &HoverPosition<'_>| match pos {
            HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } => Some(format!(
                "{plot_name}\n{x_name} {}\n{:.2}%",
                position.x, position.y
            )),
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            for (name, points, colour) in [
                ("training", train, TRAIN_COLOUR),
                ("validation", val, VAL_COLOUR),
            ] {
                plot.line(Line::new(name, points.clone()).color(colour).width(2.0));
                plot.points(Points::new(name, points).color(colour).radius(3.0));
            }
        });
    record_chart(ui, &response.response);
    Some(*response.transform.bounds())
}

/// (training, validation) accuracy in percent per epoch (epochs 1, 2, ...): the final
/// network's curve.
pub fn accuracy_pairs(ui: &mut egui::Ui, pairs: &[(f32, f32)], height: f32) -> Option<PlotBounds> {
    let epochs: Vec<(f64, f32, f32)> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| ((i + 1) as f64, p.0, p.1))
        .collect();
    accuracy_curves(ui, "final_accuracy", &epochs, "epoch", height)
}
