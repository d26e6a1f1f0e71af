//! The history of a session's rounds: a tree (each round records the round it continued or
//! branched from), drawn as indented lines, and the difference between two rounds: blocks
//! added, removed, enabled or disabled between their templates, their score distributions
//! and their best candidates.

use std::collections::BTreeMap;
use std::fmt;

use super::Session;
use crate::nas::error::{NasError, Result};
use crate::nas::space::doc::TemplateDoc;
use crate::nas::space::SuperGraph;

/// Five-number summary (and mean) of a round's scores, in percent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreSummary {
    pub count: usize,
    pub min: f32,
    pub q1: f32,
    pub median: f32,
    pub q3: f32,
    pub max: f32,
    pub mean: f32,
}

impl ScoreSummary {
    /// `None` for no scores.
    pub fn of(scores: &[f32]) -> Option<Self> {
        if scores.is_empty() {
            return None;
        }
        let mut s = scores.to_vec();
        s.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f32| s[((s.len() - 1) as f32 * q).round() as usize];
        Some(Self {
            count: s.len(),
            min: s[0],
            q1: at(0.25),
            median: at(0.5),
            q3: at(0.75),
            max: s[s.len() - 1],
            mean: s.iter().sum::<f32>() / s.len() as f32,
        })
    }
}

/// What changed from round `a` to round `b`.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundDiff {
    pub a: usize,
    pub b: usize,
    /// `decision:block` present in `b`'s template only.
    pub added: Vec<String>,
    /// `decision:block` present in `a`'s template only.
    pub removed: Vec<String>,
    pub enabled: Vec<String>,
    pub disabled: Vec<String>,
    pub scores_a: Option<ScoreSummary>,
    pub scores_b: Option<ScoreSummary>,
    pub best_a: Option<(String, f32)>,
    pub best_b: Option<(String, f32)>,
}

/// Every block of a template with whether it is enabled, by `decision:block`.
fn blocks(doc: &TemplateDoc) -> Result<BTreeMap<String, bool>> {
    let g: SuperGraph = doc.clone().into_graph()?;
    Ok(g.decisions
        .iter()
        .flat_map(|d| {
            d.blocks
                .iter()
                .map(move |b| (format!("{}:{}", d.name, b.label), b.enabled))
        })
        .collect())
}

fn round_scores(session: &Session, round: usize) -> (Option<ScoreSummary>, Option<(String, f32)>) {
    let rows: Vec<_> = session.round_rows(round).collect();
    let scores: Vec<f32> = rows.iter().map(|r| r.accuracy).collect();
    let best = rows
        .iter()
        .max_by(|x, y| x.accuracy.total_cmp(&y.accuracy))
        .map(|r| (r.candidate.clone(), r.accuracy));
    (ScoreSummary::of(&scores), best)
}

/// The difference between rounds `a` and `b` of `session`.
pub fn diff(session: &Session, a: usize, b: usize) -> Result<RoundDiff> {
    let find = |n: usize| {
        session
            .file
            .rounds
            .iter()
            .find(|r| r.round == n)
            .ok_or_else(|| {
                NasError::Config(format!(
                    "{}: no round {n} (rounds 1 to {})",
                    session.dir.display(),
                    session.file.rounds.len()
                ))
            })
    };
    let (ra, rb) = (find(a)?, find(b)?);
    let (ba, bb) = (blocks(&ra.template)?, blocks(&rb.template)?);
    let added = bb
        .keys()
        .filter(|k| !ba.contains_key(*k))
        .cloned()
        .collect();
    let removed = ba
        .keys()
        .filter(|k| !bb.contains_key(*k))
        .cloned()
        .collect();
    let changed = |to: bool| -> Vec<String> {
        bb.iter()
            .filter(|(k, e)| ba.get(*k).is_some_and(|was| *was != to) && **e == to)
            .map(|(k, _)| k.clone())
            .collect()
    };
    let (scores_a, best_a) = round_scores(session, a);
    let (scores_b, best_b) = round_scores(session, b);
    Ok(RoundDiff {
        a,
        b,
        added,
        removed,
        enabled: changed(true),
        disabled: changed(false),
        scores_a,
        scores_b,
        best_a,
        best_b,
    })
}

