/**
 * The console in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core; no browser download)
 * against the real system: receipts, staleness, regeneration and the pipeline simulator, started as `npm start` does.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT, SEED, sha, startSystemUnderTest, type SystemUnderTest } from "./system-under-test.js";

/** Where Debian's chromium package installs the browser (override with CHROMIUM_PATH). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../test-artifacts", import.meta.url));
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let sut: SystemUnderTest;
let context: BrowserContext;
let page: Page;
let profileDir: string;
const pageErrors: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the browser tests need Debian's chromium package ` +
        "(apt-get update && apt-get install -y chromium), or CHROMIUM_PATH pointing at a Chromium binary.",
    );
  }
  await mkdir(ARTIFACTS, { recursive: true });
  sut = await startSystemUnderTest();
  profileDir = await mkdtemp(join(tmpdir(), "console-chromium-"));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (err) => pageErrors.push(err.message));
  page.setDefaultTimeout(20_000);
});

afterAll(async () => {
  await context?.close();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
  await sut?.stop();
});

describe("the web console in Chromium against the real system", () => {
  it("shows the project's scenes and segments, every stale one with the same orange icon", async () => {
    await page.goto(`${sut.consoleUrl}/projects/${PROJECT}`);
    await page.getByRole("heading", { name: `Project ${PROJECT}` }).waitFor();
    const staleCount = SEED.loraSegments.length + SEED.variantSegments.length;
    await expect.poll(() => page.getByTestId("stale-icon").count()).toBe(staleCount);
    expect(await page.locator(".badge-current").count()).toBe(SEED.freshSegments.length);
    const svgs = await page.getByTestId("stale-icon").evaluateAll((icons) => new Set(icons.map((i) => i.querySelector("svg")!.outerHTML)).size);
    expect(svgs).toBe(1);
    await shot("project-view");
  });

  it("opens a stale segment: the icon and its reasons, the receipt panel, and copying a hash", async () => {
    const segmentId = SEED.loraSegments[0]!;
    await page.getByRole("link", { name: segmentId, exact: true }).click();
    await page.waitForURL(`**/segments/${segmentId}`);
    await page.getByText("This segment is stale.").waitFor();
    await expect.poll(() => page.locator(".stale-box").innerText()).toContain("LoRA anna_lora: made with v1, current is v2");
    const icon = page.locator("h1").getByTestId("stale-icon");
    expect(await icon.getAttribute("title")).toBe("Stale — LoRA anna_lora: made with v1, current is v2");
    await icon.hover();
    await expect.poll(() => icon.locator(".stale-tooltip").isVisible()).toBe(true);
    for (const section of ["Images", "Workflow", "Model", "LoRAs (2)", "Prompt", "Sampling", "Other parameters (2)", "Timing and output"]) {
      await page.locator("summary", { hasText: section }).first().waitFor();
    }
    await shot("segment-detail");

    const hash = sha("anna lora v1");
    await page.getByRole("button", { name: `Copy anna_lora hash ${hash}` }).click();
    await page.getByRole("button", { name: `Copy anna_lora hash ${hash}` }).getByText("Copied").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(hash);

    await page.getByRole("link", { name: "anna_lora" }).first().click();
    await page.waitForURL("**/assets/lora-anna");
  });

  it("selects two groups in the staleness report, shows the plan, re-generates, and watches the report empty", async () => {
    await page.goto(`${sut.consoleUrl}/report`);
    await page.getByText("6 segments across 2 scenes used anna_lora v1 — you are on v2").waitFor();
    await page.getByText(/2 segments across 1 scene used clothed_anna.png v1 — you are on v2/).waitFor();
    await page.locator(".live-badge.on").waitFor();
    await shot("staleness-report");

    await page.getByRole("checkbox", { name: /^Select every segment of 6 segments across 2 scenes used anna_lora/ }).check();
    await page.getByRole("checkbox", { name: /^Select every segment of 2 segments across 1 scene used clothed_anna/ }).check();
    await page.getByRole("button", { name: "Re-generate selected (8)" }).click();
    await expect.poll(() => page.getByTestId("plan-summary").innerText()).toBe("This will submit 8 jobs");
    await shot("regeneration-plan");
    await page.getByRole("button", { name: "Submit 8 jobs" }).click();

    await page.locator("[data-testid=batch][data-done]").waitFor({ timeout: 60_000 });
    expect(await page.getByTestId("batch").innerText()).toContain("8 of 8 jobs done");
    await page.getByText("No stale segments.").waitFor({ timeout: 30_000 });
    await expect.poll(() => page.getByTestId("report-totals").innerText()).toMatch(/^Nothing is stale/);
    await shot("staleness-report-after-regeneration");
  });

  it("opens an asset's timeline, follows a version to the segments that used it, and opens one (surviving a reload)", async () => {
    await page.goto(`${sut.consoleUrl}/assets`);
    await page.getByRole("link", { name: "anna_lora" }).click();
    await page.waitForURL("**/assets/lora-anna");
    const current = page.getByTestId("version-2");
    expect(await current.getAttribute("aria-current")).toBe("true");
    await current.getByText("Current").waitFor();
    await current.getByText("“retrained on the new turnaround sheet”").waitFor();
    await page.getByTestId("version-1").getByRole("link", { name: "Version 1" }).click();
    await page.waitForURL("**/assets/lora-anna/versions/1");
    const usage = page.getByRole("table", { name: "Segments that used v1" });
    await usage.waitFor();
    for (const id of SEED.loraSegments) await usage.getByRole("link", { name: id, exact: true }).waitFor();
    await expect.poll(() => usage.locator(".badge-superseded").count()).toBe(SEED.loraSegments.length);
    await page.reload();
    await page.getByRole("table", { name: "Segments that used v1" }).waitFor();
    await shot("version-history");

    await page.getByRole("table", { name: "Segments that used v1" }).getByRole("link", { name: SEED.loraSegments[1]!, exact: true }).click();
    await page.waitForURL(`**/segments/${SEED.loraSegments[1]}`);
    await page.getByText("Re-generated: replaced by").waitFor();
    await page.locator(".note a").first().click();
    await page.getByRole("heading", { name: "Compared with the superseded segment" }).waitFor();
    const changed = await page.locator(".receipt-comparison tr[data-changed] th").allInnerTexts();
    expect(changed).toContain("LoRA 1");
    expect(changed).not.toContain("Seed");
    await shot("regenerated-segment");
  });

  it("rolls an asset back with a confirmation, making its old segments' successors stale", async () => {
    await page.goto(`${sut.consoleUrl}/assets/clothed-anna`);
    await page.getByRole("button", { name: "Roll back to v1" }).click();
    const dialog = page.getByRole("dialog", { name: "Confirm version change" });
    await dialog.getByText("make v1 of clothed_anna.png current?", { exact: false }).waitFor();
    await dialog.getByRole("button", { name: "Make v1 current" }).click();
    await page.getByText("v1 is now current (was v2).").waitFor();
    await expect.poll(() => page.getByTestId("version-1").getAttribute("aria-current")).toBe("true");
    await page.goto(`${sut.consoleUrl}/report`);
    await page.getByText(/2 segments across 1 scene used clothed_anna.png v2 — you are on v1/).waitFor();
  });

  it("raised no script errors in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});
