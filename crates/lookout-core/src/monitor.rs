//! Sentry Cron monitors: a scheduled task's runs as check-ins.
//!
//! [`Monitor::run`] wraps one run of a task: a `check_in` with status
//! `in_progress` when it starts (with the monitor's configuration upserted
//! when a schedule is given), then `ok` or `error` with the same
//! `check_in_id` and the run's duration when it ends. The run itself is a
//! [`Job`] named after the monitor, so an `Err` or a panic
//! is classified and captured on the run's trace, tagged with the monitor's
//! slug and the check-in id. It works with any scheduler: call `run` from a
//! `tokio::time::interval` loop, `tokio-cron-scheduler` or your own.
//! Check-ins go through lookout's delivery like everything else (queue,
//! rate limits, Spotlight, console lines in development).
//!
//! ```
//! use lookout_core::monitor::Monitor;
//! use lookout_core::testing::TestLookout;
//!
//! let test = TestLookout::new();
//! let monitor = Monitor::new("nightly-report")
//!     .crontab("0 3 * * *")?
//!     .checkin_margin(5)
//!     .max_runtime(30)
//!     .timezone("Europe/Vienna")
//!     .engine(test.engine());
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! let rows = runtime.block_on(monitor.run(async { Ok::<_, std::io::Error>(42) }))?;
//! assert_eq!(rows, 42);
//!
//! let check_ins = test.check_ins();
//! assert_eq!(check_ins.len(), 2);
//! assert_eq!(check_ins[0].check_in_id, check_ins[1].check_in_id);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::error::Error;
use std::future::Future;
use std::time::Instant;

pub use sentry_core::protocol::{CrontabParseError, MonitorIntervalUnit};
use sentry_core::protocol::{
    EnvelopeItem, MonitorCheckIn, MonitorCheckInStatus, MonitorConfig, MonitorSchedule,
};
use sentry_core::types::Uuid;
use sentry_core::{Envelope, Hub};

use crate::Engine;
use crate::job::Job;

/// The tag naming the monitor on a failed run's event.
pub const MONITOR_TAG: &str = "monitor.slug";
/// The tag carrying the check-in id on a failed run's event.
pub const CHECK_IN_TAG: &str = "monitor.check_in_id";

/// A Sentry Cron monitor; see the [module docs](self).
#[derive(Debug, Clone)]
#[must_use]
pub struct Monitor {
    slug: Cow<'static, str>,
    schedule: Option<MonitorSchedule>,
    checkin_margin: Option<u64>,
    max_runtime: Option<u64>,
    timezone: Option<String>,
    engine: Option<Engine>,
}

impl Monitor {
    /// The monitor `slug` (as in Sentry's Crons page).
    pub fn new(slug: impl Into<Cow<'static, str>>) -> Self {
        Self {
            slug: slug.into(),
            schedule: None,
            checkin_margin: None,
            max_runtime: None,
            timezone: None,
            engine: None,
        }
    }

    /// A crontab schedule (`"0 3 * * *"`), upserted with the first check-in;
    /// an invalid one is refused with what was wrong.
    ///
    /// ```
    /// use lookout_core::monitor::Monitor;
    /// assert!(Monitor::new("nightly").crontab("0 3 * * *").is_ok());
    /// assert!(Monitor::new("nightly").crontab("every night").is_err());
    /// ```
    pub fn crontab(mut self, crontab: &str) -> Result<Self, CrontabParseError> {
        self.schedule = Some(MonitorSchedule::from_crontab(crontab)?);
        Ok(self)
    }

    /// An interval schedule (every `value` `unit`s), upserted with the first
    /// check-in.
    ///
    /// ```
    /// use lookout_core::monitor::{Monitor, MonitorIntervalUnit};
    /// let monitor = Monitor::new("heartbeat").interval(1, MonitorIntervalUnit::Minute);
    /// # let _ = monitor;
    /// ```
    pub fn interval(mut self, value: u64, unit: MonitorIntervalUnit) -> Self {
        self.schedule = Some(MonitorSchedule::Interval { value, unit });
        self
    }

    /// Minutes after the expected time before a missing check-in counts as
    /// missed.
    ///
    /// ```
    /// let monitor = lookout_core::monitor::Monitor::new("nightly").checkin_margin(5);
    /// # let _ = monitor;
    /// ```
    pub fn checkin_margin(mut self, minutes: u64) -> Self {
        self.checkin_margin = Some(minutes);
        self
    }

