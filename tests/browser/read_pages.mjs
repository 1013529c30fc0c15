// Read report pages the way a person's browser shows them: headless Chromium through
// playwright-core. Input (a JSON file named by argv[2]):
//   {"pages": [{"url": "file:///...", "actions": [{"name": "...", "steps": [...]}],
//               "screenshot": "/tmp/x.png" | null}], "profile": "/tmp/fresh-dir"}
// A step is {"click": selector}, {"select": selector, "value": v} or {"fill": selector,
// "value": v}. Prints one JSON document: per page what loaded, how long it took, what is shown,
// what each action left visible, and anything that ran or was fetched that should not have.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const require = createRequire(path.join(job.repo, 'noop.js'));  // the repository's node_modules
const { chromium } = require('playwright-core');

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Runs in the page: what a reader sees.
function observe() {
  const visible = (el) => el.checkVisibility();
  const text = (el) => (el ? el.innerText.trim() : null);
  const rows = [...document.querySelectorAll('tr.result')];
  return {
    title: document.title,
    verdict: text(document.getElementById('verdict')),
    shownCount: text(document.getElementById('shown-count')),
    filtersShown: !!document.getElementById('filters') && visible(document.getElementById('filters')),
    rows: rows.length,
    visibleRows: rows.filter(visible).length,
    visibleByHost: rows.filter(visible).reduce((acc, r) => {
      acc[r.dataset.host] = (acc[r.dataset.host] || 0) + 1; return acc;
    }, {}),
    hostSections: [...document.querySelectorAll('section.host')].filter(visible).map((s) => ({
      host: s.dataset.host, text: s.innerText, bars: s.querySelectorAll('svg.bar rect').length,
    })),
    fleetRows: [...document.querySelectorAll('#fleet tbody tr')].map((r) => ({
      host: r.dataset.host, text: r.innerText, href: r.querySelector('a')?.getAttribute('href'),
    })),
  };
}

// Runs in the page: every result row as shown, without expanding anything.
function readRows() {
  return [...document.querySelectorAll('tr.result')].map((r) => {
    const cells = [...r.children];
    const eo = r.querySelectorAll('td.eo');
    return {
      host: r.dataset.host, status: r.dataset.status, cat: r.dataset.cat, area: r.dataset.area,
      control: r.querySelector('.cid').innerText.trim(),
      title: r.querySelector('.ttl summary').innerText.trim(),
      expected: eo[0].innerText.trim(), observed: eo[1].innerText.trim(),
      expectedVisible: eo[0].checkVisibility(), observedVisible: eo[1].checkVisibility(),
      detailsOpen: r.querySelector('details').open, cells: cells.length,
    };
  });
}

// Runs in the page: the smallest font and the lowest WCAG contrast of any visible text.
function readability() {
  const parse = (c) => {
    const m = c.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/);
    return m ? [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]] : [0, 0, 0, 0];
  };
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { return c; }
    }
    return [255, 255, 255, 1];
  };
  let worst = { contrast: 99, font: 99, contrastAt: '', fontAt: '' };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || !el.checkVisibility()) { continue; }
    const style = getComputedStyle(el);
    const fg = lum(parse(style.color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize);
    const where = `${el.tagName.toLowerCase()}.${el.className}: ${node.textContent.trim().slice(0, 40)}`;
    if (ratio < worst.contrast) { worst = { ...worst, contrast: ratio, contrastAt: where }; }
    if (size < worst.font) { worst = { ...worst, font: size, fontAt: where }; }
  }
  return worst;
}

async function step(page, s) {
  if (s.click) { await page.click(s.click); }
  if (s.select) { await page.selectOption(s.select, s.value); }
  if (s.fill) { await page.fill(s.fill, s.value); }
}

const context = await chromium.launchPersistentContext(job.profile, {
  executablePath: job.chromium || '/usr/bin/chromium', headless: true, args: FLAGS,
  viewport: { width: 1400, height: 1000 },
});
const out = [];
try {
  for (const spec of job.pages) {
    const page = await context.newPage();
    page.setDefaultTimeout(spec.timeoutMs || 10000);
    const seen = { dialogs: [], pageErrors: [], consoleErrors: [], requests: [] };
    page.on('dialog', (d) => { seen.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    page.on('pageerror', (e) => seen.pageErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') { seen.consoleErrors.push(m.text()); } });
    page.on('request', (r) => { if (r.url() !== spec.url) { seen.requests.push(r.url()); } });
    await page.addInitScript(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation',
        (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const started = Date.now();
    await page.goto(spec.url, { waitUntil: 'load' });
    const wall = Date.now() - started;
    // The first frame after the load event: layout and paint of the whole page are done.
    const renderedMs = await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(
      () => setTimeout(() => resolve(performance.now()), 0))));
    const timing = await page.evaluate(() => performance.getEntriesByType('navigation')[0].toJSON());
    const result = {
      url: spec.url, wallMs: wall, loadMs: timing.loadEventEnd, renderedMs,
      domContentLoadedMs: timing.domContentLoadedEventEnd, bytes: timing.decodedBodySize,
      shown: await page.evaluate(observe), actions: [],
    };
    if (spec.rows) { result.rowsShown = await page.evaluate(readRows); }
    if (spec.readability) { result.readability = await page.evaluate(readability); }
    if (spec.screenshot) { await page.screenshot({ path: spec.screenshot, fullPage: false }); }
    for (const action of spec.actions || []) {
      for (const s of action.steps) { await step(page, s); }
      result.actions.push({ name: action.name, shown: await page.evaluate(observe) });
      if (action.screenshot) { await page.screenshot({ path: action.screenshot, fullPage: false }); }
    }
    result.csp = await page.evaluate(() => window.__csp);
    result.bodyText = spec.bodyText ? await page.evaluate(() => document.body.innerText) : null;
    Object.assign(result, seen);
    out.push(result);
    await page.close();
  }
} finally {
  await context.close();
}
process.stdout.write(JSON.stringify(out));
