//! `cargo xtask loadtest`: the demo under real load, with and without
//! lookout, in one sitting.
//!
//! Builds the demo (and this receiver) in release mode, starts the envelope
//! receiver in its own process, and for each framework and scenario runs
//! `lookout-demo serve` and `serve --plain` alternately under a load
//! generator in a second process (`wrk -t1`, or oha). Each run reports
//! requests/s, p50/p99 latency and the service's CPU time per request
//! (user + system time from `/proc/<pid>/stat` before and after the load,
//! divided by the responses): the plain and lookout figures side by side
//! with their ratios. Writes nothing into the repository.

mod generator;
pub(crate) mod sink;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use generator::{Generator, Load, Run};

pub(crate) const USAGE: &str = "\
usage: cargo xtask loadtest [--quick] [--duration SECS] [--connections N] [--rounds N]
                            [--frameworks axum,actix,warp]
                            [--scenarios unsampled,sampled,erroring,logs]
  --quick: one round of 1 s per case (a smoke run)";

const FRAMEWORKS: [&str; 3] = ["axum", "actix", "warp"];

/// The trace the requests continue (a browser's `sentry-trace` + `baggage`).
const TRACE_ID: &str = "771a43a4192642f0b136d5159a501700";

/// What the load is and how lookout is configured for it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    /// Traces rate 0, the caller's decision `sampled=false`.
    Unsampled,
    /// Traces rate 1, the caller's decision `sampled=true`: a transaction per request.
    Sampled,
    /// `GET /fail`: a 500 and a captured event per request.
    Erroring,
    /// As unsampled, with Sentry Logs on: the route's `info` line is a log.
    Logs,
}

impl Scenario {
    const ALL: [Scenario; 4] = [
        Scenario::Unsampled,
        Scenario::Sampled,
        Scenario::Erroring,
        Scenario::Logs,
    ];

    fn name(self) -> &'static str {
        match self {
            Scenario::Unsampled => "unsampled",
            Scenario::Sampled => "sampled",
            Scenario::Erroring => "erroring",
            Scenario::Logs => "logs",
        }
    }

    fn parse(name: &str) -> Result<Scenario, String> {
        Scenario::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                format!("unknown scenario `{name}`: expected unsampled, sampled, erroring or logs")
            })
    }

    fn path(self) -> &'static str {
        match self {
            Scenario::Erroring => "/fail",
            _ => "/users/7",
        }
    }

    fn sampled(self) -> bool {
        self == Scenario::Sampled
    }

    /// The item each response should have made, counted at the receiver:
    /// an event per erroring request, a transaction per sampled one.
    fn delivered_item(self) -> Option<&'static str> {
        match self {
            Scenario::Erroring => Some("event"),
            Scenario::Sampled => Some("transaction"),
            Scenario::Unsampled | Scenario::Logs => None,
        }
    }

    /// The caller's headers: `sentry-trace` + a browser SDK's `baggage`.
    fn headers(self) -> Vec<(&'static str, String)> {
        let (flag, rate, sampled) = if self.sampled() {
            ("1", "1.0", "true")
        } else {
            ("0", "0.0", "false")
        };
        vec![
            (
                "sentry-trace",
                format!("{TRACE_ID}-b7ad6b7169203331-{flag}"),
            ),
            (
                "baggage",
                format!(
                    "sentry-trace_id={TRACE_ID},sentry-public_key=49d0f7386ad645858ae85020e393bef3,\
                     sentry-sample_rate={rate},sentry-sample_rand=0.4242,sentry-sampled={sampled},\
                     sentry-release=web%401.0.0,sentry-environment=production,\
                     sentry-transaction=%2Fusers%2F%3Aid"
                ),
            ),
        ]
    }

    /// lookout's settings for this scenario (the plain service ignores them).
    fn env(self, dsn: &str) -> Vec<(&'static str, String)> {
        vec![
            ("SENTRY_DSN", dsn.to_owned()),
            ("SENTRY_ENVIRONMENT", "production".to_owned()),
            ("SENTRY_RELEASE", "lookout-demo@loadtest".to_owned()),
            (
                "SENTRY_TRACES_SAMPLE_RATE",
                if self.sampled() { "1" } else { "0" }.to_owned(),
            ),
            (
                "SENTRY_ENABLE_LOGS",
                if self == Scenario::Logs {
                    "true"
                } else {
                    "false"
                }
                .to_owned(),
            ),
            // What the terminal shows; Sentry Logs have their own level.
            ("RUST_LOG", "warn".to_owned()),
            // Room for the queue to drain at the end of an erroring run.
            ("LOOKOUT_SHUTDOWN_TIMEOUT_MS", "20000".to_owned()),
        ]
    }
}

