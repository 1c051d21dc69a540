// Shared by the browser tests: start the real server binary on a fresh SQLite database with the
// demo data, and a headless Debian Chromium.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { before, after } from "node:test";
import { chromium } from "playwright-core";

export const root = resolve(import.meta.dirname, "..");
export const shots = join(root, "target", "e2e");
const bin = process.env.XIETONG_BIN ?? join(root, "target", "debug", "xietong");

export function startServer() {
  mkdirSync(shots, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), "xietong-e2e-"));
  const child = spawn(bin, ["serve", "--demo", "--bind", "127.0.0.1:0"], {
    env: { ...process.env, XIETONG_DATABASE_URL: `sqlite://${join(dir, "e2e.db")}`, XIETONG_LOG: "warn", XIETONG_SCHEDULER: "false" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolvePromise, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/serving at (http:\/\/[0-9.:]+)\//);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ child, url: m[1] });
      }
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/// Signs in through the form in a fresh browser context and returns its page.
export async function signIn(browser, baseUrl, username, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel("用户名").fill(username);
  await page.getByLabel("密码").fill("xietong-demo");
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(`${baseUrl}/`);
  return page;
}

/// Starts the server and the browser before a file's tests and stops both after them; the
/// returned object holds `baseUrl` and `browser` once started.
export function serverAndBrowser() {
  const env = {};
  before(async () => {
    const { child, url } = await startServer();
    env.server = child;
    env.baseUrl = url;
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    env.server?.kill("SIGTERM");
  });
  return env;
}
