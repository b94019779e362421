// Shared steps and the suite's console guard. Every spec imports `test` and `expect` from here:
// a test fails when any page it opened (in its own context or one it made with
// `browser.newContext()`) logs an error, a hydration warning or a CSP violation, or throws.
import { test as base, expect, Browser, BrowserContext, Page } from "@playwright/test";

export { expect };
export const PASSWORD = "narrate-demo";

/** What the console guard lets a test say it provokes on purpose. */
export type ConsoleGuard = { allow(pattern: RegExp): void };

function isProblem(type: string, text: string): boolean {
  // A refusal a test provokes on purpose (a 4xx: the last admin, a wrong password) is logged by
  // the browser as a failed resource load; server faults (5xx), script errors, hydration
  // warnings and CSP violations are problems.
  if (/Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return false;
  return type === "error" || (type === "warning" && /hydrat/i.test(text)) || /Content Security Policy|Refused to/i.test(text);
}

export const test = base.extend<{ consoleGuard: ConsoleGuard }>({
  consoleGuard: [
    async ({ context, browser }, use) => {
      const problems: string[] = [];
      const allowed: RegExp[] = [];
      const watch = (ctx: BrowserContext) => {
        ctx.on("console", (m) => {
          if (isProblem(m.type(), m.text()) && !allowed.some((a) => a.test(m.text()))) {
            problems.push(`${m.type()} on ${m.page()?.url() ?? "?"}: ${m.text()}`);
          }
        });
        ctx.on("weberror", (e) => problems.push(`page error: ${e.error()}`));
      };
      watch(context);
      const b = browser as Browser & { newContext: Browser["newContext"] };
      const original = b.newContext.bind(browser);
      b.newContext = async (...args) => {
        const ctx = await original(...args);
        watch(ctx);
        return ctx;
      };
      try {
        await use({ allow: (p) => allowed.push(p) });
      } finally {
        b.newContext = original;
      }
      expect(problems, `the browser console reported:\n${problems.join("\n")}`).toEqual([]);
    },
    { auto: true },
  ],
});

export async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

export async function signIn(page: Page, role: "admin" | "editor" | "viewer", next?: string) {
  await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : "/login");
  await hydrated(page);
  await page.getByTestId("email").fill(`${role}@acme.example`);
  await page.getByTestId("password").fill(PASSWORD);
  await page.getByTestId("sign-in").click();
  await expect(page.getByTestId("role")).toHaveText(role);
}

/** Calls the REST API as the signed-in page (its session cookie, a same-origin request). */
export async function api(page: Page, method: "post" | "get", path: string, data?: unknown) {
  const origin = new URL(page.url()).origin;
  const resp = await page.request[method](path, { data, headers: { "x-requested-with": "e2e", origin } });
  expect(resp.ok(), `${method} ${path}: ${resp.status()} ${await resp.text()}`).toBeTruthy();
  return resp.json();
}
