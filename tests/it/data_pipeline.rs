//! The data pipeline through the public API: CIFAR files written in the exact binary format,
//! splits, transforms, and augmentation as the trainer sees it.

use rand::{rngs::StdRng, Rng};
use std::sync::atomic::{AtomicUsize, Ordering};
use typenet::prelude::*;

use crate::support::tmp_dir;

/// A CIFAR record: `labels`, then red = the record's index, green = pixel index mod 256, blue 7.
fn record(labels: &[u8], index: u8) -> Vec<u8> {
    let mut r = labels.to_vec();
    r.extend(std::iter::repeat_n(index, 1024));
    r.extend((0..1024).map(|i| (i % 256) as u8));
    r.extend(std::iter::repeat_n(7u8, 1024));
    r
}

#[test]
fn cifar10_directory_loads_five_training_batches_and_the_test_batch() {
    let dir = tmp_dir("pipeline-c10");
    let root = dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&root).unwrap();
    for b in 1..=5u8 {
        let bytes = [record(&[b], b), record(&[9], b + 10)].concat();
        std::fs::write(root.join(format!("data_batch_{b}.bin")), bytes).unwrap();
    }
    std::fs::write(root.join("test_batch.bin"), record(&[0], 99)).unwrap();
    // the archive's top directory is found below the given one
    let data = Cifar10::load(&dir).unwrap();
    assert_eq!(data.train.targets(), &[1, 9, 2, 9, 3, 9, 4, 9, 5, 9]);
    assert_eq!(data.test.len(), 1);
    let mut x = vec![0.0; 3072];
    data.train.write_features(1, &mut x);
    // channel-major: x[c][row][col] = features[c*1024 + row*32 + col]
    assert_eq!(x[0], 11.0 / 255.0); // red plane: the record's index
    assert_eq!(x[1024 + 33], 33.0 / 255.0); // green plane, row 1 col 1
    assert_eq!(x[2048 + 1023], 7.0 / 255.0); // blue plane, last pixel
}

#[test]
fn cifar100_reads_fine_and_coarse_labels() {
    let p = tmp_dir("pipeline-c100").join("c100.bin");
    std::fs::write(&p, [record(&[3, 42], 0), record(&[19, 99], 1)].concat()).unwrap();
    assert_eq!(Cifar100::load_file(&p).unwrap().targets(), &[42, 99]);
    assert_eq!(Cifar100::load_file_coarse(&p).unwrap().targets(), &[3, 19]);
    let images = Cifar100::load_file(&p).unwrap();
    assert_eq!(images.features()[1024 + 5], 5); // pixels follow both label bytes
}

#[test]
fn split_is_seeded_disjoint_and_stratified() {
    let labels: Vec<usize> = (0..100).map(|i| if i < 70 { 0 } else { 1 }).collect();
    let data = InMemory::<Rank1<1>, Classes<2>>::new((0..100).map(|i| i as f32).collect(), labels)
        .unwrap();
    let (train, test) = data.split_stratified(0.2, 5).unwrap();
    assert_eq!(
        (train.class_counts(), test.class_counts()),
        ([56, 24], [14, 6])
    );
    let mut all: Vec<f32> = train
        .features()
        .iter()
        .chain(test.features())
        .copied()
        .collect();
    all.sort_by(f32::total_cmp);
    assert_eq!(all, (0..100).map(|i| i as f32).collect::<Vec<_>>());
    let (_, other) = data.split(0.2, 6).unwrap();
    assert_ne!(data.split(0.2, 5).unwrap().1.features(), other.features());
    assert!(data.split(1.0, 0).is_err());
}

#[test]
fn standardised_training_features_have_zero_mean_and_unit_std() {
    let data = InMemory::<Rank1<2>, Values<1>>::new(
        vec![1.0, 100.0, 2.0, 300.0, 6.0, 200.0],
        vec![[0.0]; 3],
    )
    .unwrap();
    let s = Standardize::fit(&data).unwrap().transform(&data).unwrap();
    for col in 0..2 {
        let v: Vec<f32> = s.features().iter().skip(col).step_by(2).copied().collect();
        let mean = v.iter().sum::<f32>() / 3.0;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / 3.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{v:?}");
    }
}

/// A one-feature set whose training reads add noise from the trainer's generator, counting reads.
struct Noisy {
    train_reads: AtomicUsize,
    plain_reads: AtomicUsize,
}

