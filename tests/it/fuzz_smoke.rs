//! The fuzz targets on stable Rust, in `cargo test`, for a fixed number of executions: each
//! target's body (the very function its cargo-fuzz binary calls, `fuzz/fuzz_targets/bodies.rs`)
//! runs on every file of its committed corpus (`fuzz/corpus/<target>/`), on every input that once
//! crashed it (`fuzz/regressions/<target>/`, kept as regression tests), then on a seeded,
//! deterministic stream of mutations of the corpus: bit flips, byte overwrites, truncations,
//! insertions, deletions, splices between two corpus files and overwritten length fields.
//!
//! A panic fails the test with the target's name, the execution and the panic's message, and
//! the input written to a file for replay (`cargo fuzz run <target> <file>` in `fuzz/`, or a
//! copy into `fuzz/regressions/<target>/`). The `npz` and `checkpoint` bodies also check that a
//! refused file leaves the model unchanged.
//!
//! Budget: about 10 s for all five targets in the dev profile. A longer search: the same
//! tests with `TYPENET_FUZZ_EXECUTIONS` (inputs per target) and `TYPENET_FUZZ_SEED` (another
//! stream) set, or cargo-fuzz (see `fuzz/Cargo.toml`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/fuzz_targets/bodies.rs"]
mod bodies;

/// SplitMix64: a tiny, fixed generator, so the mutation stream is the same on every machine and
/// with every version of the `rand` crate.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Values a length or count field is most likely to mishandle.
const LENGTHS: [u64; 12] = [
    0,
    1,
    2,
    7,
    8,
    255,
    0xFFFF,
    0x7FFF_FFFF,
    0xFFFF_FFFF,
    0x1_0000_0000,
    i64::MAX as u64,
    u64::MAX,
];

/// Pieces of the formats' headers (safetensors' JSON, `.npy` headers, zip signatures, CSV).
const TOKENS: [&[u8]; 16] = [
    b"\"dtype\":\"F64\"",
    b"\"dtype\":\"F16\"",
    b"\"dtype\":\"I64\"",
    b"\"shape\":[]",
    b"\"data_offsets\":[0,0]",
    b"'descr': '<f8'",
    b"'descr': '|u1'",
    b"'fortran_order': True",
    b"'shape': (),",
    b"'shape': (0, 3),",
    b"PK\x03\x04",
    b"PK\x01\x02",
    b"PK\x05\x06",
    b"\x93NUMPY\x01\x00",
    b",,\n",
    b"nan,inf,-1e39\n",
];

/// One mutation of `input`, `corpus` giving the other side of a splice.
fn mutate_once(input: &mut Vec<u8>, corpus: &[Vec<u8>], s: &mut Stream) {
    let len = input.len();
    match s.below(10) {
        // a number written in text (a safetensors header's shapes and offsets, an .npy header's
        // shape, a CSV cell) replaced by an edge value
        8 if len > 0 => {
            let start = s.below(len);
            if let Some(a) = (start..len).find(|&i| input[i].is_ascii_digit()) {
                let b = (a..len)
                    .find(|&i| !input[i].is_ascii_digit())
                    .unwrap_or(len);
                let value = LENGTHS[s.below(LENGTHS.len())].wrapping_sub(s.below(2) as u64);
                let text = if s.below(4) == 0 {
                    format!("-{value}")
                } else {
                    value.to_string()
                };
                input.splice(a..b, text.into_bytes());
            }
        }
        // a token of the formats' headers written over the input or inserted into it
        9 => {
            let token = TOKENS[s.below(TOKENS.len())];
            let at = s.below(len + 1);
            if s.below(2) == 0 {
                input.splice(at..at, token.iter().copied());
            } else {
                let end = (at + token.len()).min(len);
                input.splice(at..end, token.iter().copied());
            }
        }
        // flip one bit
        0 if len > 0 => {
            let i = s.below(len);
            input[i] ^= 1 << s.below(8);
        }
        // overwrite one byte with an edge value or a random one
        1 if len > 0 => {
            let i = s.below(len);
            input[i] = [0, 1, 0x7F, 0x80, 0xFF, s.next() as u8][s.below(6)];
        }
        // truncate
        2 if len > 0 => input.truncate(s.below(len)),
        // insert random bytes
        3 => {
            let at = s.below(len + 1);
            let n = 1 + s.below(16);
            let bytes: Vec<u8> = (0..n).map(|_| s.next() as u8).collect();
            input.splice(at..at, bytes);
        }
        // delete a range
        4 if len > 1 => {
            let a = s.below(len);
            let b = (a + 1 + s.below(32)).min(len);
            input.drain(a..b);
        }
        // splice: this input's head, another corpus file's tail
        5 => {
            let other = &corpus[s.below(corpus.len())];
            let cut = s.below(len + 1);
            let from = s.below(other.len() + 1);
            input.truncate(cut);
            input.extend_from_slice(&other[from..]);
        }
        // overwrite a 2-, 4- or 8-byte length field, little- or big-endian
        _ if len > 0 => {
            let width = [2, 4, 8][s.below(3)];
            let value = LENGTHS[s.below(LENGTHS.len())].wrapping_add(s.below(3) as u64);
            let bytes = if s.below(2) == 0 {
                value.to_le_bytes()
            } else {
                value.to_be_bytes()
            };
            // length fields sit at the start of a file or record more often than not
            let at = if s.below(3) == 0 { 0 } else { s.below(len) };
            let bytes = if s.below(2) == 0 {
                &bytes[..width]
            } else {
                &bytes[8 - width..]
            };
            for (k, b) in bytes.iter().enumerate() {
                if let Some(slot) = input.get_mut(at + k) {
                    *slot = *b;
                }
            }
        }
        _ => input.push(s.next() as u8),
    }
}

