//! One step of the batched scorer (`batched.rs`): split every prefix by its candidates'
//! choice at the step, run each chosen block once on the stacked inputs of all prefixes that
//! chose it (calibrating one set of batch-norm statistics per prefix, then evaluating), and
//! gather the new prefixes' node values from their parents' rows and the blocks' outputs.

use std::collections::BTreeMap;
use std::ops::Range;

use candle_core::Tensor;
use petgraph::stable_graph::NodeIndex;

use super::{Step, Supernet, Values};
use crate::nas::error::Result;
use crate::nas::ops::BnMode;

/// The prefixes at one depth: the candidates (positions in the sorted cut) sharing each,
/// and the node values of all of them, each batch's tensors stacked with one run of rows per
/// prefix, in prefix order.
pub(super) struct Level {
    pub prefixes: Vec<Range<usize>>,
    pub calibration: Vec<Values>,
    pub validation: Vec<Values>,
}

/// The nodes whose values are still needed after step `k`: read by a later step, or the
/// output.
pub(super) fn live_after(net: &Supernet, k: usize) -> Vec<NodeIndex> {
    let mut live: Vec<NodeIndex> = net.steps[k + 1..].iter().map(|s| s.from).collect();
    live.push(net.graph.output);
    live.sort();
    live.dedup();
    live
}

/// Rows of the runs `picks` (each `rows` long) of x, stacked in that order.
fn gather(x: &Tensor, picks: &[usize], rows: usize) -> Result<Tensor> {
    let whole = picks.len() * rows == x.dim(0)?;
    if whole && picks.iter().enumerate().all(|(i, &p)| i == p) {
        return Ok(x.clone());
    }
    let idx: Vec<u32> = picks
        .iter()
        .flat_map(|&p| (p * rows..(p + 1) * rows).map(|r| r as u32))
        .collect();
    let len = idx.len();
    Ok(x.index_select(&Tensor::from_vec(idx, len, x.device())?, 0)?)
}

/// A new prefix: its parent's index, its choice at the step and its candidates.
struct Child {
    parent: usize,
    choice: usize,
    members: Range<usize>,
}

/// Splits each prefix's (sorted) candidates by their choice at step `k`.
fn children(level: &Level, keys: &[&[usize]], k: usize) -> Vec<Child> {
    let mut out = Vec::new();
    for (parent, range) in level.prefixes.iter().enumerate() {
        let mut start = range.start;
        for i in range.clone() {
            if i + 1 == range.end || keys[i + 1][k] != keys[start][k] {
                out.push(Child {
                    parent,
                    choice: keys[start][k],
                    members: start..i + 1,
                });
                start = i + 1;
            }
        }
    }
    out
}

/// The output of `choice`'s blocks on the stacked inputs (`parents`' runs of `rows` each) of
/// one batch, or `None` when every block is `none`.
fn run_choice(
    net: &Supernet,
    values: &Values,
    (step, choice): (&Step, usize),
    parents: &[usize],
    rows: usize,
    mode: BnMode,
) -> Result<Option<Tensor>> {
    let input = match values.get(&step.from) {
        Some(v) => gather(v, parents, rows)?,
        None => net.zeros(step.from, parents.len() * rows)?,
    };
    let mut out: Option<Tensor> = None;
    for module in net.modules_of(step, choice)? {
        if module.is_zero() {
            continue;
        }
        let y = module.forward(&input, mode)?.detach();
        out = Some(match out {
            Some(acc) => (acc + y)?,
            None => y,
        });
    }
    Ok(out)
}

