// Notifications in a real browser: an admin adds a webhook pointing at a local receiver, clicks
// Test and sees it delivered; a viewer sees the list without edit controls.
import * as http from "http";
import { AddressInfo } from "net";
import { hydrated, signIn, test, expect } from "./helpers";

test("an admin adds a webhook destination, tests it, and a viewer only reads", async ({ browser }) => {
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
  const port = (receiver.address() as AddressInfo).port;
  try {
    const admin = await browser.newPage();
    await signIn(admin, "admin");
    await admin.goto("/settings/integrations");
    await hydrated(admin);
    await admin.getByTestId("add-destination").selectOption("webhook");
    await admin.getByTestId("dest-name").fill("Local receiver");
    await admin.getByTestId("dest-url").fill(`http://127.0.0.1:${port}/hook`);
    await admin.getByTestId("dest-secret").fill("e2e-signing-secret-0123456789");
    await admin.getByTestId("dest-save").click();
    const row = admin.locator("tr[data-destination='Local receiver']");
    await expect(row).toBeVisible();
    await row.getByTestId("test-destination").click();
    await expect(row.getByTestId("test-result")).toContainText("delivered after 1 attempt");
    expect(received.length).toBe(1);
    expect(received[0].headers["webhook-signature"]).toMatch(/^v1,/);
    expect(JSON.parse(received[0].body).event).toBe("report.test");

    const viewer = await browser.newPage();
    await signIn(viewer, "viewer");
    await viewer.goto("/settings/integrations");
    await hydrated(viewer);
    await expect(viewer.locator("tr[data-destination='Local receiver']")).toBeVisible();
    await expect(viewer.getByTestId("add-destination")).toHaveCount(0);
    await expect(viewer.getByTestId("test-destination")).toHaveCount(0);
  } finally {
    receiver.close();
  }
});
