//! The Lego view alone on a built template, with no engine and no scene: accepted edits
//! change the local template at once, refused ones show their reason in the editor; with
//! `--out FILE` the final template is written as JSON (the `TemplateDoc` format) when the
//! window closes.
//!
//! `cargo run --example lego_alone -- [--template chain|nb201|resnet] [--out FILE]`

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bevy::prelude::*;
use bevy_egui::{egui, EguiContexts, EguiPrimaryContextPass, PrimaryEguiContext};
use clap::Parser;
use nas_navigator::app::lego::{self, LegoPlugin};
use nas_navigator::app::link::CommandRequested;
use nas_navigator::app::state::candidates::TemplateGraph;
use nas_navigator::app::state::lego_state::LegoState;
use nas_navigator::nas::search::autopilot::EditAuthor;
use nas_navigator::nas::space::doc::TemplateDoc;
use nas_navigator::nas::space::templates::TemplateSpec;
use nas_navigator::nas::space::SuperGraph;
use nas_navigator::nas::trainer::Command;

#[derive(Parser, Debug)]
#[command(about = "The NAS-Navigator Lego view alone (no engine)")]
struct Args {
    /// chain, nb201 or resnet.
    #[arg(long, default_value = "chain")]
    template: String,
    /// Write the final template here (JSON) when the window closes.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The template as last accepted, shared with `main` so it outlives the app.
#[derive(Resource, Clone)]
struct Latest(Arc<Mutex<SuperGraph>>);

fn main() -> AppExit {
    let args = Args::parse();
    let spec = match args.template.as_str() {
        "chain" => TemplateSpec::Chain {
            stages: 4,
            width: 16,
        },
        "nb201" => TemplateSpec::Nb201 {
            channels: 16,
            cells: 5,
        },
        "resnet" => TemplateSpec::Resnet {
            stages: 4,
            width: 16,
        },
        other => {
            eprintln!("--template: expected chain, nb201 or resnet, got `{other}`");
            return AppExit::from_code(2);
        }
    };
    let graph = spec.build((1, 28, 28), 10);
    let latest = Latest(Arc::new(Mutex::new(graph.clone())));
    let exit = App::new()
        .add_plugins(DefaultPlugins.set(WindowPlugin {
            primary_window: Some(Window {
                title: format!("NAS-Navigator: Lego view ({})", spec.name()),
                resolution: bevy::window::WindowResolution::new(1280, 800),
                ..default()
            }),
            ..default()
        }))
        .add_plugins(bevy_egui::EguiPlugin::default())
        .insert_resource(bevy_egui::EguiGlobalSettings {
            auto_create_primary_context: false,
            ..default()
        })
        .add_plugins(LegoPlugin)
        .add_message::<CommandRequested>()
        .insert_resource(TemplateGraph(graph))
        .insert_resource(latest.clone())
        .add_systems(Startup, |mut commands: Commands| {
            commands.spawn((Camera2d, PrimaryEguiContext));
        })
        .add_systems(Update, apply_requests)
        .add_systems(EguiPrimaryContextPass, lego_ui)
        .run();
    if let Some(path) = &args.out {
        let graph = match latest.0.lock() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        match std::fs::write(path, TemplateDoc::to_json(&graph)) {
            Ok(()) => println!("template `{}` written to {}", graph.name, path.display()),
            Err(e) => {
                eprintln!("cannot write {}: {e}", path.display());
                return AppExit::from_code(1);
            }
        }
    }
    exit
}

/// The editor over the whole window, with a line saying what is being edited.
fn lego_ui(
    mut contexts: EguiContexts,
    graph: Res<TemplateGraph>,
    mut state: ResMut<LegoState>,
    mut requests: MessageWriter<CommandRequested>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let mut root = nas_navigator::app::shell::panels::root_ui(ctx);
    egui::Panel::top("lego_alone_title").show(&mut root, |ui| {
        ui.label(format!(
            "template `{}`: {} decisions, {:.0} candidates (no engine: edits apply here)",
            graph.0.name,
            graph.0.decisions.len(),
            graph.0.space_size()
        ));
    });
    egui::CentralPanel::default().show(&mut root, |ui| {
        if let Some(action) = lego::draw(ui, &graph.0, &mut state) {
            lego::apply_action(
                &graph.0,
                action,
                EditAuthor::Analyst,
                "edited in the Lego view alone",
                &mut state,
                &mut requests,
            );
        }
    });
    Ok(())
}

/// Applies what the editor sent to the "engine" to the local template.
fn apply_requests(
    mut requests: MessageReader<CommandRequested>,
    mut graph: ResMut<TemplateGraph>,
    mut state: ResMut<LegoState>,
    latest: Res<Latest>,
) {
    for CommandRequested(command) in requests.read() {
        match command {
            Command::SetTemplate(doc) => match doc.as_ref().clone().into_graph() {
                Ok(next) => {
                    if let Ok(mut slot) = latest.0.lock() {
                        *slot = next.clone();
                    }
                    graph.0 = next;
                    if let Some(m) = state.message.take() {
                        state.message = Some(m.replacen("sent to the engine", "applied", 1));
                    }
                }
                Err(e) => state.message = Some(format!("refused: {e}")),
            },
            Command::RecordEdits(records) => info!("{} edit(s) recorded", records.len()),
            other => info!("no engine here; ignored {other:?}"),
        }
    }
}
