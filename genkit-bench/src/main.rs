//! `genkit-bench`: the benchmark runner (see the crate docs).
//!
//! ```text
//! genkit-bench [--quick | --smoke] [--out PATH]
//! genkit-bench --anthropic [--quick | --smoke] [--in-flight] [--reps N] [--duration-s S]
//! genkit-bench --providers [--calls N] [--in-flight] [--reps N] [--duration-s S] [--out PATH]
//! genkit-bench serve local|loop [--latency-ms N]
//! genkit-bench client --impl NAME --workload overhead|loop|stream --base-url URL
//!                     [--concurrency N] [--calls N] [--warmup N] [--duration-s S]
//!                     [--turns N]   # agents: turns per active session
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use genkit_bench::client::{self, ClientArgs};
use genkit_bench::runner::{self, Mode, Plan};
use genkit_bench::workloads::Impl;
use genkit_bench::{report, serve};

const NOTES: &str = include_str!("../NOTES.md");

use genkit_bench::client::{num, value};

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))
}

fn client_main(args: &[String]) -> Result<(), String> {
    let a = ClientArgs::from_args(args)?;
    let imp = a.imp;
    match imp {
        Impl::GenkitTraced => client::install_noop_tracing(),
        Impl::GenkitExport => client::install_export_tracing(false)?,
        Impl::GenkitOtlp => client::install_export_tracing(true)?,
        _ => {}
    }
    let r = runtime()?
        .block_on(client::run(a))
        .map_err(|e| e.to_string())?;
    let line = serde_json::to_string(&r).map_err(|e| e.to_string())?;
    println!("{line}");
    // In-flight generates past the deadline are not waited for.
    std::process::exit(0);
}

fn provider_client_main(args: &[String]) -> Result<(), String> {
    let r = runtime()?
        .block_on(genkit_bench::providers::client(args))
        .map_err(|e| e.to_string())?;
    let line = serde_json::to_string(&r).map_err(|e| e.to_string())?;
    println!("{line}");
    if args.iter().any(|a| a == "--concurrency") {
        // In-flight generates past the deadline are not waited for.
        std::process::exit(0);
    }
    Ok(())
}

fn serve_main(args: &[String]) -> Result<(), String> {
    let kind = serve::parse_kind(args.first().map(String::as_str).unwrap_or("local"))
        .map_err(|e| e.to_string())?;
    let latency = Duration::from_millis(num(args, "--latency-ms", 0)?);
    runtime()?
        .block_on(serve::run(kind, latency))
        .map_err(|e| e.to_string())
}

/// How many runs each row is.
fn runs_sentence(plan: &Plan) -> String {
    match (plan.rust_runs, plan.overhead_runs) {
        (0 | 1, 0 | 1) => "Each row is one run.".into(),
        (n, m) => format!(
            "Each Rust row is the median of {n} runs ({m} in the sequential CPU table, the \
             noisiest), taken in turn with the other Rust rows (by chunks/s, generates/s or \
             CPU per call); the peers and the agents row are one run."
        ),
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| format!("{:.1} GiB RAM", kb as f64 / 1048576.0))
        .unwrap_or_default();
    let version = |cmd: &str, arg: &str| {
        std::process::Command::new(cmd)
            .arg(arg)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "not found".into())
    };
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cpu}, {cores} cores, {mem}; Linux {}; {}; node {}; {}",
        kernel.trim(),
        version("rustc", "--version"),
        version("node", "--version"),
        version("python3", "--version")
    )
}

