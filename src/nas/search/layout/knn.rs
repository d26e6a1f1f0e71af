//! k-nearest neighbours under Hamming distance: exact for small sets, otherwise approximate.
//! The approximation sorts the codes lexicographically under several seeded permutations of
//! the decisions (codes that agree on the leading decisions of a permutation sit together),
//! takes a window around each point in every sorted order, then refines with rounds of
//! NN-descent (neighbours of neighbours). Ties between equal distances are broken by a hash
//! of the pair, so no index is favoured. Every row is computed independently: the result does
//! not depend on the number of threads.

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::codes::{hamming, mix64, par_rows, Codes};

/// Up to this many points the graph is exact (all pairs).
pub(crate) const EXACT_MAX: usize = 3000;
/// Sorted orders (permutations of the decisions).
const TABLES: usize = 10;
/// Points taken on each side of a point in each sorted order.
const WINDOW: usize = 8;
/// NN-descent rounds after the windows.
const DESCENT_ROUNDS: usize = 2;
/// Padding for rows with fewer than `k` neighbours.
pub(crate) const NONE: u32 = u32::MAX;

/// Neighbour lists: `n x k`, nearest first, padded with `NONE`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Knn {
    pub n: usize,
    pub k: usize,
    pub idx: Vec<u32>,
    pub dist: Vec<u32>,
}

impl Knn {
    pub fn row(&self, i: usize) -> impl Iterator<Item = (u32, u32)> + '_ {
        let r = i * self.k..(i + 1) * self.k;
        self.idx[r.clone()]
            .iter()
            .copied()
            .zip(self.dist[r].iter().copied())
            .filter(|&(j, _)| j != NONE)
    }

    /// Appends `other`'s rows; both are padded to the larger `k`.
    pub fn append(&mut self, other: &Knn) {
        let k = self.k.max(other.k);
        let rows = |knn: &Knn| -> Vec<(u32, u32)> {
            (0..knn.n)
                .flat_map(|i| {
                    let mut row: Vec<(u32, u32)> = knn.row(i).collect();
                    row.resize(k, (NONE, NONE));
                    row
                })
                .collect()
        };
        let mut flat = rows(self);
        flat.extend(rows(other));
        *self = to_knn(self.n + other.n, k, flat);
    }
}

/// The codes in sorted order under each of `TABLES` permutations of the decisions.
#[derive(Debug, Clone, Default)]
pub(crate) struct SortIndex {
    perms: Vec<Vec<usize>>,
    orders: Vec<Vec<u32>>,
}

fn cmp_perm(perm: &[usize], a: &[u16], b: &[u16]) -> std::cmp::Ordering {
    perm.iter().map(|&c| a[c]).cmp(perm.iter().map(|&c| b[c]))
}

impl SortIndex {
    pub fn new(width: usize, rng: &mut ChaCha8Rng) -> Self {
        let perms = (0..TABLES)
            .map(|_| {
                let mut p: Vec<usize> = (0..width).collect();
                p.shuffle(rng);
                p
            })
            .collect();
        Self {
            perms,
            orders: Vec::new(),
        }
    }

    /// (Re)sorts `codes` under the stored permutations.
    pub fn sort(&mut self, codes: &Codes) {
        self.orders = self
            .perms
            .iter()
            .map(|perm| {
                let mut order: Vec<u32> = (0..codes.len() as u32).collect();
                order.sort_unstable_by(|&a, &b| {
                    cmp_perm(perm, codes.row(a as usize), codes.row(b as usize)).then(a.cmp(&b))
                });
                order
            })
            .collect();
    }
}

/// The `k` best (distance, tie hash) offers, sorted; each index at most once.
struct TopK {
    k: usize,
    items: Vec<(u32, u64, u32)>,
}

