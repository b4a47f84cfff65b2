//! Report generation on fabricated sweeps.

use approx::assert_relative_eq;
use brainlike_stats::report::write_report;
use brainlike_stats::ttest::{TTestOptions, ttest_ind};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

const HEADER: &str = "epoch,train_loss,train_acc,test_loss,test_acc,test_coarse_acc,superclass_error_frac,teacher_loss,lambda,seconds,images_per_sec";

struct FakeRun<'a> {
    id: &'a str,
    seed: u64,
    ratio: f64,
    pairs: &'a str,
    corruption: f64,
    final_acc: f64,
    superclass: f64,
    epochs: u32,
    finished: bool,
}

fn write_run(sweep: &Path, r: &FakeRun) {
    let dir = sweep.join("runs").join(r.id);
    fs::create_dir_all(dir.join("analysis")).unwrap();
    let config = format!(
        "seed = {}\nout_dir = \"/tmp/sweep/runs/{}\"\ndevice = \"cpu\"\n\n[data]\nlabel_corruption = {:?}\n\n[model]\narch = \"cornet_z\"\n\n[teacher]\nratio = {:?}\npairs = \"/data/pairs/{}.tsv\"\nlayer = \"v1\"\nlambda_mode = \"constant_ratio\"\nepochs = 10\n",
        r.seed, r.id, r.corruption, r.ratio, r.pairs
    );
    fs::write(dir.join("config.toml"), config).unwrap();
    let mut csv = String::from(HEADER);
    csv.push('\n');
    for e in 1..=r.epochs {
        let frac = e as f64 / r.epochs.max(1) as f64;
        let test_acc = r.final_acc * frac;
        let train_acc = (test_acc + 0.1 * frac).min(1.0);
        let _ = writeln!(
            csv,
            "{e},{:.6},{train_acc},{:.6},{test_acc},{:.4},{},0.01,0.5,12.0,3000",
            3.0 - 2.0 * frac,
            3.2 - 1.8 * frac,
            test_acc + 0.1,
            r.superclass
        );
    }
    fs::write(dir.join("metrics.csv"), csv).unwrap();
    if r.finished {
        fs::write(dir.join("summary.json"), "{}").unwrap();
    }
    fs::write(
        dir.join("analysis").join("activation_variance.json"),
        format!(
            "{{\"layer\": \"v1\", \"mean_unit_variance\": {}}}",
            0.1 + r.ratio
        ),
    )
    .unwrap();
}

const R0: [f64; 4] = [0.400, 0.402, 0.398, 0.401];
const R01: [f64; 4] = [0.420, 0.421, 0.419, 0.422];
const R1: [f64; 4] = [0.395, 0.401, 0.390, 0.400];

fn main_sweep(sweep: &Path) {
    for (k, ((&a, &b), &c)) in R0.iter().zip(&R01).zip(&R1).enumerate() {
        let seed = k as u64;
        let base = FakeRun {
            id: "",
            seed,
            ratio: 0.0,
            pairs: "v1",
            corruption: 0.0,
            final_acc: a,
            superclass: 0.228 + 0.001 * k as f64,
            epochs: 20,
            finished: true,
        };
        write_run(
            sweep,
            &FakeRun {
                id: &format!("r0_s{k}"),
                ..base
            },
        );
        write_run(
            sweep,
            &FakeRun {
                id: &format!("r0.1_s{k}"),
                ratio: 0.1,
                final_acc: b,
                superclass: 0.239 + 0.001 * k as f64,
                ..base
            },
        );
        write_run(
            sweep,
            &FakeRun {
                id: &format!("r1_s{k}"),
                ratio: 1.0,
                final_acc: c,
                ..base
            },
        );
        if k < 3 {
            write_run(
                sweep,
                &FakeRun {
                    id: &format!("shuf_s{k}"),
                    ratio: 0.1,
                    pairs: "v1_shuffled",
                    final_acc: b - 0.002,
                    ..base
                },
            );
        }
        if k < 2 {
            // Two seeds only: the test is not computed.
            write_run(
                sweep,
                &FakeRun {
                    id: &format!("gauss_s{k}"),
                    ratio: 0.1,
                    pairs: "gaussian_non_v1_stats",
                    final_acc: a - 0.01,
                    ..base
                },
            );
        }
    }
    // A partial run (no summary.json), a run without epochs and an unreadable one.
    write_run(
        sweep,
        &FakeRun {
            id: "r0.1_s9_partial",
            seed: 9,
            ratio: 0.1,
            pairs: "v1",
            corruption: 0.0,
            final_acc: 0.2,
            superclass: 0.2,
            epochs: 7,
            finished: false,
        },
    );
    let empty = sweep.join("runs").join("r0_s8_empty");
    fs::create_dir_all(&empty).unwrap();
    fs::copy(
        sweep.join("runs/r0_s0/config.toml"),
        empty.join("config.toml"),
    )
    .unwrap();
    let bad = sweep.join("runs").join("r0_s7_bad");
    fs::create_dir_all(&bad).unwrap();
    fs::copy(
        sweep.join("runs/r0_s0/config.toml"),
        bad.join("config.toml"),
    )
    .unwrap();
    fs::write(
        bad.join("metrics.csv"),
        format!("{HEADER}\n1,2.0,0.1,2.0,oops,0.1,0.2,0,0,1,1\n"),
    )
    .unwrap();
    // t-SNE for one run.
    let mut tsne = String::from("x,y,label,coarse_label\n");
    for i in 0..200 {
        let c = i % 20;
        let _ = writeln!(
            tsne,
            "{},{},{},{c}",
            (c as f64) + 0.01 * i as f64,
            (i % 7) as f64,
            i % 100
        );
    }
    fs::write(sweep.join("runs/r0.1_s0/analysis/tsne.csv"), tsne).unwrap();
}

