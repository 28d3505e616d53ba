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
//! with their ratios. The headline rows are lookout's defaults, as users
//! run it (Sentry Logs on, sessions on, compression on, unsampled, the
//! route's one `info` line per request); beside them Logs off, traces rate
//! 0.1, every request sampled, every request erroring, and a POST whose
//! JSON body the handler reads (request bodies recorded, nothing captured). A second table says what reached the
//! receiver: transactions delivered, shed (the service's status route) and
//! dropped (its client reports), logs delivered and dropped, events, and the
//! bytes each item took on the wire. Writes nothing into the repository.

pub(crate) mod floor;
mod generator;
pub(crate) mod sink;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use generator::{Generator, Load, Run};

pub(crate) const USAGE: &str = "\
usage: cargo xtask loadtest [--quick] [--duration SECS] [--connections N] [--rounds N]
                            [--frameworks axum,actix,warp]
                            [--scenarios defaults,logs-off,traces-0.1,sampled,erroring,post]
                            [--set NAME=VALUE]...
  --quick: one round of 1 s per case (a smoke run)
  --set: one more setting for every lookout run (e.g. LOOKOUT_COMPRESSION=off)";

const FRAMEWORKS: [&str; 3] = ["axum", "actix", "warp"];

/// The `post` scenario's body: `POST /hop`'s JSON array of calls, empty
/// (the demo answers 200 and calls nobody), padded to a typical small JSON
/// request's size.
const POST_BODY: &str = concat!(
    "[\n",
    "                                                                \n",
    "                                                                \n",
    "                                                                \n",
    "]\n"
);

/// The trace the requests continue (a browser's `sentry-trace` + `baggage`).
const TRACE_ID: &str = "771a43a4192642f0b136d5159a501700";

/// What the load is and how lookout is configured for it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    /// lookout's defaults (Sentry Logs on: the route's `info` line is a
    /// log; sessions; compression), traces rate 0 and the caller's decision
    /// `sampled=false`: what users run.
    Defaults,
    /// As the defaults with `SENTRY_ENABLE_LOGS=false`.
    LogsOff,
    /// The defaults with traces rate 0.1 (the staging default) and no
    /// caller's trace: each request starts its own, one in ten sampled.
    Traces01,
    /// The defaults with traces rate 1 and the caller's decision
    /// `sampled=true`: a transaction per request.
    Sampled,
    /// The defaults on `GET /fail`: a 500 and a captured event per request.
    Erroring,
    /// The defaults on `POST /hop` with a JSON body (`[]`: no outgoing
    /// call) that the handler reads and parses, answered 200 with no event:
    /// what recording request bodies (`LOOKOUT_MAX_REQUEST_BODY_SIZE`,
    /// `medium` by default) costs a request that captures nothing.
    Post,
}

impl Scenario {
    const ALL: [Scenario; 6] = [
        Scenario::Defaults,
        Scenario::LogsOff,
        Scenario::Traces01,
        Scenario::Sampled,
        Scenario::Erroring,
        Scenario::Post,
    ];

