//! A decision's choice as one number, and parallel blocks (the paper's "several blocks of a
//! decision at once, their outputs summed"). A choice is a block index, or, where the
//! decision's `max_parallel` is above 1, a set of two or more blocks written as
//! [`SET_BIT`] | a bit mask of their indices. A single block is always its plain index, so
//! candidates of templates without parallel blocks are exactly what they were before.
//! In candidate strings a set is its labels joined by `+` in block order (`k3+sep3`).

use super::block::BlockKind;
use super::graph::Decision;
use super::SpaceError;

/// The top bit of a choice marks a set; the other bits are the set's blocks.
pub const SET_BIT: usize = 1 << (usize::BITS - 1);
/// A set can hold blocks with indices below this.
pub const MAX_SET_BLOCKS: usize = usize::BITS as usize - 1;
/// The most block sets (of all sizes) one decision may offer.
pub const MAX_SETS: usize = 4096;

/// The blocks of a choice, in increasing index order.
#[derive(Debug, Clone, Copy)]
pub struct Blocks {
    single: Option<usize>,
    mask: usize,
}

impl Iterator for Blocks {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if let Some(b) = self.single.take() {
            return Some(b);
        }
        if self.mask == 0 {
            return None;
        }
        let b = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(b)
    }
}

/// Whether `choice` is a set of two or more blocks.
pub fn is_set(choice: usize) -> bool {
    choice & SET_BIT != 0
}

/// The block indices of `choice`, in increasing order.
pub fn blocks_of(choice: usize) -> Blocks {
    if is_set(choice) {
        Blocks {
            single: None,
            mask: choice & !SET_BIT,
        }
    } else {
        Blocks {
            single: Some(choice),
            mask: 0,
        }
    }
}

/// Whether `choice` is block `block` or a set that includes it.
pub fn includes(choice: usize, block: usize) -> bool {
    blocks_of(choice).any(|b| b == block)
}

/// The choice of these blocks (any order, no repeats): a plain index for one block, a set
/// for more; None for no block, a repeat, or an index a set cannot hold.
pub fn set_of(blocks: &[usize]) -> Option<usize> {
    match blocks {
        [] => None,
        [one] => Some(*one),
        many => {
            let mut mask = 0usize;
            for &b in many {
                if b >= MAX_SET_BLOCKS || mask & (1 << b) != 0 {
                    return None;
                }
                mask |= 1 << b;
            }
            Some(SET_BIT | mask)
        }
    }
}

/// n choose k, saturating.
fn binomial(n: usize, k: usize) -> usize {
    let mut acc: u128 = 1;
    for i in 0..k.min(n + 1) {
        // C(n, i + 1) = C(n, i) (n - i) / (i + 1), exact at every step.
        acc = match acc.checked_mul((n - i) as u128) {
            Some(x) => x / (i as u128 + 1),
            None => return usize::MAX,
        };
        if acc > usize::MAX as u128 {
            return usize::MAX;
        }
    }
    if k > n {
        0
    } else {
        acc as usize
    }
}

impl Decision {
    /// Blocks a set may contain: every block but `none` (adding zero changes nothing).
    fn set_members(&self) -> Vec<usize> {
        (self.blocks.iter().enumerate())
            .filter(|(_, b)| !matches!(b.kind, BlockKind::Zero))
            .map(|(i, _)| i)
            .collect()
    }

    /// How many sets of 2..=`max_parallel` blocks this decision offers (saturating).
    fn set_count(&self) -> usize {
        let n = self.set_members().len();
        (2..=self.max_parallel.min(n)).fold(0usize, |a, k| a.saturating_add(binomial(n, k)))
    }

