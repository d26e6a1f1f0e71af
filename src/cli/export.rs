//! `nas-navigator export`: writes one candidate of a session as a stand-alone network
//! (architecture, weights, a PyTorch module file and check data) into a folder.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::export::{export, ExportRequest};

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Session folder.
    #[arg(long)]
    pub session: PathBuf,
    /// `best` (highest score of the last round), `compose` (the highest-fitness block of
    /// every decision, from the last round's statistics) or a candidate string.
    #[arg(long, default_value = "best")]
    pub candidate: String,
    /// Output folder: architecture.json, weights.safetensors, model.py, check.safetensors.
    #[arg(long)]
    pub out: PathBuf,
    /// cpu or cuda.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Test images (and their logits) in check.safetensors.
    #[arg(long, default_value_t = 8)]
    pub check_images: usize,
}

pub fn run(args: ExportArgs) -> Result<()> {
    let req = ExportRequest {
        session: args.session,
        candidate: args.candidate,
        out: args.out,
        device: DeviceChoice::parse(&args.device)?,
        check_images: args.check_images,
    };
    let report = export(&req)?;
    let d = &report.doc;
    let score = match &d.score {
        Some(s) => format!("{:.2}% in round {}", s.accuracy, s.round),
        None => "not scored in the session".into(),
    };
    println!(
        "candidate {} ({score}; re-scored {:.2}%)",
        d.candidate, d.rescored_accuracy
    );
    println!(
        "{} parameters, {:.2} MFLOPs, {} weight tensors",
        d.params,
        d.flops as f64 / 1e6,
        d.keys.len()
    );
    for f in &report.files {
        println!("wrote {}", f.display());
    }
    Ok(())
}
