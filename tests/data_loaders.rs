//! Integration tests for `nas::data`: every loader on small generated files (and corrupt ones),
//! the split, normalisation and batching, the built-in digits and the installed Fashion-MNIST.

use std::io::Write;
use std::path::Path;

use candle_core::{DType, Device};
use nas_navigator::nas::data::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

// ---------- helpers ----------

fn write(path: &Path, bytes: &[u8], gz: bool) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    if gz {
        let file = std::fs::File::create(format!("{}.gz", path.display())).unwrap();
        let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap();
    } else {
        std::fs::write(path, bytes).unwrap();
    }
}

fn idx_images(n: usize, h: usize, w: usize, first: u8) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3];
    for d in [n, h, w] {
        b.extend_from_slice(&(d as u32).to_be_bytes());
    }
    b.extend((0..n * h * w).map(|i| first.wrapping_add(i as u8)));
    b
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 1];
    b.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    b.extend_from_slice(labels);
    b
}

/// Train: 5 images 4x3 labels 0..4; test: 3 images labels 2,1,0.
fn write_idx_dir(dir: &Path, gz: bool) {
    write(
        &dir.join("train-images-idx3-ubyte"),
        &idx_images(5, 4, 3, 0),
        gz,
    );
    write(
        &dir.join("train-labels-idx1-ubyte"),
        &idx_labels(&[0, 1, 2, 3, 4]),
        gz,
    );
    write(
        &dir.join("t10k-images-idx3-ubyte"),
        &idx_images(3, 4, 3, 100),
        gz,
    );
    write(
        &dir.join("t10k-labels-idx1-ubyte"),
        &idx_labels(&[2, 1, 0]),
        gz,
    );
}