    /// Minutes a run may take before it counts as timed out.
    ///
    /// ```
    /// let monitor = lookout_core::monitor::Monitor::new("nightly").max_runtime(30);
    /// # let _ = monitor;
    /// ```
    pub fn max_runtime(mut self, minutes: u64) -> Self {
        self.max_runtime = Some(minutes);
        self
    }

    /// The schedule's time zone (`"Europe/Vienna"`; default UTC).
    ///
    /// ```
    /// let monitor = lookout_core::monitor::Monitor::new("nightly").timezone("Europe/Vienna");
    /// # let _ = monitor;
    /// ```
    pub fn timezone(mut self, timezone: impl Into<String>) -> Self {
        self.timezone = Some(timezone.into());
        self
    }

    /// The engine to report with (default: [`Engine::global`]).
    ///
    /// ```
    /// let engine = lookout_core::Engine::builder().build();
    /// let monitor = lookout_core::monitor::Monitor::new("nightly").engine(&engine);
    /// # let _ = monitor;
    /// ```
    pub fn engine(mut self, engine: &Engine) -> Self {
        self.engine = Some(engine.clone());
        self
    }

    /// The monitor's configuration, when a schedule is set.
    fn config(&self) -> Option<MonitorConfig> {
        Some(MonitorConfig {
            schedule: self.schedule.clone()?,
            checkin_margin: self.checkin_margin,
            max_runtime: self.max_runtime,
            timezone: self.timezone.clone(),
            failure_issue_threshold: None,
            recovery_threshold: None,
        })
    }

    /// Runs one run of the task: `in_progress`, then `ok` or `error` with
    /// the duration. An `Err` or a panic is `error`, and is captured on the
    /// run's trace; a panic is resumed after it was reported.
    pub async fn run<F, T, E>(&self, future: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: Error + Send + Sync + 'static,
    {
        let engine = self.engine.clone().unwrap_or_else(Engine::global);
        let hub = engine.engine.hub.clone().unwrap_or_else(Hub::main);
        let check_in_id = Uuid::new_v4();
        let environment = engine.engine.environment.clone();
        let send = |status: MonitorCheckInStatus, duration: Option<f64>, config| {
            let check_in = MonitorCheckIn {
                check_in_id,
                monitor_slug: self.slug.to_string(),
                status,
                environment: environment.clone(),
                duration,
                monitor_config: config,
            };
            if let Some(client) = hub.client() {
                let mut envelope = Envelope::new();
                envelope.add_item(EnvelopeItem::MonitorCheckIn(check_in));
                client.send_envelope(envelope);
            }
        };
        send(MonitorCheckInStatus::InProgress, None, self.config());
        let started = Instant::now();
        let finished = Finished {
            report: &send,
            started,
            done: false,
        };
        let job = Job::new(self.slug.clone())
            .engine(&engine)
            .tag(MONITOR_TAG, &self.slug)
            .tag(CHECK_IN_TAG, check_in_id.simple().to_string());
        let output = job.run(future).await;
        finished.done(if output.is_ok() {
            MonitorCheckInStatus::Ok
        } else {
            MonitorCheckInStatus::Error
        });
        output
    }
}

/// Sends the closing check-in: `error` if the run never got to say how it
/// ended (it panicked, or was dropped mid-run).
struct Finished<'a, S: Fn(MonitorCheckInStatus, Option<f64>, Option<MonitorConfig>)> {
    report: &'a S,
    started: Instant,
    done: bool,
}

impl<S: Fn(MonitorCheckInStatus, Option<f64>, Option<MonitorConfig>)> Finished<'_, S> {
    fn done(mut self, status: MonitorCheckInStatus) {
        self.done = true;
        (self.report)(status, Some(self.started.elapsed().as_secs_f64()), None);
    }
}

impl<S: Fn(MonitorCheckInStatus, Option<f64>, Option<MonitorConfig>)> Drop for Finished<'_, S> {
    fn drop(&mut self) {
        if !self.done {
            (self.report)(
                MonitorCheckInStatus::Error,
                Some(self.started.elapsed().as_secs_f64()),
                None,
            );
        }
    }
}
