// The dashboard in a real browser while a machine boots (tests/e2e/dashboard.sh runs it).
//
//   node dashboard.mjs URL MAC OUTDIR [TIMEOUT_S]
//
// Debian's chromium, headless, driven by playwright-core: loads URL, waits for MAC in the
// machines list, opens it, catches one of its transfers in progress (progress bar with a
// percentage), waits for its timeline to show the DHCP, NBP, kernel and initrd steps, and
// saves OUTDIR/dashboard-booting.png and OUTDIR/dashboard-booted.png. Prints TAP-like lines
// ("ok - ...", "not ok - ...", "# ..."); "# dashboard loaded" tells the caller to boot the
// machine. Exits 0 when every check passed. Every wait is bounded by TIMEOUT_S (default 240)
// in all; PXED_CHROMIUM overrides /usr/bin/chromium.
import { chromium } from 'playwright-core';
import path from 'node:path';

const [url, mac, outDir, timeoutArg] = process.argv.slice(2);
if (!url || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac || '') || !outDir) {
  console.error('usage: node dashboard.mjs URL MAC OUTDIR [TIMEOUT_S]');
  process.exit(2);
}
const deadline = Date.now() + 1000 * Number(timeoutArg || 240);
const left = () => Math.max(0, deadline - Date.now());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (line) => console.log(line);
let failed = 0;
const ok = (cond, what) => {
  say(`${cond ? 'ok' : 'not ok'} - ${what}`);
  if (!cond) failed++;
  return cond;
};

