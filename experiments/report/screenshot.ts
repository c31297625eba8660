/** A PNG of a written report in Debian's chromium (for the README, and to look at in tests). */
import { pathToFileURL } from 'node:url';
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
