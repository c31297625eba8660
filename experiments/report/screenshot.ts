/** A PNG of a written report in Debian's chromium (for the README, and to look at in tests). */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { launchChromium } from '../../viewer/browser.js';

export async function screenshotReport(htmlPath: string, pngPath: string, opts: { width?: number; height?: number; fullPage?: boolean } = {}): Promise<string[]> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: opts.width ?? 1200, height: opts.height ?? 1600 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(pathToFileURL(htmlPath).href);
    await page.screenshot({ path: pngPath, fullPage: opts.fullPage ?? false });
    return errors;
  } finally {
    await browser.close();
  }
}

// `npx tsx experiments/report/screenshot.ts results/quick/report.html docs/report-quick.png [height]`
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [html, png, height] = process.argv.slice(2);
  if (!html || !png) {
    console.error('usage: screenshot.ts REPORT.html OUT.png [HEIGHT]');
    process.exit(2);
  }
  const errors = await screenshotReport(resolve(html), resolve(png), { height: height ? Number(height) : undefined });
  if (errors.length) {
    console.error(`page errors:\n${errors.join('\n')}`);
    process.exit(1);
  }
  console.log(`wrote ${png}`);
}