fn assert_nonempty(path: &Path) {
    let len = fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .len();
    assert!(len > 500, "{} has {len} bytes", path.display());
}

#[test]
fn main_sweep_tables_and_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    let out = tmp.path().join("report");
    main_sweep(&sweep);
    let s = write_report(&sweep, &out).unwrap();
    if let Ok(keep) = std::env::var("BRAINLIKE_STATS_KEEP_REPORT") {
        // Inspect the output by hand: copy the fake sweep's report.
        let _ = std::process::Command::new("cp")
            .args(["-r", &out.to_string_lossy(), &keep])
            .status();
    }

    assert_eq!(s.n_runs, 4 * 3 + 3 + 2 + 3);
    assert_eq!(s.n_finished, 17);
    assert_eq!(s.n_partial, 1);
    assert_eq!(s.n_missing, 1);
    assert_eq!(s.n_invalid, 1);
    assert_eq!(
        s.axes,
        vec!["teacher.pairs".to_string(), "teacher.ratio".to_string()]
    );
    let find = |ratio: f64, pairs: &str| {
        s.configurations
            .iter()
            .find(|c| {
                c.ratio == Some(ratio)
                    && c.axes["teacher.pairs"].ends_with(&format!("/{pairs}.tsv"))
            })
            .unwrap_or_else(|| panic!("no configuration r = {ratio}, {pairs}"))
    };
    let c0 = find(0.0, "v1");
    let c01 = find(0.1, "v1");
    let c1 = find(1.0, "v1");
    assert_eq!((c0.n_finished, c0.n_partial, c0.n_missing), (4, 0, 2));
    assert_eq!((c01.n_finished, c01.n_partial), (4, 1));
    assert_relative_eq!(
        c0.final_test_acc.mean,
        R0.iter().sum::<f64>() / 4.0,
        epsilon = 1e-12
    );
    assert_relative_eq!(
        c01.final_test_acc.mean,
        R01.iter().sum::<f64>() / 4.0,
        epsilon = 1e-12
    );
    assert_relative_eq!(
        c01.final_superclass_error_frac.mean,
        0.2405,
        epsilon = 1e-12
    );
    // The t-test in the report is the library's test on the same numbers.
    let expected = ttest_ind(&R01, &R0, &TTestOptions::default()).unwrap();
    let got = c01.acc_vs_control.as_ref().unwrap();
    assert_relative_eq!(
        got.p().unwrap(),
        expected.p().unwrap(),
        max_relative = 1e-12
    );
    assert_eq!(got.stars_str(), "**");
    assert!(c0.acc_vs_control.is_none());
    assert_eq!(c1.acc_vs_control.as_ref().unwrap().stars_str(), "n.s.");
    let gauss = find(0.1, "gaussian_non_v1_stats");
    assert!(
        gauss
            .acc_vs_control
            .as_ref()
            .unwrap()
            .note()
            .contains("fewer than 3")
    );
    assert_relative_eq!(c1.activation_variance.mean, 1.1, epsilon = 1e-12);

    let md = fs::read_to_string(&s.report_path).unwrap();
    assert!(
        md.contains(&format!(
            "| 4 / 1 / 0 | {:.2} ± {:.2} |",
            100.0 * c01.final_test_acc.mean,
            100.0 * c01.final_test_acc.sem
        )),
        "{md}"
    );
    assert!(md.contains("| ** |"));
    assert!(md.contains("r0.1_s9_partial | partial"));
    assert!(md.contains("r0_s8_empty | missing"));
    assert!(md.contains("r0_s7_bad | invalid"));
    assert!(md.contains("line 2, column `test_acc`"), "{md}");
    assert!(md.contains("not computed"));
    for stem in [
        "fig2a_test_acc_vs_epoch",
        "fig2b_final_test_acc_vs_r",
        "fig3c_activation_variance_vs_r",
        "fig4_teacher_types",
        "fig5_superclass_errors",
    ] {
        let hits: Vec<_> = s
            .figures
            .iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(stem))
            .collect();
        assert!(hits.len() >= 2, "{stem}: {:?}", s.figures);
        for p in hits {
            assert_nonempty(p);
        }
    }
    assert!(
        s.figures
            .iter()
            .any(|p| p.to_string_lossy().contains("fig3_tsne"))
    );
    assert!(
        !s.figures
            .iter()
            .any(|p| p.to_string_lossy().contains("fig6"))
    );
    for f in &s.figures {
        assert_nonempty(f);
        let rel = f.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
        assert!(md.contains(&rel), "{rel} not embedded");
    }
    // PNGs decode.
    let png = s
        .figures
        .iter()
        .find(|p| p.extension().unwrap() == "png")
        .unwrap();
    let bytes = fs::read(png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(out.join("report.json").is_file());
}

