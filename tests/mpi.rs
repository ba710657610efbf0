//! Data-parallel training on MPI: `mpirun -np 2` ranks of this test binary, batch 32 each,
//! against one process with batch 32 in 2 micro-batches per step, on a Fashion-MNIST subset.
//!
//! A test target of its own, built only with the `mpi` feature
//! (`cargo test --features mpi --test mpi`), so the plain `cargo test` neither builds nor skips
//! it. Needs Open MPI's `mpirun` and the Debian package `dataset-fashion-mnist`; without them the
//! test says plainly that it skipped, unless `TYPENET_REQUIRE_DATA=1` (as in CI), where a missing
//! data set or `mpirun` fails it.

use typenet::prelude::*;

/// Training images of the subset (the first ones), and test images.
const TRAIN: usize = 6_000;
const TEST: usize = 2_000;

type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);

/// Skips (returns `false`) or fails, as `TYPENET_REQUIRE_DATA` says, for something missing.
fn available(test: &str, what: std::result::Result<(), String>) -> bool {
    match what {
        Ok(()) => true,
        Err(e) if std::env::var("TYPENET_REQUIRE_DATA").as_deref() == Ok("1") => {
            panic!("TYPENET_REQUIRE_DATA=1 but {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED {test}: {e}");
            false
        }
    }
}

/// Trains the 784-128-10 MLP for 2 epochs on the subset, on the ranks of `comm` (batch 32
/// each) or alone (batch 32, 2 micro-batches per step); returns an FNV-1a hash of every
/// weight's bits and the test accuracy, as the line `RESULT <hash> <accuracy>`.
fn train(comm: Option<&dyn typenet::distributed::Communicator>) -> String {
    let data = FashionMnist::load(FASHION_MNIST_DIR).unwrap();
    let train = typenet::data::Subset::new(&data.train, (0..TRAIN).collect());
    let test = typenet::data::Subset::new(&data.test, (0..TEST).collect());
    let dev = Cpu::seed_from_u64(0);
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<Mlp, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )
    .unwrap();
    let cfg = FitConfig {
        epochs: 2,
        batch_size: 32,
        accumulation_steps: if comm.is_some() { 1 } else { 2 },
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    let fit = model.fitting(&train);
    match comm {
        Some(c) => fit.distributed(c).run(&cfg),
        None => fit.run(&cfg),
    }
    .unwrap();
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let m = &model.model;
    for t in [
        m.0.weight.as_vec(),
        m.0.bias.as_vec(),
        m.2.weight.as_vec(),
        m.2.bias.as_vec(),
    ] {
        for v in t {
            for byte in v.to_bits().to_le_bytes() {
                hash = (hash ^ byte as u64).wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    let accuracy = model.evaluate(&test).unwrap().metrics["accuracy"];
    format!("RESULT {hash:016x} {accuracy}")
}

/// One process of the comparison, run by [`two_ranks_equal_one_process_bit_for_bit`] in a
/// child process (`TYPENET_MPI_ROLE=rank` under `mpirun`, `reference` alone).
#[test]
#[ignore = "run by two_ranks_equal_one_process_bit_for_bit in child processes"]
fn rank() {
    match std::env::var("TYPENET_MPI_ROLE").as_deref() {
        Ok("reference") => println!("{}", train(None)),
        Ok("rank") => {
            use typenet::distributed::Communicator;
            let world = typenet::distributed::Mpi::init().unwrap();
            let result = train(Some(&world));
            println!("rank {} of {}: {result}", world.rank(), world.size());
        }
        _ => {}
    }
}

#[test]
fn two_ranks_equal_one_process_bit_for_bit() {
    let test = "two_ranks_equal_one_process_bit_for_bit";
    let data = FashionMnist::load(FASHION_MNIST_DIR).map(|_| ());
    let mpirun = std::process::Command::new("mpirun")
        .arg("--version")
        .output()
        .map_err(|e| format!("mpirun does not run ({e}): apt-get install openmpi-bin"))
        .map(|_| ());
    if !available(test, data.map_err(|e| e.to_string())) || !available(test, mpirun) {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let args = ["rank", "--exact", "--include-ignored", "--nocapture"];
    let run = |cmd: &mut std::process::Command| {
        let out = cmd.env("RAYON_NUM_THREADS", "1").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{cmd:?} failed: {}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        text.lines()
            .filter_map(|l| {
                l.split_once("RESULT ")
                    .map(|(head, r)| (head.to_string(), r.to_string()))
            })
            .collect::<Vec<_>>()
    };
    let one = run(std::process::Command::new(&exe)
        .args(args)
        .env("TYPENET_MPI_ROLE", "reference"));
    let two = run(std::process::Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-np", "2"])
        .arg(&exe)
        .args(args)
        .env("TYPENET_MPI_ROLE", "rank"));
    assert_eq!(one.len(), 1, "{one:?}");
    assert_eq!(two.len(), 2, "one result line per rank: {two:?}");
    // every rank ends with the weights (hash) and test accuracy of the one process
    for (rank, result) in &two {
        assert_eq!(result, &one[0].1, "{rank}against one process");
    }
    println!("one process and both ranks: {}", one[0].1);
}
