//! Layout benchmark: 100,000 distinct random candidates of the 7-stage chain template
//! (6^7 = 279,936 candidates) laid out in 2D and 3D with each method, then a stable extension
//! by 5,000 more; prints seconds and peak RSS (VmHWM) per run.
//!
//! `cargo run --release --no-default-features --example layout_bench [-- N]`

use std::collections::HashSet;
use std::time::Instant;

use nas_navigator::nas::search::layout::{LayoutMethod, StableLayout};
use nas_navigator::nas::space::{Candidate, TemplateSpec};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Resets the peak resident set size (Linux 4.0+; ignored elsewhere).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 100_000,
    };
    let extra = 5_000;
    let graph = TemplateSpec::Chain {
        stages: 7,
        width: 8,
    }
    .build((1, 28, 28), 10);
    let space = graph.space_size() as usize;
    if n + extra > space {
        return Err(format!("asked for {} candidates, the space has {space}", n + extra).into());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut seen = HashSet::with_capacity(n + extra);
    let mut all = Vec::with_capacity(n + extra);
    while all.len() < n + extra {
        let c = Candidate::sample(&graph, &mut rng);
        if seen.insert(c.clone()) {
            all.push(c);
        }
    }
    let (cands, round2) = all.split_at(n);
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    println!(
        "peak RSS with the candidates only: {:.0} MiB",
        nas_navigator::nas::memory::peak_rss_mib().unwrap_or(f64::NAN)
    );
    println!(
        "layout bench: {n} distinct candidates of chain-s7 ({space} in the space), \
         +{extra} by extend, {threads} threads"
    );
    println!(
        "{:<10} {:>4} {:>9} {:>11} {:>13}",
        "method", "dims", "fit s", "extend s", "peak RSS MiB"
    );
    for method in LayoutMethod::ALL {
        for dims in [2, 3] {
            reset_peak_rss();
            let start = Instant::now();
            let mut fit = StableLayout::fit(&graph, cands, method, dims, 1)?;
            let fit_s = start.elapsed().as_secs_f64();
            let start = Instant::now();
            let added = fit.extend(&graph, round2)?.len();
            let extend_s = start.elapsed().as_secs_f64();
            assert_eq!(added, extra);
            let finite = fit.points().iter().all(|p| p.iter().all(|x| x.is_finite()));
            println!(
                "{:<10} {:>4} {:>9.2} {:>11.2} {:>13.0}{}",
                method.name(),
                dims,
                fit_s,
                extend_s,
                nas_navigator::nas::memory::peak_rss_mib().unwrap_or(f64::NAN),
                if finite { "" } else { "  NON-FINITE POINTS" }
            );
        }
    }
    Ok(())
}
