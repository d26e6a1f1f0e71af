//! The Pareto front of accuracy (higher is better) against a cost (lower is better:
//! parameters, FLOPs or latency).

/// Indices of the points no other point dominates (at least as accurate and at most as
/// costly, strictly better in one), sorted by cost. Exact duplicates are all kept.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].0.is_finite() && points[i].1.is_finite())
        .collect();
    // Cheapest first; among equal costs, most accurate first.
    order.sort_by(|&a, &b| {
        points[a]
            .1
            .total_cmp(&points[b].1)
            .then(points[b].0.total_cmp(&points[a].0))
    });
    let mut front: Vec<usize> = Vec::new();
    let mut best_acc = f64::NEG_INFINITY;
    for i in order {
        let (acc, cost) = points[i];
        match front.last() {
            Some(&last) if points[last] == (acc, cost) => front.push(i),
            _ if acc > best_acc => {
                front.push(i);
                best_acc = acc;
            }
            _ => {}
        }
    }
    front
}

/// Whether point `a` dominates point `b` (the definition the front uses).
pub fn dominates(a: (f64, f64), b: (f64, f64)) -> bool {
    a.0 >= b.0 && a.1 <= b.1 && (a.0 > b.0 || a.1 < b.1)
}
