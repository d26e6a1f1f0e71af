//! Memory and disk faults: how much memory is free (so a load that cannot fit is refused
//! with a message instead of aborting the process), and plain words for the I/O and
//! device errors that mean "out of memory" or "disk full".

/// Bytes of memory available to a new allocation (Linux `MemAvailable`); `None` where that
/// cannot be read.
pub fn available_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// A size field of `/proc/self/status` (`VmHWM:`, `VmRSS:`) in MiB; `None` where that
/// cannot be read (not Linux).
fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Peak resident memory of this process in MiB (Linux `VmHWM`).
pub fn peak_rss_mib() -> Option<f64> {
    status_mib("VmHWM:")
}

/// CPU time (user + system, all threads) this process has used so far, in seconds. On
/// shared cores it is steadier than wall time for comparing two builds (`bench`).
pub fn cpu_seconds() -> Option<f64> {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage only writes the struct it is given, which is sized for it.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_SELF, u.as_mut_ptr()) } == 0;
    // SAFETY: zero-initialised, and filled in by getrusage when it succeeded.
    let u = unsafe { u.assume_init() };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    ok.then(|| secs(u.ru_utime) + secs(u.ru_stime))
}

/// Resident memory of this process now in MiB (Linux `VmRSS`).
pub fn rss_mib() -> Option<f64> {
    status_mib("VmRSS:")
}

/// `bytes` in GiB/MiB/KiB for messages.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (name, size) in UNITS {
        if bytes >= size {
            return format!("{:.1} {name}", bytes as f64 / size as f64);
        }
    }
    format!("{bytes} bytes")
}

/// `Err(message)` when `bytes` (or the arithmetic giving it, `None`) will not fit in the
/// memory available now; `what` says what needs it.
pub fn check_fits(bytes: Option<u64>, what: &str) -> Result<(), String> {
    let available = available_bytes();
    match (bytes, available) {
        (None, _) => Err(format!(
            "{what} would need more memory than can be addressed"
        )),
        (Some(b), Some(a)) if b > a => Err(format!(
            "{what} would need {}, but only {} is available",
            human_bytes(b),
            human_bytes(a)
        )),
        _ => Ok(()),
    }
}

/// Words for an I/O error: "disk full" and "out of memory" are said plainly.
pub fn describe_io(error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::StorageFull => format!("disk full ({error}); free some space and try again"),
        ErrorKind::QuotaExceeded => format!("disk quota exceeded ({error})"),
        ErrorKind::OutOfMemory => format!("out of memory ({error})"),
        _ => error.to_string(),
    }
}

/// Whether an error text (from candle or the safetensors writer) means the disk is full.
pub fn says_disk_full(text: &str) -> bool {
    text.contains("No space left on device") || text.contains("os error 28")
}

/// Whether an error text (from candle, CUDA or the allocator) means memory ran out.
pub fn says_out_of_memory(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("out_of_memory")
        || lower.contains("out of memory")
        || lower.contains("memory allocation")
}
