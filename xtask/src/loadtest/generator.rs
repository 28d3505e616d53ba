//! The load generator in its own process: `wrk` when it is on the PATH,
//! otherwise `oha`, installed under `target/loadtest-tools` with
//! `cargo install --locked --root`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The oha release whose `--json` output [`parse_oha`] reads.
const OHA_VERSION: &str = "1.4.7";

/// What one run of the generator measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Load {
    /// Responses received.
    pub(crate) requests: u64,
    /// Responses per second.
    pub(crate) rps: f64,
    /// Median latency, microseconds.
    pub(crate) p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub(crate) p99_us: f64,
}

/// One run: `GET url` (`POST` with `body`) with `headers`, `connections`
/// connections, for `duration`.
pub(crate) struct Run<'a> {
    pub(crate) url: &'a str,
    pub(crate) headers: &'a [(&'a str, String)],
    pub(crate) body: Option<Body>,
    pub(crate) connections: u32,
    pub(crate) duration: Duration,
}

/// A request body: each request is a `POST` of it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Body {
    pub(crate) content_type: &'static str,
    pub(crate) data: &'static str,
}

/// A wrk script making each request a `POST` of `body` (wrk takes a body
/// only from a script), written under the system's temporary directory.
fn wrk_post_script(body: &Body) -> Result<PathBuf, String> {
    let path =
        std::env::temp_dir().join(format!("lookout-loadtest-post-{}.lua", std::process::id()));
    let script = format!(
        "wrk.method = \"POST\"\nwrk.body = {}\nwrk.headers[\"Content-Type\"] = {}\n",
        lua_string(body.data),
        lua_string(body.content_type)
    );
    std::fs::write(&path, script).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// `text` as a Lua string literal.
fn lua_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A load generator found or installed.
pub(crate) enum Generator {
    Wrk,
    Oha(PathBuf),
}

impl Generator {
    /// `wrk` from the PATH, else oha under `target/loadtest-tools`
    /// (installed on first use).
    pub(crate) fn find(root: &Path) -> Result<Generator, String> {
        let wrk_works = Command::new("wrk")
            .arg("--version")
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).contains("wrk"))
            .unwrap_or(false);
        if wrk_works {
            return Ok(Generator::Wrk);
        }
        let tools = root.join("target").join("loadtest-tools");
        let oha = tools.join("bin").join("oha");
        if !oha.exists() {
            crate::step(
                &format!("cargo install --locked oha@{OHA_VERSION} (no wrk on the PATH)"),
                Command::new(crate::cargo())
                    .args(["install", "--locked", "--quiet", "--root"])
                    .arg(&tools)
                    .arg(format!("oha@{OHA_VERSION}")),
            )?;
        }
        Ok(Generator::Oha(oha))
    }

    /// The generator's name for the report.
    pub(crate) fn name(&self) -> String {
        match self {
            Generator::Wrk => "wrk -t1".to_owned(),
            Generator::Oha(_) => format!("oha {OHA_VERSION}"),
        }
    }

    /// Runs the load and reads its figures.
    pub(crate) fn run(&self, run: &Run<'_>) -> Result<Load, String> {
        let secs = run.duration.as_secs().max(1).to_string();
        let connections = run.connections.to_string();
        let mut cmd = match self {
            Generator::Wrk => {
                let mut cmd = Command::new("wrk");
                cmd.args([
                    "-t1",
                    "-c",
                    &connections,
                    "-d",
                    &format!("{secs}s"),
                    "--latency",
                ]);
                for (name, value) in run.headers {
                    cmd.arg("-H").arg(format!("{name}: {value}"));
                }
                if let Some(body) = &run.body {
                    cmd.arg("-s").arg(wrk_post_script(body)?);
                }
                cmd
            }
            Generator::Oha(path) => {
                let mut cmd = Command::new(path);
                cmd.args([
                    "--no-tui",
                    "--json",
                    "-c",
                    &connections,
                    "-z",
                    &format!("{secs}s"),
                ]);
                for (name, value) in run.headers {
                    cmd.arg("-H").arg(format!("{name}: {value}"));
                }
                if let Some(body) = &run.body {
                    cmd.args(["-m", "POST", "-T", body.content_type, "-d", body.data]);
                }
                cmd
            }
        };
        cmd.arg(run.url);
        let out = cmd
            .output()
            .map_err(|e| format!("could not start the load generator: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "the load generator failed ({}): {}{}",
                out.status,
                text,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        match self {
            Generator::Wrk => parse_wrk(&text),
            Generator::Oha(_) => parse_oha(&text),
        }
        .ok_or_else(|| format!("could not read the load generator's output:\n{text}"))
    }
}

/// Reads `wrk --latency`'s report.
fn parse_wrk(text: &str) -> Option<Load> {
    let mut load = Load {
        requests: 0,
        rps: 0.0,
        p50_us: 0.0,
        p99_us: 0.0,
    };
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("50%"), Some(value)) => load.p50_us = wrk_duration_us(value)?,
            (Some("99%"), Some(value)) => load.p99_us = wrk_duration_us(value)?,
            (Some("Requests/sec:"), Some(value)) => load.rps = value.parse().ok()?,
            (Some(count), Some("requests")) => load.requests = count.parse().ok()?,
            _ => {}
        }
    }
    (load.requests > 0 && load.rps > 0.0).then_some(load)
}

