//! The number-grounding check: every number a model's narrative cites must appear in — or round
//! from — the report's own data. A narrative that invents a figure is rejected.
//!
//! How close is close enough comes from the text itself: a figure matches a value when it rounds
//! from it at the precision the figure is written with (`$9,876,543.21` to the cent, `12.3 %` to a
//! tenth of a point, `$9.9M` to a hundred thousand, `12,000` to a thousand). And where a sentence
//! names a metric, a row or a column of the report ("Revenue", "Cashback Bonus", "Impressions"),
//! its figures must come from the values of what it names — so a made-up amount cannot hide
//! among the dozens of other amounts in the report.

use crate::model::{Cell, ColumnKind, Narrative, Report};

/// A number as a text cites it: its value and the rounding step its digits imply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cited {
    /// The value, with k/M/B expanded.
    pub value: f64,
    /// One unit of the last digit written: 0.01 for "1,234.56", 100 for "2.5k", 1,000 for
    /// "12,000" (trailing zeros of a whole number of 1,000 or more read as rounding).
    pub step: f64,
}

/// Numbers in a text, with their precision: "1,234.5", "12.3 %", "-4", "$3.4k".
pub fn cited_in(text: &str) -> Vec<Cited> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_alphanumeric());
        if !starts {
            i += 1;
            continue;
        }
        let neg = i > 0 && chars[i - 1] == '-' && (i < 2 || !chars[i - 2].is_alphanumeric());
        let mut s = String::new();
        while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == ',' || chars[i] == '.') {
            if chars[i] != ',' {
                s.push(chars[i]);
            }
            i += 1;
        }
        let s = s.trim_end_matches('.');
        let Ok(mut v) = s.parse::<f64>() else { continue };
        let mut step = match s.split_once('.') {
            Some((_, frac)) => 10f64.powi(-(frac.len() as i32)),
            None if v >= 1_000.0 => {
                let zeros = s.len() - s.trim_end_matches('0').len();
                10f64.powi(zeros.min(s.len() - 1) as i32)
            }
            None => 1.0,
        };
        let scale = match chars.get(i).map(|c| c.to_ascii_lowercase()) {
            Some('k') => 1e3,
            Some('m') if chars.get(i + 1).is_none_or(|c| !c.is_alphabetic()) => 1e6,
            Some('b') if chars.get(i + 1).is_none_or(|c| !c.is_alphabetic()) => 1e9,
            _ => 1.0,
        };
        v *= scale;
        step *= scale;
        out.push(Cited { value: if neg { -v } else { v }, step });
    }
    out
}

/// Numbers in a text: "1,234.5", "12.3 %", "-4", "$3.4k" (k/M/B suffixes are expanded).
pub fn numbers_in(text: &str) -> Vec<f64> {
    cited_in(text).into_iter().map(|c| c.value).collect()
}

/// What the report holds: every number, the numbers any sentence may cite (the period, its
/// dates), the values each named row carries (a KPI, an offer, a channel: its row's values) and
/// each numeric column's values.
struct Known {
    all: Vec<f64>,
    free: Vec<f64>,
    rows: Vec<(String, Vec<f64>)>,
    columns: Vec<(String, Vec<f64>)>,
    titles: Vec<(String, Vec<f64>)>,
}

fn add_named(named: &mut Vec<(String, Vec<f64>)>, name: &str, values: &[f64]) {
    let name = name.trim().to_lowercase();
    // Names too short or numeric would match inside ordinary words and figures.
    if name.chars().filter(|c| c.is_alphabetic()).count() < 3 || values.is_empty() {
        return;
    }
    match named.iter_mut().find(|(n, _)| *n == name) {
        Some((_, v)) => v.extend_from_slice(values),
        None => named.push((name, values.to_vec())),
    }
}

