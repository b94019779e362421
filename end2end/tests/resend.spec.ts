// Re-sending one delivery from the run page: a receiver that refuses the first delivery, recovers,
// and gets the report when an editor clicks Re-send — the page shows the new attempt and
// "delivered", the run's own record stays as it was; a viewer sees no button.
import * as http from "http";
import { AddressInfo } from "net";
import { hydrated, signIn, test, expect, api } from "./helpers";

/** A webhook receiver that answers 400 until `recover()` is called, then 200. */
function flakyReceiver(): Promise<{ server: http.Server; port: number; ids: string[]; recover: () => void }> {
  const ids: string[] = [];
  let healthy = false;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      ids.push(String(req.headers["webhook-id"] || ""));
      res.writeHead(healthy ? 200 : 400);
      res.end(healthy ? "ok" : "not today");
    });
  });
  return new Promise((r) =>
    server.listen(0, "127.0.0.1", () =>
      r({ server, port: (server.address() as AddressInfo).port, ids, recover: () => (healthy = true) }),
    ),
  );
}

test("a failed delivery is re-sent from the run page once the receiver recovers", async ({ page, browser }) => {
  test.setTimeout(120_000);
  const receiver = await flakyReceiver();
  try {
    await signIn(page, "admin");
    const stamp = Date.now();
    const dest = await api(page, "post", "/api/v1/notifications/destinations", {
      kind: "webhook", name: `Flaky desk ${stamp}`, config: { url: `http://127.0.0.1:${receiver.port}/hook` },
    });
    const t = await api(page, "post", "/api/v1/reports/templates", {
      name: `Resend ${stamp}`, dashboard: "business", period: "7d", formats: ["csv"], narrative: { enabled: false },
      schedule: { cronExpression: "0 8 * * 1", timezone: "UTC", destinations: [dest.id] },
    });
    const { runId } = await api(page, "post", `/api/v1/reports/templates/${t.id}/run-now`);
    await expect(async () => {
      const run = await api(page, "get", `/api/v1/reports/runs/${runId}`);
      expect(run.phase).toBe("finished");
    }).toPass({ timeout: 30_000 });

    const viewer = await browser.newPage();
    try {
      await signIn(viewer, "viewer");
      await viewer.goto(`/reports/runs/${runId}`);
      await hydrated(viewer);
      await expect(viewer.getByTestId("delivery-status").first()).toHaveText("failed");
      await expect(viewer.getByRole("button", { name: "Re-send" })).toHaveCount(0);
    } finally {
      await viewer.close();
    }

    await page.goto(`/reports/runs/${runId}`);
    await hydrated(page);
    const delivery = page.getByTestId("delivery").filter({ hasText: `Flaky desk ${stamp}` });
    await expect(delivery.getByTestId("delivery-status")).toHaveText("failed");
    await expect(delivery.getByRole("listitem")).toHaveCount(1);
    await expect(delivery.getByRole("listitem").first()).toContainText("HTTP 400");

    receiver.recover();
    await delivery.getByRole("button", { name: "Re-send" }).click();
    await expect(delivery.getByTestId("delivery-status")).toHaveText("delivered", { timeout: 30_000 });
    await expect(delivery.getByRole("listitem")).toHaveCount(2);
    await expect(delivery.getByRole("listitem").nth(1)).toContainText("delivered");
    await expect(delivery.getByRole("listitem").nth(1)).toContainText("re-send");
    await expect(delivery).toContainText("Recorded by the run as failed; re-sent by admin@acme.example at");
    await expect(delivery.getByRole("button", { name: "Re-send" })).toHaveCount(0);
    await expect(page.getByText("failed · started", { exact: false })).toBeVisible();
    expect(receiver.ids.length).toBe(2);
    expect(receiver.ids[1]).toBe(receiver.ids[0]);

  } finally {
    receiver.server.close();
  }
});