    /// Every set of 2..=`max_parallel` non-zero blocks, enabled or not, by size and then in
    /// lexicographic order: the fixed slots after the single blocks (see [`Self::slot`]).
    pub fn all_sets(&self) -> Vec<usize> {
        let members = self.set_members();
        let mut out = Vec::new();
        for k in 2..=self.max_parallel.min(members.len()) {
            let mut pick: Vec<usize> = (0..k).collect();
            loop {
                let blocks: Vec<usize> = pick.iter().map(|&i| members[i]).collect();
                out.extend(set_of(&blocks));
                // Next k-combination of 0..members.len().
                let Some(i) = (0..k).rev().find(|&i| pick[i] < members.len() - k + i) else {
                    break;
                };
                pick[i] += 1;
                for j in i + 1..k {
                    pick[j] = pick[j - 1] + 1;
                }
            }
        }
        out
    }

    /// The choices a candidate may make here: the locked block alone, or every enabled block
    /// and then every set of enabled blocks allowed by `max_parallel`.
    pub fn options(&self) -> Vec<usize> {
        if let Some(l) = self.locked() {
            return vec![l];
        }
        let mut out: Vec<usize> = self.enabled().map(|(i, _)| i).collect();
        if self.max_parallel > 1 {
            let on = |b: usize| self.blocks.get(b).is_some_and(|x| x.enabled);
            out.extend(
                self.all_sets()
                    .into_iter()
                    .filter(|&s| blocks_of(s).all(on)),
            );
        }
        out
    }

    /// Slots of a one-hot code of this decision's choices: every block, then every set.
    pub fn slots(&self) -> usize {
        self.blocks.len() + self.all_sets().len()
    }

    /// The choice's slot (block index, or `blocks.len()` + its place in [`Self::all_sets`]).
    pub fn slot(&self, choice: usize, sets: &[usize]) -> Option<usize> {
        if is_set(choice) {
            sets.iter()
                .position(|&s| s == choice)
                .map(|p| self.blocks.len() + p)
        } else {
            (choice < self.blocks.len()).then_some(choice)
        }
    }

    /// The choice as text: a block label, or labels joined by `+`; `?` for a missing block.
    pub fn choice_label(&self, choice: usize) -> String {
        let label = |b: usize| self.blocks.get(b).map_or("?", |x| x.label.as_str());
        blocks_of(choice).map(label).collect::<Vec<_>>().join("+")
    }

    /// Reads a choice written by [`Self::choice_label`]. A label that is a block's whole label
    /// is that block (so old labels containing `+` still read).
    pub fn parse_choice(&self, text: &str) -> Result<usize, String> {
        if let Some(b) = self.index_of(text) {
            return Ok(b);
        }
        let mut blocks = Vec::new();
        for label in text.split('+') {
            let b = self.index_of(label).ok_or_else(|| {
                let known: Vec<_> = self.blocks.iter().map(|b| b.label.as_str()).collect();
                format!(
                    "decision `{}` has no block `{label}` (has: {})",
                    self.name,
                    known.join(", ")
                )
            })?;
            blocks.push(b);
        }
        set_of(&blocks).ok_or_else(|| format!("`{text}` names a block twice"))
    }

    /// Checks `max_parallel`: 1 up to the number of blocks, with a set count this build
    /// handles.
    pub fn check_parallel(&self) -> Result<(), SpaceError> {
        let bad = |detail: String| SpaceError::BadParallel {
            decision: self.name.clone(),
            detail,
        };
        let (max, n) = (self.max_parallel, self.blocks.len());
        if max == 0 || max > n {
            return Err(bad(format!(
                "max_parallel is {max}; expected 1 to {n} (the number of its blocks)"
            )));
        }
        if max > 1 && n > MAX_SET_BLOCKS {
            return Err(bad(format!(
                "max_parallel above 1 needs at most {MAX_SET_BLOCKS} blocks, it has {n}"
            )));
        }
        let sets = self.set_count();
        if sets > MAX_SETS {
            return Err(bad(format!(
                "max_parallel {max} over {n} blocks gives {sets} block sets; at most \
                 {MAX_SETS} are supported"
            )));
        }
        Ok(())
    }
}
