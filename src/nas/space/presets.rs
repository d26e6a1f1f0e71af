//! Two more built-in templates: a VGG-like plain chain and a DenseNet-like template whose
//! layers each read the sum of all earlier layers' outputs of their stage.

use super::block::{Block, BlockKind, PoolMode};
use super::graph::SuperGraph;
use super::templates::{conv, downsampling_stages, head, image_shape, pool, sep_conv};

/// Conv layers of each DenseNet-like stage.
pub const DENSE_LAYERS: usize = 3;

/// Conv layers of VGG-like stage `s` (0-based): 2, 2, then 3, as in VGG-16.
pub fn vgg_convs(s: usize) -> usize {
    if s < 2 {
        2
    } else {
        3
    }
}

fn conv_choices(channels: usize) -> Vec<Block> {
    vec![
        Block::new("k3", conv(channels, 3)),
        Block::new("k5", conv(channels, 5)),
        Block::new("sep3", sep_conv(channels, 3)),
    ]
}

fn pool_choices(halves: bool) -> Vec<Block> {
    vec![
        Block::new("max", pool(PoolMode::Max, halves)),
        Block::new("avg", pool(PoolMode::Avg, halves)),
    ]
}

/// VGG-like: per stage 2 or 3 conv decisions {k3, k5, sep3} in series, no shortcuts, then a
/// {max, avg} pooling choice; channels double after each stage that halves the image.
pub fn vgg(
    input: (usize, usize, usize),
    classes: usize,
    stages: usize,
    width: usize,
) -> SuperGraph {
    let mut g = SuperGraph::new("vgg", image_shape(input));
    let halve = downsampling_stages(stages, input.1.min(input.2));
    let mut prev = g.input;
    let mut channels = width;
    for (s, &halves) in halve.iter().enumerate() {
        let stage = s + 1;
        for layer in 1..=vgg_convs(s) {
            let d = format!("conv{stage}_{layer}");
            g.add_decision(&d, conv_choices(channels));
            let next = g.add_node(format!("s{stage}.conv{layer}"), stage);
            g.connect(prev, next, d.clone(), &d);
            prev = next;
        }
        let d = format!("pool{stage}");
        g.add_decision(&d, pool_choices(halves));
        let next = g.add_node(format!("s{stage}.pool"), stage);
        g.connect(prev, next, d.clone(), &d);
        prev = next;
        if halves {
            channels *= 2;
        }
    }
    g.add_decision("head", head(classes, false));
    g.output = g.add_node("logits", stages + 1);
    g.connect(prev, g.output, "head", "head");
    g
}

/// DenseNet-like, with sums where DenseNet concatenates (the super-graph's nodes sum their
/// inputs): a stem conv to `width` channels, then per stage [`DENSE_LAYERS`] conv decisions
/// {k3, k5, sep3}; layer k reads node `s{stage}.in{k}`, the sum of the stage input `x0` and
/// every earlier layer's output (identity edges), and the stage ends with a {max, avg}
/// pooling choice on the sum of all of them. Channels stay `width` throughout (every summed
/// feature map must have the same shape).
pub fn densenet(
    input: (usize, usize, usize),
    classes: usize,
    stages: usize,
    width: usize,
) -> SuperGraph {
    let mut g = SuperGraph::new("densenet", image_shape(input));
    g.add_decision("stem", vec![Block::new("conv3x3", conv(width, 3))]);
    g.add_decision("skip", vec![Block::new("identity", BlockKind::Identity)]);
    let mut prev = g.add_node("stem", 0);
    g.connect(g.input, prev, "stem", "stem");
    let halve = downsampling_stages(stages, input.1.min(input.2));
    for (s, &halves) in halve.iter().enumerate() {
        let stage = s + 1;
        // outputs[0] is the stage input; outputs[k] is layer k's.
        let mut outputs = vec![prev];
        for k in 1..=DENSE_LAYERS + 1 {
            // The sum of every earlier output; layer 1 reads the stage input directly.
            let read = if k == 1 {
                prev
            } else {
                let sum = g.add_node(format!("s{stage}.in{k}"), stage);
                for (j, &from) in outputs.iter().enumerate() {
                    g.connect(from, sum, format!("skip{stage}_{j}to{k}"), "skip");
                }
                sum
            };
            if k > DENSE_LAYERS {
                prev = read;
                break;
            }
            let d = format!("dense{stage}_{k}");
            g.add_decision(&d, conv_choices(width));
            let out = g.add_node(format!("s{stage}.x{k}"), stage);
            g.connect(read, out, d.clone(), &d);
            outputs.push(out);
        }
        let d = format!("pool{stage}");
        g.add_decision(&d, pool_choices(halves));
        let next = g.add_node(format!("s{stage}.pool"), stage);
        g.connect(prev, next, d.clone(), &d);
        prev = next;
    }
    g.add_decision("head", head(classes, true));
    g.output = g.add_node("logits", stages + 1);
    g.connect(prev, g.output, "head", "head");
    g
}
