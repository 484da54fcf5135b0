//! latency-proxy: a TCP relay that adds a round-trip time, for benchmarks on loopback.

use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

use push_redirect_tools::latency_proxy;

const USAGE: &str = "\
usage: latency-proxy --upstream HOST:PORT --rtt-ms MS [--listen ADDR:PORT]

Relays every TCP connection accepted on --listen (default 127.0.0.1:0, an
ephemeral port) to --upstream, delaying each direction by MS/2 milliseconds
and the connection set-up by one RTT. Prints `listening on ADDR:PORT` once
ready, then runs until killed.";

struct Args {
    listen: String,
    upstream: String,
    rtt: Duration,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut listen = "127.0.0.1:0".to_owned();
    let (mut upstream, mut rtt) = (None, None);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--listen" => listen = value,
            "--upstream" => upstream = Some(value),
            "--rtt-ms" => {
                let ms: u64 = value
                    .parse()
                    .map_err(|_| format!("--rtt-ms: not a number of milliseconds: {value:?}"))?;
                rtt = Some(Duration::from_millis(ms));
            }
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    Ok(Args {
        listen,
        upstream: upstream.ok_or("--upstream is required")?,
        rtt: rtt.ok_or("--rtt-ms is required")?,
    })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("latency-proxy: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let run = || -> std::io::Result<()> {
        let upstream = latency_proxy::resolve(&args.upstream)?;
        let listener = TcpListener::bind(&args.listen)?;
        println!("listening on {}", listener.local_addr()?);
        latency_proxy::serve(listener, upstream, args.rtt / 2)
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latency-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}