/// The files of `dir`, sorted by name (none if it does not exist).
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn panic_text(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

/// Runs `body` on one input; a panic fails the test, naming the target and a replay file.
fn run_one(target: &str, what: &str, input: &[u8], body: fn(&[u8])) {
    if let Err(e) = catch_unwind(AssertUnwindSafe(|| body(input))) {
        let replay = std::env::temp_dir().join(format!(
            "typenet-fuzz-crash-{target}-{}.bin",
            std::process::id()
        ));
        std::fs::write(&replay, input).unwrap();
        panic!(
            "fuzz target `{target}` panicked on {what} ({} bytes): {}\n  input written to {} \
             (replay: `cargo fuzz run {target} <file>` in fuzz/, or copy it into \
             fuzz/regressions/{target}/)",
            input.len(),
            panic_text(&*e),
            replay.display()
        );
    }
}

/// The corpus, the regressions, then `executions` mutated inputs from seed `seed`; returns the
/// number of inputs run.
fn smoke(target: &str, body: fn(&[u8]), executions: usize, seed: u64) -> usize {
    // a longer search by hand: TYPENET_FUZZ_EXECUTIONS=100000 TYPENET_FUZZ_SEED=9
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let executions = var("TYPENET_FUZZ_EXECUTIONS").map_or(executions, |n| n as usize);
    let seed = var("TYPENET_FUZZ_SEED").map_or(seed, |s| s.wrapping_mul(31).wrapping_add(seed));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = files(&root.join("corpus").join(target));
    assert!(!corpus.is_empty(), "fuzz/corpus/{target} is empty");
    let regressions = files(&root.join("regressions").join(target));
    for (path, bytes) in corpus.iter().chain(&regressions) {
        run_one(target, &path.display().to_string(), bytes, body);
    }
    let seeds: Vec<Vec<u8>> = corpus.into_iter().map(|(_, b)| b).collect();
    let mut s = Stream(seed);
    for k in 0..executions {
        let mut input = seeds[s.below(seeds.len())].clone();
        for _ in 0..1 + s.below(4) {
            mutate_once(&mut input, &seeds, &mut s);
        }
        // keep inputs small: the loaders' cost is not what is searched for here
        input.truncate(1 << 16);
        run_one(
            target,
            &format!("mutation {k} of seed {seed}"),
            &input,
            body,
        );
    }
    let n = seeds.len() + regressions.len() + executions;
    println!("fuzz {target}: {n} inputs, no panic");
    n
}

#[test]
fn fuzz_idx_smoke() {
    smoke("idx", bodies::idx, 6000, 1);
}

#[test]
fn fuzz_cifar_smoke() {
    smoke("cifar", bodies::cifar, 6000, 2);
}

#[test]
fn fuzz_csv_smoke() {
    smoke("csv", bodies::csv, 6000, 3);
}

#[test]
fn fuzz_npz_smoke() {
    smoke("npz", bodies::npz, 6000, 4);
}

#[test]
fn fuzz_checkpoint_smoke() {
    smoke("checkpoint", bodies::checkpoint, 6000, 5);
}

/// The mutation stream is what a failure report's "mutation k of seed s" refers to: it must
/// not change from run to run.
#[test]
fn mutation_stream_is_deterministic() {
    let seeds = vec![b"0123456789abcdef".to_vec(), vec![0u8; 40]];
    let run = || {
        let mut s = Stream(7);
        (0..50)
            .map(|_| {
                let mut x = seeds[s.below(2)].clone();
                mutate_once(&mut x, &seeds, &mut s);
                x
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    // and it mutates: most outputs differ from both seeds
    let changed = a.iter().filter(|x| !seeds.contains(x)).count();
    assert!(changed >= 40, "only {changed} of 50 inputs changed");
}

/// The harness reports a panicking body: the message names the target and the input's file,
/// and that file holds the input.
#[test]
fn a_panic_names_the_target_and_writes_the_input() {
    fn body(data: &[u8]) {
        assert!(!data.starts_with(b"boom"), "refused {} bytes", data.len());
    }
    run_one("demo", "a clean input", b"fine", body);
    let e = catch_unwind(|| run_one("demo", "mutation 3 of seed 1", b"boom!", body))
        .expect_err("the panic reached the harness");
    let msg = panic_text(&*e);
    assert!(
        msg.contains("fuzz target `demo` panicked on mutation 3 of seed 1"),
        "{msg}"
    );
    assert!(msg.contains("refused 5 bytes"), "{msg}");
    let file = msg
        .split("input written to ")
        .nth(1)
        .and_then(|rest| rest.split(" (replay").next())
        .unwrap_or_else(|| panic!("no file in: {msg}"));
    assert_eq!(std::fs::read(file).unwrap(), b"boom!");
    std::fs::remove_file(file).unwrap();
}
