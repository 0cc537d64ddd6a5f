//! The runner in its shortest mode (`--smoke`: a handful of calls per row, Rust rows
//! only, real servers and clients as child processes on 127.0.0.1): the tables have the
//! expected rows and every number is positive and finite. No timing assertions.

use std::process::Command;

fn numbers(cells: &[&str]) -> Vec<f64> {
    cells
        .iter()
        .filter_map(|c| c.trim().trim_end_matches('×').parse::<f64>().ok())
        .collect()
}

fn rows_of<'a>(table: &'a str, section: &str) -> Vec<Vec<&'a str>> {
    let start = table
        .find(section)
        .unwrap_or_else(|| panic!("no section {section:?} in:\n{table}"));
    table[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect()
}

#[test]
fn smoke_run_prints_every_row_with_sane_numbers() {
    let out_file =
        std::env::temp_dir().join(format!("genkit-bench-smoke-{}.md", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_genkit-bench"))
        .args(["--smoke", "--out"])
        .arg(&out_file)
        .output()
        .expect("run genkit-bench --smoke");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "genkit-bench --smoke failed:\n{stderr}\n{stdout}"
    );

    let written = std::fs::read_to_string(&out_file).expect("--out file written");
    let _ = std::fs::remove_file(&out_file);
    assert!(written.starts_with("# Benchmarks"), "{written}");
    assert!(written.contains("cargo run --release -p genkit-bench -- --smoke"));
    assert!(
        written.contains(stdout.trim()),
        "the file holds the printed tables"
    );

    let mut rust = vec![
        "reqwest (hand-written)",
        "genkit-rs, tracing off",
        "genkit-rs, tracing on",
        "genkit-rs, export to telemetry server",
        "genkit-rs, export over OTLP",
    ];
    // rig's rows only in a build with its peers (`--features rig`).
    if cfg!(feature = "rig") {
        rust.push("rig 0.21");
    }

    let overhead = rows_of(&stdout, "### 1. Overhead");
    let labels: Vec<&str> = overhead.iter().map(|r| r[0]).collect();
    assert_eq!(labels, rust, "{stdout}");
    for row in &overhead {
        // calls, median, p99, CPU/call, ratio, RSS
        let n = numbers(&row[1..]);
        assert_eq!(n.len(), 6, "row {row:?}");
        assert!(n.iter().all(|v| v.is_finite() && *v > 0.0), "row {row:?}");
        assert_eq!(n[0], 5.0, "five measured calls: {row:?}");
        assert!(n[2] >= n[1], "p99 >= median: {row:?}");
    }

    let tool_loop = rows_of(&stdout, "### 2. Tool loop");
    assert_eq!(tool_loop.len(), rust.len() * 2, "{stdout}");
    for (i, row) in tool_loop.iter().enumerate() {
        assert_eq!(row[0], rust[i % rust.len()]);
        assert_eq!(row[1], if i < rust.len() { "1" } else { "4" });
        let n = numbers(&row[2..]);
        assert_eq!(n.len(), 6, "row {row:?}");
        assert!(n.iter().all(|v| v.is_finite() && *v > 0.0), "row {row:?}");
    }

    let stream = rows_of(&stdout, "### 3. Streaming");
    let labels: Vec<&str> = stream.iter().map(|r| r[0]).collect();
    assert_eq!(labels, &rust[..5], "{stdout}");
    for row in &stream {
        let n = numbers(&row[1..]);
        assert_eq!(n.len(), 4, "row {row:?}");
        assert!(n.iter().all(|v| v.is_finite() && *v > 0.0), "row {row:?}");
        assert!(
            n[2] > 100.0,
            "hundreds of chunks per second at least: {row:?}"
        );
    }

    let agents = rows_of(&stdout, "### 4. Agents");
    assert_eq!(agents.len(), 5, "{stdout}");
    assert!(
        agents[0][0].starts_with("RSS per 10,000 idle sessions"),
        "{agents:?}"
    );
    assert!(
        agents[1][0].starts_with("turns/s with 20 active sessions"),
        "{agents:?}"
    );
    for row in &agents {
        let n = numbers(&row[1].split(" / ").collect::<Vec<_>>());
        assert!(!n.is_empty(), "row {row:?}");
        // RSS growth may round to zero over a few sessions; everything else is positive.
        assert!(n.iter().all(|v| v.is_finite() && *v >= 0.0), "row {row:?}");
    }
    assert!(numbers(&[agents[1][1]])[0] > 0.0, "turns/s: {agents:?}");
    assert!(stdout.contains("### 5. Start-up"));
    let targets = rows_of(&stdout, "### Targets");
    assert!(targets[0][0].starts_with("CPU per generate"), "{targets:?}");
    let ratio = numbers(&[targets[0][1].split('×').next().unwrap_or("")]);
    assert!(
        ratio.first().is_some_and(|r| r.is_finite() && *r > 0.0),
        "{targets:?}"
    );
}
