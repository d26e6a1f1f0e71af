//! Layouts of the search space: one-hot codes, PCA, landmark MDS, the neighbour layout,
//! stable extension, Procrustes alignment and determinism, on planted structures.

use nas_navigator::nas::search::layout::{
    layout, layout_with, one_hot, procrustes_align, LayoutConfig, LayoutMethod, StableLayout,
};
use nas_navigator::nas::search::trust::spearman;
use nas_navigator::nas::space::{Candidate, SuperGraph, TemplateSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 7 stages: decisions conv1, pool1, ..., conv7, pool7 (3 and 2 blocks), then the head.
fn chain() -> SuperGraph {
    TemplateSpec::Chain {
        stages: 7,
        width: 8,
    }
    .build((1, 28, 28), 10)
}

fn cand(mut choices: Vec<usize>) -> Candidate {
    choices.push(0);
    Candidate { choices }
}

fn sizes(g: &SuperGraph) -> Vec<usize> {
    g.decisions.iter().map(|d| d.blocks.len()).collect()
}

fn hamming(a: &Candidate, b: &Candidate) -> usize {
    a.choices
        .iter()
        .zip(&b.choices)
        .filter(|(x, y)| x != y)
        .count()
}

fn dist(a: &[f32; 3], b: &[f32; 3]) -> f32 {
    (0..3).map(|d| (a[d] - b[d]).powi(2)).sum::<f32>().sqrt()
}

/// `r` random decisions of `c` changed to another block.
fn mutate(g: &SuperGraph, c: &Candidate, r: usize, rng: &mut ChaCha8Rng) -> Candidate {
    let s = sizes(g);
    let mut out = c.clone();
    for _ in 0..r {
        let d = rng.random_range(0..14);
        out.choices[d] = (out.choices[d] + rng.random_range(1..s[d])) % s[d];
    }
    out
}

/// Three clusters (`per` members each, within Hamming 2 of their centre; centres 10 to 14
/// apart) and the cluster of each candidate.
fn clusters(g: &SuperGraph, per: usize, seed: u64) -> (Vec<Candidate>, Vec<usize>) {
    let centres = [
        cand(vec![0; 14]),
        cand(vec![1; 14]),
        cand(
            (0..14)
                .map(|d| if d % 2 == 0 { 2 } else { d / 2 % 2 })
                .collect(),
        ),
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let mut label = Vec::new();
    for i in 0..per {
        for (c, centre) in centres.iter().enumerate() {
            out.push(mutate(g, centre, i % 3, &mut rng));
            label.push(c);
        }
    }
    (out, label)
}

/// Mean layout distance within clusters and between them.
fn intra_inter(points: &[[f32; 3]], label: &[usize]) -> (f32, f32) {
    let (mut intra, mut inter) = ((0.0, 0), (0.0, 0));
    for i in 0..points.len() {
        for j in i + 1..points.len() {
            let d = dist(&points[i], &points[j]);
            let acc = if label[i] == label[j] {
                &mut intra
            } else {
                &mut inter
            };
            acc.0 += d;
            acc.1 += 1;
        }
    }
    (intra.0 / intra.1 as f32, inter.0 / inter.1 as f32)
}

/// Every point is closer to its own cluster's centroid than to any other.
fn assert_separated(points: &[[f32; 3]], label: &[usize], what: &str) {
    let mut centroid = [[0.0f32; 3]; 3];
    let mut count = [0.0f32; 3];
    for (p, &l) in points.iter().zip(label) {
        (0..3).for_each(|d| centroid[l][d] += p[d]);
        count[l] += 1.0;
    }
    for (c, n) in centroid.iter_mut().zip(count) {
        c.iter_mut().for_each(|x| *x /= n);
    }
    for (i, (p, &l)) in points.iter().zip(label).enumerate() {
        let own = dist(p, &centroid[l]);
        for (o, c) in centroid.iter().enumerate().filter(|&(o, _)| o != l) {
            assert!(
                own < dist(p, c),
                "{what}: point {i} of cluster {l} is nearer cluster {o}"
            );
        }
    }
    let (intra, inter) = intra_inter(points, label);
    assert!(intra < inter, "{what}: intra {intra} >= inter {inter}");
}

fn pairwise(points: &[[f32; 3]]) -> Vec<f64> {
    let mut out = Vec::new();
    for i in 0..points.len() {
        for j in i + 1..points.len() {
            out.push(f64::from(dist(&points[i], &points[j])));
        }
    }
    out
}

fn distinct_random(g: &SuperGraph, n: usize, seed: u64) -> Vec<Candidate> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < n {
        seen.insert(Candidate::sample(g, &mut rng));
    }
    seen.into_iter().collect()
}

#[test]
fn one_hot_has_one_block_per_decision_and_hamming_is_half_the_squared_distance() {
    let g = chain();
    let cands = distinct_random(&g, 40, 1);
    let (x, d) = one_hot(&g, &cands).expect("valid candidates");
    assert_eq!(d, 7 * 3 + 7 * 2, "the single-block head adds nothing");
    assert_eq!(x.len(), cands.len() * d);
    for row in x.chunks(d) {
        assert_eq!(row.iter().sum::<f32>(), 14.0);
    }
    for i in 0..cands.len() {
        for j in 0..cands.len() {
            let sq: f32 = (0..d).map(|t| (x[i * d + t] - x[j * d + t]).powi(2)).sum();
            assert_eq!(hamming(&cands[i], &cands[j]) as f32, sq / 2.0);
        }
    }
    assert!(one_hot(
        &g,
        &[Candidate {
            choices: vec![0; 3]
        }]
    )
    .is_err());
    assert!(
        one_hot(&g, &[cand(vec![3; 14])]).is_err(),
        "conv1 has 3 blocks"
    );
    let mut bad_head = cand(vec![0; 14]);
    bad_head.choices[14] = 1;
    assert!(layout(&g, &[bad_head], LayoutMethod::Pca, 2, 0).is_err());
    assert!(
        layout(&g, &cands, LayoutMethod::Pca, 4, 0).is_err(),
        "dims 2 or 3"
    );
}

/// Candidates that vary only in pool1, pool2, pool3, independently, with shares 1/2, 3/4
/// and 4/5 of one block: a box whose axes have distinct variances.
fn pool_box() -> Vec<Candidate> {
    (0..40)
        .map(|i| {
            let mut c = vec![0; 14];
            c[1] = i % 2;
            c[3] = usize::from(i / 2 % 4 == 0);
            c[5] = usize::from(i / 8 == 2);
            cand(c)
        })
        .collect()
}

#[test]
fn pca_maps_two_varying_decisions_onto_a_grid_with_axes_by_variance() {
    let g = chain();
    let cands = pool_box();
    for dims in [2, 3] {
        let fit = StableLayout::fit(&g, &cands, LayoutMethod::Pca, dims, 7).expect("fits");
        let p = fit.points();
        let sq2 = 2f32.sqrt();
        for i in 0..cands.len() {
            for j in 0..cands.len() {
                for (axis, decision) in [(0, 1), (1, 3), (2, 5)].into_iter().take(dims) {
                    let gap = (p[i][axis] - p[j][axis]).abs();
                    let want = if cands[i].choices[decision] == cands[j].choices[decision] {
                        0.0
                    } else {
                        sq2
                    };
                    assert!(
                        (gap - want).abs() < 1e-4,
                        "axis {axis}: gap {gap}, want {want}"
                    );
                }
            }
            if dims == 2 {
                assert_eq!(p[i][2], 0.0);
            }
        }
        let var = fit.explained_variance().expect("pca has variances");
        assert!(var.windows(2).all(|w| w[0] > w[1]), "{var:?}");
        if dims == 3 {
            assert!(
                (var.iter().sum::<f64>() - 1.0).abs() < 1e-6,
                "the box is all there is"
            );
        }
    }
}

#[test]
fn landmark_mds_equals_classical_mds_and_ranks_distances() {
    let g = chain();
    // Fewer distinct candidates than landmarks: every one is a landmark, so the result is
    // classical MDS, which for Euclidean distances is PCA of the same (distinct) points.
    let cands = distinct_random(&g, 60, 3);
    for dims in [2, 3] {
        let mds = layout(&g, &cands, LayoutMethod::Mds, dims, 5).expect("mds");
        let pca = layout(&g, &cands, LayoutMethod::Pca, dims, 5).expect("pca");
        let (dm, dp) = (pairwise(&mds.points), pairwise(&pca.points));
        let worst = dm
            .iter()
            .zip(&dp)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            worst < 1e-3,
            "dims {dims}: MDS and PCA distances differ by {worst}"
        );
    }
    // Few landmarks on structured data: distances still rank like the Hamming distances.
    let (cands, label) = clusters(&g, 40, 11);
    let mut config = LayoutConfig::new(LayoutMethod::Mds, 2, 9);
    config.landmarks = 20;
    let fit = StableLayout::fit_with(&g, &cands, config).expect("mds");
    assert_eq!(fit.landmarks().map(<[usize]>::len), Some(20));
    let mut truth = Vec::new();
    for i in 0..cands.len() {
        for j in i + 1..cands.len() {
            truth.push(hamming(&cands[i], &cands[j]) as f64);
        }
    }
    let rho = spearman(&pairwise(fit.points()), &truth);
    assert!(rho > 0.9, "spearman {rho}");
    assert_separated(fit.points(), &label, "mds");
}

