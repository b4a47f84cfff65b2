//! Image folders: torchvision's ImageFolder layout and a CSV list, resize-shorter-side plus
//! centre crop, corrupt files named (or skipped and counted), and a short training run on a
//! folder.

use std::path::Path;

use brainlike_core::TrainConfig;
use brainlike_core::data::dataset::Dataset;
use brainlike_core::data::image_folder::ImageFolder;
use brainlike_core::train::{TrainOptions, load_resources, train};

/// A `w x h` image whose left half is black and right half white (red channel), green = 7.
fn save(path: &Path, w: u32, h: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_fn(w, h, |x, _| {
        image::Rgb([if x < w / 2 { 0 } else { 255 }, 7, 0])
    })
    .save(path)
    .unwrap();
}

fn make(root: &Path) {
    for part in ["train", "val"] {
        for (c, class) in ["cat", "ant"].iter().enumerate() {
            for k in 0..4 {
                save(
                    &root.join(part).join(class).join(format!("{k}.png")),
                    40 + 8 * c as u32,
                    30,
                );
            }
        }
    }
}

#[test]
fn folder_layout_classes_labels_and_centre_crop() {
    let tmp = tempfile::tempdir().unwrap();
    make(tmp.path());
    let f = ImageFolder::open(&tmp.path().join("train"), 16, false).unwrap();
    assert_eq!(f.classes(), ["ant", "cat"]);
    assert_eq!(f.len(), 8);
    assert_eq!((f.label(0), f.label(7)), (0, 1));
    let img = f.image(0);
    assert_eq!((img.height, img.width, img.pixels.len()), (16, 16, 3 * 256));
    // Shorter side 30 -> 16, width 56 -> 30; the centre 16 columns straddle the edge: left
    // columns black, right columns white, green 7 everywhere.
    let red = &img.pixels[..256];
    assert!(red[0] < 10 && red[15] > 245, "{:?}", &red[..16]);
    assert!(img.pixels[256..512].iter().all(|&g| (6..=8).contains(&g)));
}

#[test]
fn corrupt_images_are_named_or_skipped_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    make(tmp.path());
    let bad = tmp.path().join("train/cat/9.jpg");
    std::fs::write(&bad, b"not a jpeg at all").unwrap();
    let err = ImageFolder::open(&tmp.path().join("train"), 16, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("9.jpg") && err.contains("skip_bad_images"),
        "{err}"
    );
    let f = ImageFolder::open(&tmp.path().join("train"), 16, true).unwrap();
    assert_eq!(f.len(), 8);
    assert_eq!(f.skipped.len(), 1);
    assert!(f.skipped[0].0.ends_with("9.jpg"));
}

#[test]
fn csv_list_with_class_names() {
    let tmp = tempfile::tempdir().unwrap();
    make(tmp.path());
    let list = tmp.path().join("list.csv");
    std::fs::write(
        &list,
        "path,label\ntrain/cat/0.png,cat\ntrain/ant/1.png,ant\nval/cat/2.png,cat\n",
    )
    .unwrap();
    let f = ImageFolder::from_csv(&list, 8, false).unwrap();
    assert_eq!(f.classes(), ["ant", "cat"]);
    assert_eq!((f.len(), f.label(0), f.label(1)), (3, 1, 0));
    std::fs::write(&list, "train/cat/0.png\n").unwrap();
    let err = ImageFolder::from_csv(&list, 8, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 1") && err.contains("path,label"),
        "{err}"
    );
}

#[test]
fn trains_on_an_image_folder() {
    let tmp = tempfile::tempdir().unwrap();
    make(tmp.path());
    let cfg = TrainConfig::load(
        None,
        &[
            "device=\"flex\"".into(),
            "data.format=\"image_folder\"".into(),
            format!(
                "data.dir={}",
                toml::Value::String(tmp.path().display().to_string())
            ),
            "model.head=\"decoder\"".into(),
            "optim.epochs=1".into(),
            "optim.batch_size=4".into(),
            "teacher.ratio=0.0".into(),
            format!(
                "out_dir={}",
                toml::Value::String(tmp.path().join("run").display().to_string())
            ),
        ],
    )
    .unwrap();
    let res = load_resources(&cfg).unwrap();
    assert_eq!(res.train.len(), 8);
    let s = train(&cfg, &res, &TrainOptions::default()).unwrap();
    assert_eq!(s.epochs, 1);
    let weights = std::fs::read(tmp.path().join("run/weights.safetensors")).unwrap();
    // Two classes: the decoder's classifier has 2 rows.
    let st = safetensors::SafeTensors::deserialize(&weights).unwrap();
    assert_eq!(
        st.tensor("decoder.linear.weight").unwrap().shape(),
        [2, 512]
    );
}

/// A `side x side` checkerboard of 1-pixel squares (red 0/255), green 7.
fn save_checker(path: &Path, side: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_fn(side, side, |x, y| {
        image::Rgb([if (x + y) % 2 == 0 { 0 } else { 255 }, 7, 0])
    })
    .save(path)
    .unwrap();
}

fn cropper(scale: [f64; 2], ratio: [f64; 2], hflip: bool) -> brainlike_augment::SourceCropper {
    brainlike_augment::SourceCropConfig {
        scale,
        ratio,
        hflip,
    }
    .build("augment.random_resized_crop")
    .unwrap()
}