/// `--anthropic`: the Anthropic provider's rows only, written into BENCHMARKS.md under
/// their own heading (smoke runs print them only).
fn anthropic_main(args: &[String]) -> Result<(), String> {
    let (calls, warmup) = if args.iter().any(|a| a == "--smoke") {
        (5, 2)
    } else if args.iter().any(|a| a == "--quick") {
        (300, 30)
    } else {
        (2000, 200)
    };
    let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
    let smoke = args.iter().any(|a| a == "--smoke");
    let (reps, duration) = if smoke {
        (1, Duration::from_millis(300))
    } else {
        (
            num(args, "--reps", 3)?,
            Duration::from_secs_f64(num(args, "--duration-s", 5.0)?),
        )
    };
    let sub = genkit_bench::anthropic::in_flight(&exe, reps, duration)?;
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    let old = std::fs::read_to_string(&out).unwrap_or_default();
    if args.iter().any(|a| a == "--in-flight") {
        println!("{sub}");
        if smoke {
            return Ok(());
        }
        let doc = genkit_bench::inflight::splice_sub(&old, genkit_bench::anthropic::HEADING, &sub);
        std::fs::write(&out, doc).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        eprintln!("wrote {}", out.display());
        return Ok(());
    }
    let section = format!(
        "{}\n{sub}",
        genkit_bench::anthropic::run(&exe, calls, warmup)?
    );
    println!("{section}");
    if smoke {
        return Ok(());
    }
    let section = format!(
        "{}\n\nMeasured with `cargo run --release -p genkit-bench -- --anthropic` on {}. Machine: {}.{}",
        genkit_bench::anthropic::HEADING,
        date(),
        machine(),
        section
            .strip_prefix(genkit_bench::anthropic::HEADING)
            .unwrap_or(&section)
    );
    let doc = genkit_bench::anthropic::replace_section(&old, &section);
    std::fs::write(&out, doc).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

fn anthropic_client_main(args: &[String]) -> Result<(), String> {
    let imp = value(args, "--impl").ok_or("--impl is required")?;
    let base_url = value(args, "--base-url").ok_or("--base-url is required")?;
    let calls = num(args, "--calls", 100)?;
    let warmup = num(args, "--warmup", 10)?;
    if imp == "genkit-rs-traced" {
        client::install_noop_tracing();
    }
    if let Some(n) = value(args, "--concurrency") {
        let concurrency: usize = n.parse().map_err(|_| "--concurrency: not a number")?;
        let duration = Duration::from_secs_f64(num(args, "--duration-s", 5.0)?);
        let r = runtime()?
            .block_on(genkit_bench::anthropic::client_in_flight(
                &imp,
                &base_url,
                concurrency,
                duration,
            ))
            .map_err(|e| e.to_string())?;
        println!("{}", serde_json::to_string(&r).map_err(|e| e.to_string())?);
        // In-flight generates past the deadline are not waited for.
        std::process::exit(0);
    }
    let m = runtime()?
        .block_on(genkit_bench::anthropic::client(
            &imp, &base_url, calls, warmup,
        ))
        .map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string(&m).map_err(|e| e.to_string())?);
    Ok(())
}

fn runner_main(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--anthropic") {
        return anthropic_main(args);
    }
    let mode = if args.iter().any(|a| a == "--smoke") {
        Mode::Smoke
    } else if args.iter().any(|a| a == "--quick") {
        Mode::Quick
    } else {
        Mode::Full
    };
    let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
    let plan = Plan::of(mode);
    let started = std::time::Instant::now();
    let report = runner::run(&exe, &plan)?;
    let tables = report.to_markdown();
    println!("{tables}");
    let out = value(args, "--out").map(PathBuf::from).or_else(|| {
        report::writes_benchmarks_md(mode)
            .then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md"))
    });
    if let Some(out) = out {
        let flag = match mode {
            Mode::Full => "",
            Mode::Quick => " -- --quick",
            _ => " -- --smoke",
        };
        let mut doc = format!(
            "# Benchmarks\n\nMeasured with `cargo run --release -p genkit-bench{flag}` on {}, {} s for the whole run. {}\n\nMachine: {}.\n\n{tables}\n{NOTES}",
            date(),
            started.elapsed().as_secs(),
            runs_sentence(&plan),
            machine()
        );
        // The serving section comes from genkit-axum's serve_load bench: keep it.
        if let Ok(old) = std::fs::read_to_string(&out)
            && let Some(i) = old.find(SERVING_SECTION)
        {
            doc.push('\n');
            doc.push_str(&old[i..]);
        }
        std::fs::write(&out, doc).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

fn date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The heading of the section `cargo bench -p genkit-axum --bench serve_load` writes.
const SERVING_SECTION: &str = "### 6. Serving over HTTP";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("client") => client_main(&args[1..]),
        Some("serve") => serve_main(&args[1..]),
        Some("anthropic-client") => anthropic_client_main(&args[1..]),
        Some("anthropic-serve") => runtime().and_then(|rt| {
            rt.block_on(genkit_bench::anthropic::serve())
                .map_err(|e| e.to_string())
        }),
        Some("provider-client") => provider_client_main(&args[1..]),
        _ if args.iter().any(|a| a == "--providers") => std::env::current_exe()
            .map_err(|e| format!("current exe: {e}"))
            .and_then(|exe| genkit_bench::providers::runner_main(&exe, &args)),
        _ => runner_main(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("genkit-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
