// Charts stay legible on any card: drawn at their card's width, their text renders between 10
// and 14 CSS px on a desktop and on a phone, and no two category labels overlap (labels turned
// 35° must sit at least a line height apart).
import { hydrated, signIn, test, expect } from "./helpers";

const dashboards = ["executive", "business", "operations", "model-health", "data-health", "attribution"];

for (const [name, viewport] of [["desktop", { width: 1440, height: 900 }], ["phone", { width: 390, height: 844 }]] as const) {
  test.describe(`on a ${name}`, () => {
    test.use({ viewport });

    test(`every chart's text is 10–14 px and its category labels never overlap (${viewport.width} px)`, async ({ page }) => {
      test.setTimeout(120_000);
      await signIn(page, "viewer");
      const problems: string[] = [];
      let charts = 0;
      for (const key of dashboards) {
        await page.goto(`/dashboards/${key}?period=30d`);
        await hydrated(page);
        // Each chart is redrawn at its card's width once hydrated.
        await page.waitForFunction(() =>
          [...document.querySelectorAll<SVGSVGElement>(".chart-wrap svg.chart")].every(
            (s) => Math.abs(s.getBoundingClientRect().width - s.viewBox.baseVal.width) < 2,
          ),
        );
        const found = await page.evaluate(() => {
          const out: string[] = [];
          const svgs = [...document.querySelectorAll<SVGSVGElement>(".chart-wrap svg.chart")];
          for (const svg of svgs) {
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            const title = svg.getAttribute("aria-label");
            for (const t of svg.querySelectorAll("text")) {
              const px = parseFloat(getComputedStyle(t).fontSize) * scale;
              if (px < 10 || px > 14) out.push(`${title}: "${t.textContent}" is ${px.toFixed(1)} px`);
            }
            const labels = [...svg.querySelectorAll<SVGTextElement>("text.x-label")];
            for (let i = 1; i < labels.length; i++) {
              const [a, b] = [labels[i - 1], labels[i]];
              const px = parseFloat(getComputedStyle(b).fontSize) * scale;
              if (b.getAttribute("transform")) {
                // Parallel turned lines: their distance is the anchors' spacing × sin 35°.
                const gap = Math.abs(Number(b.getAttribute("x")) - Number(a.getAttribute("x"))) * scale * Math.sin((35 * Math.PI) / 180);
                if (gap < px * 0.9) out.push(`${title}: turned labels "${a.textContent}" and "${b.textContent}" ${gap.toFixed(1)} px apart`);
              } else {
                const [ra, rb] = [a.getBoundingClientRect(), b.getBoundingClientRect()];
                if (ra.right > rb.left + 0.5) out.push(`${title}: "${a.textContent}" overlaps "${b.textContent}"`);
              }
            }
          }
          return { out, n: svgs.length };
        });
        charts += found.n;
        problems.push(...found.out.map((p) => `${key}: ${p}`));
      }
      expect(charts, "the dashboards draw charts").toBeGreaterThan(8);
      expect(problems, problems.join("\n")).toEqual([]);
    });
  });
}
