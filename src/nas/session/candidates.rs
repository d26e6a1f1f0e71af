//! `candidates.csv`: one row per scored candidate, `round,candidate,accuracy,params,flops`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::nas::error::NasError;

pub const HEADER: &str = "round,candidate,accuracy,params,flops";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateRow {
    pub round: usize,
    pub candidate: String,
    /// Validation accuracy in percent.
    pub accuracy: f32,
    pub params: u64,
    pub flops: u64,
}

pub fn to_csv(rows: &[CandidateRow]) -> String {
    let mut out = String::with_capacity(64 * (rows.len() + 1));
    out.push_str(HEADER);
    out.push('\n');
    for r in rows {
        out.push_str(&format!(
            "{},{},{:.4},{},{}\n",
            r.round,
            quote(&r.candidate),
            r.accuracy,
            r.params,
            r.flops
        ));
    }
    out
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Reads the file; on a bad line, returns the rows before it and an error naming the line.
pub fn read(path: &Path) -> (Vec<CandidateRow>, Option<NasError>) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), None),
        Err(e) => return (Vec::new(), Some(NasError::io(path, e))),
    };
    let mut rows = Vec::new();
    let mut lines = text.lines();
    match lines.next() {
        None => return (rows, None),
        Some(h) if h.trim() == HEADER => {}
        Some(h) => {
            let why = format!("line 1: expected header `{HEADER}`, found `{h}`");
            return (rows, Some(NasError::file(path, why)));
        }
    }
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_row(line) {
            Ok(r) => rows.push(r),
            Err(why) => {
                let e = NasError::file(path, format!("line {}: {why}", i + 2));
                return (rows, Some(e));
            }
        }
    }
    (rows, None)
}

fn parse_row(line: &str) -> Result<CandidateRow, String> {
    // The candidate field may be quoted; the numeric fields never are.
    let (round, rest) = line
        .split_once(',')
        .ok_or("expected 5 comma-separated fields")?;
    let mut tail: Vec<&str> = rest.rsplitn(4, ',').collect();
    if tail.len() != 4 {
        return Err("expected 5 comma-separated fields".into());
    }
    tail.reverse();
    let candidate = tail[0].trim();
    let candidate = match candidate
        .strip_prefix('"')
        .and_then(|c| c.strip_suffix('"'))
    {
        Some(inner) => inner.replace("\"\"", "\""),
        None => candidate.to_string(),
    };
    let num = |field: &str, what: &str| -> Result<f64, String> {
        field
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("{what}: `{field}` is not a number"))
    };
    Ok(CandidateRow {
        round: round
            .trim()
            .parse()
            .map_err(|_| format!("round: `{round}` is not a whole number"))?,
        candidate,
        accuracy: num(tail[1], "accuracy")? as f32,
        params: num(tail[2], "params")? as u64,
        flops: num(tail[3], "flops")? as u64,
    })
}
