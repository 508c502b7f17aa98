import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import sharp from "sharp";
import { loadConfig } from "../../../components/config";
import { startServer, type RunningServer } from "../../../local/serve/server";

/**
 * The upload page in a real browser: Debian's Chromium (installed by .ci/run) driven by
 * playwright-core. A generated photo picked in the page goes through the signed upload,
 * the live status and ends with its renditions shown. No timing assertions: only waits.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("local/serve/page: an upload through the page in Chromium", function () {
  this.timeout(300_000);
  let server: RunningServer | undefined;
  let browser: Browser | undefined;

  before(function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`    skipped: no Chromium at ${CHROMIUM} (install Debian's "chromium" package, as .ci/run does, or set CHROMIUM_PATH)`);
      this.skip();
    }
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows the renditions and the <picture> markup of a picked image", async () => {
    server = await startServer({ cloud: "aws", port: 0, processing: { ...loadConfig({}).processing, markup: true } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
    const page = await browser.newPage();
    const photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 220, g: 140, b: 40 } } }).jpeg().toBuffer();

    await page.goto(`${server.url}/`);
    await page.setInputFiles("#files", { name: "sunset.jpg", mimeType: "image/jpeg", buffer: photo });
    await page.waitForSelector('.job[data-status="succeeded"] .renditions img.rendition', { timeout: 240_000 });
    // Every rendition image loaded (decoded by the browser), not just listed.
    // (Page scripts as text: this project's TypeScript has no DOM types.)
    await page.waitForFunction('[...document.querySelectorAll("img.rendition")].every((img) => img.complete && img.naturalWidth > 0)', undefined, { timeout: 120_000 });

    const widths = (await page.evaluate('[...document.querySelectorAll("img.rendition")].map((img) => img.naturalWidth)')) as number[];
    const markup = await page.textContent("pre.markup");
    const status = await page.textContent(".job .status");

    assert.deepEqual([...new Set(widths)].sort((a, b) => a - b), [320, 800]);
    assert.equal(status, "succeeded");
    assert.match(markup ?? "", /^<picture><source type="image\/webp" srcset="thumb\.webp 320w/);
  });
});
