//! cuDNN state for the dense conv (`cudnn_conv.rs`), kept per thread because cuDNN handles
//! are neither Send nor Sync: one handle per candle CUDA device, bound to that device's
//! stream, and per conv shape a `Plan` (tensor, filter and conv descriptors, and for each
//! direction, when first run, the algorithm cuDNN's heuristics pick and its workspace size).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};
use std::thread::LocalKey;

use candle_core::cuda_backend::{CudaDevice, DeviceId};
use candle_core::{bail, DType, Error, Result};
use cudarc::cudnn::sys::{
    cudnnConvolutionBwdDataAlgo_t as DataAlgo, cudnnConvolutionBwdFilterAlgo_t as FilterAlgo,
    cudnnConvolutionFwdAlgo_t as FwdAlgo, cudnnConvolutionMode_t, cudnnMathType_t,
    cudnnTensorFormat_t,
};
use cudarc::cudnn::{
    ConvBackwardData, ConvBackwardFilter, ConvDescriptor, ConvForward, Cudnn, CudnnDataType,
    FilterDescriptor, TensorDescriptor,
};

use super::{int, Kern};
use crate::nas::ops::im2col::Geom;

/// Plans kept per thread and element type before the cache is emptied (shapes in a search
/// are few; this only bounds a pathological run of ever-new shapes).
const MAX_PLANS: usize = 512;

/// Whether f32 convs may use TF32 tensor cores (cuDNN's default math on Ampere and later, and
/// PyTorch's default for convs): only when NAS_CUDNN_TF32=1 (read once). Otherwise they are
/// restricted to FMA kernels, full f32 precision, as the CPU op.
fn tf32_allowed() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("NAS_CUDNN_TF32").as_deref() == Ok("1"))
}

/// A cuDNN error as a candle error, saying which call failed.
pub(crate) fn cudnn_err(what: &'static str) -> impl Fn(cudarc::cudnn::CudnnError) -> Error {
    move |e| Error::Msg(format!("cuDNN {what}: {e}"))
}

type Plans<T> = RefCell<HashMap<(DeviceId, Geom), Rc<Plan<T>>>>;

thread_local! {
    static HANDLES: RefCell<HashMap<DeviceId, Arc<Cudnn>>> = RefCell::new(HashMap::new());
    static PLANS_F32: Plans<f32> = RefCell::new(HashMap::new());
    static PLANS_F64: Plans<f64> = RefCell::new(HashMap::new());
}

/// Element types with a cuDNN data type and a plan cache of their own.
pub(crate) trait CudnnKern: Kern + CudnnDataType {
    fn plans() -> &'static LocalKey<Plans<Self>>;
}

impl CudnnKern for f32 {
    fn plans() -> &'static LocalKey<Plans<Self>> {
        &PLANS_F32
    }
}

impl CudnnKern for f64 {
    fn plans() -> &'static LocalKey<Plans<Self>> {
        &PLANS_F64
    }
}

/// This thread's cuDNN handle for `dev`, made on first use with candle's stream for `dev`, so
/// cuDNN's work is ordered with candle's and our kernels'.
fn handle(dev: &CudaDevice) -> Result<Arc<Cudnn>> {
    HANDLES.with(|h| {
        if let Some(handle) = h.borrow().get(&dev.id()) {
            return Ok(handle.clone());
        }
        let handle = Cudnn::new(dev.cuda_stream()).map_err(cudnn_err("create handle"))?;
        h.borrow_mut().insert(dev.id(), handle.clone());
        Ok(handle)
    })
}

/// The plan for a conv of geometry `g` in `T` on `dev`, made on first use.
pub(crate) fn plan<T: CudnnKern>(dev: &CudaDevice, g: &Geom) -> Result<Rc<Plan<T>>> {
    let key = (dev.id(), *g);
    if let Some(p) = T::plans().with(|m| m.borrow().get(&key).cloned()) {
        return Ok(p);
    }
    let p = Rc::new(Plan::new(&handle(dev)?, g)?);
    T::plans().with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MAX_PLANS {
            m.clear();
        }
        m.insert(key, p.clone());
    });
    Ok(p)
}

/// An algorithm and the workspace bytes it needs.
type Choice<A> = Cell<Option<(A, usize)>>;

/// The descriptors of one conv shape, NCHW and contiguous: x [N, C, H, W], filters
/// [F, C, K, K], y [N, F, OH, OW], with each direction's algorithm once chosen.
pub(crate) struct Plan<T> {
    x: TensorDescriptor<T>,
    w: FilterDescriptor<T>,
    y: TensorDescriptor<T>,
    conv: ConvDescriptor<T>,
    fwd: Choice<FwdAlgo>,
    data: Choice<DataAlgo>,
    filter: Choice<FilterAlgo>,
}

