//! Search-space tests: templates, shape inference, validation errors that name the culprit,
//! candidate strings (NB201 round-trip), template files and refused edits.

use nas_navigator::nas::space::block::{ConvSpec, PoolMode, PoolSpec};
use nas_navigator::nas::space::candidate::NB201_DECISIONS;
use nas_navigator::nas::space::doc::TemplateDoc;
use nas_navigator::nas::space::edit::Edit;
use nas_navigator::nas::space::{
    Block, BlockKind, Candidate, Shape, SpaceError, SuperGraph, TemplateSpec,
};
use rand::SeedableRng;

fn chain() -> SuperGraph {
    TemplateSpec::Chain {
        stages: 4,
        width: 8,
    }
    .build((1, 28, 28), 10)
}

fn nb201() -> SuperGraph {
    TemplateSpec::Nb201 {
        channels: 4,
        cells: 1,
    }
    .build((3, 32, 32), 10)
}

#[test]
fn every_template_validates_and_ends_in_class_scores() {
    for spec in [
        TemplateSpec::Chain {
            stages: 7,
            width: 8,
        },
        TemplateSpec::Nb201 {
            channels: 16,
            cells: 5,
        },
        TemplateSpec::Resnet {
            stages: 3,
            width: 8,
        },
        TemplateSpec::Vgg {
            stages: 5,
            width: 8,
        },
        TemplateSpec::Densenet {
            stages: 3,
            width: 8,
        },
    ] {
        let g = spec.build((3, 32, 32), 10);
        let report = g
            .validate()
            .unwrap_or_else(|e| panic!("{}: {e}", spec.name()));
        assert_eq!(report.node_shapes[&g.output], Shape::Vector { n: 10 });
    }
}

#[test]
fn vgg_is_a_plain_chain_of_2_or_3_convs_per_stage() {
    let g = TemplateSpec::Vgg {
        stages: 3,
        width: 8,
    }
    .build((3, 32, 32), 10);
    let r = g.validate().unwrap();
    let convs = |s: usize| {
        g.decisions
            .iter()
            .filter(|d| d.name.starts_with(&format!("conv{s}_")))
            .count()
    };
    assert_eq!((convs(1), convs(2), convs(3)), (2, 2, 3));
    // A chain: every node has at most one input.
    for n in g.graph.node_indices() {
        let inputs = g
            .graph
            .edges_directed(n, petgraph::Direction::Incoming)
            .count();
        assert!(inputs <= 1, "{}", g.graph[n].name);
    }
    let shape = |name: &str| r.node_shapes[&g.node_by_name(name).unwrap()];
    assert_eq!(shape("s1.conv2"), Shape::Image { c: 8, h: 32, w: 32 });
    assert_eq!(shape("s3.conv3"), Shape::Image { c: 32, h: 8, w: 8 });
    // 3^7 convs times 2^3 pools.
    assert_eq!(g.space_size(), 2187.0 * 8.0);
}

#[test]
fn densenet_layers_read_the_sum_of_every_earlier_output() {
    let g = TemplateSpec::Densenet {
        stages: 2,
        width: 8,
    }
    .build((3, 16, 16), 10);
    let r = g.validate().unwrap();
    let inputs = |name: &str| {
        let n = g.node_by_name(name).unwrap();
        let mut from: Vec<String> = g
            .graph
            .edges_directed(n, petgraph::Direction::Incoming)
            .map(|e| g.graph[petgraph::visit::EdgeRef::source(&e)].name.clone())
            .collect();
        from.sort();
        from
    };
    assert_eq!(inputs("s1.in3"), ["s1.x1", "s1.x2", "stem"]);
    assert_eq!(inputs("s1.in4"), ["s1.x1", "s1.x2", "s1.x3", "stem"]);
    assert_eq!(inputs("s2.in4"), ["s1.pool", "s2.x1", "s2.x2", "s2.x3"]);
    let shape = |name: &str| r.node_shapes[&g.node_by_name(name).unwrap()];
    assert_eq!(shape("s2.x3"), Shape::Image { c: 8, h: 8, w: 8 });
    // 3 conv choices per layer, 3 layers per stage, a pool choice per stage.
    assert_eq!(g.space_size(), 3f64.powi(6) * 4.0);
}

#[test]
fn chain_shapes_follow_the_stages() {
    let g = chain();
    let r = g.validate().unwrap();
    // 28 -> 14 -> 7 (two halvings keep the image at least 4 wide), channels double each time.
    let shape = |name: &str| r.node_shapes[&g.node_by_name(name).unwrap()];
    assert_eq!(shape("s1.conv"), Shape::Image { c: 8, h: 28, w: 28 });
    assert_eq!(shape("s1.pool"), Shape::Image { c: 8, h: 14, w: 14 });
    assert_eq!(shape("s2.pool"), Shape::Image { c: 16, h: 7, w: 7 });
    assert_eq!(shape("s4.pool"), Shape::Image { c: 32, h: 7, w: 7 });
    assert_eq!(g.space_size(), 1296.0);
}

