//! Built-in templates: the paper's chain, NAS-Bench-201's stacked cell, a ResNet-like, and
//! (in `presets`) a VGG-like and a DenseNet-like.

use serde::{Deserialize, Serialize};

use super::block::{
    Block, BlockKind, ConvSpec, DenseSpec, PoolMode, PoolSpec, ResidualSpec, SepConvSpec, Shape,
};
use super::candidate::NB201_DECISIONS;
use super::graph::{StringFormat, SuperGraph};
use super::presets;

/// Which template to build, with its size knobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum TemplateSpec {
    /// The paper's chain: `stages` of {conv 3x3 | conv 5x5 | sep conv 3x3} then a
    /// {max | avg} pooling choice, then a dense head. Channels start at `width` and double
    /// whenever a stage pools 2x2 with stride 2.
    Chain { stages: usize, width: usize },
    /// NAS-Bench-201: stem, 3 stages of `cells` cells (channels C, 2C, 4C), residual
    /// reductions between stages, BN-ReLU-GAP-linear head.
    Nb201 { channels: usize, cells: usize },
    /// ResNet-like: per stage a residual unit (two conv choices in series, an identity skip
    /// summed at the end) and a {max | avg | residual} downsampling choice.
    Resnet { stages: usize, width: usize },
    /// VGG-like plain chain: per stage 2 or 3 conv choices in series, no shortcuts, then a
    /// {max | avg} pooling choice; channels double as in the chain.
    Vgg { stages: usize, width: usize },
    /// DenseNet-like: per stage 3 conv choices, each reading the sum of the stage input and
    /// every earlier layer's output, then a {max | avg} pooling choice; `width` channels.
    Densenet { stages: usize, width: usize },
}

/// The names `TemplateSpec::name` gives, in the order of [`TemplateSpec::presets`].
pub const TEMPLATE_NAMES: [&str; 5] = ["chain", "nb201", "resnet", "vgg", "densenet"];

impl TemplateSpec {
    pub fn name(&self) -> &'static str {
        match self {
            TemplateSpec::Chain { .. } => "chain",
            TemplateSpec::Nb201 { .. } => "nb201",
            TemplateSpec::Resnet { .. } => "resnet",
            TemplateSpec::Vgg { .. } => "vgg",
            TemplateSpec::Densenet { .. } => "densenet",
        }
    }

    /// Every built-in template at one size knob pair (nb201: `width` channels, `stages`
    /// cells per stage), in the order of [`TEMPLATE_NAMES`]: the app's template palette.
    pub fn presets(stages: usize, width: usize) -> Vec<TemplateSpec> {
        vec![
            TemplateSpec::Chain { stages, width },
            TemplateSpec::Nb201 {
                channels: width,
                cells: stages,
            },
            TemplateSpec::Resnet { stages, width },
            TemplateSpec::Vgg { stages, width },
            TemplateSpec::Densenet { stages, width },
        ]
    }

    /// The template in words: "a chain of 4 stages, 16 channels wide".
    pub fn describe(&self) -> String {
        match self {
            TemplateSpec::Chain { stages, width } => {
                format!("a chain of {stages} stages, {width} channels wide")
            }
            TemplateSpec::Nb201 { channels, cells } => {
                format!("NB201 with {cells} cells a stage, {channels} channels wide")
            }
            TemplateSpec::Resnet { stages, width } => {
                format!("a resnet of {stages} stages, {width} channels wide")
            }
            TemplateSpec::Vgg { stages, width } => {
                format!("a VGG-like plain chain of {stages} stages, {width} channels wide")
            }
            TemplateSpec::Densenet { stages, width } => {
                format!("a DenseNet-like template of {stages} stages, {width} channels wide")
            }
        }
    }

    /// Builds the super-graph for images of `input` (c, h, w) and `classes` classes.
    pub fn build(&self, input: (usize, usize, usize), classes: usize) -> SuperGraph {
        match *self {
            TemplateSpec::Chain { stages, width } => chain(input, classes, stages, width),
            TemplateSpec::Nb201 { channels, cells } => nb201(input, classes, channels, cells),
            TemplateSpec::Resnet { stages, width } => resnet(input, classes, stages, width),
            TemplateSpec::Vgg { stages, width } => presets::vgg(input, classes, stages, width),
            TemplateSpec::Densenet { stages, width } => {
                presets::densenet(input, classes, stages, width)
            }
        }
    }
}

