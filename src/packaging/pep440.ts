/**
 * PEP 440 version normalization exactly as `packaging` prints `str(Version(raw))`
 * (packaging 21.3 in pip 23.2, same rules in packaging 24). Returns null for an invalid version
 * (pip 23.2 then prints `name===raw`).
 */
const VERSION_RE = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?' +
    '(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?' +
    '\\s*$',
  'i',
);

/** Python int(str) then str(): drop leading zeros, keep one '0'. */
const int = (s: string): string => s.replace(/^0+(?=\d)/, '');

function preLetter(l: string): string {
  const x = l.toLowerCase();
  if (x === 'alpha') return 'a';
  if (x === 'beta') return 'b';
  if (x === 'c' || x === 'pre' || x === 'preview') return 'rc';
  return x;
}

export function normalizeVersion(raw: string): string | null {
  const m = VERSION_RE.exec(raw);
  if (!m?.groups) return null;
  const g = m.groups;
  let out = '';
  if (g.epoch !== undefined && int(g.epoch) !== '0') out += `${int(g.epoch)}!`;
  out += g.release.split('.').map(int).join('.');
  if (g.pre_l !== undefined) out += preLetter(g.pre_l) + int(g.pre_n ?? '0');
  if (g.post_n1 !== undefined) out += `.post${int(g.post_n1)}`;
  else if (g.post_l !== undefined) out += `.post${int(g.post_n2 ?? '0')}`;
  if (g.dev_l !== undefined) out += `.dev${int(g.dev_n ?? '0')}`;
  if (g.local !== undefined) {
    out += '+' + g.local.split(/[-_.]/).map((p) => (/^[0-9]+$/.test(p) ? int(p) : p.toLowerCase())).join('.');
  }
  return out;
}

/** PEP 503 canonical name: lowercase, runs of -_. become '-'. */
export function canonicalName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}
