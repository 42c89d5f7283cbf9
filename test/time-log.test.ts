/** Pure: reading a moment (`@TIME`, `--at`) and an operation's change lines (`pyctl log`). */
import { describe, expect, it } from 'vitest';
import { parseTimeSpec } from '../src/operations/time-spec.js';
import { bodyChanges } from '../src/operations/package-log.js';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0); // 2026-12-06T12:00:00Z
const utc = (iso: string) => Date.parse(iso) / 1000;
const local = (...a: number[]) => new Date(a[0], a[1] - 1, a[2], a[3] ?? 0, a[4] ?? 0, a[5] ?? 0).getTime() / 1000;

describe('parseTimeSpec', () => {
  it.each([
    ['2026-12-01T10:30:00Z', utc('2026-12-01T10:30:00Z')],
    ['2026-12-01T10:30Z', utc('2026-12-01T10:30:00Z')],
    ['2026-12-01 10:30:00+02:00', utc('2026-12-01T08:30:00Z')],
    ['2026-12-01T10:30:00-0130', utc('2026-12-01T12:00:00Z')],
    ['2026-12-01T10:30+05', utc('2026-12-01T05:30:00Z')],
    ['2026-12-01T10:30:00.250Z', utc('2026-12-01T10:30:00Z') + 0.25],
    ['2026-12-01', local(2026, 12, 1)],
    ['2026-12-01T10:30', local(2026, 12, 1, 10, 30)],
    ['2026-12-01 10:30:15', local(2026, 12, 1, 10, 30, 15)],
    ['2024-02-29', local(2024, 2, 29)],
    ['5 minutes ago', NOW / 1000 - 300],
    ['1 minute ago', NOW / 1000 - 60],
    ['2 hours ago', NOW / 1000 - 7200],
    ['3 days ago', NOW / 1000 - 3 * 86400],
    ['1 week ago', NOW / 1000 - 604800],
    ['2 weeks ago', NOW / 1000 - 2 * 604800],
    ['10 min ago', NOW / 1000 - 600],
    ['  4 Hours ago ', NOW / 1000 - 4 * 3600],
  ])('%s', (text, want) => {
    expect(parseTimeSpec(text, NOW)).toBe(want);
  });

  it.each([
    'yesterday',
    '',
    '2026-13-01',
    '2026-02-30',
    '2025-02-29',
    '2026-12-01T24:00',
    '2026-12-01T10:60',
    '12/01/2026',
    '3 fortnights ago',
    '-3 days ago',
    '3 days',
    'ago',
    '2026-12-01T10:30+25:00',
    '2026-12-1',
  ])('refuses %j with one clear line and a hint', (text) => {
    let err: unknown;
    try {
      parseTimeSpec(text, NOW);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'USAGE', message: `cannot read '${text}' as a time` });
    expect((err as { hint: string }).hint).toMatch(/ISO 8601.*ago/);
  });
});

describe('bodyChanges (pyctl log)', () => {
  it('reads the +/-/~ lines of a commit body and nothing else', () => {
    expect(bodyChanges('+ Foo_Bar 1.0\n- old 0.1\n~ req 2.0 -> 2.1\nnot a change\n~ x 1 ->')).toEqual([
      { kind: 'added', name: 'Foo_Bar', from: null, to: '1.0' },
      { kind: 'removed', name: 'old', from: '0.1', to: null },
      { kind: 'changed', name: 'req', from: '2.0', to: '2.1' },
    ]);
    expect(bodyChanges('')).toEqual([]);
  });
});
