//! Blocks: the basic components an edge of the super-graph can choose from, with their shapes,
//! parameter counts and FLOPs.

use serde::{Deserialize, Serialize};

/// The shape of a tensor node for one image (the batch dimension is implicit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    Image { c: usize, h: usize, w: usize },
    Vector { n: usize },
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shape::Image { c, h, w } => write!(f, "{c}x{h}x{w}"),
            Shape::Vector { n } => write!(f, "vector of {n}"),
        }
    }
}

fn yes() -> bool {
    true
}
fn one() -> usize {
    1
}

/// Conv Block: conv2d -> batch norm -> ReLU (or ReLU -> conv -> BN with `relu_first`, NB201's
/// `nor_conv`). `filters: None` keeps the input's channel count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvSpec {
    #[serde(default)]
    pub filters: Option<usize>,
    pub kernel: usize,
    #[serde(default = "one")]
    pub stride: usize,
    #[serde(default = "one")]
    pub dilation: usize,
    #[serde(default = "one")]
    pub groups: usize,
    #[serde(default = "yes")]
    pub batch_norm: bool,
    #[serde(default = "yes")]
    pub relu: bool,
    #[serde(default)]
    pub relu_first: bool,
}

impl ConvSpec {
    pub fn new(filters: Option<usize>, kernel: usize) -> Self {
        Self {
            filters,
            kernel,
            stride: 1,
            dilation: 1,
            groups: 1,
            batch_norm: true,
            relu: true,
            relu_first: false,
        }
    }
}

/// Separable conv: depthwise k x k -> pointwise 1x1 -> batch norm -> ReLU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SepConvSpec {
    #[serde(default)]
    pub filters: Option<usize>,
    pub kernel: usize,
    #[serde(default = "one")]
    pub stride: usize,
    #[serde(default = "one")]
    pub dilation: usize,
    #[serde(default = "yes")]
    pub batch_norm: bool,
    #[serde(default = "yes")]
    pub relu: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolMode {
    Max,
    Avg,
}

/// Pooling. Stride 1 pads to keep the size (odd kernel); stride > 1 uses no padding (floor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolSpec {
    pub mode: PoolMode,
    pub kernel: usize,
    pub stride: usize,
}

/// Dense head: [BN -> ReLU] -> global average pool -> [hidden linear -> ReLU] -> linear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseSpec {
    pub classes: usize,
    #[serde(default)]
    pub hidden: usize,
    #[serde(default)]
    pub pre_bn_relu: bool,
}

/// NB201's residual reduction block: ReLU-Conv-BN(stride) -> ReLU-Conv-BN, shortcut
/// avg-pool 2x2 -> conv 1x1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResidualSpec {
    pub filters: usize,
    #[serde(default = "two")]
    pub stride: usize,
}
fn two() -> usize {
    2
}

/// What a block computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BlockKind {
    Conv(ConvSpec),
    SepConv(SepConvSpec),
    Pool(PoolSpec),
    Identity,
    Zero,
    Dense(DenseSpec),
    Residual(ResidualSpec),
}

/// One choice of a decision: a labelled block that can be enabled, disabled or locked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub label: String,
    #[serde(flatten)]
    pub kind: BlockKind,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub locked: bool,
}

impl Block {
    pub fn new(label: impl Into<String>, kind: BlockKind) -> Self {
        Self {
            label: label.into(),
            kind,
            enabled: true,
            locked: false,
        }
    }
}

/// Cost of one block at a given input shape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    pub params: u64,
    /// Floating-point operations for one image; a multiply-add counts as 2.
    pub flops: u64,
}

impl std::ops::AddAssign for Cost {
    fn add_assign(&mut self, o: Self) {
        self.params = self.params.saturating_add(o.params);
        self.flops = self.flops.saturating_add(o.flops);
    }
}

/// The largest kernel, stride or dilation a block may have.
pub const MAX_WINDOW: usize = 1 << 12;
/// The most numbers one image's tensor may hold at any node (2^31, 8 GiB of f32).
pub const MAX_ELEMENTS: usize = 1 << 31;

/// The product of `xs` as u64, saturating (costs of absurd templates stay finite).
fn prod(xs: &[usize]) -> u64 {
    xs.iter().fold(1u64, |a, &x| a.saturating_mul(x as u64))
}

