//! The command line: `lookout-demo` (the tour) and
//! `lookout-demo serve --framework axum|actix|warp [--addr ADDR] [--plain] [--monitor]`.
//!
//! Other tools drive this command line; its words are a contract.

use std::fmt;
use std::net::SocketAddr;

pub(crate) const USAGE: &str = "\
usage:
  lookout-demo
      start the demo service on every available framework on loopback ports,
      play the scripted tour against each and print what lookout did
  lookout-demo serve --framework axum|actix|warp [--addr 127.0.0.1:8080] [--plain] [--monitor]
      serve the demo routes until SIGINT/SIGTERM; the first line printed is
      `listening on http://ADDR`; --plain serves the same routes without lookout;
      --monitor also runs the demo cron monitor (`demo-heartbeat`) every minute

Settings come from the environment (SENTRY_DSN, SENTRY_ENVIRONMENT, ...; see docs/configuration.md).";

/// The address `serve` listens on when `--addr` is not given.
pub(crate) const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// No arguments: the scripted tour.
    Tour,
    /// `serve ...`.
    Serve(ServeArgs),
    /// `-h`, `--help`, `help`.
    Help,
}

/// The arguments of `serve`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ServeArgs {
    pub(crate) framework: Framework,
    pub(crate) addr: SocketAddr,
    pub(crate) plain: bool,
    /// `--monitor`: run the demo cron monitor every minute.
    pub(crate) monitor: bool,
}

/// A web framework the demo knows by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framework {
    Axum,
    Actix,
    Warp,
}

impl Framework {
    /// Every framework the command line accepts by name.
    pub(crate) const ALL: [Framework; 3] = [Framework::Axum, Framework::Actix, Framework::Warp];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Framework::Axum => "axum",
            Framework::Actix => "actix",
            Framework::Warp => "warp",
        }
    }

    /// Whether lookout has an adapter for it yet (and so the demo a module).
    pub(crate) fn is_available(self) -> bool {
        matches!(self, Framework::Axum | Framework::Actix | Framework::Warp)
    }

    /// The frameworks the demo can run today.
    pub(crate) fn available() -> impl Iterator<Item = Framework> {
        Self::ALL.into_iter().filter(|f| f.is_available())
    }

    /// Parses a framework name, refusing unknown and not-yet-available ones.
    pub(crate) fn parse(name: &str) -> Result<Framework, String> {
        let available: Vec<&str> = Self::available().map(Framework::name).collect();
        let framework = Self::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                format!(
                    "unknown framework `{name}`: expected one of axum, actix, warp (available now: {})",
                    available.join(", ")
                )
            })?;
        if framework.is_available() {
            Ok(framework)
        } else {
            Err(format!(
                "framework `{name}` is not available yet: lookout has no {name} adapter so far (available now: {})",
                available.join(", ")
            ))
        }
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses the arguments after the program name.
pub(crate) fn parse<S: AsRef<str>>(args: &[S]) -> Result<Command, String> {
    let mut args = args.iter().map(AsRef::as_ref);
    match args.next() {
        None => Ok(Command::Tour),
        Some("-h" | "--help" | "help") => Ok(Command::Help),
        Some("serve") => parse_serve(args).map(Command::Serve),
        Some(other) => Err(format!(
            "unknown command `{other}`: run with no arguments for the tour, or `serve`"
        )),
    }
}

fn parse_serve<'a>(mut args: impl Iterator<Item = &'a str>) -> Result<ServeArgs, String> {
    let mut framework = None;
    let mut addr = None;
    let mut plain = false;
    let mut monitor = false;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
            _ => (arg, None),
        };
        let mut value = |what: &str| -> Result<&'a str, String> {
            match inline {
                Some(v) => Ok(v),
                None => args
                    .next()
                    .ok_or_else(|| format!("{flag} needs a value: {what}")),
            }
        };
        match flag {
            "--framework" => framework = Some(Framework::parse(value("axum, actix or warp")?)?),
            "--addr" => {
                let text = value("an address such as 127.0.0.1:8080")?;
                addr = Some(text.parse::<SocketAddr>().map_err(|_| {
                    format!("--addr {text:?}: expected IP:PORT, such as 127.0.0.1:8080 (port 0 picks a free port)")
                })?);
            }
            "--plain" if inline.is_none() => plain = true,
            "--monitor" if inline.is_none() => monitor = true,
            _ => return Err(format!("serve: unexpected argument `{arg}`")),
        }
    }
    let framework = framework.ok_or("serve needs --framework axum|actix|warp")?;
    let addr = match addr {
        Some(addr) => addr,
        None => DEFAULT_ADDR
            .parse()
            .map_err(|_| "invalid default address".to_owned())?,
    };
    Ok(ServeArgs {
        framework,
        addr,
        plain,
        monitor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_arguments_is_the_tour() {
        assert_eq!(parse::<&str>(&[]), Ok(Command::Tour));
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
    }

    #[test]
    fn serve_takes_framework_addr_and_plain() {
        let cmd = parse(&[
            "serve",
            "--framework",
            "axum",
            "--addr",
            "127.0.0.1:0",
            "--plain",
            "--monitor",
        ]);
        assert_eq!(
            cmd,
            Ok(Command::Serve(ServeArgs {
                framework: Framework::Axum,
                addr: "127.0.0.1:0".parse().unwrap(),
                plain: true,
                monitor: true,
            }))
        );
        let cmd = parse(&["serve", "--framework=axum"]).unwrap();
        let Command::Serve(args) = cmd else { panic!() };
        assert_eq!(args.addr.to_string(), DEFAULT_ADDR);
        assert!(!args.plain);
        assert!(!args.monitor);
    }

    #[test]
    fn errors_say_what_is_accepted() {
        let unknown = parse(&["serve", "--framework", "rocket"]).unwrap_err();
        assert!(unknown.contains("unknown framework `rocket`"), "{unknown}");
        assert!(unknown.contains("axum, actix, warp"), "{unknown}");
        let actix = parse(&["serve", "--framework", "actix"]).unwrap();
        assert!(matches!(
            actix,
            Command::Serve(ServeArgs {
                framework: Framework::Actix,
                ..
            })
        ));
        let warp = parse(&["serve", "--framework", "warp"]).unwrap();
        assert!(matches!(
            warp,
            Command::Serve(ServeArgs {
                framework: Framework::Warp,
                ..
            })
        ));
        let addr = parse(&["serve", "--framework", "axum", "--addr", "localhost"]).unwrap_err();
        assert!(addr.contains("expected IP:PORT"), "{addr}");
        assert_eq!(
            parse(&["serve"]).unwrap_err(),
            "serve needs --framework axum|actix|warp"
        );
        assert!(
            parse(&["serve", "--framework"])
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(
            parse(&["serve", "--framework", "axum", "--verbose"])
                .unwrap_err()
                .contains("`--verbose`")
        );
        assert!(
            parse(&["tour"])
                .unwrap_err()
                .contains("unknown command `tour`")
        );
    }
}
