//! The final network's report: the numbers (`report.json`) and the same numbers as markdown
//! (`report.md`): candidate, cost, shared-weight score, schedule, training curve, test
//! accuracy per class, the confusion matrix and the history of rounds.

use serde::{Deserialize, Serialize};

use crate::nas::export::ScoreDoc;
use crate::nas::ops::{OptimizerConfig, OptimizerKind};

pub const REPORT_FORMAT: &str = "nas-navigator final";
pub const REPORT_VERSION: u32 = 1;

/// How the network was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub epochs: usize,
    pub steps_per_epoch: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerConfig,
    /// Linear warm-up steps, then cosine annealing to 0 over all the epochs.
    pub warmup_steps: usize,
    pub augment: bool,
    pub seed: u64,
    pub train_images: usize,
    pub val_images: usize,
}

/// One epoch of the training curve (accuracies in percent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochPoint {
    /// 1-based.
    pub epoch: usize,
    pub train_loss: f32,
    pub train_accuracy: f32,
    pub val_loss: f32,
    pub val_accuracy: f32,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    pub secs: f64,
}

/// One class of the test evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassResult {
    pub class: usize,
    pub name: String,
    pub images: u64,
    pub correct: u64,
    /// Percent; `None` for a class with no test images.
    pub accuracy: Option<f32>,
}

/// The evaluation on the held-out split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// `test`, or `validation` for a data set without a test split.
    pub split: String,
    pub images: u64,
    pub correct: u64,
    /// Percent: `correct / images`, the diagonal's share of the confusion matrix.
    pub accuracy: f32,
    pub loss: f32,
    pub per_class: Vec<ClassResult>,
    /// `confusion[true][predicted]` image counts.
    pub confusion: Vec<Vec<u64>>,
}

/// `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinalReport {
    pub format: String,
    pub version: u32,
    pub candidate: String,
    pub session: String,
    pub dataset: String,
    pub params: u64,
    pub flops: u64,
    /// The session's shared-weight score for the candidate (validation accuracy, percent).
    pub shared_weight_score: Option<ScoreDoc>,
    pub schedule: Schedule,
    /// Seconds of training (all epochs, including those before a resume).
    pub training_secs: f64,
    /// The epoch training resumed after (0 when it ran in one go).
    pub resumed_after_epoch: usize,
    pub curve: Vec<EpochPoint>,
    pub test: TestResult,
    /// The history of rounds of the session, as indented lines.
    pub history: Vec<String>,
}

fn optimizer_text(o: &OptimizerConfig) -> String {
    let kind = match o.kind {
        OptimizerKind::Sgd { momentum, nesterov } => format!(
            "SGD (momentum {momentum}{})",
            if nesterov { ", Nesterov" } else { "" }
        ),
        OptimizerKind::AdamW { beta1, beta2, .. } => format!("AdamW (betas {beta1}, {beta2})"),
    };
    format!("{kind}, lr {}, weight decay {}", o.lr, o.weight_decay)
}

fn pct(v: Option<f32>) -> String {
    v.map_or("-".into(), |a| format!("{a:.2}%"))
}

/// `report.md`: the numbers of `report.json` as tables.
pub fn markdown(r: &FinalReport) -> String {
    let s = &r.schedule;
    let mut md = format!("# Final network: `{}`\n\n", r.candidate);
    md += &format!("- Session: `{}`\n- Data set: {}\n", r.session, r.dataset);
    md += &format!(
        "- **{} accuracy: {:.2}%** ({} of {} images; loss {:.4})\n",
        r.test.split, r.test.accuracy, r.test.correct, r.test.images, r.test.loss
    );
    md += &format!(
        "- Parameters: {}; FLOPs: {} ({:.2} MFLOPs)\n",
        r.params,
        r.flops,
        r.flops as f64 / 1e6
    );
    md += &match &r.shared_weight_score {
        Some(sc) => format!(
            "- Shared-weight score: {:.2}% (validation, round {})\n",
            sc.accuracy, sc.round
        ),
        None => "- Shared-weight score: not scored in the session\n".into(),
    };
    md += &format!("- Training time: {:.1} s", r.training_secs);
    if r.resumed_after_epoch > 0 {
        md += &format!(" (resumed after epoch {})", r.resumed_after_epoch);
    }
    md += "\n\n## Schedule\n\n";
    md += &format!(
        "From scratch (fresh weights, seed {}), {} epochs of {} steps, batch {}, on {} training \
         images ({} validation images).\n{}; {} warm-up steps then cosine to 0; augmentation {}; \
         batch norm in train mode while training.\n\n",
        s.seed,
        s.epochs,
        s.steps_per_epoch,
        s.batch_size,
        s.train_images,
        s.val_images,
        optimizer_text(&s.optimizer),
        s.warmup_steps,
        if s.augment { "on" } else { "off" }
    );
    md += "## Training curve\n\n![training and validation accuracy](curves.png)\n\n";
    md += "(blue: training accuracy, orange: validation accuracy)\n\n";
    md += "| epoch | train loss | train acc | val loss | val acc | lr | seconds |\n";
    md += "|---:|---:|---:|---:|---:|---:|---:|\n";
    for p in &r.curve {
        md += &format!(
            "| {} | {:.4} | {:.2}% | {:.4} | {:.2}% | {:.5} | {:.1} |\n",
            p.epoch, p.train_loss, p.train_accuracy, p.val_loss, p.val_accuracy, p.lr, p.secs
        );
    }
    md += &format!("\n## Per-class {} accuracy\n\n", r.test.split);
    md += "| class | name | images | correct | accuracy |\n|---:|---|---:|---:|---:|\n";
    for c in &r.test.per_class {
        md += &format!(
            "| {} | {} | {} | {} | {} |\n",
            c.class,
            c.name,
            c.images,
            c.correct,
            pct(c.accuracy)
        );
    }
    md += "\n## Confusion matrix\n\nRows: true class; columns: predicted class.\n\n";
    let n = r.test.confusion.len();
    md += &format!(
        "| true \\ predicted | {} |\n",
        (0..n)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(" | ")
    );
    md += &format!("|---|{}\n", "---:|".repeat(n));
    for (i, row) in r.test.confusion.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(u64::to_string).collect();
        md += &format!("| {i} | {} |\n", cells.join(" | "));
    }
    md += "\n## History of rounds\n\n```\n";
    for line in &r.history {
        md += line;
        md += "\n";
    }
    md += "```\n";
    md
}