// Polls fn (every 100 ms) until it returns something truthy; null at the deadline.
async function until(fn, limitMs = left()) {
  const end = Math.min(deadline, Date.now() + limitMs);
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() >= end) return null;
    await sleep(100);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.PXED_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  timeout: 60000,
});
try {
  await run();
} catch (e) {
  ok(false, `browser test: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
} finally {
  await browser.close().catch(() => {});
}
process.exit(failed ? 1 : 0);

async function run() {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems = [];
  const methods = new Set();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('request', (r) => methods.add(r.method()));

  const resp = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
  ok(resp && resp.status() === 200, `GET ${url}: ${resp && resp.status()}`);
  const csp = resp ? (await resp.allHeaders())['content-security-policy'] || '' : '';
  ok(/default-src 'self'/.test(csp), `Content-Security-Policy: ${csp}`);
  await page.locator('[data-testid=machines]').waitFor({ timeout: 10000 });
  say('# dashboard loaded');

  const live = await until(async () =>
    (await page.getAttribute('[data-testid=conn-status]', 'data-state')) === 'live', 20000);
  ok(live, 'the live event stream is connected');

  // The machine appears as soon as pxed has seen its first DHCP packet.
  const row = page.locator(`[data-testid=machine-row][data-mac="${mac}"]`);
  const t0 = Date.now();
  ok(await until(async () => (await row.count()) > 0), `${mac} appears in the machines list`);
  say(`# after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await row.locator('button').click();
  await page.locator('[data-testid=machine-detail]').waitFor({ state: 'visible', timeout: 10000 });
  ok(await page.isVisible('[data-testid=timeline]'), `${mac}'s timeline opens`);

  // A transfer of this machine in progress, with a percentage: NBP, kernel or initrd. A
  // sampler in the page records every progress bar it shows (every 50 ms), so the node side
  // may take its time over screenshots without missing a value.
  const bar = `[data-testid=transfer][data-mac="${mac}"] [data-testid=transfer-progress]`;
  await page.evaluate((sel) => {
    window.pxedSeen = [];
    setInterval(() => {
      for (const e of document.querySelectorAll(sel)) {
        const label = e.getAttribute('aria-label');
        if (window.pxedSeen.some((x) => x.label === label)) continue;
        const now = e.getAttribute('aria-valuenow');
        window.pxedSeen.push({ label, pct: now === null ? null : Number(now),
          what: e.closest('[data-testid=transfer]').dataset.what });
      }
    }, 50);
  }, bar);
  const sampled = () => page.evaluate(() => window.pxedSeen);
  let shot = false;
  await until(async () => {
    const running = await page.$$eval(bar, (els) => els.some((e) =>
      e.getAttribute('aria-valuenow') !== null && Number(e.getAttribute('aria-valuenow')) < 100));
    if (running && !shot) {
      // The chart shows the same transfer as a bar in progress after its next refresh.
      await until(async () => (await page.locator(
        '[data-testid=timeline-step][data-outcome=running]').count()) > 0, 1500);
      await page.screenshot({ path: path.join(outDir, 'dashboard-booting.png'), fullPage: true });
      shot = true;
    }
    const kernelTwice = (await sampled()).filter((x) => x.what === 'kernel').length >= 2;
    const state = await row.getAttribute('data-state').catch(() => null);
    const past = await page.locator(
      '[data-testid=timeline-step][data-step=initrd][data-outcome=ok]').count();
    return (shot && kernelTwice) || state === 'booted' || state === 'failed' || past > 0;
  });
  const seen = await sampled();
  for (const x of seen.slice(0, 12)) say(`# progress seen: ${x.what}: ${x.label}`);
  const running = seen.find((x) => x.pct !== null && x.pct < 100);
  ok(running, `a transfer of ${mac} in progress: ${running ? running.label : 'none caught'}`);
  ok(running && /^\S+ \d+% [\d.]+ \S+ of [\d.]+ \S+$/.test(running.label),
    'its progress bar says file, percentage, bytes and size');
  const kernel = seen.filter((x) => x.what === 'kernel').map((x) => x.pct);
  ok(kernel.length >= 2 && kernel[kernel.length - 1] > kernel[0],
    `the kernel's progress advances: ${kernel.join('% → ')}%`);

  // The whole boot, once the initrd has arrived.
  const want = ['DHCP', 'NBP', 'kernel', 'initrd'];
  const stepsOk = async () => {
    const steps = await page.$$eval('[data-testid=timeline-step]', (els) =>
      els.map((e) => ({ step: e.dataset.step, outcome: e.dataset.outcome })));
    return want.every((w) => steps.some((s) => s.step === w && s.outcome === 'ok')) && steps;
  };
  const steps = await until(stepsOk);
  const final = steps || (await page.$$eval('[data-testid=timeline-step]', (els) =>
    els.map((e) => ({ step: e.dataset.step, outcome: e.dataset.outcome }))));
  ok(steps, `the timeline has DHCP, NBP, kernel and initrd, done: ` +
    final.map((s) => `${s.step}(${s.outcome})`).join(' '));
  const labels = await page.$$eval('[data-testid=timeline-bar]', (els) =>
    els.map((e) => e.getAttribute('aria-label')));
  for (const l of labels) say(`# bar: ${l}`);
  ok(labels.length > 0 && labels.every((l) => / from \+[\d.]+ m?s, took [\d.]+ m?s/.test(l)),
    'every timeline bar is labelled with its start and duration');
  ok(await until(async () => (await page.locator(
    `[data-testid=event][data-mac="${mac}"]`).count()) > 0, 5000),
  `the live event feed lists ${mac}'s events`);
  // pxed explain's diagnosis of a boot that fetched its kernel and initrd.
  const diag = '[data-testid=explain] [data-testid=diagnosis]';
  const done = await until(async () =>
    (await page.getAttribute(diag, 'data-code').catch(() => null)) === 'done', 15000);
  const diagText = await page.textContent(diag).catch(() => '(none)');
  ok(done, `the explain section says the boot is done: ${diagText}`);
  const t1 = Date.now();
  const booted = await until(async () => (await row.getAttribute('data-state')) === 'booted', 10000);
  say(`# machine state in the list: ${await row.getAttribute('data-state')}` +
    (booted ? ` (after ${((Date.now() - t1) / 1000).toFixed(1)} s)` : ' (not "booted" within 10 s)'));
  await until(async () => (await page.locator('[data-testid=transfer]').count()) === 0, 5000);
  await page.screenshot({ path: path.join(outDir, 'dashboard-booted.png'), fullPage: true });
  ok(shot, 'screenshot during the boot: ' + path.join(outDir, 'dashboard-booting.png'));
  say('# screenshot after the boot: ' + path.join(outDir, 'dashboard-booted.png'));

  ok([...methods].every((m) => m === 'GET'), `the page only reads (${[...methods].join(', ')})`);
  for (const p of problems) say(`# ${p}`);
  ok(problems.length === 0, 'no script error, no console error, no CSP violation');
}
