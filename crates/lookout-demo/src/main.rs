//! `lookout-demo`: see the library docs, or run it with `--help`.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    lookout_demo::run(&args)
}