#[test]
fn neighbour_layout_keeps_clusters_apart() {
    let g = chain();
    let (cands, label) = clusters(&g, 50, 21);
    for dims in [2, 3] {
        let out = layout(&g, &cands, LayoutMethod::Neighbour, dims, 4).expect("neighbour");
        assert!(out.points.iter().all(|p| p.iter().all(|x| x.is_finite())));
        assert_separated(&out.points, &label, "neighbour");
    }
}

#[test]
fn extend_keeps_old_points_and_places_new_ones_near_their_neighbours() {
    let g = chain();
    let (cands, label) = clusters(&g, 40, 31);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let parents: Vec<usize> = (0..30).map(|_| rng.random_range(0..cands.len())).collect();
    let round2: Vec<Candidate> = parents
        .iter()
        .map(|&p| mutate(&g, &cands[p], 1, &mut rng))
        .collect();
    for method in LayoutMethod::ALL {
        for dims in [2, 3] {
            let mut fit = StableLayout::fit(&g, &cands, method, dims, 8).expect("fits");
            let before: Vec<[u32; 3]> = fit.points().iter().map(|p| p.map(f32::to_bits)).collect();
            let (_, inter) = intra_inter(fit.points(), &label);
            let new = fit.extend(&g, &round2).expect("extends").to_vec();
            assert_eq!(new.len(), round2.len());
            assert_eq!(fit.points().len(), cands.len() + round2.len());
            let after: Vec<[u32; 3]> = fit.points()[..cands.len()]
                .iter()
                .map(|p| p.map(f32::to_bits))
                .collect();
            assert_eq!(before, after, "{method:?}: old points moved");
            for (q, &parent) in new.iter().zip(&parents) {
                let d = dist(q, &fit.points()[parent]);
                // Projections are contractions: one changed decision moves at most sqrt 2.
                let limit = match method {
                    LayoutMethod::Neighbour => 0.25 * inter,
                    _ => 2f32.sqrt() + 1e-4,
                };
                assert!(
                    d <= limit,
                    "{method:?} {dims}D: new point {d} from its parent"
                );
            }
            let third = vec![round2[0].clone(), cands[0].clone()];
            assert_eq!(fit.extend(&g, &third).expect("again").len(), 2);
            let other = TemplateSpec::Chain {
                stages: 6,
                width: 8,
            }
            .build((1, 28, 28), 10);
            assert!(
                fit.extend(&other, &[]).is_err(),
                "a different template is refused"
            );
        }
    }
}