/// Refuses a shape whose tensor per image would hold more than [`MAX_ELEMENTS`] numbers.
fn check_size(shape: Shape) -> Result<Shape, String> {
    let elements = match shape {
        Shape::Image { c, h, w } => c.checked_mul(h).and_then(|ch| ch.checked_mul(w)),
        Shape::Vector { n } => Some(n),
    };
    match elements {
        Some(0) => Err(format!("gives {shape}, which holds no numbers")),
        Some(n) if n <= MAX_ELEMENTS => Ok(shape),
        _ => Err(format!(
            "gives {shape}, more than {MAX_ELEMENTS} numbers per image"
        )),
    }
}

fn conv_out(size: usize, kernel: usize, stride: usize, dilation: usize) -> usize {
    // "same" padding for odd kernels: pad = dilation * (kernel - 1) / 2.
    let pad = dilation * (kernel - 1) / 2;
    (size + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1
}

fn image(shape: Shape) -> Result<(usize, usize, usize), String> {
    match shape {
        Shape::Image { c, h, w } => Ok((c, h, w)),
        Shape::Vector { n } => Err(format!("needs an image input, got a vector of {n}")),
    }
}

fn conv_cost(cin: usize, cout: usize, k: usize, groups: usize, oh: usize, ow: usize) -> Cost {
    let macs = prod(&[oh, ow, cout, cin / groups, k, k]);
    Cost {
        params: prod(&[cout, cin / groups, k, k]),
        flops: macs.saturating_mul(2),
    }
}

fn bn_cost(c: usize, h: usize, w: usize) -> Cost {
    Cost {
        params: prod(&[2, c]),
        flops: prod(&[2, c, h, w]),
    }
}

impl BlockKind {
    /// Output shape for an input shape, or why the block cannot take that input.
    pub fn output_shape(&self, input: Shape) -> Result<Shape, String> {
        self.shape_and_cost(input).map(|(s, _)| s)
    }

    /// Parameters and FLOPs for one image at this input shape.
    pub fn cost(&self, input: Shape) -> Result<Cost, String> {
        self.shape_and_cost(input).map(|(_, c)| c)
    }

    fn shape_and_cost(&self, input: Shape) -> Result<(Shape, Cost), String> {
        check_size(input)?;
        let (shape, cost) = self.shape_and_cost_unchecked(input)?;
        Ok((check_size(shape)?, cost))
    }

    fn shape_and_cost_unchecked(&self, input: Shape) -> Result<(Shape, Cost), String> {
        match self {
            BlockKind::Conv(s) => {
                let (c, h, w) = image(input)?;
                let f = s.filters.unwrap_or(c);
                check_conv(s.kernel, s.stride, s.dilation)?;
                if s.groups == 0 || c % s.groups != 0 || f % s.groups != 0 {
                    return Err(format!(
                        "groups {} must divide input channels {c} and filters {f}",
                        s.groups
                    ));
                }
                let (oh, ow) = (
                    conv_out(h, s.kernel, s.stride, s.dilation),
                    conv_out(w, s.kernel, s.stride, s.dilation),
                );
                let mut cost = conv_cost(c, f, s.kernel, s.groups, oh, ow);
                if s.batch_norm {
                    cost += bn_cost(f, oh, ow);
                } else {
                    cost.params = cost.params.saturating_add(f as u64); // bias
                }
                Ok((Shape::Image { c: f, h: oh, w: ow }, cost))
            }
            BlockKind::SepConv(s) => {
                let (c, h, w) = image(input)?;
                let f = s.filters.unwrap_or(c);
                check_conv(s.kernel, s.stride, s.dilation)?;
                let (oh, ow) = (
                    conv_out(h, s.kernel, s.stride, s.dilation),
                    conv_out(w, s.kernel, s.stride, s.dilation),
                );
                let mut cost = conv_cost(c, c, s.kernel, c, oh, ow);
                cost += conv_cost(c, f, 1, 1, oh, ow);
                if s.batch_norm {
                    cost += bn_cost(f, oh, ow);
                } else {
                    cost.params = cost.params.saturating_add(f as u64);
                }
                Ok((Shape::Image { c: f, h: oh, w: ow }, cost))
            }
            BlockKind::Pool(p) => {
                let (c, h, w) = image(input)?;
                if p.kernel == 0 || p.stride == 0 {
                    return Err("pool kernel and stride must be at least 1".into());
                }
                if p.kernel.max(p.stride) > MAX_WINDOW {
                    return Err(format!(
                        "pool kernel and stride must be at most {MAX_WINDOW}"
                    ));
                }
                let (oh, ow) = if p.stride == 1 {
                    if p.kernel.is_multiple_of(2) {
                        return Err("a stride-1 pool needs an odd kernel".into());
                    }
                    (h, w)
                } else {
                    if h < p.kernel || w < p.kernel {
                        return Err(format!("pool kernel {} larger than {h}x{w}", p.kernel));
                    }
                    ((h - p.kernel) / p.stride + 1, (w - p.kernel) / p.stride + 1)
                };
                let flops = prod(&[c, oh, ow, p.kernel, p.kernel]);
                Ok((Shape::Image { c, h: oh, w: ow }, Cost { params: 0, flops }))
            }
            BlockKind::Identity | BlockKind::Zero => Ok((input, Cost::default())),
            BlockKind::Dense(d) => {
                if d.classes < 2 {
                    return Err(format!(
                        "a dense head needs at least 2 classes, got {}",
                        d.classes
                    ));
                }
                let mut cost = Cost::default();
                let features = match input {
                    Shape::Image { c, h, w } => {
                        if d.pre_bn_relu {
                            cost += bn_cost(c, h, w);
                        }
                        cost += Cost {
                            params: 0,
                            flops: prod(&[c, h, w]),
                        };
                        c
                    }
                    Shape::Vector { n } => n,
                };
                let mut last = features;
                for width in [d.hidden, d.classes] {
                    if width == 0 {
                        continue;
                    }
                    cost += Cost {
                        params: prod(&[last, width]).saturating_add(width as u64),
                        flops: prod(&[2, last, width]),
                    };
                    last = width;
                }
                Ok((Shape::Vector { n: d.classes }, cost))
            }
            BlockKind::Residual(r) => {
                let (c, h, w) = image(input)?;
                if r.stride == 0 || h < r.stride || w < r.stride {
                    return Err(format!("residual stride {} does not fit {h}x{w}", r.stride));
                }
                let (oh, ow) = (conv_out(h, 3, r.stride, 1), conv_out(w, 3, r.stride, 1));
                let mut cost = conv_cost(c, r.filters, 3, 1, oh, ow);
                cost += bn_cost(r.filters, oh, ow);
                cost += conv_cost(r.filters, r.filters, 3, 1, oh, ow);
                cost += bn_cost(r.filters, oh, ow);
                cost += conv_cost(c, r.filters, 1, 1, oh, ow);
                let (sh, sw) = (h / r.stride, w / r.stride);
                if (sh, sw) != (oh, ow) {
                    return Err(format!(
                        "residual shortcut gives {sh}x{sw}, main path {oh}x{ow}"
                    ));
                }
                Ok((
                    Shape::Image {
                        c: r.filters,
                        h: oh,
                        w: ow,
                    },
                    cost,
                ))
            }
        }
    }

    /// A short name of the kind, for colours and legends.
    pub fn kind_name(&self) -> &'static str {
        match self {
            BlockKind::Conv(_) => "conv",
            BlockKind::SepConv(_) => "sep_conv",
            BlockKind::Pool(p) if p.mode == PoolMode::Max => "max_pool",
            BlockKind::Pool(_) => "avg_pool",
            BlockKind::Identity => "identity",
            BlockKind::Zero => "zero",
            BlockKind::Dense(_) => "dense",
            BlockKind::Residual(_) => "residual",
        }
    }
}

fn check_conv(kernel: usize, stride: usize, dilation: usize) -> Result<(), String> {
    if kernel == 0 || kernel.is_multiple_of(2) {
        return Err(format!("kernel must be odd and at least 1, got {kernel}"));
    }
    if stride == 0 || dilation == 0 {
        return Err("stride and dilation must be at least 1".into());
    }
    if kernel.max(stride).max(dilation) > MAX_WINDOW {
        return Err(format!(
            "kernel {kernel}, stride {stride} and dilation {dilation} must each be at most {MAX_WINDOW}"
        ));
    }
    Ok(())
}
