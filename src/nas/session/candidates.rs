//! `candidates.csv`: one row per scored candidate,
//! `round,candidate,accuracy,params,flops,live_params,synflow,naswot`. Files written before
//! the signal columns existed (the first five columns only) still open; their signals are
//! unknown (NaN).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::nas::error::NasError;
use crate::nas::signals::Signals;

pub const HEADER: &str = "round,candidate,accuracy,params,flops,live_params,synflow,naswot";
/// The header of files written before the signal columns.
pub const HEADER_V1: &str = "round,candidate,accuracy,params,flops";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateRow {
    pub round: usize,
    pub candidate: String,
    /// Validation accuracy in percent.
    pub accuracy: f32,
    pub params: u64,
    pub flops: u64,
    #[serde(default)]
    pub signals: Signals,
}

pub fn to_csv(rows: &[CandidateRow]) -> String {
    let mut out = String::with_capacity(64 * (rows.len() + 1));
    out.push_str(HEADER);
    out.push('\n');
    for r in rows {
        out.push_str(&format!(
            "{},{},{:.4},{},{},{},{},{}\n",
            r.round,
            quote(&r.candidate),
            r.accuracy,
            r.params,
            r.flops,
            r.signals.live_params,
            r.signals.synflow,
            r.signals.naswot
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
    let fields = match lines.next() {
        None => return (rows, None),
        Some(h) if h.trim() == HEADER => 8,
        Some(h) if h.trim() == HEADER_V1 => 5,
        Some(h) => {
            let why = format!("line 1: expected header `{HEADER}`, found `{h}`");
            return (rows, Some(NasError::file(path, why)));
        }
    };
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_row(line, fields) {
            Ok(r) => rows.push(r),
            Err(why) => {
                let e = NasError::file(path, format!("line {}: {why}", i + 2));
                return (rows, Some(e));
            }
        }
    }
    (rows, None)
}

fn parse_row(line: &str, fields: usize) -> Result<CandidateRow, String> {
    let expected = || format!("expected {fields} comma-separated fields");
    // The candidate field may be quoted; the numeric fields never are.
    let (round, rest) = line.split_once(',').ok_or_else(expected)?;
    let mut tail: Vec<&str> = rest.rsplitn(fields - 1, ',').collect();
    if tail.len() != fields - 1 {
        return Err(expected());
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
    let signals = if fields == 8 {
        Signals {
            live_params: num(tail[4], "live_params")?,
            synflow: num(tail[5], "synflow")?,
            naswot: num(tail[6], "naswot")?,
        }
    } else {
        Signals::default()
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
        signals,
    })
}
