/**
 * The files a run writes beside its results: resolved config (with seed, versions, backend),
 * metrics as JSON lines, checkpoints. Writes are atomic (temp file + rename) so an interrupted run
 * never leaves a half-written checkpoint in place of a good one.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/serialize.js';
import { backendInfo } from '../core/backend.js';
import { versions } from './versions.js';

export class RunDir {
  /** `create`: make the folder (a new run); otherwise it is opened as it is (eval, report). */
  constructor(readonly dir: string, create = true) {
    if (create) mkdirSync(dir, { recursive: true });
  }

  get metricsPath(): string {
    return join(this.dir, 'metrics.jsonl');
  }

  get checkpointDir(): string {
    return join(this.dir, 'checkpoint');
  }

  writeConfig(config: unknown): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(
      join(this.dir, 'config.json'),
      JSON.stringify({ config, versions: versions(), backend: backendInfo(), startedAt: new Date().toISOString() }, null, 2),
    );
  }

  readConfig(): { config: unknown } {
    const p = join(this.dir, 'config.json');
    if (!existsSync(p)) throw new Error(`${this.dir} has no config.json: not a pbrl run directory`);
    return JSON.parse(readFileSync(p, 'utf8'));
  }

  appendMetrics(row: Record<string, unknown>): void {
    appendFileSync(this.metricsPath, JSON.stringify(row) + '\n');
  }

  /** Metrics rows, in order; a torn last line (killed mid-write) is ignored rather than fatal. */
  readMetrics(): Record<string, unknown>[] {
    if (!existsSync(this.metricsPath)) return [];
    const lines = readFileSync(this.metricsPath, 'utf8').split('\n').filter((l) => l.trim());
    const rows: Record<string, unknown>[] = [];
    lines.forEach((l, i) => {
      try {
        rows.push(JSON.parse(l));
      } catch (e) {
        if (i !== lines.length - 1) throw new Error(`${this.metricsPath}: line ${i + 1} is not JSON: ${(e as Error).message}`);
      }
    });
    return rows;
  }
}