    fn name(self) -> &'static str {
        match self {
            Scenario::Defaults => "defaults",
            Scenario::LogsOff => "logs-off",
            Scenario::Traces01 => "traces-0.1",
            Scenario::Sampled => "sampled",
            Scenario::Erroring => "erroring",
            Scenario::Post => "post",
        }
    }

    fn parse(name: &str) -> Result<Scenario, String> {
        Scenario::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                format!(
                    "unknown scenario `{name}`: expected defaults, logs-off, traces-0.1, sampled, erroring or post"
                )
            })
    }

    fn path(self) -> &'static str {
        match self {
            Scenario::Erroring => "/fail",
            Scenario::Post => "/hop",
            _ => "/users/7",
        }
    }

    /// The request's body and its `content-type`, for a POST.
    fn body(self) -> Option<generator::Body> {
        (self == Scenario::Post).then_some(generator::Body {
            content_type: "application/json",
            // `POST /hop`'s W3C test-service contract: a JSON array of
            // calls to make; empty, so the handler only reads and parses it.
            data: POST_BODY,
        })
    }

    fn traces_rate(self) -> &'static str {
        match self {
            Scenario::Sampled => "1",
            Scenario::Traces01 => "0.1",
            _ => "0",
        }
    }

    /// Whether the route's `info` line is a Sentry Log.
    fn logs(self) -> bool {
        self != Scenario::LogsOff
    }

    /// The caller's headers: `sentry-trace` + a browser SDK's `baggage`
    /// (none for traces 0.1: a caller's decision would be inherited).
    fn headers(self) -> Vec<(&'static str, String)> {
        let (flag, rate, sampled) = match self {
            Scenario::Traces01 => return Vec::new(),
            Scenario::Sampled => ("1", "1.0", "true"),
            _ => ("0", "0.0", "false"),
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

    /// lookout's settings for this scenario (the plain service ignores
    /// them); what is not set here is lookout's default.
    fn env(self, dsn: &str) -> Vec<(String, String)> {
        let mut env = vec![
            ("SENTRY_DSN", dsn.to_owned()),
            ("SENTRY_ENVIRONMENT", "production".to_owned()),
            // Release health needs a release.
            ("SENTRY_RELEASE", "lookout-demo@loadtest".to_owned()),
            ("SENTRY_TRACES_SAMPLE_RATE", self.traces_rate().to_owned()),
            // What the terminal shows; Sentry Logs have their own level.
            ("RUST_LOG", "warn".to_owned()),
            // Room for the queue to drain at the end of an erroring run.
            ("LOOKOUT_SHUTDOWN_TIMEOUT_MS", "20000".to_owned()),
        ];
        if !self.logs() {
            env.push(("SENTRY_ENABLE_LOGS", "false".to_owned()));
        }
        env.into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    }
}

struct Config {
    duration: Duration,
    warmup: Duration,
    connections: u32,
    rounds: usize,
    frameworks: Vec<String>,
    scenarios: Vec<Scenario>,
    /// `--set NAME=VALUE`: more settings for every lookout run.
    settings: Vec<(String, String)>,
}

fn parse_args(args: &[String]) -> Result<Config, String> {
    let mut config = Config {
        duration: Duration::from_secs(5),
        warmup: Duration::from_secs(1),
        connections: 32,
        rounds: 3,
        frameworks: FRAMEWORKS.iter().map(|f| (*f).to_owned()).collect(),
        scenarios: Scenario::ALL.to_vec(),
        settings: Vec::new(),
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
            "--set" => {
                let setting = value("NAME=VALUE")?;
                let (name, value) = setting
                    .split_once('=')
                    .filter(|(name, _)| !name.is_empty())
                    .ok_or_else(|| format!("--set {setting}: expected NAME=VALUE"))?;
                config.settings.push((name.to_owned(), value.to_owned()));
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
    /// Every response the service answered, the warm-up's included.
    responses: u64,
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
    if !config.settings.is_empty() {
        let list: Vec<String> = config
            .settings
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        println!("xtask: lookout runs also set {}", list.join(" "));
    }
    let mut rows = Vec::new();
    for framework in &config.frameworks {
        for &scenario in &config.scenarios {
            let mut plain = Vec::new();
            let mut lookout = Vec::new();
            let mut delivered = Delivered::default();
            let mut env = scenario.env(&sink.dsn());
            env.extend(config.settings.iter().cloned());
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
                    let service = Service::start(&demo, framework, is_plain, &env)?;
                    let measured = service.measure(&generator, &config, scenario, ticks)?;
                    // The shed transactions, from the service's status route
                    // (the plain service has none: 0).
                    let shed = if is_plain {
                        0
                    } else {
                        service.transactions_shed()?
                    };
                    service.stop()?;
                    if is_plain {
                        plain.push(measured);
                    } else {
                        // After the stop: its shutdown delivered what was queued.
                        let after = sink.counts()?;
                        delivered.add(&before, &after, measured.responses, shed);
                        lookout.push(measured);
                    }
                    println!(
                        "xtask:   {framework:<5} {:<10} {:<7} {:>9.0} req/s  p50 {:>6.0} µs  p99 {:>6.0} µs  cpu {:>5.2} µs/req",
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
    print_delivery(&rows);
    Ok(())
}

struct Row {
    framework: String,
    scenario: Scenario,
    plain: Measured,
    lookout: Measured,
    /// What the receiver got from the lookout runs, over every round.
    delivered: Delivered,
}

/// What reached the receiver from a scenario's lookout runs, summed over
/// the rounds (warm-ups included: the receiver cannot tell them apart).
#[derive(Clone, Debug, Default, PartialEq)]
struct Delivered {
    /// Responses the services answered (warm-ups included).
    responses: u64,
    transactions: u64,
    /// Sampled transactions never recorded: the queue was full.
    shed: u64,
    /// Transactions the client reports say were lost otherwise.
    transactions_dropped: u64,
    logs: u64,
    /// Logs the client reports say were lost.
    logs_dropped: u64,
    events: u64,
    /// Events the client reports say were lost.
    events_dropped: u64,
    /// By item type: (bytes on the wire, bytes decoded, items).
    bytes: BTreeMap<&'static str, (f64, f64, u64)>,
}

/// The item types whose bytes the report shows, with their wire names.
const SIZED: [&str; 3] = ["log", "transaction", "event"];

impl Delivered {
    /// One lookout run: the receiver's totals `before` and `after` it.
    fn add(&mut self, before: &Counts, after: &Counts, responses: u64, shed: u64) {
        let items = |kind: &str| after.item(kind).saturating_sub(before.item(kind));
        let lost = |category: &str| {
            after
                .discarded(category)
                .saturating_sub(before.discarded(category))
        };
        self.responses += responses;
        self.transactions += items("transaction");
        self.shed += shed;
        // A shed transaction is reported lost too (`queue_overflow`).
        self.transactions_dropped += lost("transaction").saturating_sub(shed);
        self.logs += items("log");
        self.logs_dropped += lost("log_item");
        self.events += items("event");
        self.events_dropped += lost("error");
        for kind in SIZED {
            let entry = self.bytes.entry(kind).or_default();
            entry.0 += after.wire(kind) - before.wire(kind);
            entry.1 += after.plain(kind) - before.plain(kind);
            entry.2 += items(kind);
        }
    }

    /// `wire (decoded)` bytes per item of `kind`, or empty without any.
    fn per_item(&self, kind: &str) -> String {
        match self.bytes.get(kind) {
            Some(&(wire, plain, count)) if count > 0 => {
                format!("{:.0} ({:.0})", wire / count as f64, plain / count as f64)
            }
            _ => String::new(),
        }
    }
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
        responses: runs.iter().map(|m| m.responses).sum::<u64>() / runs.len() as u64,
    }
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "| framework | scenario | plain req/s | lookout req/s | throughput | p50 plain / lookout µs | p99 plain / lookout µs | p99 | CPU plain / lookout µs/req | CPU added |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let (p, l) = (&row.plain, &row.lookout);
        println!(
            "| {} | {} | {:.0} | {:.0} | **{:.2}** | {:.0} / {:.0} | {:.0} / {:.0} | {:+.0}% | {:.2} / {:.2} | **{:+.2}** |",
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
        );
    }
}

/// What the receiver got from the lookout runs (every round, warm-ups
/// included), and the bytes per item on the wire (decoded in parentheses).
fn print_delivery(rows: &[Row]) {
    println!();
    println!(
        "| framework | scenario | responses | transactions delivered / shed / dropped | logs delivered / dropped | events delivered / dropped | bytes per log | per transaction | per event |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let d = &row.delivered;
        println!(
            "| {} | {} | {} | {} / {} / {} | {} / {} | {} / {} | {} | {} | {} |",
            row.framework,
            row.scenario.name(),
            d.responses,
            d.transactions,
            d.shed,
            d.transactions_dropped,
            d.logs,
            d.logs_dropped,
            d.events,
            d.events_dropped,
            d.per_item("log"),
            d.per_item("transaction"),
            d.per_item("event"),
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
    /// Items of `kind` (logs one by one).
    fn item(&self, kind: &str) -> u64 {
        self.0["items"][kind].as_u64().unwrap_or(0)
    }

    /// Bytes on the wire of the items of `kind`.
    fn wire(&self, kind: &str) -> f64 {
        self.0["wire_bytes"][kind].as_f64().unwrap_or(0.0)
    }

    /// Their bytes decoded.
    fn plain(&self, kind: &str) -> f64 {
        self.0["plain_bytes"][kind].as_f64().unwrap_or(0.0)
    }

    /// What the client reports say was lost of `category`, for any reason.
    fn discarded(&self, category: &str) -> u64 {
        let suffix = format!(":{category}");
        self.0["discarded"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(key, _)| key.ends_with(&suffix))
            .filter_map(|(_, quantity)| quantity.as_u64())
            .sum()
    }
}

/// `GET path` on `addr` with a fresh connection; the answer's body as JSON.
fn get_json(addr: &str, path: &str, what: &str) -> Result<serde_json::Value, String> {
    use std::io::Write as _;
    let mut stream = std::net::TcpStream::connect(addr).map_err(|e| format!("{what}: {e}"))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )
    .map_err(|e| format!("{what}: {e}"))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| format!("{what}: {e}"))?;
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).map_err(|e| format!("{what} answered {answer:?}: {e}"))
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
        get_json(&self.addr, "/counts", "receiver").map(Counts)
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
        env: &[(String, String)],
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
        let body = scenario.body();
        if let Some(body) = &body {
            // The load generators count every answer: make sure it is the
            // 200 the scenario is about.
            self.expect_post_ok(scenario.path(), body)?;
        }
        let mut warmup = 0;
        if !config.warmup.is_zero() {
            warmup = generator
                .run(&Run {
                    url: &url,
                    headers: &headers,
                    body,
                    connections: config.connections,
                    duration: config.warmup,
                })?
                .requests;
        }
        let before = cpu_ticks(self.child.id())?;
        let load = generator.run(&Run {
            url: &url,
            headers: &headers,
            body,
            connections: config.connections,
            duration: config.duration,
        })?;
        let after = cpu_ticks(self.child.id())?;
        let cpu_us = (after - before) as f64 / ticks * 1e6 / load.requests as f64;
        Ok(Measured {
            load,
            cpu_us,
            responses: warmup + load.requests,
        })
    }

    /// `POST path` with `body` once; an error unless it is answered 200.
    fn expect_post_ok(&self, path: &str, body: &generator::Body) -> Result<(), String> {
        use std::io::Write as _;
        let what = format!("POST {path}");
        let mut stream =
            std::net::TcpStream::connect(&self.addr).map_err(|e| format!("{what}: {e}"))?;
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
            self.addr,
            body.content_type,
            body.data.len(),
            body.data
        )
        .map_err(|e| format!("{what}: {e}"))?;
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .map_err(|e| format!("{what}: {e}"))?;
        if answer.starts_with("HTTP/1.1 200") {
            Ok(())
        } else {
            Err(format!("{what} should answer 200, answered {answer:?}"))
        }
    }

    /// Transactions the service shed so far (its status route's
    /// `stats.dropped.transactions_shed`).
    fn transactions_shed(&self) -> Result<u64, String> {
        let status = get_json(&self.addr, "/lookout/status", "the status route")?;
        Ok(status["stats"]["dropped"]["transactions_shed"]
            .as_u64()
            .unwrap_or(0))
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

    /// `list` as command-line arguments (the floor's tests use it too).
    pub(super) fn args(list: &[&str]) -> Vec<String> {
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
        assert!(Scenario::Defaults.headers()[0].1.ends_with("-0"));
        assert!(Scenario::LogsOff.headers()[0].1.ends_with("-0"));
        assert!(Scenario::Post.headers()[0].1.ends_with("-0"));
        assert!(
            Scenario::Traces01.headers().is_empty(),
            "a caller's decision would be inherited"
        );
    }

    #[test]
    fn the_defaults_leave_lookouts_settings_alone_and_the_others_name_theirs() {
        let env = |scenario: Scenario| -> Vec<String> {
            scenario
                .env("http://k@127.0.0.1:1/1")
                .into_iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect()
        };
        let defaults = env(Scenario::Defaults);
        assert!(defaults.contains(&"SENTRY_TRACES_SAMPLE_RATE=0".to_owned()));
        assert!(
            !defaults.iter().any(
                |v| v.starts_with("SENTRY_ENABLE_LOGS") || v.starts_with("LOOKOUT_COMPRESSION")
            ),
            "{defaults:?}"
        );
        assert!(env(Scenario::LogsOff).contains(&"SENTRY_ENABLE_LOGS=false".to_owned()));
        assert!(env(Scenario::Traces01).contains(&"SENTRY_TRACES_SAMPLE_RATE=0.1".to_owned()));
        assert!(env(Scenario::Sampled).contains(&"SENTRY_TRACES_SAMPLE_RATE=1".to_owned()));
    }

    #[test]
    fn set_adds_settings_and_refuses_what_is_not_name_value() {
        let config = parse_args(&args(&["--set", "LOOKOUT_COMPRESSION=off"])).unwrap();
        assert_eq!(
            config.settings,
            [("LOOKOUT_COMPRESSION".to_owned(), "off".to_owned())]
        );
        let err = parse_args(&args(&["--set", "=off"])).err().unwrap();
        assert!(err.contains("NAME=VALUE"), "{err}");
    }

    fn counts(json: serde_json::Value) -> Counts {
        Counts(json)
    }

    #[test]
    fn delivered_subtracts_the_shed_from_the_reported_losses() {
        let before = counts(serde_json::json!({}));
        let after = counts(serde_json::json!({
            "items": {"transaction": 40, "log": 300, "event": 2},
            "wire_bytes": {"transaction": 30000.0, "log": 13000.0},
            "plain_bytes": {"transaction": 60000.0, "log": 290000.0},
            "discarded": {"queue_overflow:transaction": 50, "queue_overflow:log_item": 100, "queue_overflow:span": 50},
        }));
        let mut delivered = Delivered::default();
        delivered.add(&before, &after, 400, 45);
        assert_eq!(
            (
                delivered.transactions,
                delivered.shed,
                delivered.transactions_dropped,
                delivered.logs,
                delivered.logs_dropped,
            ),
            (40, 45, 5, 300, 100)
        );
        assert_eq!(delivered.per_item("transaction"), "750 (1500)");
        assert_eq!(delivered.per_item("event"), "0 (0)");
    }
}