/// `812.00us`, `1.23ms`, `2.00s` in microseconds.
fn wrk_duration_us(value: &str) -> Option<f64> {
    let split = value.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit {
        "us" => 1.0,
        "ms" => 1_000.0,
        "s" => 1_000_000.0,
        "m" => 60_000_000.0,
        _ => return None,
    };
    Some(number * factor)
}

/// Reads `oha --json`'s report (seconds in, microseconds out).
fn parse_oha(text: &str) -> Option<Load> {
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    let summary = json.get("summary")?;
    let rps = summary.get("requestsPerSec")?.as_f64()?;
    let total = summary.get("total")?.as_f64()?;
    let percentiles = json.get("latencyPercentiles")?;
    let statuses = json.get("statusCodeDistribution")?.as_object()?;
    Some(Load {
        requests: statuses
            .values()
            .filter_map(serde_json::Value::as_u64)
            .sum(),
        rps: if rps > 0.0 { rps } else { 0.0 },
        p50_us: percentiles.get("p50")?.as_f64()? * 1e6,
        p99_us: percentiles.get("p99")?.as_f64()? * 1e6,
    })
    .filter(|load| load.requests > 0 && total > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_report_is_read() {
        let text = "Running 5s test @ http://127.0.0.1:1/users/7
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   250.10us  100.00us   5.00ms   90.00%
    Req/Sec   120.00k     2.00k  130.00k    80.00%
  Latency Distribution
     50%  230.00us
     75%  260.00us
     90%  300.00us
     99%    1.20ms
  600000 requests in 5.00s, 80.00MB read
Requests/sec: 119999.50
Transfer/sec:     16.00MB
";
        let load = parse_wrk(text).unwrap();
        assert_eq!(load.requests, 600_000);
        assert_eq!(load.rps, 119_999.5);
        assert_eq!(load.p50_us, 230.0);
        assert_eq!(load.p99_us, 1_200.0);
    }

    #[test]
    fn oha_report_is_read() {
        let text = r#"{"summary":{"successRate":1.0,"total":5.0,"requestsPerSec":1000.0},
            "latencyPercentiles":{"p50":0.0005,"p99":0.002},
            "statusCodeDistribution":{"200":4990,"500":10}}"#;
        let load = parse_oha(text).unwrap();
        assert_eq!(load.requests, 5_000);
        assert_eq!(load.rps, 1_000.0);
        assert!((load.p50_us - 500.0).abs() < 1e-6);
        assert!((load.p99_us - 2_000.0).abs() < 1e-6);
    }

    #[test]
    fn a_wrk_post_script_quotes_the_body() {
        assert_eq!(lua_string("[\"a\\b\"]\n"), r#""[\"a\\b\"]\n""#);
        let path = wrk_post_script(&Body {
            content_type: "application/json",
            data: "[]",
        })
        .unwrap();
        let script = std::fs::read_to_string(&path).unwrap();
        assert!(script.contains("wrk.method = \"POST\""), "{script}");
        assert!(script.contains("wrk.body = \"[]\""), "{script}");
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn an_empty_report_is_refused() {
        assert_eq!(
            parse_wrk("unable to connect to 127.0.0.1:1 Connection refused"),
            None
        );
    }
}
