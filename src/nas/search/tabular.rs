//! Tabular benchmark mode: strategies scored from a table of true accuracies (e.g. the
//! NAS-Bench-201 CSVs) instead of a supernet, to compare how fast each finds the optimum.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::strategy::{Search, StrategyKind};
use crate::nas::error::NasError;
use crate::nas::space::{Candidate, SuperGraph, TemplateSpec};

/// Candidate string -> true score, read from one key column and one score column of a CSV.
#[derive(Debug, Clone)]
pub struct Table {
    pub scores: HashMap<String, f32>,
    /// The highest score in the table.
    pub optimum: f32,
    pub path: PathBuf,
}

/// How one strategy did at one budget, over seeds 0..seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetResult {
    pub strategy: String,
    pub queries: usize,
    pub seeds: usize,
    pub median_best: f32,
    pub min_best: f32,
    pub max_best: f32,
    pub optimum: f32,
}

impl BudgetResult {
    /// Summarises the best score found per seed.
    pub fn from_bests(strategy: &str, queries: usize, bests: &[f32], optimum: f32) -> Self {
        let mut sorted = bests.to_vec();
        sorted.sort_by(f32::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => f32::NAN,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Self {
            strategy: strategy.to_string(),
            queries,
            seeds: n,
            median_best: median,
            min_best: sorted.first().copied().unwrap_or(f32::NAN),
            max_best: sorted.last().copied().unwrap_or(f32::NAN),
            optimum,
        }
    }

    /// How far the median best is below the table's optimum.
    pub fn median_gap(&self) -> f32 {
        self.optimum - self.median_best
    }
}

/// The template whose candidate strings the NAS-Bench-201 tables use (C=16, N=5, CIFAR).
pub fn nb201_graph() -> SuperGraph {
    TemplateSpec::Nb201 {
        channels: 16,
        cells: 5,
    }
    .build((3, 32, 32), 10)
}

impl Table {
    /// Reads `key_column` and `score_column` of the CSV at `path`.
    pub fn load(path: &Path, key_column: &str, score_column: &str) -> Result<Table, NasError> {
        let bytes = std::fs::read(path)
            .map_err(|e| NasError::file(path, format!("cannot read the table: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
            NasError::file(path, format!("line {line}: not UTF-8 text"))
        })?;
        Self::parse(&text, path, key_column, score_column)
    }

    /// Parses CSV `text`; `path` is only used in messages and kept in the table.
    pub fn parse(
        text: &str,
        path: &Path,
        key_column: &str,
        score_column: &str,
    ) -> Result<Table, NasError> {
        let err = |what: String| NasError::file(path, what);
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let rows = parse_csv(text).map_err(|(line, what)| err(format!("line {line}: {what}")))?;
        let Some((_, header)) = rows.first() else {
            return Err(err(
                "empty file: expected a header line of column names".into()
            ));
        };
        let header: Vec<&str> = header.iter().map(|h| h.trim()).collect();
        let column = |name: &str| {
            header.iter().position(|h| *h == name).ok_or_else(|| {
                err(format!(
                    "no column `{name}` in the header on line 1 (columns: {})",
                    header.join(", ")
                ))
            })
        };
        let (k, s) = (column(key_column)?, column(score_column)?);
        let mut found: HashMap<String, (f32, usize)> = HashMap::new();
        for (line, fields) in &rows[1..] {
            if fields.len() != header.len() {
                return Err(err(format!(
                    "line {line}: expected {} fields as in the header, found {}",
                    header.len(),
                    fields.len()
                )));
            }
            let key = fields[k].trim();
            if key.is_empty() {
                return Err(err(format!(
                    "line {line}, column {} (`{key_column}`): expected a candidate string, got an empty field",
                    k + 1
                )));
            }
            let raw = fields[s].trim();
            let score = match raw.parse::<f32>() {
                Ok(v) if v.is_finite() => v,
                _ => {
                    return Err(err(format!(
                        "line {line}, column {} (`{score_column}`): expected a finite number, got `{raw}`",
                        s + 1
                    )))
                }
            };
            if let Some((_, first)) = found.get(key) {
                return Err(err(format!(
                    "line {line}: duplicate key `{key}` in column `{key_column}` (first on line {first})"
                )));
            }
            found.insert(key.to_string(), (score, *line));
        }
        if found.is_empty() {
            return Err(err("no data rows below the header".into()));
        }
        let scores: HashMap<String, f32> = found.into_iter().map(|(k, (v, _))| (k, v)).collect();
        let optimum = scores.values().copied().fold(f32::NEG_INFINITY, f32::max);
        Ok(Table {
            scores,
            optimum,
            path: path.to_path_buf(),
        })
    }

    /// The true score of `candidate`; an error names its string when the table lacks it.
    pub fn score(&self, graph: &SuperGraph, candidate: &Candidate) -> Result<f32, NasError> {
        let key = candidate.to_string(graph);
        self.scores.get(&key).copied().ok_or_else(|| {
            NasError::file(
                &self.path,
                format!(
                    "no row for candidate `{key}` (is this a table for template `{}`?)",
                    graph.name
                ),
            )
        })
    }
}

/// A CSV record: the line it starts on and its fields.
type Record = (usize, Vec<String>);

/// Splits CSV text into (line of the record's start, fields). Handles quoted fields with
/// `""` escapes, commas and line breaks inside quotes, CRLF line ends; skips blank lines.
fn parse_csv(text: &str) -> Result<Vec<Record>, (usize, String)> {
    let mut rows = Vec::new();
    let (mut fields, mut field) = (Vec::new(), String::new());
    let (mut line, mut row_line) = (1, 1);
    let (mut in_quotes, mut quote_line) = (false, 1);
    let mut chars = text.chars().peekable();
    let end_row = |fields: &mut Vec<String>, rows: &mut Vec<_>, row_line: usize| {
        let row = std::mem::take(fields);
        if !(row.len() == 1 && row[0].trim().is_empty()) {
            rows.push((row_line, row));
        }
    };
    while let Some(c) = chars.next() {
        match (in_quotes, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => in_quotes = false,
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                in_quotes = true;
                quote_line = line;
            }
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                end_row(&mut fields, &mut rows, row_line);
                line += 1;
                row_line = line;
            }
            (_, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
        }
    }
    if in_quotes {
        return Err((quote_line, "a quoted field is never closed".into()));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        end_row(&mut fields, &mut rows, row_line);
    }
    Ok(rows)
}

/// The best true score found within `queries` asks, for each seed in `0..seeds`.
pub fn run_tabular(
    graph: &SuperGraph,
    table: &Table,
    kind: &StrategyKind,
    queries: usize,
    seeds: usize,
) -> Result<Vec<f32>, NasError> {
    if queries == 0 || seeds == 0 {
        return Err(NasError::Config(format!(
            "tabular run: queries and seeds must be at least 1, got {queries} and {seeds}"
        )));
    }
    (0..seeds as u64)
        .map(|seed| {
            let mut search = Search::new(graph, kind.clone(), seed)?;
            let mut best = f32::NEG_INFINITY;
            for _ in 0..queries {
                let Some(candidate) = search.ask() else { break };
                let score = table.score(graph, &candidate)?;
                best = best.max(score);
                search.tell(candidate, score);
            }
            Ok(best)
        })
        .collect()
}
