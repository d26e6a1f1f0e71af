//! Candidates: one choice per decision (a block, or a set of parallel blocks), their
//! canonical strings, sampling and costs.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::block::Cost;
use super::choice::{blocks_of, set_of};
use super::graph::{ShapeReport, StringFormat, SuperGraph};
use super::SpaceError;

/// NB201's decisions in the order of its string: nodes 1, 2, 3, each from lower nodes.
pub const NB201_DECISIONS: [&str; 6] = ["n1~0", "n2~0", "n2~1", "n3~0", "n3~1", "n3~2"];

/// One choice per decision of the super-graph (aligned with `SuperGraph::decisions`): a block
/// index, or a set of parallel blocks (see [`super::choice`]).
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
                        .and_then(|d| Some(g.decisions[d].choice_label(*self.choices.get(d)?)))
                        .unwrap_or_else(|| "?".into())
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
                .map(|(d, &c)| format!("{}:{}", d.name, d.choice_label(c)))
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
            choices[d] = Some(g.decisions[d].parse_choice(&label).map_err(bad)?);
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
            let mut why = None;
            for b in blocks_of(c) {
                why = why.or(match d.blocks.get(b) {
                    None => Some(format!("decision `{}` has no block #{b}", d.name)),
                    Some(x) if !x.enabled => {
                        Some(format!("block `{}` of `{}` is disabled", x.label, d.name))
                    }
                    Some(_) => None,
                });
            }
            why = why.or_else(|| match d.locked() {
                Some(l) if l != c => {
                    Some(format!("`{}` is locked to `{}`", d.name, d.blocks[l].label))
                }
                _ => None,
            });
            if why.is_none() && !d.options().contains(&c) {
                why = Some(match d.max_parallel {
                    1 => format!("`{}` takes one block at a time (max_parallel 1)", d.name),
                    m => format!(
                        "`{}` takes at most {m} blocks at once (max_parallel), never `none` \
                         among several",
                        d.name
                    ),
                });
            }
            if let Some(why) = why {
                return Err(SpaceError::BadCandidate {
                    text: self.to_string(g),
                    why,
                });
            }
        }
        Ok(())
    }

    /// The network of this candidate alone: every decision keeps only its chosen blocks
    /// (enabled, unlocked, all of them taken), so the candidate in it is
    /// [`Candidate::whole`]: block 0 everywhere where nothing is parallel. Used by the trust
    /// probes, the final network and the export.
    pub fn alone(&self, g: &SuperGraph) -> Result<(SuperGraph, Candidate), SpaceError> {
        self.check_allowed(g)?;
        let mut only = g.clone();
        for (d, &choice) in only.decisions.iter_mut().zip(&self.choices) {
            let mut blocks: Vec<_> = blocks_of(choice).map(|b| d.blocks[b].clone()).collect();
            for block in &mut blocks {
                block.enabled = true;
                block.locked = false;
            }
            d.max_parallel = blocks.len();
            d.blocks = blocks;
        }
        only.validate()?;
        let whole = Candidate::whole(&only)?;
        Ok((only, whole))
    }

    /// Every block of every decision at once: the only candidate of a network cut down by
    /// [`Candidate::alone`] (an export, a final network).
    pub fn whole(g: &SuperGraph) -> Result<Self, SpaceError> {
        let choices = g
            .decisions
            .iter()
            .map(|d| {
                let all: Vec<usize> = (0..d.blocks.len()).collect();
                set_of(&all).ok_or_else(|| SpaceError::BadParallel {
                    decision: d.name.clone(),
                    detail: format!("its {} blocks cannot all be taken at once", all.len()),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { choices })
    }

    /// Uniform single-path sampling over each decision's options (enabled blocks, and sets
    /// of them where parallel blocks are allowed); locked blocks are always taken.
    pub fn sample(g: &SuperGraph, rng: &mut impl Rng) -> Self {
        let choices = g
            .decisions
            .iter()
            .map(|d| {
                if let Some(l) = d.locked() {
                    return l;
                }
                let options = d.options();
                if options.is_empty() {
                    0
                } else {
                    options[rng.random_range(0..options.len())]
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
        let options: Vec<Vec<usize>> = g.decisions.iter().map(|d| d.options()).collect();
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

    /// Parameters and FLOPs of this candidate (zero blocks cost nothing; parallel blocks add).
    pub fn cost(&self, g: &SuperGraph) -> Result<Cost, SpaceError> {
        self.cost_in(g, &g.infer_shapes()?)
    }

    /// The same, with the template's shape report computed once by the caller (scoring
    /// thousands of candidates needs the shape inference only once).
    pub fn cost_in(&self, g: &SuperGraph, report: &ShapeReport) -> Result<Cost, SpaceError> {
        let mut total = Cost::default();
        for (edge, costs) in &report.edge_costs {
            let d = g.edge_decision(*edge)?;
            let Some(&choice) = self.choices.get(d) else {
                return Err(no_choice(self, d));
            };
            for b in blocks_of(choice) {
                total += *costs.get(b).ok_or_else(|| no_choice(self, d))?;
            }
        }
        Ok(total)
    }
}

fn no_choice(c: &Candidate, d: usize) -> SpaceError {
    SpaceError::BadCandidate {
        text: format!("{:?}", c.choices),
        why: format!("has no valid choice for decision #{d}"),
    }
}

fn parse_nb201(text: &str) -> Result<Vec<(String, String)>, String> {
    // Groups are split at `|+|`, so a set of parallel ops (`a+b~0`) stays in its group.
    let inner = text
        .strip_prefix('|')
        .and_then(|t| t.strip_suffix('|'))
        .ok_or_else(|| format!("`{text}` must start and end with `|`"))?;
    let groups: Vec<&str> = inner.split("|+|").collect();
    if groups.len() != 3 {
        return Err(format!(
            "expected 3 `+`-separated node groups, found {}",
            groups.len()
        ));
    }
    let mut out = Vec::new();
    for (node0, group) in groups.iter().enumerate() {
        let node = node0 + 1;
        let ops: Vec<&str> = group.split('|').collect();
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