impl Dataset for Noisy {
    type Sample = Rank1<1>;
    type Target = Values<1>;
    fn len(&self) -> usize {
        8
    }
    fn write_features(&self, index: usize, out: &mut [f32]) {
        self.plain_reads.fetch_add(1, Ordering::Relaxed);
        out[0] = index as f32 / 8.0;
    }
    fn target(&self, index: usize) -> [f32; 1] {
        [index as f32 / 4.0]
    }
    fn write_train_features(&self, index: usize, out: &mut [f32], rng: &mut StdRng) {
        self.train_reads.fetch_add(1, Ordering::Relaxed);
        out[0] = index as f32 / 8.0 + rng.gen_range(-0.1..0.1);
    }
}

fn fit_noisy(seed: u64) -> (Vec<f64>, usize, usize) {
    let data = Noisy {
        train_reads: AtomicUsize::new(0),
        plain_reads: AtomicUsize::new(0),
    };
    let dev = Cpu::seed_from_u64(0);
    let mut t = Trainer::compile(
        &dev,
        dev.build_module::<Linear<1, 1>, f32>(),
        AdamConfig::default(),
        MeanSquaredError,
        &[],
    )
    .unwrap();
    let cfg = FitConfig {
        epochs: 3,
        batch_size: 4,
        seed,
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    let h = t.fit(&data, &cfg).unwrap();
    let losses = h.epochs.iter().map(|e| e.values["loss"]).collect();
    let fit_reads = (
        data.train_reads.load(Ordering::Relaxed),
        data.plain_reads.load(Ordering::Relaxed),
    );
    t.evaluate(&data).unwrap();
    assert_eq!(
        data.train_reads.load(Ordering::Relaxed),
        fit_reads.0,
        "evaluate must not augment"
    );
    (losses, fit_reads.0, fit_reads.1)
}

#[test]
fn fit_reads_through_the_training_hook_with_a_seeded_generator() {
    let (a, train_reads, plain_reads) = fit_noisy(1);
    assert_eq!((train_reads, plain_reads), (3 * 8, 0));
    assert_eq!(
        a,
        fit_noisy(1).0,
        "same seed, same augmentation, same losses"
    );
    assert_ne!(a, fit_noisy(2).0);
}

#[test]
fn augmented_images_flip_and_crop_only_in_training_reads() {
    let img =
        InMemory::<Rank3<1, 2, 3>, Classes<2>, u8>::new(vec![0, 51, 102, 153, 204, 255], vec![1])
            .unwrap();
    let aug = Augmented::new(
        &img,
        (
            RandomCrop { padding: 0 },
            HorizontalFlip { probability: 1.0 },
        ),
    );
    let (mut plain, mut train) = ([0.0; 6], [0.0; 6]);
    aug.write_features(0, &mut plain);
    aug.write_train_features(0, &mut train, &mut StdRng::seed_from_u64(0));
    assert_eq!(plain, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
    assert_eq!(train, [0.4, 0.2, 0.0, 1.0, 0.8, 0.6]);
    // normalising after augmenting: the view stacks
    let norm = ChannelNorm::<Rank3<1, 2, 3>>::new(&[0.5], &[0.5]).unwrap();
    let view = Transformed::new(aug, norm);
    view.write_train_features(0, &mut train, &mut StdRng::seed_from_u64(0));
    assert_eq!(
        train.map(|v| (v * 10.0).round() / 10.0),
        [-0.2, -0.6, -1.0, 1.0, 0.6, 0.2]
    );
}

#[test]
fn one_hot_trains_with_categorical_crossentropy() {
    let data = InMemory::<Rank1<1>, Classes<2>>::new(vec![-1.0, 1.0, -2.0, 2.0], vec![0, 1, 0, 1])
        .unwrap();
    let hot = one_hot(&data).unwrap();
    let dev = Cpu::seed_from_u64(0);
    let mut t = Trainer::compile(
        &dev,
        dev.build_module::<Linear<1, 2>, f32>(),
        AdamConfig {
            lr: 0.1,
            ..Default::default()
        },
        CategoricalCrossentropy,
        &[],
    )
    .unwrap();
    let cfg = FitConfig {
        epochs: 50,
        batch_size: 4,
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    t.fit(&hot, &cfg).unwrap();
    assert_eq!(t.predict(&hot).unwrap().classes(), vec![0, 1, 0, 1]);
}
