// Export ▾ in a real browser: each format downloads with the right name and type.
import * as fs from "fs";
import { hydrated, signIn, test, expect } from "./helpers";

const formats = [
  { id: "pdf", ext: "pdf", magic: "%PDF" },
  { id: "csv", ext: "csv", magic: "section," },
  { id: "md", ext: "md", magic: "# Executive report" },
  { id: "html", ext: "html", magic: "<!DOCTYPE html>" },
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

  // ↑ opens on the last item; End/Home move; Enter chooses and downloads.
  await button.focus();
  await page.keyboard.press("ArrowUp");
  await expect(menu.getByRole("menuitem", { name: "HTML" })).toBeFocused();
  await page.keyboard.press("Home");
  await expect(menu.getByRole("menuitem", { name: "PDF" })).toBeFocused();
  await page.keyboard.press("End");
  const [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  expect(download.suggestedFilename()).toMatch(/^executive-30d-\d{4}-\d{2}-\d{2}\.html$/);
  await expect(button).toBeFocused();
});
