//! Fused softmax cross-entropy: the mean over rows of `-log softmax(logits)[label]` for
//! logits [N, C] and u32 labels [N], one op forward and one op back (the gradient is
//! `(softmax - onehot) / N` times the incoming gradient, its softmax recomputed from the
//! logits). On the CPU a plain loop in a fixed order, accumulated in f64, so runs repeat bit
//! for bit; on CUDA our kernel (`cuda/cross_entropy.rs`, the same arithmetic); on other
//! devices candle's composition.

use candle_core::{bail, CpuStorage, CustomOp2, CustomOp3, DType, Layout, Result, Shape, Tensor};

use super::im2col::{contiguous, Elem};

/// Mean softmax cross-entropy of `logits` [N, C] (f32 or f64) against `labels` [N] (u32):
/// a scalar of the logits' dtype. A label outside 0..C is an error on the CPU (on CUDA it
/// makes the loss NaN, so nothing waits for the device to check it).
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if super::cuda::active(logits.device()) {
        return super::cuda::cross_entropy::cross_entropy(logits, labels);
    }
    if logits.device().is_cpu() {
        return cross_entropy_cpu(logits, labels);
    }
    candle_nn::loss::cross_entropy(logits, labels)
}

/// The CPU op (see [`cross_entropy`]).
pub fn cross_entropy_cpu(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    check_shapes(logits, labels)?;
    logits
        .contiguous()?
        .apply_op2(&labels.contiguous()?, CrossEntropy)
}

/// The rows and classes of (logits, labels), or why they do not fit a cross-entropy.
pub(crate) fn check_shapes(logits: &Tensor, labels: &Tensor) -> Result<(usize, usize)> {
    let (rows, classes) = logits.dims2()?;
    if labels.dims() != [rows] || labels.dtype() != DType::U32 {
        bail!(
            "cross_entropy: labels must be u32 [{rows}], got {:?} {:?}",
            labels.dtype(),
            labels.dims()
        )
    }
    if rows == 0 || classes == 0 {
        bail!("cross_entropy: logits must have rows and classes, got [{rows}, {classes}]")
    }
    Ok((rows, classes))
}

/// Log of the softmax denominator of one row, with its maximum: (max, ln sum exp(x - max)).
fn log_norm<T: Elem>(row: &[T]) -> (f64, f64) {
    let max = row.iter().fold(f64::NEG_INFINITY, |m, v| m.max(v.to_f64()));
    let sum: f64 = row.iter().map(|v| (v.to_f64() - max).exp()).sum();
    (max, sum.ln())
}

/// The label of row `i` as a class index, or why it is not one.
fn class_of(labels: &[u32], i: usize, classes: usize) -> Result<usize> {
    let label = labels[i] as usize;
    if label >= classes {
        bail!("cross_entropy: label {label} of row {i} is not a class (0..{classes})")
    }
    Ok(label)
}

/// Whether `logits` holds one row of `classes` per label.
fn check_rows<T>(logits: &[T], labels: &[u32], classes: usize) -> Result<()> {
    if labels.is_empty() || logits.len() != labels.len() * classes {
        bail!(
            "cross_entropy: {} logits do not make {} rows of {classes}",
            logits.len(),
            labels.len()
        )
    }
    Ok(())
}

/// The mean loss over the rows of `logits` [rows, classes].
fn forward<T: Elem>(logits: &[T], labels: &[u32], classes: usize) -> Result<T> {
    check_rows(logits, labels, classes)?;
    let rows = labels.len();
    let mut sum = 0.0f64;
    for (i, row) in logits.chunks_exact(classes).enumerate() {
        let label = class_of(labels, i, classes)?;
        let (max, log_sum) = log_norm(row);
        sum += max + log_sum - row[label].to_f64();
    }
    Ok(T::from_f64(sum / rows as f64))
}

/// The logits' gradient: (softmax - onehot) * grad / rows (one exp per logit: each row's
/// exponentials are kept for its softmax).
fn backward<T: Elem>(logits: &[T], labels: &[u32], classes: usize, grad: f64) -> Result<Vec<T>> {
    check_rows(logits, labels, classes)?;
    let scale = grad / labels.len() as f64;
    let mut out = Vec::with_capacity(logits.len());
    let mut exps = vec![0.0f64; classes];
    for (i, row) in logits.chunks_exact(classes).enumerate() {
        let label = class_of(labels, i, classes)?;
        let max = row.iter().fold(f64::NEG_INFINITY, |m, v| m.max(v.to_f64()));
        let mut sum = 0.0f64;
        for (e, v) in exps.iter_mut().zip(row) {
            *e = (v.to_f64() - max).exp();
            sum += *e;
        }
        for (j, e) in exps.iter().enumerate() {
            let onehot = if j == label { 1.0 } else { 0.0 };
            out.push(T::from_f64((e / sum - onehot) * scale));
        }
    }
    Ok(out)
}

/// The forward op on (logits, labels).
struct CrossEntropy;

impl CustomOp2 for CrossEntropy {
    fn name(&self) -> &'static str {
        "nas-cross-entropy"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (_, classes) = l1.shape().dims2()?;
        let CpuStorage::U32(labels) = s2 else {
            bail!("{}: labels must be u32", self.name())
        };
        let labels = contiguous(labels, l2)?;
        let out = match s1 {
            CpuStorage::F32(x) => {
                CpuStorage::F32(vec![forward(contiguous(x, l1)?, labels, classes)?])
            }
            CpuStorage::F64(x) => {
                CpuStorage::F64(vec![forward(contiguous(x, l1)?, labels, classes)?])
            }
            _ => bail!("{}: only f32 and f64 are supported", self.name()),
        };
        Ok((out, Shape::from(())))
    }

    fn bwd(
        &self,
        logits: &Tensor,
        labels: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dx = logits.apply_op3_no_bwd(labels, &grad.contiguous()?, &CrossEntropyGrad)?;
        Ok((Some(dx), None))
    }
}

/// The logits' gradient of `CrossEntropy` from (logits, labels, the loss's gradient).
struct CrossEntropyGrad;

impl CustomOp3 for CrossEntropyGrad {
    fn name(&self) -> &'static str {
        "nas-cross-entropy-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (_, classes) = l1.shape().dims2()?;
        if l3.shape().elem_count() != 1 {
            bail!("{}: the loss's gradient must be a scalar", self.name())
        }
        let CpuStorage::U32(labels) = s2 else {
            bail!("{}: labels must be u32", self.name())
        };
        let labels = contiguous(labels, l2)?;
        let out = match (s1, s3) {
            (CpuStorage::F32(x), CpuStorage::F32(g)) => {
                let g = contiguous(g, l3)?[0].to_f64();
                CpuStorage::F32(backward(contiguous(x, l1)?, labels, classes, g)?)
            }
            (CpuStorage::F64(x), CpuStorage::F64(g)) => {
                let g = contiguous(g, l3)?[0];
                CpuStorage::F64(backward(contiguous(x, l1)?, labels, classes, g)?)
            }
            _ => bail!("{}: only f32 and f64 are supported, all alike", self.name()),
        };
        Ok((out, l1.shape().clone()))
    }
}