#[test]
fn nb201_has_15625_cells_and_the_known_size() {
    let g = TemplateSpec::Nb201 {
        channels: 16,
        cells: 5,
    }
    .build((3, 32, 32), 10);
    assert_eq!(g.space_size(), 15625.0);
    // 6 shared decisions, 3 stages x 5 cells x 6 edges.
    let cell_edges = g
        .graph
        .edge_indices()
        .filter(|&e| NB201_DECISIONS.contains(&g.graph[e].decision.as_str()))
        .count();
    assert_eq!(cell_edges, 90);
    // The best CIFAR-10 cell of NB201 is about 1.1 M parameters with 10 classes.
    let best = Candidate::parse(&g, "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|").unwrap();
    let params = best.cost(&g).unwrap().params;
    assert!((1_000_000..1_200_000).contains(&params), "params {params}");
}

#[test]
fn nb201_string_round_trips_exactly() {
    let g = nb201();
    let text =
        "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|";
    let c = Candidate::parse(&g, text).unwrap();
    assert_eq!(c.to_string(&g), text);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    for _ in 0..50 {
        let c = Candidate::sample(&g, &mut rng);
        assert_eq!(Candidate::parse(&g, &c.to_string(&g)).unwrap(), c);
    }
}

#[test]
fn bad_candidate_strings_say_what_is_wrong() {
    let g = nb201();
    let err = |t: &str| Candidate::parse(&g, t).unwrap_err().to_string();
    assert!(err("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|").contains("no block `conv`"));
    assert!(err("|none~0|+|none~0|none~1|").contains("3 `+`-separated"));
    assert!(err("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|").contains("expected input ~0"));
    let c = chain();
    assert!(Candidate::parse(&c, "conv1:k3")
        .unwrap_err()
        .to_string()
        .contains("`pool1` is missing"));
    assert!(Candidate::parse(&c, "conv9:k3")
        .unwrap_err()
        .to_string()
        .contains("no decision `conv9`"));
}

#[test]
fn generic_strings_round_trip_and_skip_fixed_decisions() {
    let g = chain();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let c = Candidate::sample(&g, &mut rng);
    let text = c.to_string(&g);
    assert!(!text.contains("head"), "{text}");
    assert_eq!(text.split(' ').count(), 8);
    assert_eq!(Candidate::parse(&g, &text).unwrap(), c);
}

#[test]
fn channel_mismatch_names_the_edge_and_blocks() {
    let mut g = chain();
    let d = g.decision_index("conv2").unwrap();
    g.decisions[d].blocks.push(Block::new(
        "wide",
        BlockKind::Conv(ConvSpec::new(Some(99), 3)),
    ));
    match g.validate() {
        Err(SpaceError::ShapeMismatch { edge, detail }) => {
            assert_eq!(edge, "conv2");
            assert!(detail.contains("wide"), "{detail}");
        }
        other => panic!("expected a shape mismatch, got {other:?}"),
    }
}

#[test]
fn node_inputs_that_disagree_are_named() {
    let mut g = chain();
    let a = g.node_by_name("s1.conv").unwrap();
    let b = g.node_by_name("s2.pool").unwrap();
    g.connect(a, b, "shortcut", "conv1");
    let e = g.validate().unwrap_err();
    assert!(
        matches!(e, SpaceError::InputsDisagree { ref node, .. } if node == "s2.pool"),
        "{e}"
    );
}

#[test]
fn no_path_cycle_and_empty_decision_are_reported() {
    let mut g = chain();
    let e = g
        .apply(&Edit::Disconnect {
            name: "pool2".into(),
        })
        .unwrap_err();
    assert!(
        matches!(e, SpaceError::NoPath { .. } | SpaceError::Unreachable(_)),
        "{e}"
    );
    assert!(
        e.to_string().contains("s2.pool") || e.to_string().contains("logits"),
        "{e}"
    );
    let edge = g.edge_by_name("pool2").unwrap();
    g.graph.remove_edge(edge);
    assert_eq!(
        g.validate().unwrap_err(),
        SpaceError::UnusedDecision("pool2".into())
    );

    let mut g = chain();
    let a = g.node_by_name("s3.pool").unwrap();
    let b = g.node_by_name("s2.pool").unwrap();
    g.connect(a, b, "back", "pool1");
    assert!(matches!(g.validate(), Err(SpaceError::Cycle(_))));

    let mut g = chain();
    let d = g.decision_index("pool3").unwrap();
    g.decisions[d]
        .blocks
        .iter_mut()
        .for_each(|b| b.enabled = false);
    assert_eq!(
        g.validate().unwrap_err(),
        SpaceError::EmptyDecision("pool3".into())
    );
}