impl<T: CudnnKern> Plan<T> {
    fn new(cudnn: &Arc<Cudnn>, g: &Geom) -> Result<Self> {
        let i = |v| int("cudnn conv", v);
        let nchw = cudnnTensorFormat_t::CUDNN_TENSOR_NCHW;
        let x = cudnn.create_4d_tensor::<T>(nchw, [i(g.n)?, i(g.c)?, i(g.h)?, i(g.w)?]);
        let w = cudnn.create_4d_filter::<T>(nchw, [i(g.f)?, i(g.c)?, i(g.k)?, i(g.k)?]);
        let y = cudnn.create_4d_tensor::<T>(nchw, [i(g.n)?, i(g.f)?, i(g.out_h())?, i(g.out_w())?]);
        let mut conv = cudnn
            .create_conv2d::<T>(
                [i(g.pad)?; 2],
                [i(g.stride)?; 2],
                [i(g.dilation)?; 2],
                cudnnConvolutionMode_t::CUDNN_CROSS_CORRELATION,
            )
            .map_err(cudnn_err("conv descriptor"))?;
        // f32 without TF32: FMA kernels only. f64 keeps the default (its kernels are FMA).
        if T::DTYPE == DType::F32 && !tf32_allowed() {
            let fma = cudnnMathType_t::CUDNN_FMA_MATH;
            conv.set_math_type(fma).map_err(cudnn_err("math type"))?;
        }
        Ok(Self {
            x: x.map_err(cudnn_err("input descriptor"))?,
            w: w.map_err(cudnn_err("filter descriptor"))?,
            y: y.map_err(cudnn_err("output descriptor"))?,
            conv,
            fwd: Cell::new(None),
            data: Cell::new(None),
            filter: Cell::new(None),
        })
    }

    pub(crate) fn forward_op(&self) -> ConvForward<'_, T, T, T> {
        ConvForward {
            conv: &self.conv,
            x: &self.x,
            w: &self.w,
            y: &self.y,
        }
    }

    pub(crate) fn data_op(&self) -> ConvBackwardData<'_, T, T, T> {
        ConvBackwardData {
            conv: &self.conv,
            dx: &self.x,
            w: &self.w,
            dy: &self.y,
        }
    }

    pub(crate) fn filter_op(&self) -> ConvBackwardFilter<'_, T, T, T> {
        ConvBackwardFilter {
            conv: &self.conv,
            x: &self.x,
            dw: &self.w,
            dy: &self.y,
        }
    }

    /// The forward algorithm cuDNN's heuristics rank first (every forward algorithm is
    /// deterministic), else IMPLICIT_GEMM, which serves every shape; and its workspace bytes.
    pub(crate) fn forward_algo(&self) -> Result<(FwdAlgo, usize)> {
        chosen(&self.fwd, || {
            let op = self.forward_op();
            let general = FwdAlgo::CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
            let picked = op.pick_algorithm().unwrap_or(general);
            first_fitting("forward", &[picked, general], |a| op.get_workspace_size(a))
        })
    }

    /// The input-gradient algorithm: the heuristics' first, except that the non-deterministic
    /// ALGO_0 (atomic adds) gives way to the deterministic ALGO_1 where that serves the shape.
    pub(crate) fn data_algo(&self) -> Result<(DataAlgo, usize)> {
        chosen(&self.data, || {
            let op = self.data_op();
            let (atomic, stable) = (
                DataAlgo::CUDNN_CONVOLUTION_BWD_DATA_ALGO_0,
                DataAlgo::CUDNN_CONVOLUTION_BWD_DATA_ALGO_1,
            );
            let picked = op.pick_algorithm().unwrap_or(stable);
            let first = if picked == atomic { stable } else { picked };
            let order = [first, picked, stable, atomic];
            first_fitting("input gradient", &order, |a| op.get_workspace_size(a))
        })
    }

    /// The weight-gradient algorithm: the heuristics' first, except that the
    /// non-deterministic ALGO_0 and ALGO_3 give way to ALGO_1 where that serves the shape.
    pub(crate) fn filter_algo(&self) -> Result<(FilterAlgo, usize)> {
        chosen(&self.filter, || {
            let op = self.filter_op();
            let (atomic, stable) = (
                FilterAlgo::CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0,
                FilterAlgo::CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1,
            );
            let picked = op.pick_algorithm().unwrap_or(stable);
            let first = match picked {
                FilterAlgo::CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0
                | FilterAlgo::CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3 => stable,
                p => p,
            };
            let order = [first, picked, stable, atomic];
            first_fitting("weight gradient", &order, |a| op.get_workspace_size(a))
        })
    }
}

/// The first of `algos` that supports the shape (cuDNN tells its workspace size) and that
/// size; the heuristics' pick comes first, a general algorithm last, in case they fail.
fn first_fitting<A: Copy>(
    what: &'static str,
    algos: &[A],
    workspace: impl Fn(A) -> std::result::Result<usize, cudarc::cudnn::CudnnError>,
) -> Result<(A, usize)> {
    let mut last = None;
    for &algo in algos {
        match workspace(algo) {
            Ok(bytes) => return Ok((algo, bytes)),
            Err(e) => last = Some(e),
        }
    }
    let why = last.map_or_else(|| "none given".to_string(), |e| e.to_string());
    bail!("cuDNN {what}: no algorithm serves this shape ({why})")
}

/// The choice in `cell`, made by `choose` the first time.
fn chosen<A: Copy>(
    cell: &Choice<A>,
    choose: impl FnOnce() -> Result<(A, usize)>,
) -> Result<(A, usize)> {
    if let Some(c) = cell.get() {
        return Ok(c);
    }
    let c = choose()?;
    cell.set(Some(c));
    Ok(c)
}