#[test]
fn procrustes_recovers_rotation_scale_and_shift() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for dims in [2, 3] {
        let new: Vec<[f32; 3]> = (0..50)
            .map(|_| {
                let mut p = [0.0; 3];
                (0..dims).for_each(|d| p[d] = rng.random_range(-5.0..5.0));
                p
            })
            .collect();
        // A rotation about z composed with a reflection of y, scale 2.5, shift.
        let (c, s) = (0.6f32.cos(), 0.6f32.sin());
        let r = [[c, s, 0.0], [s, -c, 0.0], [0.0, 0.0, 1.0]];
        let t = [3.0, -1.5, if dims == 3 { 0.75 } else { 0.0 }];
        let old: Vec<[f32; 3]> = new
            .iter()
            .map(|p| {
                let mut q = [0.0; 3];
                for a in 0..dims {
                    q[a] = 2.5 * (0..3).map(|b| r[a][b] * p[b]).sum::<f32>() + t[a];
                }
                q
            })
            .collect();
        // Only the first 20 are shared; the rest follow the same transform.
        let pairs: Vec<(usize, usize)> = (0..20).map(|i| (i, i)).chain([(999, 0)]).collect();
        let aligned = procrustes_align(&old, &new, &pairs, dims);
        for (a, o) in aligned.iter().zip(&old) {
            assert!(dist(a, o) < 1e-4, "{a:?} vs {o:?}");
        }
    }
    let p = [[1.0, 2.0, 0.0]];
    assert_eq!(procrustes_align(&p, &p, &[], 2), p.to_vec());
}

