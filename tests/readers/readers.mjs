// The real readers, driven for tests/readers/test_readers.py; prints one JSON document.
//
//   node readers.mjs stigman SETTINGS.json FILE...   STIG Manager's own parser on .ckl/.cklb
//   node readers.mjs heimdall DIST SHOTS FILE...     Heimdall Lite (its static build in DIST,
//                                                    served on loopback) in headless Chromium
//
// Nothing here decides pass or fail: the Python test compares what the readers say with
// results.json.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const [command, ...args] = process.argv.slice(2);

async function stigman(settingsFile, files) {
  const { reviewsFromCkl, reviewsFromCklb } = await import('@nuwcdivnpt/stig-manager-client-modules');
  const settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
  const out = {};
  for (const file of files) {
    const parse = file.endsWith('.cklb') ? reviewsFromCklb : reviewsFromCkl;
    const parsed = parse({ data: fs.readFileSync(file, 'utf8'), sourceRef: file, ...settings });
    out[file] = {
      target: parsed.target,
      errors: parsed.errors ?? [],
      checklists: parsed.checklists.map((c) => ({
        benchmarkId: c.benchmarkId,
        revisionStr: c.revisionStr,
        reviews: c.reviews.map((r) => ({
          ruleId: r.ruleId, result: r.result, status: r.status ?? null,
          detail: Boolean(r.detail), comment: Boolean(r.comment),
        })),
      })),
    };
  }
  return out;
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml', '.ico': 'image/x-icon',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.map': 'application/json' };

function serve(root) {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => {
    let name = decodeURIComponent(new URL(req.url, 'http://loopback').pathname);
    if (name === '/') name = '/index.html';
    const file = path.resolve(base, `.${name}`);
    if (!file.startsWith(base + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const STATUSES = ['Passed', 'Failed', 'Not Applicable', 'Not Reviewed'];

async function heimdall(dist, shots, files) {
  const { chromium } = await import('playwright-core');
  const server = await serve(dist);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cwh-heimdall-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CWH_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const out = {};
  const blocked = [];
  try {
    // Heimdall Lite asks GitHub for its newest release: nothing leaves this machine.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    const page = context.pages()[0] ?? await context.newPage();
    for (const file of files) {
      const started = Date.now();
      await page.goto(`${origin}/`);
      await page.waitForSelector('input[type=file]', { state: 'attached', timeout: 60000 });
      await page.setInputFiles('input[type=file]', file);
      await page.waitForFunction(() => /Passed: \d+/.test(document.body.innerText), null, { timeout: 60000 });
      await page.waitForTimeout(500); // the cards and the score settle after the route change
      const text = await page.innerText('body');
      const counts = {};
      for (const status of STATUSES) {
        const match = text.match(new RegExp(`${status}: (\\d+)`));
        counts[status] = match ? Number(match[1]) : null;
      }
      // Errors have no card: a banner, "ALERT: 36 Profile Errors", shown only when there are some.
      const errors = text.match(/ALERT: (\d+) Profile Errors?/);
      counts['Profile Error'] = errors ? Number(errors[1]) : 0;
      const total = text.match(/Status Counts\s+[\s\S]*?Total\s+(\d+)/);
      const score = text.match(/Score\s+([\d.]+)%/);
      await page.screenshot({ path: path.join(shots, `${path.basename(file)}.png`) });
      out[file] = { counts, total: total ? Number(total[1]) : null,
        compliance: score ? Number(score[1]) : null, seconds: (Date.now() - started) / 1000 };
    }
  } finally {
    await context.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  return { files: out, blocked };
}

const commands = { stigman: ([s, ...f]) => stigman(s, f), heimdall: ([d, s, ...f]) => heimdall(d, s, f) };
if (!commands[command]) {
  console.error(`usage: readers.mjs stigman SETTINGS FILE... | heimdall DIST SHOTS FILE...`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await commands[command](args)) + '\n');
