/**
 * Headless chromium for clip export and the browser tests: Debian's /usr/bin/chromium through
 * playwright-core (which never downloads browsers), with the flags reference/headless-clips.md found
 * to give WebGL2 over ANGLE + SwiftShader on machines without a GPU.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

export function chromiumPath(): string {
  const p = process.env.PBRL_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(p)) throw new Error(`chromium not found at ${p}: install Debian's chromium (scripts/setup.sh does) or set PBRL_CHROMIUM`);
  return p;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
}
