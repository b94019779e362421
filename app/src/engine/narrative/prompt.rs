//! The prompt: a JSON document of aggregates only (no customer ids ever reach a provider), the
//! output contract, and the template's addendum; and the parsing of the provider's answer.

use crate::model::{Narrative, Report};
use serde::Deserialize;
use serde_json::{json, Value};

/// The system instruction every provider receives.
pub const SYSTEM: &str =
    "You are an analytics writer. Write an executive narrative for the report data you are given. \
Use ONLY numbers that appear in the data, copied as shown. Answer with one JSON object and nothing else: \
{\"executiveSummary\": string (at most 120 words), \"sections\": [{\"id\": section id, \"paragraph\": string}], \
\"keyTakeaways\": [3 to 5 short strings]}.";

/// The most rows per section sent to a provider (the largest first).
pub const MAX_ROWS: usize = 25;

/// The prompt: system text and the user message.
#[derive(Debug, Clone)]
pub struct Prompt {
    /// Instructions.
    pub system: String,
    /// The report data (JSON) and the addendum.
    pub user: String,
}

/// Builds the prompt from a report's aggregates.
pub fn build(report: &Report, addendum: Option<&str>) -> Prompt {
    let sections: Vec<Value> = report
        .sections
        .iter()
        .map(|t| {
            let cols: Vec<&str> = t.columns.iter().map(|c| c.label.as_str()).collect();
            let rows: Vec<Vec<String>> = t
                .rows
                .iter()
                .take(MAX_ROWS)
                .map(|r| r.iter().zip(&t.columns).map(|(c, col)| crate::model::table::format_cell(c, col.kind)).collect())
                .collect();
            json!({"id": t.source, "title": t.title, "note": t.note, "columns": cols, "rows": rows, "totalRows": t.rows.len()})
        })
        .collect();
    let kpis: Vec<Value> = report
        .kpis
        .iter()
        .map(|k| json!({"metric": k.label, "value": k.value, "previous": k.previous, "delta": k.delta}))
        .collect();
    let data = json!({
        "report": report.title, "dashboard": report.dashboard.title(), "tenant": report.tenant,
        "period": report.period.label(), "dates": report.period_text(), "segment": report.segment,
        "kpis": kpis, "sections": sections,
    });
    let mut user = format!("Report data:\n{data}");
    if let Some(a) = addendum.map(str::trim).filter(|a| !a.is_empty()) {
        user.push_str("\n\nAdditional instructions from the report's owner:\n");
        user.push_str(a);
    }
    Prompt { system: SYSTEM.into(), user }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    executive_summary: String,
    #[serde(default)]
    sections: Vec<crate::model::SectionNarrative>,
    key_takeaways: Vec<String>,
}

/// Parses a provider's answer (tolerating a Markdown code fence around the JSON).
pub fn parse_answer(text: &str) -> Result<Narrative, String> {
    let t = text.trim();
    let t = t.strip_prefix("```json").or_else(|| t.strip_prefix("```")).unwrap_or(t);
    let t = t.strip_suffix("```").unwrap_or(t).trim();
    let start = t.find('{').ok_or("the answer contains no JSON object")?;
    let end = t.rfind('}').ok_or("the answer contains no JSON object")?;
    let a: Answer =
        serde_json::from_str(&t[start..=end]).map_err(|e| format!("the answer is not the expected JSON: {e}"))?;
    let words = a.executive_summary.split_whitespace().count();
    if a.executive_summary.trim().is_empty() || words > 150 {
        return Err(format!("the executive summary has {words} words (expected 1–120)"));
    }
    if !(3..=5).contains(&a.key_takeaways.len()) {
        return Err(format!("{} key takeaways (expected 3–5)", a.key_takeaways.len()));
    }
    Ok(Narrative {
        executive_summary: a.executive_summary,
        sections: a.sections,
        key_takeaways: a.key_takeaways,
        provider: String::new(),
        model: None,
        fallback: false,
        fallback_reason: None,
    })
}