#[test]
fn layouts_are_deterministic_for_a_seed() {
    let g = chain();
    let (cands, _) = clusters(&g, 30, 41);
    for method in LayoutMethod::ALL {
        let a = layout(&g, &cands, method, 2, 13).expect("a");
        let b = layout(&g, &cands, method, 2, 13).expect("b");
        assert_eq!(a, b, "{method:?}");
        let mut sa = StableLayout::fit(&g, &cands, method, 3, 1).expect("sa");
        let mut sb = StableLayout::fit(&g, &cands, method, 3, 1).expect("sb");
        let extra = &cands[..5];
        assert_eq!(
            sa.extend(&g, extra).expect("ea").to_vec(),
            sb.extend(&g, extra).expect("eb").to_vec()
        );
    }
    let a = layout(&g, &cands, LayoutMethod::Neighbour, 2, 1).expect("seed 1");
    let b = layout(&g, &cands, LayoutMethod::Neighbour, 2, 2).expect("seed 2");
    assert_ne!(a, b, "the seed matters");
    let empty = layout_with(&g, &[], LayoutConfig::new(LayoutMethod::Neighbour, 3, 0));
    assert_eq!(empty.expect("empty").points.len(), 0);
}

#[test]
fn tiny_and_degenerate_sets_give_finite_points() {
    let g = chain();
    let one = cand(vec![1; 14]);
    let sets = [
        vec![],
        vec![one.clone()],
        vec![one.clone(); 5],
        pool_box()[..3].to_vec(),
    ];
    for method in LayoutMethod::ALL {
        for set in &sets {
            let mut fit = StableLayout::fit(&g, set, method, 3, 0).expect("fits");
            assert_eq!(fit.points().len(), set.len());
            fit.extend(&g, &[one.clone(), cand(vec![0; 14])])
                .expect("extends");
            let finite = fit.points().iter().all(|p| p.iter().all(|x| x.is_finite()));
            assert!(finite, "{method:?} on {} candidates", set.len());
        }
    }
}