pub(super) fn image_shape((c, h, w): (usize, usize, usize)) -> Shape {
    Shape::Image { c, h, w }
}

/// Stages (0-based) that halve the image: the first ones, as many as keep the image at
/// least 4 pixels wide (early halving keeps the chain cheap enough to train on a CPU).
pub fn downsampling_stages(stages: usize, size: usize) -> Vec<bool> {
    let mut halvings = 0;
    while size >> (halvings + 1) >= 4 {
        halvings += 1;
    }
    (0..stages).map(|s| s < halvings).collect()
}

pub(super) fn conv(filters: usize, kernel: usize) -> BlockKind {
    BlockKind::Conv(ConvSpec::new(Some(filters), kernel))
}

pub(super) fn sep_conv(filters: usize, kernel: usize) -> BlockKind {
    BlockKind::SepConv(SepConvSpec {
        filters: Some(filters),
        kernel,
        stride: 1,
        dilation: 1,
        batch_norm: true,
        relu: true,
    })
}

pub(super) fn pool(mode: PoolMode, halve: bool) -> BlockKind {
    let (kernel, stride) = if halve { (2, 2) } else { (3, 1) };
    BlockKind::Pool(PoolSpec {
        mode,
        kernel,
        stride,
    })
}

pub(super) fn head(classes: usize, pre_bn_relu: bool) -> Vec<Block> {
    vec![Block::new(
        "dense",
        BlockKind::Dense(DenseSpec {
            classes,
            hidden: 0,
            pre_bn_relu,
        }),
    )]
}

fn chain(input: (usize, usize, usize), classes: usize, stages: usize, width: usize) -> SuperGraph {
    let mut g = SuperGraph::new("chain", image_shape(input));
    let halve = downsampling_stages(stages, input.1.min(input.2));
    let mut prev = g.input;
    let mut channels = width;
    for (s, &halves) in halve.iter().enumerate() {
        let stage = s + 1;
        let conv_d = format!("conv{stage}");
        g.add_decision(
            &conv_d,
            vec![
                Block::new("k3", conv(channels, 3)),
                Block::new("k5", conv(channels, 5)),
                Block::new("sep3", sep_conv(channels, 3)),
            ],
        );
        let mid = g.add_node(format!("s{stage}.conv"), stage);
        g.connect(prev, mid, conv_d.clone(), &conv_d);
        let pool_d = format!("pool{stage}");
        g.add_decision(
            &pool_d,
            vec![
                Block::new("max", pool(PoolMode::Max, halves)),
                Block::new("avg", pool(PoolMode::Avg, halves)),
            ],
        );
        let out = g.add_node(format!("s{stage}.pool"), stage);
        g.connect(mid, out, pool_d.clone(), &pool_d);
        prev = out;
        if halves {
            channels *= 2;
        }
    }
    g.add_decision("head", head(classes, false));
    g.output = g.add_node("logits", stages + 1);
    g.connect(prev, g.output, "head", "head");
    g
}

/// NB201's cell ops; `filters: None` keeps the channels of the stage.
pub fn nb201_ops() -> Vec<Block> {
    let nor_conv = |k| {
        let mut spec = ConvSpec::new(None, k);
        spec.relu_first = true;
        BlockKind::Conv(spec)
    };
    vec![
        Block::new("none", BlockKind::Zero),
        Block::new("skip_connect", BlockKind::Identity),
        Block::new("nor_conv_1x1", nor_conv(1)),
        Block::new("nor_conv_3x3", nor_conv(3)),
        Block::new(
            "avg_pool_3x3",
            BlockKind::Pool(PoolSpec {
                mode: PoolMode::Avg,
                kernel: 3,
                stride: 1,
            }),
        ),
    ]
}