struct Config {
    duration: Duration,
    warmup: Duration,
    connections: u32,
    rounds: usize,
    frameworks: Vec<String>,
    scenarios: Vec<Scenario>,
}

fn parse_args(args: &[String]) -> Result<Config, String> {
    let mut config = Config {
        duration: Duration::from_secs(5),
        warmup: Duration::from_secs(1),
        connections: 32,
        rounds: 3,
        frameworks: FRAMEWORKS.iter().map(|f| (*f).to_owned()).collect(),
        scenarios: Scenario::ALL.to_vec(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |what: &str| {
            args.next()
                .ok_or_else(|| format!("{arg} needs {what}\n{USAGE}"))
                .cloned()
        };
        match arg.as_str() {
            "--quick" => {
                config.duration = Duration::from_secs(1);
                config.warmup = Duration::ZERO;
                config.rounds = 1;
            }
            "--duration" => {
                config.duration = Duration::from_secs(positive(arg, &value("whole seconds")?)?);
            }
            "--connections" => {
                config.connections = u32::try_from(positive(arg, &value("a number")?)?)
                    .map_err(|_| format!("{arg}: too large"))?;
            }
            "--rounds" => {
                config.rounds = usize::try_from(positive(arg, &value("a number")?)?)
                    .map_err(|_| format!("{arg}: too large"))?;
            }
            "--frameworks" => {
                let list = value("a list")?;
                config.frameworks = list.split(',').map(str::to_owned).collect();
                if let Some(bad) = config
                    .frameworks
                    .iter()
                    .find(|f| !FRAMEWORKS.contains(&f.as_str()))
                {
                    return Err(format!(
                        "--frameworks: unknown `{bad}`: expected axum, actix or warp"
                    ));
                }
            }
            "--scenarios" => {
                let list = value("a list")?;
                config.scenarios = list
                    .split(',')
                    .map(Scenario::parse)
                    .collect::<Result<_, _>>()?;
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown option `{other}`\n{USAGE}")),
        }
    }
    Ok(config)
}

/// A whole number ≥ 1 for `option`, or an error naming the value.
fn positive(option: &str, value: &str) -> Result<u64, String> {
    value
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{option} {value}: expected a whole number ≥ 1"))
}

/// One measured run of the service.
#[derive(Clone, Copy)]
struct Measured {
    load: Load,
    /// The service's CPU time per response, microseconds.
    cpu_us: f64,
}

pub(crate) fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let config = parse_args(args)?;
    let cargo = crate::cargo();
    crate::step(
        "cargo build --release --locked -p lookout-demo -p xtask",
        Command::new(&cargo).args([
            "build",
            "--release",
            "--locked",
            "-p",
            "lookout-demo",
            "-p",
            "xtask",
        ]),
    )?;
    let release = target_dir(root).join("release");
    let demo = release.join("lookout-demo");
    let generator = Generator::find(root)?;
    let sink = Sink::start(&release.join("xtask"))?;
    let ticks = clock_ticks();
    println!(
        "xtask: load: {}, {} connections, {} s per run (+{} s warm-up), {} round(s), plain and lookout alternating",
        generator.name(),
        config.connections,
        config.duration.as_secs(),
        config.warmup.as_secs(),
        config.rounds
    );
    let mut rows = Vec::new();
    for framework in &config.frameworks {
        for &scenario in &config.scenarios {
            let mut plain = Vec::new();
            let mut lookout = Vec::new();
            let mut delivered = None;
            for round in 0..config.rounds {
                // Alternate which goes first, so drift in the machine's
                // load hits both sides alike.
                let order = if round % 2 == 0 {
                    [true, false]
                } else {
                    [false, true]
                };
                for is_plain in order {
                    let before = sink.counts()?;
                    let service =
                        Service::start(&demo, framework, is_plain, &scenario.env(&sink.dsn()))?;
                    let measured = service.measure(&generator, &config, scenario, ticks)?;
                    service.stop()?;
                    if is_plain {
                        plain.push(measured);
                    } else {
                        if let Some(item) = scenario.delivered_item() {
                            let after = sink.counts()?;
                            let items = after.item(item) - before.item(item);
                            let (seen, answered) = delivered.unwrap_or((0, 0));
                            delivered = Some((seen + items, answered + measured.load.requests));
                        }
                        lookout.push(measured);
                    }
                    println!(
                        "xtask:   {framework:<5} {:<9} {:<7} {:>9.0} req/s  p50 {:>6.0} µs  p99 {:>6.0} µs  cpu {:>5.2} µs/req",
                        scenario.name(),
                        if is_plain { "plain" } else { "lookout" },
                        measured.load.rps,
                        measured.load.p50_us,
                        measured.load.p99_us,
                        measured.cpu_us
                    );
                }
            }
            rows.push(Row {
                framework: framework.clone(),
                scenario,
                plain: median(&plain),
                lookout: median(&lookout),
                delivered,
            });
        }
    }
    sink.stop();
    print_table(&rows);
    Ok(())
}

struct Row {
    framework: String,
    scenario: Scenario,
    plain: Measured,
    lookout: Measured,
    /// Erroring only: events the receiver got, responses answered.
    delivered: Option<(u64, u64)>,
}

/// The median of each figure over the rounds.
fn median(runs: &[Measured]) -> Measured {
    let pick = |f: fn(&Measured) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    Measured {
        load: Load {
            requests: runs.iter().map(|m| m.load.requests).sum::<u64>() / runs.len() as u64,
            rps: pick(|m| m.load.rps),
            p50_us: pick(|m| m.load.p50_us),
            p99_us: pick(|m| m.load.p99_us),
        },
        cpu_us: pick(|m| m.cpu_us),
    }
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "| framework | scenario | plain req/s | lookout req/s | throughput | p50 plain / lookout µs | p99 plain / lookout µs | p99 | CPU plain / lookout µs/req | CPU added | delivered (events or transactions) of responses |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let (p, l) = (&row.plain, &row.lookout);
        println!(
            "| {} | {} | {:.0} | {:.0} | **{:.2}** | {:.0} / {:.0} | {:.0} / {:.0} | {:+.0}% | {:.2} / {:.2} | **{:+.2}** | {} |",
            row.framework,
            row.scenario.name(),
            p.load.rps,
            l.load.rps,
            l.load.rps / p.load.rps,
            p.load.p50_us,
            l.load.p50_us,
            p.load.p99_us,
            l.load.p99_us,
            (l.load.p99_us / p.load.p99_us - 1.0) * 100.0,
            p.cpu_us,
            l.cpu_us,
            l.cpu_us - p.cpu_us,
            match row.delivered {
                Some((events, answered)) => format!("{events} of {answered}"),
                None => "".to_owned(),
            }
        );
    }
}