fn err_text<T>(r: Result<T, DataError>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

fn set(channels: usize, height: usize, width: usize, images: Vec<u8>) -> ImageSet {
    let n = images.len() / (channels * height * width);
    ImageSet {
        images,
        labels: (0..n as u32).collect(),
        channels,
        height,
        width,
    }
}

// ---------- IDX ----------

#[test]
fn idx_plain_loads_as_mnist() {
    let tmp = tempfile::tempdir().unwrap();
    write_idx_dir(tmp.path(), false);
    let ds = load(&DatasetSpec::MnistIdx {
        dir: tmp.path().into(),
    })
    .unwrap();
    assert_eq!(ds.shape(), (1, 4, 3));
    assert_eq!((ds.train.len(), ds.test.len()), (5, 3));
    assert_eq!(ds.train.labels, vec![0, 1, 2, 3, 4]);
    assert_eq!(ds.train.image(1), &(12..24).collect::<Vec<u8>>()[..]);
    assert_eq!(ds.test.image(0)[0], 100);
    assert_eq!(ds.classes(), 5);
    assert_eq!(ds.class_names[4], "4");
    assert!(!ds.horizontal_flip);
}

#[test]
fn idx_gz_loads_as_fashion() {
    let tmp = tempfile::tempdir().unwrap();
    write_idx_dir(tmp.path(), true);
    let ds = load(&DatasetSpec::FashionMnist {
        dir: Some(tmp.path().into()),
    })
    .unwrap();
    assert_eq!(ds.name, "fashion-mnist");
    assert_eq!(ds.classes(), 10);
    assert_eq!(ds.class_names[0], "T-shirt/top");
    assert_eq!(ds.class_names[9], "Ankle boot");
    assert!(ds.horizontal_flip);
    assert_eq!(ds.train.images, idx_images(5, 4, 3, 0)[16..].to_vec());
}

#[test]
fn idx_wrong_magic() {
    let tmp = tempfile::tempdir().unwrap();
    write_idx_dir(tmp.path(), false);
    let mut bad = idx_images(5, 4, 3, 0);
    bad[3] = 1;
    write(&tmp.path().join("train-images-idx3-ubyte"), &bad, false);
    let e = err_text(load(&DatasetSpec::MnistIdx {
        dir: tmp.path().into(),
    }));
    assert!(
        e.contains("train-images-idx3-ubyte") && e.contains("magic"),
        "{e}"
    );
    assert!(e.contains("0x00000803"), "{e}");
}

#[test]
fn idx_truncated() {
    let tmp = tempfile::tempdir().unwrap();
    write_idx_dir(tmp.path(), true);
    let mut bad = idx_images(5, 4, 3, 0);
    bad.truncate(bad.len() - 7);
    std::fs::remove_file(tmp.path().join("train-images-idx3-ubyte.gz")).unwrap();
    write(&tmp.path().join("train-images-idx3-ubyte"), &bad, true);
    let e = err_text(load(&DatasetSpec::MnistIdx {
        dir: tmp.path().into(),
    }));
    assert!(e.contains("train-images-idx3-ubyte.gz"), "{e}");
    assert!(
        e.contains("truncated") && e.contains("expected 76 bytes, found 69"),
        "{e}"
    );
}

#[test]
fn idx_label_out_of_range() {
    let tmp = tempfile::tempdir().unwrap();
    write_idx_dir(tmp.path(), false);
    write(
        &tmp.path().join("t10k-labels-idx1-ubyte"),
        &idx_labels(&[2, 10, 0]),
        false,
    );
    let e = err_text(load(&DatasetSpec::MnistIdx {
        dir: tmp.path().into(),
    }));
    assert!(
        e.contains("t10k-labels-idx1-ubyte") && e.contains("record 1"),
        "{e}"
    );
}

#[test]
fn idx_count_mismatch_and_missing() {
    let tmp = tempfile::tempdir().unwrap();
    write_idx_dir(tmp.path(), false);
    write(
        &tmp.path().join("train-labels-idx1-ubyte"),
        &idx_labels(&[0, 1, 2, 3]),
        false,
    );
    let e = err_text(load(&DatasetSpec::MnistIdx {
        dir: tmp.path().into(),
    }));
    assert!(
        e.contains("train-images-idx3-ubyte") && e.contains("train-labels-idx1-ubyte"),
        "{e}"
    );
    assert!(e.contains("5 images but 4 labels"), "{e}");

    write_idx_dir(tmp.path(), false);
    std::fs::remove_file(tmp.path().join("t10k-images-idx3-ubyte")).unwrap();
    let spec = DatasetSpec::FashionMnist {
        dir: Some(tmp.path().into()),
    };
    let e = err_text(load(&spec));
    assert!(
        e.contains("t10k-images-idx3-ubyte") && e.contains("apt-get install"),
        "{e}"
    );
}

#[test]
fn fashion_mnist_installed() {
    let dir = Path::new(FASHION_MNIST_DIR);
    assert!(
        dir.join("train-images-idx3-ubyte.gz").is_file() || dir.join("train-images-idx3-ubyte").is_file(),
        "Fashion-MNIST is not installed in {FASHION_MNIST_DIR}: `apt-get install dataset-fashion-mnist`"
    );
    let ds = load(&DatasetSpec::FashionMnist { dir: None }).unwrap();
    assert_eq!((ds.train.len(), ds.test.len()), (60000, 10000));
    assert_eq!(ds.shape(), (1, 28, 28));
    assert_eq!(ds.classes(), 10);
    assert!(ds.train.labels.iter().all(|&l| l < 10));
}

// ---------- CIFAR ----------

fn cifar_records(labels: &[&[u8]]) -> Vec<u8> {
    let mut b = Vec::new();
    for (i, head) in labels.iter().enumerate() {
        b.extend_from_slice(head);
        b.extend((0..3072).map(|p| (p as u8).wrapping_add(i as u8)));
    }
    b
}

#[test]
fn cifar10_in_subfolder_with_some_batches() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("cifar-10-batches-bin");
    write(
        &root.join("data_batch_1.bin"),
        &cifar_records(&[&[3], &[9]]),
        false,
    );
    write(
        &root.join("data_batch_4.bin"),
        &cifar_records(&[&[0]]),
        false,
    );
    write(&root.join("test_batch.bin"), &cifar_records(&[&[7]]), false);
    let names: String = (0..10).map(|i| format!("c{i}\n")).collect::<String>() + "\n";
    std::fs::write(root.join("batches.meta.txt"), names).unwrap();
    let ds = load(&DatasetSpec::Cifar10Bin {
        dir: tmp.path().into(),
    })
    .unwrap();
    assert_eq!(ds.shape(), (3, 32, 32));
    assert_eq!(ds.train.labels, vec![3, 9, 0]);
    assert_eq!(ds.test.labels, vec![7]);
    assert_eq!(ds.train.image(1)[0], 1);
    assert_eq!(ds.train.image(1)[1024], 1);
    assert_eq!(ds.class_names[3], "c3");
    assert!(ds.horizontal_flip);
}

