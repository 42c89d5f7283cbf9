/** The progress reporter (render/progress.ts): silent off a terminal and for short steps; one line, cleared at the end. */
import { describe, expect, it } from 'vitest';
import { silentReporter, terminalReporter, thousands } from '../src/render/progress.js';

function fakeStream(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream };
}

describe('terminalReporter', () => {
  it('draws nothing when stderr is not a terminal', () => {
    const { out, stream } = fakeStream(false);
    expect(terminalReporter({ stream })).toBe(silentReporter);
    const t = terminalReporter({ stream }).start('x', 10);
    t.tick(5);
    t.end();
    expect(out).toEqual([]);
  });

  it('stays silent for a step shorter than the delay', () => {
    const { out, stream } = fakeStream(true);
    let now = 0;
    const t = terminalReporter({ stream, now: () => now }).start('keeping torch in the store');
    now = 900;
    t.tick(500);
    t.end();
    expect(out).toEqual([]);
  });

  it('after ~1 s draws one line naming the step and its count, redrawn in place, cleared at the end', () => {
    const { out, stream } = fakeStream(true);
    let now = 0;
    const t = terminalReporter({ stream, now: () => now }).start('changing the venv', 10);
    now = 1200;
    t.tick(3, '[4/10] linking torch 2.13.0 back (5,000 of 20,917 files)');
    now = 1250;
    t.tick(1); // too soon to redraw
    now = 2500;
    t.tick(1);
    t.end();
    expect(out).toEqual([
      '\r\x1b[Kpyctl: [4/10] linking torch 2.13.0 back (5,000 of 20,917 files) 3/10 (1 s)',
      '\r\x1b[Kpyctl: [4/10] linking torch 2.13.0 back (5,000 of 20,917 files) 5/10 (2 s)',
      '\r\x1b[K',
    ]);
    expect(out.join('')).not.toContain('\n');
  });
});

describe('thousands', () => {
  it('groups digits by three with commas, as en-US does', () => {
    expect([0, 7, 999, 1000, 14622, 20917, 1234567].map(thousands)).toEqual(['0', '7', '999', '1,000', '14,622', '20,917', '1,234,567']);
  });
});