fn known(report: &Report) -> Known {
    let (mut all, mut free, mut rows, mut columns, mut titles) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    free.extend(numbers_in(&report.period_text()));
    free.push(report.period.days() as f64);
    for t in &report.sections {
        let mut by_column: Vec<Vec<f64>> = vec![Vec::new(); t.columns.len()];
        for r in &t.rows {
            let mut row_values = Vec::new();
            for (c, col) in r.iter().zip(&t.columns) {
                let values = match c {
                    Cell::Int(i) => vec![*i as f64],
                    Cell::Num(n) => vec![*n],
                    Cell::Text(s) => numbers_in(s),
                    Cell::Null => vec![],
                };
                if matches!(col.kind, ColumnKind::Date | ColumnKind::Timestamp) {
                    free.extend(&values);
                }
                row_values.extend(&values);
            }
            for (i, c) in r.iter().enumerate() {
                let values = match c {
                    Cell::Int(v) => vec![*v as f64],
                    Cell::Num(v) => vec![*v],
                    Cell::Text(s) => numbers_in(s),
                    Cell::Null => vec![],
                };
                if let Some(col) = by_column.get_mut(i) {
                    col.extend(values);
                }
            }
            for c in r {
                if let Cell::Text(label) = c {
                    add_named(&mut rows, label, &row_values);
                }
            }
            all.extend(row_values);
        }
        for (col, values) in t.columns.iter().zip(&by_column) {
            if !matches!(col.kind, ColumnKind::Text | ColumnKind::Date | ColumnKind::Timestamp) {
                add_named(&mut columns, &col.label, values);
            }
        }
        if let Some(n) = &t.note {
            all.extend(numbers_in(n));
        }
        // "13 runs failed": how many rows carry a label is one of that label's values.
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for r in &t.rows {
            for c in r {
                if let Cell::Text(label) = c {
                    match counts.iter_mut().find(|(l, _)| *l == label.as_str()) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((label, 1)),
                    }
                }
            }
        }
        for (label, n) in counts {
            add_named(&mut rows, label, &[n as f64]);
            all.push(n as f64);
        }
        // "Anomalies: 4 rows": a section's size and its note's figures are said under its title.
        let mut about = vec![t.rows.len() as f64];
        about.extend(t.note.as_deref().map(numbers_in).unwrap_or_default());
        add_named(&mut titles, &t.title, &about);
        all.push(t.rows.len() as f64);
    }
    for k in &report.kpis {
        let values: Vec<f64> = [&k.value, &k.previous, &k.delta].iter().flat_map(|s| numbers_in(s)).collect();
        add_named(&mut rows, &k.label, &values);
        all.extend(values);
    }
    all.extend(&free);
    Known { all, free, rows, columns, titles }
}

/// Whether `cited` rounds from one of `known` at its own precision (also after scaling by 100,
/// a ratio cited as a percentage, or by 1/100).
pub fn matches(cited: Cited, known: &[f64]) -> bool {
    let tol = cited.step / 2.0 + cited.value.abs() * 1e-12;
    known.iter().any(|k| [1.0, 100.0, 0.01].iter().any(|m| ((k * m).abs() - cited.value.abs()).abs() <= tol))
}

/// Whether a number cited in a text is grounded, without regard to what the sentence names.
pub fn grounded(cited: f64, known: &[f64]) -> bool {
    let c = cited_in(&format!("{cited}")).first().copied().unwrap_or(Cited { value: cited, step: 1.0 });
    small_count(c) || matches(Cited { value: cited, ..c }, known)
}

/// Small whole counts ("3 takeaways", "top 5") need no source.
fn small_count(c: Cited) -> bool {
    c.value.abs() <= 10.0 && c.value.fract() == 0.0
}

