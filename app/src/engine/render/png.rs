//! Charts as PNG images for the places SVG does not reach (Gmail and Outlook drop inline SVG): the
//! dashboard's own chart SVG, rasterised natively with resvg at twice its size so it stays sharp
//! on high-density screens. Text is set in DejaVu Sans when the system has it, else in the fonts
//! typst embeds in every PDF (always present).

use crate::model::chart::render_svg_at;
use crate::model::Table;
use resvg::{tiny_skia, usvg};
use std::sync::{Arc, OnceLock};

/// The width a chart is drawn at in an email, in CSS pixels (the common mail body width).
pub const EMAIL_CHART_WIDTH: f64 = 600.0;

/// Device pixels per CSS pixel of the PNG.
pub const SCALE: f32 = 2.0;

/// One chart as an image.
#[derive(Clone)]
pub struct ChartImage {
    /// The section it draws (also its Content-ID stem).
    pub source: String,
    /// The section's title, the image's alt text.
    pub title: String,
    /// PNG bytes.
    pub png: Arc<Vec<u8>>,
    /// Width in CSS pixels (the PNG is [`SCALE`] times wider).
    pub width: u32,
    /// Height in CSS pixels.
    pub height: u32,
}

impl std::fmt::Debug for ChartImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChartImage")
            .field("source", &self.source)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("bytes", &self.png.len())
            .finish()
    }
}

fn fonts() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        for data in typst_assets::fonts() {
            db.load_font_data(data.to_vec());
        }
        let mut sans = "DejaVu Sans Mono".to_string();
        for path in
            ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"]
        {
            if let Ok(data) = std::fs::read(path) {
                db.load_font_data(data);
                sans = "DejaVu Sans".into();
            }
        }
        db.set_sans_serif_family(sans);
        Arc::new(db)
    })
    .clone()
}

/// An SVG document as PNG bytes at `scale`, with its size in CSS pixels.
pub fn svg_to_png(svg: &str, scale: f32) -> Result<(Vec<u8>, u32, u32), String> {
    let opt = usvg::Options { fontdb: fonts(), ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(svg, &opt).map_err(|e| format!("the chart could not be read: {e}"))?;
    let size = tree.size();
    let (w, h) = (size.width().ceil() as u32, size.height().ceil() as u32);
    let mut pixmap = tiny_skia::Pixmap::new(((w as f32) * scale) as u32, ((h as f32) * scale) as u32)
        .ok_or("the chart has no area")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    let png = pixmap.encode_png().map_err(|e| format!("the chart could not be encoded: {e}"))?;
    Ok((png, w, h))
}

/// The sections that carry a chart and have rows to draw, in report order.
fn charted(sections: &[Table]) -> impl Iterator<Item = (&Table, &crate::model::Chart)> {
    sections.iter().filter(|t| !t.rows.is_empty()).filter_map(|t| Some((t, t.chart.as_ref()?)))
}

/// One section's chart as a PNG the width of an email (None, logged, when it cannot be drawn).
fn draw(t: &Table, chart: &crate::model::Chart) -> Option<ChartImage> {
    let svg = render_svg_at(t, chart, EMAIL_CHART_WIDTH);
    match svg_to_png(&svg, SCALE) {
        Ok((png, width, height)) => {
            Some(ChartImage { source: t.source.clone(), title: t.title.clone(), png: Arc::new(png), width, height })
        }
        Err(e) => {
            tracing::warn!(event = "chart.png_failed", section = %t.source, error.message = %e, "a chart could not be drawn as PNG");
            None
        }
    }
}

/// Every charted section of a report as a PNG the width of an email (sections whose chart cannot
/// be drawn are left out; the email still has the narrative and the files).
pub fn charts(sections: &[Table]) -> Vec<ChartImage> {
    charted(sections).filter_map(|(t, c)| draw(t, c)).collect()
}

/// The `n`th charted section alone, as a PNG (a chat app fetching one image draws only that one).
pub fn nth_chart(sections: &[Table], n: usize) -> Option<ChartImage> {
    charted(sections).nth(n).and_then(|(t, c)| draw(t, c))
}
