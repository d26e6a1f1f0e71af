//! Seed inputs for the fuzz targets: small valid files of every format, built in code so
//! they always match the current format (the mutation fuzzer starts from these).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::nas::data::DatasetSpec;
use crate::nas::session::candidates::{to_csv, CandidateRow};
use crate::nas::session::{RoundRecord, SessionFile, SplitSpec, SESSION_VERSION};
use crate::nas::space::doc::TemplateDoc;
use crate::nas::space::{Candidate, TemplateSpec};
use crate::nas::trainer::protocol::EpochSummary;
use crate::nas::trainer::RoundConfig;

pub(super) const IDX_NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];
pub(super) const CIFAR_NAMES: [&str; 3] =
    ["data_batch_1.bin", "test_batch.bin", "batches.meta.txt"];
pub(super) const FOLDER_NAMES: [&str; 5] = [
    "train/a/0.png",
    "train/b/0.png",
    "train/b/1.jpg",
    "test/a/0.png",
    "test/b/0.png",
];
pub(super) const SESSION_NAMES: [&str; 3] = ["session.json", "template.json", "candidates.csv"];

fn idx(magic: u32, dims: &[u32], payload: Vec<u8>) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    dims.iter().for_each(|d| out.extend(d.to_be_bytes()));
    out.extend(payload);
    out
}

pub(super) fn idx_files() -> Vec<(String, Vec<u8>)> {
    let images = |n: u32| idx(0x803, &[n, 4, 4], (0..n * 16).map(|i| i as u8).collect());
    let labels = |n: u32| idx(0x801, &[n], (0..n).map(|i| (i % 3) as u8).collect());
    let bytes = [images(3), labels(3), images(2), labels(2)];
    IDX_NAMES.iter().map(|n| n.to_string()).zip(bytes).collect()
}

pub(super) fn cifar_files() -> Vec<(String, Vec<u8>)> {
    let records = |labels: &[u8]| {
        labels
            .iter()
            .flat_map(|&l| std::iter::once(l).chain((0..3072).map(|i| (i % 251) as u8)))
            .collect::<Vec<u8>>()
    };
    let meta = b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n".to_vec();
    let bytes = [records(&[0, 9]), records(&[3]), meta];
    CIFAR_NAMES
        .iter()
        .map(|n| n.to_string())
        .zip(bytes)
        .collect()
}

fn encoded(format: image::ImageFormat, value: u8) -> Vec<u8> {
    let img = image::GrayImage::from_pixel(4, 4, image::Luma([value]));
    let mut out = std::io::Cursor::new(Vec::new());
    // Encoding a 4x4 grey image into memory cannot fail; an empty file is a fine seed too.
    let _ = img.write_to(&mut out, format);
    out.into_inner()
}

pub(super) fn folder_files() -> Vec<(String, Vec<u8>)> {
    use image::ImageFormat::{Jpeg, Png};
    let bytes = [
        encoded(Png, 10),
        encoded(Png, 200),
        encoded(Jpeg, 180),
        encoded(Png, 20),
        encoded(Png, 220),
    ];
    FOLDER_NAMES
        .iter()
        .map(|n| n.to_string())
        .zip(bytes)
        .collect()
}

pub(super) fn session_files() -> Vec<(String, Vec<u8>)> {
    let spec = TemplateSpec::Chain {
        stages: 2,
        width: 4,
    };
    let g = spec.build((1, 8, 8), 10);
    let epoch = EpochSummary {
        round: 1,
        epoch: 0,
        train_loss: 2.0,
        train_accuracy: 20.0,
        val_loss: 2.1,
        val_accuracy: 19.0,
        duration_secs: 1.0,
        steps_per_s: 3.0,
    };
    let file = SessionFile {
        version: SESSION_VERSION,
        dataset: DatasetSpec::Digits,
        split: SplitSpec::default(),
        template_spec: Some(spec),
        rounds: vec![RoundRecord {
            round: 1,
            parent: None,
            config: RoundConfig::default(),
            template: TemplateDoc::from(&g),
            epochs_done: 1,
            epochs: vec![epoch],
            scored: 1,
            finished: false,
            summary: None,
            carry: None,
            edits: Vec::new(),
        }],
        pending_edits: Vec::new(),
        pending_parent: None,
        checkpoint: None,
    };
    let row = CandidateRow {
        round: 1,
        candidate: Candidate::sample(&g, &mut ChaCha8Rng::seed_from_u64(1)).to_string(&g),
        accuracy: 42.5,
        params: 1000,
        flops: 20000,
        signals: crate::nas::signals::Signals {
            live_params: 900.0,
            synflow: 12.5,
            naswot: 140.25,
        },
    };
    let bytes = [
        serde_json::to_vec_pretty(&file).unwrap_or_default(),
        TemplateDoc::to_json(&g).into_bytes(),
        to_csv(&[row]).into_bytes(),
    ];
    SESSION_NAMES
        .iter()
        .map(|n| n.to_string())
        .zip(bytes)
        .collect()
}

/// The seed inputs of `target` (for a file set: the selector byte, then one file).
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let files = match target {
        "idx" => idx_files(),
        "cifar" => cifar_files(),
        "folder" => folder_files(),
        "session" => session_files(),
        "template" => {
            return super::candidate_graphs()
                .iter()
                .map(|g| TemplateDoc::to_json(g).into_bytes())
                .collect()
        }
        "candidate" => {
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            return super::candidate_graphs()
                .iter()
                .flat_map(|g| {
                    (0..3)
                        .map(|_| Candidate::sample(g, &mut rng).to_string(g).into_bytes())
                        .collect::<Vec<_>>()
                })
                .collect();
        }
        _ => return Vec::new(),
    };
    files
        .into_iter()
        .enumerate()
        .map(|(i, (_, bytes))| std::iter::once(i as u8).chain(bytes).collect())
        .collect()
}
