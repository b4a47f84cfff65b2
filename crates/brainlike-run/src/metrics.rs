//! `metrics.csv`: one [`EpochRow`] per finished epoch.
//!
//! Floats are written in the shortest form that parses back to the same bits (`ryu`, through
//! the `csv` crate) and parsed exactly, so a resumed run's metrics equal an uninterrupted
//! run's. Reading looks columns up by name: extra columns are ignored, and a column added
//! to [`EpochRow`] later gets a `#[serde(default)]` so that older files still read.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::{Result, RunError};

/// The columns of `metrics.csv`, in order.
pub const COLUMNS: [&str; 11] = [
    "epoch",
    "train_loss",
    "train_acc",
    "test_loss",
    "test_acc",
    "test_coarse_acc",
    "superclass_error_frac",
    "teacher_loss",
    "lambda",
    "seconds",
    "images_per_sec",
];

/// One row of `metrics.csv` (accuracies are fractions 0..1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRow {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training cross-entropy over the epoch's steps.
    pub train_loss: f64,
    /// Training accuracy over the epoch (with dropout on, as seen by the optimiser).
    pub train_acc: f64,
    /// Test cross-entropy.
    pub test_loss: f64,
    /// Test accuracy (fine classes).
    pub test_acc: f64,
    /// Test accuracy of the superclass implied by the predicted fine class (NaN when a file
    /// lacks the column).
    #[serde(default = "nan")]
    pub test_coarse_acc: f64,
    /// Of the misclassified test images, the fraction whose predicted class is in the true
    /// superclass (Table 1 of the paper).
    pub superclass_error_frac: f64,
    /// Mean teacher term Σ(d − d̂)² over steps where the teacher was on (0 otherwise).
    #[serde(default = "nan")]
    pub teacher_loss: f64,
    /// Mean λ over steps where the teacher was on (0 otherwise).
    #[serde(default = "nan")]
    pub lambda: f64,
    /// Wall-clock seconds of the epoch (training and evaluation).
    #[serde(default = "nan")]
    pub seconds: f64,
    /// Training images per second.
    #[serde(default = "nan")]
    pub images_per_sec: f64,
}

fn nan() -> f64 {
    f64::NAN
}

/// The bytes of `metrics.csv` holding `rows` (a header alone when there are none).
pub fn to_csv(rows: &[EpochRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if rows.is_empty() {
        w.write_record(COLUMNS).expect("writing to memory");
    }
    for r in rows {
        w.serialize(r).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// Writes `rows` as `metrics.csv` at `path`, atomically.
pub fn write_metrics(path: &Path, rows: &[EpochRow]) -> Result<()> {
    write_atomic(path, &to_csv(rows))
}

/// Reads `metrics.csv`, rows in file order. Errors name the line and column.
pub fn read_metrics(path: &Path) -> Result<Vec<EpochRow>> {
    let bytes = std::fs::read(path).map_err(|e| RunError::io(path, "reading", e))?;
    parse_metrics(path, &bytes)
}

/// Parses the bytes of a `metrics.csv` (`path` names it in errors).
pub fn parse_metrics(path: &Path, bytes: &[u8]) -> Result<Vec<EpochRow>> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = rdr
        .headers()
        .map_err(|e| RunError::format(path, "line 1", "a CSV header", e.to_string()))?
        .clone();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(RunError::format(
                    path,
                    format!("line {}", line + 1),
                    "a CSV record",
                    e.to_string(),
                ));
            }
        }
        line = record.position().map_or(line + 1, |p| p.line() as usize);
        let row: EpochRow = record.deserialize(Some(&headers)).map_err(|e| {
            let found = headers.iter().collect::<Vec<_>>().join(",");
            match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => match err.field() {
                    Some(i) => {
                        let name = headers.get(i as usize).unwrap_or("?");
                        let expected = if name == "epoch" {
                            "a positive integer"
                        } else {
                            "a number"
                        };
                        RunError::format(
                            path,
                            format!("line {line}, column `{name}`"),
                            expected,
                            format!("{:?}", record.get(i as usize).unwrap_or("")),
                        )
                    }
                    None => RunError::format(
                        path,
                        "line 1",
                        format!("the columns {} ({err})", COLUMNS.join(",")),
                        found,
                    ),
                },
                _ => RunError::format(path, format!("line {line}"), "a CSV record", e.to_string()),
            }
        })?;
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(epoch: usize, x: f64) -> EpochRow {
        EpochRow {
            epoch,
            train_loss: x,
            train_acc: 0.1 + 0.2,
            test_loss: 1e-300,
            test_acc: 1.0 / 3.0,
            test_coarse_acc: f64::MIN_POSITIVE,
            superclass_error_frac: 5e-324,
            teacher_loss: f64::MAX,
            lambda: -0.0,
            seconds: 123_456_789.123_456_78,
            images_per_sec: f64::NAN,
        }
    }

    fn bits(r: &EpochRow) -> Vec<u64> {
        [
            r.train_loss,
            r.train_acc,
            r.test_loss,
            r.test_acc,
            r.test_coarse_acc,
            r.superclass_error_frac,
            r.teacher_loss,
            r.lambda,
            r.seconds,
            r.images_per_sec,
        ]
        .iter()
        .map(|f| f.to_bits())
        .collect()
    }

    #[test]
    fn rows_round_trip_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("metrics.csv");
        let rows: Vec<EpochRow> = (1..=50)
            .map(|e| row(e, (e as f64).ln() * 0.1 + 0.2 / 3.0))
            .collect();
        write_metrics(&p, &rows).unwrap();
        let back = read_metrics(&p).unwrap();
        assert_eq!(back.len(), rows.len());
        for (a, b) in rows.iter().zip(&back) {
            assert_eq!(a.epoch, b.epoch);
            assert_eq!(bits(a), bits(b), "epoch {}", a.epoch);
        }
        let header = std::fs::read_to_string(&p).unwrap();
        assert_eq!(header.lines().next().unwrap(), COLUMNS.join(","));
    }

    #[test]
    fn an_empty_file_has_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("metrics.csv");
        write_metrics(&p, &[]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            format!("{}\n", COLUMNS.join(","))
        );
        assert!(read_metrics(&p).unwrap().is_empty());
    }

    #[test]
    fn extra_columns_are_ignored_and_optional_ones_default() {
        let text = "epoch, train_loss,train_acc,test_loss,test_acc,superclass_error_frac,new\n\
                    1,2.5,0.1,2.6,0.09,0.2,x\n";
        let rows = parse_metrics(Path::new("m.csv"), text.as_bytes()).unwrap();
        assert_eq!(rows[0].train_loss, 2.5);
        assert!(rows[0].test_coarse_acc.is_nan() && rows[0].lambda.is_nan());
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let text = format!(
            "{}\n1,2,0.1,2,0.1,0.1,0.2,0,0,1,1\n2,2,0.1,2,oops,0.1,0.2,0,0,1,1\n",
            COLUMNS.join(",")
        );
        let err = parse_metrics(Path::new("m.csv"), text.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("line 3, column `test_acc`"),
            "{err}"
        );
        let err = parse_metrics(Path::new("m.csv"), b"epoch,test_acc\n1,0.5\n").unwrap_err();
        assert!(err.to_string().contains("train_loss"), "{err}");
    }
}
