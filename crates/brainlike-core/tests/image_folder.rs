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