#[test]
fn label_corruption_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    let out = tmp.path().join("report");
    for (pi, p) in [0.1, 0.3].into_iter().enumerate() {
        for ratio in [0.0, 0.1] {
            for seed in 0..3u64 {
                let acc = 0.35 - 0.1 * pi as f64
                    + if ratio > 0.0 { 0.02 } else { 0.0 }
                    + 0.001 * seed as f64;
                write_run(
                    &sweep,
                    &FakeRun {
                        id: &format!("p{p}_r{ratio}_s{seed}"),
                        seed,
                        ratio,
                        pairs: "v1",
                        corruption: p,
                        final_acc: acc,
                        superclass: 0.23,
                        epochs: 10,
                        finished: true,
                    },
                );
            }
        }
    }
    let s = write_report(&sweep, &out).unwrap();
    assert_eq!(s.n_finished, 12);
    assert_eq!(
        s.axes,
        vec![
            "data.label_corruption".to_string(),
            "teacher.ratio".to_string()
        ]
    );
    assert_eq!(s.configurations.len(), 4);
    // Controls are matched on p.
    for c in &s.configurations {
        if c.ratio == Some(0.1) {
            let ctrl = c.control.as_deref().unwrap();
            assert!(
                ctrl.contains(&format!(
                    "data.label_corruption={}",
                    c.axes["data.label_corruption"]
                )),
                "{ctrl}"
            );
            let r = c.acc_vs_control.as_ref().unwrap().result().unwrap();
            assert_relative_eq!(r.mean_a - r.mean_b, 0.02, epsilon = 1e-9);
        }
    }
    for stem in [
        "fig6a_test_acc_vs_label_corruption",
        "fig6b_generalization_error_acc",
        "fig6c_generalization_error_loss",
    ] {
        for ext in ["png", "svg"] {
            assert_nonempty(&out.join("figures").join(format!("{stem}.{ext}")));
        }
    }
}

#[test]
fn missing_runs_folder_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = write_report(tmp.path(), &tmp.path().join("out")).unwrap_err();
    assert!(err.to_string().contains("runs"), "{err}");
}

#[test]
fn single_configuration_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    for seed in 0..2u64 {
        write_run(
            &sweep,
            &FakeRun {
                id: &format!("s{seed}"),
                seed,
                ratio: 0.0,
                pairs: "v1",
                corruption: 0.0,
                final_acc: 0.3,
                superclass: 0.2,
                epochs: 3,
                finished: true,
            },
        );
    }
    let s = write_report(&sweep, &tmp.path().join("out")).unwrap();
    assert!(s.axes.is_empty());
    assert_eq!(s.configurations.len(), 1);
    assert_eq!(s.configurations[0].label, "all runs");
    assert_eq!(s.configurations[0].n_finished, 2);
    for f in &s.figures {
        assert_nonempty(f);
    }
    assert!(
        s.figures
            .iter()
            .any(|p| p.to_string_lossy().contains("fig5"))
    );
}

#[test]
fn robustness_tables_of_evaluated_runs_enter_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    for seed in 0..2u64 {
        let id = format!("s{seed}");
        write_run(
            &sweep,
            &FakeRun {
                id: &id,
                seed,
                ratio: 0.0,
                pairs: "v1",
                corruption: 0.0,
                final_acc: 0.3,
                superclass: 0.2,
                epochs: 3,
                finished: true,
            },
        );
        let robust = [0.10, 0.20][seed as usize];
        fs::write(
            sweep.join("runs").join(&id).join("robustness.csv"),
            format!(
                "attack,norm,eps,steps,step_size,random_start,images,clean_acc,robust_acc\n\
                 linf:4/255:20,Linf,0.0157,20,0.002,false,500,0.3,{robust}\n"
            ),
        )
        .unwrap();
    }
    let out = tmp.path().join("out");
    write_report(&sweep, &out).unwrap();
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    // Mean 15.00 %, SEM 5.00 % over the two runs.
    assert!(
        md.contains("| all runs | `linf:4/255:20` | 2 | 30.00 ± 0.00 | 15.00 ± 5.00 |"),
        "{md}"
    );
}
