// The six dashboards in a real browser: rendered server-side with charts, hydrated, and changing
// with the period (URL and numbers) and, where supported, the segment.
import { hydrated, signIn, test, expect } from "./helpers";

const dashboards = [
  { key: "executive", title: "Executive", kpi: "kpi-decisions" },
  { key: "business", title: "Business", kpi: "kpi-impressions" },
  { key: "operations", title: "Operations", kpi: "kpi-total_runs" },
  { key: "model-health", title: "Model Health", kpi: null },
  { key: "data-health", title: "Data Health", kpi: "kpi-pipeline_runs_failed" },
  { key: "attribution", title: "Attribution", kpi: null },
];

test.beforeEach(async ({ page }) => {
  await signIn(page, "viewer");
});

for (const d of dashboards) {
  test(`${d.title} renders its widgets and follows the period`, async ({ page }) => {
    await page.goto(`/dashboards/${d.key}`);
    await hydrated(page);
    await expect(page.getByTestId("dashboard-title")).toHaveText(d.title);
    await expect(page.locator(".widget-error")).toHaveCount(0);
    expect(await page.locator(".dash-grid section").count()).toBeGreaterThan(1);
    if (d.key !== "data-health") {
      await expect(page.locator(".dash-grid svg[role=img]").first()).toBeVisible();
    }
    const range = await page.getByTestId("period-range").textContent();
    const before = d.kpi ? await page.getByTestId(d.kpi).textContent() : null;
    await page.getByTestId("period").selectOption("90d");
    await expect(page).toHaveURL(new RegExp(`/dashboards/${d.key}\\?period=90d`));
    await expect(page.getByTestId("period-range")).not.toHaveText(range ?? "");
    await expect(page.getByTestId("period-range")).toContainText("last 90 days");
    if (d.kpi) {
      await expect(page.getByTestId(d.kpi)).not.toHaveText(before ?? "");
    }
  });
}

test("a link with filters reproduces the view, and the segment filter changes the numbers", async ({ page }) => {
  await page.goto("/dashboards/business?period=30d");
  await hydrated(page);
  await expect(page.getByTestId("period")).toHaveValue("30d");
  const all = await page.getByTestId("kpi-impressions").textContent();
  const options = page.getByTestId("segment").locator("option");
  await expect(options).toHaveCount(7);
  const value = await options.nth(1).getAttribute("value");
  await page.getByTestId("segment").selectOption(value!);
  await expect(page).toHaveURL(new RegExp(`segmentId=${value}`));
  await expect(page.getByTestId("kpi-impressions")).not.toHaveText(all ?? "");
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("segment")).toHaveValue(value!);
});

test("Business groups offer performance by channel from its own control, and `segment` is an alias of `segmentId`", async ({ page }) => {
  await page.goto("/dashboards/business?period=30d");
  await hydrated(page);
  const perf = page.locator("section[data-source=offer_performance]");
  await expect(perf.locator("th").first()).toHaveText("Offer");
  await page.getByLabel("Group offer performance by").selectOption({ label: "By channel" });
  await expect(page).toHaveURL(/groupBy=channel/);
  await expect(perf.locator("th").first()).toHaveText("Channel");
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("Group offer performance by")).toHaveValue("channel");

  const value = await page.getByTestId("segment").locator("option").nth(1).getAttribute("value");
  await page.goto(`/dashboards/business?period=30d&segment=${value}`);
  await hydrated(page);
  await expect(page.getByTestId("segment")).toHaveValue(value!);
});

test("the executive narrative card shows the narrated summary above the KPI cards", async ({ page }) => {
  await page.goto("/dashboards/executive");
  await expect(page.getByTestId("narrative-text")).toContainText("Executive for Acme, last 7 days");
  await expect(page.getByTestId("narrative")).toContainText("Written by the built-in narrator");
  await expect(page.locator(".kpi")).toHaveCount(6);
  await expect(page.locator("[data-source=anomalies] .anomaly").first()).toBeVisible();
});
