//! Exports one candidate of a session as a stand-alone network in a folder:
//! `architecture.json` (template of the chosen blocks, input, normalisation, cost, score),
//! `weights.safetensors` (the chosen blocks' shared weights, batch norms re-calibrated the way
//! scoring does), `model.py` (a plain PyTorch module) and `check.safetensors` (test images and
//! the logits the engine computes for them). Files appear all at once or not at all.

pub mod network;
pub mod pick;
pub mod torch_py;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use crate::nas::data::{make_batch, Dataset, ImageSet, Normalisation};
use crate::nas::device::DeviceChoice;
use crate::nas::error::{NasError, Result};
use crate::nas::ops::batchnorm::BN_EPS;
use crate::nas::ops::BnMode;
use crate::nas::session::{atomic, Session};
use crate::nas::space::Candidate;
use crate::nas::trainer::engine::Worker;
use crate::nas::trainer::score::ScoreBatches;
use crate::nas::trainer::{Engine, EngineSetup};
pub use network::{load, ExportDoc, Network, NormDoc, ScoreDoc};
pub use pick::{compose, pick, BEST, COMPOSE};

pub const ARCHITECTURE_FILE: &str = "architecture.json";
pub const WEIGHTS_FILE: &str = "weights.safetensors";
pub const MODEL_FILE: &str = "model.py";
pub const CHECK_FILE: &str = "check.safetensors";

/// What to export, from where, to where.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub session: PathBuf,
    /// `best` (the highest accuracy of the last round) or a candidate string.
    pub candidate: String,
    pub out: PathBuf,
    pub device: DeviceChoice,
    /// Test images in `check.safetensors`.
    pub check_images: usize,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct ExportReport {
    pub doc: ExportDoc,
    pub files: Vec<PathBuf>,
}

/// Re-calibrates `c`'s batch norms on the scoring batches, exactly as scoring does.
fn calibrate(worker: &Worker, c: &Candidate, batches: &ScoreBatches) -> Result<()> {
    if batches.calibration.is_empty() {
        return Ok(());
    }
    worker.supernet.begin_calibration(c);
    for (x, _) in &batches.calibration {
        worker.supernet.forward(x, c, BnMode::Calibrate)?;
    }
    worker.supernet.finish_calibration(c)
}

/// The first `n` test images (validation images if the data set has no test split).
pub(crate) fn check_inputs(
    data: &Dataset,
    val: &[usize],
    norm: &Normalisation,
    device: &Device,
    n: usize,
) -> Result<Tensor> {
    let (set, idx): (&ImageSet, Vec<usize>) = if data.test.is_empty() {
        (&data.train, val.iter().copied().take(n).collect())
    } else {
        (&data.test, (0..n.min(data.test.len())).collect())
    };
    if idx.is_empty() {
        return Err(NasError::Config(
            "no test or validation images for the check".into(),
        ));
    }
    Ok(make_batch(set, &idx, norm, None, device)?.0)
}