impl TopK {
    fn new(k: usize) -> Self {
        Self {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    fn offer(&mut self, dist: u32, tie: u64, idx: u32) {
        let key = (dist, tie);
        let full = self.items.len() == self.k;
        if (full && self.items.last().map(|&(d, t, _)| (d, t)) <= Some(key))
            || self.items.iter().any(|&(_, _, j)| j == idx)
        {
            return;
        }
        let at = self.items.partition_point(|&(d, t, _)| (d, t) < key);
        self.items.insert(at, (dist, tie, idx));
        self.items.truncate(self.k);
    }

    fn write(&self, row: &mut [(u32, u32)]) {
        for (slot, &(d, _, j)) in row.iter_mut().zip(&self.items) {
            *slot = (j, d);
        }
    }
}

fn tie(a: u64, b: u64) -> u64 {
    mix64((a.min(b) << 32) | a.max(b))
}

fn to_knn(n: usize, k: usize, flat: Vec<(u32, u32)>) -> Knn {
    let (idx, dist) = flat.into_iter().unzip();
    Knn { n, k, idx, dist }
}

/// The `k` nearest other points of every point of `codes`.
pub(crate) fn knn_graph(codes: &Codes, k: usize, index: &SortIndex) -> Knn {
    let n = codes.len();
    let mut flat = vec![(NONE, NONE); n * k];
    if n <= EXACT_MAX {
        par_rows(&mut flat, k, |i, row| {
            let mut top = TopK::new(k);
            let ci = codes.row(i);
            for j in (0..n).filter(|&j| j != i) {
                top.offer(hamming(ci, codes.row(j)), tie(i as u64, j as u64), j as u32);
            }
            top.write(row);
        });
        return to_knn(n, k, flat);
    }
    approximate(codes, k, index)
}

/// The window-and-descent approximation of `knn_graph` (used above `EXACT_MAX` points).
pub(crate) fn approximate(codes: &Codes, k: usize, index: &SortIndex) -> Knn {
    let n = codes.len();
    let mut flat = vec![(NONE, NONE); n * k];
    let mut ranks = vec![vec![0u32; n]; index.orders.len()];
    for (rank, order) in ranks.iter_mut().zip(&index.orders) {
        for (p, &i) in order.iter().enumerate() {
            rank[i as usize] = p as u32;
        }
    }
    par_rows(&mut flat, k, |i, row| {
        let mut top = TopK::new(k);
        let ci = codes.row(i);
        for (rank, order) in ranks.iter().zip(&index.orders) {
            let pos = rank[i] as usize;
            for &j in &order[pos.saturating_sub(WINDOW)..(pos + WINDOW + 1).min(n)] {
                if j as usize != i {
                    top.offer(
                        hamming(ci, codes.row(j as usize)),
                        tie(i as u64, j.into()),
                        j,
                    );
                }
            }
        }
        top.write(row);
    });
    let mut knn = to_knn(n, k, flat);
    for _round in 0..DESCENT_ROUNDS {
        let mut next = vec![(NONE, NONE); n * k];
        par_rows(&mut next, k, |i, row| {
            let mut top = TopK::new(k);
            let ci = codes.row(i);
            for (j, d) in knn.row(i) {
                top.offer(d, tie(i as u64, j.into()), j);
            }
            for (j, _) in knn.row(i) {
                for (l, _) in knn.row(j as usize) {
                    if l as usize != i {
                        top.offer(
                            hamming(ci, codes.row(l as usize)),
                            tie(i as u64, l.into()),
                            l,
                        );
                    }
                }
            }
            top.write(row);
        });
        knn = to_knn(n, k, next);
    }
    knn
}

/// The `k` nearest points of `old` (indexed by `index`, with neighbour lists `graph`) to each
/// of `queries`. `base` is the index the first query will get, used only for tie hashes.
pub(crate) fn knn_query(
    old: &Codes,
    index: &SortIndex,
    graph: &Knn,
    queries: &Codes,
    k: usize,
    base: usize,
) -> Knn {
    let n = old.len();
    let mut flat = vec![(NONE, NONE); queries.len() * k];
    par_rows(&mut flat, k, |q, row| {
        let mut top = TopK::new(k);
        let cq = queries.row(q);
        let me = (base + q) as u64;
        if n <= EXACT_MAX {
            for j in 0..n {
                top.offer(hamming(cq, old.row(j)), tie(me, j as u64), j as u32);
            }
            top.write(row);
            return;
        }
        for (perm, order) in index.perms.iter().zip(&index.orders) {
            let pos = order.partition_point(|&j| cmp_perm(perm, old.row(j as usize), cq).is_lt());
            for &j in &order[pos.saturating_sub(WINDOW)..(pos + WINDOW).min(n)] {
                top.offer(hamming(cq, old.row(j as usize)), tie(me, j.into()), j);
            }
        }
        for _round in 0..DESCENT_ROUNDS {
            let current: Vec<u32> = top.items.iter().map(|&(_, _, j)| j).collect();
            for j in current {
                for (l, _) in graph.row(j as usize) {
                    top.offer(hamming(cq, old.row(l as usize)), tie(me, l.into()), l);
                }
            }
        }
        top.write(row);
    });
    to_knn(queries.len(), k, flat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Share of neighbour distances (rank by rank) that the approximation gets exactly right.
    fn recall(n: usize, sample: usize) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let sizes = [3u16, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2];
        let data = (0..n)
            .flat_map(|_| sizes.map(|s| rng.random_range(0..s)))
            .collect();
        let codes = Codes { width: 14, n, data };
        let mut index = SortIndex::new(14, &mut rng);
        index.sort(&codes);
        let k = 15;
        let approx = approximate(&codes, k, &index);
        let (mut hit, mut all) = (0, 0);
        for i in (0..n).step_by(n / sample) {
            let mut exact: Vec<u32> = (0..n)
                .filter(|&j| j != i)
                .map(|j| hamming(codes.row(i), codes.row(j)))
                .collect();
            exact.sort_unstable();
            for (r, (_, d)) in approx.row(i).enumerate() {
                hit += usize::from(d == exact[r]);
                all += 1;
            }
        }
        hit as f64 / all as f64
    }

    #[test]
    fn approximate_neighbours_are_mostly_exact() {
        let r = recall(4000, 200);
        assert!(r > 0.9, "recall {r}");
    }
}
