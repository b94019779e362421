//! Golden reports: the built-in narrative of every dashboard and period, and the text of the
//! 30-day PDFs, over the demo data at a fixed clock — so a change to what a reader gets is a
//! reviewed diff (`cargo insta review`, or `INSTA_UPDATE=always` then `git diff`). SQLite only:
//! the documents are the same on PostgreSQL (the export tests check both).

use crate::common::{self, Backend, TestApp};
use app::model::{Dashboard, Period, Report};

async fn reports(app: &TestApp, tenant: &str, dashboard: Dashboard) -> Vec<(Period, Report)> {
    let mut out = Vec::new();
    for p in Period::ALL {
        out.push((p, common::narrated_report(app, tenant, dashboard.key(), p.key()).await));
    }
    out
}

/// The PDF's text, a line per extracted run (pages marked).
fn pdf_text(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let mut out = String::new();
    for (i, n) in doc.get_pages().keys().enumerate() {
        out.push_str(&format!("--- page {} ---\n", i + 1));
        let text: String = doc.extract_text_chunks(&[*n]).into_iter().filter_map(Result::ok).collect();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[tokio::test]
async fn golden_narratives_and_pdf_text_of_every_dashboard() {
    let app = TestApp::start_with(Backend::Sqlite, &[]).await.unwrap();
    let t = app.tenant("acme").await;
    app::engine::demo::load(&app.state.db, &t.id, app::engine::demo::DEFAULT_SEED, 0.3, common::NOW).await.unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("golden");
    let _guard = settings.bind_to_scope();
    for d in Dashboard::ALL {
        let mut narratives = String::new();
        for (p, r) in reports(&app, &t.id, d).await {
            let n = r.narrative.as_ref().unwrap();
            narratives.push_str(&format!("## {} {}\n\n{}\n\nKey takeaways:\n", d.key(), p.key(), n.executive_summary));
            for k in &n.key_takeaways {
                narratives.push_str(&format!("- {k}\n"));
            }
            for s in &n.sections {
                narratives.push_str(&format!("\n[{}] {}\n", s.id, s.paragraph));
            }
            narratives.push('\n');
            if p == Period::D30 {
                let pdf = app::engine::render::pdf::render_pdf(&r).unwrap();
                insta::assert_snapshot!(format!("pdf-{}-30d", d.key()), pdf_text(&pdf));
            }
        }
        insta::assert_snapshot!(format!("narrative-{}", d.key()), narratives);
    }
}