#[test]
fn whole_image_crop_equals_the_eval_resize() {
    let tmp = tempfile::tempdir().unwrap();
    // A square source with structure in both directions.
    let p = tmp.path().join("train/a/0.png");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    image::RgbImage::from_fn(45, 45, |x, y| {
        image::Rgb([(x * 5) as u8, (y * 5) as u8, ((x * y) % 251) as u8])
    })
    .save(&p)
    .unwrap();
    let f = ImageFolder::open(&tmp.path().join("train"), 16, false).unwrap();
    // scale 1 and ratio 1 on a square source: the box is the whole image.
    let whole = cropper([1.0, 1.0], [1.0, 1.0], false);
    for seed in 0..5 {
        assert_eq!(
            f.decode_source_crop(0, &whole, seed).unwrap(),
            f.decode(0).unwrap()
        );
    }
    // With the flip on, a flipped draw is the eval image mirrored.
    let flips = cropper([1.0, 1.0], [1.0, 1.0], true);
    let eval = f.decode(0).unwrap();
    let mut seen = [false; 2];
    for seed in 0..20 {
        let x = f.decode_source_crop(0, &flips, seed).unwrap();
        let flipped = x != eval;
        seen[flipped as usize] = true;
        if flipped {
            for c in 0..3 {
                for y in 0..16 {
                    for xx in 0..16 {
                        assert_eq!(x[c * 256 + y * 16 + xx], eval[c * 256 + y * 16 + 15 - xx]);
                    }
                }
            }
        }
    }
    assert_eq!(seen, [true, true]);
}

#[test]
fn source_crop_keeps_full_resolution_detail_and_output_size() {
    let tmp = tempfile::tempdir().unwrap();
    save_checker(&tmp.path().join("train/a/0.png"), 64);
    save(&tmp.path().join("train/b/0.png"), 50, 30);
    let f = ImageFolder::open(&tmp.path().join("train"), 16, false).unwrap();
    // Eval: 64 -> 16 averages the 1-pixel checkerboard to grey.
    let eval = f.decode(0).unwrap();
    assert!(eval[..256].iter().all(|&r| (100..156).contains(&r)));
    // A 16x16 box (area 1/16, ratio 1) of the 64x64 source, resized 16 -> 16: the
    // checkerboard itself, wherever the box lands.
    let c = cropper([1.0 / 16.0, 1.0 / 16.0], [1.0, 1.0], false);
    for seed in 0..10 {
        let x = f.decode_source_crop(0, &c, seed).unwrap();
        assert_eq!(x.len(), 3 * 256);
        assert!(
            x[..256].iter().all(|&r| !(3..=252).contains(&r)),
            "{:?}",
            &x[..16]
        );
        assert_ne!(x[0], x[1]);
    }
    // Any box of a non-square source comes out size x size; same seed, same image.
    let c = cropper([0.08, 1.0], [0.75, 4.0 / 3.0], true);
    for seed in 0..10 {
        let a = f.image_source_crop(1, &c, seed);
        assert_eq!((a.height, a.width, a.pixels.len()), (16, 16, 3 * 256));
        assert_eq!(a.pixels, f.image_source_crop(1, &c, seed).pixels);
    }
}

#[test]
fn augmenter_source_crop_is_seeded_by_run_epoch_and_index() {
    use brainlike_core::data::augment::Augmenter;
    use brainlike_core::data::batch::{Batcher, Preprocess};
    let tmp = tempfile::tempdir().unwrap();
    for k in 0..4 {
        save_checker(&tmp.path().join(format!("train/a/{k}.png")), 64);
    }
    let f = ImageFolder::open(&tmp.path().join("train"), 16, false).unwrap();
    let cfg = brainlike_augment::AugmentConfig {
        random_resized_crop: Some(brainlike_augment::SourceCropConfig::default()),
        ..Default::default()
    };
    let aug = Augmenter::new(&cfg, None, 3)
        .unwrap()
        .expect("the crop alone makes an augmenter")
        .for_classes(1);
    let batcher = Batcher::new(Preprocess::identity(16));
    let idx = [0, 1, 2, 3];
    let run = |epoch| aug.host(&batcher, &f, &idx, epoch, 0).unwrap().pixels;
    let e1 = run(1);
    assert_eq!(e1.len(), 4 * 3 * 256);
    assert_eq!(e1, run(1));
    assert_ne!(e1, run(2));
    // Identical files, different indices: different crops.
    assert_ne!(e1[..768], e1[768..1536]);
}

#[test]
fn trains_with_the_source_crop() {
    let tmp = tempfile::tempdir().unwrap();
    make(tmp.path());
    let cfg = TrainConfig::load(
        None,
        &[
            "device=\"flex\"".into(),
            "data.format=\"image_folder\"".into(),
            format!(
                "data.dir={}",
                toml::Value::String(tmp.path().display().to_string())
            ),
            "augment.random_resized_crop.scale=[0.08, 1.0]".into(),
            "model.head=\"decoder\"".into(),
            "optim.epochs=1".into(),
            "optim.batch_size=4".into(),
            "teacher.ratio=0.0".into(),
            format!(
                "out_dir={}",
                toml::Value::String(tmp.path().join("run").display().to_string())
            ),
        ],
    )
    .unwrap();
    assert!(cfg.augment.random_resized_crop.is_some());
    let res = load_resources(&cfg).unwrap();
    let s = train(&cfg, &res, &TrainOptions::default()).unwrap();
    assert_eq!(s.epochs, 1);
    // A misspelled key is an error naming it.
    let err = TrainConfig::load(
        None,
        &["augment.random_resized_crop.scales=[0.1, 1.0]".into()],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("scales"), "{err}");
}