#[test]
fn refused_edits_leave_the_template_unchanged() {
    let mut g = chain();
    let before = TemplateDoc::to_json(&g);
    let refusals = [
        Edit::RemoveNode {
            name: "logits".into(),
        },
        Edit::Disconnect {
            name: "conv3".into(),
        },
        Edit::SetEnabled {
            decision: "head".into(),
            label: "dense".into(),
            enabled: false,
        },
        Edit::AddBlock {
            decision: "pool1".into(),
            block: Block::new("max", BlockKind::Identity),
        },
        Edit::AddBlock {
            decision: "conv1".into(),
            block: Block::new("k4", BlockKind::Conv(ConvSpec::new(Some(8), 4))),
        },
    ];
    for edit in &refusals {
        assert!(g.apply(edit).is_err(), "{edit:?} should be refused");
        assert_eq!(
            TemplateDoc::to_json(&g),
            before,
            "{edit:?} changed the template"
        );
    }
    // Removing blocks down to one works; removing the last is refused.
    g.apply(&Edit::RemoveBlock {
        decision: "pool1".into(),
        label: "avg".into(),
    })
    .unwrap();
    let e = g
        .apply(&Edit::RemoveBlock {
            decision: "pool1".into(),
            label: "max".into(),
        })
        .unwrap_err();
    assert!(e.to_string().contains("last block"), "{e}");
}

#[test]
fn accepted_edits_change_the_space() {
    let mut g = chain();
    g.apply(&Edit::SetEnabled {
        decision: "conv1".into(),
        label: "k5".into(),
        enabled: false,
    })
    .unwrap();
    assert_eq!(g.space_size(), 1296.0 / 3.0 * 2.0);
    g.apply(&Edit::SetLocked {
        decision: "pool2".into(),
        label: "avg".into(),
        locked: true,
    })
    .unwrap();
    assert_eq!(g.space_size(), 1296.0 / 3.0);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let d = g.decision_index("pool2").unwrap();
    let k5 = g.decisions[g.decision_index("conv1").unwrap()]
        .index_of("k5")
        .unwrap();
    for _ in 0..100 {
        let c = Candidate::sample(&g, &mut rng);
        assert_eq!(g.decisions[d].blocks[c.choices[d]].label, "avg");
        assert_ne!(c.choices[0], k5);
        c.check_allowed(&g).unwrap();
    }
    let pool = BlockKind::Pool(PoolSpec {
        mode: PoolMode::Max,
        kernel: 3,
        stride: 1,
    });
    g.apply(&Edit::ReplaceBlock {
        decision: "pool4".into(),
        label: "max".into(),
        block: Block::new("max3", pool),
    })
    .unwrap();
    assert!(g.decisions[g.decision_index("pool4").unwrap()]
        .index_of("max3")
        .is_some());
}

#[test]
fn template_files_round_trip_and_bad_files_are_named() {
    for g in [chain(), nb201()] {
        let json = TemplateDoc::to_json(&g);
        let back = TemplateDoc::parse(&json).unwrap();
        assert_eq!(TemplateDoc::to_json(&back), json);
    }
    let json = TemplateDoc::to_json(&chain());
    let e =
        TemplateDoc::parse(&json.replace("\"kind\": \"conv\"", "\"kind\": \"warp\"")).unwrap_err();
    assert!(e.to_string().contains("warp"), "{e}");
    let e = TemplateDoc::parse(&json.replace("\"version\": 1", "\"version\": 99")).unwrap_err();
    assert!(e.to_string().contains("newer"), "{e}");
    let e = TemplateDoc::parse(&json.replace("\"from\": \"s2.pool\"", "\"from\": \"nowhere\""))
        .unwrap_err();
    assert!(e.to_string().contains("nowhere"), "{e}");
    assert!(TemplateDoc::parse("{")
        .unwrap_err()
        .to_string()
        .contains("line 1"));
}

#[test]
fn costs_match_hand_counts() {
    // conv 3x3, 1 -> 8 channels at 28x28 with batch norm.
    let k3 = BlockKind::Conv(ConvSpec::new(Some(8), 3));
    let cost = k3.cost(Shape::Image { c: 1, h: 28, w: 28 }).unwrap();
    assert_eq!(cost.params, 8 * 9 + 16);
    assert_eq!(cost.flops, 2 * 28 * 28 * 8 * 9 + 2 * 8 * 28 * 28);
    // A candidate's cost is the sum over its chosen blocks; zero blocks cost nothing.
    let g = nb201();
    let all_none = Candidate::parse(&g, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|").unwrap();
    let all_conv = Candidate::parse(&g, "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|").unwrap();
    assert!(all_conv.cost(&g).unwrap().params > all_none.cost(&g).unwrap().params);
}

#[test]
fn enumerate_lists_every_allowed_candidate_once() {
    let mut g = chain();
    for d in ["conv1", "conv2", "conv3"] {
        g.apply(&Edit::SetLocked {
            decision: d.into(),
            label: "k3".into(),
            locked: true,
        })
        .unwrap();
    }
    let all = Candidate::enumerate(&g, 1000).unwrap();
    assert_eq!(all.len() as f64, g.space_size());
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), all.len());
    assert!(Candidate::enumerate(&chain(), 100).is_none());
}
