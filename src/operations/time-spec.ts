/**
 * Pure: a moment a user names (`@TIME`, `--at TIME`) -> Unix seconds. ISO 8601 with or without
 * a time and a zone (local time when there is none; a date alone is the start of that day), or
 * `N minutes|hours|days|weeks ago`. Anything else is an error naming what it accepts.
 */
import { PyctlError } from '../errors.js';

const UNITS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 };
const SHORT: Record<string, string> = {
  s: 'second',
  sec: 'second',
  secs: 'second',
  min: 'minute',
  mins: 'minute',
  m: 'minute',
  h: 'hour',
  hr: 'hour',
  hrs: 'hour',
  d: 'day',
  w: 'week',
  wk: 'week',
  wks: 'week',
};

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

const HINT = "use an ISO 8601 date or time (2026-12-01, 2026-12-01T14:30, 2026-12-01 14:30+01:00) or 'N minutes|hours|days|weeks ago'";

export function badTime(text: string): PyctlError {
  return new PyctlError('USAGE', `cannot read '${text}' as a time`, HINT);
}

/** `text` as Unix seconds; `now` in milliseconds (Date.now()). */
export function parseTimeSpec(text: string, now: number = Date.now()): number {
  const t = text.trim();
  const ago = /^(\d+)\s*([a-z]+)\s+ago$/i.exec(t);
  if (ago) {
    let unit = ago[2].toLowerCase();
    unit = SHORT[unit] ?? unit.replace(/s$/, '');
    if (!(unit in UNITS)) throw badTime(text);
    return Math.floor(now / 1000) - Number(ago[1]) * UNITS[unit];
  }
  const m = ISO.exec(t);
  if (!m) throw badTime(text);
  const [y, mo, d, h = 0, mi = 0, s = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => (x === undefined ? undefined : Number(x))) as number[];
  const frac = m[7] ? Number(`0.${m[7]}`) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59) throw badTime(text);
  const zone = m[8];
  if (zone === undefined) {
    // Local time (the way `date` and the history's dates show it).
    return new Date(y, mo - 1, d, h, mi, s).getTime() / 1000 + frac;
  }
  let offset = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const oh = Number(z[2]);
    const om = Number(z[3] ?? 0);
    if (oh > 23 || om > 59) throw badTime(text);
    offset = (z[1] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000 + frac - offset;
}

function daysIn(y: number, mo: number): number {
  return new Date(Date.UTC(y, mo, 0)).getUTCDate();
}
