//! A closed-loop load generator: N clients, each sending its next request when the last answered.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// Latency figures of one scenario.
#[derive(Debug, Clone)]
pub struct Figures {
    pub name: String,
    pub requests: usize,
    pub errors: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Sends requests from `clients` concurrent clients for `duration` (after a short warm-up);
/// `next_path(i)` gives the path of the i-th request of a client.
pub async fn run<F>(
    base: &str,
    name: &str,
    clients: usize,
    duration: Duration,
    next_path: F,
) -> Figures
where
    F: Fn(usize) -> String + Send + Sync + 'static,
{
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .expect("http client");
    let next_path = Arc::new(next_path);
    let warm_up = Duration::from_millis(500);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, next_path, base) = (http.clone(), next_path.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut i = c * 1_000_003;
            loop {
                let elapsed = started.elapsed();
                if elapsed >= warm_up + duration {
                    break;
                }
                let url = format!("{base}{}", next_path(i));
                i += 1;
                let t = Instant::now();
                let ok = match http.get(&url).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if elapsed >= warm_up {
                    if ok {
                        latencies.push(t.elapsed().as_micros() as u32);
                    } else {
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("client task");
        all.extend(l);
        errors += e;
    }
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    Figures {
        name: name.to_string(),
        requests: all.len(),
        errors,
        per_second: all.len() as f64 / duration.as_secs_f64(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

/// Runs a scenario `runs` times and keeps the run with the median throughput: the machine is
/// shared and noisy, so one run is not a figure.
pub async fn median_of<F>(
    runs: usize,
    base: &str,
    name: &str,
    clients: usize,
    duration: Duration,
    next_path: F,
) -> Figures
where
    F: Fn(usize) -> String + Send + Sync + Clone + 'static,
{
    // Named on standard error as it starts, so that a profiler can be attached to one scenario.
    eprintln!("bench: load “{name}”, {clients} clients, {runs} runs");
    let mut all = Vec::new();
    for _ in 0..runs.max(1) {
        all.push(run(base, name, clients, duration, next_path.clone()).await);
    }
    all.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    all.swap_remove(all.len() / 2)
}