/// The workspace's target directory (`CARGO_TARGET_DIR` when set).
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                root.join(dir)
            }
        })
        .unwrap_or_else(|| root.join("target"))
}

/// `getconf CLK_TCK` (the unit of `/proc/<pid>/stat`'s times); 100 when unknown.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system time of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // The command name is in parentheses and may hold spaces: fields
    // after it start with the state (field 3); utime and stime are 14, 15.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("unexpected /proc/<pid>/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> Result<u64, String> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| "unexpected /proc/<pid>/stat".to_owned())
    };
    Ok(field(11)? + field(12)?)
}

/// Reads a child's first stdout line, `listening on ...`, and returns the address.
fn listening_line(child: &mut Child, what: &str) -> Result<String, String> {
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("{what}: {e}"))?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .map(|a| a.trim_start_matches("http://").to_owned())
        .ok_or_else(|| format!("{what} did not start: {line:?}"))?;
    // Keep draining whatever else it prints, so it never blocks on a full pipe.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    Ok(addr)
}

/// The envelope receiver's process.
struct Sink {
    child: Child,
    addr: String,
}

/// The receiver's totals.
struct Counts(serde_json::Value);

impl Counts {
    fn item(&self, kind: &str) -> u64 {
        self.0["items"][kind].as_u64().unwrap_or(0)
    }
}

