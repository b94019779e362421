// Export ▾ in a real browser: each format downloads with the right name and type.
import * as fs from "fs";
import { execFileSync } from "child_process";
import ExcelJS from "exceljs";
import { hydrated, signIn, test, expect } from "./helpers";

const formats = [
  { id: "pdf", ext: "pdf", magic: "%PDF" },
  { id: "csv", ext: "csv", magic: "section," },
  { id: "md", ext: "md", magic: "# Executive report" },
  { id: "html", ext: "html", magic: "<!DOCTYPE html>" },
  { id: "xlsx", ext: "xlsx", magic: "PK\u0003\u0004" },
];

test("Export downloads the view on screen in every format", async ({ page }) => {
  await signIn(page, "viewer");
  await page.goto("/dashboards/executive?period=30d");
  await hydrated(page);
  for (const f of formats) {
    await page.getByTestId("export").click();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId(`export-${f.id}`).click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^executive-30d-\\d{4}-\\d{2}-\\d{2}\\.${f.ext}$`));
    const file = await download.path();
    const head = fs.readFileSync(file!).subarray(0, 40).toString("utf8");
    expect(head.startsWith(f.magic)).toBeTruthy();
    await expect(page.getByTestId("export")).toHaveText("Export ▾");
  }
});

test("a failing export shows an error toast", async ({ page, consoleGuard }) => {
  consoleGuard.allow(/status of 500/); // the fault this test injects
  await signIn(page, "viewer");
  await page.goto("/dashboards/business");
  await hydrated(page);
  await page.route("**/api/v1/reports/preview", (route) =>
    route.fulfill({ status: 500, contentType: "application/json", body: JSON.stringify({ error: { code: "INTERNAL", message: "something went wrong on our side; please try again", status: 500 } }) }),
  );
  await page.getByTestId("export").click();
  await page.getByTestId("export-pdf").click();
  await expect(page.getByTestId("toast")).toContainText("Export failed: something went wrong on our side");
});

test("Export works from the keyboard alone: a menu button with arrows, Escape and focus that returns", async ({ page }) => {
  await signIn(page, "viewer");
  await page.goto("/dashboards/executive?period=30d");
  await hydrated(page);
  const button = page.getByRole("button", { name: "Export ▾" });
  await button.focus();
  await page.keyboard.press("Enter");
  const menu = page.getByRole("menu", { name: "Export as" });
  await expect(menu).toBeVisible();
  await expect(menu.getByRole("menuitem", { name: "PDF" })).toBeFocused();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await expect(menu.getByRole("menuitem", { name: "Markdown" })).toBeFocused();
  await page.keyboard.press("ArrowUp");
  await expect(menu.getByRole("menuitem", { name: "CSV" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(menu).toHaveCount(0);
  await expect(button).toBeFocused();
  await expect(button).toHaveAttribute("aria-expanded", "false");

  // A click outside closes it too.
  await button.click();
  await expect(menu).toBeVisible();
  await page.locator("h1").first().click();
  await expect(menu).toHaveCount(0);

  // ↑ opens on the last item (the page setups follow the formats); End/Home move; Enter on a page
  // setup checks it and keeps the menu open; Enter on a format downloads.
  await button.focus();
  await page.keyboard.press("ArrowUp");
  const letterLandscape = menu.getByRole("menuitemradio", { name: "Letter landscape" });
  await expect(letterLandscape).toBeFocused();
  await expect(menu.getByRole("group", { name: "Page setup" }).getByRole("menuitemradio")).toHaveCount(4);
  await expect(menu.getByRole("menuitemradio", { name: "A4 portrait" })).toHaveAttribute("aria-checked", "true");
  await page.keyboard.press("Home");
  await expect(menu.getByRole("menuitem", { name: "PDF" })).toBeFocused();
  await page.keyboard.press("End");
  await expect(letterLandscape).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(letterLandscape).toHaveAttribute("aria-checked", "true");
  await expect(menu.getByRole("menuitemradio", { name: "A4 portrait" })).toHaveAttribute("aria-checked", "false");
  for (let i = 0; i < 4; i++) await page.keyboard.press("ArrowUp");
  await expect(menu.getByRole("menuitem", { name: "Excel" })).toBeFocused();
  const [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  expect(download.suggestedFilename()).toMatch(/^executive-30d-\d{4}-\d{2}-\d{2}\.xlsx$/);
  await expect(button).toBeFocused();
});

/** `2026-11-30T08:30:00Z` on the wall clock of `zone`, as `2026-11-30T09:30:00`. */
function wallClock(iso: string, zone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(iso));
  const p = (t: string) => parts.find((x) => x.type === t)!.value;
  return `${p("year")}-${p("month")}-${p("day")}T${p("hour")}:${p("minute")}:${p("second")}`;
}

/** RFC 4180 records (the CSV export's quoting). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") { row.push(field); field = ""; }
    else if (ch === "\r" && text[i + 1] === "\n") { row.push(field); rows.push(row); row = []; field = ""; i++; }
    else field += ch;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

test("Excel export is one workbook a spreadsheet reads back: a Summary, then each section typed, equal to the CSV", async ({ page }) => {
  await signIn(page, "viewer");
  await page.goto("/dashboards/business?period=30d");
  await hydrated(page);
  const download = async (label: string) => {
    await page.getByRole("button", { name: "Export ▾" }).click();
    const [d] = await Promise.all([page.waitForEvent("download"), page.getByRole("menuitem", { name: label }).click()]);
    await expect(page.getByRole("button", { name: "Export ▾" })).toBeVisible();
    return d;
  };
  const xlsx = await download("Excel");
  expect(xlsx.suggestedFilename()).toMatch(/^business-30d-\d{4}-\d{2}-\d{2}\.xlsx$/);
  const csv = parseCsv(fs.readFileSync((await download("CSV").then((d) => d.path()))!, "utf8"));

  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile((await xlsx.path())!);
  const sheets = wb.worksheets;
  expect(sheets[0].name).toBe("Summary");
  const summary = sheets[0];
  expect(summary.getCell("A1").value).toBe("Business report");
  const labelRow = (label: string) => summary.getRows(1, summary.rowCount)!.find((r) => r.getCell(1).value === label)!;
  expect(String(labelRow("Period").getCell(2).value)).toContain("Last 30 days");
  expect(labelRow("Generated").getCell(2).value).toBeInstanceOf(Date);
  const zone = String(labelRow("Generated").getCell(3).value);
  expect(String(labelRow("Executive summary").getCell(2).value).length).toBeGreaterThan(40);

  // The CSV's sections, in order: a header row of keys, then rows whose first field is the key.
  const sections: { header: string[]; rows: string[][] }[] = [];
  for (const r of csv) {
    if (r[0] === "section") sections.push({ header: r.slice(1), rows: [] });
    else sections[sections.length - 1].rows.push(r.slice(1));
  }
  expect(sheets.length).toBe(sections.length + 1);
  let numbers = 0, percents = 0, dates = 0;
  sections.forEach((sec, i) => {
    const ws = sheets[i + 1];
    expect(ws.views[0]?.state, `${ws.name}: the header row is frozen`).toBe("frozen");
    expect(ws.views[0]?.ySplit).toBe(1);
    sec.header.forEach((_, c) => expect(ws.getRow(1).getCell(c + 1).font?.bold, `${ws.name}: bold header`).toBe(true));
    if (sec.rows.length === 0) return;
    expect(ws.actualRowCount, `${ws.name}: a header and every row`).toBe(sec.rows.length + 1);
    sec.rows.forEach((want, r) => {
      want.forEach((w, c) => {
        const cell = ws.getRow(r + 2).getCell(c + 1);
        const v = cell.value;
        const where = `${ws.name} row ${r + 1} ${sec.header[c]}`;
        if (v === null || v === undefined) expect(w, where).toBe("");
        else if (typeof v === "number") {
          const pct = cell.numFmt === "0.0%";
          expect(v * (pct ? 100 : 1), where).toBeCloseTo(Number(w), 6);
          numbers++;
          if (pct) percents++;
        } else if (v instanceof Date) {
          const got = v.toISOString().slice(0, 19);
          expect(got, where).toBe(w.length === 10 ? `${w}T00:00:00` : wallClock(w, zone));
          dates++;
        } else expect(String(v), where).toBe(w.replace(/^'(?=[=+\-@\t\r])/, ""));
      });
    });
  });
  expect(numbers, "numbers are numbers").toBeGreaterThan(50);
  expect(percents, "percentages carry a percent format").toBeGreaterThan(0);
  expect(dates, "days are dates").toBeGreaterThan(0);
});

test("Page setup from Export: a Letter landscape PDF has every page 11 × 8.5 in", async ({ page }) => {
  await signIn(page, "viewer");
  await page.goto("/dashboards/operations?period=7d");
  await hydrated(page);
  await page.getByRole("button", { name: "Export ▾" }).click();
  await page.getByRole("menuitemradio", { name: "Letter landscape" }).click();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("menuitem", { name: "PDF" }).click()]);
  // Poppler's pdfinfo reads every page's size: 792 × 612 points is US Letter turned.
  const info = execFileSync("pdfinfo", ["-f", "1", "-l", "999", (await download.path())!], { encoding: "utf8" });
  const sizes = [...info.matchAll(/Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts/g)].map((m) => [Number(m[1]), Number(m[2])]);
  expect(sizes.length, info).toBeGreaterThan(0);
  for (const [w, h] of sizes) {
    expect(Math.round(w)).toBe(792);
    expect(Math.round(h)).toBe(612);
  }
});
