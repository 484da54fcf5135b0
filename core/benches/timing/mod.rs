//! The timing loop both benches share: `batches` batches of `calls` calls,
//! one more unmeasured first (to page in the code and warm the caches).

use std::time::Instant;

/// Nanoseconds per call of each measured batch, sorted.
pub fn per_call_ns(batches: usize, calls: u32, mut call: impl FnMut()) -> Vec<f64> {
    let mut per_call: Vec<f64> = Vec::with_capacity(batches);
    for batch in 0..=batches {
        let start = Instant::now();
        for _ in 0..calls {
            call();
        }
        let ns = start.elapsed().as_secs_f64() * 1e9 / f64::from(calls);
        if batch > 0 {
            per_call.push(ns);
        }
    }
    per_call.sort_by(f64::total_cmp);
    per_call
}
