//! push-follow: follows redirects over HTTP/2 and uses pushed responses; see `--help`.

use std::process::ExitCode;

use push_redirect_tools::push_follow::{self, Command};

fn main() -> ExitCode {
    let (options, json) = match push_follow::parse_args(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            println!("{}", push_follow::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run { options, json }) => (options, json),
        Err(e) => {
            eprintln!("push-follow: {e}\n\n{}", push_follow::USAGE);
            return ExitCode::from(2);
        }
    };
    match push_follow::run(&options) {
        Ok(trace) => {
            if json {
                println!("{}", push_follow::to_json(&trace, &options));
            } else {
                print!("{}", push_follow::to_text(&trace, &options));
            }
            if trace.stopped.is_some() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("push-follow: {e}");
            ExitCode::FAILURE
        }
    }
}