#[test]
fn cifar10_bad_length_and_label() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bad = cifar_records(&[&[1], &[2]]);
    bad.pop();
    write(&tmp.path().join("data_batch_1.bin"), &bad, false);
    write(
        &tmp.path().join("test_batch.bin"),
        &cifar_records(&[&[1]]),
        false,
    );
    let e = err_text(load(&DatasetSpec::Cifar10Bin {
        dir: tmp.path().into(),
    }));
    assert!(e.contains("data_batch_1.bin") && e.contains("3073"), "{e}");

    write(
        &tmp.path().join("data_batch_1.bin"),
        &cifar_records(&[&[1], &[10]]),
        false,
    );
    let e = err_text(load(&DatasetSpec::Cifar10Bin {
        dir: tmp.path().into(),
    }));
    assert!(
        e.contains("data_batch_1.bin") && e.contains("record 1") && e.contains("3073"),
        "{e}"
    );
}

#[test]
fn cifar100_uses_fine_labels() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        &tmp.path().join("train.bin"),
        &cifar_records(&[&[4, 99], &[0, 17]]),
        false,
    );
    write(
        &tmp.path().join("test.bin"),
        &cifar_records(&[&[19, 42]]),
        false,
    );
    let ds = load(&DatasetSpec::Cifar100Bin {
        dir: tmp.path().into(),
    })
    .unwrap();
    assert_eq!(ds.train.labels, vec![99, 17]);
    assert_eq!(ds.test.labels, vec![42]);
    assert_eq!(ds.classes(), 100);
    assert_eq!(
        (ds.class_names[0].as_str(), ds.class_names[99].as_str()),
        ("apple", "worm")
    );

    let mut bad = cifar_records(&[&[0, 1]]);
    bad.extend_from_slice(&[0; 10]);
    write(&tmp.path().join("test.bin"), &bad, false);
    let e = err_text(load(&DatasetSpec::Cifar100Bin {
        dir: tmp.path().into(),
    }));
    assert!(e.contains("test.bin") && e.contains("3074"), "{e}");
}

// ---------- image folders ----------

fn grey_png(path: &Path, w: u32, h: u32, v: u8) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::GrayImage::from_fn(w, h, |x, y| {
        image::Luma([v.wrapping_add((x + y * w) as u8)])
    })
    .save(path)
    .unwrap();
}

fn rgb_image(path: &Path, w: u32, h: u32, rgb: [u8; 3]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_pixel(w, h, image::Rgb(rgb))
        .save(path)
        .unwrap();
}

#[test]
fn folder_train_test_png() {
    let tmp = tempfile::tempdir().unwrap();
    for (split, n) in [("train", 3), ("test", 1)] {
        for (c, class) in ["b_cat", "a_dog"].iter().enumerate() {
            for i in 0..n {
                grey_png(
                    &tmp.path().join(format!("{split}/{class}/{i}.png")),
                    4,
                    2,
                    (10 * c) as u8,
                );
            }
        }
    }
    std::fs::write(tmp.path().join("train/a_dog/notes.txt"), "not an image").unwrap();
    let ds = load(&DatasetSpec::Folder {
        dir: tmp.path().into(),
        size: None,
    })
    .unwrap();
    assert_eq!(ds.class_names, vec!["a_dog", "b_cat"]);
    assert_eq!(ds.shape(), (1, 2, 4));
    assert_eq!((ds.train.len(), ds.test.len()), (6, 2));
    assert_eq!(ds.train.labels, vec![0, 0, 0, 1, 1, 1]);
    assert_eq!(ds.train.image(0), &[10, 11, 12, 13, 14, 15, 16, 17]);
    assert_eq!(ds.train.image(3), &[0, 1, 2, 3, 4, 5, 6, 7]);
}

#[test]
fn folder_classes_only_jpeg_colour_carves_test() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..12 {
        rgb_image(
            &tmp.path().join(format!("red/{i:02}.jpg")),
            8,
            8,
            [250, 10, 10],
        );
    }
    for i in 0..6 {
        rgb_image(
            &tmp.path().join(format!("blue/{i:02}.JPEG")),
            8,
            8,
            [10, 10, 250],
        );
    }
    let ds = load(&DatasetSpec::Folder {
        dir: tmp.path().into(),
        size: None,
    })
    .unwrap();
    assert_eq!(ds.class_names, vec!["blue", "red"]);
    assert_eq!(ds.shape(), (3, 8, 8));
    assert_eq!((ds.train.len(), ds.test.len()), (15, 3));
    assert_eq!(ds.test.labels, vec![0, 1, 1]);
    let img = ds.train.image(0); // blue, channel-planar
    assert!(img[..64].iter().all(|&v| v < 30) && img[128..].iter().all(|&v| v > 230));
    let again = load(&DatasetSpec::Folder {
        dir: tmp.path().into(),
        size: None,
    })
    .unwrap();
    assert_eq!(again.test.images, ds.test.images);
}

