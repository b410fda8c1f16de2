import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

describe('memory under a million sends', () => {
  it('keeps the heap bounded with the span exporter down, and the series within the contract', async (t) => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', 'test/fixtures/soak.ts', '1000000'],
      {
        cwd: new URL('..', import.meta.url),
        timeout: 240_000,
        maxBuffer: 1 << 20,
      },
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { sent?: number; heapMb?: number; series?: number; health?: string[] });
    const heap = lines.filter((line) => line.heapMb !== undefined) as Array<{ sent: number; heapMb: number }>;
    t.diagnostic(`heap MB by sends: ${heap.map((h) => `${h.sent}:${h.heapMb}`).join(' ')}`);
    assert.equal(heap.at(-1)?.sent, 1_000_000);
    const afterWarmup = heap.find((h) => h.sent === 100_000)?.heapMb ?? Number.NaN;
    const peak = Math.max(...heap.filter((h) => h.sent >= 100_000).map((h) => h.heapMb));
    // The BatchSpanProcessor queue (2048 spans) and V8's own slack explain a few MB; a leak of even 50 bytes a send would show 45 MB.
    assert.ok(peak - afterWarmup < 20, `heap grew ${(peak - afterWarmup).toFixed(1)} MB from 100k to 1M sends`);
    const summary = lines.at(-1);
    // One (provider, app): accepted + 12 error types, whatever codes the provider made up.
    assert.equal(summary?.series, 13);
    assert.deepEqual(summary?.health, []);
  });
});
