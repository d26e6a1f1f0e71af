//! More bad data-set files (beyond `data_loaders.rs`): headers that claim absurd sizes, no
//! images, broken gzip, an empty CIFAR batch, a PNG whose header claims a huge image, an
//! empty folder. Each is one error naming the file and what was expected.

use std::path::Path;

use nas_navigator::nas::data::{self, DatasetSpec};

fn idx(magic: u32, dims: &[u32], payload: &[u8]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    dims.iter().for_each(|d| out.extend(d.to_be_bytes()));
    out.extend_from_slice(payload);
    out
}

/// A valid four-file IDX set in `dir` (3 train and 2 test images of 2x2).
fn idx_set(dir: &Path) {
    let files = [
        ("train-images-idx3-ubyte", idx(0x803, &[3, 2, 2], &[7; 12])),
        ("train-labels-idx1-ubyte", idx(0x801, &[3], &[0, 1, 2])),
        ("t10k-images-idx3-ubyte", idx(0x803, &[2, 2, 2], &[9; 8])),
        ("t10k-labels-idx1-ubyte", idx(0x801, &[2], &[1, 0])),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn load_err(spec: DatasetSpec) -> String {
    data::load(&spec).map(drop).unwrap_err().to_string()
}

fn idx_err(dir: &Path) -> String {
    load_err(DatasetSpec::MnistIdx {
        dir: dir.to_path_buf(),
    })
}

#[test]
fn idx_headers_that_lie_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    idx_set(dir.path());
    data::load(&DatasetSpec::MnistIdx {
        dir: dir.path().to_path_buf(),
    })
    .unwrap();
    let images = dir.path().join("train-images-idx3-ubyte");
    std::fs::write(
        &images,
        idx(0x803, &[u32::MAX, u32::MAX, u32::MAX], &[1; 8]),
    )
    .unwrap();
    let e = idx_err(dir.path());
    assert!(
        e.contains("train-images-idx3-ubyte") && e.contains("too large"),
        "{e}"
    );
    std::fs::write(&images, idx(0x803, &[0, 2, 2], &[])).unwrap();
    let e = idx_err(dir.path());
    assert!(e.contains("train-images-idx3-ubyte"), "{e}");
    std::fs::write(&images, idx(0x803, &[3, 0, 2], &[])).unwrap();
    let e = idx_err(dir.path());
    assert!(e.contains("expected at least 1x1"), "{e}");
    std::fs::remove_file(&images).unwrap();
    let gz = dir.path().join("train-images-idx3-ubyte.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6]).unwrap();
    let e = idx_err(dir.path());
    assert!(
        e.contains("train-images-idx3-ubyte.gz") && e.contains("gzip"),
        "{e}"
    );
}

#[test]
fn an_empty_cifar_batch_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let record = |label: u8| std::iter::once(label).chain([5u8; 3072]);
    std::fs::write(dir.path().join("data_batch_1.bin"), []).unwrap();
    std::fs::write(
        dir.path().join("test_batch.bin"),
        record(1).collect::<Vec<_>>(),
    )
    .unwrap();
    let e = load_err(DatasetSpec::Cifar10Bin {
        dir: dir.path().to_path_buf(),
    });
    assert!(e.contains("data_batch_1.bin"), "{e}");
}

/// The standard CRC-32 of PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG that is only a header claiming `w` x `h` grey pixels.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(13u32.to_be_bytes());
    out.extend(&ihdr);
    out.extend(crc32(&ihdr).to_be_bytes());
    out
}

#[test]
fn a_png_claiming_a_huge_size_or_an_empty_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for class in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(class)).unwrap();
    }
    let huge = dir.path().join("a/huge.png");
    std::fs::write(&huge, png_header(60_000, 60_000)).unwrap();
    std::fs::write(dir.path().join("b/also.png"), png_header(60_000, 60_000)).unwrap();
    let e = load_err(DatasetSpec::Folder {
        dir: dir.path().to_path_buf(),
        size: None,
    });
    assert!(e.contains("huge.png") && e.contains("cannot decode"), "{e}");
    let empty = tempfile::tempdir().unwrap();
    let e = load_err(DatasetSpec::Folder {
        dir: empty.path().to_path_buf(),
        size: None,
    });
    assert!(e.contains(&*empty.path().to_string_lossy()), "{e}");
}
