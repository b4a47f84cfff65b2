//! Brain-Score's data files read without Python: miniature assemblies written by BrainIO's
//! own `write_netcdf` (brainscore-core 2.5.0, xarray 2022.3; `tests/fixtures/brainscore/
//! make_fixture.py`) whose values are a formula, so every number is checked exactly.
//!
//! FreemanZiemba2013-like responses: presentation p shows stimulus `fz<s>` (s < 30) at repetition r
//! (presentations repetition-major), neuroid n (0-2 V1, 3-4 V2), time bin t (50-100,
//! 100-150, 150-200, 200-250 ms): `10 (s + 1) + n + 0.1 r + 0.01 t`.

use std::path::{Path, PathBuf};

use brainlike_score::brainscore_data::{
    Assembly, ConvertOptions, Converted, NeuralSelection, StimulusSet, Values, convert,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/brainscore")
        .join(name)
}

fn fz(s: usize, n: usize, r: usize, t_mean: f64) -> f64 {
    10.0 * (s as f64 + 1.0) + n as f64 + 0.1 * r as f64 + 0.01 * t_mean
}

#[test]
fn brainio_assembly_layout_is_read_with_its_coordinates() {
    let a = Assembly::open(&fixture("assy_movshon_FreemanZiemba2013_public_mini.nc")).unwrap();
    assert_eq!(a.variable, "data");
    assert_eq!(a.dims, ["neuroid", "time_bin", "presentation"]);
    assert_eq!(a.shape, [5, 4, 90]);
    let region = a.coord("region", "neuroid").unwrap();
    assert_eq!(
        region.values,
        Values::Strings(vec![
            "V1".into(),
            "V1".into(),
            "V1".into(),
            "V2".into(),
            "V2".into()
        ])
    );
    assert_eq!(
        a.coord("time_bin_start", "time_bin").unwrap().values,
        Values::Numbers(vec![50.0, 100.0, 150.0, 200.0])
    );
    let ids = a.stimulus_ids().unwrap();
    assert_eq!(ids.len(), 90);
    assert_eq!(ids[0], "fz00");
    assert_eq!(ids[31], "fz01"); // repetition 1 of the second image
    assert_eq!(
        a.coord("repetition", "presentation")
            .unwrap()
            .values
            .text(31),
        "1"
    );
    // One raw value: neuroid 4, time bin 3, presentation 31 (fz01, repetition 1).
    let Values::Numbers(v) = &a.values else {
        panic!("numbers")
    };
    assert!((v[4 * 4 * 90 + 3 * 90 + 31] - fz(1, 4, 1, 3.0)).abs() < 1e-12);
}

#[test]
fn neural_selection_takes_region_window_and_repetitions_as_brain_score_does() {
    let a = Assembly::open(&fixture("assy_movshon_FreemanZiemba2013_public_mini.nc")).unwrap();
    let set = StimulusSet::open(&fixture("image_FreemanZiemba2013_mini.csv"), None).unwrap();
    let strata = set.by_id("texture_type").unwrap();
    let sel = NeuralSelection {
        region: Some("V1".into()),
        time_window: Some((50.0, 200.0)),
    };
    let d = a.neural(&sel, Some(&strata)).unwrap();
    assert_eq!(d.responses.dim(), (30, 3, 3));
    let want_ids: Vec<String> = (0..30).map(|i| format!("fz{i:02}")).collect();
    assert_eq!(d.stimulus_ids, want_ids);
    let strata = d.strata.as_deref().unwrap();
    assert_eq!(strata.len(), 30);
    assert_eq!(&strata[..3], ["noise", "texture", "noise"]);
    for s in 0..30 {
        for n in 0..3 {
            for r in 0..3 {
                // bins 0, 1, 2 lie inside 50..200 ms: mean t = 1
                let want = fz(s, n, r, 1.0);
                assert!((d.responses[[s, n, r]] - want).abs() < 1e-9, "{s} {n} {r}");
            }
        }
    }
    // V2, all bins (mean t = 1.5).
    let v2 = a
        .neural(
            &NeuralSelection {
                region: Some("V2".into()),
                time_window: None,
            },
            None,
        )
        .unwrap();
    assert_eq!(v2.responses.dim(), (30, 2, 3));
    assert!((v2.responses[[5, 1, 2]] - fz(5, 4, 2, 1.5)).abs() < 1e-9);
}

#[test]
fn the_older_plain_layout_gives_the_same_responses() {
    let new = Assembly::open(&fixture("assy_movshon_FreemanZiemba2013_public_mini.nc")).unwrap();
    let old = Assembly::open(&fixture("assy_FreemanZiemba2013_plain_mini.nc")).unwrap();
    assert_eq!(old.variable, "__xarray_dataarray_variable__");
    assert_eq!(old.dims, ["presentation", "neuroid", "time_bin"]);
    let sel = NeuralSelection {
        region: Some("V1".into()),
        time_window: Some((50.0, 200.0)),
    };
    let (a, b) = (
        new.neural(&sel, None).unwrap(),
        old.neural(&sel, None).unwrap(),
    );
    assert_eq!(a.stimulus_ids, b.stimulus_ids);
    assert_eq!(a.responses, b.responses);
}

