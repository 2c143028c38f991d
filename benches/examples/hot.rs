//! The decision hot path in a loop, for profilers (`perf record`, `valgrind --tool=callgrind`)
//! where criterion's harness would be noise: `hot SIZE SCENARIO N` (SIZE small|medium|large,
//! SCENARIO an index into `Scenario::ALL`, N decisions). Prints ns per decision. With `HOT_AUTHORIZE`
//! set, `authorize` (the explaining path) instead of `decide`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Instant;

use xverify_benches::{policy_set, request, Planted, Scenario, StmtOpts, LARGE, MEDIUM, SMALL};
use xverify_engine::{authorize, decide};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let size = match args.get(1).map(String::as_str).unwrap_or("small") {
        "medium" => MEDIUM,
        "large" => LARGE,
        _ => SMALL,
    };
    let s = Scenario::ALL[args.get(2).map_or(0, |a| a.parse().unwrap())];
    let n: u64 = args.get(3).map_or(1_000_000, |a| a.parse().unwrap());
    let set = policy_set(size, s, Planted::Variables, StmtOpts::FULL);
    let req = request(s);
    assert_eq!(decide(&set, &req), s.expected());
    if std::env::var_os("HOT_SHOW").is_some() {
        for p in set.identity.iter().chain(&set.resource) {
            println!("{}", p.to_json());
        }
        println!("{req:?}");
    }
    let t = Instant::now();
    if std::env::var_os("HOT_AUTHORIZE").is_some() {
        // The explaining path (`xverify eval`'s), for comparison.
        for _ in 0..n {
            black_box(authorize(black_box(&set), black_box(&req)));
        }
    } else {
        for _ in 0..n {
            black_box(decide(black_box(&set), black_box(&req)));
        }
    }
    let ns = t.elapsed().as_nanos() as f64 / n as f64;
    println!("{} {}: {ns:.1} ns per decision", size.name, s.name());
}
