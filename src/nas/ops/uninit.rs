//! Output buffers that their op writes whole, handed out without zero-filling them first.
//! With the allocator tuned to keep freed memory (`device::tune_allocator`), a zeroed
//! allocation is a `memset` of recycled heap memory: about a tenth of the CPU time of scoring
//! went to zero-filling outputs that the conv and pooling ops then overwrote.

use std::mem::MaybeUninit;

use super::im2col::Elem;

/// A vector of `len` elements filled by `write`, without zeroing it first. In debug builds
/// the buffer starts as NaN instead, so an element `write` missed shows up in the op tests
/// (they compare every output with candle's ops).
///
/// # Safety
/// `write` must write every element of the slice it is given before reading it (a gemm
/// without accumulation, copies, element-wise writes), and must not panic.
pub(crate) unsafe fn written_whole<T: Elem>(len: usize, write: impl FnOnce(&mut [T])) -> Vec<T> {
    if cfg!(debug_assertions) {
        let mut v = vec![T::from_f64(f64::NAN); len];
        write(&mut v);
        return v;
    }
    let mut v: Vec<T> = Vec::with_capacity(len);
    let spare: *mut [MaybeUninit<T>] = &mut v.spare_capacity_mut()[..len];
    // SAFETY: the capacity holds `len` elements; f32 and f64 have no invalid bit patterns, and
    // the caller's `write` writes each element before anything reads it.
    write(unsafe { &mut *(spare as *mut [T]) });
    // SAFETY: `write` has written all `len` elements.
    unsafe {
        v.set_len(len);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::written_whole;

    #[test]
    fn gives_what_write_wrote() {
        // SAFETY: the closure writes every element.
        let v = unsafe {
            written_whole::<f32>(1000, |b| {
                b.iter_mut().enumerate().for_each(|(i, x)| *x = i as f32)
            })
        };
        assert_eq!(v.len(), 1000);
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as f32));
    }
}