#[test]
fn behavioural_assembly_gives_2afc_trials() {
    let a = Assembly::open(&fixture("assy_dicarlo_Rajalingham2018_public_mini.nc")).unwrap();
    assert_eq!(a.dims, ["presentation"]);
    let t = a.trials().unwrap();
    // 15 images x 2 distractors x 6 trials; trial k of image i picks the distractor when
    // (k + i) % 4 == 0.
    assert_eq!(t.len(), 180);
    let tuple = |x: &brainlike_metrics::i2n::Trial| {
        (
            x.image_id.clone(),
            x.true_label.clone(),
            x.distractor_label.clone(),
            x.choice_label.clone(),
            x.subject.clone(),
        )
    };
    let s = |v: &str| v.to_string();
    assert_eq!(
        tuple(&t[0]),
        (s("rj00"), s("bear"), s("dog"), s("dog"), Some(s("w0")))
    );
    assert_eq!(
        tuple(&t[1]),
        (s("rj00"), s("bear"), s("dog"), s("bear"), Some(s("w1")))
    );
    // Image 1 (dog), distractor car (its second), trial 3: (3 + 1) % 4 == 0.
    assert_eq!(
        tuple(&t[12 + 6 + 3]),
        (s("rj01"), s("dog"), s("car"), s("car"), Some(s("w0")))
    );
    // `correct` (a bool coordinate) reads as 0/1.
    assert_eq!(
        a.coord("correct", "presentation").unwrap().values.text(0),
        "0"
    );
    assert_eq!(
        a.coord("correct", "presentation").unwrap().values.text(1),
        "1"
    );
}

#[test]
fn convert_writes_the_files_score_reads() {
    let out = tempfile::tempdir().unwrap();
    let a = Assembly::open(&fixture("assy_movshon_FreemanZiemba2013_public_mini.nc")).unwrap();
    let set = StimulusSet::open(&fixture("image_FreemanZiemba2013_mini.csv"), None).unwrap();
    let opts = ConvertOptions {
        selection: NeuralSelection {
            region: Some("V1".into()),
            time_window: Some((50.0, 200.0)),
        },
        strata_column: Some("texture_type".into()),
    };
    let got = convert(&a, Some(&set), &opts, out.path()).unwrap();
    assert_eq!(
        got,
        Converted::Neural {
            shape: [30, 3, 3],
            strata: true
        }
    );
    let data = brainlike_metrics::io::NeuralData::load(
        out.path().join("neural.npy"),
        out.path().join("stimuli.txt"),
        Some(&out.path().join("strata.txt")),
    )
    .unwrap();
    assert!((data.responses[[2, 1, 0]] - fz(2, 1, 0, 1.0)).abs() < 1e-12);
    assert!(out.path().join("images/fz03.png").is_file());

    let b = Assembly::open(&fixture("assy_dicarlo_Rajalingham2018_public_mini.nc")).unwrap();
    let set = StimulusSet::open(&fixture("image_objectome_mini.csv"), None).unwrap();
    let out2 = tempfile::tempdir().unwrap();
    let got = convert(&b, Some(&set), &ConvertOptions::default(), out2.path()).unwrap();
    assert_eq!(
        got,
        Converted::Behavior {
            trials: 180,
            images: 15
        }
    );
    let trials = brainlike_metrics::i2n::read_trials_csv(out2.path().join("trials.csv")).unwrap();
    assert_eq!(trials, b.trials().unwrap());
    assert!(out2.path().join("images/rj03.png").is_file());
}

#[test]
fn errors_name_the_file_and_what_was_expected() {
    let a = Assembly::open(&fixture("assy_movshon_FreemanZiemba2013_public_mini.nc")).unwrap();
    let e = a
        .neural(
            &NeuralSelection {
                region: Some("IT".into()),
                time_window: None,
            },
            None,
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("FreemanZiemba2013_public_mini.nc"), "{e}");
    assert!(e.contains("regions: V1, V2"), "{e}");
    let e = a
        .neural(
            &NeuralSelection {
                region: None,
                time_window: Some((300.0, 400.0)),
            },
            None,
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("no time bin inside 300..400 ms"), "{e}");
    assert!(a.trials().unwrap_err().to_string().contains("numbers"));

    let e = Assembly::open(&fixture("image_objectome_mini.csv"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("image_objectome_mini.csv") && e.contains("netCDF"),
        "{e}"
    );

    // A stimulus set whose images were not unpacked.
    let empty = tempfile::tempdir().unwrap();
    let set = StimulusSet::open(
        &fixture("image_FreemanZiemba2013_mini.csv"),
        Some(empty.path()),
    )
    .unwrap();
    let e = set.image("fz00").unwrap_err().to_string();
    assert!(e.contains("unzip") && e.contains("fz00"), "{e}");

    // A folder with several CSVs is ambiguous; with one, it is read.
    let e = StimulusSet::open(&fixture(""), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("found 2"), "{e}");
    let one = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("image_objectome_mini.csv"),
        one.path().join("image_objectome_mini.csv"),
    )
    .unwrap();
    let set = StimulusSet::open(one.path(), Some(&fixture(""))).unwrap();
    assert_eq!(set.ids.len(), 15);
    assert!(set.image("rj00").unwrap().is_file());
}