impl Sink {
    fn start(xtask: &Path) -> Result<Sink, String> {
        let mut child = Command::new(xtask)
            .arg("loadtest-sink")
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start the receiver {}: {e}", xtask.display()))?;
        let addr = listening_line(&mut child, "the receiver")?;
        Ok(Sink { child, addr })
    }

    fn dsn(&self) -> String {
        format!("http://49d0f7386ad645858ae85020e393bef3@{}/1", self.addr)
    }

    fn counts(&self) -> Result<Counts, String> {
        use std::io::Write as _;
        let mut stream =
            std::net::TcpStream::connect(&self.addr).map_err(|e| format!("receiver: {e}"))?;
        write!(
            stream,
            "GET /counts HTTP/1.1\r\nhost: sink\r\nconnection: close\r\n\r\n"
        )
        .map_err(|e| format!("receiver: {e}"))?;
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .map_err(|e| format!("receiver: {e}"))?;
        let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        serde_json::from_str(body)
            .map(Counts)
            .map_err(|e| format!("receiver answered {answer:?}: {e}"))
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `lookout-demo serve` process.
struct Service {
    child: Child,
    addr: String,
}

impl Service {
    fn start(
        demo: &Path,
        framework: &str,
        plain: bool,
        env: &[(&str, String)],
    ) -> Result<Service, String> {
        let mut cmd = Command::new(demo);
        cmd.args(["serve", "--framework", framework, "--addr", "127.0.0.1:0"]);
        if plain {
            cmd.arg("--plain");
        }
        for (name, value) in env {
            cmd.env(name, value);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", demo.display()))?;
        let addr = listening_line(&mut child, "lookout-demo serve")?;
        Ok(Service { child, addr })
    }

    fn measure(
        &self,
        generator: &Generator,
        config: &Config,
        scenario: Scenario,
        ticks: f64,
    ) -> Result<Measured, String> {
        let url = format!("http://{}{}", self.addr, scenario.path());
        let headers = scenario.headers();
        if !config.warmup.is_zero() {
            generator.run(&Run {
                url: &url,
                headers: &headers,
                connections: config.connections,
                duration: config.warmup,
            })?;
        }
        let before = cpu_ticks(self.child.id())?;
        let load = generator.run(&Run {
            url: &url,
            headers: &headers,
            connections: config.connections,
            duration: config.duration,
        })?;
        let after = cpu_ticks(self.child.id())?;
        let cpu_us = (after - before) as f64 / ticks * 1e6 / load.requests as f64;
        Ok(Measured { load, cpu_us })
    }

    /// SIGTERM, then waits for the process to finish its shutdown (the
    /// guard delivers what is queued within LOOKOUT_SHUTDOWN_TIMEOUT_MS).
    fn stop(mut self) -> Result<(), String> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return Ok(()),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err(format!(
                        "lookout-demo at {} did not stop within 30 s of SIGTERM",
                        self.addr
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn defaults_cover_every_framework_and_scenario() {
        let config = parse_args(&[]).unwrap();
        assert_eq!(config.frameworks, ["axum", "actix", "warp"]);
        assert_eq!(config.scenarios, Scenario::ALL);
        assert_eq!((config.rounds, config.connections), (3, 32));
    }

    #[test]
    fn quick_is_one_short_round() {
        let config = parse_args(&args(&["--quick"])).unwrap();
        assert_eq!(
            (config.rounds, config.duration, config.warmup),
            (1, Duration::from_secs(1), Duration::ZERO)
        );
    }

    #[test]
    fn bad_options_name_the_value_and_what_is_accepted() {
        let err = parse_args(&args(&["--frameworks", "axum,rocket"]))
            .err()
            .unwrap();
        assert!(
            err.contains("rocket") && err.contains("axum, actix or warp"),
            "{err}"
        );
        let err = parse_args(&args(&["--duration", "0"])).err().unwrap();
        assert!(err.contains("--duration 0"), "{err}");
        let err = parse_args(&args(&["--scenarios", "idle"])).err().unwrap();
        assert!(err.contains("idle") && err.contains("erroring"), "{err}");
    }

    #[test]
    fn the_sampled_scenario_carries_the_callers_positive_decision() {
        let headers = Scenario::Sampled.headers();
        assert!(headers[0].1.ends_with("-1"));
        assert!(headers[1].1.contains("sentry-sampled=true"));
        assert!(Scenario::Unsampled.headers()[0].1.ends_with("-0"));
    }
}
