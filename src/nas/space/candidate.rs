//! Candidates: one block chosen per decision, their canonical strings, sampling and costs.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::block::Cost;
use super::graph::{ShapeReport, StringFormat, SuperGraph};
use super::SpaceError;

/// NB201's decisions in the order of its string: nodes 1, 2, 3, each from lower nodes.
pub const NB201_DECISIONS: [&str; 6] = ["n1~0", "n2~0", "n2~1", "n3~0", "n3~1", "n3~2"];

/// One block index per decision of the super-graph (aligned with `SuperGraph::decisions`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Candidate {
    pub choices: Vec<usize>,
}

impl Candidate {
    /// The canonical string of this candidate in the super-graph's format.
    pub fn to_string(&self, g: &SuperGraph) -> String {
        match g.format {
            StringFormat::Nb201 => {
                let label = |name: &str| {
                    g.decision_index(name)
                        .and_then(|d| g.decisions[d].blocks.get(*self.choices.get(d)?))
                        .map_or("?", |b| b.label.as_str())
                };
                format!(
                    "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|",
                    label("n1~0"),
                    label("n2~0"),
                    label("n2~1"),
                    label("n3~0"),
                    label("n3~1"),
                    label("n3~2")
                )
            }
            StringFormat::Generic => g
                .decisions
                .iter()
                .zip(&self.choices)
                .filter(|(d, _)| d.blocks.len() > 1)
                .map(|(d, &c)| {
                    let label = d.blocks.get(c).map_or("?", |b| b.label.as_str());
                    format!("{}:{label}", d.name)
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// Parses a canonical string; decisions with a single block may be left out.
    pub fn parse(g: &SuperGraph, text: &str) -> Result<Self, SpaceError> {
        let text = text.trim();
        let bad = |why: String| SpaceError::BadCandidate {
            text: text.to_string(),
            why,
        };
        let pairs: Vec<(String, String)> = match g.format {
            StringFormat::Nb201 => parse_nb201(text).map_err(bad)?,
            StringFormat::Generic => text
                .split_whitespace()
                .map(|tok| {
                    tok.split_once(':')
                        .map(|(d, l)| (d.to_string(), l.to_string()))
                        .ok_or_else(|| bad(format!("`{tok}` is not of the form decision:block")))
                })
                .collect::<Result<_, _>>()?,
        };
        let mut choices: Vec<Option<usize>> = vec![None; g.decisions.len()];
        for (dname, label) in pairs {
            let d = g
                .decision_index(&dname)
                .ok_or_else(|| bad(format!("no decision `{dname}` in template {}", g.name)))?;
            if choices[d].is_some() {
                return Err(bad(format!("decision `{dname}` given twice")));
            }
            let decision = &g.decisions[d];
            let b = decision.index_of(&label).ok_or_else(|| {
                let known: Vec<_> = decision.blocks.iter().map(|b| b.label.as_str()).collect();
                bad(format!(
                    "decision `{dname}` has no block `{label}` (has: {})",
                    known.join(", ")
                ))
            })?;
            choices[d] = Some(b);
        }
        let choices = choices
            .into_iter()
            .enumerate()
            .map(|(d, c)| match c {
                Some(c) => Ok(c),
                None if g.decisions[d].blocks.len() == 1 => Ok(0),
                None => Err(bad(format!(
                    "decision `{}` is missing",
                    g.decisions[d].name
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { choices })
    }

    /// Whether every choice is enabled and every locked block is taken.
    pub fn check_allowed(&self, g: &SuperGraph) -> Result<(), SpaceError> {
        if self.choices.len() != g.decisions.len() {
            return Err(SpaceError::BadCandidate {
                text: format!("{:?}", self.choices),
                why: format!(
                    "has {} choices, template has {} decisions",
                    self.choices.len(),
                    g.decisions.len()
                ),
            });
        }
        for (d, &c) in g.decisions.iter().zip(&self.choices) {
            let why = match d.blocks.get(c) {
                None => Some(format!("decision `{}` has no block #{c}", d.name)),
                Some(b) if !b.enabled => {
                    Some(format!("block `{}` of `{}` is disabled", b.label, d.name))
                }
                Some(_) => match d.locked() {
                    Some(l) if l != c => {
                        Some(format!("`{}` is locked to `{}`", d.name, d.blocks[l].label))
                    }
                    _ => None,
                },
            };
            if let Some(why) = why {
                return Err(SpaceError::BadCandidate {
                    text: self.to_string(g),
                    why,
                });
            }
        }
        Ok(())
    }

    /// The network of this candidate alone: every decision keeps only its chosen block
    /// (enabled, unlocked), so the candidate in it chooses block 0 everywhere. Used by the
    /// trust probes, the final network and the export.
    pub fn alone(&self, g: &SuperGraph) -> Result<(SuperGraph, Candidate), SpaceError> {
        self.check_allowed(g)?;
        let mut only = g.clone();
        for (d, &choice) in only.decisions.iter_mut().zip(&self.choices) {
            let mut block = d.blocks[choice].clone();
            block.enabled = true;
            block.locked = false;
            d.blocks = vec![block];
        }
        only.validate()?;
        let zeros = Candidate {
            choices: vec![0; only.decisions.len()],
        };
        Ok((only, zeros))
    }

    /// Uniform single-path sampling over enabled blocks; locked blocks are always taken.
    pub fn sample(g: &SuperGraph, rng: &mut impl Rng) -> Self {
        let choices = g
            .decisions
            .iter()
            .map(|d| {
                if let Some(l) = d.locked() {
                    return l;
                }
                let enabled: Vec<usize> = d.enabled().map(|(i, _)| i).collect();
                if enabled.is_empty() {
                    0
                } else {
                    enabled[rng.random_range(0..enabled.len())]
                }
            })
            .collect();
        Self { choices }
    }

    /// Every allowed candidate, if there are at most `limit`.
    pub fn enumerate(g: &SuperGraph, limit: usize) -> Option<Vec<Self>> {
        if g.space_size() > limit as f64 {
            return None;
        }
        let options: Vec<Vec<usize>> = g
            .decisions
            .iter()
            .map(|d| match d.locked() {
                Some(l) => vec![l],
                None => d.enabled().map(|(i, _)| i).collect(),
            })
            .collect();
        let mut all = vec![Self { choices: vec![] }];
        for opts in &options {
            all = all
                .into_iter()
                .flat_map(|c| {
                    opts.iter().map(move |&o| {
                        let mut next = c.choices.clone();
                        next.push(o);
                        Self { choices: next }
                    })
                })
                .collect();
        }
        Some(all)
    }

    /// Parameters and FLOPs of this candidate (zero blocks cost nothing).
    pub fn cost(&self, g: &SuperGraph) -> Result<Cost, SpaceError> {
        self.cost_in(g, &g.infer_shapes()?)
    }

    /// The same, with the template's shape report computed once by the caller (scoring
    /// thousands of candidates needs the shape inference only once).
    pub fn cost_in(&self, g: &SuperGraph, report: &ShapeReport) -> Result<Cost, SpaceError> {
        let mut total = Cost::default();
        for (edge, costs) in &report.edge_costs {
            let d = g.edge_decision(*edge)?;
            let cost = self.choices.get(d).and_then(|&c| costs.get(c));
            let Some(cost) = cost else {
                return Err(SpaceError::BadCandidate {
                    text: format!("{:?}", self.choices),
                    why: format!("has no valid choice for decision #{d}"),
                });
            };
            total += *cost;
        }
        Ok(total)
    }
}

fn parse_nb201(text: &str) -> Result<Vec<(String, String)>, String> {
    let groups: Vec<&str> = text.split('+').collect();
    if groups.len() != 3 {
        return Err(format!(
            "expected 3 `+`-separated node groups, found {}",
            groups.len()
        ));
    }
    let mut out = Vec::new();
    for (node0, group) in groups.iter().enumerate() {
        let node = node0 + 1;
        let inner = group
            .strip_prefix('|')
            .and_then(|g| g.strip_suffix('|'))
            .ok_or_else(|| format!("node group `{group}` must start and end with `|`"))?;
        let ops: Vec<&str> = inner.split('|').collect();
        if ops.len() != node {
            return Err(format!(
                "node {node} needs {node} inputs, found {}",
                ops.len()
            ));
        }
        for (from, op) in ops.iter().enumerate() {
            let (name, src) = op
                .split_once('~')
                .ok_or_else(|| format!("`{op}` is not of the form op~k"))?;
            if src != from.to_string() {
                return Err(format!("`{op}`: expected input ~{from} at this place"));
            }
            out.push((format!("n{node}~{from}"), name.to_string()));
        }
    }
    Ok(out)
}
