/**
 * `pbrl bench report`: reads a results directory, computes the statistics, and writes
 * report.html, summary.csv, summary.json and figures/*.svg (next to the cells unless `out` is given).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { readResults } from './read.js';
import { summarize } from './summary.js';
import { toCsv } from './csv.js';
import { figureSpecs, renderSvg, scopeIds } from './figures.js';
import { renderHtml, type MachineInfo, type RenderedFigure } from './html.js';

export { readResults } from './read.js';
export { summarize, type Summary } from './summary.js';

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    hostname: hostname(),
    platform: `${platform()} ${release()}`,
    cpus: `${c.length} x ${c[0]?.model?.trim() ?? 'unknown CPU'}`,
    memoryGiB: totalmem() / 2 ** 30,
    node: process.versions.node,
  };
}

export async function writeReport(
  resultsDir: string,
  opts: { reps?: number; seed?: number; out?: string } = {},
): Promise<{ html: string; csv: string; json: string; figures: string[] }> {
  const out = opts.out ?? resultsDir;
  const summary = summarize(readResults(resultsDir), { reps: opts.reps, seed: opts.seed });
  const specs = figureSpecs(summary);
  const rendered: RenderedFigure[] = [];
  for (const f of specs) rendered.push({ name: f.name, title: f.title, caption: f.caption, svg: await renderSvg(f.spec) });

  const figDir = join(out, 'figures');
  mkdirSync(figDir, { recursive: true });
  const figures = rendered.map((f) => {
    const p = join(figDir, `${f.name}.svg`);
    writeFileSync(p, f.svg);
    return p;
  });
  // The spec beside each SVG (data inlined) lets a reader restyle a figure in any Vega-Lite tool.
  specs.forEach((f) => writeFileSync(join(figDir, `${f.name}.vl.json`), JSON.stringify(f.spec, null, 1)));
  const generatedAt = new Date().toISOString();
  const html = join(out, 'report.html');
  const inline = rendered.map((f) => ({ ...f, svg: scopeIds(f.svg, `f-${f.name}`) }));
  writeFileSync(html, renderHtml(summary, inline, machineInfo(), generatedAt));
  const csv = join(out, 'summary.csv');
  writeFileSync(csv, toCsv(summary));
  const json = join(out, 'summary.json');
  // `format` names this layout, so a script reading many summaries can tell versions apart.
  writeFileSync(json, JSON.stringify({ format: 'pbrl-bench-summary/1', generatedAt, machine: machineInfo(), ...summary }, null, 2));
  return { html, csv, json, figures };
}
