//! A TCP proxy that delays every byte by half a round-trip time in each direction.
//!
//! This machine has no netem, and a benchmark of "one round trip saved" needs round
//! trips that cost something. Each direction of each connection is a pipeline of two
//! threads: one reads and stamps each chunk with the instant it may leave, the other
//! sleeps until then and writes. Chunks keep their order and the delay does not grow
//! with the amount of data, as on a long, fat link.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const CHUNK: usize = 64 * 1024;

/// Accepts connections on `listener` and relays each one to `upstream`, delaying
/// each direction by `one_way`. Runs until accepting fails.
pub fn serve(listener: TcpListener, upstream: SocketAddr, one_way: Duration) -> io::Result<()> {
    for client in listener.incoming() {
        let client = client?;
        thread::spawn(move || {
            if let Err(e) = relay(client, upstream, one_way) {
                eprintln!("latency-proxy: connection to {upstream}: {e}");
            }
        });
    }
    Ok(())
}

/// Resolves `upstream` once, so every connection goes to the same address.
pub fn resolve(upstream: &str) -> io::Result<SocketAddr> {
    upstream
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{upstream}: no address")))
}

fn relay(client: TcpStream, upstream: SocketAddr, one_way: Duration) -> io::Result<()> {
    // The connect itself costs a round trip on a real link.
    thread::sleep(one_way * 2);
    let server = TcpStream::connect(upstream)?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let to_server = delayed_pipe(client.try_clone()?, server.try_clone()?, one_way);
    let to_client = delayed_pipe(server, client, one_way);
    for pipe in [to_server, to_client] {
        let _ = pipe.join();
    }
    Ok(())
}

enum Segment {
    Data(Instant, Vec<u8>),
    End(Instant),
}

/// Copies `from` to `to`, each chunk leaving `delay` after it arrived.
fn delayed_pipe(mut from: TcpStream, mut to: TcpStream, delay: Duration) -> thread::JoinHandle<()> {
    let (tx, rx) = mpsc::channel::<Segment>();
    let writer = thread::spawn(move || {
        for segment in rx {
            let (due, data) = match segment {
                Segment::Data(due, data) => (due, Some(data)),
                Segment::End(due) => (due, None),
            };
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            }
            match data {
                Some(data) => {
                    if to.write_all(&data).is_err() {
                        break;
                    }
                }
                None => break,
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    thread::spawn(move || {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(Segment::End(Instant::now() + delay));
                    break;
                }
                Ok(n) => {
                    if tx
                        .send(Segment::Data(Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        let _ = from.shutdown(Shutdown::Read);
        let _ = writer.join();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server and a proxy in front of it, both on ephemeral ports.
    fn echo_behind_proxy(one_way: Duration) -> SocketAddr {
        let echo = TcpListener::bind("127.0.0.1:0").unwrap();
        let echo_addr = echo.local_addr().unwrap();
        thread::spawn(move || {
            for conn in echo.incoming() {
                let mut conn = conn.unwrap();
                thread::spawn(move || {
                    let mut reader = conn.try_clone().unwrap();
                    let _ = io::copy(&mut reader, &mut conn);
                });
            }
        });
        let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy_addr = proxy.local_addr().unwrap();
        thread::spawn(move || serve(proxy, echo_addr, one_way));
        proxy_addr
    }

    fn round_trip(conn: &mut TcpStream, message: &[u8]) -> Duration {
        let start = Instant::now();
        conn.write_all(message).unwrap();
        let mut echoed = vec![0u8; message.len()];
        conn.read_exact(&mut echoed).unwrap();
        assert_eq!(echoed, message);
        start.elapsed()
    }

    #[test]
    fn a_round_trip_costs_at_least_the_configured_rtt() {
        let one_way = Duration::from_millis(25);
        let mut conn = TcpStream::connect(echo_behind_proxy(one_way)).unwrap();
        for _ in 0..3 {
            assert!(round_trip(&mut conn, b"ping") >= one_way * 2);
        }
    }

    #[test]
    fn bytes_arrive_complete_and_in_order() {
        let mut conn = TcpStream::connect(echo_behind_proxy(Duration::from_millis(1))).unwrap();
        let message: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut reader = conn.try_clone().unwrap();
        let expected = message.clone();
        let check = thread::spawn(move || {
            let mut echoed = vec![0u8; expected.len()];
            reader.read_exact(&mut echoed).unwrap();
            echoed == expected
        });
        conn.write_all(&message).unwrap();
        assert!(check.join().unwrap());
    }

    #[test]
    fn end_of_stream_is_passed_on() {
        let mut conn = TcpStream::connect(echo_behind_proxy(Duration::from_millis(1))).unwrap();
        conn.write_all(b"last words").unwrap();
        conn.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"last words");
    }
}