/// The sentences (and clauses) of a text: split at `.`, `;`, `!`, `?` before a space or the end,
/// and at line breaks — never at a decimal point.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        let ends = match b {
            b'\n' => true,
            b'.' | b';' | b'!' | b'?' => bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()),
            _ => false,
        };
        if ends {
            out.push(&text[start..=i]);
            start = i + 1;
        }
    }
    out.push(&text[start..]);
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// Whether `name` (lower case) occurs in `sentence` (lower case) as whole words.
fn names(sentence: &str, name: &str) -> bool {
    sentence.match_indices(name).any(|(i, _)| {
        let before = sentence[..i].chars().next_back();
        let after = sentence[i + name.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

fn check_text(text: &str, known: &Known) -> Result<(), String> {
    for sentence in sentences(text) {
        let lower = sentence.to_lowercase();
        // What the sentence names: rows (a KPI, an offer…) and sections (their size), else
        // columns, else nothing.
        let of = |list: &[(String, Vec<f64>)]| -> Vec<f64> {
            list.iter().filter(|(n, _)| names(&lower, n)).flat_map(|(_, v)| v.iter().copied()).collect()
        };
        let mut named = of(&known.rows);
        named.extend(of(&known.titles));
        if named.is_empty() {
            named = of(&known.columns);
        }
        for c in cited_in(sentence) {
            if small_count(c) || matches(c, &known.free) {
                continue;
            }
            let ok = if named.is_empty() { matches(c, &known.all) } else { matches(c, &named) };
            if !ok {
                return Err(if named.is_empty() {
                    format!("the narrative cites {}, which is not in the report's data", c.value)
                } else {
                    format!(
                        "the narrative cites {}, which is not a value of what its sentence names (\"{}\")",
                        c.value,
                        sentence.trim().chars().take(120).collect::<String>()
                    )
                });
            }
        }
    }
    Ok(())
}

/// Ok when every number in the narrative is grounded; Err names the first that is not.
pub fn check(n: &Narrative, report: &Report) -> Result<(), String> {
    let known = known(report);
    let texts = std::iter::once(&n.executive_summary)
        .chain(n.key_takeaways.iter())
        .chain(n.sections.iter().map(|s| &s.paragraph));
    for t in texts {
        check_text(t, &known)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_with_separators_signs_and_suffixes() {
        assert_eq!(numbers_in("Revenue $1,234.50 (+3.2 %) vs -4 and 2.5k"), vec![1234.5, 3.2, -4.0, 2500.0]);
        assert_eq!(numbers_in("on 2026-11-30"), vec![2026.0, 11.0, 30.0]);
        assert!(numbers_in("model v2 and AUC").is_empty());
    }

    #[test]
    fn cited_numbers_must_round_from_the_data() {
        let known = [12.3456, 0.0312, 98_765.0];
        assert!(grounded(12.35, &known));
        assert!(grounded(12.3, &known));
        assert!(grounded(3.1, &known), "a ratio shown as a percentage");
        assert!(grounded(98.8e3, &known), "an abbreviated amount");
        assert!(!grounded(13.9, &known));
        assert!(!grounded(4_200.0, &known));
        assert!(grounded(3.0, &known), "small whole counts are free");
    }

    #[test]
    fn a_figure_is_held_to_the_precision_it_is_written_with() {
        let c = |t: &str| cited_in(t)[0];
        assert_eq!(c("$9,876,543.21").step, 0.01);
        assert_eq!(c("12.3 %").step, 0.1);
        assert_eq!(c("$9.9M").step, 100_000.0);
        assert_eq!(c("12,000").step, 1_000.0);
        assert_eq!(c("2026").step, 1.0);
        assert_eq!(c("2.5k").step, 100.0);
        let revenue = [9_876_540.0];
        assert!(matches(c("$9.9M"), &revenue), "9.9M rounds from 9,876,540");
        assert!(matches(c("$9,877k"), &revenue));
        assert!(!matches(c("$9,876,543.21"), &revenue), "to the cent, or not at all");
        assert!(!matches(c("12.3 %"), &[12.36]), "a tenth of a point");
        assert!(matches(c("12.4 %"), &[12.36]));
    }

    fn report() -> Report {
        use crate::model::{Column, Dashboard, KpiLine, Period, Table};
        let mut offers = Table::new(
            "offer_performance",
            "Offer performance",
            vec![
                Column::new("offer", "Offer", ColumnKind::Text),
                Column::new("revenue", "Revenue", ColumnKind::Money),
                Column::new("impressions", "Impressions", ColumnKind::Integer),
            ],
        );
        offers.push(vec![Cell::from("Cashback Bonus"), Cell::Num(48_210.5), Cell::Int(91_300)]);
        offers.push(vec![Cell::from("Platinum Card"), Cell::Num(34_484.81), Cell::Int(52_020)]);
        offers.push(vec![Cell::from("Savings Boost"), Cell::Num(9_876_000.0), Cell::Int(1_200)]);
        Report {
            title: "Business report".into(),
            dashboard: Dashboard::Business,
            tenant: "Acme".into(),
            period: Period::D30,
            from: "2026-11-02".into(),
            to: "2026-12-01".into(),
            timezone: "UTC".into(),
            segment: None,
            generated_at: "2026-12-01T12:00:00Z".into(),
            narrative: None,
            kpis: vec![KpiLine {
                label: "Decisions".into(),
                value: "20,962".into(),
                previous: "20,664".into(),
                delta: "+1.4 %".into(),
                chip: "green".into(),
                spark: vec![],
            }],
            sections: vec![offers],
            page: Default::default(),
        }
    }

    fn narrative(summary: &str) -> Narrative {
        Narrative {
            executive_summary: summary.into(),
            sections: vec![],
            key_takeaways: vec![],
            provider: "openai".into(),
            model: None,
            fallback: false,
            fallback_reason: None,
        }
    }

    #[test]
    fn invented_figures_beside_real_ones_are_refused() {
        let r = report();
        let ok = "Cashback Bonus earned $48,210.50 on 91,300 impressions; Decisions rose 1.4 % to 20,962 \
                  between 2026-11-02 and 2026-12-01. Revenue was led by Savings Boost at $9.9M.";
        assert_eq!(check(&narrative(ok), &r), Ok(()));
        for invented in [
            "Cashback Bonus earned $48,210.90.", // a cent-exact figure off by 40 cents
            "Decisions rose 1.9 % in 30 days.",  // half a point beside the real +1.4 %
            "Revenue reached $9,876,543.21.",    // the figure: within 5 % of a value
            "Platinum Card earned $48,210.50.",  // Cashback Bonus' revenue, said of another offer
            "Decisions reached 20,975.",         // 13 more than the real 20,962
        ] {
            let e = check(&narrative(invented), &r).expect_err(invented);
            assert!(e.contains("cites"), "{invented}: {e}");
        }
    }
}