#[test]
fn folder_mixed_sizes_are_resized_to_one_size() {
    let tmp = tempfile::tempdir().unwrap();
    grey_png(&tmp.path().join("a/0.png"), 4, 4, 0);
    grey_png(&tmp.path().join("a/1.png"), 4, 4, 0);
    grey_png(&tmp.path().join("b/0.png"), 4, 4, 0);
    grey_png(&tmp.path().join("b/1.png"), 9, 5, 0);
    // No size given: the most common one (4x4), grey as every file is.
    let ds = load(&DatasetSpec::Folder {
        dir: tmp.path().into(),
        size: None,
    })
    .unwrap();
    assert_eq!(ds.shape(), (1, 4, 4));
    assert_eq!(ds.train.len() + ds.test.len(), 4);
    // One colour file makes the whole set colour; a size given wins.
    rgb_image(&tmp.path().join("b/1.png"), 3, 7, [1, 2, 3]);
    let size = ImageSize::parse("6x2", "--image-size").unwrap();
    let ds = load(&DatasetSpec::Folder {
        dir: tmp.path().into(),
        size: Some(size),
    })
    .unwrap();
    assert_eq!(ds.shape(), (3, 2, 6));
    assert_eq!(ds.train.images.len(), ds.train.len() * 3 * 2 * 6);
}

#[test]
fn folder_empty_class_undecodable_and_class_mismatch() {
    let tmp = tempfile::tempdir().unwrap();
    grey_png(&tmp.path().join("a/0.png"), 4, 4, 0);
    std::fs::create_dir_all(tmp.path().join("b_empty")).unwrap();
    std::fs::write(tmp.path().join("b_empty/readme.md"), "x").unwrap();
    let e = err_text(load(&DatasetSpec::Folder {
        dir: tmp.path().into(),
        size: None,
    }));
    assert!(e.contains("b_empty") && e.contains("empty"), "{e}");

    std::fs::write(tmp.path().join("b_empty/broken.png"), b"not a png at all").unwrap();
    let e = err_text(load(&DatasetSpec::Folder {
        dir: tmp.path().into(),
        size: None,
    }));
    assert!(e.contains("broken.png") && e.contains("decode"), "{e}");

    let tmp = tempfile::tempdir().unwrap();
    for (split, classes) in [("train", ["a", "b"]), ("test", ["a", "c"])] {
        for c in classes {
            grey_png(&tmp.path().join(format!("{split}/{c}/0.png")), 2, 2, 0);
        }
    }
    let e = err_text(load(&DatasetSpec::Folder {
        dir: tmp.path().into(),
        size: None,
    }));
    assert!(
        e.contains("only in train: [\"b\"]") && e.contains("only in test: [\"c\"]"),
        "{e}"
    );
}

// ---------- digits, specs ----------

#[test]
fn digits_builtin() {
    let ds = load(&DatasetSpec::Digits).unwrap();
    assert_eq!(ds.train.len() + ds.test.len(), 1797);
    assert!((350..370).contains(&ds.test.len()), "{}", ds.test.len());
    assert_eq!(ds.shape(), (1, 8, 8));
    assert_eq!(ds.classes(), 10);
    assert!(!ds.horizontal_flip);
    assert_eq!(ds.train.images.iter().max(), Some(&255));
    for c in 0..10 {
        assert!(ds.test.labels.contains(&c));
    }
    let again = load(&DatasetSpec::Digits).unwrap();
    assert_eq!(again.test.labels, ds.test.labels);
}

#[test]
fn spec_parse_name_serde() {
    let dir = Some(std::path::PathBuf::from("/d"));
    for name in [
        "fashion-mnist",
        "mnist-idx",
        "cifar10-bin",
        "cifar100-bin",
        "folder",
        "digits",
    ] {
        let spec = DatasetSpec::parse(name, dir.clone()).unwrap();
        assert_eq!(spec.name(), name);
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json.contains(&format!("\"kind\":\"{name}\"")), "{json}");
        assert_eq!(serde_json::from_str::<DatasetSpec>(&json).unwrap(), spec);
    }
    assert_eq!(
        DatasetSpec::parse("fashion-mnist", None).unwrap(),
        DatasetSpec::FashionMnist { dir: None }
    );
    assert!(err_text(DatasetSpec::parse("folder", None)).contains("needs a directory"));
    let e = err_text(DatasetSpec::parse("imagenet", None));
    assert!(
        e.contains("imagenet") && e.contains("cifar10-bin") && e.contains("digits"),
        "{e}"
    );
}

// ---------- split, normalisation, batches ----------

