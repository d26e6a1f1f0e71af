//! One block's weights and forward pass. Weight names are `{edge}.{block}.{part}.{tensor}`,
//! the safetensors key schema (PyTorch-style: `conv.weight`, `bn.running_mean`, ...).

use candle_core::{Device, Result, Tensor, Var};

use crate::nas::ops::{self, bias_op::add_channel_bias, conv::conv2d_same, BatchNorm, BnMode};
use crate::nas::space::block::{BlockKind, PoolMode, Shape};

/// A convolution with optional batch norm (else a bias) and ReLU before or after.
#[derive(Debug)]
pub struct ConvUnit {
    weight: Var,
    bias: Option<Var>,
    bn: Option<BatchNorm>,
    stride: usize,
    dilation: usize,
    groups: usize,
    relu_before: bool,
    relu_after: bool,
    name: String,
}

#[allow(clippy::too_many_arguments)]
fn conv_unit(
    seed: u64,
    name: String,
    dev: &Device,
    (cin, cout, k): (usize, usize, usize),
    (stride, dilation, groups): (usize, usize, usize),
    batch_norm: bool,
    relu_before: bool,
    relu_after: bool,
) -> Result<ConvUnit> {
    let fan_in = cin / groups * k * k;
    let weight = ops::init::kaiming_uniform(
        seed,
        &format!("{name}.conv.weight"),
        &[cout, cin / groups, k, k],
        fan_in,
        dev,
    )?;
    let (bias, bn) = if batch_norm {
        let w = ops::init::constant(1.0, &[cout], dev)?;
        let b = ops::init::constant(0.0, &[cout], dev)?;
        (None, Some(BatchNorm::new(w, b, dev)?))
    } else {
        let bound = 1.0 / (fan_in as f32).sqrt();
        (
            Some(ops::init::uniform(
                seed,
                &format!("{name}.conv.bias"),
                &[cout],
                bound,
                dev,
            )?),
            None,
        )
    };
    Ok(ConvUnit {
        weight,
        bias,
        bn,
        stride,
        dilation,
        groups,
        relu_before,
        relu_after,
        name,
    })
}

impl ConvUnit {
    fn forward(&self, x: &Tensor, mode: BnMode) -> Result<Tensor> {
        let x = if self.relu_before {
            x.relu()?
        } else {
            x.clone()
        };
        let mut y = conv2d_same(&x, &self.weight, self.stride, self.dilation, self.groups)?;
        if let Some(b) = &self.bias {
            y = add_channel_bias(&y, b)?;
        }
        match &self.bn {
            Some(bn) => bn.forward_act(&y, mode, self.relu_after),
            None if self.relu_after => y.relu(),
            None => Ok(y),
        }
    }

    fn visit<'a>(
        &'a self,
        params: &mut Vec<(String, Var)>,
        bns: &mut Vec<(String, &'a BatchNorm)>,
    ) {
        params.push((format!("{}.conv.weight", self.name), self.weight.clone()));
        if let Some(b) = &self.bias {
            params.push((format!("{}.conv.bias", self.name), b.clone()));
        }
        if let Some(bn) = &self.bn {
            params.push((format!("{}.bn.weight", self.name), bn.weight.clone()));
            params.push((format!("{}.bn.bias", self.name), bn.bias.clone()));
            bns.push((format!("{}.bn", self.name), bn));
        }
    }
}

/// The weights and computation of one block on one edge.
#[derive(Debug)]
pub enum BlockModule {
    Conv(ConvUnit),
    /// Depthwise (no norm) then pointwise (with norm and ReLU).
    SepConv(ConvUnit, ConvUnit),
    Pool {
        mode: PoolMode,
        kernel: usize,
        stride: usize,
    },
    Identity,
    Zero,
    Dense {
        bn: Option<BatchNorm>,
        bn_name: String,
        layers: Vec<(String, Var, Var)>,
    },
    Residual {
        a: ConvUnit,
        b: ConvUnit,
        shortcut: ConvUnit,
    },
}

