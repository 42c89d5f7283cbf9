/**
 * Pure: PEP 508 requirements and environment markers, evaluated the way `packaging` does:
 * version comparisons when both sides are versions, string comparisons otherwise, `in` and
 * `not in` as substring tests, and `extra` compared by normalized name.
 */
import { compareVersions } from './pep440.js';
import { canonicalName } from './names.js';

export type MarkerEnv = Record<string, string>;

/** Legacy dotted names that `packaging` still accepts. */
const ALIASES: Record<string, string> = {
  'os.name': 'os_name',
  'sys.platform': 'sys_platform',
  'platform.version': 'platform_version',
  'platform.machine': 'platform_machine',
  'platform.python_implementation': 'platform_python_implementation',
  python_implementation: 'platform_python_implementation',
};

const VARIABLES = new Set([
  'python_version',
  'python_full_version',
  'os_name',
  'sys_platform',
  'platform_release',
  'platform_system',
  'platform_version',
  'platform_machine',
  'platform_python_implementation',
  'implementation_name',
  'implementation_version',
  'extra',
  ...Object.keys(ALIASES),
]);

type Token = { t: 'str'; v: string } | { t: 'var'; v: string } | { t: 'op'; v: string } | { t: '(' } | { t: ')' } | { t: 'and' } | { t: 'or' };

export class MarkerError extends Error {}

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      out.push({ t: c });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = s.indexOf(c, i + 1);
      if (end < 0) throw new MarkerError(`unterminated string in marker: ${s}`);
      out.push({ t: 'str', v: s.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const op = /^(===|==|!=|<=|>=|~=|<|>)/.exec(s.slice(i));
    if (op) {
      out.push({ t: 'op', v: op[1] });
      i += op[1].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(s.slice(i));
    if (!word) throw new MarkerError(`unexpected '${c}' in marker: ${s}`);
    const w = word[0];
    i += w.length;
    if (w === 'and' || w === 'or') out.push({ t: w });
    else if (w === 'in') out.push({ t: 'op', v: 'in' });
    else if (w === 'not') {
      const rest = /^\s+in\b/.exec(s.slice(i));
      if (!rest) throw new MarkerError(`'not' must be followed by 'in' in marker: ${s}`);
      i += rest[0].length;
      out.push({ t: 'op', v: 'not in' });
    } else if (VARIABLES.has(w)) out.push({ t: 'var', v: ALIASES[w] ?? w });
    else throw new MarkerError(`unknown marker variable '${w}' in: ${s}`);
  }
  return out;
}

/** Compare `lhs op rhs` (already resolved to strings); `key` is the variable involved, if any. */
function compare(lhs: string, op: string, rhs: string, key: string | null): boolean {
  if (key === 'extra') {
    lhs = canonicalName(lhs);
    rhs = canonicalName(rhs);
  }
  if (op === 'in') return rhs.includes(lhs);
  if (op === 'not in') return !rhs.includes(lhs);
  if (op === '===') return lhs === rhs;
  const isVer = (v: string) => /^\s*v?\d+(\.\d+)*([a-z0-9.+!_-]*)$/i.test(v);
  if (key !== 'extra' && isVer(lhs) && isVer(rhs.replace(/\.\*$/, ''))) return versionSpec(lhs, op, rhs);
  if (op === '==') return lhs === rhs;
  if (op === '!=') return lhs !== rhs;
  // packaging raises UndefinedComparison here; treat the requirement as not applying.
  return false;
}

/** `version op spec` with PEP 440 specifier rules, enough for marker values. */
export function versionSpec(version: string, op: string, spec: string): boolean {
  if (spec.endsWith('.*') && (op === '==' || op === '!=')) {
    const prefix = spec.slice(0, -2).split('.');
    const parts = version.split('+')[0].split('.');
    const match = prefix.every((p, i) => compareVersions(parts[i] ?? '0', p) === 0);
    return op === '==' ? match : !match;
  }
  const c = compareVersions(version, spec);
  switch (op) {
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '~=': {
      const parts = spec.split('.');
      if (parts.length < 2) return false;
      const upper = parts.slice(0, -1);
      return c >= 0 && versionSpec(version, '==', `${upper.join('.')}.*`);
    }
    default:
      return false;
  }
}

/** A parsed marker: evaluate it against an environment (with `extra` set, or '' for none). */
export type Marker = (env: MarkerEnv) => boolean;

export function parseMarker(text: string): Marker {
  const toks = tokenize(text);
  let pos = 0;
  const peek = () => toks[pos];
  const value = (): { v: string; var: string | null } => {
    const t = toks[pos++];
    if (t?.t === 'str') return { v: t.v, var: null };
    if (t?.t === 'var') return { v: t.v, var: t.v };
    throw new MarkerError(`expected a variable or a quoted string in marker: ${text}`);
  };
  const atom = (): Marker => {
    if (peek()?.t === '(') {
      pos++;
      const inner = or();
      if (toks[pos++]?.t !== ')') throw new MarkerError(`missing ')' in marker: ${text}`);
      return inner;
    }
    const l = value();
    const op = toks[pos++];
    if (op?.t !== 'op') throw new MarkerError(`expected a comparison in marker: ${text}`);
    const r = value();
    const key = l.var ?? r.var;
    return (env) => {
      const get = (x: { v: string; var: string | null }) => (x.var ? (env[x.var] ?? '') : x.v);
      return compare(get(l), op.v, get(r), key);
    };
  };
  const and = (): Marker => {
    const parts = [atom()];
    while (peek()?.t === 'and') {
      pos++;
      parts.push(atom());
    }
    return parts.length === 1 ? parts[0] : (env) => parts.every((p) => p(env));
  };
  const or = (): Marker => {
    const parts = [and()];
    while (peek()?.t === 'or') {
      pos++;
      parts.push(and());
    }
    return parts.length === 1 ? parts[0] : (env) => parts.some((p) => p(env));
  };
  const m = or();
  if (pos !== toks.length) throw new MarkerError(`unexpected text at the end of marker: ${text}`);
  return m;
}

export function evaluateMarker(text: string, env: MarkerEnv): boolean {
  return parseMarker(text)(env);
}

export interface Requirement {
  name: string;
  key: string;
  extras: string[];
  /** The version specifier or URL part, as written (not needed to walk what is installed). */
  spec: string;
  marker: Marker | null;
  markerText: string | null;
}

/** A `Requires-Dist` value: `name[extra,...] (spec) ; marker` or `name @ url ; marker`. */
export function parseRequirement(text: string): Requirement {
  const m = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*(.*)$/.exec(text);
  if (!m) throw new MarkerError(`cannot read requirement '${text}'`);
  const [, name, extras = '', rest = ''] = m;
  let spec = rest;
  let markerText: string | null = null;
  // For URL requirements the marker must follow whitespace (a URL may contain ';').
  const semi = rest.trimStart().startsWith('@') ? rest.search(/\s;/) + 1 || -1 : rest.indexOf(';');
  if (semi >= 0) {
    spec = rest.slice(0, semi);
    markerText = rest.slice(semi + 1).trim();
  }
  return {
    name: name,
    key: canonicalName(name),
    extras: extras
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
      .map(canonicalName),
    spec: spec.trim(),
    marker: markerText ? parseMarker(markerText) : null,
    markerText,
  };
}

/** Whether a requirement applies, for a distribution installed with these extras. */
export function requirementActive(r: Requirement, env: MarkerEnv, extras: Iterable<string>): boolean {
  if (!r.marker) return true;
  for (const e of ['', ...extras]) if (r.marker({ ...env, extra: e })) return true;
  return false;
}
