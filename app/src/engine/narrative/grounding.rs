//! The number-grounding check: every number a model's narrative cites must appear in — or round
//! from — the report's own data. A narrative that invents a figure is rejected.

use crate::model::{Cell, Narrative, Report};

/// Numbers in a text: "1,234.5", "12.3 %", "-4", "$3.4k" (k/M/B suffixes are expanded).
pub fn numbers_in(text: &str) -> Vec<f64> {
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
        match chars.get(i).map(|c| c.to_ascii_lowercase()) {
            Some('k') => v *= 1e3,
            Some('m') if chars.get(i + 1).is_none_or(|c| !c.is_alphabetic()) => v *= 1e6,
            Some('b') if chars.get(i + 1).is_none_or(|c| !c.is_alphabetic()) => v *= 1e9,
            _ => {}
        }
        out.push(if neg { -v } else { v });
    }
    out
}

/// Every number in the report: cells, KPI lines, dates' parts, period length.
fn known(report: &Report) -> Vec<f64> {
    let mut v = Vec::new();
    for t in &report.sections {
        for r in &t.rows {
            for c in r {
                match c {
                    Cell::Int(i) => v.push(*i as f64),
                    Cell::Num(n) => v.push(*n),
                    Cell::Text(s) => v.extend(numbers_in(s)),
                    Cell::Null => {}
                }
            }
        }
        if let Some(n) = &t.note {
            v.extend(numbers_in(n));
        }
    }
    for k in &report.kpis {
        for s in [&k.value, &k.previous, &k.delta] {
            v.extend(numbers_in(s));
        }
    }
    v.extend(numbers_in(&report.period_text()));
    v.push(report.period.days() as f64);
    v
}

/// Whether `cited` equals a known value, or rounds from one (to the cited precision, also after
/// scaling by 100 for ratios or by 1,000/1,000,000 for abbreviated amounts).
pub fn grounded(cited: f64, known: &[f64]) -> bool {
    if cited.abs() <= 10.0 && cited.fract() == 0.0 {
        return true; // small counts ("3 takeaways", "top 5") need no source
    }
    let decimals = {
        let s = format!("{cited}");
        s.split_once('.').map(|(_, f)| f.len() as i32).unwrap_or(0)
    };
    let tol = 0.5 * 10f64.powi(-decimals) + 1e-9;
    known.iter().any(|k| {
        [1.0, 100.0, 0.01].iter().any(|m| ((k * m).abs() - cited.abs()).abs() <= tol) || {
            let rel = (k.abs() - cited.abs()).abs() / cited.abs().max(1e-9);
            cited.abs() >= 1_000.0 && rel <= 0.05
        }
    })
}

/// Ok when every number in the narrative is grounded; Err names the first that is not.
pub fn check(n: &Narrative, report: &Report) -> Result<(), String> {
    let known = known(report);
    let texts = std::iter::once(&n.executive_summary)
        .chain(n.key_takeaways.iter())
        .chain(n.sections.iter().map(|s| &s.paragraph));
    for t in texts {
        for x in numbers_in(t) {
            if !grounded(x, &known) {
                return Err(format!("the narrative cites {x}, which is not in the report's data"));
            }
        }
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
}