impl BlockModule {
    /// Creates the weights of `kind` for `input`; `prefix` is `{edge}.{block}`.
    pub fn new(
        kind: &BlockKind,
        input: Shape,
        prefix: &str,
        seed: u64,
        dev: &Device,
    ) -> Result<Self> {
        let cin = match input {
            Shape::Image { c, .. } => c,
            Shape::Vector { n } => n,
        };
        Ok(match kind {
            BlockKind::Conv(s) => {
                let cout = s.filters.unwrap_or(cin);
                let (before, after) = (s.relu && s.relu_first, s.relu && !s.relu_first);
                BlockModule::Conv(conv_unit(
                    seed,
                    prefix.to_string(),
                    dev,
                    (cin, cout, s.kernel),
                    (s.stride, s.dilation, s.groups),
                    s.batch_norm,
                    before,
                    after,
                )?)
            }
            BlockKind::SepConv(s) => {
                let cout = s.filters.unwrap_or(cin);
                let dw = conv_unit(
                    seed,
                    format!("{prefix}.depthwise"),
                    dev,
                    (cin, cin, s.kernel),
                    (s.stride, s.dilation, cin),
                    false,
                    false,
                    false,
                )?;
                let pw = conv_unit(
                    seed,
                    format!("{prefix}.pointwise"),
                    dev,
                    (cin, cout, 1),
                    (1, 1, 1),
                    s.batch_norm,
                    false,
                    s.relu,
                )?;
                BlockModule::SepConv(dw, pw)
            }
            BlockKind::Pool(p) => BlockModule::Pool {
                mode: p.mode,
                kernel: p.kernel,
                stride: p.stride,
            },
            BlockKind::Identity => BlockModule::Identity,
            BlockKind::Zero => BlockModule::Zero,
            BlockKind::Dense(d) => {
                let bn_name = format!("{prefix}.bn");
                let bn = if d.pre_bn_relu && matches!(input, Shape::Image { .. }) {
                    let w = ops::init::constant(1.0, &[cin], dev)?;
                    let b = ops::init::constant(0.0, &[cin], dev)?;
                    Some(BatchNorm::new(w, b, dev)?)
                } else {
                    None
                };
                let mut sizes = vec![cin];
                if d.hidden > 0 {
                    sizes.push(d.hidden);
                }
                sizes.push(d.classes);
                let mut layers = Vec::new();
                for (i, pair) in sizes.windows(2).enumerate() {
                    let name = if i + 2 == sizes.len() {
                        format!("{prefix}.linear")
                    } else {
                        format!("{prefix}.hidden")
                    };
                    let bound = 1.0 / (pair[0] as f32).sqrt();
                    let w = ops::init::uniform(
                        seed,
                        &format!("{name}.weight"),
                        &[pair[1], pair[0]],
                        bound,
                        dev,
                    )?;
                    let b =
                        ops::init::uniform(seed, &format!("{name}.bias"), &[pair[1]], bound, dev)?;
                    layers.push((name, w, b));
                }
                BlockModule::Dense {
                    bn,
                    bn_name,
                    layers,
                }
            }
            BlockKind::Residual(r) => BlockModule::Residual {
                a: conv_unit(
                    seed,
                    format!("{prefix}.conv_a"),
                    dev,
                    (cin, r.filters, 3),
                    (r.stride, 1, 1),
                    true,
                    true,
                    false,
                )?,
                b: conv_unit(
                    seed,
                    format!("{prefix}.conv_b"),
                    dev,
                    (r.filters, r.filters, 3),
                    (1, 1, 1),
                    true,
                    true,
                    false,
                )?,
                shortcut: {
                    let mut s = conv_unit(
                        seed,
                        format!("{prefix}.shortcut"),
                        dev,
                        (cin, r.filters, 1),
                        (1, 1, 1),
                        false,
                        false,
                        false,
                    )?;
                    s.bias = None;
                    s.stride = r.stride;
                    s
                },
            },
        })
    }

    /// Whether the block's output is exactly zero (lets the forward pass skip it).
    pub fn is_zero(&self) -> bool {
        matches!(self, BlockModule::Zero)
    }

    pub fn forward(&self, x: &Tensor, mode: BnMode) -> Result<Tensor> {
        match self {
            BlockModule::Conv(c) => c.forward(x, mode),
            BlockModule::SepConv(dw, pw) => pw.forward(&dw.forward(x, mode)?, mode),
            BlockModule::Pool {
                mode: m,
                kernel,
                stride,
            } => ops::pool2d(x, *m, *kernel, *stride),
            BlockModule::Identity => Ok(x.clone()),
            BlockModule::Zero => x.zeros_like(),
            BlockModule::Dense { bn, layers, .. } => {
                let mut h = match bn {
                    Some(bn) => bn.forward_act(x, mode, true)?,
                    None => x.clone(),
                };
                if h.rank() == 4 {
                    h = ops::global_avg_pool(&h)?;
                }
                for (i, (_, w, b)) in layers.iter().enumerate() {
                    h = ops::conv::linear(&h, w, b)?;
                    if i + 1 < layers.len() {
                        h = h.relu()?;
                    }
                }
                Ok(h)
            }
            BlockModule::Residual { a, b, shortcut } => {
                let main = b.forward(&a.forward(x, mode)?, mode)?;
                let pooled = ops::pool2d(x, PoolMode::Avg, shortcut.stride, shortcut.stride)?;
                let short = conv2d_same(&pooled, &shortcut.weight, 1, 1, 1)?;
                main + short
            }
        }
    }

    /// Every trainable parameter (with its key) and every batch norm of this block.
    pub fn visit<'a>(
        &'a self,
        params: &mut Vec<(String, Var)>,
        bns: &mut Vec<(String, &'a BatchNorm)>,
    ) {
        match self {
            BlockModule::Conv(c) => c.visit(params, bns),
            BlockModule::SepConv(dw, pw) => {
                dw.visit(params, bns);
                pw.visit(params, bns);
            }
            BlockModule::Residual { a, b, shortcut } => {
                a.visit(params, bns);
                b.visit(params, bns);
                shortcut.visit(params, bns);
            }
            BlockModule::Dense {
                bn,
                bn_name,
                layers,
            } => {
                if let Some(bn) = bn {
                    params.push((format!("{bn_name}.weight"), bn.weight.clone()));
                    params.push((format!("{bn_name}.bias"), bn.bias.clone()));
                    bns.push((bn_name.clone(), bn));
                }
                for (name, w, b) in layers {
                    params.push((format!("{name}.weight"), w.clone()));
                    params.push((format!("{name}.bias"), b.clone()));
                }
            }
            BlockModule::Pool { .. } | BlockModule::Identity | BlockModule::Zero => {}
        }
    }
}