impl fmt::Display for RoundDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "round {} -> round {}", self.a, self.b)?;
        for (label, list) in [
            ("added", &self.added),
            ("removed", &self.removed),
            ("enabled", &self.enabled),
            ("disabled", &self.disabled),
        ] {
            if !list.is_empty() {
                writeln!(f, "  {label}: {}", list.join(", "))?;
            }
        }
        if self.added.is_empty()
            && self.removed.is_empty()
            && self.enabled.is_empty()
            && self.disabled.is_empty()
        {
            writeln!(f, "  same blocks")?;
        }
        for (n, s, best) in [
            (self.a, &self.scores_a, &self.best_a),
            (self.b, &self.scores_b, &self.best_b),
        ] {
            match s {
                Some(s) => writeln!(
                    f,
                    "  round {n}: {} scored, min {:.2} q1 {:.2} median {:.2} q3 {:.2} max {:.2} mean {:.2}",
                    s.count, s.min, s.q1, s.median, s.q3, s.max, s.mean
                )?,
                None => writeln!(f, "  round {n}: nothing scored")?,
            }
            if let Some((c, acc)) = best {
                writeln!(f, "    best {acc:.2}%: {c}")?;
            }
        }
        Ok(())
    }
}

/// One round in the tree: its place (depth under its parent), a one-line summary and the
/// edits that led to it.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeRow {
    pub round: usize,
    pub parent: Option<usize>,
    pub depth: usize,
    pub finished: bool,
    pub summary: String,
    pub edits: Vec<String>,
}

/// The rounds as a tree, depth first, children in round order.
pub fn tree(session: &Session) -> Vec<TreeRow> {
    let rounds = &session.file.rounds;
    let mut children: BTreeMap<Option<usize>, Vec<usize>> = BTreeMap::new();
    for r in rounds {
        let parent = r.parent.filter(|p| rounds.iter().any(|x| x.round == *p));
        children.entry(parent).or_default().push(r.round);
    }
    let mut rows = Vec::new();
    let mut stack: Vec<(usize, usize)> = children
        .get(&None)
        .map(|v| v.iter().rev().map(|&r| (r, 0)).collect())
        .unwrap_or_default();
    while let Some((n, depth)) = stack.pop() {
        let Some(r) = rounds.iter().find(|x| x.round == n) else {
            continue;
        };
        let (scores, best) = round_scores(session, n);
        let status = if r.finished { "" } else { " (unfinished)" };
        let score = scores.map_or("nothing scored".to_string(), |s| {
            format!("{} scored, median {:.2}%", s.count, s.median)
        });
        let best = best.map_or(String::new(), |(_, a)| format!(", best {a:.2}%"));
        rows.push(TreeRow {
            round: n,
            parent: r.parent,
            depth,
            finished: r.finished,
            summary: format!(
                "round {n}{status}: {} epochs, {score}{best}",
                r.config.epochs
            ),
            edits: r
                .edits
                .iter()
                .map(|e| format!("{} {} ({})", e.author.word(), e.edit, e.reason))
                .collect(),
        });
        if let Some(kids) = children.get(&Some(n)) {
            stack.extend(kids.iter().rev().map(|&k| (k, depth + 1)));
        }
    }
    rows
}

/// The tree as indented text lines (edits under their round).
pub fn tree_lines(session: &Session) -> Vec<String> {
    let mut lines = Vec::new();
    for row in tree(session) {
        let indent = "  ".repeat(row.depth);
        lines.push(format!("{indent}{}", row.summary));
        lines.extend(row.edits.iter().map(|e| format!("{indent}  {e}")));
    }
    lines
}