fn nb201(
    input: (usize, usize, usize),
    classes: usize,
    channels: usize,
    cells: usize,
) -> SuperGraph {
    let mut g = SuperGraph::new("nb201", image_shape(input));
    g.format = StringFormat::Nb201;
    for d in NB201_DECISIONS {
        g.add_decision(d, nb201_ops());
    }
    let mut stem = ConvSpec::new(Some(channels), 3);
    stem.relu = false;
    g.add_decision("stem", vec![Block::new("conv3x3", BlockKind::Conv(stem))]);
    let mut prev = g.add_node("stem", 0);
    g.connect(g.input, prev, "stem", "stem");
    let mut c = channels;
    for stage in 1..=3 {
        if stage > 1 {
            c *= 2;
            let name = format!("reduce{stage}");
            g.add_decision(
                &name,
                vec![Block::new(
                    "resblock",
                    BlockKind::Residual(ResidualSpec {
                        filters: c,
                        stride: 2,
                    }),
                )],
            );
            let next = g.add_node(format!("s{stage}.in"), stage);
            g.connect(prev, next, name.clone(), &name);
            prev = next;
        }
        for cell in 0..cells {
            let mut nodes = vec![prev];
            for k in 1..=3 {
                nodes.push(g.add_node(format!("s{stage}c{cell}.n{k}"), stage));
            }
            for (i, d) in NB201_DECISIONS.iter().enumerate() {
                let (to, from) = match i {
                    0 => (1, 0),
                    1 => (2, 0),
                    2 => (2, 1),
                    3 => (3, 0),
                    4 => (3, 1),
                    _ => (3, 2),
                };
                let edge = format!("s{stage}c{cell}_{}", d.replace("~", "_"));
                g.connect(nodes[from], nodes[to], edge, d);
            }
            prev = nodes[3];
        }
    }
    g.add_decision("head", head(classes, true));
    g.output = g.add_node("logits", 4);
    g.connect(prev, g.output, "head", "head");
    g
}

fn resnet(input: (usize, usize, usize), classes: usize, stages: usize, width: usize) -> SuperGraph {
    let mut g = SuperGraph::new("resnet", image_shape(input));
    g.add_decision("stem", vec![Block::new("conv3x3", conv(width, 3))]);
    let mut prev = g.add_node("stem", 0);
    g.connect(g.input, prev, "stem", "stem");
    g.add_decision("skip", vec![Block::new("identity", BlockKind::Identity)]);
    let halve = downsampling_stages(stages, input.1.min(input.2));
    let c = width;
    for (s, &halves) in halve.iter().enumerate() {
        let stage = s + 1;
        let choices = |c| {
            vec![
                Block::new("k3", conv(c, 3)),
                Block::new("k5", conv(c, 5)),
                Block::new("sep3", sep_conv(c, 3)),
                Block::new("zero", BlockKind::Zero),
            ]
        };
        let (da, db) = (format!("res{stage}a"), format!("res{stage}b"));
        g.add_decision(&da, choices(c));
        g.add_decision(&db, choices(c));
        let mid = g.add_node(format!("s{stage}.mid"), stage);
        let out = g.add_node(format!("s{stage}.sum"), stage);
        g.connect(prev, mid, da.clone(), &da);
        g.connect(mid, out, db.clone(), &db);
        g.connect(prev, out, format!("skip{stage}"), "skip");
        prev = out;
        if halves {
            let d = format!("down{stage}");
            g.add_decision(
                &d,
                vec![
                    Block::new("max", pool(PoolMode::Max, true)),
                    Block::new("avg", pool(PoolMode::Avg, true)),
                    Block::new(
                        "resblock",
                        BlockKind::Residual(ResidualSpec {
                            filters: c,
                            stride: 2,
                        }),
                    ),
                ],
            );
            let next = g.add_node(format!("s{stage}.down"), stage);
            g.connect(prev, next, d.clone(), &d);
            prev = next;
        }
    }
    g.add_decision("head", head(classes, false));
    g.output = g.add_node("logits", stages + 1);
    g.connect(prev, g.output, "head", "head");
    g
}