/// Exports `req.candidate` of `req.session` into `req.out`.
pub fn export(req: &ExportRequest) -> Result<ExportReport> {
    if !Session::exists(&req.session) {
        return Err(NasError::file(
            &req.session,
            format!(
                "no session here (expected {})",
                Session::session_path(&req.session).display()
            ),
        ));
    }
    let (session, _) = Session::open(&req.session)?;
    let (candidate, score) = pick(&session, &session.template()?, &req.candidate)?;
    if !session.weights_path().is_file() {
        return Err(NasError::file(
            session.weights_path(),
            "the session has no trained supernet yet; run a round first",
        ));
    }
    let weights_path = session.weights_path();
    let setup = EngineSetup::for_session(&session, req.device);
    let cfg = session
        .file
        .rounds
        .last()
        .map(|r| r.config.clone())
        .unwrap_or_default();
    drop(session);
    let worker = Worker::open(&setup, Engine::detached_control())?;
    // The worker's template is the session's; parse again against it to be sure.
    let (candidate, _) = match worker.session.as_ref() {
        Some(s) => pick(s, &worker.supernet.graph, &req.candidate)?,
        None => (candidate, None),
    };
    let batches = worker.score_batches(&cfg)?;
    let (_, rescored) = worker.evaluate(&candidate, &batches)?;
    calibrate(&worker, &candidate, &batches)?;
    let net = network::extract(&worker.supernet, &candidate)?;
    // After a template edit, new blocks start untrained; their weights are no export.
    let saved = network::saved_keys(&weights_path)?;
    if let Some(fresh) = net.keys().into_iter().find(|k| !saved.contains(k)) {
        return Err(NasError::file(
            &weights_path,
            format!(
                "`{fresh}` was never trained (block added after the last round); run a round first"
            ),
        ));
    }

    let inputs = check_inputs(
        &worker.data,
        &worker.split.val,
        &worker.norm,
        &worker.device,
        req.check_images.max(1),
    )?;
    let logits = net.forward(&inputs)?;
    let direct = worker.supernet.forward(&inputs, &candidate, BnMode::Eval)?;
    let diff = (&logits - &direct)?
        .abs()?
        .flatten_all()?
        .max(0)?
        .to_scalar::<f32>()?;
    if diff.is_nan() || diff > 1e-6 {
        return Err(NasError::Config(format!(
            "the extracted network differs from the supernet by {diff} (internal error)"
        )));
    }

    let (input_shape, classes, params, flops, keys) = network::describe(&net)?;
    let doc = ExportDoc {
        format: network::EXPORT_FORMAT.into(),
        version: network::EXPORT_VERSION,
        candidate: candidate.to_string(&worker.supernet.graph),
        template: crate::nas::space::doc::TemplateDoc::from(&net.graph),
        dataset: worker.data.name.clone(),
        input_shape,
        classes,
        normalisation: NormDoc {
            mean: worker.norm.mean.clone(),
            std: worker.norm.std.clone(),
            formula: "(pixel / 255 - mean) / std, per channel".into(),
        },
        params,
        flops,
        score,
        rescored_accuracy: rescored,
        bn_eps: BN_EPS,
        keys,
    };
    let files = write_folder(&req.out, |dir| {
        write_export_files(dir, &doc, &net, inputs, logits)
    })?;
    Ok(ExportReport { doc, files })
}

/// Fills a temp folder beside `out` with `fill` (which returns the names of the files it
/// wrote), then moves them in: the files appear all at once or not at all.
pub(crate) fn write_folder(
    out: &Path,
    fill: impl FnOnce(&Path) -> Result<Vec<String>>,
) -> Result<Vec<PathBuf>> {
    if out.exists() && !out.is_dir() {
        return Err(NasError::file(out, "exists and is not a folder"));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| NasError::io(&parent, e))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    let tmp = parent.join(format!(".{name}.export-{}.tmp", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = std::fs::create_dir_all(&tmp)
        .map_err(|e| NasError::io(&tmp, e))
        .and_then(|_| fill(&tmp))
        .and_then(|names| move_in(&tmp, out, &names));
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// Writes the four export files of `net` into `dir`; returns their names.
pub(crate) fn write_export_files(
    dir: &Path,
    doc: &ExportDoc,
    net: &Network,
    inputs: Tensor,
    logits: Tensor,
) -> Result<Vec<String>> {
    let json = serde_json::to_vec_pretty(doc)
        .map_err(|e| NasError::Config(format!("cannot serialise the architecture: {e}")))?;
    atomic::write(&dir.join(ARCHITECTURE_FILE), &json)?;
    let save = |tensors: &HashMap<String, Tensor>, file: &str| {
        let path = dir.join(file);
        candle_core::safetensors::save(tensors, &path)
            .map_err(|e| NasError::file(&path, format!("cannot write: {e}")))?;
        // Readable like the other files (the safetensors writer makes it owner-only).
        let perms = std::fs::metadata(dir.join(ARCHITECTURE_FILE))
            .map_err(|e| NasError::io(&path, e))?
            .permissions();
        std::fs::set_permissions(&path, perms).map_err(|e| NasError::io(&path, e))
    };
    save(&net.tensors(), WEIGHTS_FILE)?;
    let check = HashMap::from([
        ("inputs".to_string(), inputs),
        ("logits".to_string(), logits),
    ]);
    save(&check, CHECK_FILE)?;
    let py = torch_py::model_py(doc, &net.graph)?;
    atomic::write(&dir.join(MODEL_FILE), py.as_bytes())?;
    Ok([ARCHITECTURE_FILE, WEIGHTS_FILE, MODEL_FILE, CHECK_FILE]
        .map(String::from)
        .to_vec())
}

/// Renames the finished files into `out` (a new folder in one rename, else file by file).
fn move_in(tmp: &Path, out: &Path, names: &[String]) -> Result<Vec<PathBuf>> {
    let files = names.iter().map(|n| out.join(n)).collect();
    if !out.exists() {
        std::fs::rename(tmp, out).map_err(|e| NasError::io(out, e))?;
        return Ok(files);
    }
    for n in names {
        atomic::commit(&tmp.join(n), &out.join(n))?;
    }
    Ok(files)
}
