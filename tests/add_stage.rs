//! `Edit::AddStage`: a conv and a pooling decision spliced in at the start, in the middle and
//! just before the head of the chain and resnet templates; the template validates, the
//! supernet's forward still gives class scores, later stages move one on; bad positions and
//! templates where a stage cannot go are refused with a clear reason.

use candle_core::{Device, Tensor};
use nas_navigator::nas::ops::BnMode;
use nas_navigator::nas::space::edit::Edit;
use nas_navigator::nas::space::{Candidate, Shape, SpaceError, SuperGraph, TemplateSpec};
use nas_navigator::nas::supernet::Supernet;
use rand::SeedableRng;

fn templates() -> Vec<SuperGraph> {
    [
        TemplateSpec::Chain {
            stages: 3,
            width: 4,
        },
        TemplateSpec::Resnet {
            stages: 3,
            width: 4,
        },
    ]
    .iter()
    .map(|s| s.build((1, 16, 16), 7))
    .collect()
}

fn add(position: usize) -> Edit {
    Edit::AddStage {
        position,
        filters: None,
        downsample: false,
    }
}

fn node_stage(g: &SuperGraph, name: &str) -> usize {
    let n = g
        .node_by_name(name)
        .unwrap_or_else(|| panic!("node {name}"));
    g.graph[n].stage
}

/// The nodes the new conv node is fed by and the pool node feeds.
fn neighbours(g: &SuperGraph, name: &str, dir: petgraph::Direction) -> Vec<String> {
    let n = g
        .node_by_name(name)
        .unwrap_or_else(|| panic!("node {name}"));
    let mut v: Vec<String> = g
        .graph
        .neighbors_directed(n, dir)
        .map(|m| g.graph[m].name.clone())
        .collect();
    v.sort();
    v
}

#[test]
fn a_stage_goes_at_the_start_in_the_middle_and_before_the_head() {
    let x = Tensor::randn(0f32, 1f32, (2, 1, 16, 16), &Device::Cpu).expect("input");
    for g in templates() {
        let last = *g.stage_positions().end();
        assert_eq!(last, 3, "{}: three stages", g.name);
        for position in [0, 1, last] {
            let mut next = g.clone();
            next.apply(&add(position))
                .unwrap_or_else(|e| panic!("{} at {position}: {e}", g.name));
            let what = format!("{} at {position}", g.name);
            assert_eq!(next.decisions.len(), g.decisions.len() + 2, "{what}");
            assert_eq!(next.space_size(), g.space_size() * 6.0, "{what}");
            // The new stage sits at position + 1, later stages moved one on, the head is last.
            let [conv, pool] = new_nodes(&g, &next);
            assert_eq!(node_stage(&next, &conv), position + 1, "{what}");
            assert_eq!(node_stage(&next, &pool), position + 1, "{what}");
            assert_eq!(node_stage(&next, "logits"), last + 2, "{what}");
            let out = neighbours(&next, &conv, petgraph::Direction::Outgoing);
            assert_eq!(out, std::slice::from_ref(&pool), "{what}");
            let feeder = neighbours(&next, &conv, petgraph::Direction::Incoming);
            assert_eq!(feeder.len(), 1, "{what}: one feeder");
            let fed_before = neighbours(&g, &feeder[0], petgraph::Direction::Outgoing);
            let fed_now = neighbours(&next, &pool, petgraph::Direction::Outgoing);
            assert_eq!(
                fed_now, fed_before,
                "{what}: the new stage feeds what was fed"
            );
            let report = next.validate().expect("validates");
            assert_eq!(report.node_shapes[&next.output], Shape::Vector { n: 7 });
            let net = Supernet::new(next, 0, &Device::Cpu).expect("supernet");
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
            for _ in 0..3 {
                let c = Candidate::sample(&net.graph, &mut rng);
                let y = net.forward(&x, &c, BnMode::Train).expect("forward");
                assert_eq!(y.dims(), &[2, 7], "{what}");
            }
        }
    }
}

/// The names of the new stage's two nodes (conv, then pool).
fn new_nodes(old: &SuperGraph, new: &SuperGraph) -> [String; 2] {
    let mut added: Vec<String> = new
        .graph
        .node_indices()
        .map(|n| new.graph[n].name.clone())
        .filter(|n| old.node_by_name(n).is_none())
        .collect();
    added.sort();
    match &added[..] {
        [a, b] if a.ends_with(".conv") && b.ends_with(".pool") => [a.clone(), b.clone()],
        _ => panic!("two new nodes, conv and pool: {added:?}"),
    }
}

#[test]
fn filters_and_downsampling_are_honoured() {
    let g = &templates()[0];
    let mut next = g.clone();
    let edit = Edit::AddStage {
        position: 3,
        filters: Some(12),
        downsample: true,
    };
    next.apply(&edit).expect("accepted");
    let r = next.validate().expect("validates");
    let before = r.node_shapes[&next.node_by_name("s3.pool").expect("s3.pool")];
    let after = r.node_shapes[&next.node_by_name("s4.pool").expect("s4.pool")];
    let (Shape::Image { h, .. }, Shape::Image { c: c2, h: h2, .. }) = (before, after) else {
        panic!("images: {before} and {after}");
    };
    assert_eq!((c2, h2), (12, h / 2));
    assert_eq!(
        edit.to_string(),
        "add a stage after stage 3: conv (k3, k5, sep3) then pooling (max, avg) with 12 \
         filters, halving the image"
    );
    assert_eq!(
        add(0).to_string(),
        "add a stage at the start: conv (k3, k5, sep3) then pooling (max, avg) keeping the \
         channels"
    );
}

#[test]
fn a_bad_position_or_template_is_refused_with_the_reason() {
    let g = &templates()[0];
    let mut same = g.clone();
    let Err(SpaceError::Refused(why)) = same.apply(&add(4)) else {
        panic!("position 4 of a 3-stage chain must be refused");
    };
    assert!(
        why.contains("after stages 0 to 3") && why.contains("not after stage 4"),
        "{why}"
    );
    assert_eq!(same.decisions, g.decisions, "unchanged");
    // The chain ends at 4x4: two halving stages leave 1x1, a third has nothing to pool.
    let halve = |g: &SuperGraph| Edit::AddStage {
        position: *g.stage_positions().end(),
        filters: None,
        downsample: true,
    };
    let mut small = g.clone();
    for _ in 0..2 {
        small
            .apply(&halve(&small))
            .expect("4x4 and 2x2 can be halved");
    }
    let err = small
        .clone()
        .apply(&halve(&small))
        .expect_err("1x1 cannot be pooled 2x2");
    assert!(
        err.to_string().contains("pool kernel 2 larger than 1x1"),
        "{err}"
    );
    let nb201 = TemplateSpec::Nb201 {
        channels: 4,
        cells: 1,
    }
    .build((1, 16, 16), 7);
    let err = nb201.clone().apply(&add(1)).expect_err("nb201 refuses");
    assert!(err.to_string().contains("NB201"), "{err}");
}