#[test]
fn split_is_deterministic_and_disjoint() {
    let a = split(100, 0.1, 7);
    assert_eq!((a.train.len(), a.val.len()), (90, 10));
    let b = split(100, 0.1, 7);
    assert_eq!((&a.train, &a.val), (&b.train, &b.val));
    assert_ne!(split(100, 0.1, 8).val, a.val);
    let mut all: Vec<usize> = a.train.iter().chain(&a.val).copied().collect();
    all.sort();
    assert_eq!(all, (0..100).collect::<Vec<_>>());
    assert_eq!(split(5, 0.0, 1).val.len(), 1);
    assert_eq!(split(5, 1.0, 1).train.len(), 1);
    assert_eq!(split(1, 0.5, 1).val.len(), 0);
    assert!(split(0, 0.5, 1).train.is_empty());
}

#[test]
fn normalisation_on_tiny_set() {
    // Two 2-channel 1x2 images: channel 0 = {0, 255, 0, 255}, channel 1 = all 51.
    let s = set(2, 1, 2, vec![0, 255, 51, 51, 0, 255, 51, 51]);
    let n = Normalisation::from_images(&s, &[0, 1]);
    assert!(
        (n.mean[0] - 0.5).abs() < 1e-6 && (n.std[0] - 0.5).abs() < 1e-6,
        "{n:?}"
    );
    assert!((n.mean[1] - 0.2).abs() < 1e-6 && n.std[1] == 1e-6, "{n:?}");
    let empty = Normalisation::from_images(&s, &[]);
    assert_eq!((empty.mean, empty.std), (vec![0.0, 0.0], vec![1.0, 1.0]));
}

#[test]
fn make_batch_shapes_and_values() {
    let s = set(1, 2, 2, vec![0, 51, 102, 255, 10, 20, 30, 40]);
    let norm = Normalisation {
        mean: vec![0.2],
        std: vec![0.5],
    };
    let (x, y) = make_batch(&s, &[1, 0], &norm, None, &Device::Cpu).unwrap();
    assert_eq!((x.dims(), x.dtype()), (&[2, 1, 2, 2][..], DType::F32));
    assert_eq!((y.dims(), y.dtype()), (&[2][..], DType::U32));
    assert_eq!(y.to_vec1::<u32>().unwrap(), vec![1, 0]);
    let v = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert!((v[4 + 3] - (1.0 - 0.2) / 0.5).abs() < 1e-5, "{v:?}");
    assert!((v[4 + 1] - 0.0).abs() < 1e-5, "{v:?}");
    let e = err_text(make_batch(&s, &[2], &norm, None, &Device::Cpu));
    assert!(e.contains("index 2") && e.contains("2 images"), "{e}");
    let bad = Normalisation::identity(3);
    assert!(err_text(make_batch(&s, &[0], &bad, None, &Device::Cpu))
        .contains("expected one per channel (1)"));
}

#[test]
fn augmentation_crops_and_flips() {
    let (h, w) = (6, 6);
    let pixels: Vec<u8> = (0..h * w).map(|i| 1 + i as u8).collect();
    let s = set(1, h, w, [pixels.clone(), pixels.clone()].concat());
    let id = Normalisation::identity(1);
    let crop = Augment {
        crop_padding: 2,
        horizontal_flip: false,
    };
    let sums = |seed: u64, aug: &Augment| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (x, _) =
            make_batch(&s, &[0, 1, 0, 1], &id, Some((aug, &mut rng)), &Device::Cpu).unwrap();
        x.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    };
    let a = sums(1, &crop);
    let total: f32 = pixels.iter().map(|&p| p as f32 / 255.0).sum();
    for img in a.chunks(h * w) {
        assert!(img.iter().sum::<f32>() <= total + 1e-4);
    }
    assert_eq!(a, sums(1, &crop));
    assert_ne!(a, sums(2, &crop));

    let flip = Augment {
        crop_padding: 0,
        horizontal_flip: true,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let idx = vec![0; 64];
    let (x, _) = make_batch(&s, &idx, &id, Some((&flip, &mut rng)), &Device::Cpu).unwrap();
    let v = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let (mut plain, mut mirrored) = (0, 0);
    for img in v.chunks(h * w) {
        if (img[0] * 255.0 - 1.0).abs() < 1e-3 {
            plain += 1;
        } else {
            assert!(
                (img[0] * 255.0 - w as f32).abs() < 1e-3 && (img[w - 1] * 255.0 - 1.0).abs() < 1e-3
            );
            mirrored += 1;
        }
    }
    assert!(plain > 10 && mirrored > 10, "{plain} {mirrored}");
    let ds = load(&DatasetSpec::Digits).unwrap();
    assert_eq!(
        Augment::for_dataset(&ds),
        Augment {
            crop_padding: 1,
            horizontal_flip: false
        }
    );
}