/// Runs step `k` for every prefix of `level`; `recalibrate`: calibrate each chosen block's
/// batch norms on the calibration batches first (one set of statistics per prefix).
pub(super) fn advance(
    net: &Supernet,
    level: Level,
    keys: &[&[usize]],
    (k, step): (usize, &Step),
    recalibrate: bool,
) -> Result<Level> {
    let kids = children(&level, keys, k);
    let mut by_choice: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, kid) in kids.iter().enumerate() {
        by_choice.entry(kid.choice).or_default().push(i);
    }
    let rows = |vs: &[Values]| -> Result<Vec<usize>> {
        vs.iter()
            .map(|v| Ok(v[&net.graph.input].dim(0)? / level.prefixes.len()))
            .collect()
    };
    let (cal_rows, val_rows) = (rows(&level.calibration)?, rows(&level.validation)?);
    // outputs[batch][choice order]: each choice's stacked output (its kids' runs in order).
    let mut cal_out = vec![Vec::new(); level.calibration.len()];
    let mut val_out = vec![Vec::new(); level.validation.len()];
    for (&choice, members) in &by_choice {
        let parents: Vec<usize> = members.iter().map(|&i| kids[i].parent).collect();
        let bns: Vec<_> = net
            .modules_of(step, choice)?
            .into_iter()
            .flat_map(|m| {
                let (mut params, mut bns) = (Vec::new(), Vec::new());
                m.visit(&mut params, &mut bns);
                bns
            })
            .collect();
        if recalibrate {
            bns.iter()
                .for_each(|(_, bn)| bn.begin_calibration_in(parents.len()));
            for (b, values) in level.calibration.iter().enumerate() {
                let y = run_choice(
                    net,
                    values,
                    (step, choice),
                    &parents,
                    cal_rows[b],
                    BnMode::Calibrate,
                )?;
                cal_out[b].push(y);
            }
            for (_, bn) in &bns {
                bn.finish_calibration()?;
            }
        }
        for (b, values) in level.validation.iter().enumerate() {
            let y = run_choice(
                net,
                values,
                (step, choice),
                &parents,
                val_rows[b],
                BnMode::Eval,
            )?;
            val_out[b].push(y);
        }
    }
    // Kids in choice order, as the outputs are stacked; their place in `kids` order.
    let stacked: Vec<usize> = by_choice.values().flatten().copied().collect();
    let mut place = vec![0; kids.len()];
    for (pos, &kid) in stacked.iter().enumerate() {
        place[kid] = pos;
    }
    let parents: Vec<usize> = kids.iter().map(|c| c.parent).collect();
    let live = live_after(net, k);
    let choice_sizes: Vec<usize> = by_choice.values().map(Vec::len).collect();
    let next = |values: Vec<Values>, outs: Vec<Vec<Option<Tensor>>>, rows: &[usize]| {
        values
            .into_iter()
            .zip(outs)
            .zip(rows)
            .map(|((v, o), &r)| {
                let ctx = Assemble {
                    net,
                    step,
                    live: &live,
                    parents: &parents,
                    place: &place,
                    choice_sizes: &choice_sizes,
                    rows: r,
                };
                ctx.values(&v, o)
            })
            .collect::<Result<Vec<_>>>()
    };
    Ok(Level {
        calibration: next(level.calibration, cal_out, &cal_rows)?,
        validation: next(level.validation, val_out, &val_rows)?,
        prefixes: kids.into_iter().map(|c| c.members).collect(),
    })
}

/// What building one batch's new node values needs.
struct Assemble<'a> {
    net: &'a Supernet,
    step: &'a Step,
    live: &'a [NodeIndex],
    /// Each new prefix's parent.
    parents: &'a [usize],
    /// Each new prefix's run in the choices' stacked outputs.
    place: &'a [usize],
    /// How many new prefixes each choice (in order) has.
    choice_sizes: &'a [usize],
    rows: usize,
}

impl Assemble<'_> {
    /// The new prefixes' values: every live node gathered from the parents' rows (the
    /// input too, which gives the batch size), the step's output node plus the blocks' sum.
    fn values(&self, old: &Values, outs: Vec<Option<Tensor>>) -> Result<Values> {
        let net = self.net;
        let mut new = Values::new();
        for (node, v) in old {
            if *node == net.graph.input || self.live.contains(node) {
                new.insert(*node, gather(v, self.parents, self.rows)?);
            }
        }
        if outs.iter().all(Option::is_none) {
            return Ok(new);
        }
        let pieces = outs
            .into_iter()
            .zip(self.choice_sizes)
            .map(|(o, &n)| match o {
                Some(t) => Ok(t),
                None => net.zeros(self.step.to, n * self.rows),
            })
            .collect::<Result<Vec<_>>>()?;
        let all = Tensor::cat(&pieces, 0)?;
        let sum = gather(&all, self.place, self.rows)?;
        let sum = match new.remove(&self.step.to) {
            Some(acc) => (acc + sum)?,
            None => sum,
        };
        new.insert(self.step.to, sum);
        Ok(new)
    }
}
